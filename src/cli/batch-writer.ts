/**
 * Gathers single writes into one: the cluster profile's `store` consumer receives usage events
 * one delivery at a time, and one multi-row INSERT for many of them costs PostgreSQL (and the
 * gateway's CPU) far less than a statement each. Each `add` resolves once the batch holding its
 * item is written, or rejects with the batch's error (its delivery is then redelivered).
 */
export interface BatchWriter<T> {
  add(item: T): Promise<void>;
  /** Writes what is waiting now. */
  flush(): Promise<void>;
}

export interface BatchWriterOptions {
  /** Write as soon as this many items wait. */
  maxItems: number;
  /** Otherwise write this long after the first item arrived (ms). */
  lingerMs: number;
}

export function createBatchWriter<T>(write: (items: T[]) => Promise<unknown>, opts: BatchWriterOptions): BatchWriter<T> {
  if (!(opts.maxItems >= 1) || !(opts.lingerMs >= 0)) throw new RangeError('createBatchWriter: maxItems must be ≥ 1 and lingerMs ≥ 0');
  let items: T[] = [];
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;

  const flush = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (items.length === 0) return;
    const batch = items;
    const mine = waiters;
    items = [];
    waiters = [];
    try {
      await write(batch);
      for (const w of mine) w.resolve();
    } catch (e) {
      for (const w of mine) w.reject(e);
    }
  };

  return {
    add(item) {
      const done = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      items.push(item);
      if (items.length >= opts.maxItems) void flush();
      else timer ??= setTimeout(() => void flush(), opts.lingerMs);
      return done;
    },
    flush,
  };
}

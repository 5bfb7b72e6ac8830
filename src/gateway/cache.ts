/**
 * A read-through cache for the request path: a fresh entry is returned without a store read;
 * one older than `ttlMs` is read again before use (so a revocation or a risk change made by
 * another process applies within `ttlMs`), falling back to the last known value while the store
 * cannot answer; a missing one is loaded and awaited.
 */
export interface ReadThroughCache<T> {
  /** The cached value when present (fresh or stale), else undefined without loading. */
  peek(id: string): T | null | undefined;
  /**
   * The cached value when it is fresh (what `get` would return without a read), else undefined:
   * the request path tries it first and awaits `get` only on a miss or a stale entry, so a hit
   * costs no promise and no turn of the microtask queue.
   */
  fresh(id: string): T | null | undefined;
  get(id: string): Promise<T | null>;
  /** Drops an entry (after a change made in this process). */
  invalidate(id: string): void;
  /** Makes every entry stale: each is read again before its next use (kept as the fallback). */
  expireAll(): void;
  set(id: string, value: T | null): void;
}

export function createReadThroughCache<T>(
  load: (id: string) => Promise<T | null>,
  opts: { ttlMs: number; max: number; now: () => number; onError?: (err: unknown) => void },
): ReadThroughCache<T> {
  const entries = new Map<string, { value: T | null; at: number; gen: number }>();
  /** Entries of an older generation are stale whatever their age (`expireAll`). */
  let gen = 0;
  const inflight = new Map<string, Promise<T | null>>();

  const fetch = (id: string): Promise<T | null> => {
    let p = inflight.get(id);
    if (p) return p;
    p = load(id).then(
      (value) => {
        inflight.delete(id);
        if (entries.size >= opts.max) entries.delete(entries.keys().next().value as string);
        entries.set(id, { value, at: opts.now(), gen });
        return value;
      },
      (err: unknown) => {
        inflight.delete(id);
        throw err;
      },
    );
    inflight.set(id, p);
    return p;
  };

  return {
    peek: (id) => entries.get(id)?.value,
    fresh(id) {
      const e = entries.get(id);
      return e !== undefined && e.gen === gen && opts.now() - e.at <= opts.ttlMs ? e.value : undefined;
    },
    async get(id) {
      const e = entries.get(id);
      if (!e) return fetch(id);
      if (e.gen === gen && opts.now() - e.at <= opts.ttlMs) return e.value;
      // Past its time an entry is read again before use, so a change made elsewhere applies
      // within ttlMs; if the store cannot answer, the last known value keeps serving.
      try {
        return await fetch(id);
      } catch (err) {
        opts.onError?.(err);
        return e.value;
      }
    },
    invalidate: (id) => void entries.delete(id),
    expireAll: () => void gen++,
    set: (id, value) => void entries.set(id, { value, at: opts.now(), gen }),
  };
}

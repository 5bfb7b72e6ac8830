/**
 * The gateway's local durable outbox (used by both profiles; not a port).
 *
 * `append` resolves only once the event is committed to a local SQLite file: appends made in
 * the same event-loop turn are committed together in one transaction in a `setImmediate`
 * (group commit), then all their promises resolve. The gateway awaits `append` before it
 * writes the last byte of a response, so a response whose last byte reached the client has
 * its event on disk, even if the process is SIGKILLed the next instant (with the default
 * `synchronous = NORMAL`; `FULL` extends that to power loss, at one fsync per turn).
 *
 * The relay reads unrelayed rows in order, hands them to `publish` (usually the bus), and
 * deletes them once `publish` resolves. On failure it retries the same rows with exponential
 * backoff, so events are never lost or reordered; a crash between `publish` and the delete
 * means those rows are published again on restart (at-least-once: the bus de-duplicates by
 * `event_id`).
 *
 * The file is opened in exclusive locking mode: one gateway process per outbox file.
 */
import type { Clock, UsageEvent } from '../../core/index.js';
import { ConfigError, UnavailableError, systemClock } from '../../core/index.js';
import { GroupCommit, migrate, openDatabase, type Migration, type SqliteSynchronous } from './sqlite.js';

export const OUTBOX_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'outbox rows in append order',
    up(db) {
      db.exec(`
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  data TEXT NOT NULL,
  appended_at INTEGER NOT NULL
);`);
    },
  },
];

export interface OutboxOptions {
  /** The outbox file; one per gateway process. */
  path: string;
  synchronous?: SqliteSynchronous;
  /** How long to wait for the file's lock before failing. Default 5 s. */
  busyTimeoutMs?: number;
  clock?: Clock;
}

export interface RelayOptions {
  /** Most events per `publish` call. Default 500. */
  batchSize?: number;
  /** First retry delay after a failed `publish`; doubles up to `maxBackoffMs`. Default 100 ms. */
  minBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /**
   * How long the relay waits after a wake-up with fewer than `batchSize` events, so events are
   * relayed in batches rather than one by one (responses never wait for the relay). Default 0.
   */
  lingerMs?: number;
  /** How long `close()` waits for the final drain. Default 5 s. */
  drainTimeoutMs?: number;
  /** Told about each failed `publish` (for logs and metrics). */
  onError?: (err: unknown, consecutiveFailures: number) => void;
}

export interface Outbox {
  /** Resolves once the event is committed locally; rejects if it could not be. */
  append(event: UsageEvent): Promise<void>;
  /** Starts relaying (once per outbox). */
  startRelay(publish: (events: UsageEvent[]) => Promise<void>, opts?: RelayOptions): void;
  /** Events committed and not yet relayed (a gauge for metrics). */
  backlog(): number;
  /** Commits pending appends, makes a final drain attempt, stops the relay and closes the file. */
  close(): Promise<void>;
}

/** Opens (creating) the outbox file and takes its exclusive lock. */
export function openOutbox(opts: OutboxOptions): Outbox {
  if (opts.path === ':memory:') {
    throw new ConfigError('CONFIG_INVALID', 'outbox.path: an outbox must be a file (":memory:" would lose events on exit).');
  }
  const clock = opts.clock ?? systemClock;
  const db = openDatabase({ path: opts.path, synchronous: opts.synchronous, busyTimeoutMs: opts.busyTimeoutMs, exclusive: true });
  try {
    migrate(db, 'outbox', OUTBOX_MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }

  const s = {
    insert: db.prepare('INSERT INTO outbox (event_id, data, appended_at) VALUES (?, ?, ?)'),
    head: db.prepare('SELECT seq, data FROM outbox ORDER BY seq LIMIT ?'),
    deleteThrough: db.prepare('DELETE FROM outbox WHERE seq <= ?'),
    count: db.prepare('SELECT count(*) FROM outbox').pluck(),
  };
  const writes = new GroupCommit(db, 'outbox');
  let backlog = s.count.get() as number;
  let closed = false;

  // Relay state.
  let relay: Promise<void> | undefined;
  let draining = false;
  let drainTimeout = 5_000;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  async function runRelay(publish: (events: UsageEvent[]) => Promise<void>, o: Required<Omit<RelayOptions, 'onError'>> & RelayOptions) {
    let failures = 0;
    for (;;) {
      if (closed) return;
      let rows = s.head.all(o.batchSize) as { seq: number; data: string }[];
      if (rows.length === 0) {
        if (draining) return;
        await nap(60_000);
        continue;
      }
      if (rows.length < o.batchSize && o.lingerMs > 0 && !draining) {
        await new Promise((r) => setTimeout(r, o.lingerMs));
        if (closed) return;
        rows = s.head.all(o.batchSize) as { seq: number; data: string }[];
      }
      const events = rows.map((r) => JSON.parse(r.data) as UsageEvent);
      try {
        await publish(events);
      } catch (err) {
        failures++;
        o.onError?.(err, failures);
        if (draining) return; // The final attempt failed: the rows stay for the next start.
        await nap(Math.min(o.maxBackoffMs, o.minBackoffMs * 2 ** (failures - 1)));
        continue;
      }
      failures = 0;
      if (closed) return; // Timed out while draining: the rows are published again next start.
      s.deleteThrough.run(rows[rows.length - 1]!.seq);
      backlog -= rows.length;
    }
  }

  return {
    append(event) {
      if (closed) return Promise.reject(new UnavailableError('The outbox is closed; events can no longer be recorded.'));
      const data = JSON.stringify(event);
      return writes
        .enqueue(() => s.insert.run(event.event_id, data, clock.now()))
        .then(() => {
          backlog++;
          signal();
        });
    },

    startRelay(publish, o = {}) {
      if (closed) throw new UnavailableError('The outbox is closed; open it again to relay.');
      if (relay) throw new ConfigError('CONFIG_INVALID', 'The outbox relay is already running; start it once per outbox.');
      const batchSize = Math.floor(o.batchSize ?? 500);
      if (!(batchSize >= 1)) throw new ConfigError('CONFIG_INVALID', `relay.batchSize: expected an integer ≥ 1, got ${o.batchSize}.`);
      const opts = {
        ...o,
        batchSize,
        minBackoffMs: o.minBackoffMs ?? 100,
        maxBackoffMs: o.maxBackoffMs ?? 30_000,
        drainTimeoutMs: o.drainTimeoutMs ?? 5_000,
        lingerMs: o.lingerMs ?? 0,
      };
      drainTimeout = opts.drainTimeoutMs;
      relay = runRelay(publish, opts).catch((err: unknown) => {
        o.onError?.(err, -1);
      });
    },

    backlog: () => backlog,

    async close() {
      if (closed) return;
      writes.close();
      if (relay) {
        draining = true;
        signal();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([relay, new Promise((r) => (timer = setTimeout(r, drainTimeout)))]);
        clearTimeout(timer);
      }
      closed = true;
      signal();
      db.close();
    },
  };
}

/**
 * Embedded `Counters` for rate limits and budgets. Counts live in a Map, so `take` is a
 * synchronous critical section (atomic within the process) that costs well under a
 * microsecond. The SQLite variant persists them write-behind: every `flushMs` (100 ms by
 * default) and on `close`, the increments since the last flush are added to the table in one
 * transaction. A SIGKILL therefore loses at most the last `flushMs` of increments; a
 * restart reloads every period not yet ended.
 */
import type { Clock, Counters, Period } from '../../core/index.js';
import { ConfigError, UnavailableError, systemClock } from '../../core/index.js';
import { migrate, openDatabase, type Migration, type SqliteDatabase, type SqliteSynchronous } from './sqlite.js';

interface Entry {
  key: string;
  periodId: string;
  endsAt: number;
  count: number;
  /** Increments not yet written to the table. */
  unflushed: number;
}

export interface MemoryCountersOptions {
  clock?: Clock;
}

/** Counters with their bookkeeping exposed for the SQLite variant and for tests. */
export interface MemoryCounters extends Counters {
  /** Number of (key, period) counters held in memory. */
  size(): number;
}

const SEP = '\u0001';

class CounterTable {
  readonly entries = new Map<string, Entry>();
  readonly dirty = new Set<Entry>();
  /** Earliest `endsAt` among entries: nothing can be pruned before it. */
  private nextEnd = Infinity;
  closed = false;

  constructor(private readonly clock: Clock, private readonly what: string) {}

  private check(period: Period, n: number, field: string): void {
    if (this.closed) throw new UnavailableError(`The ${this.what} is closed; open it again.`);
    if (!Number.isFinite(n) || n < 0) {
      throw new ConfigError('CONFIG_INVALID', `Counters ${field}: expected a finite number ≥ 0, got ${n}.`);
    }
    if (typeof period.id !== 'string' || !Number.isFinite(period.endsAt)) {
      throw new ConfigError('CONFIG_INVALID', 'Counters period: expected { id: string, endsAt: epoch ms }.');
    }
  }

  /** Forgets periods that have ended; runs only when the earliest end has passed. */
  prune(now = this.clock.now()): Entry[] {
    if (now < this.nextEnd) return [];
    const gone: Entry[] = [];
    let next = Infinity;
    for (const [k, e] of this.entries) {
      if (e.endsAt <= now) {
        this.entries.delete(k);
        this.dirty.delete(e);
        gone.push(e);
      } else if (e.endsAt < next) next = e.endsAt;
    }
    this.nextEnd = next;
    return gone;
  }

  entry(key: string, period: Period, create: true): Entry;
  entry(key: string, period: Period, create: false): Entry | undefined;
  entry(key: string, period: Period, create: boolean): Entry | undefined {
    this.prune();
    const k = key + SEP + period.id;
    let e = this.entries.get(k);
    if (!e && create) {
      e = { key, periodId: period.id, endsAt: period.endsAt, count: 0, unflushed: 0 };
      this.entries.set(k, e);
      if (e.endsAt < this.nextEnd) this.nextEnd = e.endsAt;
    }
    return e;
  }

  /** Loads a persisted count (on open). */
  load(key: string, periodId: string, endsAt: number, count: number): void {
    const e = this.entry(key, { id: periodId, endsAt }, true);
    e.count = count;
  }

  take(key: string, period: Period, cost: number, limit: number): { ok: boolean; total: number } {
    this.check(period, cost, 'cost');
    const e = this.entry(key, period, true);
    if (e.count + cost > limit) return { ok: false, total: e.count };
    e.count += cost;
    if (cost > 0) {
      e.unflushed += cost;
      this.dirty.add(e);
    }
    return { ok: true, total: e.count };
  }

  add(key: string, period: Period, amount: number): number {
    this.check(period, amount, 'amount');
    const e = this.entry(key, period, true);
    e.count += amount;
    if (amount > 0) {
      e.unflushed += amount;
      this.dirty.add(e);
    }
    return e.count;
  }

  peek(key: string, period: Period): number {
    if (this.closed) throw new UnavailableError(`The ${this.what} is closed; open it again.`);
    return this.entry(key, period, false)?.count ?? 0;
  }
}

/** The port's operations over a table (async: a thrown error becomes a rejection, and the body still runs synchronously). */
function countersOf(t: CounterTable): Pick<MemoryCounters, 'take' | 'add' | 'peek' | 'size'> {
  return {
    take: async (key, period, cost, limit) => t.take(key, period, cost, limit),
    add: async (key, period, amount) => t.add(key, period, amount),
    peek: async (key, period) => t.peek(key, period),
    size: () => (t.prune(), t.entries.size),
  };
}

/** In-memory counters (nothing survives a restart): tests, the simulator, per-minute limits. */
export function createMemoryCounters(opts: MemoryCountersOptions = {}): MemoryCounters {
  const t = new CounterTable(opts.clock ?? systemClock, 'memory counters');
  return {
    ...countersOf(t),
    async close() {
      t.closed = true;
    },
  };
}

export const COUNTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'counters per key and period',
    up(db) {
      db.exec(`
CREATE TABLE counters (
  key TEXT NOT NULL,
  period_id TEXT NOT NULL,
  ends_at INTEGER NOT NULL,
  count REAL NOT NULL,
  PRIMARY KEY (key, period_id)
);
CREATE INDEX counters_ends ON counters (ends_at);`);
    },
  },
];

export interface SqliteCountersOptions {
  /** A file path, or `':memory:'`. Ignored when `db` is given. */
  path?: string;
  db?: SqliteDatabase;
  synchronous?: SqliteSynchronous;
  /** Write-behind interval: the most increments a SIGKILL can lose. Default 100 ms. */
  flushMs?: number;
  clock?: Clock;
}

export interface SqliteCounters extends MemoryCounters {
  /** Writes pending increments now (also runs every `flushMs` and on close). */
  flush(): void;
}

/**
 * Counters kept in memory and persisted write-behind to SQLite. Increments are written as
 * deltas (`count = count + Δ`), and the stored total read back into memory, so several
 * processes sharing the file converge on the sum within `flushMs` (each still enforces its
 * limit on its own view between flushes).
 */
export function openSqliteCounters(opts: SqliteCountersOptions): SqliteCounters {
  const flushMs = opts.flushMs ?? 100;
  if (!(flushMs > 0)) throw new ConfigError('CONFIG_INVALID', `counters.flushMs: expected a positive number, got ${flushMs}.`);
  const ownsDb = opts.db === undefined;
  const db = opts.db ?? openDatabase({ path: opts.path ?? '', synchronous: opts.synchronous });
  migrate(db, 'counters', COUNTER_MIGRATIONS);
  const clock = opts.clock ?? systemClock;
  const t = new CounterTable(clock, 'SQLite counters');

  const upsert = db.prepare(
    `INSERT INTO counters (key, period_id, ends_at, count) VALUES (?, ?, ?, ?)
     ON CONFLICT (key, period_id) DO UPDATE SET count = count + excluded.count RETURNING count`,
  );
  const pruneRows = db.prepare('DELETE FROM counters WHERE ends_at <= ?');
  for (const r of db.prepare('SELECT key, period_id, ends_at, count FROM counters WHERE ends_at > ?').iterate(clock.now()) as Iterable<{
    key: string;
    period_id: string;
    ends_at: number;
    count: number;
  }>) {
    t.load(r.key, r.period_id, r.ends_at, r.count);
  }

  let lastRowPrune = 0;
  const write = db.transaction((entries: Entry[]) => {
    for (const e of entries) {
      const row = upsert.get(e.key, e.periodId, e.endsAt, e.unflushed) as { count: number };
      e.unflushed = 0;
      e.count = row.count;
    }
    const now = clock.now();
    if (now - lastRowPrune > 60_000) {
      lastRowPrune = now;
      pruneRows.run(now);
    }
  });

  function flush(): void {
    if (t.dirty.size === 0) return;
    const entries = [...t.dirty];
    t.dirty.clear();
    try {
      write(entries);
    } catch (err) {
      // Keep the increments for the next attempt (the transaction rolled back).
      for (const e of entries) t.dirty.add(e);
      throw new UnavailableError(`Could not persist counters to ${db.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  const timer = setInterval(() => {
    try {
      flush();
    } catch {
      // Retried on the next tick; the counts in memory are still enforced.
    }
  }, flushMs);
  timer.unref();

  return {
    ...countersOf(t),
    flush,
    async close() {
      if (t.closed) return;
      clearInterval(timer);
      flush();
      t.closed = true;
      if (ownsDb) db.close();
    },
  };
}

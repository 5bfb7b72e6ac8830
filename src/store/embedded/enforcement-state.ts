/**
 * `SqliteEnforcementState`: the actions in force, stored in the state store's `actions` table.
 * `apply` writes the action and a row in `enforcement_changes` in one transaction, then calls
 * this instance's watchers in a microtask (before `apply`'s promise settles). Other
 * instances on the same file (another gateway process) see the change by polling the change
 * log every `pollMs` (250 ms by default), well within the port's one second.
 */
import type { Clock, EnforcementAction, EnforcementChange, EnforcementState } from '../../core/index.js';
import { ConfigError, UnavailableError, systemClock } from '../../core/index.js';
import { migrate, openDatabase, timeMs, type Migration, type SqliteDatabase, type SqliteSynchronous } from './sqlite.js';
import { STORE_MIGRATIONS, actionFromRow, prepareActionWriter, type SqliteStore } from './state-store.js';

export const ENFORCEMENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'enforcement change log',
    up(db) {
      db.exec(`
CREATE TABLE enforcement_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL CHECK (type IN ('put', 'reverse')),
  action TEXT NOT NULL,
  at INTEGER NOT NULL
);`);
    },
  },
];

export interface SqliteEnforcementStateOptions {
  /** Share the state store's database (the usual wiring). */
  store?: SqliteStore;
  db?: SqliteDatabase;
  /** A file path when neither `store` nor `db` is given. */
  path?: string;
  synchronous?: SqliteSynchronous;
  /** How often watchers look for changes applied by other instances. Default 250 ms. */
  pollMs?: number;
  /** How long change-log rows are kept for other instances to read. Default 1 h. */
  keepChangesMs?: number;
  clock?: Clock;
}

/** Opens the embedded enforcement state (creating the tables it needs). */
export function openSqliteEnforcementState(opts: SqliteEnforcementStateOptions): EnforcementState {
  const pollMs = opts.pollMs ?? 250;
  const keepChangesMs = opts.keepChangesMs ?? 3_600_000;
  if (!(pollMs > 0)) throw new ConfigError('CONFIG_INVALID', `enforcement.pollMs: expected a positive number, got ${pollMs}.`);
  const clock = opts.clock ?? systemClock;
  const ownsDb = !opts.store && !opts.db;
  const db = opts.store?.db ?? opts.db ?? openDatabase({ path: opts.path ?? '', synchronous: opts.synchronous });
  migrate(db, 'store', STORE_MIGRATIONS);
  migrate(db, 'enforcement', ENFORCEMENT_MIGRATIONS);

  const writeAction = prepareActionWriter(db);
  const s = {
    log: db.prepare('INSERT INTO enforcement_changes (type, action, at) VALUES (?, ?, ?)'),
    since: db.prepare('SELECT seq, type, action FROM enforcement_changes WHERE seq > ? ORDER BY seq'),
    maxSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM enforcement_changes').pluck(),
    prune: db.prepare('DELETE FROM enforcement_changes WHERE at < ?'),
    active: db.prepare(
      'SELECT * FROM actions WHERE reversed_at IS NULL AND (expires_ms IS NULL OR expires_ms > ?) ORDER BY created_ms, action_id',
    ),
  };

  const listeners = new Set<(c: EnforcementChange) => void>();
  const own = new Set<number>();
  let lastSeen = s.maxSeq.get() as number;
  let lastPrune = 0;
  let closed = false;
  let poll: NodeJS.Timeout | undefined;

  function emit(change: EnforcementChange): void {
    for (const l of [...listeners]) {
      queueMicrotask(() => {
        if (!listeners.has(l)) return;
        try {
          l(structuredClone(change));
        } catch {
          // One failing watcher must not keep the change from the others.
        }
      });
    }
  }

  function readLog(): void {
    if (closed) return;
    let rows: { seq: number; type: EnforcementChange['type']; action: string }[];
    try {
      rows = s.since.all(lastSeen) as typeof rows;
    } catch {
      return; // Busy: the next poll retries.
    }
    for (const r of rows) {
      lastSeen = r.seq;
      if (own.delete(r.seq)) continue;
      emit({ type: r.type, action: JSON.parse(r.action) as EnforcementAction });
    }
  }

  const applyTx = db.transaction((change: EnforcementChange, now: number): number => {
    writeAction(change.action);
    const seq = Number(s.log.run(change.type, JSON.stringify(change.action), now).lastInsertRowid);
    if (now - lastPrune > 60_000) {
      lastPrune = now;
      s.prune.run(now - keepChangesMs);
    }
    return seq;
  });

  return {
    async apply(change) {
      if (closed) throw new UnavailableError('The enforcement state is closed; open it again.');
      if (change.type !== 'put' && change.type !== 'reverse') {
        throw new ConfigError('CONFIG_INVALID', `enforcement change: expected type "put" or "reverse", got "${String((change as { type: unknown }).type)}".`);
      }
      const now = clock.now();
      let action = structuredClone(change.action);
      if (change.type === 'reverse' && action.reversed_at === undefined) {
        action = { ...action, reversed_at: new Date(now).toISOString() };
      }
      timeMs(action.created_at, 'action.created_at');
      const seq = applyTx.immediate({ type: change.type, action }, now);
      // Changes from others with smaller seqs are read by the next poll; ours are skipped there.
      if (!poll) lastSeen = Math.max(lastSeen, seq);
      else if (seq > lastSeen) own.add(seq);
      emit({ type: change.type, action });
    },
    async active(now) {
      if (closed) throw new UnavailableError('The enforcement state is closed; open it again.');
      return (s.active.all(timeMs(now, 'now')) as Record<string, unknown>[]).map(actionFromRow);
    },
    watch(listener) {
      listeners.add(listener);
      if (!poll && !closed) {
        lastSeen = Math.max(lastSeen, s.maxSeq.get() as number);
        poll = setInterval(readLog, pollMs);
        poll.unref();
      }
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (poll) clearInterval(poll);
      listeners.clear();
      if (ownsDb) db.close();
    },
  };
}

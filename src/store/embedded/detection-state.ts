/**
 * `SqliteDetectionState`: the embedded `DetectionStateStore` (one process, or several sharing a
 * file on one machine). The same tables as the PostgreSQL adapter: leases with a fencing epoch,
 * live workers, committed positions, per-account feature state and counted event ids; `commit`
 * is one immediate transaction.
 */
import type {
  AccountFeatureRow,
  DetectionBatch,
  DetectionCommitResult,
  DetectionLease,
  DetectionStateStore,
} from '../../core/index.js';
import { ConflictError, ValidationError } from '../../core/index.js';
import { migrate, openDatabase, type Migration, type SqliteDatabase } from './sqlite.js';

export const DETECTION_STATE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'detection leases, workers, positions, account states, counted events',
    up(db) {
      db.exec(`
CREATE TABLE detection_leases (name TEXT PRIMARY KEY, owner TEXT, epoch INTEGER NOT NULL DEFAULT 0, expires_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE detection_workers (owner TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL);
CREATE TABLE detection_positions (partition INTEGER PRIMARY KEY, seq INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE detection_accounts (
  account_id TEXT PRIMARY KEY,
  partition INTEGER NOT NULL,
  events INTEGER NOT NULL,
  state BLOB NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX detection_accounts_partition ON detection_accounts (partition);
CREATE INDEX detection_accounts_updated ON detection_accounts (updated_ms);
CREATE TABLE detection_counted (event_id TEXT PRIMARY KEY, partition INTEGER NOT NULL, ts_ms INTEGER NOT NULL);
CREATE INDEX detection_counted_ts ON detection_counted (ts_ms);
`);
    },
  },
];

export interface SqliteDetectionStateOptions {
  /** A file, or `:memory:`; or share an open database with `db`. */
  path?: string;
  db?: SqliteDatabase;
}

/** A lease row and a state row as both dialects store them (PostgreSQL's bigints read as strings until `Number`). */
export interface LeaseRow {
  name: string;
  owner: string | null;
  epoch: number;
  expires_ms: number;
}
export interface StateRow {
  account_id: string;
  partition: number;
  events: number;
  state: Buffer;
  updated_ms: number;
}

export const leaseOf = (r: LeaseRow): DetectionLease => ({ name: r.name, owner: r.owner ?? '', epoch: Number(r.epoch), expiresMs: Number(r.expires_ms) });

export function checkLeaseArgs(name: string, owner: string, ttlMs: number): void {
  if (typeof name !== 'string' || name === '') throw new ValidationError('detection lease: a non-empty name is required');
  if (typeof owner !== 'string' || owner === '') throw new ValidationError('detection lease: a non-empty owner is required');
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new ValidationError(`detection lease: ttlMs must be positive, got ${ttlMs}`);
}

export function checkBatch(b: DetectionBatch): void {
  if (!Number.isInteger(b.partition) || b.partition < 0) throw new ValidationError(`detection batch: partition must be an integer ≥ 0, got ${b.partition}`);
  if (!Number.isInteger(b.seq) || b.seq < 0) throw new ValidationError(`detection batch: seq must be an integer ≥ 0, got ${b.seq}`);
}

const rowOut = (r: StateRow): AccountFeatureRow => ({
  account_id: r.account_id,
  partition: r.partition,
  events: r.events,
  state: new Uint8Array(r.state),
  updated_ms: r.updated_ms,
});

export function openSqliteDetectionState(opts: SqliteDetectionStateOptions): DetectionStateStore {
  const ownsDb = !opts.db;
  const db = opts.db ?? openDatabase({ path: opts.path ?? '' });
  migrate(db, 'detection', DETECTION_STATE_MIGRATIONS);
  const s = {
    ensureLease: db.prepare('INSERT OR IGNORE INTO detection_leases (name) VALUES (?)'),
    getLease: db.prepare<[string], LeaseRow>('SELECT * FROM detection_leases WHERE name = ?'),
    takeLease: db.prepare('UPDATE detection_leases SET owner = ?, epoch = epoch + 1, expires_ms = ? WHERE name = ?'),
    renewLease: db.prepare('UPDATE detection_leases SET expires_ms = ? WHERE name = ? AND owner = ? AND epoch = ?'),
    releaseLease: db.prepare('UPDATE detection_leases SET owner = NULL, expires_ms = 0 WHERE name = ? AND owner = ? AND epoch = ?'),
    liveLeases: db.prepare<[number], LeaseRow>('SELECT * FROM detection_leases WHERE owner IS NOT NULL AND expires_ms >= ? ORDER BY name'),
    beat: db.prepare('INSERT INTO detection_workers (owner, expires_ms) VALUES (?, ?) ON CONFLICT(owner) DO UPDATE SET expires_ms = excluded.expires_ms'),
    dropDead: db.prepare('DELETE FROM detection_workers WHERE expires_ms < ?'),
    live: db.prepare<[number], { owner: string }>('SELECT owner FROM detection_workers WHERE expires_ms >= ? ORDER BY owner'),
    leave: db.prepare('DELETE FROM detection_workers WHERE owner = ?'),
    countId: db.prepare('INSERT OR IGNORE INTO detection_counted (event_id, partition, ts_ms) VALUES (?, ?, ?)'),
    putState: db.prepare(
      `INSERT INTO detection_accounts (account_id, partition, events, state, updated_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(account_id) DO UPDATE SET partition = excluded.partition, events = excluded.events, state = excluded.state, updated_ms = excluded.updated_ms`,
    ),
    putPosition: db.prepare(
      `INSERT INTO detection_positions (partition, seq, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT(partition) DO UPDATE SET seq = max(seq, excluded.seq), updated_ms = excluded.updated_ms`,
    ),
    positions: db.prepare<[], { partition: number; seq: number }>('SELECT partition, seq FROM detection_positions'),
    partitionStates: db.prepare<[number], StateRow>('SELECT * FROM detection_accounts WHERE partition = ? ORDER BY account_id'),
    statesSince: db.prepare<[number], StateRow>('SELECT * FROM detection_accounts WHERE updated_ms >= ? ORDER BY account_id'),
    prune: db.prepare('DELETE FROM detection_counted WHERE ts_ms < ?'),
    forget: db.prepare('DELETE FROM detection_accounts WHERE account_id = ?'),
  };
  let closed = false;

  const acquireTx = db.transaction((name: string, owner: string, now: number, ttlMs: number): DetectionLease | null => {
    s.ensureLease.run(name);
    const cur = s.getLease.get(name)!;
    if (cur.owner !== null && cur.owner !== owner && cur.expires_ms >= now) return null;
    s.takeLease.run(owner, now + ttlMs, name);
    return leaseOf(s.getLease.get(name)!);
  });
  const commitTx = db.transaction((l: DetectionLease, b: DetectionBatch): DetectionCommitResult => {
    const cur = s.getLease.get(l.name);
    if (!cur || cur.owner !== l.owner || cur.epoch !== l.epoch) {
      throw new ConflictError(`detection lease ${l.name} (epoch ${l.epoch}) is no longer held by ${l.owner}; the batch was not committed.`);
    }
    const fresh: string[] = [];
    for (const e of b.events) if (s.countId.run(e.event_id, b.partition, e.ts_ms).changes > 0) fresh.push(e.event_id);
    const rows = b.apply(fresh);
    for (const r of rows) s.putState.run(r.account_id, r.partition, r.events, Buffer.from(r.state), r.updated_ms);
    s.putPosition.run(b.partition, b.seq, b.now);
    return { fresh: fresh.length, accounts: rows.length };
  });

  return {
    async acquire(name, owner, now, ttlMs) {
      checkLeaseArgs(name, owner, ttlMs);
      return acquireTx.immediate(name, owner, now, ttlMs);
    },
    async renew(l, now, ttlMs) {
      checkLeaseArgs(l.name, l.owner, ttlMs);
      if (s.renewLease.run(now + ttlMs, l.name, l.owner, l.epoch).changes === 0) return null;
      return { ...l, expiresMs: now + ttlMs };
    },
    async release(l) {
      s.releaseLease.run(l.name, l.owner, l.epoch);
    },
    async leases(now) {
      return s.liveLeases.all(now).map(leaseOf);
    },
    async heartbeat(owner, now, ttlMs) {
      checkLeaseArgs('workers', owner, ttlMs);
      s.beat.run(owner, now + ttlMs);
      s.dropDead.run(now);
      return s.live.all(now).map((r) => r.owner);
    },
    async leave(owner) {
      s.leave.run(owner);
    },
    async commit(l, b) {
      checkBatch(b);
      return commitTx.immediate(l, b);
    },
    async positions() {
      return new Map(s.positions.all().map((r) => [r.partition, r.seq]));
    },
    async partitionStates(p) {
      return s.partitionStates.all(p).map(rowOut);
    },
    async statesSince(since) {
      return s.statesSince.all(since).map(rowOut);
    },
    async pruneCounted(before) {
      return s.prune.run(before).changes;
    },
    async forgetAccounts(ids) {
      let n = 0;
      db.transaction(() => {
        for (const id of ids) n += s.forget.run(id).changes;
      })();
      return n;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownsDb) db.close();
    },
  };
}

/**
 * `PostgresDetectionState`: the scaled-out `DetectionStateStore`, shared by every `warden worker`.
 * Leases are rows with an owner, an expiry and a fencing epoch (a worker that stops renewing
 * loses its partitions after the TTL; its late commits are refused by the epoch check, done
 * under `SELECT … FOR UPDATE` in the commit's transaction). A batch commit is one transaction:
 * the lease check, `INSERT … ON CONFLICT DO NOTHING RETURNING` of the counted event ids, the
 * account states, and the partition's position.
 */
import type pg from 'pg';
import type {
  AccountFeatureRow,
  DetectionBatch,
  DetectionCommitResult,
  DetectionLease,
  DetectionStateStore,
} from '../../core/index.js';
import { ConflictError } from '../../core/index.js';
import { checkBatch, checkLeaseArgs, leaseOf as lease, type LeaseRow, type StateRow } from '../embedded/detection-state.js';
import { checkSchemaName, ident, migrateComponent, poolFrom, q, tx, unavailable, type PgConnectOptions, type PgMigration } from './pg.js';

export const PG_DETECTION_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'detection leases, workers, positions, account states, counted events',
    sql: (s) => `
CREATE TABLE ${s}.detection_leases (
  name TEXT COLLATE "C" PRIMARY KEY,
  owner TEXT,
  epoch BIGINT NOT NULL DEFAULT 0,
  expires_ms BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE ${s}.detection_workers (owner TEXT COLLATE "C" PRIMARY KEY, expires_ms BIGINT NOT NULL);
CREATE TABLE ${s}.detection_positions (partition INTEGER PRIMARY KEY, seq BIGINT NOT NULL, updated_ms BIGINT NOT NULL);
CREATE TABLE ${s}.detection_accounts (
  account_id TEXT COLLATE "C" PRIMARY KEY,
  partition INTEGER NOT NULL,
  events BIGINT NOT NULL,
  state BYTEA NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX detection_accounts_partition ON ${s}.detection_accounts (partition);
CREATE INDEX detection_accounts_updated ON ${s}.detection_accounts (updated_ms);
CREATE TABLE ${s}.detection_counted (event_id TEXT COLLATE "C" PRIMARY KEY, partition INTEGER NOT NULL, ts_ms BIGINT NOT NULL);
CREATE INDEX detection_counted_ts ON ${s}.detection_counted (ts_ms);
`,
  },
];

export interface PostgresDetectionStateOptions extends PgConnectOptions {
  schema?: string;
  /** Run the migrations on open (default true). */
  migrate?: boolean;
  /**
   * A commit's transaction left idle this long is ended by the server (a worker stopped by
   * SIGSTOP mid-commit must not hold its lease row locked from its successor). Default 5 s.
   */
  idleInTransactionTimeoutMs?: number;
  /** Lease operations give up after waiting this long for a row lock (retried on the next pass). Default 2 s. */
  lockTimeoutMs?: number;
}

const rowOut = (r: StateRow): AccountFeatureRow => ({
  account_id: r.account_id,
  partition: r.partition,
  events: Number(r.events),
  state: new Uint8Array(r.state),
  updated_ms: Number(r.updated_ms),
});

export async function openPostgresDetectionState(opts: PostgresDetectionStateOptions): Promise<DetectionStateStore> {
  const schema = checkSchemaName(opts.schema ?? 'public');
  const { pool, owns } = await poolFrom(opts, 'openPostgresDetectionState');
  try {
    if (opts.migrate !== false) await migrateComponent(pool, schema, 'detection', PG_DETECTION_MIGRATIONS);
    else await q(pool, 'SELECT 1');
  } catch (err) {
    if (owns) await pool.end().catch(() => {});
    unavailable(err, pool);
  }
  const s = ident(schema);
  const ms = (v: number | undefined, d: number) => Math.max(1, Math.floor(v ?? d));
  const idleMs = ms(opts.idleInTransactionTimeoutMs, 5000);
  const lockMs = ms(opts.lockTimeoutMs, 2000);
  const limits = async (c: pg.PoolClient) => {
    await q(c, `SET LOCAL lock_timeout = ${lockMs}`);
    await q(c, `SET LOCAL idle_in_transaction_session_timeout = ${idleMs}`);
  };
  let closed = false;
  const run = async <R extends Record<string, unknown>>(text: string, values: unknown[] = [], db: Pick<pg.Pool, 'query'> = pool) => {
    try {
      return await q<R>(db, text, values);
    } catch (err) {
      unavailable(err, pool);
    }
  };
  const inTx = <R>(fn: (c: pg.PoolClient) => Promise<R>): Promise<R> => tx(pool, fn);

  return {
    async acquire(name, owner, now, ttlMs) {
      checkLeaseArgs(name, owner, ttlMs);
      return inTx(async (c) => {
        await limits(c);
        await q(c, `INSERT INTO ${s}.detection_leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
        const r = await q<LeaseRow & Record<string, unknown>>(
          c,
          `UPDATE ${s}.detection_leases SET owner = $2, epoch = epoch + 1, expires_ms = $3
           WHERE name = $1 AND (owner IS NULL OR owner = $2 OR expires_ms < $4) RETURNING *`,
          [name, owner, now + ttlMs, now],
        );
        return r.rows[0] ? lease(r.rows[0]) : null;
      });
    },
    async renew(l, now, ttlMs) {
      checkLeaseArgs(l.name, l.owner, ttlMs);
      const n = await inTx(async (c) => {
        await limits(c);
        return (await q(c, `UPDATE ${s}.detection_leases SET expires_ms = $4 WHERE name = $1 AND owner = $2 AND epoch = $3`, [l.name, l.owner, l.epoch, now + ttlMs])).rowCount;
      });
      return n ? { ...l, expiresMs: now + ttlMs } : null;
    },
    async release(l) {
      await inTx(async (c) => {
        await limits(c);
        await q(c, `UPDATE ${s}.detection_leases SET owner = NULL, expires_ms = 0 WHERE name = $1 AND owner = $2 AND epoch = $3`, [l.name, l.owner, l.epoch]);
      });
    },
    async leases(now) {
      const r = await run<LeaseRow & Record<string, unknown>>(
        `SELECT * FROM ${s}.detection_leases WHERE owner IS NOT NULL AND expires_ms >= $1 ORDER BY name`,
        [now],
      );
      return r.rows.map(lease);
    },
    async heartbeat(owner, now, ttlMs) {
      checkLeaseArgs('workers', owner, ttlMs);
      return inTx(async (c) => {
        await q(
          c,
          `INSERT INTO ${s}.detection_workers (owner, expires_ms) VALUES ($1, $2)
           ON CONFLICT (owner) DO UPDATE SET expires_ms = excluded.expires_ms`,
          [owner, now + ttlMs],
        );
        await q(c, `DELETE FROM ${s}.detection_workers WHERE expires_ms < $1`, [now]);
        const r = await q<{ owner: string }>(c, `SELECT owner FROM ${s}.detection_workers WHERE expires_ms >= $1 ORDER BY owner`, [now]);
        return r.rows.map((x) => x.owner);
      });
    },
    async leave(owner) {
      await run(`DELETE FROM ${s}.detection_workers WHERE owner = $1`, [owner]);
    },
    async commit(l, b): Promise<DetectionCommitResult> {
      checkBatch(b);
      return inTx(async (c) => {
        await limits(c);
        const cur = (await q<LeaseRow & Record<string, unknown>>(c, `SELECT * FROM ${s}.detection_leases WHERE name = $1 FOR UPDATE`, [l.name])).rows[0];
        if (!cur || cur.owner !== l.owner || Number(cur.epoch) !== l.epoch) {
          throw new ConflictError(`detection lease ${l.name} (epoch ${l.epoch}) is no longer held by ${l.owner}; the batch was not committed.`);
        }
        let fresh: string[] = [];
        if (b.events.length > 0) {
          const r = await q<{ event_id: string }>(
            c,
            `INSERT INTO ${s}.detection_counted (event_id, partition, ts_ms)
             SELECT t.id, $2, t.ts FROM unnest($1::text[], $3::bigint[]) AS t(id, ts)
             ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
            [b.events.map((e) => e.event_id), b.partition, b.events.map((e) => e.ts_ms)],
          );
          const got = new Set(r.rows.map((x) => x.event_id));
          // In the batch's order (RETURNING gives no order); a repeated id counts once.
          fresh = b.events.map((e) => e.event_id).filter((id) => got.delete(id));
        }
        const rows = b.apply(fresh);
        if (rows.length > 0) {
          await q(
            c,
            `INSERT INTO ${s}.detection_accounts (account_id, partition, events, state, updated_ms)
             SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bytea[], $5::bigint[])
             ON CONFLICT (account_id) DO UPDATE SET partition = excluded.partition, events = excluded.events,
               state = excluded.state, updated_ms = excluded.updated_ms`,
            [
              rows.map((r) => r.account_id),
              rows.map((r) => r.partition),
              rows.map((r) => r.events),
              rows.map((r) => Buffer.from(r.state.buffer, r.state.byteOffset, r.state.byteLength)),
              rows.map((r) => r.updated_ms),
            ],
          );
        }
        await q(
          c,
          `INSERT INTO ${s}.detection_positions (partition, seq, updated_ms) VALUES ($1, $2, $3)
           ON CONFLICT (partition) DO UPDATE SET seq = GREATEST(${s}.detection_positions.seq, excluded.seq), updated_ms = excluded.updated_ms`,
          [b.partition, b.seq, b.now],
        );
        return { fresh: fresh.length, accounts: rows.length };
      });
    },
    async positions() {
      const r = await run<{ partition: number; seq: number }>(`SELECT partition, seq FROM ${s}.detection_positions`);
      return new Map(r.rows.map((x) => [x.partition, Number(x.seq)]));
    },
    async partitionStates(p) {
      const r = await run<StateRow & Record<string, unknown>>(`SELECT * FROM ${s}.detection_accounts WHERE partition = $1 ORDER BY account_id`, [p]);
      return r.rows.map(rowOut);
    },
    async statesSince(since) {
      const r = await run<StateRow & Record<string, unknown>>(`SELECT * FROM ${s}.detection_accounts WHERE updated_ms >= $1 ORDER BY account_id`, [since]);
      return r.rows.map(rowOut);
    },
    async forgetAccounts(ids) {
      if (ids.length === 0) return 0;
      return (await run(`DELETE FROM ${s}.detection_accounts WHERE account_id = ANY($1::text[])`, [[...ids]])).rowCount ?? 0;
    },
    async pruneCounted(before) {
      return (await run(`DELETE FROM ${s}.detection_counted WHERE ts_ms < $1`, [before])).rowCount ?? 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owns) await pool.end().catch(() => {});
    },
  };
}

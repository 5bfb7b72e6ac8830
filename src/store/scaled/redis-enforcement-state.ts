/**
 * `ClusterEnforcementState`: the actions in force for every gateway of a scaled-out
 * deployment. PostgreSQL is the source of truth; Redis pub/sub pushes each change to every
 * instance at once.
 *
 * - `apply` writes the action (the state store's `actions` table) and a row in
 *   `enforcement_changes` in one transaction, calls this instance's watchers in a microtask,
 *   then PUBLISHes `{ origin, seq, type, action }` on the channel. Instances skip their own
 *   origin, so a watcher sees each change once.
 * - Every instance subscribes when it opens (so `watch` starts at once, with nothing to wait
 *   for) and keeps a set of the change numbers it has seen.
 * - Redis pub/sub delivers at most once, so the change log is the safety net: when the
 *   subscriber reconnects (Redis restarted, the connection dropped) ioredis resubscribes and
 *   the instance reads the change log since shortly before it last read it, notifying its
 *   watchers of every change it has not seen. The same catch-up also runs every
 *   `reconcileMs` (5 s), which covers a PUBLISH that failed while subscribers stayed connected.
 * - `active(now)` reads PostgreSQL (the partial index `actions_in_force`).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Clock, EnforcementAction, EnforcementChange, EnforcementState } from '../../core/index.js';
import { ConfigError, UnavailableError, systemClock } from '../../core/index.js';
import { timeMs } from '../embedded/sqlite.js';
import { migratePostgres } from './migrations.js';
import { checkSchemaName, ident, poolFrom, q, tx, unavailable } from './pg.js';
import { actionValues, activeActionsSql, pgActionFromRow, upsertActionSql } from './postgres-store.js';
import { openRedis, type RedisClient, type RedisConnectOptions } from './redis.js';

export interface ClusterEnforcementStateOptions {
  /** The PostgreSQL pool (shared with the state store) or a connection string. */
  pg: pg.Pool | string;
  /** The PostgreSQL schema holding Warden's tables. Default `public`. */
  schema?: string;
  /** `redis://host:port`. */
  redisUrl: string;
  /** Pub/sub channel. Default `warden:enforcement:<schema>`. */
  channel?: string;
  /** Run the migrations on open (default true). */
  migrate?: boolean;
  /** How often the change log is read in case a published change was lost. Default 5 s. */
  reconcileMs?: number;
  /**
   * How far before its last read an instance reads the change log again (a change is logged
   * at insert time but becomes visible at commit). Default 30 s.
   */
  overlapMs?: number;
  /** How long change-log rows are kept. Default 1 h. */
  keepChangesMs?: number;
  /** Redis connection timings. */
  redis?: Omit<RedisConnectOptions, 'url'>;
  clock?: Clock;
}

interface WireChange {
  o: string;
  s: number;
  t: EnforcementChange['type'];
  a: EnforcementAction;
}

/** Opens the scaled-out enforcement state; fails at once, naming the server, when PostgreSQL or Redis is unreachable. */
export async function openClusterEnforcementState(opts: ClusterEnforcementStateOptions): Promise<EnforcementState> {
  const schemaName = checkSchemaName(opts.schema ?? 'public');
  const s = ident(schemaName);
  const channel = opts.channel ?? `warden:enforcement:${schemaName}`;
  const reconcileMs = opts.reconcileMs ?? 5000;
  const overlapMs = opts.overlapMs ?? 30_000;
  const keepChangesMs = opts.keepChangesMs ?? 3_600_000;
  for (const [name, v] of [
    ['reconcileMs', reconcileMs],
    ['overlapMs', overlapMs],
    ['keepChangesMs', keepChangesMs],
  ] as const) {
    if (!(v > 0)) throw new ConfigError('CONFIG_INVALID', `enforcement.${name}: expected a positive number, got ${v}.`);
  }
  const clock = opts.clock ?? systemClock;
  const origin = randomUUID();
  const { pool, owns } = await poolFrom(
    typeof opts.pg === 'string' ? { connectionString: opts.pg, maxConnections: 4 } : { pool: opts.pg },
    'openClusterEnforcementState',
  );

  let publisher: RedisClient | undefined;
  let subscriber: RedisClient | undefined;
  const cleanup = async () => {
    publisher?.disconnect();
    subscriber?.disconnect();
    if (owns) await pool.end().catch(() => {});
  };
  try {
    if (opts.migrate !== false) await migratePostgres(pool, { schema: schemaName });
    publisher = await openRedis({ ...opts.redis, url: opts.redisUrl }, 'enforcement publisher');
    subscriber = await openRedis({ ...opts.redis, url: opts.redisUrl }, 'enforcement subscriber', `warden-enforcement-${schemaName}-${origin}`);
  } catch (err) {
    await cleanup();
    if (err instanceof UnavailableError || err instanceof ConfigError) throw err;
    unavailable(err, pool);
  }
  const pub = publisher;
  const sub = subscriber;

  const listeners = new Set<(c: EnforcementChange) => void>();
  /** Change numbers already notified (or our own), with when they were seen, for the catch-up. */
  const seen = new Map<number, number>();
  let cursor: Date | undefined;
  let closed = false;
  let lastPrune = 0;
  const publishing = new Set<Promise<unknown>>();

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

  function receive(seq: number, from: string, change: EnforcementChange): void {
    if (seen.has(seq)) return;
    seen.set(seq, clock.now());
    if (from !== origin) emit(change);
  }

  /** Reads the change log from shortly before the last read; `prime` only marks what is there as seen. */
  let reconciling: Promise<void> | undefined;
  function reconcile(prime = false): Promise<void> {
    if (closed) return Promise.resolve();
    reconciling ??= (async () => {
      try {
        const started = (await q<{ t: Date }>(pool, 'SELECT clock_timestamp() AS t')).rows[0]!.t;
        const since = cursor ? new Date(cursor.getTime() - overlapMs) : new Date(started.getTime() - overlapMs);
        const rows = (
          await q<{ seq: number; type: EnforcementChange['type']; action: string; origin: string }>(
            pool,
            `SELECT seq, type, action, origin FROM ${s}.enforcement_changes WHERE at > $1 ORDER BY seq`,
            [since],
          )
        ).rows;
        for (const r of rows) {
          if (prime) seen.set(r.seq, clock.now());
          else receive(r.seq, r.origin, { type: r.type, action: JSON.parse(r.action) as EnforcementAction });
        }
        cursor = started;
        // Forget what can no longer come back in a catch-up window.
        const horizon = clock.now() - 2 * overlapMs - reconcileMs;
        for (const [seq, at] of seen) if (at < horizon) seen.delete(seq);
      } finally {
        reconciling = undefined;
      }
    })();
    return reconciling;
  }

  sub.on('message', (ch: string, text: string) => {
    if (ch !== channel || closed) return;
    let w: WireChange;
    try {
      w = JSON.parse(text) as WireChange;
    } catch {
      return; // Not ours: the change log still has every change.
    }
    if (typeof w.s !== 'number' || (w.t !== 'put' && w.t !== 'reverse')) return;
    receive(w.s, w.o, { type: w.t, action: w.a });
  });
  sub.on('ready', () => {
    // Opening made the client ready before this listener existed: this is a reconnection.
    // ioredis resubscribes right after emitting 'ready'; the PING's reply comes after the
    // SUBSCRIBE's, so from then on every change is either published to us or already in the log.
    setImmediate(() => {
      void sub
        .ping()
        .catch(() => {})
        .then(() => reconcile())
        .catch(() => {});
    });
  });

  try {
    await sub.subscribe(channel);
    await reconcile(true);
  } catch (err) {
    await cleanup();
    unavailable(err, pool);
  }
  const timer = setInterval(() => void reconcile().catch(() => {}), reconcileMs);
  timer.unref();

  const upsertAction = upsertActionSql(s);
  const activeSql = activeActionsSql(s);

  return {
    async apply(change) {
      if (closed) throw new UnavailableError('The enforcement state is closed; open it again.');
      if (change.type !== 'put' && change.type !== 'reverse') {
        throw new ConfigError(
          'CONFIG_INVALID',
          `enforcement change: expected type "put" or "reverse", got "${String((change as { type: unknown }).type)}".`,
        );
      }
      const now = clock.now();
      let action = structuredClone(change.action);
      if (change.type === 'reverse' && action.reversed_at === undefined) {
        action = { ...action, reversed_at: new Date(now).toISOString() };
      }
      timeMs(action.created_at, 'action.created_at');
      let seq: number;
      try {
        seq = await tx(pool, async (c) => {
          await q(c, upsertAction, actionValues(action));
          const r = await q<{ seq: number }>(
            c,
            `INSERT INTO ${s}.enforcement_changes (type, action, origin) VALUES ($1, $2::jsonb, $3) RETURNING seq`,
            [change.type, JSON.stringify(action), origin],
          );
          if (now - lastPrune > 60_000) {
            lastPrune = now;
            await q(c, `DELETE FROM ${s}.enforcement_changes WHERE at < clock_timestamp() - $1::interval`, [
              `${Math.ceil(keepChangesMs / 1000)} seconds`,
            ]);
          }
          return r.rows[0]!.seq;
        });
      } catch (err) {
        unavailable(err, pool);
      }
      seen.set(seq, clock.now());
      emit({ type: change.type, action });
      // Stored is what counts: if Redis is away the other instances catch up from the log.
      const wire: WireChange = { o: origin, s: seq, t: change.type, a: action };
      const p = pub.publish(channel, JSON.stringify(wire)).catch(() => {});
      publishing.add(p);
      void p.finally(() => publishing.delete(p));
    },
    async active(now) {
      if (closed) throw new UnavailableError('The enforcement state is closed; open it again.');
      try {
        return (await q(pool, activeSql, [timeMs(now, 'now')])).rows.map(pgActionFromRow);
      } catch (err) {
        unavailable(err, pool);
      }
    },
    watch(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      listeners.clear();
      await Promise.all([...publishing]);
      await reconciling?.catch(() => {});
      await sub.quit().catch(() => sub.disconnect());
      await pub.quit().catch(() => pub.disconnect());
      if (owns) await pool.end().catch(() => {});
    },
  };
}

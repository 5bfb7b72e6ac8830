/**
 * `SqliteBus`: the embedded `EventBus`, a durable log in SQLite with in-process delivery.
 *
 * - `bus_messages` is the log: a sequence number per message and a unique id per topic, so a
 *   repeated publish is a no-op (for `dedupWindowMs`, 24 h by default, after which an id that
 *   every group has processed may be accepted again).
 * - `bus_groups` holds each consumer group's cursor: the highest sequence number handed out.
 * - `bus_pending` holds one row per message delivered to a group and not yet acked: in flight
 *   (with a lease of `ackWaitMs`), waiting for redelivery after `nak`, or parked after `term`.
 *
 * Claiming is a short write transaction, so consumers in several processes sharing the file
 * never get the same message; within one process a publish wakes the consumers at once, and
 * every `pollMs` each consumer also looks for messages published by other processes and for
 * leases that ran out. After a crash, messages a dead process held in flight are redelivered
 * as soon as the bus is opened again (the owner's pid is checked), otherwise after `ackWaitMs`.
 *
 * `consume(group, handle, { batch })`: `batch` (default 1) is the most deliveries one consumer
 * holds unsettled at a time, like JetStream's `max_ack_pending`. Handlers are called
 * concurrently up to that number, started in publish order; with 1 they run one at a time in
 * publish order. A handler that throws gets its message redelivered after `errorDelayMs`; one
 * that resolves without a verb keeps the message in flight (to ack it later) until its lease
 * ends.
 */
import { randomUUID } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import type { Clock, Consumer, Delivery, EventBus } from '../../core/index.js';
import { ConfigError, UnavailableError, systemClock } from '../../core/index.js';
import { GroupCommit, migrate, openDatabase, type Migration, type SqliteDatabase, type SqliteSynchronous } from './sqlite.js';

export const BUS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'message log, group cursors, pending deliveries',
    up(db) {
      db.exec(`
CREATE TABLE bus_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  msg_id TEXT NOT NULL,
  -- NULL once every group has acked it (the row stays for de-duplication until the window ends)
  data TEXT,
  published_at INTEGER NOT NULL,
  UNIQUE (topic, msg_id)
);
CREATE INDEX bus_messages_topic_seq ON bus_messages (topic, seq);
CREATE TABLE bus_groups (
  topic TEXT NOT NULL,
  grp TEXT NOT NULL,
  cursor INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (topic, grp)
);
CREATE TABLE bus_pending (
  topic TEXT NOT NULL,
  grp TEXT NOT NULL,
  seq INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('inflight', 'waiting', 'parked')),
  -- inflight: when the lease ends; waiting: when it may be redelivered
  due_at INTEGER NOT NULL,
  owner TEXT,
  reason TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (topic, grp, seq)
);
CREATE INDEX bus_pending_due ON bus_pending (topic, grp, state, due_at);`);
    },
  },
];

export interface SqliteBusOptions {
  /** A file path, or `':memory:'`. Ignored when `db` is given. */
  path?: string;
  /** An open database to share (the bus then leaves it open on close). */
  db?: SqliteDatabase;
  synchronous?: SqliteSynchronous;
  topic: string;
  /** A delivery neither acked, naked nor termed within this time is redelivered. Default 30 s. */
  ackWaitMs?: number;
  /** Redelivery delay when the handler throws (or rejects) without calling a verb. Default 1 s. */
  errorDelayMs?: number;
  /** After this many deliveries a message is parked instead of redelivered. Default: no limit. */
  maxAttempts?: number;
  /** How often consumers look for messages from other processes and for expired leases. Default 250 ms. */
  pollMs?: number;
  /** How long a processed message id is remembered for de-duplication. Default 24 h. */
  dedupWindowMs?: number;
  /** Run `compact()` this often; 0 turns it off. Default 60 s. */
  compactEveryMs?: number;
  /** How long `close()` waits for running handlers before releasing their messages. Default 5 s. */
  closeTimeoutMs?: number;
  clock?: Clock;
}

export interface ParkedMessage<T> {
  id: string;
  data: T;
  attempt: number;
  reason: string;
  parked_at: number;
}

export interface SqliteBus<T> extends EventBus<T> {
  readonly topic: string;
  /**
   * Retention: drops the payload of every message all groups have acked (parked ones are
   * kept) and deletes the rows once `dedupWindowMs` has passed. Returns how many payloads
   * were dropped. Groups that no longer consume should be removed with `deleteGroup`, or
   * they hold retention back.
   */
  compact(): Promise<number>;
  /** Messages a group parked with `term` (or after `maxAttempts`), oldest first. */
  parked(group: string): Promise<ParkedMessage<T>[]>;
  /** Forgets a group: its cursor, pending and parked messages. */
  deleteGroup(group: string): Promise<void>;
}

interface Claimed {
  seq: number;
  id: string;
  data: string;
  attempt: number;
  leaseUntil: number;
}

// Live bus instances of this process, so a restart can tell our own leases from a dead one's.
const liveInstances = new Set<string>();
// Consumers per (database file, topic) in this process: a publish wakes them without polling.
const wakers = new Map<string, Set<() => void>>();
const memoryKeys = new WeakMap<SqliteDatabase, string>();

function fileKey(db: SqliteDatabase): string {
  if (db.memory) {
    let k = memoryKeys.get(db);
    if (!k) memoryKeys.set(db, (k = `memory:${randomUUID()}`));
    return k;
  }
  return resolvePath(db.name);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function positive(name: string, v: number | undefined, dflt: number, allowZero = false): number {
  const x = v ?? dflt;
  if (!(Number.isFinite(x) || x === Infinity) || x < 0 || (!allowZero && x === 0)) {
    throw new ConfigError('CONFIG_INVALID', `bus.${name}: expected a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(v)}.`);
  }
  return x;
}

/** Opens the durable bus for one topic. */
export function openSqliteBus<T>(opts: SqliteBusOptions): SqliteBus<T> {
  if (typeof opts.topic !== 'string' || opts.topic === '') {
    throw new ConfigError('CONFIG_INVALID', 'bus.topic: expected a non-empty topic name such as "usage".');
  }
  const topic = opts.topic;
  const ackWaitMs = positive('ackWaitMs', opts.ackWaitMs, 30_000);
  const errorDelayMs = positive('errorDelayMs', opts.errorDelayMs, 1_000, true);
  const maxAttempts = positive('maxAttempts', opts.maxAttempts, Infinity);
  const pollMs = positive('pollMs', opts.pollMs, 250);
  const dedupWindowMs = positive('dedupWindowMs', opts.dedupWindowMs, 86_400_000, true);
  const compactEveryMs = positive('compactEveryMs', opts.compactEveryMs, 60_000, true);
  const closeTimeoutMs = positive('closeTimeoutMs', opts.closeTimeoutMs, 5_000, true);
  const clock = opts.clock ?? systemClock;

  const ownsDb = opts.db === undefined;
  const db = opts.db ?? openDatabase({ path: opts.path ?? '', synchronous: opts.synchronous });
  migrate(db, 'bus', BUS_MIGRATIONS);
  const instance = randomUUID();
  const owner = `${process.pid}:${instance}`;
  liveInstances.add(instance);
  const writes = new GroupCommit(db, `bus "${topic}"`);
  const wakeKey = `${fileKey(db)}\u0000${topic}`;

  const s = {
    publish: db.prepare('INSERT OR IGNORE INTO bus_messages (topic, msg_id, data, published_at) VALUES (?, ?, ?, ?)'),
    ensureGroup: db.prepare('INSERT OR IGNORE INTO bus_groups (topic, grp, cursor, created_at) VALUES (?, ?, 0, ?)'),
    cursor: db.prepare('SELECT cursor FROM bus_groups WHERE topic = ? AND grp = ?').pluck(),
    setCursor: db.prepare('UPDATE bus_groups SET cursor = ? WHERE topic = ? AND grp = ?'),
    anyDue: db
      .prepare("SELECT 1 FROM bus_pending WHERE topic = ? AND grp = ? AND state IN ('inflight', 'waiting') AND due_at <= ? LIMIT 1")
      .pluck(),
    anyNew: db
      .prepare('SELECT 1 FROM bus_messages WHERE topic = ? AND seq > (SELECT cursor FROM bus_groups WHERE topic = ? AND grp = ?) LIMIT 1')
      .pluck(),
    due: db.prepare(
      `SELECT p.seq, p.attempt, p.reason, m.msg_id, m.data FROM bus_pending p JOIN bus_messages m ON m.seq = p.seq
       WHERE p.topic = ? AND p.grp = ? AND p.state IN ('inflight', 'waiting') AND p.due_at <= ? ORDER BY p.seq LIMIT ?`,
    ),
    fresh: db.prepare('SELECT seq, msg_id, data FROM bus_messages WHERE topic = ? AND seq > ? ORDER BY seq LIMIT ?'),
    lease: db.prepare(
      "UPDATE bus_pending SET state = 'inflight', attempt = ?, due_at = ?, owner = ?, updated_at = ? WHERE topic = ? AND grp = ? AND seq = ?",
    ),
    insertPending: db.prepare(
      "INSERT INTO bus_pending (topic, grp, seq, attempt, state, due_at, owner, updated_at) VALUES (?, ?, ?, 1, 'inflight', ?, ?, ?)",
    ),
    park: db.prepare(
      "UPDATE bus_pending SET state = 'parked', reason = ?, owner = NULL, updated_at = ? WHERE topic = ? AND grp = ? AND seq = ? AND attempt = ? AND state = 'inflight'",
    ),
    giveUp: db.prepare(
      "UPDATE bus_pending SET state = 'parked', reason = ?, owner = NULL, updated_at = ? WHERE topic = ? AND grp = ? AND seq = ?",
    ),
    ack: db.prepare("DELETE FROM bus_pending WHERE topic = ? AND grp = ? AND seq = ? AND state != 'parked'"),
    nak: db.prepare(
      "UPDATE bus_pending SET state = 'waiting', due_at = ?, owner = NULL, reason = ?, updated_at = ? WHERE topic = ? AND grp = ? AND seq = ? AND attempt = ? AND state = 'inflight'",
    ),
    pendingNew: db
      .prepare(
        'SELECT count(*) FROM bus_messages WHERE topic = ? AND data IS NOT NULL AND seq > (SELECT cursor FROM bus_groups WHERE topic = ? AND grp = ?)',
      )
      .pluck(),
    pendingOld: db.prepare("SELECT count(*) FROM bus_pending WHERE topic = ? AND grp = ? AND state != 'parked'").pluck(),
    owners: db.prepare("SELECT DISTINCT owner FROM bus_pending WHERE topic = ? AND state = 'inflight' AND owner IS NOT NULL").pluck(),
    release: db.prepare(
      "UPDATE bus_pending SET state = 'waiting', due_at = 0, owner = NULL WHERE topic = ? AND state = 'inflight' AND owner = ?",
    ),
  };

  // Leases held by a process that is gone (or a closed instance of this one) are due now.
  db.transaction(() => {
    for (const o of s.owners.all(topic) as string[]) {
      const [pidText, inst] = o.split(':');
      const pid = Number(pidText);
      const dead = pid === process.pid ? !liveInstances.has(inst ?? '') : !pidAlive(pid);
      if (dead) s.release.run(topic, o);
    }
  })();

  const claimTx = db.transaction((group: string, max: number, now: number): Claimed[] => {
    const out: Claimed[] = [];
    const leaseUntil = now + ackWaitMs;
    for (const r of s.due.all(topic, group, now, max) as {
      seq: number;
      attempt: number;
      reason: string | null;
      msg_id: string;
      data: string | null;
    }[]) {
      const attempt = r.attempt + 1;
      if (attempt > maxAttempts || r.data === null) {
        s.giveUp.run(`gave up after ${r.attempt} attempts${r.reason ? `: ${r.reason}` : ''}`, now, topic, group, r.seq);
        continue;
      }
      s.lease.run(attempt, leaseUntil, owner, now, topic, group, r.seq);
      out.push({ seq: r.seq, id: r.msg_id, data: r.data, attempt, leaseUntil });
    }
    if (out.length < max) {
      const cursor = s.cursor.get(topic, group) as number | undefined;
      if (cursor === undefined) return out;
      let last = cursor;
      for (const r of s.fresh.all(topic, cursor, max - out.length) as { seq: number; msg_id: string; data: string | null }[]) {
        last = r.seq;
        if (r.data === null) continue; // compacted before this group existed
        s.insertPending.run(topic, group, r.seq, leaseUntil, owner, now);
        out.push({ seq: r.seq, id: r.msg_id, data: r.data, attempt: 1, leaseUntil });
      }
      if (last !== cursor) s.setCursor.run(last, topic, group);
    }
    return out;
  });

  function claim(group: string, max: number): Claimed[] {
    const now = clock.now();
    // A read first: an idle consumer polling must not take the write lock.
    if (!s.anyDue.get(topic, group, now) && !s.anyNew.get(topic, topic, group)) return [];
    return claimTx.immediate(group, max, now);
  }

  let closed = false;
  const consumers = new Set<SqliteConsumer>();
  const handlersRunning = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    t.unref();
    timers.add(t);
  }

  function wakeGroup(group: string): void {
    for (const c of consumers) if (c.group === group) c.pump();
  }

  class SqliteConsumer implements Consumer {
    private stopped = false;
    /** Deliveries handed to the handler and not yet settled (`seq:attempt` → lease end). */
    private readonly inflight = new Map<string, number>();
    private readonly wake = () => this.pump();
    private readonly poll: NodeJS.Timeout;

    constructor(
      readonly group: string,
      private readonly handle: (d: Delivery<T>) => Promise<void>,
      private readonly batch: number,
    ) {
      s.ensureGroup.run(topic, group, clock.now());
      let set = wakers.get(wakeKey);
      if (!set) wakers.set(wakeKey, (set = new Set()));
      set.add(this.wake);
      this.poll = setInterval(this.wake, pollMs);
      this.poll.unref();
      setImmediate(this.wake);
    }

    pump(): void {
      if (this.stopped || closed) return;
      const now = clock.now();
      // A delivery whose lease ran out no longer holds a slot (it will be redelivered).
      for (const [k, until] of this.inflight) if (until <= now) this.inflight.delete(k);
      const free = this.batch - this.inflight.size;
      if (free <= 0) return;
      let claimed: Claimed[];
      try {
        claimed = claim(this.group, free);
      } catch {
        return; // SQLITE_BUSY from another process: the next poll retries.
      }
      for (const c of claimed) {
        this.inflight.set(`${c.seq}:${c.attempt}`, c.leaseUntil);
        this.dispatch(c);
      }
    }

    private settle(c: Claimed): void {
      this.inflight.delete(`${c.seq}:${c.attempt}`);
    }

    private dispatch(c: Claimed): void {
      let settled = false;
      const group = this.group;
      const once = (verb: () => void, after?: () => void): Promise<void> => {
        if (settled) return Promise.resolve();
        settled = true;
        this.settle(c);
        return writes.enqueue(verb).then(() => {
          if (after) after();
          else setImmediate(this.wake);
        });
      };
      let lastError: string | null = null;
      let data: T;
      try {
        data = JSON.parse(c.data) as T;
      } catch (err) {
        void once(() => s.park.run(`undecodable payload: ${(err as Error).message}`, clock.now(), topic, group, c.seq, c.attempt)).catch(
          () => undefined,
        );
        return;
      }
      const delivery: Delivery<T> = {
        data,
        id: c.id,
        attempt: c.attempt,
        ack: () => once(() => s.ack.run(topic, group, c.seq)),
        nak: (delayMs = 0) => {
          const delay = Math.max(0, delayMs);
          return once(
            () => s.nak.run(clock.now() + delay, lastError, clock.now(), topic, group, c.seq, c.attempt),
            () => (delay === 0 ? wakeGroup(group) : later(delay, () => wakeGroup(group))),
          );
        },
        term: (reason: string) => once(() => s.park.run(String(reason), clock.now(), topic, group, c.seq, c.attempt)),
      };
      const run = Promise.resolve()
        .then(() => this.handle(delivery))
        .then(undefined, (err: unknown) => {
          lastError = err instanceof Error ? err.message : String(err);
          if (!settled && !closed) return delivery.nak(errorDelayMs).catch(() => undefined);
          return undefined;
        })
        .finally(() => handlersRunning.delete(run));
      handlersRunning.add(run);
    }

    async pending(): Promise<number> {
      if (closed) throw new UnavailableError(`The bus "${topic}" is closed; open it again.`);
      return (s.pendingNew.get(topic, topic, this.group) as number) + (s.pendingOld.get(topic, this.group) as number);
    }

    async close(): Promise<void> {
      if (this.stopped) return;
      this.stopped = true;
      clearInterval(this.poll);
      wakers.get(wakeKey)?.delete(this.wake);
      consumers.delete(this);
    }
  }

  const compactTx = db.transaction((now: number): number => {
    const minCursor = db.prepare('SELECT min(cursor) FROM bus_groups WHERE topic = ?').pluck().get(topic) as number | null;
    if (minCursor === null) return 0;
    const freed = db
      .prepare(
        `UPDATE bus_messages SET data = NULL WHERE topic = ? AND seq <= ? AND data IS NOT NULL
         AND seq NOT IN (SELECT seq FROM bus_pending WHERE topic = ?)`,
      )
      .run(topic, minCursor, topic).changes;
    db.prepare(
      `DELETE FROM bus_messages WHERE topic = ? AND seq <= ? AND data IS NULL AND published_at < ?
       AND seq NOT IN (SELECT seq FROM bus_pending WHERE topic = ?)`,
    ).run(topic, minCursor, now - dedupWindowMs, topic);
    return freed;
  });

  const compactTimer =
    compactEveryMs > 0
      ? setInterval(() => {
          try {
            compactTx.immediate(clock.now());
          } catch {
            // Busy: the next round retries.
          }
        }, compactEveryMs)
      : undefined;
  compactTimer?.unref();

  const ensureOpen = () => {
    if (closed) throw new UnavailableError(`The bus "${topic}" is closed; open it again.`);
  };

  const bus: SqliteBus<T> = {
    topic,
    async publish(message, id) {
      ensureOpen();
      if (typeof id !== 'string' || id === '') {
        throw new ConfigError('CONFIG_INVALID', 'bus.publish: expected a non-empty message id (use the event_id).');
      }
      const data = JSON.stringify(message) as string | undefined;
      if (data === undefined) {
        throw new ConfigError('CONFIG_INVALID', `bus.publish ${id}: the message must be a JSON value (got ${typeof message}).`);
      }
      const added = await writes.enqueue(() => s.publish.run(topic, id, data, clock.now()).changes);
      if (added > 0) for (const wake of wakers.get(wakeKey) ?? []) wake();
    },
    consume(group, handle, o = {}) {
      ensureOpen();
      const batch = Math.floor(o.batch ?? 1);
      if (!(batch >= 1)) throw new ConfigError('CONFIG_INVALID', `consume batch: expected an integer ≥ 1, got ${String(o.batch)}.`);
      const c = new SqliteConsumer(group, handle, batch);
      consumers.add(c);
      return c;
    },
    async compact() {
      ensureOpen();
      return compactTx.immediate(clock.now());
    },
    async parked(group) {
      ensureOpen();
      const rows = db
        .prepare(
          `SELECT m.msg_id, m.data, p.attempt, p.reason, p.updated_at FROM bus_pending p JOIN bus_messages m ON m.seq = p.seq
           WHERE p.topic = ? AND p.grp = ? AND p.state = 'parked' ORDER BY p.seq`,
        )
        .all(topic, group) as { msg_id: string; data: string; attempt: number; reason: string; updated_at: number }[];
      return rows.map((r) => ({
        id: r.msg_id,
        data: JSON.parse(r.data) as T,
        attempt: r.attempt,
        reason: r.reason,
        parked_at: r.updated_at,
      }));
    },
    async deleteGroup(group) {
      ensureOpen();
      for (const c of [...consumers]) if (c.group === group) await c.close();
      db.transaction(() => {
        db.prepare('DELETE FROM bus_pending WHERE topic = ? AND grp = ?').run(topic, group);
        db.prepare('DELETE FROM bus_groups WHERE topic = ? AND grp = ?').run(topic, group);
      })();
    },
    async close() {
      if (closed) return;
      for (const c of [...consumers]) await c.close();
      // Let running handlers finish (and ack) before the connection goes.
      if (handlersRunning.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...handlersRunning]),
          new Promise((r) => {
            timer = setTimeout(r, closeTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      closed = true;
      writes.close();
      for (const t of timers) clearTimeout(t);
      if (compactTimer) clearInterval(compactTimer);
      // Whatever is still in flight goes back to the group at once for the next opener.
      s.release.run(topic, owner);
      liveInstances.delete(instance);
      if (ownsDb) db.close();
    },
  };
  return bus;
}

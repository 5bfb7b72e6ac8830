/**
 * Fault tests (run last, serialized: they stop this machine's services). A gateway on the
 * cluster profile serves traffic while Redis, NATS and PostgreSQL are each restarted: it keeps
 * answering as docs/scale-out.md says (fail-open counters and risk; cached keys keep working),
 * and once the service is back every response a client received has its event in PostgreSQL,
 * reconciled by event id.
 */
import { execFileSync, execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/harness.js';

const PG_VERSION = readdirSync('/etc/postgresql')[0]!;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
async function waitPort(port: number, open: boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await portOpen(port)) === open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not become ${open ? 'open' : 'closed'} within ${timeoutMs} ms`);
}

const SERVICES = {
  redis: {
    port: 6379,
    stop: () => execSync('redis-cli -h 127.0.0.1 -p 6379 shutdown nosave || true', { stdio: 'ignore' }),
    start: () => execSync('redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no', { stdio: 'ignore' }),
  },
  nats: {
    port: 4222,
    stop: () => execSync('start-stop-daemon --stop --oknodo --retry 10 --exec /usr/sbin/nats-server', { stdio: 'ignore' }),
    start: () => execSync('start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server', { stdio: 'ignore' }),
  },
  postgres: {
    port: 5432,
    stop: () => execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', PG_VERSION, 'main', 'stop', '-m', 'fast'], { stdio: 'ignore' }),
    start: () => execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', PG_VERSION, 'main', 'start'], { stdio: 'ignore' }),
  },
} as const;

async function ensureAllRunning(): Promise<void> {
  for (const s of Object.values(SERVICES)) {
    if (!(await portOpen(s.port))) {
      s.start();
      await waitPort(s.port, true);
    }
  }
}

const id = randomUUID().slice(0, 8);
const cluster = { schema: `wf_${id}`, redis_prefix: `wf:${id}`, stream: `WF_${id}`, subject_prefix: `wf.${id}`, partitions: 2 };
const POLICY = `
format: 1
name: faults
rules:
  - id: enforcement-block
    when: { field: enforcement.decision, equals: block }
    decide: block
limits:
  - id: key-default
    scope: key
    requests_per_minute: 100000
`;

interface Traffic {
  statuses: Map<number, number>;
  completed: Set<string>;
  stop(): Promise<void>;
}

/** Sends requests on `concurrency` loops until stopped; records each status and completed id. */
function traffic(h: Harness, key: string, concurrency = 4): Traffic {
  const statuses = new Map<number, number>();
  const completed = new Set<string>();
  let running = true;
  const loops = Array.from({ length: concurrency }, async (_, w) => {
    let i = 0;
    while (running) {
      try {
        const res = await fetch(`${h.url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key },
          body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 20, stream: i % 2 === 0, messages: [{ role: 'user', content: `fault test ${w}:${i++}` }] }),
        });
        const rid = res.headers.get('request-id');
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200 && rid) completed.add(rid);
      } catch {
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  return {
    statuses,
    completed,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function storedIds(pool: pg.Pool, ids: Set<string>): Promise<Set<string>> {
  const r = await pool.query<{ event_id: string }>(`SELECT event_id FROM ${cluster.schema}.events WHERE event_id = ANY($1)`, [[...ids]]);
  return new Set(r.rows.map((x) => x.event_id));
}

async function expectAllStored(pool: pg.Pool, ids: Set<string>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let stored = new Set<string>();
  while (Date.now() < until) {
    try {
      stored = await storedIds(pool, ids);
      if (stored.size === ids.size) return;
    } catch {
      /* PostgreSQL still starting */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const missing = [...ids].filter((x) => !stored.has(x));
  expect(missing, `${missing.length} of ${ids.size} acknowledged responses have no event in PostgreSQL`).toEqual([]);
}

describe.sequential('the cluster profile through service restarts', () => {
  let h: Harness;
  let key: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    await ensureAllRunning();
    h = await startHarness({ policy: POLICY, cluster });
    key = (await h.customer()).key;
    pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    pool.on('error', () => undefined);
  }, 120_000);

  afterAll(async () => {
    await ensureAllRunning();
    await h?.close();
    await pool?.query(`DROP SCHEMA IF EXISTS ${cluster.schema} CASCADE`).catch(() => undefined);
    await pool?.end();
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${cluster.redis_prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    const nc = await connect({ servers: '127.0.0.1:4222' });
    await (await jetstreamManager(nc)).streams.delete(cluster.stream).catch(() => undefined);
    await nc.close();
  }, 120_000);

  for (const name of ['redis', 'nats', 'postgres'] as const) {
    it(`keeps answering while ${name} restarts, and loses no acknowledged event`, async () => {
      const t = traffic(h, key);
      await new Promise((r) => setTimeout(r, 1000));
      const before = t.statuses.get(200) ?? 0;
      SERVICES[name].stop();
      await waitPort(SERVICES[name].port, false);
      await new Promise((r) => setTimeout(r, 2000));
      const during = (t.statuses.get(200) ?? 0) - before;
      SERVICES[name].start();
      await waitPort(SERVICES[name].port, true);
      await new Promise((r) => setTimeout(r, 2000));
      await t.stop();
      // Traffic went on while the service was down: counters and risk fail open, keys are cached,
      // and usage events wait in the local outbox or are redelivered from the stream.
      expect(during, `200s while ${name} was down; statuses ${JSON.stringify([...t.statuses])}`).toBeGreaterThan(5);
      const failed = [...t.statuses].filter(([s]) => s !== 200).reduce((a, [, n]) => a + n, 0);
      expect(failed / (failed + (t.statuses.get(200) ?? 0)), `statuses ${JSON.stringify([...t.statuses])}`).toBeLessThan(0.05);
      await expectAllStored(pool, t.completed);
    }, 180_000);
  }
});

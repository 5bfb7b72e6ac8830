/**
 * Gateways and detection workers together on this machine's services, the workers as real
 * `warden worker` child processes: stopping the workers (SIGSTOP) does not slow the gateway, the
 * lag shows in the gateway's metrics and drains when they resume (SIGCONT); and a linked
 * campaign sent through two gateways is flagged by the workers' leader with risk and a case.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/harness.js';
import { dropCluster, spawnWorker, stopChild, uniqueCluster, waitFor, writeWorkerConfig, type WorkerChild } from './worker-fixtures.js';

const cluster = uniqueCluster('wcl', 4);
const POLICY = `
format: 1
name: worker-cluster-test
rules:
  - id: enforcement-block
    when: { field: enforcement.decision, equals: block }
    decide: block
limits:
  - id: key-default
    scope: key
    requests_per_minute: 100000
`;

async function gatewayMetric(h: Harness, name: string): Promise<number | null> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

async function workerStatus(w: WorkerChild): Promise<{ leader: boolean; owned: number[]; partitions: { committed: number; last: number }[] }> {
  return (await (await fetch(`${w.metricsUrl}/status`)).json()) as never;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('gateways with detection workers (child processes)', () => {
  let dir: string;
  let a: Harness;
  let b: Harness;
  const workers: WorkerChild[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'warden-worker-cluster-'));
    a = await startHarness({ policy: POLICY, cluster });
    b = await startHarness({ policy: POLICY, cluster });
    const config = writeWorkerConfig(dir, cluster, { batch_size: 64, linger_ms: 20, lease_ttl_ms: 3000, evaluate_every_ms: 1000 }, { log: { level: 'info' } });
    const started = await Promise.allSettled([spawnWorker(config, 'cl-w1', [], 240_000), spawnWorker(config, 'cl-w2', [], 240_000)]);
    for (const s of started) if (s.status === 'fulfilled') workers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    await waitFor('both workers holding partitions', async () => {
      const s = await Promise.all(workers.map(workerStatus));
      return s.every((x) => x.owned.length > 0) && s.reduce((n, x) => n + x.owned.length, 0) === cluster.partitions;
    });
  }, 300_000);

  afterAll(async () => {
    for (const w of workers) {
      w.child.kill('SIGCONT');
      await stopChild(w.child);
    }
    await a?.close();
    await b?.close();
    await dropCluster(cluster);
    const redis = new Redis(cluster.redis_url);
    const keys = await redis.keys(`${cluster.redis_prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('keeps gateway latency while the workers are stopped, shows the lag, and drains it on resume', async () => {
    const c = await a.customer();
    const ask = async () => {
      const t0 = performance.now();
      const res = await fetch(`${a.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': c.key },
        body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'back-pressure' }] }),
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      return performance.now() - t0;
    };
    const sample = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(await ask());
      return out;
    };
    await sample(20); // warm-up
    const running = median(await sample(80));
    for (const w of workers) w.child.kill('SIGSTOP');
    try {
      const paused = median(await sample(80));
      // The request path never waits for detection: the ratio stays near 1 (the bound is
      // generous for a shared machine; measured figures are in docs/benchmarks.md).
      expect(paused / running, `median ${paused.toFixed(2)} ms paused vs ${running.toFixed(2)} ms running`).toBeLessThan(3);
      // The events wait in the stream, and the gateway's metrics say so while no worker answers.
      const lag = await waitFor('the detection lag in the gateway metrics', async () => {
        const n = await gatewayMetric(a, 'warden_detection_pending');
        return n !== null && n >= 80 ? n : null;
      }, 30_000);
      expect(lag).toBeGreaterThanOrEqual(80);
    } finally {
      for (const w of workers) w.child.kill('SIGCONT');
    }
    await waitFor('the lag drained', async () => (await gatewayMetric(a, 'warden_detection_pending')) === 0, 60_000);
    const s = await workerStatus(workers[0]!);
    expect(s.partitions.every((p) => p.committed === p.last)).toBe(true);
  }, 240_000);

  it('flags a linked campaign sent through two gateways with risk and a case', async () => {
    const org = await a.admin.call<{ org_id: string }>('POST', '/orgs', { name: 'Harborline Trading Pte Ltd', declared_country: 'SG', verification: 'email', email_domain: 'harborline-trading.example' });
    const accounts: { id: string; key: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const acc = await a.admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, payment_fingerprint: 'pf_7c1e90aa', device_fingerprint: 'df_a03f11', email_domain: 'mailbox.example' });
      const k = await a.admin.call<{ key: string }>('POST', '/keys', { account_id: acc.account_id });
      accounts.push({ id: acc.account_id, key: k.key });
    }
    const system = 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.';
    for (let round = 0; round < 60; round++) {
      await Promise.all(
        accounts.map((acc, i) =>
          new Anthropic({ apiKey: acc.key, baseURL: (round % 2 ? b : a).url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': `47.74.0.${10 + i}` } }).messages.create({
            model: 'claude-sonnet-4-6',
            max_tokens: 20,
            system,
            messages: [{ role: 'user', content: `A farmer has ${round * 4 + i} sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.` }],
          }),
        ),
      );
    }
    const found = await waitFor(
      'a case holding the four accounts',
      async () => {
        const cases = (await b.admin.call<{ cases: { case_id: string; accounts: string[]; clusters: string[] }[] }>('GET', '/cases')).cases;
        return cases.find((c) => accounts.every((x) => c.accounts.includes(x.id))) ?? null;
      },
      90_000,
      500,
    );
    expect(found.clusters.length).toBeGreaterThan(0);
    const risks = await Promise.all(accounts.map((x) => a.server.store.getRisk(x.id)));
    for (const r of risks) expect(r?.risk ?? 0).toBeGreaterThanOrEqual(0.7);
    expect(new Set(risks.map((r) => r?.cluster_id)).size).toBe(1);
  }, 240_000);

  it('fences a worker stopped past its lease: its successor resumes, and every stored event is counted once', async () => {
    const c = await a.customer();
    const c2 = await b.customer();
    const [w1, w2] = workers as [WorkerChild, WorkerChild];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        for (const [h, key] of [[a, c.key], [b, c2.key]] as const) {
          const res = await fetch(`${h.url}/v1/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': key },
            body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: `fence ${i}` }] }),
          });
          await res.arrayBuffer();
        }
      }
    };
    await send(20);
    w1.child.kill('SIGSTOP');
    try {
      // Past the 3 s lease: the other worker takes every partition with a new epoch.
      await waitFor('the other worker holding all partitions', async () => (await workerStatus(w2)).owned.length === cluster.partitions, 30_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\n--- w2 (exit ${w2.child.exitCode ?? w2.child.signalCode}):\n${w2.stderr().slice(-4000)}`);
      });
      await send(20);
    } finally {
      w1.child.kill('SIGCONT');
    }
    // The woken worker finds its leases taken, leaves, and gets its share back by rebalancing.
    await waitFor('the partitions split again', async () => {
      const s = await Promise.all(workers.map(workerStatus));
      return s.every((x) => x.owned.length === cluster.partitions / 2);
    }, 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${workers.map((w) => `--- ${w.child.pid} (exit ${w.child.exitCode ?? w.child.signalCode}):\n${w.stderr().slice(-3000)}`).join('\n')}`);
    });
    await send(10);
    // Per account, the committed features count exactly the events PostgreSQL stored.
    const pool = new pg.Pool({ connectionString: cluster.postgres_url, max: 1 });
    try {
      const ids = [c.accountId, c2.accountId];
      const stored = async () =>
        new Map(
          (await pool.query<{ account_id: string; n: string }>(`SELECT account_id, count(*) AS n FROM ${cluster.schema}.events WHERE account_id = ANY($1) GROUP BY account_id`, [ids])).rows.map((r) => [r.account_id, Number(r.n)]),
        );
      const counted = async () =>
        new Map(
          (await pool.query<{ account_id: string; events: string }>(`SELECT account_id, events FROM ${cluster.schema}.detection_accounts WHERE account_id = ANY($1)`, [ids])).rows.map((r) => [r.account_id, Number(r.events)]),
        );
      await waitFor('both accounts’ 50 events stored and counted', async () => {
        const s = await stored();
        const k = await counted();
        return ids.every((id) => s.get(id) === 50 && k.get(id) === 50);
      }, 60_000);
      expect(await counted()).toEqual(await stored());
    } finally {
      await pool.end();
    }
  }, 240_000);
});

/**
 * Enforcement latency: how long a decided action (block) takes to reach the gateway that
 * serves the blocked key, while a client hammers that gateway with the key.
 *
 * For each trial: a new customer (org, account, key); a client sends small non-streaming
 * `POST /v1/messages` requests with the key at `--concurrency` (default 4) through plain fetch;
 * once every client loop has had a 200, `POST /admin/v1/actions {subject:{kind:'key'}, decision:
 * 'block'}` goes to gateway A. Latency = time from the admin call's start to the first 403 the
 * hammering client receives. Also reported: the admin call's own duration, and as a baseline
 * measured side by side in the same run, the round trip of one small request to the same
 * gateway, alone (sequential) and under the same hammering.
 *
 * Profiles: `embedded` (one Warden, SQLite; the action is posted to and hammered at the same
 * gateway) and `cluster` (two Wardens A and B on PostgreSQL + Redis + NATS; posted to A,
 * hammered at B, so it crosses Redis pub/sub). Everything runs in this one process (the
 * harness of test/e2e), client included.
 *
 *   node --import tsx bench/action-latency.ts [--profile embedded|cluster|both] [--n 50] [--concurrency 4]
 *
 * Results are printed and written to bench/results/action-latency-<timestamp>.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ROOT, startHarness, type Harness } from '../test/e2e/harness.js';
import { quantile } from './lib/stats.js';

const POLICY = `
format: 1
name: action-latency-bench
rules:
  - id: enforcement-block
    when: { field: enforcement.decision, equals: block }
    decide: block
    message: This account is suspended. Contact support to appeal.
`;

const BODY = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
/** A German network: Warden trusts 127.0.0.1 as its load balancer, so the IP lookup runs on a public address. */
const CLIENT_IP = '193.99.144.80';
const TRIAL_TIMEOUT_MS = 5000;
const BASELINE_PER_TRIAL = 3;

type Profile = 'embedded' | 'cluster';

interface Trial {
  /** Admin call start → first 403 received at the hammered gateway, ms; null when none within the timeout. */
  latencyMs: number | null;
  /** The admin call's own duration, ms. */
  adminMs: number;
  /** Admin call start → when the first refused request was sent (negative: sent before the call). */
  refusedSentMs: number | null;
  /** Admin call start → the latest send of a request that was still allowed (200). */
  lastAllowedSentMs: number | null;
  /** Requests sent after the admin call returned that were still allowed (200). */
  allowedAfterAdmin: number;
  /** Responses other than 200 and 403. */
  otherStatuses: number;
}

interface ProfileResult {
  profile: Profile;
  n: number;
  concurrency: number;
  trials: Trial[];
  timeouts: number;
  latency: Summary;
  admin: Summary;
  afterAdmin: Summary;
  refusedSent: Summary;
  baselineIdle: Summary;
  baselineLoaded: Summary;
  histogram: { bucket: string; count: number }[];
  elapsedS: number;
}

interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

function summarize(values: number[]): Summary {
  const v = values.filter((x) => Number.isFinite(x));
  return {
    count: v.length,
    p50: quantile(v, 0.5),
    p90: quantile(v, 0.9),
    p99: quantile(v, 0.99),
    max: v.length ? Math.max(...v) : Number.NaN,
    min: v.length ? Math.min(...v) : Number.NaN,
    mean: v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN,
  };
}

const BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, Number.POSITIVE_INFINITY];

function histogram(values: number[], timeouts: number): { bucket: string; count: number }[] {
  const out = BUCKETS.map((hi, i) => {
    const lo = i === 0 ? 0 : BUCKETS[i - 1]!;
    const label = Number.isFinite(hi) ? `${lo}–${hi} ms` : `≥ ${lo} ms`;
    return { bucket: label, count: values.filter((x) => x >= lo && x < hi).length };
  });
  if (timeouts) out.push({ bucket: `none in ${TRIAL_TIMEOUT_MS} ms`, count: timeouts });
  return out;
}

function printHistogram(h: { bucket: string; count: number }[]): void {
  const max = Math.max(1, ...h.map((b) => b.count));
  // Trim empty buckets at both ends, keep the ones inside.
  let first = h.findIndex((b) => b.count > 0);
  let last = h.length - 1 - [...h].reverse().findIndex((b) => b.count > 0);
  if (first < 0) {
    first = 0;
    last = -1;
  }
  for (const b of h.slice(first, last + 1)) {
    console.log(`    ${b.bucket.padStart(16)} │${'█'.repeat(Math.round((b.count / max) * 40)).padEnd(40)} ${b.count}`);
  }
}

const fmt = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)) : '–');
const line = (name: string, s: Summary) =>
  `  ${name.padEnd(38)} p50 ${fmt(s.p50).padStart(6)}  p90 ${fmt(s.p90).padStart(6)}  p99 ${fmt(s.p99).padStart(6)}  max ${fmt(s.max).padStart(6)} ms  (n=${s.count})`;

async function send(url: string, key: string): Promise<{ status: number; sentAt: number; doneAt: number }> {
  const sentAt = performance.now();
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01', 'x-forwarded-for': CLIENT_IP },
    body: BODY,
  });
  await res.arrayBuffer();
  return { status: res.status, sentAt, doneAt: performance.now() };
}

/** One trial: hammer `target` with a new customer's key, block it through `admin`, time the first 403. */
async function trial(admin: Harness, target: Harness, concurrency: number, loaded: number[]): Promise<Trial> {
  const c = await admin.customer();
  let stop = false;
  let t0 = Number.POSITIVE_INFINITY; // admin call start
  let adminDone = Number.POSITIVE_INFINITY;
  let firstRefused: { sentAt: number; doneAt: number } | undefined;
  let lastAllowedSent = Number.NEGATIVE_INFINITY;
  let allowedAfterAdmin = 0;
  let otherStatuses = 0;
  const warmed = new Set<number>();
  let onWarm!: () => void;
  const allWarm = new Promise<void>((r) => (onWarm = r));
  let onRefused!: () => void;
  const refused = new Promise<void>((r) => (onRefused = r));

  const loop = async (w: number) => {
    while (!stop) {
      const r = await send(target.url, c.key).catch(() => ({ status: -1, sentAt: performance.now(), doneAt: performance.now() }));
      if (r.status === 200) {
        if (!warmed.has(w)) {
          warmed.add(w);
          if (warmed.size === concurrency) onWarm();
        }
        if (r.sentAt >= t0) lastAllowedSent = Math.max(lastAllowedSent, r.sentAt);
        if (r.sentAt > adminDone) allowedAfterAdmin++;
        if (t0 === Number.POSITIVE_INFINITY) loaded.push(r.doneAt - r.sentAt);
      } else if (r.status === 403 && t0 !== Number.POSITIVE_INFINITY) {
        if (!firstRefused || r.doneAt < firstRefused.doneAt) firstRefused = r;
        onRefused();
        return;
      } else {
        otherStatuses++;
        await new Promise((res) => setTimeout(res, 5));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, (_, w) => loop(w));
  await allWarm;
  // A few more requests so the loops are in a steady rhythm, not in lockstep.
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));

  t0 = performance.now();
  await admin.admin.call('POST', '/actions', { subject: { kind: 'key', id: c.keyId }, decision: 'block', reason: 'action-latency benchmark' });
  adminDone = performance.now();
  const timer = new Promise<void>((r) => setTimeout(r, TRIAL_TIMEOUT_MS));
  await Promise.race([refused, timer]);
  stop = true;
  await Promise.all(loops);
  return {
    latencyMs: firstRefused ? firstRefused.doneAt - t0 : null,
    adminMs: adminDone - t0,
    refusedSentMs: firstRefused ? firstRefused.sentAt - t0 : null,
    lastAllowedSentMs: Number.isFinite(lastAllowedSent) ? lastAllowedSent - t0 : null,
    allowedAfterAdmin,
    otherStatuses,
  };
}

async function runProfile(profile: Profile, n: number, concurrency: number): Promise<ProfileResult> {
  const started = performance.now();
  const id = randomUUID().slice(0, 8);
  const cluster = { schema: `wb_${id}`, redis_prefix: `wb:${id}`, stream: `WB_${id}`, subject_prefix: `wb.${id}`, partitions: 2 };
  const opened: Harness[] = [];
  try {
    const a = await startHarness(profile === 'cluster' ? { policy: POLICY, cluster } : { policy: POLICY });
    opened.push(a);
    let target = a;
    if (profile === 'cluster') {
      target = await startHarness({ policy: POLICY, cluster });
      opened.push(target);
    }
    // Warm-up: a baseline customer's key (never blocked) and a few requests through each path.
    const base = await a.customer();
    for (let i = 0; i < 30; i++) await send(target.url, base.key);

    const trials: Trial[] = [];
    const idle: number[] = [];
    const loaded: number[] = [];
    for (let i = 0; i < n; i++) {
      // Baseline, side by side: the plain round trip of one small request, alone, to the same gateway.
      for (let j = 0; j < BASELINE_PER_TRIAL; j++) {
        const r = await send(target.url, base.key);
        if (r.status === 200) idle.push(r.doneAt - r.sentAt);
      }
      const t = await trial(a, target, concurrency, loaded);
      trials.push(t);
      process.stdout.write(`\r  ${profile}: trial ${i + 1}/${n}, last ${t.latencyMs === null ? 'timeout' : `${fmt(t.latencyMs)} ms`}   `);
    }
    process.stdout.write('\n');
    const lat = trials.flatMap((t) => (t.latencyMs === null ? [] : [t.latencyMs]));
    const timeouts = trials.filter((t) => t.latencyMs === null).length;
    return {
      profile,
      n,
      concurrency,
      trials,
      timeouts,
      latency: summarize(lat),
      admin: summarize(trials.map((t) => t.adminMs)),
      afterAdmin: summarize(trials.flatMap((t) => (t.latencyMs === null ? [] : [t.latencyMs - t.adminMs]))),
      refusedSent: summarize(trials.flatMap((t) => (t.refusedSentMs === null ? [] : [t.refusedSentMs]))),
      baselineIdle: summarize(idle),
      baselineLoaded: summarize(loaded),
      histogram: histogram(lat, timeouts),
      elapsedS: (performance.now() - started) / 1000,
    };
  } finally {
    for (const h of opened) await h.close().catch((e: unknown) => console.error(`close: ${String(e)}`));
    if (profile === 'cluster') await cleanCluster(cluster);
  }
}

/** Removes what the cluster profile left: the PostgreSQL schema, the Redis keys, the NATS stream. */
async function cleanCluster(cluster: { schema: string; redis_prefix: string; stream: string }): Promise<void> {
  const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await pool.query(`DROP SCHEMA IF EXISTS ${cluster.schema} CASCADE`).catch((e: unknown) => console.error(`drop schema: ${String(e)}`));
  await pool.end();
  const redis = new Redis('redis://127.0.0.1:6379');
  try {
    const keys = await redis.keys(`${cluster.redis_prefix}:*`);
    if (keys.length) await redis.del(...keys);
  } catch (e) {
    console.error(`redis cleanup: ${String(e)}`);
  }
  redis.disconnect();
  try {
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(cluster.stream).catch(() => undefined);
    await nc.close();
  } catch (e) {
    console.error(`nats cleanup: ${String(e)}`);
  }
}

function report(r: ProfileResult): void {
  const where = r.profile === 'cluster' ? 'action posted to gateway A, key hammered at gateway B' : 'action posted to and key hammered at the same gateway';
  console.log(`\n${r.profile} (${where}; ${r.n} trials, concurrency ${r.concurrency}, ${r.elapsedS.toFixed(0)} s)`);
  console.log(line('block → first 403 at the gateway', r.latency));
  console.log(line('admin call (POST /actions) itself', r.admin));
  console.log(line('admin call returned → first 403', r.afterAdmin));
  console.log(line('first refused request sent at', r.refusedSent));
  console.log(line('baseline: one request, alone', r.baselineIdle));
  console.log(line(`baseline: one request, under c=${r.concurrency}`, r.baselineLoaded));
  const ratio = r.latency.p50 / r.baselineLoaded.p50;
  console.log(`  ratio p50 latency ÷ p50 loaded request: ${fmt(ratio)}; timeouts (> ${TRIAL_TIMEOUT_MS} ms): ${r.timeouts}; ` +
    `requests sent after the admin call returned and still allowed: ${r.trials.reduce((a, t) => a + t.allowedAfterAdmin, 0)}; other statuses: ${r.trials.reduce((a, t) => a + t.otherStatuses, 0)}`);
  console.log('  histogram of block → first 403:');
  printHistogram(r.histogram);
}

function loadNote(): string {
  const [l1, l5] = os.loadavg();
  return `load average ${l1!.toFixed(2)} (1 min), ${l5!.toFixed(2)} (5 min), ${os.cpus().length} cores`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string', default: 'both' },
      n: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '4' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('node --import tsx bench/action-latency.ts [--profile embedded|cluster|both] [--n 50] [--concurrency 4]');
    return;
  }
  const profiles: Profile[] = values.profile === 'both' ? ['embedded', 'cluster'] : values.profile === 'embedded' || values.profile === 'cluster' ? [values.profile] : [];
  if (!profiles.length) throw new Error(`--profile must be embedded, cluster or both, not "${values.profile}"`);
  const n = Number(values.n);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer, not "${values.n}"`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, not "${values.concurrency}"`);

  const startedAt = new Date().toISOString();
  const loadBefore = loadNote();
  console.log(`action latency: ${profiles.join(', ')}; ${n} trials each, concurrency ${concurrency}; ${loadBefore}`);
  const results: ProfileResult[] = [];
  for (const p of profiles) {
    results.push(await runProfile(p, n, concurrency));
    report(results.at(-1)!);
  }
  const loadAfter = loadNote();
  console.log(`\n${loadAfter}`);
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `action-latency-${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ startedAt, node: process.version, cpus: os.cpus().length, loadBefore, loadAfter, results }, null, 2));
  console.log(`written ${path.relative(ROOT, file)}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);

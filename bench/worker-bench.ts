/**
 * Detection workers: event throughput from JetStream through the workers into PostgreSQL, and
 * detection lag under a sustained publish rate. Everything runs in this one process on this
 * machine's PostgreSQL and NATS (publisher and workers share its CPU).
 *
 * 1. Catch-up throughput: `--events` usage events are published to a fresh stream first; then
 *    (a) a baseline consumer group that only acks (JetStream delivery + ack, nothing else), and
 *    (b) `--workers` detection workers (features per event, one PostgreSQL transaction per batch:
 *    counted ids, account states, position; acks after the commit) consume all of them. Reported:
 *    events/s of each and their ratio.
 * 2. Lag under load: events are published at `--rate` per second for `--seconds` with the workers
 *    running; every 250 ms the backlog (published − committed, summed over partitions) is read
 *    from PostgreSQL and the stream. Reported: median and max backlog, in events and in seconds of
 *    publishing at that rate, and the time to drain after the publisher stops.
 *
 *   node --import tsx bench/worker-bench.ts [--events 20000] [--workers 2] [--partitions 4] [--batch 256] [--rate 1000] [--seconds 20] [--accounts 2000]
 *
 * Results are printed and written to bench/results/worker-bench-<timestamp>.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { UsageEvent } from '../src/core/index.js';
import { startDetectionWorker, type DetectionWorker } from '../src/cli/detection-worker.js';
import { createLogger } from '../src/cli/log.js';
import { openNatsBus, openPostgresDetectionState, openPostgresStore, type NatsBus } from '../src/store/index.js';
import { campaignEvents, usageEvents } from '../test/services/worker-fixtures.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    workers: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '4' },
    batch: { type: 'string', default: '256' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    accounts: { type: 'string', default: '2000' },
  },
});
const N = Number(args.events);
const W = Number(args.workers);
const P = Number(args.partitions);
const BATCH = Number(args.batch);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const ACCOUNTS = Number(args.accounts);
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const NATS = '127.0.0.1:4222';
const id = randomUUID().slice(0, 8);
const schema = `wbench_${id}`;
const stream = `WBENCH_${id}`;
const prefix = `wbench.${id}`;
const log = createLogger('silent');

const openBus = () =>
  openNatsBus<UsageEvent>({ servers: NATS, stream, subjectPrefix: prefix, partitions: P, partitionKey: (e) => e.account_id ?? '', ackWaitMs: 60_000, maxAckPending: 100_000 });

/** Events with prompt features (as the gateway sends them) for `ACCOUNTS` accounts. */
function workload(tag: string, n: number): UsageEvent[] {
  const perAccount = Math.max(1, Math.ceil(n / ACCOUNTS));
  const plain = usageEvents(tag, ACCOUNTS, perAccount).slice(0, Math.floor(n * 0.8));
  const withFeatures = campaignEvents(Array.from({ length: 50 }, (_, i) => `${tag}_camp_${i}`), Math.ceil((n - plain.length) / 50)).slice(0, n - plain.length);
  return [...plain, ...withFeatures];
}

async function publishAll(bus: NatsBus<UsageEvent>, events: UsageEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 2000) await Promise.all(events.slice(i, i + 2000).map((e) => bus.publish(e, e.event_id)));
}

async function startWorkers(store: Awaited<ReturnType<typeof openPostgresStore>>): Promise<{ workers: DetectionWorker[]; close(): Promise<void> }> {
  const opened: { close(): Promise<void> }[] = [];
  const workers: DetectionWorker[] = [];
  for (let i = 0; i < W; i++) {
    const bus = await openBus();
    const state = await openPostgresDetectionState({ pool: store.pool, schema });
    const w = await startDetectionWorker({
      id: `bench-${i}`,
      bus,
      state,
      store,
      log,
      partitions: 'auto',
      group: 'detect',
      batchSize: BATCH,
      lingerMs: 20,
      leaseTtlMs: 3000,
      evaluateEveryMs: 3_600_000,
      lead: false,
      countedRetentionMs: 7 * 86_400_000,
    });
    workers.push(w);
    opened.push(w, bus, state);
  }
  return { workers, close: async () => void (await Promise.all(opened.map((o) => o.close()))) };
}

async function backlog(pool: pg.Pool, bus: NatsBus<UsageEvent>): Promise<{ behind: number; last: number }> {
  // Stream sequences are global across partitions, so the backlog in events is counted per
  // partition from the consumer's view instead: published on the subject but not committed.
  const r = await pool.query<{ partition: number; seq: string }>(`SELECT partition, seq FROM ${schema}.detection_positions`).catch(() => ({ rows: [] }));
  const committed = new Map(r.rows.map((x) => [x.partition, Number(x.seq)]));
  let last = 0;
  let behind = 0;
  for (let p = 0; p < P; p++) {
    const l = await bus.lastSeq(p);
    last = Math.max(last, l);
    if (l > (committed.get(p) ?? 0)) behind++;
  }
  return { behind, last };
}

async function main(): Promise<void> {
  process.stdout.write(`worker-bench: ${N} events, ${W} worker(s), ${P} partitions, batch ${BATCH}; ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}\n`);
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const store = await openPostgresStore({ connectionString: PG_URL, schema, maxConnections: 4 + 2 * W });
  const publisher = await openBus();
  const results: Record<string, unknown> = { events: N, workers: W, partitions: P, batch: BATCH, cpus: os.cpus().length, load: os.loadavg()[0] };
  try {
    // ---- 1. catch-up throughput -----------------------------------------------------------
    const events = workload('b1', N);
    let t = performance.now();
    await publishAll(publisher, events);
    const publishS = (performance.now() - t) / 1000;
    process.stdout.write(`published ${N} in ${publishS.toFixed(2)} s (${Math.round(N / publishS)}/s)\n`);

    const baseBus = await openBus();
    let acked = 0;
    t = performance.now();
    let allAcked!: () => void;
    const done = new Promise<void>((resolve) => (allAcked = resolve));
    const baseline = baseBus.consume(
      'baseline',
      async (d) => {
        await d.ack();
        if (++acked === N) allAcked();
      },
      { batch: BATCH },
    );
    await done;
    await baseline.close();
    const baseS = (performance.now() - t) / 1000;
    await baseBus.close();
    process.stdout.write(`baseline (JetStream deliver + ack only): ${Math.round(N / baseS)} events/s\n`);

    const ws = await startWorkers(store);
    // Timed from the first commit: opening connections and taking leases are not throughput.
    for (;;) {
      const r = await pool.query(`SELECT 1 FROM ${schema}.detection_positions LIMIT 1`).catch(() => ({ rowCount: 0 }));
      if (r.rowCount) break;
      await new Promise((r2) => setTimeout(r2, 20));
    }
    t = performance.now();
    for (;;) {
      const r = await pool.query<{ n: string }>(`SELECT coalesce(sum(events), 0) AS n FROM ${schema}.detection_accounts`).catch(() => ({ rows: [{ n: '0' }] }));
      if (Number(r.rows[0]!.n) >= N) break;
      await new Promise((r2) => setTimeout(r2, 100));
    }
    const workS = (performance.now() - t) / 1000;
    process.stdout.write(`workers (features + one PostgreSQL transaction per batch): ${Math.round(N / workS)} events/s, ${(workS / baseS).toFixed(1)}× the baseline's time\n`);
    results['catchup'] = { baseline_events_per_s: Math.round(N / baseS), worker_events_per_s: Math.round(N / workS), time_ratio: Number((workS / baseS).toFixed(2)), publish_events_per_s: Math.round(N / publishS) };

    // ---- 2. lag under a sustained rate ----------------------------------------------------
    const live = workload('b2', RATE * SECONDS);
    const samples: number[] = [];
    let published = 0;
    const committedSum = async () => Number((await pool.query<{ n: string }>(`SELECT coalesce(sum(events), 0) AS n FROM ${schema}.detection_accounts`)).rows[0]!.n);
    const base = await committedSum();
    const t0 = performance.now();
    const sampler = setInterval(() => {
      void committedSum().then((c) => samples.push(Math.max(0, published - (c - base))));
    }, 250);
    for (let s = 0; s < SECONDS * 10; s++) {
      const slice = live.slice(published, published + RATE / 10);
      await Promise.all(slice.map((e) => publisher.publish(e, e.event_id)));
      published += slice.length;
      const due = t0 + (s + 1) * 100;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const achieved = published / ((performance.now() - t0) / 1000);
    const tStop = performance.now();
    while ((await committedSum()) - base < published) await new Promise((r) => setTimeout(r, 50));
    const drainS = (performance.now() - tStop) / 1000;
    clearInterval(sampler);
    const sorted = [...samples].sort((a, b) => a - b);
    const med = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const max = sorted[sorted.length - 1] ?? 0;
    process.stdout.write(
      `sustained ${Math.round(achieved)} events/s for ${SECONDS} s: backlog median ${med} events (${(med / achieved).toFixed(2)} s), max ${max} (${(max / achieved).toFixed(2)} s); drained ${drainS.toFixed(2)} s after the publisher stopped\n`,
    );
    void (await backlog(pool, publisher));
    results['sustained'] = { target_rate: RATE, achieved_rate: Math.round(achieved), seconds: SECONDS, backlog_median_events: med, backlog_max_events: max, backlog_median_s: Number((med / achieved).toFixed(3)), backlog_max_s: Number((max / achieved).toFixed(3)), drain_s: Number(drainS.toFixed(3)) };
    await ws.close();
  } finally {
    await publisher.close();
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
    const nc = await connect({ servers: NATS });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `worker-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  process.stdout.write(`written ${path.relative(process.cwd(), file)}\n`);
}

await main();

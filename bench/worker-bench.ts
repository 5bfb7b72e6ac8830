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
 * With `--rounds N`, step 1 runs N times (a fresh stream and schema each time, baseline and
 * workers back to back, the order alternating) and the workers ÷ baseline ratio is reported per
 * round and as the median: on a shared machine the load changes between the two measurements, so
 * one round's ratio is a weak figure. Step 2 runs once, on the last round's workers. Each side's
 * CPU time in this process (user + system: the bus client, the workers; not the servers) is
 * reported per 1,000 events, and its workers ÷ baseline ratio, steadier than throughput under a
 * changing load.
 *
 * The events' accounts are created in the store first (one org, distinct signup facts), as the
 * gateway's accounts are; `--unknown-accounts` leaves them out (every batch then looks each of its
 * accounts up again, as runs before 2026-11-27 did).
 *
 *   node --import tsx bench/worker-bench.ts [--events 20000] [--workers 2] [--partitions 4] [--batch 256] [--rate 1000] [--seconds 20] [--accounts 2000] [--rounds 1] [--unknown-accounts]
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
import { makeAccount, makeOrg } from '../src/store/contract/fixtures.js';
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
    rounds: { type: 'string', default: '1' },
    'unknown-accounts': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    `node --import tsx bench/worker-bench.ts [options]   (PostgreSQL at 127.0.0.1:5432/test, NATS JetStream at 127.0.0.1:4222)
  --events N          events per catch-up round (default 20000)
  --workers N         detection workers in this process (default 2)
  --partitions N      stream partitions (default 4)
  --batch N           worker batch size (default 256)
  --rounds N          catch-up rounds, baseline and workers back to back, order alternating (default 1)
  --rate N            sustained publish rate, events/s (default 1000)
  --seconds N         sustained phase length (default 20)
  --accounts N        plain accounts in the workload (default 2000)
  --unknown-accounts  do not create the events' accounts in the store (lookups miss every batch)
`,
  );
  process.exit(0);
}
const N = Number(args.events);
const W = Number(args.workers);
const P = Number(args.partitions);
const BATCH = Number(args.batch);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const ACCOUNTS = Number(args.accounts);
const ROUNDS = Math.max(1, Number(args.rounds));
const UNKNOWN = args['unknown-accounts'];
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const NATS = '127.0.0.1:4222';
const runId = randomUUID().slice(0, 8);
// One stream and schema per round (set by `round()`).
let schema = '';
let stream = '';
let prefix = '';
const made: { schema: string; stream: string }[] = [];
function round(r: number): void {
  const id = `${runId}_${r}`;
  schema = `wbench_${id}`;
  stream = `WBENCH_${id}`;
  prefix = `wbench.${id}`;
  made.push({ schema, stream });
}
const log = createLogger('silent');

const openBus = () =>
  openNatsBus<UsageEvent>({ servers: NATS, stream, subjectPrefix: prefix, partitions: P, partitionKey: (e) => e.account_id ?? '', ackWaitMs: 60_000, maxAckPending: 100_000 });

/** The events' accounts as the gateway would have created them (one org, distinct signup facts). */
async function createAccounts(store: Awaited<ReturnType<typeof openPostgresStore>>, events: UsageEvent[]): Promise<void> {
  const org = makeOrg();
  await store.createOrg(org);
  const ids = [...new Set(events.map((e) => e.account_id).filter((a): a is string => !!a))];
  for (let i = 0; i < ids.length; i += 8) {
    await Promise.all(
      ids.slice(i, i + 8).map((account_id, k) =>
        store.createAccount(makeAccount({ account_id, org_id: org.org_id, payment_fingerprint: `pf_${i + k}`, device_fingerprint: `df_${i + k}`, signup_ip: `198.51.100.${(i + k) % 250}` })),
      ),
    );
  }
}

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
  process.stdout.write(
    `worker-bench: ${N} events, ${W} worker(s), ${P} partitions, batch ${BATCH}, ${ROUNDS} round(s), accounts ${UNKNOWN ? 'not in the store' : 'in the store'}; ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}\n`,
  );
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const results: Record<string, unknown> = { events: N, workers: W, partitions: P, batch: BATCH, rounds: ROUNDS, unknown_accounts: UNKNOWN, cpus: os.cpus().length, load: os.loadavg()[0] };
  const stores: Awaited<ReturnType<typeof openPostgresStore>>[] = [];
  const publishers: NatsBus<UsageEvent>[] = [];
  let ws: Awaited<ReturnType<typeof startWorkers>> | undefined;
  try {
    // ---- 1. catch-up throughput -----------------------------------------------------------
    const rounds: {
      baseline_events_per_s: number;
      worker_events_per_s: number;
      ratio: number;
      baseline_cpu_ms_per_1k: number;
      worker_cpu_ms_per_1k: number;
      cpu_ratio: number;
      order: string;
      load: number;
    }[] = [];
    let store!: Awaited<ReturnType<typeof openPostgresStore>>;
    let publisher!: NatsBus<UsageEvent>;
    for (let r = 0; r < ROUNDS; r++) {
      round(r);
      store = await openPostgresStore({ connectionString: PG_URL, schema, maxConnections: 4 + 2 * W });
      stores.push(store);
      publisher = await openBus();
      publishers.push(publisher);
      const events = workload('b1', N);
      if (!UNKNOWN) await createAccounts(store, [...events, ...(r === ROUNDS - 1 ? workload('b2', RATE * SECONDS) : [])]);
      let t = performance.now();
      await publishAll(publisher, events);
      const publishS = (performance.now() - t) / 1000;
      process.stdout.write(`round ${r + 1}: published ${N} in ${publishS.toFixed(2)} s (${Math.round(N / publishS)}/s)\n`);

      /** This process's CPU time (user + system, ms) over a phase: the bus client and the workers, not the servers. */
      const cpuMs = (since: NodeJS.CpuUsage) => {
        const u = process.cpuUsage(since);
        return (u.user + u.system) / 1000;
      };
      let baseCpu = 0;
      let workCpu = 0;
      const baseline = async (): Promise<number> => {
        const baseBus = await openBus();
        let acked = 0;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        let allAcked!: () => void;
        const done = new Promise<void>((resolve) => (allAcked = resolve));
        const c = baseBus.consume(
          'baseline',
          async (d) => {
            await d.ack();
            if (++acked === N) allAcked();
          },
          { batch: BATCH },
        );
        await done;
        const s = (performance.now() - t0) / 1000;
        baseCpu = cpuMs(c0);
        await c.close();
        await baseBus.close();
        return s;
      };
      const workersRun = async (): Promise<number> => {
        ws = await startWorkers(store);
        // Timed from the first commit: opening connections and taking leases are not throughput.
        for (;;) {
          const q = await pool.query(`SELECT 1 FROM ${schema}.detection_positions LIMIT 1`).catch(() => ({ rowCount: 0 }));
          if (q.rowCount) break;
          await new Promise((r2) => setTimeout(r2, 20));
        }
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (;;) {
          const q = await pool.query<{ n: string }>(`SELECT coalesce(sum(events), 0) AS n FROM ${schema}.detection_accounts`).catch(() => ({ rows: [{ n: '0' }] }));
          if (Number(q.rows[0]!.n) >= N) break;
          await new Promise((r2) => setTimeout(r2, 100));
        }
        const s = (performance.now() - t0) / 1000;
        workCpu = cpuMs(c0);
        return s;
      };
      const load = os.loadavg()[0]!;
      // The order alternates so that a trend in the machine's load does not favour one side.
      const baseFirst = r % 2 === 0;
      let baseS: number;
      let workS: number;
      if (baseFirst) {
        baseS = await baseline();
        workS = await workersRun();
      } else {
        workS = await workersRun();
        baseS = await baseline();
      }
      if (r < ROUNDS - 1) {
        await ws!.close();
        ws = undefined;
      }
      const row = {
        baseline_events_per_s: Math.round(N / baseS),
        worker_events_per_s: Math.round(N / workS),
        ratio: Number((baseS / workS).toFixed(2)),
        baseline_cpu_ms_per_1k: Number(((baseCpu / N) * 1000).toFixed(1)),
        worker_cpu_ms_per_1k: Number(((workCpu / N) * 1000).toFixed(1)),
        cpu_ratio: Number((workCpu / baseCpu).toFixed(2)),
        order: baseFirst ? 'baseline first' : 'workers first',
        load: Number(load.toFixed(1)),
      };
      rounds.push(row);
      process.stdout.write(
        `round ${r + 1} (${row.order}, load ${row.load}): baseline (JetStream deliver + ack only) ${row.baseline_events_per_s} events/s, ${row.baseline_cpu_ms_per_1k} CPU-ms/1k events; workers (features + one PostgreSQL transaction per batch) ${row.worker_events_per_s} events/s, ${row.worker_cpu_ms_per_1k} CPU-ms/1k events; workers ÷ baseline ${row.ratio} (throughput), ${row.cpu_ratio} (CPU per event)\n`,
      );
    }
    const median = (xs: number[]) => {
      const a = [...xs].sort((x, y) => x - y);
      return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2;
    };
    const med = {
      baseline: median(rounds.map((x) => x.baseline_events_per_s)),
      workers: median(rounds.map((x) => x.worker_events_per_s)),
      ratio: median(rounds.map((x) => x.ratio)),
      baseCpu: median(rounds.map((x) => x.baseline_cpu_ms_per_1k)),
      workCpu: median(rounds.map((x) => x.worker_cpu_ms_per_1k)),
      cpuRatio: median(rounds.map((x) => x.cpu_ratio)),
    };
    process.stdout.write(
      `catch-up, median of ${ROUNDS}: baseline ${Math.round(med.baseline)} events/s (${med.baseCpu.toFixed(1)} CPU-ms/1k), workers ${Math.round(med.workers)} events/s (${med.workCpu.toFixed(1)} CPU-ms/1k), workers ÷ baseline ${med.ratio.toFixed(2)} in throughput, ${med.cpuRatio.toFixed(2)} in CPU per event (medians of the rounds' ratios)\n`,
    );
    results['catchup'] = {
      rounds,
      median_baseline_events_per_s: Math.round(med.baseline),
      median_worker_events_per_s: Math.round(med.workers),
      median_ratio: Number(med.ratio.toFixed(2)),
      median_baseline_cpu_ms_per_1k: med.baseCpu,
      median_worker_cpu_ms_per_1k: med.workCpu,
      median_cpu_ratio: med.cpuRatio,
    };

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
    const mid = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const max = sorted[sorted.length - 1] ?? 0;
    process.stdout.write(
      `sustained ${Math.round(achieved)} events/s for ${SECONDS} s: backlog median ${mid} events (${(mid / achieved).toFixed(2)} s), max ${max} (${(max / achieved).toFixed(2)} s); drained ${drainS.toFixed(2)} s after the publisher stopped\n`,
    );
    void (await backlog(pool, publisher));
    results['sustained'] = { target_rate: RATE, achieved_rate: Math.round(achieved), seconds: SECONDS, backlog_median_events: mid, backlog_max_events: max, backlog_median_s: Number((mid / achieved).toFixed(3)), backlog_max_s: Number((max / achieved).toFixed(3)), drain_s: Number(drainS.toFixed(3)) };
  } finally {
    await ws?.close().catch(() => undefined);
    for (const b of publishers) await b.close().catch(() => undefined);
    for (const st of stores) await st.close().catch(() => undefined);
    for (const m of made) await pool.query(`DROP SCHEMA IF EXISTS ${m.schema} CASCADE`).catch(() => undefined);
    await pool.end();
    const nc = await connect({ servers: NATS });
    const jsm = await jetstreamManager(nc);
    for (const m of made) await jsm.streams.delete(m.stream).catch(() => undefined);
    await nc.close();
  }
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `worker-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  process.stdout.write(`written ${path.relative(process.cwd(), file)}\n`);
}

await main();

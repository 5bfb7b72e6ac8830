/**
 * `npm run bench:cluster`: the Warden gateway on the cluster profile (PostgreSQL, Redis, NATS
 * JetStream on this machine) beside the same gateway on the embedded profile (SQLite), in
 * alternation, at concurrency 16 and 64, non-streaming. Each gateway is its own process, the
 * simulated upstream and the load generator (autocannon) others; the two gateways run back to
 * back in each cell, the order rotating each round, and the report gives medians and
 * same-round ratios (cluster ÷ embedded). CPU is the gateway process's own (user + system): the
 * services' CPU is not in it. Then the audit log's append rate into SQLite and into PostgreSQL.
 *
 *   npm run bench:cluster                    3 rounds × 5 s per run (~3 min)
 *   npm run bench:cluster -- --quick         1 round × 2 s (a smoke run; too short to quote)
 *   npm run bench:cluster -- --help
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { stringify as stringifyYaml } from 'yaml';
import type { LoadCommand, LoadResult } from './lib/load-worker.js';
import { cpuMicros, freePort, machineBusyMicros, startProcess, waitQuiet, type Managed } from './lib/proc.js';
import { MESSAGES_PATH, messagesBody } from './lib/request.js';
import { medianOf } from './lib/stats.js';
import { chooseRunner, provision, startUpstream, writeBenchPolicy, type Runner, type WardenStarted } from './lib/targets.js';
import { createAuditLog, loadOrCreateAuditKey } from '../src/cases/index.js';
import { openPostgresCaseStore, openSqliteCaseStore } from '../src/store/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = { postgres: 'postgres://postgres@127.0.0.1:5432/test', redis: 'redis://127.0.0.1:6379', nats: '127.0.0.1:4222' };
type Profile = 'embedded' | 'cluster';

const HELP = `npm run bench:cluster -- [options]
  --quick               1 round of 2 s per run (a smoke run)
  --rounds N            rounds (default 3)
  --duration S          seconds per measured run (default 5)
  --warmup S            seconds of unmeasured load before each run (default 1)
  --concurrency LIST    default 16,64
  --audit N             records per audit append measurement (default 20000; 0 skips it)
  --from dist|src       run Warden from the build or the sources (default: the build when up to date)
  --keep                keep the temporary directory
  --help`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    concurrency: { type: 'string', default: '16,64' },
    audit: { type: 'string' },
    from: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const opts = {
  rounds: num(flags.rounds, flags.quick ? 1 : 3),
  durationS: num(flags.duration, flags.quick ? 2 : 5),
  warmupS: num(flags.warmup, flags.quick ? 0.5 : 1),
  concurrency: flags.concurrency.split(',').map(Number),
  auditN: num(flags.audit, flags.quick ? 2000 : 20_000),
};
const out = (s = '') => process.stdout.write(`${s}\n`);
const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

class LoadGen {
  private seq = 0;
  private waiting = new Map<number, { resolve: (v: LoadResult) => void; reject: (e: Error) => void }>();
  readonly child: ChildProcess;
  constructor() {
    this.child = fork(path.join(ROOT, 'bench/lib/load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: { id: number; ok: boolean; result?: LoadResult; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m.result!);
      else w?.reject(new Error(`load generator: ${m.error}`));
    });
  }
  load(c: Omit<LoadCommand, 'kind'>): Promise<LoadResult> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ kind: 'load', ...c, id });
    });
  }
  close() {
    this.child.disconnect();
  }
}

/** `warden serve` on one profile, with its own data_dir (its audit chain is derived from it). */
async function startGateway(profile: Profile, tmp: string, upstreamUrl: string, policyFile: string, runner: Runner, cluster: Record<string, unknown>): Promise<WardenStarted> {
  const { DEMO_NETWORKS } = (await import('../src/cli/demo.js')) as { DEMO_NETWORKS: unknown };
  const port = await freePort();
  const dataDir = path.join(tmp, `data-${profile}`);
  const watchlist = path.join(ROOT, 'watchlists/demo.yaml');
  const config = {
    profile,
    data_dir: dataDir,
    gateway: { listen: `127.0.0.1:${port}`, upstreams: { anthropic: { url: upstreamUrl }, openai: { url: upstreamUrl } }, trusted_proxies: ['127.0.0.1'] },
    policy: { file: policyFile },
    intel: { custom_networks: DEMO_NETWORKS },
    watchlist,
    log: { level: 'warn' },
    ...(profile === 'cluster' ? { cluster } : {}),
  };
  const configFile = path.join(tmp, `warden-${profile}.yaml`);
  const configText = stringifyYaml(config, { lineWidth: 0 });
  writeFileSync(configFile, configText);
  const cli = runner.from === 'dist' ? ['bin/warden.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  const args = [...cli, '--config', configFile, 'serve'];
  const proc = await startProcess(`warden-${profile}`, process.execPath, args, {
    cwd: ROOT,
    ready: /Warden gateway on http:\/\/127\.0\.0\.1:\d+/,
    logFile: path.join(tmp, `warden-${profile}.log`),
    timeoutMs: 120_000,
  });
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output())![1]!;
  return { proc, url, command: `node ${args.join(' ')}`, configFile, configText, dataDir };
}

interface Run {
  round: number;
  concurrency: number;
  profile: Profile;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerReq: number;
  completed: number;
  failed: number;
  otherCores: number;
}

async function auditRate(store: Parameters<typeof createAuditLog>[0]['store'], keyDir: string, n: number, chain: string): Promise<number> {
  const log = createAuditLog({ store, key: loadOrCreateAuditKey(keyDir), chain });
  const t0 = performance.now();
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    all.push(log.append({ type: 'policy.refusal', actor: 'policy:bench@1', subject: { kind: 'account', id: `acc_${i % 100}` }, data: { rule: 'restricted-country', i }, at: new Date().toISOString() }));
    // Appends arrive over time, as requests do: yield every 200 so batches form as in serve.
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(all);
  await log.close();
  return n / ((performance.now() - t0) / 1000);
}

async function main(): Promise<number> {
  const started = new Date();
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const tmp = mkdtempSync(path.join(ROOT, 'bench/results/tmp-cluster-'));
  const id = randomUUID().replaceAll('-', '').slice(0, 10);
  const cluster = { postgres_url: SERVICES.postgres, schema: `bench_${id}`, redis_url: SERVICES.redis, redis_prefix: `bench:${id}`, nats_servers: SERVICES.nats, stream: `BENCH_${id}`, subject_prefix: `bench.${id}`, partitions: 4 };
  const cpus = os.cpus();
  out(`Warden cluster-profile benchmark — ${started.toISOString()}`);
  out(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'} (shared), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}`);
  out(`plan: ${opts.rounds} round(s) × concurrency [${opts.concurrency.join(', ')}] × [embedded, cluster] (order rotated each round), ${opts.warmupS} s warm-up + ${opts.durationS} s per run, non-streaming`);
  out(`cluster services: PostgreSQL ${SERVICES.postgres} (schema ${cluster.schema}), Redis ${SERVICES.redis}, NATS ${SERVICES.nats} (stream ${cluster.stream}), all on this machine`);

  const procs: Managed[] = [];
  const runs: Run[] = [];
  let auditResult: { sqlite: number; postgres: number } | undefined;
  try {
    const runner = chooseRunner(ROOT, flags.from as 'dist' | 'src' | undefined);
    const policy = writeBenchPolicy(path.join(ROOT, 'policies/demo.yaml'), path.join(tmp, 'bench-policy.yaml'), 10_000);
    const upstream = await startUpstream(ROOT, tmp);
    procs.push(upstream.proc);
    const gateways = {} as Record<Profile, WardenStarted & { headers: Record<string, string> }>;
    for (const profile of ['embedded', 'cluster'] as const) {
      const g = await startGateway(profile, tmp, upstream.url, policy.file, runner, cluster);
      procs.push(g.proc);
      const creds = await provision(g);
      const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': creds.key, 'x-forwarded-for': '193.99.144.80', 'user-agent': 'warden-bench/1' };
      const probe = await fetch(`${g.url}${MESSAGES_PATH}`, { method: 'POST', headers, body: messagesBody(false) });
      if (probe.status !== 200) throw new Error(`${profile}: probe → ${probe.status}: ${(await probe.text()).slice(0, 400)}`);
      gateways[profile] = { ...g, headers };
      out(`  ${profile.padEnd(8)} ${g.url}  ${g.command} (run from ${runner.from}: ${runner.why})`);
    }
    out();

    const gen = new LoadGen();
    const body = messagesBody(false);
    for (let round = 1; round <= opts.rounds; round++) {
      for (const conc of opts.concurrency) {
        const order: Profile[] = round % 2 ? ['embedded', 'cluster'] : ['cluster', 'embedded'];
        for (const profile of order) {
          const g = gateways[profile];
          const url = `${g.url}${MESSAGES_PATH}`;
          if (opts.warmupS > 0) {
            await gen.load({ url, body, headers: g.headers, connections: conc, durationS: opts.warmupS, record: false });
          }
          await waitQuiet(g.proc.pid);
          const ours = [g.proc.pid, upstream.proc.pid, gen.child.pid!];
          const cpu0 = cpuMicros(g.proc.pid);
          const ours0 = ours.reduce((s, p) => s + cpuMicros(p), 0);
          const machine0 = machineBusyMicros();
          const r = await gen.load({ url, body, headers: g.headers, connections: conc, durationS: opts.durationS, record: true });
          const otherCores = (machineBusyMicros() - machine0 - (ours.reduce((s, p) => s + cpuMicros(p), 0) - ours0)) / (r.wallMs * 1000);
          // Work the run left behind (outbox relay, the store consumer writing to PostgreSQL) is charged to it.
          await waitQuiet(g.proc.pid);
          const cpu = cpuMicros(g.proc.pid) - cpu0;
          const run: Run = {
            round,
            concurrency: conc,
            profile,
            rps: (r.completed / r.wallMs) * 1000,
            p50Ms: r.latency.p50,
            p99Ms: r.latency.p99,
            cpuUsPerReq: r.completed ? cpu / r.completed : Number.NaN,
            completed: r.completed,
            failed: r.non2xx + r.errors,
            otherCores,
          };
          runs.push(run);
          out(`  r${round} c${String(conc).padEnd(3)} ${profile.padEnd(8)} ${lpad(fmt(run.rps, 0), 6)} req/s  p50 ${lpad(fmt(run.p50Ms, 2), 6)} ms  p99 ${lpad(fmt(run.p99Ms, 2), 6)} ms  CPU ${lpad(fmt(run.cpuUsPerReq, 0), 5)} µs/req  failed ${run.failed}  others ${fmt(otherCores, 1)} cores`);
        }
      }
    }
    gen.close();

    // Everything the cluster gateway accepted reached PostgreSQL?
    const admin = new pg.Pool({ connectionString: SERVICES.postgres, max: 1 });
    try {
      const stored = Number((await admin.query(`SELECT count(*) AS n FROM "${cluster.schema}".events`)).rows[0].n);
      const metrics = await (await fetch(`${gateways.cluster.url}/metrics`)).text();
      let handled = 0;
      for (const line of metrics.split('\n')) if (line.startsWith('warden_requests_total')) handled += Number(line.slice(line.lastIndexOf(' ') + 1));
      out(`\n  cluster: ${stored} usage events in PostgreSQL after the runs; the gateway counted ${handled} requests (warden_requests_total)`);
    } finally {
      await admin.end();
    }

    out('\nMedians over rounds (ratio = cluster ÷ embedded, same round, then the median of the ratios)');
    out('  conc  profile    req/s     p50 ms   p99 ms   CPU µs/req');
    const summary: Record<string, unknown>[] = [];
    for (const conc of opts.concurrency) {
      for (const profile of ['embedded', 'cluster'] as const) {
        const rs = runs.filter((r) => r.concurrency === conc && r.profile === profile);
        const m = { rps: medianOf(rs.map((r) => r.rps)), p50: medianOf(rs.map((r) => r.p50Ms)), p99: medianOf(rs.map((r) => r.p99Ms)), cpu: medianOf(rs.map((r) => r.cpuUsPerReq)) };
        summary.push({ concurrency: conc, profile, ...m });
        out(`  ${lpad(String(conc), 4)}  ${profile.padEnd(8)} ${lpad(fmt(m.rps, 0), 7)}  ${lpad(fmt(m.p50, 2), 7)}  ${lpad(fmt(m.p99, 2), 7)}  ${lpad(fmt(m.cpu, 0), 7)}`);
      }
      const ratio = (f: (r: Run) => number) =>
        medianOf(
          Array.from({ length: opts.rounds }, (_, i) => {
            const e = runs.find((r) => r.round === i + 1 && r.concurrency === conc && r.profile === 'embedded');
            const c = runs.find((r) => r.round === i + 1 && r.concurrency === conc && r.profile === 'cluster');
            return e && c ? f(c) / f(e) : Number.NaN;
          }),
        );
      const ratios = { rps: ratio((r) => r.rps), p50: ratio((r) => r.p50Ms), p99: ratio((r) => r.p99Ms), cpu: ratio((r) => r.cpuUsPerReq) };
      summary.push({ concurrency: conc, profile: 'ratio', ...ratios });
      out(`  ${lpad(String(conc), 4)}  ${'ratio'.padEnd(8)} ${lpad(`${fmt(ratios.rps, 2)}×`, 7)}  ${lpad(`${fmt(ratios.p50, 2)}×`, 7)}  ${lpad(`${fmt(ratios.p99, 2)}×`, 7)}  ${lpad(`${fmt(ratios.cpu, 2)}×`, 7)}`);
    }

    // The audit log: records appended as requests append them (batched per event-loop turn).
    if (opts.auditN > 0) {
      const keyDir = path.join(tmp, 'audit-key');
      const sqlite = openSqliteCaseStore({ path: path.join(tmp, 'audit-bench.db') });
      const pgStore = await openPostgresCaseStore({ connectionString: SERVICES.postgres, schema: cluster.schema, migrate: false });
      try {
        const rates = { sqlite: [] as number[], postgres: [] as number[] };
        for (let i = 0; i < Math.max(1, opts.rounds); i++) {
          rates.sqlite.push(await auditRate(sqlite, keyDir, opts.auditN, `bench-sqlite-${i}`));
          rates.postgres.push(await auditRate(pgStore, keyDir, opts.auditN, `bench-pg-${i}`));
        }
        auditResult = { sqlite: medianOf(rates.sqlite), postgres: medianOf(rates.postgres) };
        out(`\nAudit append (${opts.auditN} records per run, signed and chained in this process, batched): SQLite ${fmt(auditResult.sqlite, 0)} records/s, PostgreSQL ${fmt(auditResult.postgres, 0)} records/s (${fmt(auditResult.postgres / auditResult.sqlite, 2)}× SQLite)`);
      } finally {
        await sqlite.close();
        await pgStore.close();
      }
    }

    const file = path.join(ROOT, 'bench/results', `cluster-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ started: started.toISOString(), machine: { cpus: cpus.length, model: cpus[0]?.model, node: process.version, loadavgAtEnd: os.loadavg() }, options: opts, runs, summary, audit: auditResult }, null, 2));
    out(`\nload average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    out(`Results: ${path.relative(ROOT, file)}`);
    return runs.some((r) => r.failed / Math.max(1, r.completed) > 0.005) ? 1 : 0;
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    const admin = new pg.Pool({ connectionString: SERVICES.postgres, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${cluster.schema}" CASCADE`).catch(() => undefined);
    await admin.end();
    const redis = new Redis(SERVICES.redis);
    const keys = await redis.keys(`${cluster.redis_prefix}:*`).catch(() => [] as string[]);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    const nc = await connect({ servers: SERVICES.nats });
    await (await jetstreamManager(nc)).streams.delete(cluster.stream).catch(() => undefined);
    await nc.close();
    if (!flags.keep) rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

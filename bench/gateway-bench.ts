/**
 * `npm run bench:gateway`: the Warden gateway against the simulated upstream called directly
 * and against a bare node:http proxy (the Node floor), in alternation, at several
 * concurrencies, non-streaming and streaming. Every target is its own process, the load
 * generator (autocannon) another; this machine's speed drifts, so the three targets run back to
 * back for each cell, the cells repeat in rounds, and the report gives medians and same-round
 * ratios. Prints a table per cell, the streaming time to first byte, the policy decision's
 * microbenchmark, a pass/miss line per target, and writes JSON to bench/results/.
 *
 *   npm run bench:gateway                  full run (~8–10 min)
 *   npm run bench:gateway -- --quick       smoke run (~1.5 min)
 *   npm run bench:gateway -- --profile 10  then 10 s of `--cpu-prof` on Warden, summarized
 *   npm run bench:gateway -- --help
 */
import { fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeCpuProfile, type ProfileSummary } from './lib/cpu-profile.js';
import type { LoadCommand, LoadResult, TtfbCommand, TtfbResult } from './lib/load-worker.js';
import { benchPolicyDecision, type PolicyMicroResult } from './lib/policy-micro.js';
import { cpuMicros, machineBusyMicros, peakRssKb, resetPeakRss, sleep, waitQuiet, type Managed } from './lib/proc.js';
import { MESSAGES_PATH, messagesBody } from './lib/request.js';
import { median, medianOf, quantile } from './lib/stats.js';
import {
  adminCall,
  chooseRunner,
  provision,
  startBareProxy,
  startUpstream,
  startWarden,
  writeBenchPolicy,
  type BenchPolicy,
  type Credentials,
  type Started,
  type WardenStarted,
} from './lib/targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
type TargetName = 'direct' | 'bare' | 'warden';
type Mode = 'json' | 'stream';
const MODE_LABEL: Record<Mode, string> = { json: 'non-streaming', stream: 'streaming' };

const HELP = `npm run bench:gateway -- [options]
  --quick               a smoke run: 1 round of 2 s per run (about 1.5 minutes; too short to quote)
  --rounds N            rounds of the whole cycle (default 4; quick 1)
  --duration S          seconds per measured run (default 5; quick 2)
  --warmup S            seconds of unmeasured load before each run (default 1; quick 0.5)
  --concurrency LIST    default 1,16,64
  --modes LIST          json,stream (default both)
  --targets LIST        direct,bare,warden (default all)
  --ttfb N              sequential streaming requests per target for time to first byte (default 400; quick 100)
  --from dist|src       run Warden from the build or the sources (default: the build when up to date)
  --limit-factor N      multiply the demo policy's limits by N so the benchmark is not throttled (default 10000; 1 = as shipped)
  --client-ip IP        the client address sent in X-Forwarded-For (default 193.99.144.80, a German network)
  --profile S           afterwards, S seconds of load at concurrency 16 on Warden under --cpu-prof, summarized
  --keep                keep the temporary directory (configs, logs, databases)
  --help`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    concurrency: { type: 'string', default: '1,16,64' },
    modes: { type: 'string', default: 'json,stream' },
    targets: { type: 'string', default: 'direct,bare,warden' },
    ttfb: { type: 'string' },
    from: { type: 'string' },
    'limit-factor': { type: 'string', default: '10000' },
    'client-ip': { type: 'string', default: '193.99.144.80' },
    profile: { type: 'string' },
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
  rounds: num(flags.rounds, flags.quick ? 1 : 4),
  durationS: num(flags.duration, flags.quick ? 2 : 5),
  warmupS: num(flags.warmup, flags.quick ? 0.5 : 1),
  concurrency: flags.concurrency.split(',').map(Number),
  modes: flags.modes.split(',') as Mode[],
  targets: flags.targets.split(',') as TargetName[],
  ttfbN: num(flags.ttfb, flags.quick ? 100 : 400),
  limitFactor: num(flags['limit-factor'], 10_000),
  clientIp: flags['client-ip'],
  profileS: flags.profile ? Number(flags.profile) : 0,
};
if (flags.from && flags.from !== 'dist' && flags.from !== 'src') throw new Error(`--from must be dist or src, got "${flags.from}".`);

const out = (s = '') => process.stdout.write(`${s}\n`);
const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

// ----------------------------------------------------------------------------------------------
// The load generator process.

class LoadGen {
  private seq = 0;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly child: ChildProcess;
  constructor() {
    this.child = fork(path.join(ROOT, 'bench/lib/load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(`load generator: ${m.error}`));
    });
    this.child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load generator exited (${code})`));
      this.waiting.clear();
    });
  }
  private call<T>(cmd: LoadCommand | TtfbCommand): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...cmd, id });
    });
  }
  load(c: Omit<LoadCommand, 'kind'>) {
    return this.call<LoadResult>({ kind: 'load', ...c });
  }
  ttfb(c: Omit<TtfbCommand, 'kind'>) {
    return this.call<TtfbResult>({ kind: 'ttfb', ...c });
  }
  close() {
    this.child.disconnect();
  }
}

// ----------------------------------------------------------------------------------------------

interface RunRecord {
  round: number;
  mode: Mode;
  concurrency: number;
  target: TargetName;
  /** Position of this target within its cell in this round (0 = first). */
  order: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerReq: number;
  peakRssMb: number | null;
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  settleMs: number;
  /** CPU cores the rest of the machine (not the target, upstream or load generator) kept busy during the run. */
  otherCores: number;
  /** CPU cores the load generator used during the run (near 1.0: it may be the bottleneck). */
  loadGenCores: number;
  statusCodes: Record<string, number>;
}

interface Target {
  name: TargetName;
  url: string;
  /** The process whose CPU and memory are charged to this target. */
  proc: Managed;
}

async function probe(t: Target, headers: Record<string, string>): Promise<string> {
  const lines: string[] = [];
  for (const stream of [false, true]) {
    const res = await fetch(`${t.url}${MESSAGES_PATH}`, { method: 'POST', headers, body: messagesBody(stream) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${t.name}: probe ${stream ? 'streaming' : 'non-streaming'} request → ${res.status}: ${text.slice(0, 600)}`);
    if (stream && !text.includes('event: message_stop')) throw new Error(`${t.name}: the streamed answer has no message_stop:\n${text.slice(0, 600)}`);
    lines.push(`${stream ? 'stream' : 'json'} ${res.status} ${text.length} B`);
  }
  return lines.join(', ');
}

async function main(): Promise<number> {
  const started = new Date();
  // Configs, logs and databases live under bench/results/ (ignored by git), not in the shared
  // /tmp, where a cleanup of `warden-*` by another job once deleted a running benchmark's files.
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const tmp = mkdtempSync(path.join(ROOT, 'bench/results/tmp-'));
  const cpus = os.cpus();
  out(`Warden gateway benchmark — ${started.toISOString()}`);
  out(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'} (shared), ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}`);
  out(`plan: ${opts.rounds} round(s) × modes [${opts.modes.join(', ')}] × concurrency [${opts.concurrency.join(', ')}] × targets [${opts.targets.join(' → ')}] (order rotated each round), ${opts.warmupS} s warm-up + ${opts.durationS} s per run; TTFB ${opts.ttfbN} sequential streams per target`);
  out();

  // 1. The policy decision alone, before any server competes for the CPU.
  const policySource = path.join(ROOT, 'policies/demo.yaml');
  const benchPolicy: BenchPolicy = writeBenchPolicy(policySource, path.join(tmp, 'bench-policy.yaml'), opts.limitFactor);
  const micro: PolicyMicroResult = benchPolicyDecision(benchPolicy.file, flags.quick ? { batches: 200 } : {});

  // 2. The processes.
  const procs: Managed[] = [];
  const stopAll = async () => {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
  };
  try {
    let warden: WardenStarted | undefined;
    let wardenError: string | undefined;
    let creds: (Credentials & { token: string }) | undefined;
    const runner = chooseRunner(ROOT, flags.from as 'dist' | 'src' | undefined);
    const upstream = await startUpstream(ROOT, tmp);
    procs.push(upstream.proc);
    const targets: Target[] = [];
    const startedBy: Partial<Record<TargetName, Started>> = {};
    if (opts.targets.includes('direct')) targets.push({ name: 'direct', url: upstream.url, proc: upstream.proc });
    if (opts.targets.includes('bare')) {
      const bare = await startBareProxy(ROOT, tmp, upstream.url);
      procs.push(bare.proc);
      startedBy.bare = bare;
      targets.push({ name: 'bare', url: bare.url, proc: bare.proc });
    }
    if (opts.targets.includes('warden')) {
      try {
        warden = await startWarden(ROOT, tmp, { upstreamUrl: upstream.url, policyFile: benchPolicy.file, runner });
        procs.push(warden.proc);
        creds = await provision(warden);
        targets.push({ name: 'warden', url: warden.url, proc: warden.proc });
      } catch (e) {
        wardenError = e instanceof Error ? e.message : String(e);
        out(`!! The Warden target could not be started; benchmarking the others only.\n${wardenError}\n`);
      }
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': creds?.key ?? 'sk-not-used',
      'x-forwarded-for': opts.clientIp,
      'user-agent': 'warden-bench/1',
    };

    // 3. Every target answers, and Warden's decision on the benchmark's request is "allow".
    const probes: Record<string, string> = {};
    for (const t of targets) probes[t.name] = await probe(t, headers);
    let wardenEvent: Record<string, unknown> | undefined;
    if (warden && creds) {
      for (let i = 0; i < 100 && !wardenEvent; i++) {
        const r = await adminCall<{ events: Record<string, unknown>[] }>(warden.url, creds.token, 'GET', `/events?account_id=${creds.accountId}&limit=5`);
        wardenEvent = r.events[0];
        if (!wardenEvent) await sleep(50);
      }
    }

    // 4. The configuration.
    out('Configuration');
    out(`  simulated upstream   ${upstream.url}  (latency 0 ms, own process)  ${upstream.command}`);
    if (startedBy.bare) out(`  bare Node proxy      ${startedBy.bare.url}  bench/bare-proxy.ts: forwards, parses the JSON/SSE, keeps usage per key in memory`);
    if (warden) {
      out(`  Warden gateway       ${warden.url}  ${warden.command}`);
      out(`    run from           ${runner.from} (${runner.why})`);
      out(`    policy             ${benchPolicy.source} → ${benchPolicy.file}: ${micro.rules} rules, ${micro.limits} limits${benchPolicy.factor !== 1 ? `, every limit ×${benchPolicy.factor} (the demo's own 600 requests/min per key would refuse the benchmark after its first 600 requests)` : ' (as shipped)'}`);
      for (const l of benchPolicy.limits) out(`      limit ${pad(l.id, 22)} ${pad(l.scope, 8)} ${Object.entries(l.values).map(([k, v]) => `${k} ${v.toLocaleString('en')} (demo ${l.scaledFrom[k]?.toLocaleString('en')})`).join(', ')}`);
      out(`    intel              IP lists (ASN, country, custom networks: the demo's), screening: sanctions lists${warden.configText.includes('watchlist:') ? ' + watchlists/demo.yaml' : ''}, org ${creds?.orgId} screened "${creds?.screening}"`);
      out(`    rate limits        counted on every request (key, org scopes); feature extraction on; durable usage events on (outbox → bus → SQLite)`);
      out(`    config             ${warden.configFile}`);
      for (const line of warden.configText.trimEnd().split('\n')) out(`      | ${line}`);
      if (wardenEvent) {
        out(`    first event        decision ${wardenEvent['decision']} (${wardenEvent['decision_rule']}), client ${wardenEvent['ip']} → country ${wardenEvent['country'] ?? '-'}, ASN ${wardenEvent['asn'] ?? '-'}, features ${wardenEvent['features'] ? 'extracted' : 'absent'}, tokens ${wardenEvent['input_tokens']}/${wardenEvent['output_tokens']}`);
      } else out('    first event        (none recorded within 5 s of the probe)');
    } else if (opts.targets.includes('warden')) out('  Warden gateway       NOT RUNNING (see above)');
    out(`  request              POST ${MESSAGES_PATH}, ${Buffer.byteLength(messagesBody(false))} B body (claude-sonnet-4-5, system prompt, 3 turns), x-api-key, X-Forwarded-For ${opts.clientIp}`);
    out(`  load generator       autocannon (programmatic API) in its own process, keep-alive, pipelining 1; latencies exact per response`);
    out(`  probes               ${Object.entries(probes).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
    out();

    // 5. The rounds.
    const gen = new LoadGen();
    const runs: RunRecord[] = [];
    const t0 = performance.now();
    for (let round = 1; round <= opts.rounds; round++) {
      for (const mode of opts.modes) {
        const body = messagesBody(mode === 'stream');
        for (const conc of opts.concurrency) {
          const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
          for (const [pos, t] of order.entries()) {
            const url = `${t.url}${MESSAGES_PATH}`;
            if (opts.warmupS > 0) await gen.load({ url, body, headers, connections: conc, durationS: opts.warmupS, record: false });
            await waitQuiet(t.proc.pid);
            const hasPeak = resetPeakRss(t.proc.pid);
            const ours = [...new Set([t.proc.pid, upstream.proc.pid, gen.child.pid!])];
            const cpu0 = cpuMicros(t.proc.pid);
            const ours0 = ours.reduce((s, p) => s + cpuMicros(p), 0);
            const gen0 = cpuMicros(gen.child.pid!);
            const machine0 = machineBusyMicros();
            const r = await gen.load({ url, body, headers, connections: conc, durationS: opts.durationS, record: true });
            const loadGenCores = (cpuMicros(gen.child.pid!) - gen0) / (r.wallMs * 1000);
            const otherCores = (machineBusyMicros() - machine0 - (ours.reduce((s, p) => s + cpuMicros(p), 0) - ours0)) / (r.wallMs * 1000);
            const settleMs = await waitQuiet(t.proc.pid);
            const cpu1 = cpuMicros(t.proc.pid);
            const peak = hasPeak ? peakRssKb(t.proc.pid) : undefined;
            const rec: RunRecord = {
              round,
              mode,
              concurrency: conc,
              target: t.name,
              order: pos,
              rps: (r.completed / r.wallMs) * 1000,
              p50Ms: r.latency.p50,
              p99Ms: r.latency.p99,
              cpuUsPerReq: r.completed > 0 ? (cpu1 - cpu0) / r.completed : Number.NaN,
              peakRssMb: peak !== undefined ? peak / 1024 : null,
              completed: r.completed,
              non2xx: r.non2xx,
              errors: r.errors,
              timeouts: r.timeouts,
              settleMs,
              otherCores,
              loadGenCores,
              statusCodes: r.statusCodes,
            };
            runs.push(rec);
            const bad = rec.completed > 0 ? (rec.non2xx + rec.errors) / (rec.completed + rec.errors) : 1;
            out(
              `  r${round} ${pad(MODE_LABEL[mode], 13)} c${pad(String(conc), 3)} ${pad(t.name, 6)} ${lpad(fmt(rec.rps, 0), 6)} req/s  p50 ${lpad(fmt(rec.p50Ms, 2), 6)} ms  p99 ${lpad(fmt(rec.p99Ms, 2), 6)} ms  CPU ${lpad(fmt(rec.cpuUsPerReq, 0), 4)} µs/req  RSS peak ${rec.peakRssMb !== null ? fmt(rec.peakRssMb, 0) : '?'} MB  non-2xx ${rec.non2xx} errors ${rec.errors}  load gen ${fmt(loadGenCores, 2)} / others ${fmt(otherCores, 1)} cores${bad > 0.005 ? `  !! ${(bad * 100).toFixed(2)}% failed: ${JSON.stringify(rec.statusCodes)}` : ''}${settleMs > 1000 ? `  (settled after ${fmt(settleMs / 1000, 1)} s)` : ''}`,
            );
          }
        }
      }
    }
    const loadSeconds = (performance.now() - t0) / 1000;

    // 6. Streaming time to first byte, request by request in alternation.
    let ttfb: TtfbResult | undefined;
    if (opts.ttfbN > 0 && opts.modes.includes('stream')) {
      out(`\n  time to first byte: ${opts.ttfbN} sequential streaming requests per target, alternating…`);
      ttfb = await gen.ttfb({ targets: targets.map((t) => ({ name: t.name, url: `${t.url}${MESSAGES_PATH}` })), body: messagesBody(true), headers, n: opts.ttfbN, warmup: 20 });
    }

    // Warden's durable-event pipeline at the end (everything it accepted should be stored).
    let wardenPipeline: Record<string, number> | undefined;
    if (warden) wardenPipeline = await scrapeMetrics(warden.url);
    gen.close();

    // 7. Report.
    const report = buildReport(runs, ttfb, micro, targets.map((t) => t.name));
    out();
    for (const line of report.lines) out(line);
    if (wardenPipeline) out(`\nWarden's usage-event pipeline after the run: ${Object.entries(wardenPipeline).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const peaks = Object.fromEntries(targets.map((t) => [t.name, (peakRssKb(t.proc.pid) ?? 0) / 1024]));
    out(`Peak RSS over the whole run (VmHWM, after the last reset): ${Object.entries(peaks).map(([k, v]) => `${k} ${fmt(v, 0)} MB`).join(', ')}`);

    const resultsDir = path.join(ROOT, 'bench/results');
    const file = path.join(resultsDir, `gateway-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    const results: Record<string, unknown> = {
      started: started.toISOString(),
      machine: { cpus: cpus.length, model: cpus[0]?.model, node: process.version, loadavg: os.loadavg() },
      options: opts,
      runner,
      policy: { ...benchPolicy, micro },
      warden: warden ? { url: warden.url, command: warden.command, config: warden.configText, firstEvent: wardenEvent } : { error: wardenError },
      loadSeconds,
      runs,
      ttfb: ttfb ? summarizeTtfb(ttfb) : undefined,
      summary: report.summary,
      checks: report.checks,
      wardenPipeline,
      peakRssMb: peaks,
    };
    writeFileSync(file, JSON.stringify(results, null, 2));

    // 8. Optional profile of Warden (after the results are safe on disk).
    if (opts.profileS > 0 && warden && creds) {
      try {
        const profile = await profileWarden(warden, upstream.url, benchPolicy.file, runner, tmp, headers, opts.profileS, procs);
        out(`\nWarden CPU profile (${opts.profileS} s at concurrency 16, non-streaming; node --cpu-prof; self time, busy ${fmt(profile.busyMs, 0)} ms of ${fmt(profile.totalMs, 0)} ms):`);
        out('  by module:');
        for (const r of profile.modules.slice(0, 15)) out(`    ${lpad(fmt(r.share * 100, 1), 5)}%  ${lpad(fmt(r.selfMs, 0), 6)} ms  ${r.name}`);
        out('  by function:');
        for (const r of profile.functions.slice(0, 25)) out(`    ${lpad(fmt(r.share * 100, 1), 5)}%  ${lpad(fmt(r.selfMs, 0), 6)} ms  ${r.name}  ${r.where}`);
        out('  inclusive, our own functions (synchronous stretches; an async function restarts after each await):');
        for (const r of profile.inclusive.slice(0, 20)) out(`    ${lpad(fmt(r.share * 100, 1), 5)}%  ${lpad(fmt(r.selfMs, 0), 6)} ms  ${r.name}  ${r.where}`);
        writeFileSync(file, JSON.stringify({ ...results, profile }, null, 2));
      } catch (e) {
        out(`\n!! The profile could not be taken: ${e instanceof Error ? e.message : String(e)}`);
      }
    }

    out(`\nResults: ${path.relative(ROOT, file)}  (load phase ${fmt(loadSeconds, 0)} s)`);
    if (flags.keep) out(`Kept: ${tmp}`);
    const failedRuns = runs.filter((r) => (r.non2xx + r.errors) / Math.max(1, r.completed + r.errors) > 0.005);
    if (failedRuns.length) {
      out(`\n!! FAILED: ${failedRuns.length} run(s) had more than 0.5% non-2xx responses or errors; their figures are not comparable:`);
      for (const r of failedRuns) out(`   r${r.round} ${r.mode} c${r.concurrency} ${r.target}: ${r.non2xx} non-2xx, ${r.errors} errors of ${r.completed} (${JSON.stringify(r.statusCodes)})`);
      return 1;
    }
    if (wardenError) return 1;
    return 0;
  } finally {
    await stopAll();
    if (!flags.keep) rmSync(tmp, { recursive: true, force: true });
  }
}

async function scrapeMetrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string) => {
    let s = 0;
    for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) s += Number(line.slice(line.lastIndexOf(' ') + 1));
    return s;
  };
  return { requests_total: sum('warden_requests_total'), outbox_backlog: sum('warden_outbox_backlog'), bus_pending: sum('warden_bus_pending') };
}

function summarizeTtfb(t: TtfbResult) {
  return Object.fromEntries(
    Object.entries(t.byTarget).map(([k, v]) => [k, { n: v.ttfbMs.length, non2xx: v.non2xx, ttfbP50Ms: quantile(v.ttfbMs, 0.5), ttfbP99Ms: quantile(v.ttfbMs, 0.99), totalP50Ms: quantile(v.totalMs, 0.5), bytesPerStream: v.ttfbMs.length ? v.bytes / v.ttfbMs.length : 0 }]),
  );
}

// ----------------------------------------------------------------------------------------------
// Aggregation and the report.

interface CellSummary {
  mode: Mode;
  concurrency: number;
  byTarget: Partial<Record<TargetName, { rps: number; p50Ms: number; p99Ms: number; cpuUsPerReq: number; peakRssMb: number | null; rounds: number }>>;
  /** Medians over rounds of same-round ratios. */
  ratios: { rpsVsBare?: number; rpsVsDirect?: number; cpuVsBare?: number; bareRpsVsDirect?: number; addedP50Ms?: number; addedP99Ms?: number; bareAddedP50Ms?: number; bareAddedP99Ms?: number };
}

interface Check {
  target: string;
  pass: boolean | null;
  detail: string;
}

function buildReport(runs: RunRecord[], ttfb: TtfbResult | undefined, micro: PolicyMicroResult, names: TargetName[]) {
  const lines: string[] = [];
  const cells: CellSummary[] = [];
  const modes = [...new Set(runs.map((r) => r.mode))];
  const concs = [...new Set(runs.map((r) => r.concurrency))];
  const rounds = [...new Set(runs.map((r) => r.round))];
  const get = (mode: Mode, c: number, t: TargetName, round: number) => runs.find((r) => r.mode === mode && r.concurrency === c && r.target === t && r.round === round);
  const perRound = (mode: Mode, c: number, f: (round: number) => number | undefined) => medianOf(rounds.map((rd) => f(rd) ?? Number.NaN));

  for (const mode of modes) {
    for (const c of concs) {
      const cell: CellSummary = { mode, concurrency: c, byTarget: {}, ratios: {} };
      for (const t of names) {
        const rs = runs.filter((r) => r.mode === mode && r.concurrency === c && r.target === t);
        if (!rs.length) continue;
        const peaks = rs.map((r) => r.peakRssMb).filter((v): v is number => v !== null);
        cell.byTarget[t] = {
          rps: median(rs.map((r) => r.rps)),
          p50Ms: median(rs.map((r) => r.p50Ms)),
          p99Ms: median(rs.map((r) => r.p99Ms)),
          cpuUsPerReq: median(rs.map((r) => r.cpuUsPerReq)),
          peakRssMb: peaks.length ? Math.max(...peaks) : null,
          rounds: rs.length,
        };
      }
      const ratio = (a: TargetName, b: TargetName, k: 'rps' | 'cpuUsPerReq') => perRound(mode, c, (rd) => {
        const x = get(mode, c, a, rd);
        const y = get(mode, c, b, rd);
        return x && y ? x[k] / y[k] : undefined;
      });
      const diff = (a: TargetName, k: 'p50Ms' | 'p99Ms') => perRound(mode, c, (rd) => {
        const x = get(mode, c, a, rd);
        const y = get(mode, c, 'direct', rd);
        return x && y ? x[k] - y[k] : undefined;
      });
      cell.ratios = {
        rpsVsBare: ratio('warden', 'bare', 'rps'),
        rpsVsDirect: ratio('warden', 'direct', 'rps'),
        cpuVsBare: ratio('warden', 'bare', 'cpuUsPerReq'),
        bareRpsVsDirect: ratio('bare', 'direct', 'rps'),
        addedP50Ms: diff('warden', 'p50Ms'),
        addedP99Ms: diff('warden', 'p99Ms'),
        bareAddedP50Ms: diff('bare', 'p50Ms'),
        bareAddedP99Ms: diff('bare', 'p99Ms'),
      };
      cells.push(cell);

      lines.push(`${MODE_LABEL[mode]}, concurrency ${c} (median of ${rounds.length} round${rounds.length > 1 ? 's' : ''}; ratios are medians of same-round ratios)`);
      lines.push(`  ${pad('target', 8)} ${lpad('req/s', 7)} ${lpad('p50 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('CPU µs/req', 10)} ${lpad('peak RSS MB', 11)} ${lpad('×direct', 8)} ${lpad('×bare', 6)} ${lpad('CPU×bare', 8)} ${lpad('+p50 ms', 8)} ${lpad('+p99 ms', 8)}`);
      for (const t of names) {
        const s = cell.byTarget[t];
        if (!s) continue;
        const vsDirect = t === 'direct' ? 1 : t === 'bare' ? cell.ratios.bareRpsVsDirect! : cell.ratios.rpsVsDirect!;
        const vsBare = t === 'bare' ? 1 : t === 'warden' ? cell.ratios.rpsVsBare! : Number.NaN;
        const cpuBare = t === 'bare' ? 1 : t === 'warden' ? cell.ratios.cpuVsBare! : Number.NaN;
        const a50 = t === 'direct' ? 0 : t === 'bare' ? cell.ratios.bareAddedP50Ms! : cell.ratios.addedP50Ms!;
        const a99 = t === 'direct' ? 0 : t === 'bare' ? cell.ratios.bareAddedP99Ms! : cell.ratios.addedP99Ms!;
        lines.push(
          `  ${pad(t, 8)} ${lpad(fmt(s.rps, 0), 7)} ${lpad(fmt(s.p50Ms, 2), 7)} ${lpad(fmt(s.p99Ms, 2), 7)} ${lpad(fmt(s.cpuUsPerReq, 0), 10)} ${lpad(s.peakRssMb !== null ? fmt(s.peakRssMb, 0) : '?', 11)} ${lpad(fmt(vsDirect, 2), 8)} ${lpad(fmt(vsBare, 2), 6)} ${lpad(fmt(cpuBare, 2), 8)} ${lpad(fmt(a50, 2), 8)} ${lpad(fmt(a99, 2), 8)}`,
        );
      }
      lines.push('');
    }
  }

  let ttfbSummary: ReturnType<typeof summarizeTtfb> | undefined;
  let ttfbAdded: number | undefined;
  if (ttfb) {
    ttfbSummary = summarizeTtfb(ttfb);
    const d = ttfbSummary['direct'];
    lines.push(`streaming time to first byte (concurrency 1, ${d?.n ?? '?'} requests per target, alternating)`);
    lines.push(`  ${pad('target', 8)} ${lpad('p50 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('+p50 ms', 8)} ${lpad('+p99 ms', 8)} ${lpad('whole p50', 9)}`);
    for (const t of names) {
      const s = ttfbSummary[t];
      if (!s) continue;
      const a50 = d ? s.ttfbP50Ms - d.ttfbP50Ms : Number.NaN;
      const a99 = d ? s.ttfbP99Ms - d.ttfbP99Ms : Number.NaN;
      if (t === 'warden') ttfbAdded = a50;
      lines.push(`  ${pad(t, 8)} ${lpad(fmt(s.ttfbP50Ms, 3), 7)} ${lpad(fmt(s.ttfbP99Ms, 3), 7)} ${lpad(fmt(a50, 3), 8)} ${lpad(fmt(a99, 3), 8)} ${lpad(fmt(s.totalP50Ms, 3), 9)}${s.non2xx ? `  !! ${s.non2xx} non-2xx` : ''}`);
    }
    lines.push('');
  }
  lines.push(`policy decision alone (${micro.rules} rules, ${micro.limits} limits; ${micro.batches} batches of ${micro.callsPerBatch} calls): median ${fmt(micro.medianUs, 2)} µs, p99 ${fmt(micro.p99Us, 2)} µs per decision (decides ${micro.decision} by ${micro.rule})`);
  lines.push('');

  // Targets from the issue.
  const checks: Check[] = [];
  const cell = (m: Mode, c: number) => cells.find((x) => x.mode === m && x.concurrency === c);
  const check = (target: string, value: number | undefined, ok: (v: number) => boolean, detail: (v: number) => string) => {
    if (value === undefined || !Number.isFinite(value)) checks.push({ target, pass: null, detail: 'not measured in this run' });
    else checks.push({ target, pass: ok(value), detail: detail(value) });
  };
  const hasWarden = names.includes('warden');
  if (hasWarden) {
    for (const m of modes) {
      for (const c of [16, 64]) {
        const x = cell(m, c);
        check(`throughput ≥ 0.85× bare proxy (${MODE_LABEL[m]}, c${c})`, x?.ratios.rpsVsBare, (v) => v >= 0.85, (v) => `${fmt(v, 2)}× (Warden ${fmt(x!.byTarget.warden?.rps ?? NaN, 0)} req/s, bare ${fmt(x!.byTarget.bare?.rps ?? NaN, 0)} req/s)`);
      }
    }
    for (const m of modes) {
      for (const c of [16, 64]) {
        const x = cell(m, c);
        check(`CPU per request ≤ 1.3× bare proxy (${MODE_LABEL[m]}, c${c})`, x?.ratios.cpuVsBare, (v) => v <= 1.3, (v) => `${fmt(v, 2)}× (Warden ${fmt(x!.byTarget.warden?.cpuUsPerReq ?? NaN, 0)} µs, bare ${fmt(x!.byTarget.bare?.cpuUsPerReq ?? NaN, 0)} µs)`);
      }
    }
    const x16 = cell('json', 16);
    check('≥ 8× Portkey (Portkey ≈ 0.04× direct per the issue, so ≥ 0.32× direct; non-streaming, c16)', x16?.ratios.rpsVsDirect, (v) => v >= 0.32, (v) => `${fmt(v, 2)}× direct ≈ ${fmt(v / 0.04, 1)}× Portkey`);
    const x1 = cell('json', 1);
    check('added latency p50 ≤ 0.5 ms over direct (non-streaming, c1)', x1?.ratios.addedP50Ms, (v) => v <= 0.5, (v) => `+${fmt(v, 3)} ms (Warden ${fmt(x1!.byTarget.warden?.p50Ms ?? NaN, 3)}, direct ${fmt(x1!.byTarget.direct?.p50Ms ?? NaN, 3)}; bare +${fmt(x1!.ratios.bareAddedP50Ms ?? NaN, 3)})`);
    check('added latency p99 ≤ 3 ms over direct (non-streaming, c16)', x16?.ratios.addedP99Ms, (v) => v <= 3, (v) => `+${fmt(v, 2)} ms (Warden ${fmt(x16!.byTarget.warden?.p99Ms ?? NaN, 2)}, direct ${fmt(x16!.byTarget.direct?.p99Ms ?? NaN, 2)}; bare +${fmt(x16!.ratios.bareAddedP99Ms ?? NaN, 2)})`);
    check('streaming time to first byte ≤ 1 ms over direct (p50, c1)', ttfbAdded, (v) => v <= 1, (v) => `+${fmt(v, 3)} ms`);
  }
  check('policy decision alone ≤ 20 µs median', micro.medianUs, (v) => v <= 20, (v) => `${fmt(v, 2)} µs`);
  const maxPeak = Math.max(...runs.filter((r) => r.target === 'warden' && r.peakRssMb !== null).map((r) => r.peakRssMb!), -1);
  if (hasWarden) checks.push({ target: 'peak memory (recorded, no target)', pass: null, detail: `Warden ${maxPeak > 0 ? fmt(maxPeak, 0) : '?'} MB peak RSS within a run; bare ${fmt(Math.max(...runs.filter((r) => r.target === 'bare' && r.peakRssMb !== null).map((r) => r.peakRssMb!), -1), 0)} MB` });

  lines.push('targets');
  for (const c of checks) lines.push(`  ${c.pass === true ? 'PASS' : c.pass === false ? 'MISS' : '    '}  ${c.target}: ${c.detail}`);
  return { lines, checks, summary: { cells, ttfb: ttfbSummary } };
}

// ----------------------------------------------------------------------------------------------

async function profileWarden(w: WardenStarted, upstreamUrl: string, policyFile: string, runner: ReturnType<typeof chooseRunner>, tmp: string, headers: Record<string, string>, seconds: number, procs: Managed[]): Promise<ProfileSummary> {
  // A fresh Warden process under --cpu-prof on the same data (the key stays valid).
  await w.proc.stop();
  const dir = path.join(tmp, 'cpu-prof');
  mkdirSync(dir, { recursive: true });
  const port = Number(new URL(w.url).port);
  const pw = await startWarden(ROOT, tmp, { upstreamUrl, policyFile, runner, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir], logName: 'warden-profile.log', port });
  procs.push(pw.proc);
  const gen = new LoadGen();
  const url = `${pw.url}${MESSAGES_PATH}`;
  await gen.load({ url, body: messagesBody(false), headers, connections: 16, durationS: 1, record: false });
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const r = await gen.load({ url, body: messagesBody(false), headers, connections: 16, durationS: seconds, record: true });
  const toUs = Number(process.hrtime.bigint() / 1000n);
  gen.close();
  await waitQuiet(pw.proc.pid);
  await pw.proc.stop(20_000);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (!files.length) throw new Error(`--cpu-prof wrote no profile into ${dir}; see ${pw.proc.logFile}`);
  out(`\n  profiled run: ${fmt((r.completed / r.wallMs) * 1000, 0)} req/s, ${r.non2xx} non-2xx (profiling slows the process)`);
  const keep = path.join(ROOT, 'bench/results', `warden-${Date.now()}.cpuprofile`);
  copyFileSync(path.join(dir, files[0]!), keep);
  out(`  profile kept: ${path.relative(ROOT, keep)} (open in Chrome DevTools → Performance, or speedscope)`);
  const summary = summarizeCpuProfile(path.join(dir, files[0]!), ROOT, 25, { fromUs, toUs });
  out(summary.windowed ? '  (samples of the measured load only; start-up and warm-up left out)' : '  (the whole process: the load window did not match the profile clock)');
  return summary;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`gateway-bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);

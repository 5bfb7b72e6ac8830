/**
 * Batch analysis of a world on disk (e.g. one written by `bench/sim-scale.ts --out DIR` or
 * `warden simulate`), for the scale target: wall time, events per second, peak memory, and the
 * same run's read + JSON.parse pass over the events file as the side-by-side baseline.
 *
 *   node --import tsx bench/detection-scale.ts --dir DIR [--no-baseline] [--max-heap MB] [--young-mb MB] [--in-thread]
 *
 * By default the analysis runs as `warden analyze` runs it: in a worker thread with its own heap
 * limit (`--max-heap`, default 3200 MiB) and young generation (src/cli/analyze-worker.ts).
 * `--in-thread` calls `analyze()` in this thread instead (then Node's own flags set the heap).
 *
 * Peak memory is the process's high-water resident set (VmHWM from /proc/self/status, which
 * includes the baseline pass; `process.resourceUsage().maxRSS` elsewhere) besides the sampled
 * heap. Progress goes to stderr with the time and RSS of each phase, so a crash shows where.
 * The baseline runs first: its own peak is printed separately so the two can be told apart.
 */
import { createReadStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { parseArgs } from 'node:util';
import { analyze, type AnalyzeProgress } from '../src/detection/index.js';
import { openIpIntel } from '../src/intel/index.js';
import { analyzeInWorker, DEFAULT_MAX_HEAP_MB } from '../src/cli/analyze-worker.js';
import { ownRss } from './lib/proc.js';

const { values } = parseArgs({ options: { dir: { type: 'string' }, 'no-baseline': { type: 'boolean', default: false }, 'max-heap': { type: 'string', default: String(DEFAULT_MAX_HEAP_MB) }, 'in-thread': { type: 'boolean', default: false }, 'young-mb': { type: 'string' } } });
if (!values.dir) throw new Error('give --dir DIR: a world directory with accounts.jsonl and events.jsonl (or .gz)');
const pick = (base: string): string => (existsSync(join(values.dir!, `${base}.jsonl`)) ? join(values.dir!, `${base}.jsonl`) : join(values.dir!, `${base}.jsonl.gz`));
const eventsFile = pick('events');
// Opened in this thread only for --in-thread (the worker opens its own).
const intel = (): ReturnType<typeof openIpIntel> => openIpIntel();

const mb = (b: number): string => `${(b / 1e6).toFixed(0)} MB`;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const t00 = performance.now();
const log = (msg: string): void => {
  const m = ownRss();
  process.stderr.write(`[${((performance.now() - t00) / 1000).toFixed(1)} s] ${msg}  rss ${mb(m.now)} (peak ${mb(m.hwm)}) heap ${mb(process.memoryUsage().heapUsed)}\n`);
};
log(`events file ${eventsFile} (${mb(statSync(eventsFile).size)})`);

/** CPU seconds (user + system, all threads) of this process since `c0`: on a shared machine the
 * wall time also counts waiting for a core, the CPU time does not. */
const cpuS = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
let c = process.cpuUsage();
let t = performance.now();
let lines = 0;
let readCpu = NaN;
let readS = NaN;
if (!values['no-baseline']) {
  const raw = createReadStream(eventsFile);
  for await (const line of createInterface({ input: eventsFile.endsWith('.gz') ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity })) {
    JSON.parse(line);
    if (++lines % 2_000_000 === 0) log(`baseline ${fmt(lines)} lines`);
  }
  readS = (performance.now() - t) / 1000;
  readCpu = cpuS(c);
  log(`baseline done: ${fmt(lines)} lines in ${readS.toFixed(1)} s`);
}
const baselinePeak = ownRss().hwm;

let peakHeap = 0;
let peakRss = 0;
const timer = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  peakRss = Math.max(peakRss, ownRss().now);
}, 250);
c = process.cpuUsage();
t = performance.now();
// analyze reports 'accounts' along the way and once when the accounts are loaded, 'events' along
// the way, 'clusters' when the events are done and 'write' when the verdicts are computed.
const firstAt = new Map<string, number>();
const lastAt = new Map<string, number>();
let lastPhase = '';
let lastEvents = 0;
const onProgress = (p: AnalyzeProgress): void => {
  const now = performance.now();
  if (!firstAt.has(p.phase)) firstAt.set(p.phase, now);
  lastAt.set(p.phase, now);
  if (p.phase !== lastPhase) log(`phase ${p.phase}: ${fmt(p.accounts)} accounts, ${fmt(p.events)} events`);
  else if (p.phase === 'events' && Math.floor(p.events / 1_000_000) > Math.floor(lastEvents / 1_000_000)) log(`events ${fmt(p.events)}`);
  lastPhase = p.phase;
  lastEvents = p.events;
};
const outDir = join(values.dir, 'detection-out');
const inWorker = !values['in-thread'];
const r = inWorker
  ? await analyzeInWorker({ accountsFile: pick('accounts'), eventsFile, outDir, intel: { custom_networks: [] } }, { maxHeapMb: Number(values['max-heap']), ...(values['young-mb'] ? { youngMb: Number(values['young-mb']) } : {}) }, { progress: onProgress })
  : await analyze({ accountsFile: pick('accounts'), eventsFile, outDir, intel: intel(), onProgress });
const s = (performance.now() - t) / 1000;
const analyzeCpu = cpuS(c);
const tEnd = performance.now();
const accEnd = lastAt.get('accounts') ?? t;
const evEnd = firstAt.get('clusters') ?? tEnd;
const clEnd = firstAt.get('write') ?? tEnd;
const phases = [`read accounts ${((accEnd - t) / 1000).toFixed(1)} s`, `events ${((evEnd - accEnd) / 1000).toFixed(1)} s`, `finish (scores, clusters) ${((clEnd - evEnd) / 1000).toFixed(1)} s`, `write verdicts ${((tEnd - clEnd) / 1000).toFixed(1)} s`];
clearInterval(timer);
const end = ownRss();
log('done');
// For bench/duckdb-aggregates.ts (the ratio) and the record.
writeFileSync(
  join(values.dir, 'detection-scale.json'),
  JSON.stringify({ analyze_seconds: s, analyze_cpu_seconds: analyzeCpu, baseline_cpu_seconds: readCpu, events: r.summary.events, accounts: r.summary.accounts, vm_hwm_bytes: end.hwm, peak_heap_bytes: peakHeap, baseline_seconds: readS, finished_at: new Date().toISOString(), load_average: loadavg() }) + '\n',
);
process.stdout.write(
  [
    `${fmt(r.summary.accounts)} accounts, ${fmt(r.summary.events)} events (skipped ${r.summary.skipped_lines}; degraded: ${r.summary.degraded_detectors.join('; ') || 'none'})`,
    values['no-baseline'] ? 'baseline read + JSON.parse: not run (--no-baseline)' : `baseline read + JSON.parse: ${readS.toFixed(1)} s wall, ${readCpu.toFixed(1)} s CPU (${fmt(lines / readS)} lines/s wall), peak RSS after it ${mb(baselinePeak)}`,
    `analyze: ${s.toFixed(1)} s wall (${fmt(r.summary.events / s)} events/s${values['no-baseline'] ? '' : `, ${(s / readS).toFixed(1)}× the baseline`}), ${analyzeCpu.toFixed(1)} s CPU (${fmt(r.summary.events / analyzeCpu)} events per CPU-second${values['no-baseline'] ? '' : `, ${(analyzeCpu / readCpu).toFixed(1)}× the baseline`})`,
    `${fmt(r.flagged)} flagged, ${fmt(r.clusters)} clusters; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(" ")} on ${cpus().length} cores`,
    `analyze phases: ${phases.join(', ')}`,
    `${inWorker ? `worker thread, heap limit ${values['max-heap']} MB (the heap is the worker's: not sampled here)` : `peak heap ${mb(peakHeap)} (sampled every 250 ms)`}, peak RSS during analyze ${mb(peakRss)} (sampled), process VmHWM ${mb(end.hwm)}`,
    `verdicts file ${r.verdictsFile} (${mb(statSync(r.verdictsFile).size)})`,
  ].join('\n') + '\n',
);

/**
 * Batch analysis of a world on disk (e.g. one written by `bench/sim-scale.ts --out DIR` or
 * `warden simulate`), for the scale target: wall time, events per second, peak memory, and the
 * same run's read + JSON.parse pass over the events file as the side-by-side baseline.
 *
 *   node --import tsx bench/detection-scale.ts --dir DIR
 */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { parseArgs } from 'node:util';
import { analyze } from '../src/detection/index.js';
import { openIpIntel } from '../src/intel/index.js';

const { values } = parseArgs({ options: { dir: { type: 'string' } } });
if (!values.dir) throw new Error('give --dir DIR: a world directory with accounts.jsonl and events.jsonl (or .gz)');
const pick = (base: string): string => (existsSync(join(values.dir!, `${base}.jsonl`)) ? join(values.dir!, `${base}.jsonl`) : join(values.dir!, `${base}.jsonl.gz`));
const eventsFile = pick('events');
const intel = openIpIntel();

let t = performance.now();
let lines = 0;
const raw = createReadStream(eventsFile);
for await (const line of createInterface({ input: eventsFile.endsWith('.gz') ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity })) {
  JSON.parse(line);
  lines++;
}
const readS = (performance.now() - t) / 1000;

let peakHeap = 0;
const timer = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 250);
t = performance.now();
const r = await analyze({ accountsFile: pick('accounts'), eventsFile, outDir: join(values.dir, 'detection-out'), intel });
const s = (performance.now() - t) / 1000;
clearInterval(timer);
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
process.stdout.write(
  [
    `${fmt(r.summary.accounts)} accounts, ${fmt(r.summary.events)} events (skipped ${r.summary.skipped_lines}; degraded: ${r.summary.degraded_detectors.join('; ') || 'none'})`,
    `baseline read + JSON.parse: ${readS.toFixed(1)} s (${fmt(lines / readS)} lines/s)`,
    `analyze: ${s.toFixed(1)} s (${fmt(r.summary.events / s)} events/s, ${(s / readS).toFixed(1)}× the baseline), ${fmt(r.flagged)} flagged, ${fmt(r.clusters)} clusters`,
    `peak heap ${(peakHeap / 1e6).toFixed(0)} MB, max RSS ${(process.resourceUsage().maxRSS / 1e3).toFixed(0)} MB`,
    `per 1M accounts / 10M events at these rates: ${((10_000_000 / r.summary.events) * s / 60).toFixed(1)} min; heap ≈ ${((peakHeap / Math.max(1, r.summary.accounts)) * 1e6 / 1e9).toFixed(1)} GB if it scales with accounts`,
  ].join('\n') + '\n',
);

/**
 * Simulator throughput and memory at scale. Generates a world of `--accounts N` accounts
 * (about ten requests each over a week, content off) and, side by side in the same run,
 * a baseline that only serialises and writes the same number of comparable event lines with
 * the same writer; prints the ratio, events per second and the memory per account.
 *
 *   npx tsx bench/sim-scale.ts --accounts 100000 [--real] [--out DIR]
 *
 * `--real` samples networks from the real databases (src/intel); the default uses the small
 * fixture sampler so the run measures the simulator, not the database load.
 *
 * `--content features` writes events as a gateway does without raw-text retention
 * (docs/interchange.md): each event carries `features` (prompt features v1 of the simulated
 * prompt and system text: the scenario's `content: features`) and no `prompt`/`system`.
 * `--content raw` writes the text itself; the default `none` writes neither. With content the
 * simulator also generates the text, so those runs are slower than `none`.
 * `--no-baseline` skips the side-by-side write baseline (to generate a world only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fixtureSampler, LineWriter, parseScenario, simulate, type SimSampler } from '../src/sim/index.js';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '50000' },
    real: { type: 'boolean', default: false },
    out: { type: 'string' },
    content: { type: 'string', default: 'none' },
    'no-baseline': { type: 'boolean', default: false },
  },
});
const n = Number(values.accounts);
const contentMode = values.content;
if (contentMode !== 'none' && contentMode !== 'raw' && contentMode !== 'features') throw new Error('--content is none, raw or features');
const out = values.out ?? mkdtempSync(join(tmpdir(), 'warden-bench-'));

const scenario = parseScenario({
  name: `scale-${n}`,
  seed: 1,
  start: '2026-03-02T00:00:00Z',
  days: 7,
  content: contentMode,
  watchlist: { entities: [{ id: 'example-conglomerate', name: 'Example Conglomerate Group Holding Ltd', kind: 'competitor', asns: [64500] }] },
  custom_networks: [{ label: 'entity-cloud:example-conglomerate', cidrs: ['203.0.113.0/24'], asns: [64500], country: 'CN' }],
  pools: { resi: { countries: ['US', 'GB', 'DE', 'BR', 'IN'], network_types: ['residential', 'mobile'], size: Math.max(100, Math.round(n / 50)) } },
  populations: [
    { kind: 'developer', count: Math.round(n * 0.6), rate: 1.6 },
    { kind: 'proxy_user', count: Math.round(n * 0.1), pool: 'resi', rate: 1.6 },
    { kind: 'enterprise', orgs: Math.max(1, Math.round(n / 400)), accounts_per_org: [20, 60], rate: 2 },
    { kind: 'course', students: Math.round(n * 0.05), rate: 1.5 },
  ],
  campaigns: [
    { kind: 'hydra', accounts: Math.round(n * 0.1), rate: 1.6, pool: 'resi' },
    { kind: 'region_evasion', accounts: Math.round(n * 0.05), rate: 1.6 },
  ],
});

let sampler: SimSampler = fixtureSampler();
if (values.real) {
  const { openIpIntel } = await import('../src/intel/index.js');
  sampler = openIpIntel({ customNetworks: scenario.custom_networks });
}

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heap0 = process.memoryUsage().heapUsed;
let peakHeap = heap0;
const t0 = performance.now();
const res = await simulate(scenario, join(out, 'world'), {
  sampler,
  progressEvery: 100_000,
  onProgress: () => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  },
});
const simS = (performance.now() - t0) / 1000;

const mb = (b: number) => (b / 1e6).toFixed(0);
console.log(`accounts ${res.accounts}  events ${res.events}  bytes ${mb(res.bytes)} MB  content ${contentMode}`);
console.log(`simulate        ${simS.toFixed(1)} s  ${(res.events / simS).toFixed(0)} events/s`);
if (values['no-baseline']) {
  console.log(`heap: peak ${mb(peakHeap)} MB; max RSS ${mb(process.resourceUsage().maxRSS * 1e3)} MB`);
  if (!values.out) rmSync(out, { recursive: true, force: true });
  process.exit(0);
}

// Baseline: serialise and write the same number of event-like lines with the same writer.
const t1 = performance.now();
const w = new LineWriter(join(out, 'baseline.jsonl'));
const base = { event_id: 'evt_0000000000000000', ts: '', account_id: 'acc_000000000000', key_id: 'key_000000000000', ip: '203.0.113.7', user_agent: 'Anthropic/Python 0.49.0', country: 'US', asn: 7922, endpoint: 'messages', model: 'claude-sonnet-4-5', stream: true, status: 200, input_tokens: 812, output_tokens: 377, latency_ms: 5120, turns: 3, tools: 0 };
const start = Date.parse(scenario.start);
for (let i = 0; i < res.events; i++) {
  base.ts = new Date(start + i * 61).toISOString();
  base.input_tokens = i % 4000;
  await w.write(JSON.stringify(base));
}
await w.close();
const baseS = (performance.now() - t1) / 1000;

console.log(`baseline write  ${baseS.toFixed(1)} s  ${(res.events / baseS).toFixed(0)} lines/s`);
console.log(`ratio simulate / baseline: ${(simS / baseS).toFixed(2)}`);
console.log(`heap: peak ${mb(peakHeap)} MB, ${((peakHeap - heap0) / res.accounts).toFixed(0)} bytes per account above the start; rss ${mb(process.memoryUsage().rss)} MB`);
if (!values.out) rmSync(out, { recursive: true, force: true });

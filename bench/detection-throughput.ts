/**
 * Detection engine throughput on events that carry gateway features (no raw text), against a
 * baseline measured side by side in the same run: a plain per-account counter pass (requests
 * and tokens in a Map) over the same in-memory events. Also reports heap per account, so the
 * 1M-account / 10M-event batch target can be extrapolated.
 *
 *   node --import tsx bench/detection-throughput.ts [--events 400000] [--accounts 40000]
 */
import { parseArgs } from 'node:util';
import { extractFeatures, type Account, type UsageEvent } from '../src/core/index.js';
import { mkdtempSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { analyze, DetectionEngine } from '../src/detection/index.js';
import { openIpIntel } from '../src/intel/index.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '400000' },
    accounts: { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '3' },
    /** Also run the batch path end to end (write JSONL, `analyze()` it) against a read+JSON.parse baseline. */
    file: { type: 'boolean', default: false },
  },
});
const N = Number(values.events);
const A = Number(values.accounts);
const ROUNDS = Number(values.rounds);

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}
const r = lcg(42);
const prompts = [
  'What is a good recipe for dinner tonight with chicken and rice?',
  "A farmer has 17 sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.",
  'Answer the following multiple choice question.\n\nWhich gas do plants absorb?\nA. Oxygen\nB. Carbon dioxide\nC. Nitrogen\nD. Helium',
  'def add(a, b):\n    """Return the sum of a and b."""\n',
  'Write a short, friendly email to my landlord about the broken heater.',
  '请帮我写一封给客户的道歉信。',
];
const features = Array.from({ length: 600 }, (_, i) => extractFeatures({ lastUser: `${prompts[i % prompts.length]} ${i}`, turns: 1 + (i % 5), tools: i % 7 === 0 ? 3 : 0 }));
const accounts: Account[] = Array.from({ length: A }, (_, i) => ({
  account_id: `acc_${i}`,
  created_at: '2025-12-01T00:00:00Z',
  declared_country: 'US',
  payment_fingerprint: `pm_${Math.floor(i / (i % 50 === 0 ? 4 : 1))}`,
  device_fingerprint: `dev_${i}`,
  signup_ip: `${20 + (i % 150)}.${(i >> 8) & 255}.${i & 255}.7`,
}));
const T0 = Date.parse('2026-02-02T00:00:00Z');
const span = 14 * 24 * 3_600_000;
const events: UsageEvent[] = Array.from({ length: N }, (_, i) => {
  const a = Math.floor(r() * A);
  return {
    event_id: `e${i}`,
    ts: new Date(T0 + Math.floor((i / N) * span)).toISOString(),
    account_id: `acc_${a}`,
    key_id: `key_${a}`,
    ip: `${20 + (a % 150)}.${(a >> 8) & 255}.${Math.floor(r() * 4)}.${1 + (a & 127)}`,
    country: 'US',
    asn: 7922,
    user_agent: 'python-httpx/0.27.2',
    input_tokens: 300 + (i % 700),
    output_tokens: 200 + (i % 500),
    turns: 1 + (i % 5),
    tools: 0,
    features: features[i % features.length]!,
  };
});

const intel = openIpIntel();
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;

function baseline(): number {
  const m = new Map<string, { n: number; tok: number; last: number }>();
  for (const e of events) {
    const id = e.account_id!;
    let s = m.get(id);
    if (!s) m.set(id, (s = { n: 0, tok: 0, last: 0 }));
    s.n++;
    s.tok += (e.input_tokens ?? 0) + (e.output_tokens ?? 0);
    s.last = Date.parse(e.ts);
  }
  return m.size;
}

function engineRun(): DetectionEngine {
  const eng = new DetectionEngine({ intel, clusterEveryMs: 24 * 3_600_000 });
  for (const a of accounts) eng.addAccount(a);
  for (const e of events) eng.ingest(e);
  return eng;
}

function featuresOnly(): void {
  const eng = new DetectionEngine({ intel, autoEvaluate: false });
  for (const a of accounts) eng.addAccount(a);
  for (const e of events) eng.ingest(e);
}

const feat: number[] = [];
const base: number[] = [];
const eng: number[] = [];
let engineForHeap: DetectionEngine | null = null;
for (let k = 0; k < ROUNDS; k++) {
  let t = performance.now();
  baseline();
  base.push(performance.now() - t);
  t = performance.now();
  featuresOnly();
  feat.push(performance.now() - t);
  t = performance.now();
  const e = engineRun();
  eng.push(performance.now() - t);
  if (k === ROUNDS - 1) engineForHeap = e;
}
const best = (xs: number[]): number => Math.min(...xs);
const rate = (ms: number): string => `${Math.round(N / (ms / 1000)).toLocaleString('en-US')} events/s`;
global.gc?.();
const heapWith = process.memoryUsage().heapUsed;
const held = engineForHeap!;
engineForHeap = null;
void held;
const finishT = performance.now();
const out = held.finish();
const finishMs = performance.now() - finishT;
const counts = { accounts: out.accounts.length, clusters: out.clusters.length };
(out as { accounts: unknown[] }).accounts = [];
global.gc?.();
const heapMid = process.memoryUsage().heapUsed;
void heapMid;
process.stdout.write(
  [
    `events ${N.toLocaleString('en-US')} (gateway features, no text) over ${A.toLocaleString('en-US')} accounts, best of ${ROUNDS}`,
    `baseline (per-account counter pass): ${rate(best(base))}`,
    `streaming features only:             ${rate(best(feat))}  (${(best(feat) / best(base)).toFixed(1)}× the baseline's time)`,
    `engine with online re-scoring:       ${rate(best(eng))}  (${(best(eng) / best(base)).toFixed(1)}× the baseline's time; hourly scoring, clusters every 6 h)`,
    `finish (clusters + verdicts):        ${(finishMs / 1000).toFixed(1)} s for ${counts.accounts.toLocaleString('en-US')} accounts, ${counts.clusters} clusters`,
    global.gc ? `heap with the engine's state: ${(heapWith / 1e6).toFixed(0)} MB (baseline process before any engine: ${(heap0 / 1e6).toFixed(0)} MB) → ~${Math.round((heapWith - heap0) / A).toLocaleString('en-US')} bytes per account` : 'run with node --expose-gc for heap per account',
  ].join('\n') + '\n',
);

if (values.file) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-detection-bench-'));
  try {
    writeFileSync(join(dir, 'accounts.jsonl'), accounts.map((a) => JSON.stringify(a)).join('\n') + '\n');
    writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    let t = performance.now();
    let lines = 0;
    for await (const line of createInterface({ input: createReadStream(join(dir, 'events.jsonl')), crlfDelay: Infinity })) {
      JSON.parse(line);
      lines++;
    }
    const readMs = performance.now() - t;
    t = performance.now();
    const r = await analyze({ accountsFile: join(dir, 'accounts.jsonl'), eventsFile: join(dir, 'events.jsonl'), outDir: dir, intel });
    const anMs = performance.now() - t;
    process.stdout.write(
      [
        `batch from files: read + JSON.parse baseline ${rate(readMs)} (${lines.toLocaleString('en-US')} lines)`,
        `batch analyze() end to end:          ${rate(anMs)}  (${(anMs / readMs).toFixed(1)}× the baseline's time; ${r.flagged} flagged, ${r.clusters} clusters)`,
        `extrapolated to 10M events: ${((10_000_000 / N) * anMs / 60_000).toFixed(1)} min at this rate`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Detection engine ingestion throughput (events that carry gateway `features`, no text), printed
 * as events/s beside baselines measured in the same run on the same in-memory events:
 *
 * - a plain loop: per-account request and token counters in a Map (what any pass over the
 *   events costs at least);
 * - optionally another copy of the engine (`--against DIR`, a checkout's root: e.g. the previous
 *   commit exported with `git archive HEAD src | tar -x -C /tmp/warden-head`), so a change is
 *   measured as a ratio against the engine it replaces.
 *
 * Two engine passes: streaming features only (`autoEvaluate: false`) and the full engine with
 * hourly online re-scoring and cluster rebuilds. The workload mimics a gateway's traffic: 40k
 * accounts, sessions of a few requests from one address, a share of accounts on rotating proxies,
 * ISO timestamps, a few user agents and keys per account. Best of `--rounds`; this machine is
 * shared: rates are per CPU-second of this process (user + system time, so other processes'
 * turns on the core do not count), and ratios are the figures to compare. `node --cpu-prof` on it
 * shows where the time goes.
 *
 *   node --import tsx bench/engine-bench.ts [--events 400000] [--accounts 40000] [--rounds 3] [--against /tmp/warden-head]
 *
 * Add `--expose-gc` (`node --expose-gc --import tsx …`) so the heap is collected before each pass:
 * without it a pass can pay for the garbage the previous pass (often the other engine) left.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { extractFeatures, type Account, type UsageEvent } from '../src/core/index.js';
import { DetectionEngine } from '../src/detection/index.js';
import { openIpIntel } from '../src/intel/index.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '400000' },
    accounts: { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '3' },
    against: { type: 'string' },
    only: { type: 'string' },
  },
});
const N = Number(values.events);
const A = Number(values.accounts);
const ROUNDS = Number(values.rounds);
if (!(N > 0) || !(A > 0) || !(ROUNDS > 0)) throw new Error('--events, --accounts and --rounds must be positive numbers');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
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
const features = Array.from({ length: 600 }, (_, i) =>
  extractFeatures({ ...(i % 3 === 0 ? { system: 'You are a careful assistant. Reason step by step in full detail.' } : {}), lastUser: `${prompts[i % prompts.length]} ${i % 40}`, turns: 1 + (i % 5), tools: i % 7 === 0 ? 3 : 0 }),
);
const countries = ['US', 'GB', 'DE', 'FR', 'JP', 'SG', 'BR', 'IN'];
const uas = ['python-httpx/0.27.2', 'Anthropic/JS 0.30.1', 'OpenAI/Python 1.40.0', 'curl/8.5.0'];
const accounts: Account[] = Array.from({ length: A }, (_, i) => ({
  account_id: `acc_${i}`,
  created_at: '2025-12-01T00:00:00Z',
  declared_country: countries[i % countries.length]!,
  payment_fingerprint: `pm_${Math.floor(i / (i % 50 === 0 ? 4 : 1))}`,
  device_fingerprint: `dev_${i}`,
  signup_ip: `${20 + (i % 150)}.${(i >> 8) & 255}.${i & 255}.7`,
}));
const T0 = Date.parse('2026-02-02T00:00:00Z');
const span = 14 * 24 * 3_600_000;
/** A tenth of the accounts rotate exits per session across a pool of residential blocks. */
const rotating = (a: number): boolean => a % 10 === 0;
const events: UsageEvent[] = [];
{
  // Sessions: an account sends 1–8 requests from one address, one client, a few seconds apart.
  let i = 0;
  while (i < N) {
    const a = Math.floor(r() * A);
    const len = 1 + Math.floor(r() * 8);
    const ip = rotating(a) ? `${60 + Math.floor(r() * 60)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 250)}` : `${20 + (a % 150)}.${(a >> 8) & 255}.${Math.floor(r() * 3)}.${1 + (a & 127)}`;
    const ua = uas[(a + (r() < 0.1 ? 1 : 0)) % uas.length]!;
    const country = rotating(a) ? countries[Math.floor(r() * countries.length)]! : countries[a % countries.length]!;
    for (let k = 0; k < len && i < N; k++, i++) {
      events.push({
        event_id: `e${i}`,
        ts: new Date(T0 + Math.floor((i / N) * span)).toISOString(),
        account_id: `acc_${a}`,
        key_id: `key_${a}_${a % 3 === 0 ? k % 2 : 0}`,
        ip,
        country,
        asn: 7922 + (a % 40),
        user_agent: ua,
        input_tokens: 300 + (i % 700),
        output_tokens: 200 + (i % 500),
        turns: 1 + (i % 5),
        tools: 0,
        features: features[(a * 7 + k) % features.length]!,
      });
    }
  }
}

const intel = openIpIntel();

interface EngineLike {
  addAccount(a: Account): void;
  ingest(e: UsageEvent): void;
}
type EngineCtor = new (o: { intel: typeof intel; autoEvaluate?: boolean }) => EngineLike;

function plainLoop(): number {
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

function run(Engine: EngineCtor, autoEvaluate: boolean): void {
  const eng = new Engine({ intel, autoEvaluate });
  for (const a of accounts) eng.addAccount(a);
  for (const e of events) eng.ingest(e);
}

const passes: { name: string; fn: () => void; ms: number[] }[] = [];
if (!values.only || values.only === 'plain') passes.push({ name: 'plain loop (per-account counters)', fn: () => void plainLoop(), ms: [] });
let Other: EngineCtor | null = null;
if (values.against) {
  const mod = (await import(pathToFileURL(resolve(values.against, 'src/detection/index.ts')).href)) as { DetectionEngine: EngineCtor };
  Other = mod.DetectionEngine;
}
if (!values.only || values.only === 'features') {
  if (Other) passes.push({ name: 'baseline engine: features only', fn: () => run(Other!, false), ms: [] });
  passes.push({ name: 'engine: features only', fn: () => run(DetectionEngine, false), ms: [] });
}
if (!values.only || values.only === 'engine') {
  if (Other) passes.push({ name: 'baseline engine: full (online re-scoring, clusters)', fn: () => run(Other!, true), ms: [] });
  passes.push({ name: 'engine: full (online re-scoring, clusters)', fn: () => run(DetectionEngine, true), ms: [] });
}
// CPU time of this process (user + system), not wall time: on a shared machine the wall clock
// counts other processes' turns on the core; the CPU time is what this pass cost one core.
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let k = 0; k < ROUNDS; k++) {
  for (const p of passes) {
    global.gc?.();
    const t = cpuMs();
    p.fn();
    p.ms.push(cpuMs() - t);
  }
}
const best = (xs: number[]): number => Math.min(...xs);
const rate = (ms: number): number => N / (ms / 1000);
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(11);
const plain = passes.find((p) => p.name.startsWith('plain'));
const lines = [`${N.toLocaleString('en-US')} events (gateway features, no text) over ${A.toLocaleString('en-US')} accounts, events per CPU-second (one core), best of ${ROUNDS}; target 100,000 events/s`];
for (const p of passes) {
  const ms = best(p.ms);
  const vsPlain = plain && p !== plain ? `  ${(ms / best(plain.ms)).toFixed(1)}× the plain loop's time` : '';
  const twin = p.name.startsWith('engine:') ? passes.find((q) => q.name === `baseline ${p.name}`) : undefined;
  const vsTwin = twin ? `  ${(best(twin.ms) / ms).toFixed(2)}× the baseline engine's rate` : '';
  lines.push(`${p.name.padEnd(52)} ${fmt(rate(ms))} events/s${vsPlain}${vsTwin}`);
}
process.stdout.write(lines.join('\n') + '\n');

/**
 * Policy decision time with the demo policy (policies/demo.yaml) over a mix of realistic
 * request contexts, against a hand-written if-chain of the same rules measured side by side.
 *
 *   npx tsx bench/policy-bench.ts [--contexts 20000] [--rounds 6]
 *
 * Prints per-call median and p99 (each call timed with hrtime; the timer's own cost is measured
 * and shown, not subtracted) and batch throughput, for both, and the ratios engine / if-chain.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LimitSpec, PolicyDecision, RequestContext } from '../src/core/index.js';
import { compilePolicy, makeRequestContext } from '../src/policy/index.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('contexts', 20_000);
const ROUNDS = arg('rounds', 6);

const text = readFileSync(fileURLToPath(new URL('../policies/demo.yaml', import.meta.url)), 'utf8');
const engine = compilePolicy(text, { version: 1, file: 'policies/demo.yaml' });

// ---------------------------------------------------------------------------------------------
// Contexts: a seeded mix, mostly ordinary traffic.
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1', 'gpt-5-mini', 'gpt-4.1', 'o3-mini'];
const COUNTRIES = ['US', 'US', 'US', 'DE', 'GB', 'JP', 'IN', 'BR', 'FR', 'SG', 'KR', 'CA'];
const LEVELS = ['none', 'email', 'phone', 'id', 'business', 'business'] as const;
const NETWORKS = ['residential', 'residential', 'business', 'mobile', 'hosting'] as const;
const USES = ['internal', 'consumer', 'research', 'reseller', 'evaluation'] as const;

function context(i: number): RequestContext {
  const r = rnd();
  const base = {
    model: pick(MODELS),
    endpoint: rnd() < 0.9 ? ('messages' as const) : ('embeddings' as const),
    stream: rnd() < 0.5,
    end_user_id: rnd() < 0.5 ? `u_${i % 97}` : undefined,
    client: { country: pick(COUNTRIES), asn: 64496 + (i % 4), network_type: pick(NETWORKS), anonymizers: [], labels: [] },
    org: { id: `org_${i % 500}`, verification: pick(LEVELS), declared_use: pick(USES), declared_country: 'US', payment_country: 'US' },
    account: { id: `acc_${i % 2000}`, risk: rnd() * 0.45 },
  };
  if (r < 0.8) return makeRequestContext(base);
  if (r < 0.83) return makeRequestContext({ ...base, client: { ...base.client, country: pick(['CN', 'RU', 'IR']) } });
  if (r < 0.85) return makeRequestContext({ ...base, client: { ...base.client, anonymizers: [pick(['tor', 'vpn', 'proxy'] as const)] } });
  if (r < 0.9) return makeRequestContext({ ...base, account: { ...base.account, risk: 0.5 + rnd() * 0.5 } });
  if (r < 0.93) return makeRequestContext({ ...base, account: { ...base.account, labels: [pick(['hydra_member', 'distillation', 'key_sharing', 'undeclared_reseller', 'reseller_customer_traffic'])] } });
  if (r < 0.95) return makeRequestContext({ ...base, org: { ...base.org, screening: pick(['hit', 'unscreened', 'restricted_ownership'] as const) } });
  if (r < 0.96) return makeRequestContext({ ...base, client: { ...base.client, asn: 64500 } });
  if (r < 0.98) return makeRequestContext({ ...base, enforcement: { decision: pick(['degrade', 'step_up', 'block', 'throttle'] as const), action_id: 'act_1', reason: 'x' } });
  return makeRequestContext({ ...base, org: { ...base.org, id: 'org_demo_enterprise', verification: 'business' } });
}
const contexts = Array.from({ length: N }, (_, i) => context(i));

// ---------------------------------------------------------------------------------------------
// Baseline: the demo policy's rules written by hand as one if-chain, most severe first.
const V = '@1';
const RESTRICTED = new Set(['CN', 'RU', 'IR', 'KP', 'SY', 'CU']);
const FRONTIER = /^(?:claude-opus-.*|gpt-5.*|o3.*)$/is;
const GEN = new Set(['messages', 'chat.completions', 'responses', 'completions']);
const LV: Record<string, number> = { none: 0, email: 1, phone: 2, id: 3, business: 4 };
const lv = (c: RequestContext): number => (c.org ? LV[c.org.verification]! : Infinity);
const has = (xs: readonly string[] | undefined, x: string): boolean => xs !== undefined && xs.includes(x);
const URL_ = 'https://console.warden.example/verify';
const M = {
  block: 'This request is not permitted under the usage policy. Contact support if you believe this is a mistake.',
  step_up: 'This request needs additional verification of your organisation. Complete verification at the link provided, then retry.',
  degrade: 'This request was served with reduced capabilities. Contact support to restore full service.',
  throttle: 'This API key is limited to a lower request rate for now. Slow down and retry after a minute.',
};
const lim = (rule: string, scope: LimitSpec['scope'], kind: LimitSpec['kind'], limit: number): LimitSpec => ({ rule: rule + V, scope, kind, limit });

// Limits are memoised per combination of conditions, as a careful hand-writer (and the engine) would.
const limitMemo = new Map<number, LimitSpec[]>();
function handLimits(c: RequestContext, throttle?: LimitSpec[]): LimitSpec[] {
  const unverified = lv(c) < 1;
  const vip = c.org?.id === 'org_demo_enterprise';
  const risky = (c.account?.risk ?? -1) >= 0.5;
  const bits = (unverified ? 1 : 0) | (vip ? 2 : 0) | (risky ? 4 : 0);
  let base = limitMemo.get(bits);
  if (!base) limitMemo.set(bits, (base = buildLimits(unverified, vip, risky)));
  if (!throttle) return base;
  const out = [...base];
  for (const t of throttle) {
    const i = out.findIndex((s) => s.scope === t.scope && s.kind === t.kind);
    if (i < 0) out.push(t);
    else if (t.limit < out[i]!.limit) out[i] = t;
  }
  return out;
}

function buildLimits(unverified: boolean, vip: boolean, risky: boolean): LimitSpec[] {
  const out: LimitSpec[] = [
    unverified ? lim('key-unverified', 'key', 'requests_per_minute', 30) : lim('key-default', 'key', 'requests_per_minute', 600),
    lim('key-default', 'key', 'tokens_per_minute', 400000),
    vip ? lim('demo-enterprise', 'org', 'requests_per_minute', 20000) : unverified ? lim('org-unverified', 'org', 'requests_per_minute', 60) : lim('org-default', 'org', 'requests_per_minute', 3000),
    vip ? lim('demo-enterprise', 'org', 'tokens_per_minute', 20000000) : unverified ? lim('org-unverified', 'org', 'tokens_per_minute', 100000) : lim('org-default', 'org', 'tokens_per_minute', 2000000),
    vip ? lim('demo-enterprise', 'org', 'monthly_tokens', 5000000000) : unverified ? lim('org-unverified', 'org', 'monthly_tokens', 5000000) : lim('org-default', 'org', 'monthly_tokens', 500000000),
  ];
  if (risky) out.push(lim('account-elevated-risk', 'account', 'tokens_per_minute', 50000));
  return out;
}

const ADVERSARY = /^adversary:/i;
const anyAdversary = (labels: string[]): boolean => {
  for (let i = 0; i < labels.length; i++) if (ADVERSARY.test(labels[i]!)) return true;
  return false;
};
const NO_LIMITS: LimitSpec[] = [];
const block = (rule: string, message: string): PolicyDecision => ({ decision: 'block', rule, message, limits: NO_LIMITS });
const stepUp = (rule: string, message: string): PolicyDecision => ({ decision: 'step_up', rule, message, verify_url: URL_, limits: NO_LIMITS });
const mon = (rule: string, c: RequestContext): PolicyDecision => ({ decision: 'monitor', rule, limits: handLimits(c) });

function handDecide(c: RequestContext): PolicyDecision {
  const cl = c.client;
  const o = c.org;
  const a = c.account;
  const enf = c.enforcement?.decision;
  if (cl.country !== undefined && RESTRICTED.has(cl.country)) return block('region-client@1', 'Requests from this region are not supported.');
  if (o?.declared_country !== undefined && RESTRICTED.has(o.declared_country)) return block('region-org-declared@1', '…');
  if (o?.payment_country !== undefined && RESTRICTED.has(o.payment_country)) return block('region-payment@1', '…');
  if (has(a?.labels, 'region_evasion')) return block('region-evasion@1', '…');
  if (o?.screening === 'hit') return block('screening-hit@1', '…');
  if (o?.screening === 'restricted_ownership') return block('screening-ownership@1', '…');
  if (has(o?.screening_entities, 'example-conglomerate')) return block('screening-entity@1', '…');
  if (a?.attributed_entity === 'example-conglomerate' || has(a?.labels, 'prohibited_entity')) return block('attributed-entity@1', '…');
  if (cl.asn === 64500 || anyAdversary(cl.labels)) return block('adversary-network@1', '…');
  if (enf === 'block') return block('enforcement-suspended@1', '…');
  if (has(cl.anonymizers, 'tor')) return block('tor-exit@1', '…');
  if (enf === 'step_up') return stepUp('enforcement-verify@1', '…');
  if ((has(cl.anonymizers, 'vpn') || has(cl.anonymizers, 'proxy')) && lv(c) < 2) return stepUp('anonymizer-unverified@1', '…');
  if (c.model !== undefined && FRONTIER.test(c.model) && lv(c) < 4) return stepUp('frontier-needs-business@1', '…');
  if (o?.screening === 'unscreened' && GEN.has(c.endpoint)) return stepUp('unscreened-org@1', '…');
  if ((a?.risk ?? -1) >= 0.9) return stepUp('risk-critical@1', '…');
  if (has(a?.labels, 'hydra_member')) return stepUp('hydra-member@1', '…');
  if (has(a?.labels, 'undeclared_reseller') && o?.declared_use !== 'reseller') return stepUp('undeclared-reseller@1', '…');
  if (has(a?.labels, 'distillation') || has(a?.labels, 'capability_probing'))
    return { decision: 'degrade', rule: 'distillation' + V, message: '…', params: { max_output_tokens: 512, strip_thinking: true }, limits: handLimits(c) };
  if ((a?.risk ?? -1) >= 0.7) return { decision: 'degrade', rule: 'risk-high' + V, message: M.degrade, params: { max_output_tokens: 2048, strip_thinking: true }, limits: handLimits(c) };
  if (enf === 'degrade') return { decision: 'degrade', rule: 'enforcement' + V, message: M.degrade, params: { max_output_tokens: 1024, strip_thinking: true }, limits: handLimits(c) };
  if (has(a?.labels, 'key_sharing'))
    return { decision: 'throttle', rule: 'key-sharing' + V, message: '…', params: { requests_per_minute: 20 }, limits: handLimits(c, [lim('key-sharing', 'key', 'requests_per_minute', 20)]) };
  if (o?.declared_use === 'reseller' && !c.end_user_id && GEN.has(c.endpoint))
    return { decision: 'throttle', rule: 'reseller-without-end-user' + V, message: '…', params: { requests_per_minute: 30 }, limits: handLimits(c, [lim('reseller-without-end-user', 'key', 'requests_per_minute', 30)]) };
  if (c.endpoint === 'embeddings' && lv(c) < 1)
    return {
      decision: 'throttle',
      rule: 'embeddings-unverified' + V,
      message: M.throttle,
      params: { requests_per_minute: 30, tokens_per_minute: 200000 },
      limits: handLimits(c, [lim('embeddings-unverified', 'key', 'requests_per_minute', 30), lim('embeddings-unverified', 'key', 'tokens_per_minute', 200000)]),
    };
  if (enf === 'throttle')
    return { decision: 'throttle', rule: 'enforcement' + V, message: M.throttle, params: { requests_per_minute: 10 }, limits: handLimits(c, [lim('enforcement', 'key', 'requests_per_minute', 10)]) };
  if (cl.network_type === 'hosting' && lv(c) < 3) return mon('hosting-unverified@1', c);
  if ((a?.risk ?? -1) >= 0.5) return mon('risk-elevated@1', c);
  if (o?.declared_use === 'evaluation' && c.model !== undefined && FRONTIER.test(c.model)) return mon('evaluation-frontier@1', c);
  if (has(a?.labels, 'reseller_customer_traffic')) return mon('reseller-customer-traffic@1', c);
  return { decision: 'allow', rule: 'default@1', limits: handLimits(c) };
}

// ---------------------------------------------------------------------------------------------
// Agreement check: the baseline must decide as the engine does, or the comparison is void.
let disagreements = 0;
const sortLimits = (l: LimitSpec[]): string => JSON.stringify([...l].sort((x, y) => (x.scope + x.kind).localeCompare(y.scope + y.kind)));
for (const c of contexts) {
  const a = engine.decide(c);
  const b = handDecide(c);
  if (a.decision !== b.decision || a.rule !== b.rule || sortLimits(a.limits) !== sortLimits(b.limits)) {
    if (disagreements++ < 3) console.error('disagreement', JSON.stringify({ ctx: c, engine: a, baseline: b }));
  }
}

// ---------------------------------------------------------------------------------------------
let sink = 0;
function perCall(fn: (c: RequestContext) => PolicyDecision, out: number[]): void {
  for (let i = 0; i < contexts.length; i++) {
    const t0 = process.hrtime.bigint();
    const d = fn(contexts[i]!);
    const t1 = process.hrtime.bigint();
    sink += d.limits.length;
    out.push(Number(t1 - t0));
  }
}
function batch(fn: (c: RequestContext) => PolicyDecision): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < contexts.length; i++) sink += fn(contexts[i]!).limits.length;
  return Number(process.hrtime.bigint() - t0) / contexts.length;
}
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: number[]): number => quantile(xs, 0.5);

const engineFn = (c: RequestContext) => engine.decide(c);
// Warm-up: let both reach optimised code.
for (let i = 0; i < 3; i++) (batch(engineFn), batch(handDecide));

const timerCost: number[] = [];
for (let i = 0; i < 20_000; i++) {
  const t0 = process.hrtime.bigint();
  timerCost.push(Number(process.hrtime.bigint() - t0));
}

const e: number[] = [];
const h: number[] = [];
const eb: number[] = [];
const hb: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Alternate which runs first, so drift on a shared machine falls on both.
  if (r % 2 === 0) (perCall(engineFn, e), perCall(handDecide, h), eb.push(batch(engineFn)), hb.push(batch(handDecide)));
  else (perCall(handDecide, h), perCall(engineFn, e), hb.push(batch(handDecide)), eb.push(batch(engineFn)));
}

const fmt = (ns: number): string => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const rows = [
  ['', 'engine', 'if-chain', 'ratio'],
  ['per-call median', fmt(median(e)), fmt(median(h)), (median(e) / median(h)).toFixed(2)],
  ['per-call p99', fmt(quantile(e, 0.99)), fmt(quantile(h, 0.99)), (quantile(e, 0.99) / quantile(h, 0.99)).toFixed(2)],
  ['batch mean/decision (median of rounds)', fmt(median(eb)), fmt(median(hb)), (median(eb) / median(hb)).toFixed(2)],
];
console.log(`policy-bench: policies/demo.yaml (${engine.rules.length} rules, ${engine.limits.length} limits), ${N} contexts × ${ROUNDS} rounds, node ${process.version}`);
console.log(`timer cost (hrtime pair, included in per-call figures): median ${fmt(median(timerCost))}`);
console.log(`baseline agrees with the engine on ${N - disagreements}/${N} contexts`);
for (const r of rows) console.log(`${r[0]!.padEnd(40)}${r[1]!.padStart(10)}${r[2]!.padStart(12)}${r[3]!.padStart(8)}`);
console.log(`target: median well under 20 µs → ${median(e) < 20_000 ? 'met' : 'NOT met'}`);
if (sink === -1) console.log(sink);
if (disagreements > 0) process.exitCode = 1;

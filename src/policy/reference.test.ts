/**
 * The compiled engine against a naive reference: the demo policy interpreted straight from its
 * YAML (every rule evaluated, most severe kept, first in file order on ties), over seeded random
 * contexts. Catches mistakes in compilation, sorting and short-circuiting.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DECISIONS, VERIFICATION_LEVELS, decisionRank, type Decision, type RequestContext } from '../core/index.js';
import { compilePolicy } from './compile.js';
import { POLICY_FIELDS } from './fields.js';
import { makeRequestContext } from './testing.js';

const text = readFileSync(fileURLToPath(new URL('../../policies/demo.yaml', import.meta.url)), 'utf8');
const doc = parse(text) as { lists: Record<string, unknown[]>; rules: { id: string; when?: unknown; decide: Decision }[] };

const deref = (v: unknown): unknown => (typeof v === 'string' && v.startsWith('$') ? doc.lists[v.slice(1)] : v);
const globRe = (g: string): RegExp => new RegExp(`^${g.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
const rank = (field: string, v: unknown): number => {
  const values: readonly string[] = field === 'org.verification' ? VERIFICATION_LEVELS : DECISIONS;
  return values.indexOf(v as string);
};

function holds(cond: unknown, ctx: RequestContext): boolean {
  if (cond === undefined) return true;
  if (Array.isArray(cond)) return cond.every((c) => holds(c, ctx));
  const c = cond as Record<string, unknown>;
  if ('all' in c) return (c['all'] as unknown[]).every((x) => holds(x, ctx));
  if ('any' in c) return (c['any'] as unknown[]).some((x) => holds(x, ctx));
  if ('not' in c) return !holds(c['not'], ctx);
  const field = c['field'] as string;
  const v = POLICY_FIELDS[field]!.get(ctx);
  const [op, raw] = Object.entries(c).find(([k]) => k !== 'field')!;
  const arg = deref(raw);
  const list = Array.isArray(arg) ? arg : [arg];
  const ordered = field === 'org.verification' || field === 'enforcement.decision';
  switch (op) {
    case 'equals':
      return v === arg;
    case 'not_equals':
      return v !== arg;
    case 'in':
      return list.includes(v);
    case 'exists':
      return (v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)) === arg;
    case 'glob':
      return Array.isArray(v)
        ? v.some((x) => list.some((g) => globRe(g as string).test(x as string)))
        : typeof v === 'string' && list.some((g) => globRe(g as string).test(v));
    case 'gte':
      return ordered ? v !== undefined && rank(field, v) >= rank(field, arg) : typeof v === 'number' && v >= (arg as number);
    case 'lt':
      return ordered ? v !== undefined && rank(field, v) < rank(field, arg) : typeof v === 'number' && v < (arg as number);
    case 'contains':
      return Array.isArray(v) && v.includes(arg);
    case 'contains_any':
      return Array.isArray(v) && list.some((x) => v.includes(x));
    default:
      throw new Error(`reference evaluator lacks ${op}`);
  }
}

function reference(ctx: RequestContext): { decision: Decision; rule: string } {
  let best: { decision: Decision; rule: string } | undefined;
  for (const r of doc.rules) {
    if (!holds(r.when, ctx)) continue;
    if (!best || decisionRank(r.decide) > decisionRank(best.decision)) best = { decision: r.decide, rule: r.id };
  }
  const e = ctx.enforcement?.decision;
  if (e && (!best || decisionRank(e) > decisionRank(best.decision))) return { decision: e, rule: 'enforcement' };
  return best && best.decision !== 'allow' ? best : { decision: 'allow', rule: best?.rule ?? 'default' };
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe('compiled demo policy vs a naive interpreter', () => {
  it('decides 3000 random contexts the same way', () => {
    const policy = compilePolicy(text, { version: 9 });
    const r = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const some = <T>(xs: readonly T[]): T[] => xs.filter(() => r() < 0.15);
    let nonAllow = 0;
    for (let i = 0; i < 3000; i++) {
      const ctx = makeRequestContext({
        endpoint: pick(['messages', 'embeddings', 'chat.completions', 'count_tokens'] as const),
        model: pick(['claude-opus-4-1', 'Claude-Opus-4', 'claude-sonnet-4-5', 'gpt-5', 'o3-mini', 'gpt-4.1']),
        end_user_id: r() < 0.5 ? 'u1' : undefined,
        client: {
          country: pick(['US', 'DE', 'CN', 'RU', 'SG']),
          asn: pick([64496, 64500]),
          network_type: pick(['hosting', 'residential', 'business'] as const),
          anonymizers: some(['vpn', 'tor', 'proxy'] as const),
          labels: some(['adversary:example-conglomerate', 'corp-vpn']),
        },
        org:
          r() < 0.05
            ? null
            : {
                verification: pick(VERIFICATION_LEVELS),
                declared_use: pick(['internal', 'reseller', 'evaluation'] as const),
                declared_country: pick(['US', 'US', 'US', 'IR']),
                payment_country: pick(['US', 'US', 'US', 'KP']),
                screening: pick(['clear', 'clear', 'clear', 'hit', 'unscreened', 'restricted_ownership'] as const),
                screening_entities: some(['example-conglomerate', 'ofac-sdn:1']),
              },
        account: {
          risk: r(),
          labels: some(['hydra_member', 'distillation', 'key_sharing', 'undeclared_reseller', 'region_evasion', 'reseller_customer_traffic']),
          attributed_entity: r() < 0.05 ? 'example-conglomerate' : null,
        },
        enforcement: r() < 0.1 ? { decision: pick(DECISIONS), action_id: 'a', reason: 'r' } : undefined,
      });
      const got = policy.decide(ctx);
      const want = reference(ctx);
      if (want.decision !== 'allow') nonAllow++;
      expect({ decision: got.decision, rule: got.rule }, JSON.stringify(ctx)).toEqual({ decision: want.decision, rule: `${want.rule}@9` });
    }
    // The mix exercises refusals, not only the default.
    expect(nonAllow).toBeGreaterThan(1000);
  });
});

/**
 * The policy decision alone: the compiled demo policy's `decide()` on the benchmark's request
 * context (a business-verified, screened-clear org in DE), timed in batches in this process.
 * A warm-up lets the JIT settle; the median and p99 are over batches, per call.
 */
import { readFileSync } from 'node:fs';
import { compilePolicy, makeRequestContext } from '../../src/policy/index.js';
import type { RequestContext } from '../../src/core/index.js';
import { quantile } from './stats.js';

export interface PolicyMicroResult {
  file: string;
  rules: number;
  limits: number;
  batches: number;
  callsPerBatch: number;
  medianUs: number;
  p99Us: number;
  /** The decision on the benchmark's context (must let it through). */
  decision: string;
  rule: string;
}

export function benchPolicyDecision(file: string, opts: { batches?: number; callsPerBatch?: number } = {}): PolicyMicroResult {
  const text = readFileSync(file, 'utf8');
  const loaded = compilePolicy(text, { version: 1, file });
  const policy = loaded;
  // Several contexts, as traffic varies: a plain request, one with an end user, one streaming,
  // one from a hosting network (monitored), one with an elevated risk score.
  const contexts: RequestContext[] = [
    makeRequestContext({ org: { declared_country: 'DE', payment_country: 'DE' }, client: { country: 'DE', asn: 3320 } }),
    makeRequestContext({ org: { declared_country: 'DE' }, end_user_id: 'bench-user-1', client: { country: 'DE', asn: 3320 } }),
    makeRequestContext({ org: { declared_country: 'DE' }, stream: true, client: { country: 'DE', asn: 3320 } }),
    makeRequestContext({ org: { declared_country: 'DE' }, client: { country: 'DE', asn: 24940, network_type: 'hosting' } }),
    makeRequestContext({ org: { declared_country: 'DE' }, account: { risk: 0.55 }, client: { country: 'FR', asn: 3215 } }),
  ];
  const batches = opts.batches ?? 400;
  const per = opts.callsPerBatch ?? 500;
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += policy.decide(contexts[i % contexts.length]!).limits.length;
  const perCallUs: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) sink += policy.decide(contexts[i % contexts.length]!).limits.length;
    perCallUs.push(((performance.now() - t0) * 1000) / per);
  }
  const first = policy.decide(contexts[0]!);
  if (sink < 0) throw new Error('unreachable');
  return {
    file,
    rules: loaded.rules.length,
    limits: loaded.limits.length,
    batches,
    callsPerBatch: per,
    medianUs: quantile(perCallUs, 0.5),
    p99Us: quantile(perCallUs, 0.99),
    decision: first.decision,
    rule: first.rule,
  };
}

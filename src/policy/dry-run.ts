/**
 * Dry run: what a changed policy would have decided over recorded traffic, next to what the
 * current policy decides (or what was recorded at the time, where the caller has it).
 */
import { WardenError, DECISIONS, type Decision, type CompiledPolicy, type RequestContext } from '../core/index.js';

/** A context alone (compared with the baseline policy), or with the decision recorded for it. */
export type DryRunSample = RequestContext | { ctx: RequestContext; previous?: { decision: Decision; rule: string } };

export interface DryRunTally {
  /** Policy version; `null` where every baseline decision came from the recorded ones. */
  version: number | null;
  decisions: Record<Decision, number>;
  /** Count per rule id (the `@version` suffix dropped, so versions compare). */
  rules: Record<string, number>;
}

export interface DryRunReport {
  total: number;
  candidate: DryRunTally;
  baseline: DryRunTally;
  /** Samples whose decision differs. */
  changed_decisions: number;
  /** Samples decided by a different rule (whether or not the decision changed). */
  changed_rules: number;
  /** Decision changes, most frequent first. */
  transitions: { from: Decision; to: Decision; count: number }[];
  /** Rule changes, most frequent first; `examples` are sample indexes (up to `maxExamples`). */
  rule_changes: { from: string; to: string; count: number; examples: number[] }[];
}

export interface DryRunOptions {
  /** Sample indexes kept per rule change; 3 unless said. */
  maxExamples?: number;
}

const emptyDecisions = (): Record<Decision, number> =>
  Object.fromEntries(DECISIONS.map((d) => [d, 0])) as Record<Decision, number>;

/** `tor-exit@12` → `tor-exit`. */
export function ruleId(ref: string): string {
  const at = ref.lastIndexOf('@');
  return at > 0 ? ref.slice(0, at) : ref;
}

/**
 * Decides every sample with `candidate` and compares with `baseline` (or with each sample's
 * `previous`, which takes precedence). Streams: samples may be any iterable, kept nowhere.
 * Throws `INPUT_INVALID` when a sample has no `previous` and no baseline policy was given.
 */
export function dryRun(
  candidate: CompiledPolicy,
  samples: Iterable<DryRunSample>,
  baseline?: CompiledPolicy,
  options: DryRunOptions = {},
): DryRunReport {
  const maxExamples = options.maxExamples ?? 3;
  const cand: DryRunTally = { version: candidate.version, decisions: emptyDecisions(), rules: {} };
  const base: DryRunTally = { version: null, decisions: emptyDecisions(), rules: {} };
  const transitions = new Map<string, { from: Decision; to: Decision; count: number }>();
  const ruleChanges = new Map<string, { from: string; to: string; count: number; examples: number[] }>();
  let total = 0;
  let changedDecisions = 0;
  let changedRules = 0;

  for (const sample of samples) {
    const index = total++;
    const isPair = 'ctx' in sample;
    const ctx = isPair ? sample.ctx : (sample as RequestContext);
    let prev = isPair ? sample.previous : undefined;
    if (!prev) {
      if (!baseline) {
        throw new WardenError(
          'INPUT_INVALID',
          `dry run sample ${index} has no recorded decision and no baseline policy was given; pass the current policy as the baseline or {ctx, previous} pairs`,
        );
      }
      base.version = baseline.version;
      prev = baseline.decide(ctx);
    }
    const next = candidate.decide(ctx);
    const fromRule = ruleId(prev.rule);
    const toRule = ruleId(next.rule);

    cand.decisions[next.decision]++;
    cand.rules[toRule] = (cand.rules[toRule] ?? 0) + 1;
    base.decisions[prev.decision]++;
    base.rules[fromRule] = (base.rules[fromRule] ?? 0) + 1;

    if (prev.decision !== next.decision) {
      changedDecisions++;
      const k = `${prev.decision}>${next.decision}`;
      const t = transitions.get(k);
      if (t) t.count++;
      else transitions.set(k, { from: prev.decision, to: next.decision, count: 1 });
    }
    if (fromRule !== toRule) {
      changedRules++;
      const k = `${fromRule}\u0000${toRule}`;
      let c = ruleChanges.get(k);
      if (!c) ruleChanges.set(k, (c = { from: fromRule, to: toRule, count: 0, examples: [] }));
      c.count++;
      if (c.examples.length < maxExamples) c.examples.push(index);
    }
  }

  const byCount = <T extends { count: number }>(a: T, b: T): number => b.count - a.count;
  return {
    total,
    candidate: cand,
    baseline: base,
    changed_decisions: changedDecisions,
    changed_rules: changedRules,
    transitions: [...transitions.values()].sort(byCount),
    rule_changes: [...ruleChanges.values()].sort(byCount),
  };
}

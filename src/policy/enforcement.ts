/**
 * The policy's `enforcement:` section: ordered rules that say what happens automatically when
 * online detection reports a cluster (block it, step it up, … or open a case for a human).
 * Validated with the rest of the file (problems name file, line and rule) and compiled into a
 * pure matcher over cluster verdicts; applying the outcome is the cases part's job.
 */
import { z } from 'zod';
import { decisionRank, type ClusterVerdict, type Decision } from '../core/index.js';
import { isRecord, type Path, type RawIssue } from './conditions.js';
import { DegradeParams, RuleId, ThrottleParams } from './schema.js';

export const ENFORCEMENT_MODES = ['enforce', 'dry_run'] as const;
export type EnforcementMode = (typeof ENFORCEMENT_MODES)[number];
/** What a rule does: an enforcement action on the subject, or a case for a human. */
export const ENFORCEMENT_RULE_ACTIONS = ['block', 'step_up', 'degrade', 'throttle', 'monitor', 'open_case'] as const;
export type EnforcementRuleAction = (typeof ENFORCEMENT_RULE_ACTIONS)[number];
export const ENFORCEMENT_SUBJECTS = ['cluster', 'accounts', 'org'] as const;
export type EnforcementSubject = (typeof ENFORCEMENT_SUBJECTS)[number];

const unit = z.number({ error: 'a number from 0 to 1, such as 0.9' }).min(0, 'a number from 0 to 1').max(1, 'a number from 0 to 1');
/** A list of text, or `$name` of a list under `lists:`. */
const textList = z.union([z.array(z.string().min(1)).min(1, 'a non-empty list'), z.string().regex(/^\$[A-Za-z_][A-Za-z0-9_]*$/, 'a list such as [distillation] or $name of a list under "lists:"')]);
const RecommendedName = z.enum(['monitor', 'throttle', 'degrade', 'step_up', 'block'], {
  error: (iss) => `bad decision ${JSON.stringify(iss.input)}; use one of monitor, throttle, degrade, step_up, block`,
});

export const EnforcementWhen = z.strictObject({
  /** The cluster's risk is at least this. */
  risk_gte: unit.optional(),
  /** The cluster's risk is below this. */
  risk_lt: unit.optional(),
  /** The cluster is attributed to a watchlist entity with at least this confidence. */
  attribution_confidence_gte: unit.optional(),
  /** The cluster is (true) or is not (false) attributed to an entity. */
  attributed: z.boolean().optional(),
  /** The attributed entity is one of these. */
  entity_in: textList.optional(),
  labels_any: textList.optional(),
  labels_all: textList.optional(),
  labels_none: textList.optional(),
  /** The cluster has at least this many member accounts. */
  members_gte: z.int({ error: 'a whole number, such as 3' }).positive('a positive whole number').optional(),
  /** Detection recommends at least this decision for the cluster. */
  recommended_gte: RecommendedName.optional(),
});

const DURATION = /^([1-9][0-9]*)(m|h|d)$/;
export const EnforcementThen = z.strictObject({
  action: z.enum(ENFORCEMENT_RULE_ACTIONS, {
    error: (iss) => `bad action ${JSON.stringify(iss.input)}; use one of ${ENFORCEMENT_RULE_ACTIONS.join(', ')}`,
  }),
  /** What the action is taken on; `cluster` unless said (it covers accounts that join later). */
  subject: z.enum(ENFORCEMENT_SUBJECTS, { error: (iss) => `bad subject ${JSON.stringify(iss.input)}; use cluster, accounts or org` }).optional(),
  /** How long the action stays in force: minutes, hours or days, such as 30d. */
  expires_in: z.string().regex(DURATION, 'a duration such as 90m, 12h or 30d').optional(),
  /** The action's internal reason (never sent to the customer). */
  reason: z.string().min(1).max(2000).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

export const EnforcementRule = z.strictObject({
  id: RuleId,
  description: z.string().optional(),
  enabled: z.boolean().optional(),
  when: EnforcementWhen.optional(),
  then: EnforcementThen,
});

export const EnforcementSection = z.strictObject({
  /** `dry_run` (the default) records what would have been done and does nothing. */
  mode: z.enum(ENFORCEMENT_MODES, { error: (iss) => `bad mode ${JSON.stringify(iss.input)}; use enforce or dry_run` }).optional(),
  rules: z.array(z.unknown()).optional(),
});

/** Keys of the section, for "did you mean" hints. */
export const ENFORCEMENT_KEYS: readonly string[] = [
  ...Object.keys(EnforcementSection.shape),
  ...Object.keys(EnforcementRule.shape),
  ...Object.keys(EnforcementWhen.shape),
  ...Object.keys(EnforcementThen.shape),
];

/** What one rule decided for a cluster. */
export interface EnforcementMatch {
  /** The rule's id; actions it takes are authored `auto:<id>`. */
  rule: string;
  /** `id@version`. */
  ref: string;
  action: EnforcementRuleAction;
  /** Absent for `open_case`. */
  subject?: EnforcementSubject;
  expires_in_ms?: number;
  reason: string;
  params?: Readonly<Record<string, unknown>>;
}

export interface EnforcementRuleSummary {
  id: string;
  action: EnforcementRuleAction;
  subject?: EnforcementSubject;
  expires_in?: string;
  enabled: boolean;
  line: number;
}

/** The compiled section: a pure function of a cluster verdict. */
export interface CompiledEnforcement {
  readonly mode: EnforcementMode;
  readonly rules: readonly EnforcementRuleSummary[];
  /** The first enabled rule (in file order) whose conditions all hold, or null. */
  match(cluster: ClusterVerdict): EnforcementMatch | null;
}

export const NO_ENFORCEMENT: CompiledEnforcement = Object.freeze({ mode: 'dry_run' as const, rules: Object.freeze([]), match: () => null });

type ClusterTest = (c: ClusterVerdict) => boolean;

export interface EnforcementEnv {
  lists: ReadonlyMap<string, unknown[]>;
  issues: RawIssue[];
  /** Records the rule id (duplicates across rules, limits and enforcement rules are errors). */
  checkId: (id: string, path: Path) => void;
  /** The line of a path in the file. */
  lineOf: (path: Path) => number;
  pushZod: (prefix: Path, error: z.ZodError) => void;
  version: number;
}

/** `30d` → milliseconds. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`bad duration ${text}`);
  const n = Number(m[1]);
  return n * (m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 86_400_000);
}

/** Validates and compiles `enforcement:`; returns null where it had problems (in `env.issues`). */
export function compileEnforcement(raw: unknown, env: EnforcementEnv): CompiledEnforcement | null {
  if (raw === undefined || raw === null) return NO_ENFORCEMENT;
  const base: Path = ['enforcement'];
  const before = env.issues.length;
  if (!isRecord(raw)) {
    env.issues.push({ path: base, message: 'a mapping with "mode" (enforce or dry_run) and "rules" (a list)' });
    return null;
  }
  // Section problems do not hide the rules' problems: both are reported.
  const top = EnforcementSection.safeParse(raw);
  if (!top.success) env.pushZod(base, top.error);
  const rawRules = Array.isArray(raw['rules']) ? (raw['rules'] as unknown[]) : [];
  const compiled: { test: ClusterTest; match: EnforcementMatch }[] = [];
  const summaries: EnforcementRuleSummary[] = [];
  rawRules.forEach((item, i) => {
    const path: Path = [...base, 'rules', i];
    if (isRecord(item) && typeof item['id'] === 'string') env.checkId(item['id'], path);
    const r = EnforcementRule.safeParse(item);
    if (!r.success) return env.pushZod(path, r.error);
    const rule = r.data;
    const then = rule.then;
    const problem = (sub: Path, message: string) => env.issues.push({ path: [...path, ...sub], message });
    let params: Record<string, unknown> | undefined;
    if (then.action === 'open_case') {
      for (const k of ['subject', 'expires_in', 'params'] as const) {
        if (then[k] !== undefined) problem(['then', k], `"${k}" does not apply to open_case, which takes no action; remove it`);
      }
    } else if (then.params !== undefined) {
      if (then.action === 'degrade') {
        const p = DegradeParams.safeParse(then.params);
        if (!p.success) env.pushZod([...path, 'then', 'params'], p.error);
        else params = p.data;
      } else if (then.action === 'throttle') {
        const p = ThrottleParams.safeParse(then.params);
        if (!p.success) env.pushZod([...path, 'then', 'params'], p.error);
        else if (p.data.requests_per_minute === undefined && p.data.tokens_per_minute === undefined) problem(['then', 'params'], 'a throttle needs requests_per_minute or tokens_per_minute');
        else params = p.data;
      } else {
        problem(['then', 'params'], `"params" only applies to degrade and throttle, not ${then.action}; remove it`);
      }
    }
    const when = rule.when ?? {};
    if (when.risk_gte !== undefined && when.risk_lt !== undefined && when.risk_lt <= when.risk_gte) {
      problem(['when', 'risk_lt'], `risk_lt ${when.risk_lt} is not above risk_gte ${when.risk_gte}, so no cluster can match; fix one of them`);
    }
    const list = (key: 'entity_in' | 'labels_any' | 'labels_all' | 'labels_none'): string[] | undefined => {
      const v = when[key];
      if (v === undefined) return undefined;
      if (Array.isArray(v)) return v;
      const values = env.lists.get(v.slice(1));
      if (!values) {
        problem(['when', key], `unknown list "${v}"; define it under "lists:"${env.lists.size ? ` (known: ${[...env.lists.keys()].map((k) => `$${k}`).join(', ')})` : ''}`);
        return undefined;
      }
      if (values.some((x) => typeof x !== 'string')) {
        problem(['when', key], `list "${v}" holds numbers; ${key} compares text labels or entity ids`);
        return undefined;
      }
      return values as string[];
    };
    const tests: ClusterTest[] = [];
    const { risk_gte, risk_lt, attribution_confidence_gte: conf, attributed, members_gte, recommended_gte } = when;
    if (risk_gte !== undefined) tests.push((c) => c.risk >= risk_gte);
    if (risk_lt !== undefined) tests.push((c) => c.risk < risk_lt);
    if (conf !== undefined) tests.push((c) => !!c.attributed_entity && (c.confidence ?? 0) >= conf);
    if (attributed !== undefined) tests.push((c) => !!c.attributed_entity === attributed);
    if (members_gte !== undefined) tests.push((c) => c.members.length >= members_gte);
    if (recommended_gte !== undefined) {
      const floor = decisionRank(recommended_gte);
      tests.push((c) => c.recommended_action !== 'none' && decisionRank(c.recommended_action) >= floor);
    }
    const entities = list('entity_in');
    if (entities) tests.push((c) => !!c.attributed_entity && entities.includes(c.attributed_entity));
    const any = list('labels_any');
    if (any) tests.push((c) => c.labels.some((l) => any.includes(l)));
    const all = list('labels_all');
    if (all) tests.push((c) => all.every((l) => c.labels.includes(l)));
    const none = list('labels_none');
    if (none) tests.push((c) => !c.labels.some((l) => none.includes(l)));

    summaries.push({
      id: rule.id,
      action: then.action,
      ...(then.action !== 'open_case' ? { subject: then.subject ?? 'cluster' } : {}),
      ...(then.expires_in ? { expires_in: then.expires_in } : {}),
      enabled: rule.enabled !== false,
      line: env.lineOf(path),
    });
    if (rule.enabled === false) return;
    const match: EnforcementMatch = Object.freeze({
      rule: rule.id,
      ref: `${rule.id}@${env.version}`,
      action: then.action,
      ...(then.action !== 'open_case' ? { subject: then.subject ?? 'cluster' } : {}),
      ...(then.expires_in ? { expires_in_ms: durationMs(then.expires_in) } : {}),
      reason: then.reason ?? `enforcement rule ${rule.id}@${env.version}`,
      ...(params ? { params: Object.freeze(params) } : {}),
    });
    compiled.push({ test: (c) => tests.every((t) => t(c)), match });
  });
  if (env.issues.length > before) return null;
  return Object.freeze({
    mode: (top.success && top.data.mode) || 'dry_run',
    rules: Object.freeze(summaries),
    match(cluster: ClusterVerdict): EnforcementMatch | null {
      for (const r of compiled) if (r.test(cluster)) return r.match;
      return null;
    },
  });
}

/** The decision an automatic rule's action becomes (`open_case` takes none). */
export function actionDecision(action: EnforcementRuleAction): Decision | null {
  return action === 'open_case' ? null : action;
}

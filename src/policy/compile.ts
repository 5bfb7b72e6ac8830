/**
 * Policy text → validated, compiled policy. Every problem in the file is reported at once, each
 * naming its file, line and rule; a valid policy decides with precompiled closures and no I/O.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import {
  WardenError,
  decisionRank,
  formatIssuePath,
  type CompiledPolicy,
  type Decision,
  type LimitSpec,
  type PolicyDecision,
  type RequestContext,
} from '../core/index.js';
import { compileCondition, isRecord, suggest, type ConditionEnv, type Path, type Predicate, type RawIssue } from './conditions.js';
import { DegradeParams, KNOWN_KEYS, Limit, PolicyFile, Rule, ThrottleParams } from './schema.js';
import { positionOf } from './source-map.js';
import { ENFORCEMENT_KEYS, compileEnforcement, type CompiledEnforcement } from './enforcement.js';

/** One problem in a policy file. */
export interface PolicyIssue {
  file: string;
  line: number;
  column: number;
  /** `rule "id"`, `limit "id"` or `enforcement rule "id"` (or `rule #3` before its id is known); absent for top-level keys. */
  rule?: string;
  /** Path inside the document, such as `rules[3].when.any[0].in`. */
  path: string;
  message: string;
}

/** A policy file that failed validation; `issues` lists every problem, the message one per line. */
export class PolicyError extends WardenError {
  constructor(
    message: string,
    readonly issues: PolicyIssue[],
  ) {
    super('POLICY_INVALID', message);
  }
}

export interface CompileOptions {
  /** Version number recorded in each decision as `rule@version`. */
  version: number;
  /** File name used in error messages. */
  file?: string;
}

export interface RuleSummary {
  id: string;
  decide: Decision;
  enabled: boolean;
  line: number;
}
export interface LimitSummary {
  id: string;
  scope: LimitSpec['scope'];
  kinds: LimitSpec['kind'][];
  conditional: boolean;
  override: boolean;
  line: number;
}

/** A compiled policy with what the console and CLI show about it. */
export interface LoadedPolicy extends CompiledPolicy {
  readonly file: string;
  readonly name?: string;
  readonly text: string;
  readonly rules: readonly RuleSummary[];
  readonly limits: readonly LimitSummary[];
  /**
   * Advice that does not stop the policy: customer messages that seem to say how a request was
   * detected (risk scores, detectors, clusters). Logged when the policy is activated.
   */
  readonly warnings: readonly PolicyIssue[];
  /** The `enforcement:` section: what happens automatically to clusters detection reports. */
  readonly enforcement: CompiledEnforcement;
}

/** Words that suggest a customer message explains detection rather than what to do. */
const DETECTION_WORDS =
  /\b(risk[ -]?scores?|scor(?:e|ed|ing)|clusters?|hydra|distill\w*|detect\w*|detector|flagged|fingerprint\w*|asn|autonomous system|attribut\w*|probing|classifier|heuristic\w*|signals?)\b/i;

/** Built-in customer messages, used when neither the rule nor `defaults.messages` gives one. */
export const DEFAULT_MESSAGES: Readonly<Record<Exclude<Decision, 'allow'>, string>> = {
  monitor: '',
  throttle: 'This API key is sending requests faster than its current rate allows. Slow down and retry after a minute.',
  degrade: 'This request was served with reduced capabilities for this account. Contact support if you need the full service.',
  step_up: 'This request needs additional verification of your organisation. Complete verification and retry.',
  block: 'This request is not permitted under the usage policy. Contact support if you believe this is a mistake.',
};
const DEFAULT_DEGRADE: DegradeParams = { max_output_tokens: 1024, strip_thinking: true };
const DEFAULT_THROTTLE: ThrottleParams = { requests_per_minute: 10 };

/** Ids the engine gives decisions no rule made. */
const RESERVED_IDS = new Set(['default', 'enforcement']);
const LIMIT_KINDS = ['requests_per_minute', 'tokens_per_minute', 'monthly_tokens'] as const;
const SCOPES = ['key', 'org', 'account'] as const;
const SLOTS = SCOPES.length * LIMIT_KINDS.length;
const slotOf = (scope: LimitSpec['scope'], kind: LimitSpec['kind']): number =>
  SCOPES.indexOf(scope) * LIMIT_KINDS.length + LIMIT_KINDS.indexOf(kind);

interface Parsed {
  doc: ReturnType<typeof parseDocument>;
  lc: LineCounter;
  issues: RawIssue[];
  /** Problems the YAML parser found, already positioned. */
  yamlIssues: { line: number; column: number; message: string }[];
  value: unknown;
}

function parse(text: string): Parsed {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const yamlIssues = doc.errors.map((e) => {
    const pos = lc.linePos(e.pos[0]);
    return { line: pos.line, column: pos.col, message: `YAML: ${e.message.split('\n')[0]}` };
  });
  const value = yamlIssues.length ? undefined : doc.toJS({ maxAliasCount: 1000 });
  return { doc, lc, issues: [], yamlIssues, value };
}

function pushZod(issues: RawIssue[], prefix: Path, error: z.ZodError): void {
  for (const iss of error.issues) {
    const path = [...prefix, ...(iss.path as (string | number)[])];
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) {
        const hint = suggest(key, [...KNOWN_KEYS, ...ENFORCEMENT_KEYS]);
        issues.push({ path: [...path, key], message: `unknown key "${key}"${hint ? `; did you mean "${hint}"?` : ''}` });
      }
    } else {
      issues.push({ path, message: iss.message });
    }
  }
}

interface CompiledRule {
  id: string;
  ref: string;
  rank: number;
  order: number;
  pred: Predicate;
  decision: Decision;
  message?: string;
  verify_url?: string;
  params?: Readonly<Record<string, unknown>>;
  /** For throttle: the limits it sets, merged into the request's limits. */
  throttle: LimitSpec[];
}

/** What an enforcement action in force decides when no rule is at least as severe. */
type FloorTable = Record<Decision, { message?: string; verify_url?: string; params?: Readonly<Record<string, unknown>>; throttle: LimitSpec[] }>;

interface CompiledLimit {
  /** Position in the file, for "the first matching override wins". */
  order: number;
  pred: Predicate | null;
  override: boolean;
  specs: LimitSpec[];
}

/** Validates a policy text; returns every problem (empty when valid). */
export function validatePolicy(text: string, file = 'policy.yaml'): PolicyIssue[] {
  return build(text, { version: 0, file }).issues;
}

/** Compiles a policy text; throws `PolicyError` (`POLICY_INVALID`) listing every problem. */
export function compilePolicy(text: string, options: CompileOptions): LoadedPolicy {
  const { policy, issues } = build(text, options);
  if (!policy) {
    const file = options.file ?? 'policy.yaml';
    throw new PolicyError(
      `${file} has ${issues.length} problem${issues.length === 1 ? '' : 's'}; fix ${issues.length === 1 ? 'it' : 'them'} and reload:\n${formatPolicyIssues(issues)}`,
      issues,
    );
  }
  return policy;
}

/** `file:line: rule "id": path: problem`, one per line. */
export function formatPolicyIssues(issues: readonly PolicyIssue[]): string {
  return issues
    .map((i) => `${i.file}:${i.line}: ${i.rule ? `${i.rule}: ` : ''}${i.path && i.path !== '(root)' ? `${i.path}: ` : ''}${i.message}`)
    .join('\n');
}

function build(text: string, options: CompileOptions): { policy: LoadedPolicy | null; issues: PolicyIssue[] } {
  const file = options.file ?? 'policy.yaml';
  const version = options.version;
  const p = parse(text);
  if (p.yamlIssues.length) {
    return { policy: null, issues: p.yamlIssues.map((y) => ({ file, line: y.line, column: y.column, path: '', message: y.message })) };
  }
  const issues = p.issues;
  const value = p.value ?? {};
  if (!isRecord(value) || Object.keys(value).length === 0) {
    return {
      policy: null,
      issues: [
        {
          file,
          line: 1,
          column: 1,
          path: '',
          message: 'a policy file is a mapping with "rules:" and "limits:" (see docs/policy.md); an empty file is refused so a truncated save cannot lift every rule',
        },
      ],
    };
  }

  if (!('rules' in value)) {
    // An empty or truncated file must not lift every rule on reload.
    issues.push({ path: [], message: 'a policy needs a "rules:" section (write "rules: []" for none); an empty file is refused so a truncated save cannot lift every rule' });
  }
  const top = PolicyFile.safeParse(value);
  if (!top.success) pushZod(issues, [], top.error);
  const defaults = top.success ? (top.data.defaults ?? {}) : {};

  const lists = new Map<string, unknown[]>();
  if (top.success && top.data.lists) for (const [k, v] of Object.entries(top.data.lists)) lists.set(k, v);
  const env: ConditionEnv = { lists, issues };

  const messages = { ...DEFAULT_MESSAGES, ...(defaults.messages ?? {}) };
  const warnings: RawIssue[] = [];
  const lintMessage = (text: string | undefined, path: Path): void => {
    const word = text ? DETECTION_WORDS.exec(text)?.[0] : undefined;
    if (word) warnings.push({ path, message: `the customer message mentions "${word}": say what happened and what to do, not how it was detected` });
  };
  for (const [k, v] of Object.entries(defaults.messages ?? {})) lintMessage(v, ['defaults', 'messages', k]);
  const degradeDefault = Object.freeze({ ...DEFAULT_DEGRADE, ...(defaults.degrade ?? {}) });
  const throttleDefault = Object.freeze({ ...DEFAULT_THROTTLE, ...(defaults.throttle ?? {}) });

  const seen = new Map<string, number>();
  const checkDuplicate = (id: string, path: Path): void => {
    if (RESERVED_IDS.has(id)) {
      issues.push({ path: [...path, 'id'], message: `"${id}" is reserved: decisions made without a rule are named "default" and "enforcement"; choose another id` });
      return;
    }
    const first = seen.get(id);
    if (first !== undefined) issues.push({ path: [...path, 'id'], message: `duplicate id "${id}"; it is already used at line ${first}. Rule and limit ids must be unique` });
    else seen.set(id, positionOf(p.doc, p.lc, [...path, 'id']).line);
  };

  const rawRules = Array.isArray(value['rules']) ? (value['rules'] as unknown[]) : [];
  const rawLimits = Array.isArray(value['limits']) ? (value['limits'] as unknown[]) : [];

  const rules: CompiledRule[] = [];
  const ruleSummaries: RuleSummary[] = [];
  rawRules.forEach((raw, i) => {
    const path: Path = ['rules', i];
    const r = Rule.safeParse(raw);
    if (isRecord(raw) && typeof raw['id'] === 'string') checkDuplicate(raw['id'], path);
    const pred = compileCondition(isRecord(raw) ? raw['when'] : undefined, [...path, 'when'], env);
    if (!r.success) return pushZod(issues, path, r.error);
    const rule = r.data;
    const ref = `${rule.id}@${version}`;
    let params: Record<string, unknown> | undefined;
    let throttle: LimitSpec[] = [];
    if (rule.params !== undefined && rule.decide !== 'degrade' && rule.decide !== 'throttle') {
      issues.push({ path: [...path, 'params'], message: `"params" only applies to degrade and throttle, not ${rule.decide}; remove it` });
    }
    if (rule.verify_url !== undefined && rule.decide !== 'step_up') {
      issues.push({ path: [...path, 'verify_url'], message: `"verify_url" only applies to step_up, not ${rule.decide}; remove it` });
    }
    if (rule.decide === 'step_up' && !rule.verify_url && !defaults.verify_url) {
      issues.push({ path: [...path, 'decide'], message: 'step_up needs a "verify_url" on the rule or under "defaults:" so the customer knows where to verify' });
    }
    if ((rule.decide === 'allow' || rule.decide === 'monitor') && rule.message !== undefined) {
      issues.push({ path: [...path, 'message'], message: `a ${rule.decide} rule sends the customer nothing; remove "message" (notes for readers go in "description")` });
    }
    if (rule.decide === 'degrade') {
      const d = DegradeParams.safeParse(rule.params ?? {});
      if (!d.success) pushZod(issues, [...path, 'params'], d.error);
      else params = rule.params ? d.data : degradeDefault;
    } else if (rule.decide === 'throttle') {
      const t = ThrottleParams.safeParse(rule.params ?? {});
      if (!t.success) pushZod(issues, [...path, 'params'], t.error);
      else {
        const tp = rule.params ? t.data : throttleDefault;
        if (tp.requests_per_minute === undefined && tp.tokens_per_minute === undefined) {
          issues.push({ path: [...path, 'params'], message: 'a throttle needs requests_per_minute or tokens_per_minute' });
        }
        params = tp;
        throttle = throttleSpecs(tp, ref);
      }
    }
    ruleSummaries.push({ id: rule.id, decide: rule.decide, enabled: rule.enabled !== false, line: positionOf(p.doc, p.lc, path).line });
    lintMessage(rule.message, [...path, 'message']);
    if (!pred || rule.enabled === false) return;
    const message = rule.decide === 'allow' ? undefined : rule.message ?? (messages[rule.decide] || undefined);
    rules.push({
      id: rule.id,
      ref,
      rank: decisionRank(rule.decide),
      order: i,
      pred,
      decision: rule.decide,
      message,
      verify_url: rule.decide === 'step_up' ? (rule.verify_url ?? defaults.verify_url) : undefined,
      params: params && Object.freeze({ ...params }),
      throttle,
    });
  });

  const limits: CompiledLimit[] = [];
  const limitSummaries: LimitSummary[] = [];
  rawLimits.forEach((raw, i) => {
    const path: Path = ['limits', i];
    const l = Limit.safeParse(raw);
    if (isRecord(raw) && typeof raw['id'] === 'string') checkDuplicate(raw['id'], path);
    const hasWhen = isRecord(raw) && raw['when'] !== undefined && raw['when'] !== null;
    const pred = compileCondition(isRecord(raw) ? raw['when'] : undefined, [...path, 'when'], env);
    if (!l.success) return pushZod(issues, path, l.error);
    const lim: Limit = l.data;
    const kinds = LIMIT_KINDS.filter((k) => lim[k] !== undefined);
    if (kinds.length === 0) {
      issues.push({ path, message: 'a limit needs requests_per_minute, tokens_per_minute or monthly_tokens' });
      return;
    }
    limitSummaries.push({
      id: lim.id,
      scope: lim.scope,
      kinds: [...kinds],
      conditional: hasWhen,
      override: lim.override === true,
      line: positionOf(p.doc, p.lc, path).line,
    });
    if (!pred || lim.enabled === false) return;
    const ref = `${lim.id}@${version}`;
    limits.push({
      order: i,
      pred: hasWhen ? pred : null,
      override: lim.override === true,
      specs: kinds.map((kind) => Object.freeze({ rule: ref, scope: lim.scope, kind, limit: lim[kind]! })),
    });
  });

  const enforcement = compileEnforcement(value['enforcement'], {
    lists,
    issues,
    checkId: checkDuplicate,
    lineOf: (path) => positionOf(p.doc, p.lc, path).line,
    pushZod: (prefix, error) => pushZod(issues, prefix, error),
    version,
  });
  const rawEnforcement = isRecord(value['enforcement']) && Array.isArray(value['enforcement']['rules']) ? (value['enforcement']['rules'] as unknown[]) : [];

  const locate = (raw: RawIssue[]): PolicyIssue[] => {
    const byRule = (path: Path): string | undefined => {
      if (path[0] === 'enforcement' && path[1] === 'rules' && typeof path[2] === 'number') {
        const item = rawEnforcement[path[2]];
        return isRecord(item) && typeof item['id'] === 'string' ? `enforcement rule "${item['id']}"` : `enforcement rule #${path[2] + 1}`;
      }
      const [section, index] = path;
      if ((section !== 'rules' && section !== 'limits') || typeof index !== 'number') return undefined;
      const item = (section === 'rules' ? rawRules : rawLimits)[index];
      const kind = section === 'rules' ? 'rule' : 'limit';
      return isRecord(item) && typeof item['id'] === 'string' ? `${kind} "${item['id']}"` : `${kind} #${index + 1}`;
    };
    const unique = new Map<string, RawIssue>();
    for (const iss of raw) unique.set(`${JSON.stringify(iss.path)}\u0000${iss.message}`, iss);
    const out = [...unique.values()].map((iss): PolicyIssue => {
      const pos = positionOf(p.doc, p.lc, iss.path);
      const rule = byRule(iss.path);
      const rel = rule ? iss.path.slice(iss.path[0] === 'enforcement' ? 3 : 2) : iss.path;
      return { file, line: pos.line, column: pos.column, rule, path: rel.length ? formatIssuePath(rel) : '', message: iss.message };
    });
    return out.sort((a, b) => a.line - b.line || a.column - b.column);
  };
  if (issues.length) return { policy: null, issues: locate(issues) };

  const floor: FloorTable = {
    allow: { throttle: [] },
    monitor: { throttle: [] },
    throttle: { message: messages.throttle, params: throttleDefault, throttle: throttleSpecs(throttleDefault, `enforcement@${version}`) },
    degrade: { message: messages.degrade, params: degradeDefault, throttle: [] },
    step_up: { message: messages.step_up, verify_url: defaults.verify_url, throttle: [] },
    block: { message: messages.block, throttle: [] },
  };

  const policy = new Engine({
    version,
    file,
    name: top.success ? top.data.name : undefined,
    text,
    rules,
    limits,
    floor,
    ruleSummaries,
    limitSummaries,
    warnings: locate(warnings),
    enforcement: enforcement!,
  });
  return { policy, issues: [] };
}

function throttleSpecs(tp: ThrottleParams, ref: string): LimitSpec[] {
  const scope = tp.scope ?? 'key';
  const out: LimitSpec[] = [];
  if (tp.requests_per_minute !== undefined) out.push(Object.freeze({ rule: ref, scope, kind: 'requests_per_minute', limit: tp.requests_per_minute }));
  if (tp.tokens_per_minute !== undefined) out.push(Object.freeze({ rule: ref, scope, kind: 'tokens_per_minute', limit: tp.tokens_per_minute }));
  return out;
}

const EMPTY: readonly LimitSpec[] = Object.freeze([]);
/** Beyond this many conditional limits, results are not memoised by match mask. */
const MAX_MASK_BITS = 24;
/** Bound on memoised limit sets; real traffic shows few combinations, but memory stays bounded. */
const MAX_CACHED_MASKS = 4096;

class Engine implements LoadedPolicy {
  readonly version: number;
  readonly file: string;
  readonly name?: string;
  readonly text: string;
  readonly rules: readonly RuleSummary[];
  readonly limits: readonly LimitSummary[];
  readonly warnings: readonly PolicyIssue[];
  readonly enforcement: CompiledEnforcement;
  /** Most severe first; file order within a severity, so the first match is the winner. */
  private readonly ordered: CompiledRule[];
  private readonly unconditional: CompiledLimit[];
  private readonly conditional: CompiledLimit[];
  private readonly limitCache = new Map<number, readonly LimitSpec[]>();
  private readonly floor: FloorTable;
  private readonly defaultRef: string;
  private readonly enforcementRef: string;

  constructor(o: {
    version: number;
    file: string;
    name?: string;
    text: string;
    rules: CompiledRule[];
    limits: CompiledLimit[];
    floor: FloorTable;
    ruleSummaries: RuleSummary[];
    limitSummaries: LimitSummary[];
    warnings: PolicyIssue[];
    enforcement: CompiledEnforcement;
  }) {
    this.warnings = Object.freeze(o.warnings);
    this.enforcement = o.enforcement;
    this.version = o.version;
    this.file = o.file;
    this.name = o.name;
    this.text = o.text;
    this.rules = Object.freeze(o.ruleSummaries);
    this.limits = Object.freeze(o.limitSummaries);
    this.ordered = [...o.rules].sort((a, b) => b.rank - a.rank || a.order - b.order);
    this.unconditional = o.limits.filter((l) => l.pred === null);
    this.conditional = o.limits.filter((l) => l.pred !== null);
    this.floor = o.floor;
    this.defaultRef = `default@${o.version}`;
    this.enforcementRef = `enforcement@${o.version}`;
  }

  decide(ctx: RequestContext): PolicyDecision {
    const enforced = ctx.enforcement?.decision;
    const floorRank = enforced === undefined ? 0 : decisionRank(enforced);
    let hit: CompiledRule | undefined;
    const rules = this.ordered;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      // Rules less severe than an action in force cannot change the outcome.
      if (r.rank < floorRank) break;
      if (r.pred(ctx)) {
        hit = r;
        break;
      }
    }
    if (hit !== undefined && hit.rank > 0) {
      const passes = hit.rank < 4;
      return {
        decision: hit.decision,
        rule: hit.ref,
        message: hit.message,
        verify_url: hit.verify_url,
        params: hit.params,
        limits: passes ? this.limitsFor(ctx, hit.throttle) : (EMPTY as LimitSpec[]),
      };
    }
    if (enforced !== undefined && floorRank > 0) {
      const f = this.floor[enforced];
      return {
        decision: enforced,
        rule: this.enforcementRef,
        message: f.message || undefined,
        verify_url: f.verify_url,
        params: f.params,
        limits: floorRank < 4 ? this.limitsFor(ctx, f.throttle) : (EMPTY as LimitSpec[]),
      };
    }
    return { decision: 'allow', rule: hit ? hit.ref : this.defaultRef, limits: this.limitsFor(ctx, EMPTY as LimitSpec[]) };
  }

  private limitsFor(ctx: RequestContext, throttle: LimitSpec[]): LimitSpec[] {
    const cond = this.conditional;
    let base: readonly LimitSpec[];
    if (cond.length <= MAX_MASK_BITS) {
      let mask = 0;
      for (let i = 0; i < cond.length; i++) if (cond[i]!.pred!(ctx)) mask |= 1 << i;
      let cached = this.limitCache.get(mask);
      if (cached === undefined) {
        if (this.limitCache.size >= MAX_CACHED_MASKS) this.limitCache.clear();
        cached = this.resolve(cond.filter((_, i) => (mask & (1 << i)) !== 0));
        this.limitCache.set(mask, cached);
      }
      base = cached;
    } else {
      base = this.resolve(cond.filter((l) => l.pred!(ctx)));
    }
    if (throttle.length === 0) return base as LimitSpec[];
    return mergeTightest(base, throttle);
  }

  /** One limit per scope and kind: the first matching override, else the lowest that matched. */
  private resolve(matched: CompiledLimit[]): readonly LimitSpec[] {
    const slots: (LimitSpec | undefined)[] = new Array(SLOTS);
    const overridden: boolean[] = new Array(SLOTS).fill(false);
    const all = [...this.unconditional, ...matched].sort((a, b) => a.order - b.order);
    for (const l of all) {
      for (const s of l.specs) {
        const k = slotOf(s.scope, s.kind);
        const cur = slots[k];
        if (l.override) {
          if (!overridden[k]) {
            slots[k] = s;
            overridden[k] = true;
          }
        } else if (!overridden[k] && (cur === undefined || s.limit < cur.limit)) {
          slots[k] = s;
        }
      }
    }
    return Object.freeze(slots.filter((s): s is LimitSpec => s !== undefined));
  }
}

/** Adds throttle limits, keeping one per scope and kind (the lower wins). */
function mergeTightest(base: readonly LimitSpec[], extra: LimitSpec[]): LimitSpec[] {
  const out = [...base];
  for (const e of extra) {
    const i = out.findIndex((s) => s.scope === e.scope && s.kind === e.kind);
    if (i === -1) out.push(e);
    else if (e.limit < out[i]!.limit) out[i] = e;
  }
  return out;
}

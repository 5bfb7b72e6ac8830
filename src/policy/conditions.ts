/**
 * Conditions (`when`): validated and compiled in one pass into closures over `RequestContext`.
 * Every problem is collected with its path inside the document, so the caller can name its line.
 */
import { SHARED_INDICATOR_KINDS, type RequestContext } from '../core/index.js';
import { ALL_OPERATORS, OPERATORS_BY_TYPE, POLICY_FIELDS, type FieldDef } from './fields.js';
import { compileGlob } from './glob.js';

export type Path = (string | number)[];
export interface RawIssue {
  path: Path;
  message: string;
}
export type Predicate = (ctx: RequestContext) => boolean;

const COUNTRY = /^[A-Z]{2}$/;
const ALWAYS: Predicate = () => true;

export interface ConditionEnv {
  /** Named value lists from the `lists` section. */
  lists: ReadonlyMap<string, unknown[]>;
  issues: RawIssue[];
}

/** Compiles a `when`; returns `ALWAYS` for an absent one and `null` where it had problems. */
export function compileCondition(raw: unknown, path: Path, env: ConditionEnv): Predicate | null {
  if (raw === undefined || raw === null) return ALWAYS;
  if (Array.isArray(raw)) {
    if (raw.length === 0) {
      env.issues.push({ path, message: 'an empty condition list; remove "when" to match every request, or add conditions' });
      return null;
    }
    return combineAll(raw, path, env);
  }
  if (!isRecord(raw)) {
    env.issues.push({ path, message: 'a condition must be a mapping such as {field: client.country, in: [CN]}, or all/any/not' });
    return null;
  }
  const keys = Object.keys(raw);
  if ('all' in raw || 'any' in raw || 'not' in raw) {
    if (keys.length !== 1) {
      env.issues.push({
        path,
        message: `"all", "any" and "not" must stand alone in their mapping, found keys ${keys.map((k) => `"${k}"`).join(', ')}; nest them instead`,
      });
      return null;
    }
    const key = keys[0]!;
    const inner = raw[key];
    if (key === 'not') {
      const p = compileCondition(inner, [...path, 'not'], env);
      if (inner === undefined || inner === null) {
        env.issues.push({ path: [...path, 'not'], message: '"not" needs a condition' });
        return null;
      }
      return p && ((ctx) => !p(ctx));
    }
    if (!Array.isArray(inner) || inner.length === 0) {
      env.issues.push({ path: [...path, key], message: `"${key}" needs a non-empty list of conditions` });
      return null;
    }
    return key === 'all' ? combineAll(inner, [...path, key], env) : combineAny(inner, [...path, key], env);
  }
  if ('indicator_match' in raw) return compileIndicatorMatch(raw, path, env);
  return compileLeaf(raw, path, env);
}

/**
 * `{indicator_match: {kinds: [asn, ip_range], min_confidence: 0.7}}`: the request matches an
 * imported indicator of one of `kinds` (default: any) with at least that confidence (default 0).
 */
function compileIndicatorMatch(raw: Record<string, unknown>, path: Path, env: ConditionEnv): Predicate | null {
  const p = [...path, 'indicator_match'];
  const bad = (q: Path, message: string): null => {
    env.issues.push({ path: q, message });
    return null;
  };
  if (Object.keys(raw).length !== 1) return bad(path, '"indicator_match" stands alone in its mapping; combine it with others through all/any');
  const v = raw['indicator_match'];
  if (!isRecord(v)) return bad(p, '"indicator_match" takes a mapping such as {kinds: [ip_range, asn], min_confidence: 0.7}');
  for (const k of Object.keys(v)) if (k !== 'kinds' && k !== 'min_confidence') return bad([...p, k], `unknown key "${k}" in indicator_match; it takes kinds and min_confidence`);
  let kinds: Set<string> | null = null;
  if (v['kinds'] !== undefined) {
    const list = v['kinds'];
    if (!Array.isArray(list) || list.length === 0) return bad([...p, 'kinds'], `"kinds" takes a non-empty list of ${SHARED_INDICATOR_KINDS.join(', ')}`);
    for (const [i, k] of list.entries()) if (typeof k !== 'string' || !(SHARED_INDICATOR_KINDS as readonly string[]).includes(k)) return bad([...p, 'kinds', i], `unknown indicator kind ${JSON.stringify(k)}; one of ${SHARED_INDICATOR_KINDS.join(', ')}`);
    kinds = new Set(list as string[]);
  }
  const min = v['min_confidence'] ?? 0;
  if (typeof min !== 'number' || !(min >= 0 && min <= 1)) return bad([...p, 'min_confidence'], '"min_confidence" takes a number from 0 to 1');
  return (ctx) => {
    const hits = ctx.indicators;
    if (!hits) return false;
    for (const h of hits) if (h.confidence >= min && (!kinds || kinds.has(h.kind))) return true;
    return false;
  };
}

function combineAll(items: unknown[], path: Path, env: ConditionEnv): Predicate | null {
  const ps = items.map((c, i) => compileCondition(c, [...path, i], env));
  if (ps.some((p) => p === null)) return null;
  const preds = ps as Predicate[];
  if (preds.length === 0) return ALWAYS;
  if (preds.length === 1) return preds[0]!;
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate];
    return (ctx) => a(ctx) && b(ctx);
  }
  return (ctx) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i]!(ctx)) return false;
    return true;
  };
}

function combineAny(items: unknown[], path: Path, env: ConditionEnv): Predicate | null {
  const ps = items.map((c, i) => compileCondition(c, [...path, i], env));
  if (ps.some((p) => p === null)) return null;
  const preds = ps as Predicate[];
  if (preds.length === 1) return preds[0]!;
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate];
    return (ctx) => a(ctx) || b(ctx);
  }
  return (ctx) => {
    for (let i = 0; i < preds.length; i++) if (preds[i]!(ctx)) return true;
    return false;
  };
}

function compileLeaf(raw: Record<string, unknown>, path: Path, env: ConditionEnv): Predicate | null {
  const issue = (p: Path, message: string): null => {
    env.issues.push({ path: p, message });
    return null;
  };
  const fieldName = raw['field'];
  const opKeys = Object.keys(raw).filter((k) => k !== 'field');
  if (typeof fieldName !== 'string') {
    return issue(path, 'a condition needs "field" (such as client.country) and one operator, or all/any/not');
  }
  const field = POLICY_FIELDS[fieldName];
  if (!field) {
    const hint = suggest(fieldName, Object.keys(POLICY_FIELDS));
    return issue([...path, 'field'], `unknown field "${fieldName}"${hint ? `; did you mean "${hint}"?` : ''} (see docs/policy.md for the list)`);
  }
  if (opKeys.length !== 1) {
    if (opKeys.length === 0) return issue(path, `condition on "${fieldName}" has no operator; add one of ${OPERATORS_BY_TYPE[field.type].join(', ')}`);
    return issue(path, `condition on "${fieldName}" has ${opKeys.length} operators (${opKeys.join(', ')}); write one per condition and combine them with all/any`);
  }
  const op = opKeys[0]!;
  const opPath = [...path, op];
  if (!(ALL_OPERATORS as readonly string[]).includes(op)) {
    const hint = suggest(op, ALL_OPERATORS);
    return issue(opPath, `unknown operator "${op}"${hint ? `; did you mean "${hint}"?` : ''} (operators: ${ALL_OPERATORS.join(', ')})`);
  }
  if (!OPERATORS_BY_TYPE[field.type].includes(op)) {
    const arrayHint = (op === 'in' || op === 'not_in') && field.type.endsWith('[]') ? ` (a list field: use contains_any or not_contains)` : '';
    return issue(opPath, `operator "${op}" does not apply to "${fieldName}"${arrayHint}; it takes ${OPERATORS_BY_TYPE[field.type].join(', ')}`);
  }
  return compileOp(field, fieldName, op, raw[op], opPath, env);
}

function compileOp(field: FieldDef, name: string, op: string, value: unknown, path: Path, env: ConditionEnv): Predicate | null {
  const get = field.get;
  const before = env.issues.length;
  const bad = (message: string, p: Path = path): null => {
    env.issues.push({ path: p, message });
    return null;
  };

  switch (op) {
    case 'exists': {
      if (typeof value !== 'boolean') return bad(`"exists" takes true or false`);
      const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
      return value ? (ctx) => present(get(ctx)) : (ctx) => !present(get(ctx));
    }
    case 'equals':
    case 'not_equals': {
      if (Array.isArray(value)) return bad(`"${op}" takes one value; use ${op === 'equals' ? '"in"' : '"not_in"'} for a list`);
      checkScalar(field, name, value, path, env);
      if (env.issues.length > before) return null;
      return op === 'equals' ? (ctx) => get(ctx) === value : (ctx) => get(ctx) !== value;
    }
    case 'in':
    case 'not_in': {
      const list = resolveList(value, op, path, env);
      if (!list) return null;
      list.forEach((v, i) => checkScalar(field, name, v, itemPath(value, path, i), env));
      if (env.issues.length > before) return null;
      const set = new Set<unknown>(list);
      return op === 'in' ? (ctx) => set.has(get(ctx)) : (ctx) => !set.has(get(ctx));
    }
    case 'glob':
    case 'not_glob': {
      let globs: unknown[];
      if (isListRef(value)) {
        const list = resolveList(value, op, path, env);
        if (!list) return null;
        globs = list;
      } else globs = Array.isArray(value) ? value : [value];
      if (globs.length === 0) return bad(`"${op}" needs a glob or a non-empty list of globs`);
      const regexes: RegExp[] = [];
      globs.forEach((g, i) => {
        const p = itemPath(value, path, i);
        if (typeof g !== 'string') return void bad(`a glob must be a string, such as "claude-opus-*"`, p);
        const r = compileGlob(g);
        if (r.ok) regexes.push(r.regex);
        else bad(r.problem, p);
      });
      if (env.issues.length > before) return null;
      // One alternation: a single test per value however many globs were listed.
      const re = regexes.length === 1 ? regexes[0]! : new RegExp(regexes.map((r) => r.source).join('|'), 'is');
      if (field.type === 'string[]') {
        return (ctx) => {
          const arr = get(ctx) as string[] | undefined;
          if (arr) for (let i = 0; i < arr.length; i++) if (re.test(arr[i]!)) return true;
          return false;
        };
      }
      const test = (v: unknown): boolean => typeof v === 'string' && re.test(v);
      return op === 'glob' ? (ctx) => test(get(ctx)) : (ctx) => !test(get(ctx));
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (field.type === 'number') {
        if (typeof value !== 'number' || !Number.isFinite(value)) return bad(`"${op}" on "${name}" takes a number, such as 0.9`);
        const x = value;
        switch (op) {
          case 'gt':
            return (ctx) => (get(ctx) as number) > x;
          case 'gte':
            return (ctx) => (get(ctx) as number) >= x;
          case 'lt':
            return (ctx) => (get(ctx) as number) < x;
          default:
            return (ctx) => (get(ctx) as number) <= x;
        }
      }
      const values = field.values!;
      if (typeof value !== 'string' || !values.includes(value)) {
        const hint = typeof value === 'string' ? suggest(value, values) : undefined;
        return bad(`"${op}" on "${name}" takes one of ${values.join(' < ')}; got ${JSON.stringify(value)}${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
      const rank = new Map<unknown, number>(values.map((v, i) => [v, i]));
      const r = rank.get(value)!;
      // A missing value has no rank, and no comparison holds for it.
      switch (op) {
        case 'gt':
          return (ctx) => (rank.get(get(ctx)) ?? -Infinity) > r;
        case 'gte':
          return (ctx) => (rank.get(get(ctx)) ?? -Infinity) >= r;
        case 'lt':
          return (ctx) => (rank.get(get(ctx)) ?? Infinity) < r;
        default:
          return (ctx) => (rank.get(get(ctx)) ?? Infinity) <= r;
      }
    }
    case 'contains': {
      if (Array.isArray(value)) return bad(`"contains" takes one value; use contains_any or contains_all for a list`);
      checkScalar(field, name, value, path, env);
      if (env.issues.length > before) return null;
      return (ctx) => {
        const arr = get(ctx) as unknown[] | undefined;
        return arr !== undefined && arr !== null && arr.includes(value);
      };
    }
    case 'contains_any':
    case 'contains_all':
    case 'not_contains': {
      const list = op === 'not_contains' && !Array.isArray(value) && !isListRef(value) ? [value] : resolveList(value, op, path, env);
      if (!list) return null;
      list.forEach((v, i) => checkScalar(field, name, v, itemPath(value, path, i), env));
      if (env.issues.length > before) return null;
      const set = new Set<unknown>(list);
      const any = (ctx: RequestContext): boolean => {
        const arr = get(ctx) as unknown[] | undefined;
        if (arr) for (let i = 0; i < arr.length; i++) if (set.has(arr[i])) return true;
        return false;
      };
      if (op === 'contains_any') return any;
      if (op === 'not_contains') return (ctx) => !any(ctx);
      return (ctx) => {
        const arr = get(ctx) as unknown[] | undefined;
        if (!arr) return false;
        for (const v of set) if (!arr.includes(v)) return false;
        return true;
      };
    }
  }
  return bad(`operator "${op}" is not implemented`);
}

/**
 * Where a list value lives: inline, the item itself; through `$name`, the item in `lists:` (so a
 * list used by many rules reports a bad value once, at its own line).
 */
function itemPath(value: unknown, path: Path, i: number): Path {
  if (isListRef(value)) return ['lists', value.slice(1), i];
  return Array.isArray(value) ? [...path, i] : path;
}

function isListRef(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('$');
}

function resolveList(value: unknown, op: string, path: Path, env: ConditionEnv): unknown[] | null {
  if (isListRef(value)) {
    const list = env.lists.get(value.slice(1));
    if (!list) {
      const known = [...env.lists.keys()];
      env.issues.push({
        path,
        message: `unknown list "${value}"; define it under "lists:"${known.length ? ` (defined: ${known.map((k) => `$${k}`).join(', ')})` : ''}`,
      });
      return null;
    }
    return list;
  }
  if (!Array.isArray(value) || value.length === 0) {
    env.issues.push({ path, message: `"${op}" takes a non-empty list such as [CN, RU], or a list name such as $restricted_countries` });
    return null;
  }
  return value;
}

function checkScalar(field: FieldDef, name: string, v: unknown, path: Path, env: ConditionEnv): void {
  const bad = (message: string): void => void env.issues.push({ path, message });
  switch (field.type) {
    case 'country':
      if (typeof v !== 'string' || !COUNTRY.test(v)) {
        const fix = typeof v === 'string' && /^[a-z]{2}$/i.test(v) ? `; write "${v.toUpperCase()}"` : '';
        bad(`malformed country code ${JSON.stringify(v)}: use an ISO 3166-1 alpha-2 code in upper case, such as "CN"${fix}`);
      }
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(`"${name}" is a number; got ${JSON.stringify(v)}`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') bad(`"${name}" is true or false; got ${JSON.stringify(v)}`);
      return;
    case 'enum':
    case 'enum[]':
    case 'ordered':
      if (typeof v !== 'string' || !field.values!.includes(v)) {
        const hint = typeof v === 'string' ? suggest(v, field.values!) : undefined;
        bad(`${JSON.stringify(v)} is not a value of "${name}"${hint ? `; did you mean "${hint}"?` : ''} (values: ${field.values!.join(', ')})`);
      }
      return;
    case 'string':
    case 'string[]':
      if (typeof v !== 'string') bad(`"${name}" is text; quote the value: "${String(v)}"`);
      return;
    case 'object':
      bad(`"${name}" only takes "exists"`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The closest candidate by edit distance, if it is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

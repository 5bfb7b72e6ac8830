/**
 * Entity screening: an organisation's name, aliases, domains and declared owners against the
 * sanctions lists and a watchlist, with a score and an explanation per hit, and the 50% rule
 * over (possibly indirect) ownership.
 *
 * Matching: both sides are normalised (`normalize.ts`); candidates come from an inverted index
 * over tokens, a trigram index over the token vocabulary (typos), the compact form (spacing)
 * and initials (abbreviations), never a scan; each candidate is scored by IDF-weighted token
 * coverage in both directions with Jaro-Winkler for near-equal tokens.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  WardenError,
  formatIssuePath,
  type ScreeningHit,
  type ScreeningQuery,
  type ScreeningResult,
  type Screener,
  type Watchlist,
} from '../core/index.js';
import { editDistance, jaroWinkler } from './jaro-winkler.js';
import { normalizeDomain, normalizeName, type NormalizedName } from './normalize.js';
import { loadSanctionsLists, type ListEntity, type LoadedLists } from './sanctions-lists.js';

type NameKind = 'name' | 'alias' | 'native_name' | 'subsidiary';

interface NameRec {
  ent: number;
  kind: NameKind;
  text: string;
  tokens: string[];
  compact: string;
  initials: string;
}

export const DEFAULT_THRESHOLD = 0.85;
/** Names longer than this are refused (no legal name is this long; it bounds the work). */
export const MAX_NAME_LENGTH = 500;

const ScreeningQueryInput = z.object({
  name: z
    .string()
    .max(MAX_NAME_LENGTH, `at most ${MAX_NAME_LENGTH} characters`)
    .refine((s) => s.trim().length > 0, 'must not be empty'),
  aliases: z.array(z.string().max(MAX_NAME_LENGTH, `at most ${MAX_NAME_LENGTH} characters`)).max(50).optional(),
  domains: z.array(z.string().max(253)).max(50).optional(),
  owners: z
    .array(
      z.object({
        name: z.string().min(1).max(MAX_NAME_LENGTH),
        country: z.string().optional(),
        share: z.number().min(0).max(1),
        org_id: z.string().optional(),
      }),
    )
    .max(200)
    .optional(),
  country: z.string().optional(),
});

export interface CreateScreenerOptions {
  watchlist?: Watchlist;
  /** A folder laid out like data/sanctions; default: the configured data dir, else the shipped lists. */
  sanctionsDir?: string;
  /** The configured data directory (lists loaded with `warden intel load`). */
  dataDir?: string;
  /** Already-loaded lists (tests, benchmarks); skips reading files. */
  lists?: LoadedLists;
  /** Set false to screen against the watchlist alone. */
  sanctions?: boolean;
  /** Minimum score of a hit (default 0.85). */
  threshold?: number;
  /** Resolves an owner's `org_id` to that org's own screening query (for indirect ownership). */
  resolveOrg?: (orgId: string) => ScreeningQuery | undefined;
  now?: () => Date;
}

export interface ScreenOptions {
  resolveOrg?: (orgId: string) => ScreeningQuery | undefined;
}

export interface NameMatch {
  entity: ListEntity;
  score: number;
  matched_on: NameKind;
  matched_name: string;
  explanation: string;
}

/** A screener plus helpers the CLI and the evaluation use. */
export interface OpenedScreener extends Screener {
  screen(query: ScreeningQuery, opts?: ScreenOptions): ScreeningResult;
  /** Best matches of one name (any script) against the lists, best first, at or above `threshold`. */
  matchName(name: string, threshold?: number): NameMatch[];
  readonly threshold: number;
  readonly listsVersion: string;
  stats(): { entities: number; names: number; tokens: number; loadMs: number };
  sources(): LoadedLists['sources'];
}

const ALPHA = 0.6;

function tokenThreshold(a: string, b: string): number {
  return Math.max(a.length, b.length) <= 5 ? 0.95 : 0.93;
}

/**
 * Similarity of two different tokens, or 0 when they are not near-equal: Jaro-Winkler above a
 * length-dependent bar, or one edit (typo, transposition) in a token of six letters or more, two
 * in one of nine or more. Short tokens must be near-identical: "mellat" and "melli" stay apart.
 */
function tokenSimilarity(q: string, t: string): number {
  const jw = jaroWinkler(q, t);
  if (jw >= tokenThreshold(q, t)) return jw;
  const short = Math.min(q.length, t.length);
  if (short < 6) return 0;
  const d = editDistance(q, t, short >= 9 ? 2 : 1);
  if (d <= (short >= 9 ? 2 : 1)) return Math.max(jw, 1 - d / Math.max(q.length, t.length));
  return 0;
}

/** The token and every string one deletion away from it (a SymSpell-style neighbourhood). */
function deletions(t: string): string[] {
  const out = [t];
  for (let i = 0; i < t.length; i++) out.push(t.slice(0, i) + t.slice(i + 1));
  return out;
}

/**
 * Words that qualify a name rather than identify it (legal-name padding, places): they count a
 * quarter of their IDF weight, so "Tencent" meets "腾讯科技（深圳）有限公司" and "Alibaba" meets
 * "Alibaba Group Holding", while two names that share only such words stay apart.
 */
const GENERIC = new Set(
  (
    'group holding international global trading trade technology industry industrial enterprise service solution system ' +
    'development investment management general network communication electronic engineering construction import export ' +
    'logistic product science research institute center partner venture capital resource commercial manufacturing ' +
    'china chinese beijing shanghai shenzhen guangzhou hangzhou tianjin chengdu wuhan xian nanjing hong kong singapore ' +
    'usa america american uk united kingdom london japan tokyo korea seoul germany berlin india delhi mumbai russia russian ' +
    'moscow iran tehran dubai uae emirate turkey istanbul syria damascus pakistan karachi malaysia kuala lumpur thailand ' +
    'bangkok vietnam hanoi taiwan taipei cyprus limassol panama europe asia pacific middle east west north south'
  ).split(' '),
);
const GENERIC_FACTOR = 0.25;

function initialsOf(tokens: string[]): string {
  return tokens.map((t) => t[0]).join('');
}

function watchlistEntities(w: Watchlist): ListEntity[] {
  return w.entities.map((e) => {
    const x: ListEntity = {
      id: e.id,
      name: e.name,
      list: 'watchlist',
      kind: e.kind,
      type: 'entity',
      aliases: e.aliases,
      native_names: e.native_names,
      subsidiaries: e.subsidiaries,
      domains: e.domains.map((d) => normalizeDomain(d) ?? d.toLowerCase()),
    };
    if (e.jurisdiction) x.jurisdiction = e.jurisdiction;
    return x;
  });
}

function invalid(message: string): WardenError {
  return new WardenError('INPUT_INVALID', message);
}

/** Builds the index; about half a second for the shipped lists. */
export function createScreener(opts: CreateScreenerOptions = {}): OpenedScreener {
  const t0 = performance.now();
  const threshold = opts.threshold ?? DEFAULT_THRESHOLD;
  const now = opts.now ?? (() => new Date());
  const lists: LoadedLists =
    opts.sanctions === false
      ? { entities: [], versions: [], sources: [] }
      : (opts.lists ?? loadSanctionsLists({ sanctionsDir: opts.sanctionsDir, dataDir: opts.dataDir }));
  const watch = opts.watchlist;
  const ents: ListEntity[] = [...lists.entities, ...(watch ? watchlistEntities(watch) : [])];
  const restrictedCountries = new Set(watch?.restricted_countries ?? []);
  const versions = [...lists.versions];
  if (watch) versions.push(`watchlist@${createHash('sha256').update(JSON.stringify(watch)).digest('hex').slice(0, 12)}`);
  const listsVersion = versions.join(';') || 'none';

  const recs: NameRec[] = [];
  const postings = new Map<string, number[]>();
  const compactMap = new Map<string, number[]>();
  const initialsMap = new Map<string, number[]>();
  const domainMap = new Map<string, number[]>();
  const push = <K>(m: Map<K, number[]>, k: K, v: number): void => {
    const a = m.get(k);
    if (a) {
      if (a[a.length - 1] !== v) a.push(v);
    } else m.set(k, [v]);
  };
  const addName = (ent: number, kind: NameKind, text: string): void => {
    const n = normalizeName(text);
    if (n.tokens.length === 0) return;
    const id = recs.length;
    const initials = n.allTokens.length >= 3 ? initialsOf(n.allTokens) : '';
    recs.push({ ent, kind, text, tokens: n.tokens, compact: n.compact, initials });
    for (const t of new Set(n.tokens)) push(postings, t, id);
    if (n.compact.length >= 4) push(compactMap, n.compact, id);
    if (ents[ent]!.type === 'entity' && n.tokens.length >= 3) {
      push(initialsMap, initialsOf(n.tokens), id);
      if (initials && initials !== initialsOf(n.tokens)) push(initialsMap, initials, id);
    }
  };
  ents.forEach((e, i) => {
    addName(i, 'name', e.name);
    for (const a of e.aliases) addName(i, 'alias', a);
    for (const a of e.native_names) addName(i, 'native_name', a);
    for (const a of e.subsidiaries) addName(i, 'subsidiary', a);
    for (const d of e.domains) push(domainMap, d, i);
  });
  const N = recs.length || 1;
  const maxWeight = Math.log(1 + N);
  const weights = new Map<string, number>();
  for (const [t, p] of postings) weights.set(t, Math.log(1 + N / p.length) * (GENERIC.has(t) ? GENERIC_FACTOR : 1));
  const weight = (t: string): number => weights.get(t) ?? (GENERIC.has(t) ? maxWeight * GENERIC_FACTOR : maxWeight);
  const recWeight = new Float64Array(recs.length);
  recs.forEach((r, i) => {
    let w = 0;
    for (const t of r.tokens) w += weight(t);
    recWeight[i] = w;
  });
  const deletionIndex = new Map<string, string[]>();
  for (const t of postings.keys()) {
    if (t.length < 4) continue;
    for (const d of deletions(t)) {
      const a = deletionIndex.get(d);
      if (a) {
        if (a[a.length - 1] !== t) a.push(t);
      } else deletionIndex.set(d, [t]);
    }
  }
  const loadMs = performance.now() - t0;

  /** Vocabulary tokens within typo distance of `q` (about two edits), with their similarity. */
  const fuzzyVocab = (q: string): [string, number][] => {
    if (q.length < 4) return [];
    const seen = new Set<string>([q]);
    const out: [string, number][] = [];
    for (const d of deletions(q)) {
      for (const t of deletionIndex.get(d) ?? []) {
        if (seen.has(t)) continue;
        seen.add(t);
        const s = tokenSimilarity(q, t);
        if (s > 0) out.push([t, s]);
      }
    }
    return out;
  };

  interface Scored {
    score: number;
    rec: NameRec;
    explanation: string;
  }

  const scoreRec = (qn: NormalizedName, qw: number[], rec: NameRec, fuzzy: Map<string, Map<string, number>>): Scored => {
    const Q = qn.tokens;
    const R = rec.tokens;
    const usedQ = new Array<boolean>(Q.length).fill(false);
    const rSim = new Array<number>(R.length).fill(0);
    const rWith = new Array<string>(R.length).fill('');
    const qSim = new Array<number>(Q.length).fill(0);
    // Exact first, then fuzzy, then joins of two adjacent query tokens.
    for (let j = 0; j < R.length; j++) {
      const i = Q.findIndex((q, k) => !usedQ[k] && q === R[j]);
      if (i >= 0) {
        usedQ[i] = true;
        rSim[j] = 1;
        qSim[i] = 1;
        rWith[j] = Q[i]!;
      }
    }
    for (let j = 0; j < R.length; j++) {
      if (rSim[j]! > 0) continue;
      let best = -1;
      let bs = 0;
      for (let i = 0; i < Q.length; i++) {
        if (usedQ[i]) continue;
        const s = fuzzy.get(Q[i]!)?.get(R[j]!) ?? 0;
        if (s > bs) ((bs = s), (best = i));
      }
      if (best >= 0) {
        usedQ[best] = true;
        rSim[j] = bs;
        qSim[best] = bs;
        rWith[j] = Q[best]!;
      }
    }
    for (let j = 0; j < R.length; j++) {
      if (rSim[j]! > 0) continue;
      for (let i = 0; i + 1 < Q.length; i++) {
        if (!usedQ[i] && !usedQ[i + 1] && Q[i]! + Q[i + 1]! === R[j]) {
          usedQ[i] = usedQ[i + 1] = true;
          rSim[j] = qSim[i] = qSim[i + 1] = 1;
          rWith[j] = `${Q[i]} ${Q[i + 1]}`;
          break;
        }
      }
    }
    for (let i = 0; i < Q.length; i++) {
      if (usedQ[i]) continue;
      for (let j = 0; j + 1 < R.length; j++) {
        if (rSim[j] === 0 && rSim[j + 1] === 0 && R[j]! + R[j + 1]! === Q[i]) {
          usedQ[i] = true;
          qSim[i] = rSim[j] = rSim[j + 1] = 1;
          rWith[j] = Q[i]!;
          rWith[j + 1] = Q[i]!;
          break;
        }
      }
    }
    let rNum = 0;
    let rDen = 0;
    for (let j = 0; j < R.length; j++) {
      const w = weight(R[j]!);
      rDen += w;
      rNum += w * rSim[j]!;
    }
    let qNum = 0;
    let qDen = 0;
    for (let i = 0; i < Q.length; i++) {
      qDen += qw[i]!;
      qNum += qw[i]! * qSim[i]!;
    }
    let score = ALPHA * (rDen > 0 ? rNum / rDen : 0) + (1 - ALPHA) * (qDen > 0 ? qNum / qDen : 0);
    let how = '';
    if (qn.compact === rec.compact && score < 0.98) {
      score = 0.98;
      how = `same letters without spaces "${rec.compact}"`;
    } else if (qn.compact.length >= 8 && rec.compact.length >= 8 && score < 0.9) {
      const s = jaroWinkler(qn.compact, rec.compact);
      if (s >= 0.95 && s * 0.97 > score) {
        score = s * 0.97;
        how = `"${qn.compact}" ≈ "${rec.compact}" as one word (${s.toFixed(2)})`;
      }
    }
    if (rec.initials || R.length >= 3) {
      for (let i = 0; i < Q.length; i++) {
        const q = Q[i]!;
        if (q.length >= 3 && (q === rec.initials || q === initialsOf(R))) {
          // Three-letter initials collide too often ("AIG") to be a hit on their own.
          const s = Math.min(q.length >= 4 ? 1 : 0.8, ALPHA * 0.95 + (1 - ALPHA) * (qw[i]! / (qDen || 1)));
          if (s > score) {
            score = s;
            how = `"${q}" is the initials of "${rec.text}"`;
          }
        }
      }
    }
    if (!how) {
      const parts = R.map((r, j) => (rSim[j] === 1 ? (rWith[j] === r ? r : `${rWith[j]}=${r}`) : rSim[j]! > 0 ? `${rWith[j]}~${r} ${rSim[j]!.toFixed(2)}` : `missing ${r}`));
      const extra = Q.filter((_, i) => !usedQ[i]);
      how = `tokens ${parts.join(', ')}${extra.length ? `; extra ${extra.join(' ')}` : ''}`;
    }
    return { score: Math.min(1, score), rec, explanation: how };
  };

  const matchNormalized = (qn: NormalizedName, min: number): Scored[] => {
    const Q = qn.tokens;
    if (Q.length === 0) return [];
    const qw = Q.map(weight);
    const fuzzy = new Map<string, Map<string, number>>();
    const cand = new Map<number, number>();
    const add = (ids: number[] | undefined, w: number): void => {
      if (!ids) return;
      for (const id of ids) cand.set(id, (cand.get(id) ?? 0) + w);
    };
    // Rare tokens generate candidates; very common ones only when nothing rarer is present.
    const order = Q.map((q, i) => ({ q, i, df: postings.get(q)?.length ?? 0 })).sort((a, b) => a.df - b.df);
    let generated = 0;
    for (const { q, i, df } of order) {
      if (df > 4000 && generated > 0) continue;
      if (df > 0) {
        add(postings.get(q), qw[i]!);
        generated++;
      }
      const fz = fuzzyVocab(q);
      if (fz.length > 0) {
        const m = new Map<string, number>();
        for (const [t, s] of fz) {
          m.set(t, s);
          const p = postings.get(t)!;
          if (p.length <= 4000) add(p, weight(t) * s);
        }
        fuzzy.set(q, m);
        generated++;
      }
    }
    for (let i = 0; i + 1 < Q.length; i++) add(postings.get(Q[i]! + Q[i + 1]!), qw[i]! + qw[i + 1]!);
    // Equal compact forms and initials are scored whatever the shared weight says.
    const forced = new Set<number>();
    for (const id of compactMap.get(qn.compact) ?? []) forced.add(id);
    for (const q of Q) if (q.length >= 3) for (const id of initialsMap.get(q) ?? []) forced.add(id);
    for (const id of forced) if (!cand.has(id)) cand.set(id, 0);
    // Upper bound of each candidate's score from the weight it shares with the query: skip
    // those that cannot reach `min` (compact and initials matches carry a large bonus weight).
    let qDen = 0;
    for (const w of qw) qDen += w;
    const ids: number[] = [];
    for (const [id, acc] of cand) {
      const ub = ALPHA * Math.min(1, acc / (recWeight[id]! || 1)) + (1 - ALPHA) * Math.min(1, acc / (qDen || 1));
      if (ub >= min - 0.1 && !forced.has(id)) ids.push(id);
    }
    if (ids.length > 200) ids.sort((a, b) => cand.get(b)! - cand.get(a)!).length = 200;
    ids.push(...forced);
    const out: Scored[] = [];
    for (const id of ids) {
      const s = scoreRec(qn, qw, recs[id]!, fuzzy);
      if (s.score >= min) out.push(s);
    }
    return out.sort((a, b) => b.score - a.score);
  };

  /** Best match per entity for one name. */
  const matchName = (name: string, min = threshold): NameMatch[] => {
    if (typeof name !== 'string' || name.trim().length === 0) throw invalid('name must not be empty; give the organisation\'s legal or display name.');
    if (name.length > MAX_NAME_LENGTH) throw invalid(`name is ${name.length} characters; at most ${MAX_NAME_LENGTH} are screened. Give the legal name alone.`);
    const qn = normalizeName(name);
    const read = qn.transliterated ? ` (read as "${qn.tokens.join(' ')}")` : '';
    const best = new Map<number, NameMatch>();
    for (const s of matchNormalized(qn, min)) {
      if (best.has(s.rec.ent)) continue;
      const e = ents[s.rec.ent]!;
      const kindWord = s.rec.kind === 'native_name' ? 'native name' : s.rec.kind;
      best.set(s.rec.ent, {
        entity: e,
        score: Math.round(s.score * 1000) / 1000,
        matched_on: s.rec.kind,
        matched_name: s.rec.text,
        explanation: `"${name}"${read} ~ ${kindWord} "${s.rec.text}" of ${e.list} entry "${e.name}" (${s.explanation}; score ${s.score.toFixed(2)})`,
      });
    }
    return [...best.values()];
  };

  const toHit = (m: NameMatch, matched_on: ScreeningHit['matched_on'], prefix: string): ScreeningHit => ({
    entity_id: m.entity.id,
    entity_name: m.entity.name,
    list: m.entity.list,
    kind: m.entity.kind,
    score: m.score,
    explanation: `${prefix}${m.explanation}`,
    matched_on,
  });

  const directHits = (q: ScreeningQuery): ScreeningHit[] => {
    const hits = new Map<string, ScreeningHit>();
    // One hit per entity: the best score, with every way it matched in the explanation.
    const keep = (h: ScreeningHit): void => {
      const old = hits.get(h.entity_id);
      if (!old) hits.set(h.entity_id, h);
      else if (h.score > old.score) hits.set(h.entity_id, { ...h, explanation: `${h.explanation}; also ${old.explanation}` });
      else old.explanation = `${old.explanation}; also ${h.explanation}`;
    };
    const names = [q.name, ...(q.aliases ?? [])];
    names.forEach((n, i) => {
      if (i > 0 && n.trim() === '') return;
      for (const m of matchName(n)) keep(toHit(m, m.matched_on, i === 0 ? 'name ' : 'alias '));
    });
    for (const raw of q.domains ?? []) {
      const d = normalizeDomain(raw);
      if (!d) throw invalid(`domain ${JSON.stringify(raw.slice(0, 80))} is not a domain name; give it like example.com (an email address or URL also works).`);
      const labels = d.split('.');
      for (let k = 0; k + 2 <= labels.length; k++) {
        const suffix = labels.slice(k).join('.');
        for (const ei of domainMap.get(suffix) ?? []) {
          const e = ents[ei]!;
          keep({
            entity_id: e.id,
            entity_name: e.name,
            list: e.list,
            kind: e.kind,
            score: k === 0 ? 1 : 0.95,
            explanation:
              k === 0
                ? `domain "${d}" is a domain of ${e.list} entry "${e.name}"`
                : `domain "${d}" is a subdomain of "${suffix}", a domain of ${e.list} entry "${e.name}"`,
            matched_on: 'domain',
          });
        }
      }
    }
    return [...hits.values()].sort((a, b) => b.score - a.score);
  };

  interface OwnershipOutcome {
    share: number;
    hits: ScreeningHit[];
    contributions: string[];
  }

  const ownership = (q: ScreeningQuery, resolveOrg: ScreenOptions['resolveOrg'], depth: number, visiting: Set<string>): OwnershipOutcome => {
    const hits: ScreeningHit[] = [];
    const contributions: string[] = [];
    let share = 0;
    for (const o of q.owners ?? []) {
      const pct = `${Math.round(o.share * 1000) / 10}%`;
      const reasons: string[] = [];
      for (const m of matchName(o.name)) {
        hits.push(toHit(m, 'owner', `owner "${o.name}" (${pct}): `));
        reasons.push(`${m.entity.list} ${m.entity.kind} "${m.entity.name}"`);
      }
      if (o.country && restrictedCountries.has(o.country)) reasons.push(`in restricted country ${o.country}`);
      if (o.org_id && resolveOrg && depth < 8 && !visiting.has(o.org_id)) {
        const org = resolveOrg(o.org_id);
        if (org) {
          visiting.add(o.org_id);
          if (org.country && restrictedCountries.has(org.country)) reasons.push(`org ${o.org_id} is in restricted country ${org.country}`);
          const direct = directHits(org);
          if (direct.length > 0) reasons.push(`org ${o.org_id} is listed (${direct[0]!.list} "${direct[0]!.entity_name}")`);
          const inner = ownership(org, resolveOrg, depth + 1, visiting);
          if (inner.share >= 0.5) reasons.push(`org ${o.org_id} is ${Math.round(inner.share * 1000) / 10}% owned by restricted parties (${inner.contributions.join('; ')})`);
          visiting.delete(o.org_id);
        }
      }
      if (reasons.length > 0) {
        share += o.share;
        contributions.push(`"${o.name}" ${pct}: ${reasons.join(', ')}`);
      }
    }
    return { share: Math.min(1, share), hits, contributions };
  };

  const screen = (query: ScreeningQuery, so: ScreenOptions = {}): ScreeningResult => {
    const parsed = ScreeningQueryInput.safeParse(query);
    if (!parsed.success) {
      const lines = parsed.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`);
      throw invalid(`invalid screening query: ${lines.join('; ')}`);
    }
    const q = parsed.data as ScreeningQuery;
    const resolveOrg = so.resolveOrg ?? opts.resolveOrg;
    const direct = directHits(q);
    const result: ScreeningResult = {
      status: direct.length > 0 ? 'hit' : 'clear',
      hits: direct,
      screened_at: now().toISOString(),
      lists_version: listsVersion,
    };
    if (q.owners && q.owners.length > 0) {
      const own = ownership(q, resolveOrg, 0, new Set());
      result.hits.push(...own.hits);
      result.restricted_ownership_share = Math.round(own.share * 10000) / 10000;
      if (own.share >= 0.5) {
        result.hits.push({
          entity_id: 'ownership:50-percent-rule',
          entity_name: q.name,
          list: 'ownership',
          kind: 'restricted',
          score: result.restricted_ownership_share,
          explanation: `${Math.round(own.share * 1000) / 10}% owned by restricted parties (≥ 50%): ${own.contributions.join('; ')}`,
          matched_on: 'ownership',
        });
        if (result.status === 'clear') result.status = 'restricted_ownership';
      }
    }
    return result;
  };

  return {
    screen,
    matchName: (name, min) => matchName(name, min ?? threshold),
    threshold,
    listsVersion,
    stats: () => ({ entities: ents.length, names: recs.length, tokens: postings.size, loadMs }),
    sources: () => lists.sources,
  };
}

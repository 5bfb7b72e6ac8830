/**
 * Account linkage: an account–attribute index (payment and device fingerprints, email domain,
 * signup address and /24, signup bursts, network prefixes and templates in use) turned into a
 * weighted account graph, Fellegi–Sunter style: a shared value's weight is its field's weight
 * times how rare the value is (a card two accounts share is strong, a campus /24 two hundred
 * students share is nothing). Values held by more than a field's cap are never expanded into
 * pairs, so there are no cliques over common values. Communities come from Louvain.
 */
import { UndirectedGraph } from 'graphology';
import louvainModule from 'graphology-communities-louvain';
import { hash32 } from './sketches.js';

export const FIELDS = ['org', 'payment', 'device', 'email_domain', 'signup_ip', 'signup_prefix', 'signup_burst', 'net_prefix', 'template', 'sys_template'] as const;
export type LinkField = (typeof FIELDS)[number];

export interface FieldSpec {
  /** Weight of an agreement on the rarest possible value. */
  weight: number;
  /** Values held by more accounts than this are common: never expanded into pairs. */
  cap: number;
}

export const FIELD_SPECS: Record<LinkField, FieldSpec> = {
  org: { weight: 0.6, cap: 30 },
  payment: { weight: 1.0, cap: 25 },
  device: { weight: 0.9, cap: 25 },
  email_domain: { weight: 0.35, cap: 30 },
  signup_ip: { weight: 0.45, cap: 12 },
  signup_prefix: { weight: 0.2, cap: 12 },
  signup_burst: { weight: 0.15, cap: 12 },
  net_prefix: { weight: 0.2, cap: 10 },
  template: { weight: 0.25, cap: 12 },
  sys_template: { weight: 0.2, cap: 12 },
};

/** Free-mail and other shared email domains: agreement on them means nothing. */
const FREEMAIL = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'yahoo.com', 'icloud.com', 'proton.me',
  'protonmail.com', 'qq.com', '163.com', '126.com', 'mail.ru', 'yandex.ru', 'gmx.de', 'web.de', 'aol.com', 'zoho.com',
]);
export function isFreemail(domain: string): boolean {
  return FREEMAIL.has(domain.toLowerCase());
}

/** An account's e-mail domain as written: the declared one, else the part of its address after '@'. */
export function emailDomainOf(a: { email?: string | undefined; email_domain?: string | undefined } | undefined): string | undefined {
  if (a?.email_domain !== undefined) return a.email_domain;
  const at = a?.email?.indexOf('@') ?? -1;
  return at >= 0 ? a!.email!.slice(at + 1) : undefined;
}

/** A value held by two or more accounts; `i` is its place in the order values became shared. */
export interface SharedValue {
  readonly field: LinkField;
  readonly value: string;
  readonly members: readonly string[];
  readonly i: number;
}

/** Inverted index: field → value → account ids (stops growing past the cap + 1: then it is common). */
export class AttributeIndex {
  /** field → value → its holder (one) or holders (two or more). */
  private readonly idx = new Map<LinkField, Map<string, string | string[]>>();
  /** Values seen on more accounts than their cap. */
  private readonly common = new Map<LinkField, Set<string>>();
  /**
   * Values held by two or more accounts (the lists are the index's own, so they stay current):
   * `groups()` walks these instead of every value, most of which have a single holder.
   */
  private shared: SharedValue[] = [];
  /**
   * Each account's shared values: `scorePairs` reads the weak values of the few accounts that
   * share a stronger one instead of walking every shared value.
   */
  private sharedOf = new Map<string, SharedValue[]>();
  /** Bumped whenever a holder is added: an unchanged version means unchanged groups. */
  version = 0;
  /**
   * Shared values that gained a holder (or became shared) since `takeChanged()`, while
   * `tracking` is on (`PairScorer` turns it on; an index built or restored afresh has it off).
   */
  tracking = false;
  private changed = new Set<SharedValue>();

  /** The shared values changed since the last call, and forgets them. */
  takeChanged(): SharedValue[] {
    const out = [...this.changed];
    this.changed.clear();
    return out;
  }

  add(field: LinkField, value: string, account: string): void {
    let m = this.idx.get(field);
    if (!m) this.idx.set(field, (m = new Map()));
    const cap = FIELD_SPECS[field].cap;
    const held = m.get(value);
    if (held === undefined) {
      // One holder is kept as the id itself: most values (a card, a device, a signup address)
      // have one, and an array each would cost a million accounts hundreds of megabytes.
      m.set(value, account);
      this.version++;
      return;
    }
    if (typeof held === 'string') {
      if (held === account) return;
      const list = [held, account];
      m.set(value, list);
      this.version++;
      const g: SharedValue = { field, value, members: list, i: this.shared.length };
      this.shared.push(g);
      this.holdShared(held, g);
      this.holdShared(account, g);
      if (this.tracking) this.changed.add(g);
      return;
    }
    const list = held;
    if (list.includes(account)) return;
    if (list.length >= cap + 1) {
      let c = this.common.get(field);
      if (!c) this.common.set(field, (c = new Set()));
      c.add(value);
      return;
    }
    list.push(account);
    this.version++;
    // The value's entry, found among its first holder's shared values.
    const g = this.sharedOf.get(list[0]!)!.find((x) => x.members === list)!;
    this.holdShared(account, g);
    if (this.tracking) this.changed.add(g);
  }

  private holdShared(account: string, g: SharedValue): void {
    const l = this.sharedOf.get(account);
    // An exact-size copy, not `push`: a push on a one-element array leaves room for 17, and
    // most accounts hold one or two shared values (about 40 MB of empty slots at a million).
    this.sharedOf.set(account, l ? l.concat(g) : [g]);
  }

  holders(field: LinkField, value: string): readonly string[] {
    const h = this.idx.get(field)?.get(value);
    return h === undefined ? [] : typeof h === 'string' ? [h] : h;
  }

  /** Values held by 2 to `cap` accounts, in the order they became shared. */
  *groups(): Generator<{ field: LinkField; value: string; members: readonly string[] }> {
    for (const g of this.shared) if (g.members.length <= FIELD_SPECS[g.field].cap) yield g;
  }

  /**
   * Every value held by two or more accounts, in the order it became shared, including values
   * past their cap (callers skip those: `groups()` without the generator, for `scorePairs`).
   */
  sharedValues(): readonly SharedValue[] {
    return this.shared;
  }

  /** The shared values an account holds (in no particular order). */
  sharedWith(account: string): readonly SharedValue[] {
    return this.sharedOf.get(account) ?? [];
  }

  private reshare(): void {
    this.shared = [];
    this.sharedOf = new Map();
    for (const [field, m] of this.idx) {
      for (const [value, members] of m) {
        if (typeof members === 'string' || members.length < 2) continue;
        const g: SharedValue = { field, value, members, i: this.shared.length };
        this.shared.push(g);
        for (const a of members) this.holdShared(a, g);
      }
    }
  }

  clone(): AttributeIndex {
    const c = new AttributeIndex();
    for (const [f, m] of this.idx) c.idx.set(f, new Map([...m].map(([k, v]) => [k, typeof v === 'string' ? v : v.slice()])));
    for (const [f, s] of this.common) c.common.set(f, new Set(s));
    c.reshare();
    return c;
  }

  toJSON(): { idx: [LinkField, [string, string[]][]][]; common: [LinkField, string[]][] } {
    return { idx: [...this.idx].map(([f, m]) => [f, [...m].map(([k, v]): [string, string[]] => [k, typeof v === 'string' ? [v] : v])]), common: [...this.common].map(([f, s]) => [f, [...s]]) };
  }
  static fromJSON(j: ReturnType<AttributeIndex['toJSON']>): AttributeIndex {
    const a = new AttributeIndex();
    for (const [f, entries] of j.idx) a.idx.set(f, new Map(entries.map(([k, v]): [string, string | string[]] => [k, v.length === 1 ? v[0]! : v])));
    for (const [f, vs] of j.common) a.common.set(f, new Set(vs));
    a.reshare();
    return a;
  }
}

export interface Link {
  a: string;
  b: string;
  weight: number;
  /**
   * Each field's best agreement on this pair, as the number of accounts holding the value it
   * agrees on (0: the field does not agree), five bits a field: fields 0–4 of FIELDS in `h0`,
   * 5–9 in `h1` (`linkHolders`, `linkFields` read them). A field's weight follows from its
   * holders and the population. An object of per-field records cost a link about 170 bytes,
   * 170 MB at a million accounts.
   */
  h0: number;
  h1: number;
}

const FIELD_INDEX = new Map<LinkField, number>(FIELDS.map((f, i) => [f, i]));
const HOLDER_BITS = 5;
const HOLDER_MAX = (1 << HOLDER_BITS) - 1;
/** Fields in each of `h0` and `h1`. */
const PER_WORD = 5;
for (const f of FIELDS) if (FIELD_SPECS[f].cap > HOLDER_MAX) throw new Error(`linkage: ${f}'s cap ${FIELD_SPECS[f].cap} exceeds the ${HOLDER_MAX} holders a link can record`);
if (FIELDS.length > 2 * PER_WORD) throw new Error(`linkage: a link records ${2 * PER_WORD} fields (${PER_WORD} in each of h0, h1), not ${FIELDS.length}`);

/** How many accounts hold the value on which the pair agrees in `field` (0: no agreement). */
export function linkHolders(l: Link, field: LinkField): number {
  return holdersAt(l, FIELD_INDEX.get(field)!);
}

function holdersAt(l: Link, i: number): number {
  return ((i < PER_WORD ? l.h0 : l.h1) >>> (HOLDER_BITS * (i % PER_WORD))) & HOLDER_MAX;
}

/** The fields on which a pair agrees, in FIELDS order. */
export function linkFields(l: Link): LinkField[] {
  return FIELDS.filter((f) => linkHolders(l, f) > 0);
}

function setHolders(l: Link, i: number, holders: number): void {
  const shift = HOLDER_BITS * (i % PER_WORD);
  if (i < PER_WORD) l.h0 = (l.h0 & ~(HOLDER_MAX << shift)) | (holders << shift);
  else l.h1 = (l.h1 & ~(HOLDER_MAX << shift)) | (holders << shift);
}

/** Rarity of a value held by `k` of `n` accounts, 0..1 (1 for a pair in a large population). */
export function rarity(k: number, n: number): number {
  if (k <= 1) return 1;
  // A small population says little about how common a value is: assume at least
  // MIN_POPULATION accounts, so a card five accounts share stays strong in a small file.
  // Above the floor the population is taken in steps of a quarter octave (10,000, 11,892,
  // 14,142, …): a value's weight moves by well under 1% within a step, and links whose holders
  // did not change keep exactly the same weight from one rebuild to the next while the population
  // grows, so the communities of the components they form can be reused (`Communities`).
  const N = populationStep(n);
  return Math.max(0, Math.min(1, Math.log(N / k) / Math.log(N / 2)));
}

/** Population floor for rarity (a prior: values are judged as if among this many accounts). */
export const MIN_POPULATION = 10_000;

/**
 * Fields whose agreements all together weigh less than `minWeight` (their spec weights bound
 * what a pair can get from them): a pair that shares only such fields never becomes a link, so
 * their values are expanded only into pairs that share some other field too. The reuse fields
 * come first: they hold most shared values (sessions' /24 prefixes, templates).
 */
function weakFields(minWeight: number): Set<LinkField> {
  const order: LinkField[] = ['net_prefix', 'template', ...[...FIELDS].filter((f) => f !== 'net_prefix' && f !== 'template').sort((x, y) => FIELD_SPECS[x].weight - FIELD_SPECS[y].weight)];
  const weak = new Set<LinkField>();
  let sum = 0;
  for (const f of order) {
    // A margin for rounding: the bound must hold for the pair's accumulated weight.
    if (sum + FIELD_SPECS[f].weight < minWeight - 1e-9) {
      weak.add(f);
      sum += FIELD_SPECS[f].weight;
    }
  }
  return weak;
}
const weakCache = new Map<number, Set<LinkField>>();
function weakFor(minWeight: number): Set<LinkField> {
  let weak = weakCache.get(minWeight);
  if (!weak) weakCache.set(minWeight, (weak = weakFields(minWeight)));
  return weak;
}

/**
 * A value that can make a link (a field outside the weak ones, within its cap, with some weight):
 * only pairs that share one count their weak values.
 */
function isStrong(g: SharedValue, weak: ReadonlySet<LinkField>, r: Float64Array): boolean {
  const spec = FIELD_SPECS[g.field];
  return !weak.has(g.field) && g.members.length <= spec.cap && spec.weight * r[g.members.length]! > 0;
}

/** The largest cap of any field: the most holders a value within its cap can have. */
const MAX_CAP = Math.max(...FIELDS.map((f) => FIELD_SPECS[f].cap));

/**
 * `rarity(k, population)` for every number of holders a value within its cap can have (the
 * same numbers, computed once per population instead of once per pair and value).
 */
function raritiesAt(population: number): Float64Array {
  return Float64Array.from({ length: MAX_CAP + 1 }, (_, k) => rarity(k, population));
}

/**
 * Counts one shared value on a pair: each field once, at its best value (weights summed in the
 * order values come). `w` is the field's weight at `holders` (spec weight × rarity, `r` being the
 * population's rarities), so the weight already counted is recomputed from the holders recorded.
 */
function agree(l: Link, field: LinkField, w: number, holders: number, r: Float64Array): void {
  const i = FIELD_INDEX.get(field)!;
  const prevHolders = holdersAt(l, i);
  const prev = prevHolders === 0 ? 0 : FIELD_SPECS[field].weight * r[prevHolders]!;
  if (prevHolders === 0 || prev < w) {
    l.weight += w - prev;
    setHolders(l, i, holders);
  }
}

/**
 * Scores every pair that shares a rare value; each field counts once per pair (its best value).
 *
 * Row by row: each account's links to the accounts after it (in string order) are summed in a
 * small map of its own, from its shared values in the order they became shared, index by index
 * (the order a walk over all values would add them in, so the same floating-point sums). A
 * map of every pair in the population, keyed by two ordinals, boxed a number per pair and took
 * a quarter more time at a million accounts. Weak values (see `weakFields`) count only for
 * pairs that share a stronger one.
 */
export function scorePairs(indexes: AttributeIndex | readonly AttributeIndex[], population: number, minWeight: number): Link[] {
  const list = (Array.isArray(indexes) ? indexes : [indexes]) as readonly AttributeIndex[];
  const rows = new RowScorer(list, population, minWeight);
  // Every account in a pair that shares a strong value starts a row.
  const starts = new Set<string>();
  for (const index of list) for (const g of index.sharedValues()) if (rows.strong(g)) for (const m of g.members) starts.add(m);
  const out: Link[] = [];
  for (const a of [...starts].sort()) rows.row(a, null, out);
  return out;
}

/** One account's links at a time (see `scorePairs`), with scratch collections reused across rows. */
class RowScorer {
  private readonly weak: Set<LinkField>;
  private readonly partners = new Set<string>();
  private readonly links = new Map<string, Link>();
  private readonly mine: SharedValue[][];
  private readonly found: Link[] = [];
  /** Rarity by number of holders (`raritiesAt`). */
  private readonly r: Float64Array;

  constructor(
    private readonly indexes: readonly AttributeIndex[],
    population: number,
    private readonly minWeight: number,
  ) {
    this.weak = weakFor(minWeight);
    this.mine = indexes.map(() => []);
    this.r = raritiesAt(population);
  }

  /** A value that can make a link on its own terms (`isStrong`). */
  strong(g: SharedValue): boolean {
    return isStrong(g, this.weak, this.r);
  }

  /**
   * Appends to `out` the links of `a` to accounts after it (to those in `only`, when given), at
   * `minWeight` or more, sorted by their other end.
   */
  row(a: string, only: ReadonlySet<string> | null, out: Link[]): void {
    const { partners, links, mine, r } = this;
    partners.clear();
    this.indexes.forEach((index, n) => {
      const own = mine[n]!;
      own.length = 0;
      for (const g of index.sharedWith(a)) {
        own.push(g);
        if (!this.strong(g)) continue;
        for (const b of g.members) if (b > a && (only === null || only.has(b))) partners.add(b);
      }
      if (own.length > 1) own.sort(byOrder);
    });
    if (partners.size === 0) return;
    links.clear();
    for (const own of mine) {
      for (const g of own) {
        const spec = FIELD_SPECS[g.field];
        const all = g.members;
        if (all.length > spec.cap) continue;
        const w = spec.weight * r[all.length]!;
        if (w <= 0) continue;
        for (const b of all) {
          if (!partners.has(b)) continue;
          let l = links.get(b);
          if (l === undefined) links.set(b, (l = { a, b, weight: 0, h0: 0, h1: 0 }));
          agree(l, g.field, w, all.length, r);
        }
      }
    }
    const found = this.found;
    found.length = 0;
    for (const l of links.values()) if (l.weight >= this.minWeight) found.push(l);
    if (found.length > 1) found.sort(byOtherEnd);
    for (const l of found) out.push(l);
  }
}

const byOrder = (x: SharedValue, y: SharedValue): number => x.i - y.i;
const byOtherEnd = (x: Link, y: Link): number => (x.b < y.b ? -1 : x.b > y.b ? 1 : 0);

/** The step of the population that `rarity` reads (see there). */
function populationStep(n: number): number {
  return n <= MIN_POPULATION ? MIN_POPULATION : MIN_POPULATION * 2 ** (Math.floor(4 * Math.log2(n / MIN_POPULATION)) / 4);
}

/**
 * `scorePairs` between rebuilds, doing only what changed: the indexes record which shared values
 * gained a holder, every pair inside such a value is scored again from the two accounts' shared
 * values (in the order `scorePairs` sums them, so the weights are the same to the last bit), and
 * every other link is the previous call's. A different population step, link threshold or index
 * object (rebuilt or restored) makes it score everything. The result equals `scorePairs` on the
 * same indexes (a unit test checks it over random growth).
 */
export class PairScorer {
  private prev: { indexes: readonly AttributeIndex[]; step: number; minWeight: number; links: Link[] } | null = null;
  /** What the last call did: scored everything, or this many pairs again. */
  full = false;
  rescored = 0;

  score(indexes: readonly AttributeIndex[], population: number, minWeight: number): Link[] {
    const step = populationStep(population);
    const p = this.prev;
    if (!p || p.step !== step || p.minWeight !== minWeight || p.indexes.length !== indexes.length || p.indexes.some((x, i) => x !== indexes[i] || !x.tracking)) {
      for (const x of indexes) {
        x.tracking = true;
        x.takeChanged();
      }
      const links = scorePairs(indexes, population, minWeight);
      this.prev = { indexes: [...indexes], step, minWeight, links };
      this.full = true;
      this.rescored = 0;
      return links;
    }
    this.full = false;
    const changed: SharedValue[] = [];
    for (const x of indexes) for (const g of x.takeChanged()) changed.push(g);
    if (changed.length === 0) {
      this.rescored = 0;
      return p.links;
    }
    // Every pair inside a changed value (a value past its cap included: its pairs lose it).
    const touched = new Map<string, Set<string>>();
    let rescored = 0;
    for (const g of changed) {
      const m = g.members;
      for (let i = 0; i < m.length; i++) {
        for (let j = i + 1; j < m.length; j++) {
          const a = m[i]! < m[j]! ? m[i]! : m[j]!;
          const b = a === m[i] ? m[j]! : m[i]!;
          let set = touched.get(a);
          if (!set) touched.set(a, (set = new Set()));
          if (!set.has(b)) {
            set.add(b);
            rescored++;
          }
        }
      }
    }
    this.rescored = rescored;
    const rows = new RowScorer(indexes, population, minWeight);
    const fresh: Link[] = [];
    for (const [a, bs] of touched) rows.row(a, bs, fresh);
    fresh.sort(byEnds);
    // The previous links minus the pairs scored again, merged with their new scores (both sorted).
    const out: Link[] = [];
    let k = 0;
    for (const l of p.links) {
      if (touched.get(l.a)?.has(l.b)) continue;
      while (k < fresh.length && byEnds(fresh[k]!, l) < 0) out.push(fresh[k++]!);
      out.push(l);
    }
    while (k < fresh.length) out.push(fresh[k++]!);
    p.links = out;
    return out;
  }
}

const byEnds = (x: Link, y: Link): number => (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : x.b > y.b ? 1 : 0);

// The package is CommonJS whose typings declare an ES default export: at run time the module
// object is the function itself.
const louvain = ((louvainModule as unknown as { default?: unknown }).default ?? louvainModule) as unknown as (
  g: UndirectedGraph,
  o: { getEdgeWeight: string; randomWalk: boolean; resolution?: number; rng: () => number },
) => Record<string, number>;

/**
 * Levels of Louvain (one local-moving phase each, then the graph is aggregated) after which a run
 * is taken not to converge. Round-off in the modularity gains can make the run go on making a
 * move at every level for ever (seen on a 23-account component at resolution 0.1; networkx fixed
 * the same class of loop in 2026): the library has no limit of its own, and its list of moves per
 * level grows until V8 aborts the process. A component converges in a handful of levels. A loop
 * inside one level's local moving (a queue that never empties) is not caught by this: the
 * library offers no hook there, and none has been seen.
 */
export const LOUVAIN_MAX_LEVELS = 2_000;

class LouvainStalled extends Error {}

/**
 * The "random" start of each level's traversal for graphology's Louvain, which draws one per
 * level when `randomWalk` is on: always `start` (0: the first node, the same order as
 * `randomWalk: false`), so the levels can be counted and a run that does not converge stopped.
 */
function levelCounter(start: number): () => number {
  let levels = 0;
  return () => {
    if (++levels > LOUVAIN_MAX_LEVELS) throw new LouvainStalled();
    return start;
  };
}

/** One connected component of the link graph as last seen, and its communities. */
interface ComponentMemo {
  links: readonly Link[];
  groups: string[][];
  stalled: boolean;
  fallback: boolean;
}

/**
 * Communities of the link graph (only accounts with at least one link; groups of 2 or more),
 * found component by component: Louvain runs on each connected component on its own, so how a
 * component splits depends on its own links only, not on how many unrelated accounts the rest
 * of the graph holds (modularity's null model would otherwise change with the whole graph's
 * weight). That also lets a rebuild reuse the communities of every component whose links (ends
 * and weights, in order) are those of the previous rebuild: most components do not change
 * between two rebuilds, and building a graph is what costs (graphology takes microseconds per
 * edge; Louvain itself is a small part). A component of two accounts is one community.
 */
export class Communities {
  /** Components of the previous call, by their smallest account id. */
  private memo = new Map<string, ComponentMemo>();
  /** Components whose communities the last call took from the previous one, and those it computed. */
  reused = 0;
  computed = 0;
  /**
   * Components of the last call (computed or reused) on which Louvain did not converge from its
   * first node (see `LOUVAIN_MAX_LEVELS`), and those of them on which no start converged (one
   * community each).
   */
  stalled = 0;
  fallbacks = 0;

  of(links: readonly Link[]): string[][] {
    const components = connectedComponents(links);
    const memo = new Map<string, ComponentMemo>();
    const out: string[][] = [];
    this.reused = 0;
    this.computed = 0;
    this.stalled = 0;
    this.fallbacks = 0;
    for (const comp of components) {
      // Links are sorted by (a, b), so a component's first link starts at its smallest member.
      const key = comp[0]!.a;
      const prev = this.memo.get(key);
      let run: ComponentMemo;
      if (prev && sameLinks(prev.links, comp)) {
        run = prev;
        this.reused++;
      } else {
        run = { links: comp, ...(comp.length === 1 ? { groups: [[comp[0]!.a, comp[0]!.b]], stalled: false, fallback: false } : louvainGroups(comp)) };
        this.computed++;
      }
      if (run.stalled) this.stalled++;
      if (run.fallback) this.fallbacks++;
      memo.set(key, run);
      for (const g of run.groups) out.push(g);
    }
    this.memo = memo;
    return out;
  }
}

/** Communities of a link graph computed from nothing (no previous rebuild to reuse). */
export function communities(links: readonly Link[]): string[][] {
  return new Communities().of(links);
}

/** Same ends and weights in the same order (all that `communities` reads of the links). */
function sameLinks(x: readonly Link[], y: readonly Link[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p.a !== q.a || p.b !== q.b || p.weight !== q.weight) return false;
  }
  return true;
}

/**
 * The links of each connected component, each list in the input's order; components in the order
 * of their first link. Union–find over the links' ends, not a graph library's traversal: that
 * would need the whole graph built first, which is the cost `Communities` avoids.
 */
function connectedComponents(links: readonly Link[]): Link[][] {
  const ord = new Map<string, number>();
  const ends = new Int32Array(links.length * 2);
  links.forEach((l, i) => {
    let a = ord.get(l.a);
    if (a === undefined) ord.set(l.a, (a = ord.size));
    let b = ord.get(l.b);
    if (b === undefined) ord.set(l.b, (b = ord.size));
    ends[2 * i] = a;
    ends[2 * i + 1] = b;
  });
  const parent = new Int32Array(ord.size);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (let i = 0; i < links.length; i++) {
    const ra = find(ends[2 * i]!);
    const rb = find(ends[2 * i + 1]!);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const byRoot = new Map<number, Link[]>();
  const components: Link[][] = [];
  links.forEach((l, i) => {
    const r = find(ends[2 * i]!);
    let c = byRoot.get(r);
    if (!c) {
      byRoot.set(r, (c = []));
      components.push(c);
    }
    c.push(l);
  });
  return components;
}

/**
 * Louvain's resolution on one component. Run over the whole graph, modularity's null model
 * scales each component by its share of the graph's weight, and so split a campaign's component
 * differently in a small file and a large one; on a component by itself the same resolution
 * always gives the same split. 0.1 was set on the hard suite's training worlds, where it gives
 * every campaign the same actions and times to detect as Louvain over the whole graph did, with
 * clusters cut a little finer (1 splits the intermediary's shells into groups of their own and
 * delays its 90%-flagged point from about 6 h to 30–80 h; 0.3 moves a few hydra accounts from
 * block to step_up).
 */
export const LOUVAIN_RESOLUTION = 0.1;

/** Louvain over one connected component's links (the same links give the same groups), whether its first run stalled and whether every run did. */
function louvainGroups(links: readonly Link[]): { groups: string[][]; stalled: boolean; fallback: boolean } {
  const g = new UndirectedGraph({ allowSelfLoops: false });
  // Nodes first, in the order the links first name them (the order merging them edge by edge
  // gives, so Louvain walks the same graph). Keyed by that order and edges by their place:
  // graphology's maps hash short keys faster, and an edge key given is one it need not make up
  // (half the time of building with account ids and generated keys; Louvain reads only the
  // order of nodes and edges, which is the same).
  const key = new Map<string, string>();
  const ids: string[] = [];
  const nodeKey = (id: string): string => {
    let k = key.get(id);
    if (k === undefined) {
      key.set(id, (k = String(ids.length)));
      ids.push(id);
      g.addNode(k);
    }
    return k;
  };
  const ends: string[] = new Array<string>(2 * links.length);
  links.forEach((l, i) => {
    ends[2 * i] = nodeKey(l.a);
    ends[2 * i + 1] = nodeKey(l.b);
  });
  links.forEach((l, i) => g.addUndirectedEdgeWithKey(i, ends[2 * i]!, ends[2 * i + 1]!, { weight: l.weight }));
  const { part, stalled, fallback } = louvainOrFallback(g);
  const byComm = new Map<number, string[]>();
  // By node number: walking the partition's entries had V8 deoptimize this function again and
  // again (hundreds of times in a 100k-account run).
  for (let i = 0; i < ids.length; i++) {
    const c = part[i]!;
    let l = byComm.get(c);
    if (!l) byComm.set(c, (l = []));
    l.push(ids[i]!);
  }
  const groups = [...byComm.values()]
    .filter((m) => m.length >= 2)
    .map((m) => m.sort())
    .sort((x, y) => (x[0]! < y[0]! ? -1 : 1));
  return { groups, stalled, fallback };
}

/**
 * Louvain's partition of one component, from its first node; if that run does not converge,
 * from other starting nodes (a quarter, half and three quarters of the way through); and if
 * none does, the component as one community (what a low resolution mostly gives anyway).
 */
function louvainOrFallback(g: UndirectedGraph): { part: Record<string, number>; stalled: boolean; fallback: boolean } {
  for (const start of [0, 0.25, 0.5, 0.75]) {
    try {
      return { part: louvain(g, { getEdgeWeight: 'weight', randomWalk: true, resolution: LOUVAIN_RESOLUTION, rng: levelCounter(start) }), stalled: start > 0, fallback: false };
    } catch (e) {
      if (!(e instanceof LouvainStalled)) throw e;
    }
  }
  const one: Record<string, number> = {};
  g.forEachNode((n) => (one[n] = 0));
  return { part: one, stalled: true, fallback: true };
}

/** Deterministic cluster id from sorted members. */
export function clusterIdOf(members: readonly string[]): string {
  let h1 = 0x9e3779b9;
  let h2 = 0x85ebca6b;
  for (const m of members) {
    h1 = hash32(`${h1}:${m}`);
    h2 = hash32(`${m}:${h2}`);
  }
  return `cl_${h1.toString(16).padStart(8, '0')}${(h2 & 0xffff).toString(16).padStart(4, '0')}`;
}

/**
 * Keeps ids stable: each new cluster takes the id of the previous cluster it overlaps most
 * (greedy by overlap, each previous id used once); others get the id of their members.
 */
export function assignClusterIds(clusters: readonly string[][], previous: ReadonlyMap<string, readonly string[]>): string[] {
  const memberOf = new Map<string, string>();
  for (const [id, members] of previous) for (const m of members) memberOf.set(m, id);
  const candidates: { i: number; id: string; overlap: number }[] = [];
  clusters.forEach((members, i) => {
    const counts = new Map<string, number>();
    for (const m of members) {
      const p = memberOf.get(m);
      if (p) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    for (const [id, overlap] of counts) candidates.push({ i, id, overlap });
  });
  candidates.sort((x, y) => y.overlap - x.overlap || (x.id < y.id ? -1 : 1) || x.i - y.i);
  const out: (string | undefined)[] = clusters.map(() => undefined);
  const used = new Set<string>();
  for (const c of candidates) {
    if (out[c.i] !== undefined || used.has(c.id)) continue;
    out[c.i] = c.id;
    used.add(c.id);
  }
  return clusters.map((m, i) => out[i] ?? clusterIdOf(m));
}

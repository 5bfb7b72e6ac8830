/**
 * Streaming per-account (and per-key) features, updated event by event in bounded memory:
 * every field is a number, a fixed-size typed array, a `Distinct` (exact then HyperLogLog) or a
 * capped frequency map. Plain data throughout so `v8.serialize` checkpoints it.
 */
import { TASKS, type NetworkType, type PromptFeaturesV1, type UsageEvent } from '../core/index.js';
import { cappedAdd, cappedBump, cappedCount, cappedFind, cappedFrom, cappedKey, cappedSize, distinctAdd, Interner, newCapped, newDistinct, type CappedCounts, type Distinct } from './sketches.js';

export const NET = { hosting: 0, residential: 1, mobile: 2, education: 3, business: 4, unknown: 5, anonymizer: 6, entity: 7 } as const;
export const TASK_INDEX = new Map<string, number>(TASKS.map((t, i) => [t, i]));
const RECENT_SIM = 12;
export const OFF_NET = 0;
export const OFF_HOUR = 8;
export const OFF_WEEKDAY = OFF_HOUR + 24;
export const OFF_TASK = OFF_WEEKDAY + 7;
const OFF_SIM = OFF_TASK + TASKS.length;
const C_SIZE = OFF_SIM + 2 * RECENT_SIM;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The last user agent each account and key keeps: a few hundred distinct strings among millions of accounts. */
const USER_AGENTS = new Interner(4096);

/** What the intelligence says about an address, reduced to what the features keep. */
export interface NetFacts {
  network_type: NetworkType;
  anonymized: boolean;
  /** Only filled when the event itself carries no ASN / country. */
  asn?: number;
  country?: string;
}

/** What one event contributes, already resolved (network facts, prompt features). */
export interface EventFacts {
  t: number;
  ev: UsageEvent;
  f: PromptFeaturesV1 | null;
  /** Network facts of the client address (null without IP intelligence). */
  ip: NetFacts | null;
  /** The event's ASN is one a watchlist entity operates. */
  entityAsn: string | null;
  /** The event's country is a restricted country of the watchlist. */
  restricted: boolean;
}

export interface AccountState {
  id: string;
  n: number;
  inTok: number;
  outTok: number;
  firstTs: number;
  lastTs: number;
  ips: Distinct;
  prefixes: Distinct;
  asns: Distinct;
  countries: Distinct;
  uas: Distinct;
  tpls: Distinct;
  sysTpls: Distinct;
  endUsers: Distinct;
  keys: Distinct;
  /**
   * One array for every fixed-size counter (one typed array costs ~200 bytes of overhead):
   * requests by network kind at OFF_NET (NET indices), by UTC hour at OFF_HOUR, by UTC weekday
   * at OFF_WEEKDAY, by task at OFF_TASK; the last RECENT_SIM SimHashes as (high, low) pairs at
   * OFF_SIM, a ring buffer.
   */
  c: Uint32Array;
  langs: CappedCounts | null;
  /** Template use within the account (capped). */
  tplUse: CappedCounts | null;
  /** The account's most used /24 prefixes (for linkage; capped). */
  prefixUse: CappedCounts | null;
  entityAsnUse: CappedCounts | null;
  recentSimLen: number;
  recentSimPos: number;
  nearDup: number;
  /** Events that carried prompt features (or text). */
  content: number;
  turnsSum: number;
  shallow: number;
  withTools: number;
  cot: number;
  code: number;
  toolTrace: number;
  bench: number;
  probe: number;
  framed: number;
  cotSys: number;
  /** Multiple-choice benchmark items (the `bench:mc` marker). */
  mc: number;
  gapN: number;
  gapLogSum: number;
  gapLogSq: number;
  day: number;
  dayN: number;
  maxDayN: number;
  activeDays: number;
  forwarded: number;
  withEndUser: number;
  restricted: number;
  /** Requests from a country other than the declared one. */
  offCountry: number;
  /**
   * Requests from the declared country not through an anonymizer, and the other countries of
   * requests not through one (known network facts only; optional: older states lack them).
   */
  plainHome?: number;
  plainAway?: Distinct;
  /** Requests in the current and previous hour (surge detection). */
  hourBucket: number;
  hourN: number;
  maxHourN: number;
  /**
   * The previous event's address, ASN, user agent, key and template, and where its /24 and
   * template sit in `prefixUse` / `tplUse` (-1: counted in `other`): a session repeats them, and
   * a repeated value needs no hashing, no prefix string and no search (optional so states
   * exported before these fields existed still load).
   */
  lastIp?: string | null;
  lastPrefixSlot?: number;
  lastAsn?: number;
  lastUa?: string | null;
  lastKey?: string | null;
  lastTpl?: string | null;
  lastTplSlot?: number;
}

/**
 * Counter arrays are views into shared blocks of this many accounts' counters: a typed array of
 * its own costs an ArrayBuffer, its backing store and their bookkeeping (about 200 bytes, and one
 * more object the collector sweeps) besides its 296 bytes of counters. Whoever serialises a
 * state copies its counters out first (`detachCounters`): a view would take its whole block along.
 */
const COUNTERS_PER_BLOCK = 1024;
let block: ArrayBuffer | null = null;
let blockUsed = COUNTERS_PER_BLOCK;

function newCounters(): Uint32Array {
  if (blockUsed === COUNTERS_PER_BLOCK) {
    block = new ArrayBuffer(COUNTERS_PER_BLOCK * C_SIZE * 4);
    blockUsed = 0;
  }
  return new Uint32Array(block!, blockUsed++ * C_SIZE * 4, C_SIZE);
}

/** The state with its counters in an array of their own (for serialising: see `newCounters`). */
export function detachCounters(s: AccountState): AccountState {
  return { ...s, c: s.c.slice() };
}

export function newAccountState(id: string): AccountState {
  return {
    id,
    n: 0,
    inTok: 0,
    outTok: 0,
    firstTs: 0,
    lastTs: 0,
    ips: newDistinct(),
    prefixes: newDistinct(),
    asns: newDistinct(),
    countries: newDistinct(),
    uas: newDistinct(),
    tpls: newDistinct(),
    sysTpls: newDistinct(),
    endUsers: newDistinct(),
    keys: newDistinct(),
    c: newCounters(),
    langs: null,
    tplUse: null,
    prefixUse: null,
    entityAsnUse: null,
    recentSimLen: 0,
    recentSimPos: 0,
    nearDup: 0,
    content: 0,
    turnsSum: 0,
    shallow: 0,
    withTools: 0,
    cot: 0,
    code: 0,
    toolTrace: 0,
    bench: 0,
    probe: 0,
    framed: 0,
    cotSys: 0,
    mc: 0,
    gapN: 0,
    gapLogSum: 0,
    gapLogSq: 0,
    day: -1,
    dayN: 0,
    maxDayN: 0,
    activeDays: 0,
    forwarded: 0,
    withEndUser: 0,
    restricted: 0,
    offCountry: 0,
    plainHome: 0,
    plainAway: null,
    hourBucket: -1,
    hourN: 0,
    maxHourN: 0,
    lastIp: null,
    lastPrefixSlot: -1,
    lastAsn: -1,
    lastUa: null,
    lastKey: null,
    lastTpl: null,
    lastTplSlot: -1,
  };
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

const CODES: number[] = [];
/**
 * A string built in one piece. Concatenating gives V8 a rope (a cons string: a node and its two
 * parts) once the result is 13 characters or longer; prefixes and keys that accounts keep for the
 * whole run cost about half as much flat (measured: 40 bytes against 72 for a /24 prefix).
 */
export function flat(s: string): string {
  if (s.length < 13) return s;
  CODES.length = s.length;
  for (let j = 0; j < s.length; j++) CODES[j] = s.charCodeAt(j);
  return String.fromCharCode.apply(null, CODES);
}

/** The /24 (IPv4) or /48 (IPv6) prefix of an address (a flat string: accounts keep prefixes). */
export function ipPrefix(ip: string): string {
  if (ip.includes(':')) return flat(ip.split(':').slice(0, 3).join(':') + '::/48');
  const i = ip.lastIndexOf('.');
  return i > 0 ? flat(`${ip.slice(0, i)}.0/24`) : ip;
}

/**
 * Counts `key` in one of the state's capped maps (created, or replaced by a larger copy, as it
 * grows) and returns its slot (-1 when the key went to `other`).
 */
function cappedSlot(s: AccountState, field: 'prefixUse' | 'tplUse', key: string, cap: number): number {
  const m = s[field];
  if (m === null) {
    s[field] = newCapped(key);
    return 0;
  }
  const i = cappedFind(m, key);
  if (i >= 0) {
    cappedBump(m, i);
    return i;
  }
  if (cappedSize(m) < cap) {
    s[field] = m.concat(key, 1);
    return cappedSize(m);
  }
  cappedBump(m, -1);
  return -1;
}

/** 32 bits of hexadecimal from `s` at `at` (8 digits; a non-hex character gives some number, never NaN). */
function hex32(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    v = (v << 4) | (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return v >>> 0;
}

/** Values an account started reusing: a /24 prefix or a template seen for the third time. */
export type ReuseSink = (field: 'net_prefix' | 'template', value: string) => void;

/**
 * Adds one event to an account's features. `declaredCountry` comes from the account record;
 * `onReuse` hears of a /24 prefix or template the account uses for the third time (linkage).
 */
export function updateAccount(s: AccountState, x: EventFacts, declaredCountry: string | undefined, onReuse?: ReuseSink): void {
  const { ev, f, t } = x;
  if (s.n === 0) s.firstTs = t;
  else {
    const gap = Math.max(0, t - s.lastTs);
    const lg = Math.log1p(gap / 1000);
    s.gapN++;
    s.gapLogSum += lg;
    s.gapLogSq += lg * lg;
  }
  s.lastTs = t;
  s.n++;
  s.inTok += ev.input_tokens ?? 0;
  s.outTok += ev.output_tokens ?? 0;
  if (ev.ip) {
    let pc: number;
    if (ev.ip === s.lastIp && s.prefixUse) pc = cappedBump(s.prefixUse, s.lastPrefixSlot ?? -1);
    else {
      s.ips = distinctAdd(s.ips, ev.ip);
      const p = ipPrefix(ev.ip);
      s.prefixes = distinctAdd(s.prefixes, p);
      const slot = cappedSlot(s, 'prefixUse', p, 8);
      s.lastIp = ev.ip;
      s.lastPrefixSlot = slot;
      pc = slot < 0 ? 0 : cappedCount(s.prefixUse!, slot);
    }
    if (pc === 3 && onReuse) onReuse('net_prefix', cappedKey(s.prefixUse!, s.lastPrefixSlot!));
  }
  const asn = ev.asn ?? x.ip?.asn;
  if (asn !== undefined && asn !== s.lastAsn) {
    s.asns = distinctAdd(s.asns, String(asn));
    s.lastAsn = asn;
  }
  const country = ev.country ?? x.ip?.country;
  if (country) {
    s.countries = distinctAdd(s.countries, country);
    if (declaredCountry && country !== declaredCountry) s.offCountry++;
    if (declaredCountry && x.ip && !x.ip.anonymized) {
      if (country === declaredCountry) s.plainHome = (s.plainHome ?? 0) + 1;
      else s.plainAway = distinctAdd(s.plainAway ?? null, country);
    }
  }
  if (x.restricted) s.restricted++;
  if (x.entityAsn) s.entityAsnUse = cappedAdd(s.entityAsnUse, x.entityAsn, 4);
  if (ev.user_agent && ev.user_agent !== s.lastUa) {
    s.uas = distinctAdd(s.uas, ev.user_agent);
    s.lastUa = USER_AGENTS.get(ev.user_agent);
  }
  if (ev.key_id && ev.key_id !== s.lastKey) {
    s.keys = distinctAdd(s.keys, ev.key_id);
    s.lastKey = ev.key_id;
  }
  if (ev.end_user_id) {
    s.withEndUser++;
    s.endUsers = distinctAdd(s.endUsers, ev.end_user_id);
  }
  if (ev.forwarded_for) s.forwarded++;
  const c = s.c;
  if (x.ip) {
    c[OFF_NET + NET[x.ip.network_type]]!++;
    if (x.ip.anonymized) c[OFF_NET + NET.anonymizer]!++;
  }
  if (x.entityAsn) c[OFF_NET + NET.entity]!++;
  const day = Math.floor(t / DAY);
  c[OFF_HOUR + (Math.floor(t / HOUR) % 24)]!++;
  // 1970-01-01 was a Thursday (UTC weekday 4).
  c[OFF_WEEKDAY + ((day + 4) % 7)]!++;
  if (day !== s.day) {
    s.day = day;
    s.dayN = 0;
    s.activeDays++;
  }
  s.dayN++;
  if (s.dayN > s.maxDayN) s.maxDayN = s.dayN;
  const hb = Math.floor(t / HOUR);
  if (hb !== s.hourBucket) {
    s.hourBucket = hb;
    s.hourN = 0;
  }
  s.hourN++;
  if (s.hourN > s.maxHourN) s.maxHourN = s.hourN;
  const turns = ev.turns ?? f?.turns;
  if (turns !== undefined) {
    s.turnsSum += turns;
    if (turns <= 1) s.shallow++;
  }
  if ((ev.tools ?? f?.tools ?? 0) > 0) s.withTools++;
  if (!f) return;
  s.content++;
  s.langs = cappedAdd(s.langs, f.lang, 8);
  const ti = TASK_INDEX.get(f.task);
  if (ti !== undefined) c[OFF_TASK + ti]!++;
  if (f.cot >= 0.5) s.cot++;
  if (f.code >= 0.5) s.code++;
  if (f.tool_trace >= 0.5) s.toolTrace++;
  if (f.bench >= 0.5) s.bench++;
  if (f.probe >= 0.5) s.probe++;
  if (f.tpl_framed) s.framed++;
  let mc = false;
  let cotMark = false;
  for (const m of f.marks) {
    if (m === 'bench:mc') mc = true;
    else if (m.startsWith('cot:')) cotMark = true;
  }
  if (mc) s.mc++;
  if (f.sys_chars > 0 && cotMark) s.cotSys++;
  if (f.tpl) {
    let tc: number;
    if (f.tpl === s.lastTpl && s.tplUse) tc = cappedBump(s.tplUse, s.lastTplSlot ?? -1);
    else {
      s.tpls = distinctAdd(s.tpls, f.tpl);
      const slot = cappedSlot(s, 'tplUse', f.tpl, 10);
      s.lastTpl = f.tpl;
      s.lastTplSlot = slot;
      tc = slot < 0 ? 0 : cappedCount(s.tplUse!, slot);
    }
    if (tc === 3 && onReuse) onReuse('template', cappedKey(s.tplUse!, s.lastTplSlot!));
  }
  if (f.sys_tpl) s.sysTpls = distinctAdd(s.sysTpls, f.sys_tpl);
  if (f.simhash) {
    const hi = hex32(f.simhash, 0);
    const lo = hex32(f.simhash, 8);
    for (let i = 0; i < s.recentSimLen; i++) {
      if (popcount32((c[OFF_SIM + 2 * i]! ^ hi) >>> 0) + popcount32((c[OFF_SIM + 2 * i + 1]! ^ lo) >>> 0) <= 6) {
        s.nearDup++;
        break;
      }
    }
    c[OFF_SIM + 2 * s.recentSimPos] = hi;
    c[OFF_SIM + 2 * s.recentSimPos + 1] = lo;
    s.recentSimPos = (s.recentSimPos + 1) % RECENT_SIM;
    if (s.recentSimLen < RECENT_SIM) s.recentSimLen++;
  }
}

/**
 * A state as a checkpoint or a worker's row holds it, in today's shape: states saved before the
 * capped maps were flat arrays hold `{ keys, counts, other }` objects (converted in place).
 */
export function upgradeAccountState(s: AccountState): AccountState {
  s.langs = cappedFrom(s.langs);
  s.tplUse = cappedFrom(s.tplUse);
  s.prefixUse = cappedFrom(s.prefixUse);
  s.entityAsnUse = cappedFrom(s.entityAsnUse);
  return s;
}

/** Per-key state: how many clients and places use a key (key sharing within an account). */
export interface KeyState {
  account: string;
  n: number;
  countries: Distinct;
  uas: Distinct;
  /** The previous event's country and user agent (a repeat needs no hashing). */
  lastCountry?: string | null;
  lastUa?: string | null;
}

export function newKeyState(account: string): KeyState {
  return { account, n: 0, countries: newDistinct(), uas: newDistinct(), lastCountry: null, lastUa: null };
}

export function updateKey(k: KeyState, x: EventFacts): void {
  k.n++;
  const c = x.ev.country ?? x.ip?.country;
  if (c && c !== k.lastCountry) {
    k.countries = distinctAdd(k.countries, c);
    k.lastCountry = c;
  }
  const ua = x.ev.user_agent;
  if (ua && ua !== k.lastUa) {
    k.uas = distinctAdd(k.uas, ua);
    k.lastUa = USER_AGENTS.get(ua);
  }
}

/**
 * Streaming per-account (and per-key) features, updated event by event in bounded memory:
 * every field is a number, a fixed-size typed array, a `Distinct` (exact then HyperLogLog) or a
 * capped frequency map. Plain data throughout so `v8.serialize` checkpoints it.
 */
import { TASKS, type NetworkType, type PromptFeaturesV1, type UsageEvent } from '../core/index.js';
import { cappedAdd, distinctAdd, newDistinct, type CappedCounts, type Distinct } from './sketches.js';

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
  /** Requests in the current and previous hour (surge detection). */
  hourBucket: number;
  hourN: number;
  maxHourN: number;
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
    c: new Uint32Array(C_SIZE),
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
    hourBucket: -1,
    hourN: 0,
    maxHourN: 0,
  };
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** The /24 (IPv4) or /48 (IPv6) prefix of an address. */
export function ipPrefix(ip: string): string {
  if (ip.includes(':')) return ip.split(':').slice(0, 3).join(':') + '::/48';
  const i = ip.lastIndexOf('.');
  return i > 0 ? `${ip.slice(0, i)}.0/24` : ip;
}

/** Adds one event to an account's features. `declaredCountry` comes from the account record. */
export function updateAccount(s: AccountState, x: EventFacts, declaredCountry: string | undefined): void {
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
    s.ips = distinctAdd(s.ips, ev.ip);
    const p = ipPrefix(ev.ip);
    s.prefixes = distinctAdd(s.prefixes, p);
    s.prefixUse = cappedAdd(s.prefixUse, p, 8);
  }
  const asn = ev.asn ?? x.ip?.asn;
  if (asn !== undefined) {
    s.asns = distinctAdd(s.asns, String(asn));
  }
  const country = ev.country ?? x.ip?.country;
  if (country) {
    s.countries = distinctAdd(s.countries, country);
    if (declaredCountry && country !== declaredCountry) s.offCountry++;
  }
  if (x.restricted) s.restricted++;
  if (x.entityAsn) s.entityAsnUse = cappedAdd(s.entityAsnUse, x.entityAsn, 4);
  if (ev.user_agent) s.uas = distinctAdd(s.uas, ev.user_agent);
  if (ev.key_id) s.keys = distinctAdd(s.keys, ev.key_id);
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
  if (f.marks.includes('bench:mc')) s.mc++;
  if (f.sys_chars > 0 && f.marks.some((m) => m.startsWith('cot:'))) s.cotSys++;
  if (f.tpl) {
    s.tpls = distinctAdd(s.tpls, f.tpl);
    s.tplUse = cappedAdd(s.tplUse, f.tpl, 10);
  }
  if (f.sys_tpl) s.sysTpls = distinctAdd(s.sysTpls, f.sys_tpl);
  if (f.simhash) {
    const hi = Number.parseInt(f.simhash.slice(0, 8), 16) >>> 0;
    const lo = Number.parseInt(f.simhash.slice(8, 16), 16) >>> 0;
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

/** Per-key state: how many clients and places use a key (key sharing within an account). */
export interface KeyState {
  account: string;
  n: number;
  countries: Distinct;
  uas: Distinct;
}

export function newKeyState(account: string): KeyState {
  return { account, n: 0, countries: newDistinct(), uas: newDistinct() };
}

export function updateKey(k: KeyState, x: EventFacts): void {
  k.n++;
  const c = x.ev.country ?? x.ip?.country;
  if (c) k.countries = distinctAdd(k.countries, c);
  if (x.ev.user_agent) k.uas = distinctAdd(k.uas, x.ev.user_agent);
}

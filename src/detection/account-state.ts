/**
 * Streaming per-account (and per-key) features, updated event by event in bounded memory:
 * every field is a number, a fixed-size typed array, a `Distinct` (exact then HyperLogLog) or a
 * capped frequency map. `toData` gives the plain form that `v8.serialize` checkpoints.
 */
import { TASKS, type Account, type NetworkType, type PromptFeaturesV1, type UsageEvent } from '../core/index.js';
import { cappedAdd, cappedBump, cappedCount, cappedFind, cappedFrom, cappedKey, cappedSize, distinctAdd, distinctHas, distinctIsSketch, hash32, Interner, newCapped, newDistinct, type CappedCounts, type Distinct } from './sketches.js';

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
export const DAY = 24 * HOUR;
/** A request through a shared exit this long after the previous one begins another visit. */
const EXIT_VISIT_GAP = HOUR;
/**
 * Plain requests from home lines in two countries this close together are two places at once: no
 * one travels between countries in an hour (`placeSwitches`; a border commuter can, see
 * detection.md's known weaknesses).
 */
export const PLACE_WINDOW = 60 * 60_000;
/** The bit of `placeCc` that marks the declared country. */
const PLACE_HOME = 0x1000000;
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

/** The prompt features the engine reads (`looksLikeFeaturesV1` checks exactly these). */
export type EngineFeatures = Pick<PromptFeaturesV1, 'v' | 'cot' | 'bench' | 'code' | 'tool_trace' | 'probe' | 'lang' | 'task' | 'turns' | 'tools' | 'sys_chars' | 'tpl_framed' | 'marks' | 'tpl' | 'sys_tpl' | 'simhash'>;

/**
 * A cheap structural check of gateway features (the hot path cannot afford a full schema parse
 * per event): version 1 and the fields the detectors read, with the right types.
 */
export function looksLikeFeaturesV1(f: { readonly v: number }): f is EngineFeatures {
  const x = f as Record<string, unknown>;
  return (
    x.v === 1 &&
    typeof x.cot === 'number' &&
    typeof x.bench === 'number' &&
    typeof x.code === 'number' &&
    typeof x.tool_trace === 'number' &&
    typeof x.probe === 'number' &&
    typeof x.lang === 'string' &&
    typeof x.task === 'string' &&
    typeof x.turns === 'number' &&
    typeof x.tools === 'number' &&
    typeof x.sys_chars === 'number' &&
    typeof x.tpl_framed === 'boolean' &&
    Array.isArray(x.marks) &&
    (x.tpl === null || typeof x.tpl === 'string') &&
    (x.sys_tpl === null || typeof x.sys_tpl === 'string') &&
    (x.simhash === null || (typeof x.simhash === 'string' && x.simhash.length === 16))
  );
}

/**
 * The fields of a usage event the engine reads (its time aside): all that batch analysis hands
 * over from its reader thread (event-reader.ts), so a detector that reads another field, of the
 * event or of its features, does not compile until the reader carries it. Features other than
 * version 1 as the engine reads them are only a version (the engine ignores them).
 */
export type EngineEvent = Pick<UsageEvent, 'account_id' | 'key_id' | 'ip' | 'forwarded_for' | 'user_agent' | 'end_user_id' | 'country' | 'asn' | 'input_tokens' | 'output_tokens' | 'turns' | 'tools' | 'system' | 'prompt'> & {
  features?: EngineFeatures | { readonly v: number } | undefined;
};

/** What one event contributes, already resolved (network facts, prompt features). */
export interface EventFacts {
  t: number;
  ev: EngineEvent;
  f: EngineFeatures | null;
  /** Network facts of the client address (null without IP intelligence). */
  ip: NetFacts | null;
  /** The event's ASN is one a watchlist entity operates. */
  entityAsn: string | null;
  /** The event's country is a restricted country of the watchlist. */
  restricted: boolean;
  /** A residential or mobile address that accounts of several declared countries use (a residential proxy exit). */
  sharedExit?: boolean;
}

/**
 * An account's state as plain data: what checkpoints, exports and the workers' rows hold (the
 * shape is unchanged since states were first stored; `AccountState` is its working form).
 */
export interface AccountStateData {
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
  /** Requests through shared residential exits (`EventFacts.sharedExit`; optional: older states lack it). */
  proxyExit?: number;
  /**
   * Which shared exits those were: the first one's address hash (0: none yet), how many distinct
   * ones (counted to 2), visits to them (a request more than `EXIT_VISIT_GAP` after the previous
   * one through a shared exit) and that previous request's time. A proxy pool rotates its exits;
   * a person's own line that a pool also uses (a host's, a hotel's) is one address, visit after
   * visit (optional: older states lack them).
   */
  exitAddr?: number;
  exitAddrs?: number;
  exitVisits?: number;
  exitLastTs?: number;
  /**
   * Places in two countries at once: the last plain request from a home line (residential, not
   * an anonymizer, not a shared exit) — its time and its country's code (0: none yet) — and how
   * many such requests came from another country than the one before them within
   * `PLACE_WINDOW`, one of the two being the declared country. One person is in one country at a
   * time; a key in use at home and abroad within the hour is in two hands (optional: older
   * states lack them).
   */
  placeTs?: number;
  placeCc?: number;
  placeSwitches?: number;
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

/** Scalar fields held as doubles (times, sums, tokens, and fields whose "none" is -1). */
const F64_FIELDS = ['inTok', 'outTok', 'firstTs', 'lastTs', 'gapLogSum', 'gapLogSq', 'turnsSum', 'day', 'hourBucket', 'lastAsn', 'lastPrefixSlot', 'lastTplSlot', 'exitLastTs', 'placeTs'] as const;
/** Scalar fields held as 32-bit counts. */
const U32_FIELDS = ['n', 'recentSimLen', 'recentSimPos', 'nearDup', 'content', 'shallow', 'withTools', 'cot', 'code', 'toolTrace', 'bench', 'probe', 'framed', 'cotSys', 'mc', 'gapN', 'dayN', 'maxDayN', 'activeDays', 'forwarded', 'withEndUser', 'restricted', 'offCountry', 'plainHome', 'proxyExit', 'exitAddr', 'exitAddrs', 'exitVisits', 'placeCc', 'placeSwitches', 'hourN', 'maxHourN'] as const;
type ScalarField = (typeof F64_FIELDS)[number] | (typeof U32_FIELDS)[number];
/**
 * Each scalar's place in its list, by name (for the per-event update, which reads the slot in
 * place; `indexOf` keeps them right whatever the lists' order).
 */
const F_inTok = F64_FIELDS.indexOf('inTok');
const F_outTok = F64_FIELDS.indexOf('outTok');
const F_firstTs = F64_FIELDS.indexOf('firstTs');
const F_lastTs = F64_FIELDS.indexOf('lastTs');
const F_gapLogSum = F64_FIELDS.indexOf('gapLogSum');
const F_gapLogSq = F64_FIELDS.indexOf('gapLogSq');
const F_turnsSum = F64_FIELDS.indexOf('turnsSum');
const F_day = F64_FIELDS.indexOf('day');
const F_hourBucket = F64_FIELDS.indexOf('hourBucket');
const F_lastAsn = F64_FIELDS.indexOf('lastAsn');
const F_lastPrefixSlot = F64_FIELDS.indexOf('lastPrefixSlot');
const F_lastTplSlot = F64_FIELDS.indexOf('lastTplSlot');
const F_exitLastTs = F64_FIELDS.indexOf('exitLastTs');
const F_placeTs = F64_FIELDS.indexOf('placeTs');
const U_n = U32_FIELDS.indexOf('n');
const U_recentSimLen = U32_FIELDS.indexOf('recentSimLen');
const U_recentSimPos = U32_FIELDS.indexOf('recentSimPos');
const U_nearDup = U32_FIELDS.indexOf('nearDup');
const U_content = U32_FIELDS.indexOf('content');
const U_shallow = U32_FIELDS.indexOf('shallow');
const U_withTools = U32_FIELDS.indexOf('withTools');
const U_cot = U32_FIELDS.indexOf('cot');
const U_code = U32_FIELDS.indexOf('code');
const U_toolTrace = U32_FIELDS.indexOf('toolTrace');
const U_bench = U32_FIELDS.indexOf('bench');
const U_probe = U32_FIELDS.indexOf('probe');
const U_framed = U32_FIELDS.indexOf('framed');
const U_cotSys = U32_FIELDS.indexOf('cotSys');
const U_mc = U32_FIELDS.indexOf('mc');
const U_gapN = U32_FIELDS.indexOf('gapN');
const U_dayN = U32_FIELDS.indexOf('dayN');
const U_maxDayN = U32_FIELDS.indexOf('maxDayN');
const U_activeDays = U32_FIELDS.indexOf('activeDays');
const U_forwarded = U32_FIELDS.indexOf('forwarded');
const U_withEndUser = U32_FIELDS.indexOf('withEndUser');
const U_restricted = U32_FIELDS.indexOf('restricted');
const U_offCountry = U32_FIELDS.indexOf('offCountry');
const U_plainHome = U32_FIELDS.indexOf('plainHome');
const U_proxyExit = U32_FIELDS.indexOf('proxyExit');
const U_exitAddr = U32_FIELDS.indexOf('exitAddr');
const U_exitAddrs = U32_FIELDS.indexOf('exitAddrs');
const U_exitVisits = U32_FIELDS.indexOf('exitVisits');
const U_placeCc = U32_FIELDS.indexOf('placeCc');
const U_placeSwitches = U32_FIELDS.indexOf('placeSwitches');
const U_hourN = U32_FIELDS.indexOf('hourN');
const U_maxHourN = U32_FIELDS.indexOf('maxHourN');

/**
 * Each account's numbers live in a slot of a shared block (an ArrayBuffer of SLOTS_PER_BLOCK
 * slots): its doubles, then its counts, then the fixed-size counters (`c` in the data form), in
 * 32-bit words from `w`. On the heap a state is one object of pointers (its sketches, capped maps
 * and last values); its ~40 numbers as object fields cost about 500 bytes more per account and
 * are work for the collector, which never looks inside an ArrayBuffer.
 */
const SLOTS_PER_BLOCK = 1024;
const U32_AT = 2 * F64_FIELDS.length;
/** One more count, the engine's own bookkeeping (not part of the data form): see `scoredN`. */
const SCORED_AT = U32_AT + U32_FIELDS.length;
/** And one more: what the intelligence said of `lastIp` in this process (see `lastNet`). */
const NET_AT = SCORED_AT + 1;
const COUNTERS_AT = NET_AT + 1;
/** Words per slot, even so that every slot's doubles are 8-byte aligned. */
const SLOT_WORDS = (COUNTERS_AT + C_SIZE + 1) & ~1;
let blockU32: Uint32Array | null = null;
let blockF64: Float64Array | null = null;
let slotsUsed = SLOTS_PER_BLOCK;

/** Requests the account sent through an anonymizer (VPN, proxy, Tor exit). */
export function anonymizedRequests(s: AccountState): number {
  return s.u[s.co + OFF_NET + NET.anonymizer]!;
}

/** The working form of an account's streaming features (`toData` / `fromData` convert). */
export class AccountState {
  /** The block's words and doubles, and where this account's slot starts (in words). */
  readonly u: Uint32Array;
  readonly f: Float64Array;
  readonly w: number;
  /** Where the fixed-size counters start in `u` (see OFF_* for their layout). */
  readonly co: number;
  ips: Distinct = newDistinct();
  prefixes: Distinct = newDistinct();
  asns: Distinct = newDistinct();
  countries: Distinct = newDistinct();
  uas: Distinct = newDistinct();
  tpls: Distinct = newDistinct();
  sysTpls: Distinct = newDistinct();
  endUsers: Distinct = newDistinct();
  keys: Distinct = newDistinct();
  langs: CappedCounts | null = null;
  tplUse: CappedCounts | null = null;
  prefixUse: CappedCounts | null = null;
  entityAsnUse: CappedCounts | null = null;
  plainAway: Distinct = newDistinct();
  lastIp: string | null = null;
  lastUa: string | null = null;
  lastKey: string | null = null;
  lastTpl: string | null = null;
  /**
   * The engine's own bookkeeping, so an event costs one map lookup (the account id) instead of
   * three: the account's record (undefined until the engine knows it) and the per-key state of
   * the key it used last. Not part of the plain form.
   */
  account: Account | undefined = undefined;
  lastKeyState: KeyState | null = null;
  /** The engine's key generation when `lastKeyState` was looked up (the engine bumps it when it replaces key states). */
  lastKeyGen = 0;

  constructor(readonly id: string) {
    if (slotsUsed === SLOTS_PER_BLOCK) {
      const buf = new ArrayBuffer(SLOTS_PER_BLOCK * SLOT_WORDS * 4);
      blockU32 = new Uint32Array(buf);
      blockF64 = new Float64Array(buf);
      slotsUsed = 0;
    }
    this.u = blockU32!;
    this.f = blockF64!;
    this.w = slotsUsed++ * SLOT_WORDS;
    this.co = this.w + COUNTERS_AT;
  }

  /**
   * The request count at the account's last score (the engine re-scores an account once its
   * traffic has grown enough since): engine bookkeeping, not a feature, so not in `toData`.
   */
  get scoredN(): number {
    return this.u[this.w + SCORED_AT]!;
  }
  set scoredN(v: number) {
    this.u[this.w + SCORED_AT] = v;
  }

  /**
   * What the engine's intelligence said of `lastIp`, packed (network type index × 2 +
   * anonymized, plus 1; 0: not known), so a session's repeated address is not looked up again.
   * Bookkeeping of this process only, never saved: a state restored from data, perhaps under
   * updated intelligence, starts at 0 and looks its address up again.
   */
  get lastNet(): number {
    return this.u[this.w + NET_AT]!;
  }
  set lastNet(v: number) {
    this.u[this.w + NET_AT] = v;
  }

  /** The counters as an array of their own (the data form's `c`). */
  counters(): Uint32Array {
    return this.u.slice(this.co, this.co + C_SIZE);
  }
}
export interface AccountState extends Record<ScalarField, number> {}
F64_FIELDS.forEach((name, i) => {
  Object.defineProperty(AccountState.prototype, name, {
    get(this: AccountState) {
      return this.f[(this.w >> 1) + i];
    },
    set(this: AccountState, v: number) {
      this.f[(this.w >> 1) + i] = v;
    },
  });
});
U32_FIELDS.forEach((name, i) => {
  Object.defineProperty(AccountState.prototype, name, {
    get(this: AccountState) {
      return this.u[this.w + U32_AT + i];
    },
    set(this: AccountState, v: number) {
      this.u[this.w + U32_AT + i] = v;
    },
  });
});

export function newAccountState(id: string): AccountState {
  const s = new AccountState(id);
  s.day = -1;
  s.hourBucket = -1;
  s.lastPrefixSlot = -1;
  s.lastAsn = -1;
  s.lastTplSlot = -1;
  return s;
}

/** The state as plain data, with its counters in an array of their own (for serialising). */
export function toData(s: AccountState): AccountStateData {
  const d = {
    id: s.id,
    ips: s.ips,
    prefixes: s.prefixes,
    asns: s.asns,
    countries: s.countries,
    uas: s.uas,
    tpls: s.tpls,
    sysTpls: s.sysTpls,
    endUsers: s.endUsers,
    keys: s.keys,
    c: s.counters(),
    langs: s.langs,
    tplUse: s.tplUse,
    prefixUse: s.prefixUse,
    entityAsnUse: s.entityAsnUse,
    plainAway: s.plainAway,
    lastIp: s.lastIp,
    lastUa: s.lastUa,
    lastKey: s.lastKey,
    lastTpl: s.lastTpl,
  } as AccountStateData;
  for (const k of F64_FIELDS) d[k] = s[k];
  for (const k of U32_FIELDS) d[k] = s[k];
  return d;
}

/**
 * A state from its data form, as a checkpoint or a worker's row holds it, including older shapes:
 * fields added later take their starting values, and capped maps saved before they were flat
 * arrays (`{ keys, counts, other }`) are converted.
 */
export function fromData(d: AccountStateData): AccountState {
  const s = newAccountState(d.id);
  for (const k of F64_FIELDS) {
    const v = d[k];
    if (typeof v === 'number') s[k] = v;
  }
  for (const k of U32_FIELDS) {
    const v = d[k];
    if (typeof v === 'number') s[k] = v;
  }
  for (let i = 0; i < C_SIZE; i++) s.u[s.co + i] = d.c[i] ?? 0;
  // A state saved before shared exits were told apart: which exits its requests used is unknown,
  // so it is taken to have rotated (as every shared exit was read before), never as a line of its own.
  if (typeof d.exitAddrs !== 'number' && s.proxyExit > 0) s.exitAddrs = 2;
  s.ips = d.ips;
  s.prefixes = d.prefixes;
  s.asns = d.asns;
  s.countries = d.countries;
  s.uas = d.uas;
  s.tpls = d.tpls;
  s.sysTpls = d.sysTpls;
  s.endUsers = d.endUsers;
  s.keys = d.keys;
  s.langs = cappedFrom(d.langs);
  s.tplUse = cappedFrom(d.tplUse);
  s.prefixUse = cappedFrom(d.prefixUse);
  s.entityAsnUse = cappedFrom(d.entityAsnUse);
  s.plainAway = d.plainAway ?? null;
  s.lastIp = d.lastIp ?? null;
  s.lastUa = d.lastUa ?? null;
  s.lastKey = d.lastKey ?? null;
  s.lastTpl = d.lastTpl ?? null;
  return s;
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
 * grows) and returns its slot (-1: the map does not hold it). A key takes a slot on its second use
 * (`seen`: the account's exact distinct set already held it; it starts at 2), or on its first when
 * that set has become a sketch and cannot tell (`seen` null): most of a varied account's prompts
 * and addresses are one-offs, which would fill the slots, and hold a string each, for nothing.
 * With every slot taken, a repeated key is counted in `other`.
 */
function cappedSlot(s: AccountState, field: 'prefixUse' | 'tplUse', key: string, cap: number, seen: boolean | null): number {
  const m = s[field];
  const start = seen ? 2 : 1;
  if (m === null) {
    if (seen === false) return -1;
    s[field] = newCapped(key, start);
    return 0;
  }
  const i = cappedFind(m, key);
  if (i >= 0) {
    cappedBump(m, i);
    return i;
  }
  if (seen === false) return -1;
  if (cappedSize(m) < cap) {
    s[field] = m.concat(key, start);
    return cappedSize(m);
  }
  cappedBump(m, -1);
  return -1;
}

/** Whether an exact distinct set holds a value (null once it is a sketch: it cannot tell). */
function heldBefore(d: Distinct, value: string): boolean | null {
  return distinctIsSketch(d) ? null : distinctHas(d, value);
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
 * Returns true when this event is the account's first from a second country at once (`placeSwitches`
 * 0 → 1): new evidence, for the engine's re-scoring.
 */
export function updateAccount(s: AccountState, x: EventFacts, declaredCountry: string | undefined, onReuse?: ReuseSink): boolean {
  const { ev, f, t } = x;
  let firstSwitch = false;
  // The slot's numbers, read and written in place (the accessors cost a call each, and this runs
  // for every event).
  const F = s.f;
  const d = s.w >> 1;
  const U = s.u;
  const w = s.w + U32_AT;
  if (U[w + U_n]! === 0) F[d + F_firstTs] = t;
  else {
    const gap = Math.max(0, t - F[d + F_lastTs]!);
    const lg = Math.log1p(gap / 1000);
    U[w + U_gapN]!++;
    F[d + F_gapLogSum]! += lg;
    F[d + F_gapLogSq]! += lg * lg;
  }
  F[d + F_lastTs] = t;
  U[w + U_n]!++;
  F[d + F_inTok]! += ev.input_tokens ?? 0;
  F[d + F_outTok]! += ev.output_tokens ?? 0;
  if (ev.ip) {
    let pc: number;
    if (ev.ip === s.lastIp && F[d + F_lastPrefixSlot]! >= 0) pc = cappedBump(s.prefixUse!, F[d + F_lastPrefixSlot]!);
    else {
      s.ips = distinctAdd(s.ips, ev.ip);
      const p = ipPrefix(ev.ip);
      const seen = heldBefore(s.prefixes, p);
      s.prefixes = distinctAdd(s.prefixes, p);
      const slot = cappedSlot(s, 'prefixUse', p, 8, seen);
      s.lastIp = ev.ip;
      F[d + F_lastPrefixSlot] = slot;
      pc = slot < 0 ? 0 : cappedCount(s.prefixUse!, slot);
    }
    if (pc === 3 && onReuse) onReuse('net_prefix', cappedKey(s.prefixUse!, F[d + F_lastPrefixSlot]!));
  }
  const asn = ev.asn ?? x.ip?.asn;
  if (asn !== undefined && asn !== F[d + F_lastAsn]!) {
    s.asns = distinctAdd(s.asns, String(asn));
    F[d + F_lastAsn] = asn;
  }
  const country = ev.country ?? x.ip?.country;
  if (country) {
    s.countries = distinctAdd(s.countries, country);
    if (declaredCountry && country !== declaredCountry) U[w + U_offCountry]!++;
    if (declaredCountry && x.ip && !x.ip.anonymized) {
      // A shared exit in the declared country is not the account's own home connection.
      if (country !== declaredCountry) s.plainAway = distinctAdd(s.plainAway, country);
      else if (!x.sharedExit) U[w + U_plainHome]!++;
    }
    // Home lines only: a phone roaming abroad keeps its home carrier's addresses, so a traveller's
    // phone and laptop would be two countries at once.
    if (declaredCountry && x.ip && !x.ip.anonymized && !x.sharedExit && x.ip.network_type === 'residential') {
      const home = country === declaredCountry;
      // A two-letter code as its two character codes, anything longer hashed to 24 bits (never
      // 0), and a bit for the declared country.
      const cc = (country.length === 2 ? 0x10000 | (country.charCodeAt(0) << 8) | country.charCodeAt(1) : (hash32(country) & 0xffffff) | 1) | (home ? PLACE_HOME : 0);
      const prev = U[w + U_placeCc]!;
      // One of the two is the declared country: the owner at home and someone abroad (two lines
      // abroad, a proxy customer's exits say, are not read).
      if (prev !== 0 && (prev & ~PLACE_HOME) !== (cc & ~PLACE_HOME) && (home || (prev & PLACE_HOME) !== 0) && t - F[d + F_placeTs]! <= PLACE_WINDOW && t >= F[d + F_placeTs]!) {
        firstSwitch = U[w + U_placeSwitches]!++ === 0;
      }
      if (prev === 0 || t >= F[d + F_placeTs]!) {
        U[w + U_placeCc] = cc;
        F[d + F_placeTs] = t;
      }
    }
  }
  if (x.sharedExit) {
    U[w + U_proxyExit]!++;
    const h = (hash32(ev.ip!) | 1) >>> 0;
    if (U[w + U_exitAddr] === 0) {
      U[w + U_exitAddr] = h;
      U[w + U_exitAddrs] = 1;
    } else if (h !== U[w + U_exitAddr]) U[w + U_exitAddrs] = 2;
    if (U[w + U_exitVisits] === 0 || t - F[d + F_exitLastTs]! > EXIT_VISIT_GAP) U[w + U_exitVisits]!++;
    // A late event does not move the last visit back (and so make the next request a visit).
    F[d + F_exitLastTs] = Math.max(F[d + F_exitLastTs]!, t);
  }
  if (x.restricted) U[w + U_restricted]!++;
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
    U[w + U_withEndUser]!++;
    s.endUsers = distinctAdd(s.endUsers, ev.end_user_id);
  }
  if (ev.forwarded_for) U[w + U_forwarded]!++;
  const co = s.co;
  if (x.ip) {
    U[co + OFF_NET + NET[x.ip.network_type]]!++;
    if (x.ip.anonymized) U[co + OFF_NET + NET.anonymizer]!++;
  }
  if (x.entityAsn) U[co + OFF_NET + NET.entity]!++;
  const day = Math.floor(t / DAY);
  U[co + OFF_HOUR + (Math.floor(t / HOUR) % 24)]!++;
  // 1970-01-01 was a Thursday (UTC weekday 4).
  U[co + OFF_WEEKDAY + ((day + 4) % 7)]!++;
  if (day !== F[d + F_day]!) {
    F[d + F_day] = day;
    U[w + U_dayN] = 0;
    U[w + U_activeDays]!++;
  }
  U[w + U_dayN]!++;
  if (U[w + U_dayN]! > U[w + U_maxDayN]!) U[w + U_maxDayN] = U[w + U_dayN]!;
  const hb = Math.floor(t / HOUR);
  if (hb !== F[d + F_hourBucket]!) {
    F[d + F_hourBucket] = hb;
    U[w + U_hourN] = 0;
  }
  U[w + U_hourN]!++;
  if (U[w + U_hourN]! > U[w + U_maxHourN]!) U[w + U_maxHourN] = U[w + U_hourN]!;
  const turns = ev.turns ?? f?.turns;
  if (turns !== undefined) {
    F[d + F_turnsSum]! += turns;
    if (turns <= 1) U[w + U_shallow]!++;
  }
  if ((ev.tools ?? f?.tools ?? 0) > 0) U[w + U_withTools]!++;
  if (!f) return firstSwitch;
  U[w + U_content]!++;
  s.langs = cappedAdd(s.langs, f.lang, 8);
  const ti = TASK_INDEX.get(f.task);
  if (ti !== undefined) U[co + OFF_TASK + ti]!++;
  if (f.cot >= 0.5) U[w + U_cot]!++;
  if (f.code >= 0.5) U[w + U_code]!++;
  if (f.tool_trace >= 0.5) U[w + U_toolTrace]!++;
  if (f.bench >= 0.5) U[w + U_bench]!++;
  if (f.probe >= 0.5) U[w + U_probe]!++;
  if (f.tpl_framed) U[w + U_framed]!++;
  let mc = false;
  let cotMark = false;
  for (const m of f.marks) {
    if (m === 'bench:mc') mc = true;
    else if (m.startsWith('cot:')) cotMark = true;
  }
  if (mc) U[w + U_mc]!++;
  if (f.sys_chars > 0 && cotMark) U[w + U_cotSys]!++;
  if (f.tpl) {
    let tc: number;
    if (f.tpl === s.lastTpl && F[d + F_lastTplSlot]! >= 0) tc = cappedBump(s.tplUse!, F[d + F_lastTplSlot]!);
    else {
      const seen = heldBefore(s.tpls, f.tpl);
      s.tpls = distinctAdd(s.tpls, f.tpl);
      const slot = cappedSlot(s, 'tplUse', f.tpl, 10, seen);
      // The map's own copy of the string where it has one (this event's copy would be a second).
      s.lastTpl = slot >= 0 ? cappedKey(s.tplUse!, slot) : f.tpl;
      F[d + F_lastTplSlot] = slot;
      tc = slot < 0 ? 0 : cappedCount(s.tplUse!, slot);
    }
    if (tc === 3 && onReuse) onReuse('template', cappedKey(s.tplUse!, F[d + F_lastTplSlot]!));
  }
  if (f.sys_tpl) s.sysTpls = distinctAdd(s.sysTpls, f.sys_tpl);
  if (f.simhash) {
    const hi = hex32(f.simhash, 0);
    const lo = hex32(f.simhash, 8);
    for (let i = 0; i < U[w + U_recentSimLen]!; i++) {
      if (popcount32((U[co + OFF_SIM + 2 * i]! ^ hi) >>> 0) + popcount32((U[co + OFF_SIM + 2 * i + 1]! ^ lo) >>> 0) <= 6) {
        U[w + U_nearDup]!++;
        break;
      }
    }
    U[co + OFF_SIM + 2 * U[w + U_recentSimPos]!] = hi;
    U[co + OFF_SIM + 2 * U[w + U_recentSimPos]! + 1] = lo;
    U[w + U_recentSimPos] = (U[w + U_recentSimPos]! + 1) % RECENT_SIM;
    if (U[w + U_recentSimLen]! < RECENT_SIM) U[w + U_recentSimLen]!++;
  }
  return firstSwitch;
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

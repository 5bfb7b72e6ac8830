/**
 * Ratios and summaries derived from an account's streaming state: what the detectors read.
 */
import type { AccountState } from './account-state.js';
import { DAY, NET, OFF_HOUR, OFF_NET, OFF_TASK, OFF_WEEKDAY } from './account-state.js';
import { TASKS } from '../core/index.js';
import { cappedCount, cappedKey, cappedSize, cappedTop, distinctCount, entropy } from './sketches.js';

export interface Derived {
  n: number;
  /** Share of requests that carried prompt features. */
  contentShare: number;
  cot: number;
  bench: number;
  code: number;
  toolTrace: number;
  probe: number;
  framed: number;
  cotSys: number;
  mc: number;
  shallow: number;
  meanTurns: number;
  nearDup: number;
  /** Share of requests whose template is one of the account's reused templates (≥ 3 uses). */
  tplReuse: number;
  distinctTpls: number;
  taskEntropy: number;
  langs: number;
  topLang: string | null;
  topLangShare: number;
  /** Share of content requests per detected language (the capped map's languages). */
  langShares: Record<string, number>;
  outIn: number;
  ips: number;
  prefixes: number;
  asns: number;
  countries: number;
  uas: number;
  keys: number;
  endUsers: number;
  endUserShare: number;
  forwardedShare: number;
  hosting: number;
  residential: number;
  mobile: number;
  education: number;
  business: number;
  anonymizer: number;
  entityNet: number;
  restricted: number;
  offCountry: number;
  /** Share of requests from the declared country not through an anonymizer. */
  plainHome: number;
  /** Other countries the account connects from without an anonymizer. */
  plainAwayCountries: number;
  /** Plain home-line requests from another country than the one just before them, within the hour, one of the two the declared country (`placeSwitches`). */
  placeSwitches: number;
  /** Share of requests through shared residential exits (addresses accounts of several declared countries use). */
  proxyExit: number;
  /** Distinct shared exits those requests came through (counted to 2), and visits to them. */
  exitAddrs: number;
  exitVisits: number;
  /** Hours of the day with at least 2% of requests (0–24). */
  hoursCovered: number;
  hourEntropy: number;
  /** Implied UTC offset: the centre of the busiest 10-hour window, mapped to 14:00 local. */
  impliedOffset: number;
  weekendShare: number;
  /** Coefficient of variation of log inter-arrival gaps (low = regular, scripted). */
  gapCv: number;
  perActiveDay: number;
  maxDay: number;
  maxHour: number;
  activeDays: number;
  spanDays: number;
  /** Time of the account's first request (ms since the epoch). */
  firstTs: number;
}

export function derive(s: AccountState): Derived {
  const n = Math.max(1, s.n);
  const c = Math.max(1, s.content);
  let reuse = 0;
  const tu = s.tplUse;
  if (tu) for (let i = 0; i < cappedSize(tu); i++) if (cappedCount(tu, i) >= 3) reuse += cappedCount(tu, i);
  // The counters are read in place, in the account's slot (a `subarray` view per call costs more
  // than the loops).
  const cc = s.u;
  const co = s.co;
  const H = co + OFF_HOUR;
  let covered = 0;
  for (let k = 0; k < 24; k++) if (cc[H + k]! >= 0.02 * n) covered++;
  // Busiest 10-hour window, circular (a sliding sum: the first strictly busiest start wins).
  let sum = 0;
  for (let k = 0; k < 10; k++) sum += cc[H + k]!;
  let best = sum;
  let bestStart = 0;
  for (let st = 1; st < 24; st++) {
    sum += cc[H + ((st + 9) % 24)]! - cc[H + st - 1]!;
    if (sum > best) {
      best = sum;
      bestStart = st;
    }
  }
  const centreUtc = (bestStart + 5) % 24;
  let offset = 14 - centreUtc;
  if (offset > 14) offset -= 24;
  if (offset < -11) offset += 24;
  const top = cappedTop(s.langs);
  const langShares: Record<string, number> = {};
  if (s.langs) for (let i = 0; i < cappedSize(s.langs); i++) langShares[cappedKey(s.langs, i)] = cappedCount(s.langs, i) / c;
  const gm = s.gapN > 0 ? s.gapLogSum / s.gapN : 0;
  const gv = s.gapN > 1 ? Math.max(0, s.gapLogSq / s.gapN - gm * gm) : 0;
  return {
    n: s.n,
    contentShare: s.content / n,
    cot: s.cot / c,
    bench: s.bench / c,
    code: s.code / c,
    toolTrace: s.toolTrace / c,
    probe: s.probe / c,
    framed: s.framed / c,
    cotSys: s.cotSys / c,
    mc: s.mc / c,
    shallow: s.shallow / n,
    meanTurns: s.turnsSum / n,
    nearDup: s.nearDup / c,
    tplReuse: reuse / c,
    distinctTpls: distinctCount(s.tpls),
    taskEntropy: entropy(cc, co + OFF_TASK, TASKS.length),
    langs: s.langs ? cappedSize(s.langs) : 0,
    topLang: top.key,
    topLangShare: top.count / c,
    langShares,
    outIn: s.outTok / Math.max(1, s.inTok),
    ips: distinctCount(s.ips),
    prefixes: distinctCount(s.prefixes),
    asns: distinctCount(s.asns),
    countries: distinctCount(s.countries),
    uas: distinctCount(s.uas),
    keys: distinctCount(s.keys),
    endUsers: distinctCount(s.endUsers),
    endUserShare: s.withEndUser / n,
    forwardedShare: s.forwarded / n,
    hosting: cc[co + OFF_NET + NET.hosting]! / n,
    residential: (cc[co + OFF_NET + NET.residential]! + cc[co + OFF_NET + NET.mobile]!) / n,
    mobile: cc[co + OFF_NET + NET.mobile]! / n,
    education: cc[co + OFF_NET + NET.education]! / n,
    business: cc[co + OFF_NET + NET.business]! / n,
    anonymizer: cc[co + OFF_NET + NET.anonymizer]! / n,
    entityNet: cc[co + OFF_NET + NET.entity]! / n,
    restricted: s.restricted,
    offCountry: s.offCountry / n,
    plainHome: s.plainHome / n,
    plainAwayCountries: distinctCount(s.plainAway),
    placeSwitches: s.placeSwitches,
    proxyExit: s.proxyExit / n,
    exitAddrs: s.exitAddrs,
    exitVisits: s.exitVisits,
    hoursCovered: covered,
    hourEntropy: entropy(cc, H, 24),
    impliedOffset: offset,
    weekendShare: (cc[co + OFF_WEEKDAY]! + cc[co + OFF_WEEKDAY + 6]!) / n,
    gapCv: gm > 0 ? Math.sqrt(gv) / gm : 0,
    perActiveDay: s.n / Math.max(1, s.activeDays),
    maxDay: s.maxDayN,
    maxHour: s.maxHourN,
    activeDays: s.activeDays,
    spanDays: (s.lastTs - s.firstTs) / DAY,
    firstTs: s.firstTs,
  };
}

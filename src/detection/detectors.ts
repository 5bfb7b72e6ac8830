/**
 * Account-level detectors. Each reads an account's derived features and its interchange record
 * and returns signals: a label, a weight (0..1) and a sentence of evidence. Weights combine by
 * noisy-OR into the account's risk. Thresholds were set on the hard suite's training worlds only.
 */
import type { Account, IpInfo, Reason } from '../core/index.js';
import { DAY, PLACE_WINDOW } from './account-state.js';
import type { Derived } from './derived.js';

export interface Signal extends Reason {
  label: string | null;
  /** Which detector emitted it (for degraded-mode reporting and docs). */
  detector: 'distillation' | 'reseller' | 'region' | 'key_sharing' | 'linkage' | 'attribution';
}

export interface DetectorContext {
  restrictedCountries: ReadonlySet<string>;
  /** Prompt content is available (features or text) for this account. */
  hasContent: boolean;
  /** Network types are known (an IP intelligence source was given). */
  hasNetworks: boolean;
  /**
   * Write each signal's evidence sentence (the default). `false` where only the weights and
   * kinds of signals are read (the engine's periodic re-scoring): details are then empty.
   */
  explain?: boolean;
}

const pct = (x: number): string => `${Math.round(100 * x)}%`;
/**
 * Highest weight of a region-evasion signal resting on contradictions read from fewer than
 * three requests: a step-up (the default threshold is 0.7), never a block (0.88), even with a
 * weak cluster link beside it.
 */
const THIN_REGION_CAP = 0.75;
const clamp = (x: number): number => Math.max(0, Math.min(1, x));

/** Usual UTC offset of a country's population (hours), for the time-zone contradiction. */
const COUNTRY_TZ: Record<string, number> = {
  US: -6, CA: -5, MX: -6, BR: -3, AR: -3, GB: 0, IE: 0, PT: 0, FR: 1, DE: 1, NL: 1, BE: 1, CH: 1, IT: 1, ES: 1, SE: 1,
  NO: 1, DK: 1, PL: 1, AT: 1, FI: 2, IL: 2, TR: 3, RU: 3, AE: 4, IR: 3.5, PK: 5, IN: 5.5, TH: 7, VN: 7, ID: 7,
  SG: 8, MY: 8, HK: 8, CN: 8, TW: 8, PH: 8, KR: 9, JP: 9, AU: 10, NZ: 12, NG: 1, ZA: 2, EG: 2, KP: 9, SY: 3, CU: -5,
};
/** Languages that point to a home region when the declared country does not speak them. */
const LANG_HOME: Record<string, string[]> = {
  zh: ['CN', 'TW', 'HK', 'SG', 'MY'],
  ru: ['RU', 'BY', 'KZ', 'UA'],
  fa: ['IR'],
  ko: ['KR', 'KP'],
};

/** The language of another region (by LANG_HOME) with the largest share of the account's prompts. */
function otherRegionLanguage(d: Derived, declared: string): { lang: string; share: number } | null {
  let best: { lang: string; share: number } | null = null;
  for (const lang in d.langShares) {
    const home = LANG_HOME[lang];
    const share = d.langShares[lang]!;
    if (home && !home.includes(declared) && (!best || share > best.share)) best = { lang, share };
  }
  return best;
}

function tzDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 24;
  return Math.min(d, 24 - d);
}

/** Distillation and capability extraction (templated sweeps, CoT elicitation, harvesting). */
export function distillationSignals(a: Account | undefined, d: Derived, ctx: DetectorContext): Signal[] {
  if (!ctx.hasContent || d.n < 8) return [];
  const out: Signal[] = [];
  const idx = d.cot + d.bench + d.cotSys + 0.5 * d.tplReuse;
  // A declared, verified evaluator runs periodic sweeps; one that sweeps every day (or round
  // the clock) is harvesting whatever it declared. Every day means ten days or more of daily
  // sweeps: evaluating a new model in the week after its release is what evaluators do (a
  // training world's evaluator swept on 7 of the 8 days after one).
  const everyDay = d.activeDays >= 10 && d.activeDays / (Math.floor(d.spanDays) + 1) >= 0.85;
  // An evaluation harness sends items, one per request. A declared evaluator whose traffic is
  // more than a fifth multi-turn sessions (judged from 20 requests on) is doing more than the
  // evaluation it declared, and the declaration no longer discounts what it harvests.
  const sweepShaped = d.n < 20 || d.shallow >= 0.8;
  const evaluator = a?.declared_use === 'evaluation' && (a.verification === 'business' || a.verification === 'id') && !everyDay && sweepShaped;
  // Course homework: near-duplicate prompts from one campus are copying, not harvesting.
  const homework = d.education >= 0.3 && d.countries <= 1;
  let content = clamp((idx - 0.55) / 0.9);
  if (homework) content *= 0.3;
  if (content > 0.05) {
    out.push({
      detector: 'distillation',
      label: 'distillation',
      code: 'distillation_content',
      detail: ctx.explain === false ? '' : `chain-of-thought elicitation ${pct(d.cot)}, benchmark-like ${pct(d.bench)}, CoT system prompts ${pct(d.cotSys)}, templated ${pct(d.tplReuse)} of ${d.n} requests`,
      weight: 0.45 * content,
    });
  }
  // Distillation content at a volume no person types.
  if (content >= 0.6 && d.perActiveDay >= 50 && d.n >= 50) {
    out.push({
      detector: 'distillation',
      label: 'distillation',
      code: 'high_volume_distillation',
      detail: ctx.explain === false ? '' : `${d.perActiveDay.toFixed(0)} requests per active day, mostly chain-of-thought or benchmark-like`,
      weight: 0.5,
    });
  }
  // Shallow templated sweeps at volume, with long outputs: capability harvesting. Together
  // with full distillation content, sweeps at a little over 15 requests a day step up even
  // with short outputs (0.45 and 0.45); a declared evaluator's sweeps stay discounted. A rate
  // needs two active days: on an account's first day its one session is its rate, and a proxy
  // customer's first session of 15-18 CoT questions read as 15-18 a day (5 of the 15 proxy
  // customers stepped up online over 60 training worlds, until their next day's chats). On the
  // first day it takes 20 (a distiller's slower accounts sent 21-22 on theirs).
  if (d.shallow >= 0.5 && d.bench + d.cot >= 0.45 && d.perActiveDay >= (d.activeDays >= 2 ? 15 : FIRST_DAY_SWEEP_RATE)) {
    const w = clamp(0.45 + 0.25 * clamp((d.outIn - 1) / 1.5) + 0.2 * clamp((d.perActiveDay - 15) / 60));
    out.push({
      detector: 'distillation',
      label: 'capability_probing',
      code: 'shallow_sweeps',
      detail: ctx.explain === false ? '' : `${pct(d.shallow)} single-turn requests, ${d.perActiveDay.toFixed(0)} per active day, output/input ${d.outIn.toFixed(2)}`,
      weight: evaluator && d.hoursCovered < 14 ? w * 0.3 : w,
    });
  }
  // A sweep kept up below the volume gates: from 30 requests with prompt content, half or more
  // single-turn, with distillation content and multiple-choice benchmark items at 15% or more.
  // A distiller's slower accounts, at 10 to 40 requests a day, otherwise wait a day or more at
  // the step-up edge (from 40 requests, as until session 15, a slow account's first evening of
  // 20-30 sweeps waited for the next day's; 30 gave no benign account the signal over 80
  // training worlds). Course homework is discounted above, and a declared evaluator's harness is
  // what it declared. Traffic that rotates residential proxies is left to its own, age-aware
  // reading of the same items (`benchmark_sweeps_via_residential_proxies`): one signal per piece
  // of evidence (read twice, a proxy customer's 44 requests with 8 items added up to a block).
  // That is what keeps proxy customers out: over their first few dozen requests their CoT chats
  // can carry 12-18% items. A proxy service's sticky sessions (most requests through one home
  // line, the rest through lines in other countries) rotate too little to read as rotation, and
  // the proxy rule does not read them: from an established account (first used more than 21 days
  // after signup) traffic 80% from home or mobile lines in three or more countries needs that
  // rule's sweep volume, 30 multiple-choice items (a 1M-account world's established proxy
  // customer: 39 requests from 4 countries on 9 blocks, 6 items). A fresh account is read as
  // before, so a distiller's new stock does not escape by adding a few requests from abroad. A
  // person who pastes that many items into CoT chats from a line of their own is read by this rule.
  const viaProxies = ctx.hasNetworks && (rotatesResidential(d) || (d.residential >= 0.8 && d.countries >= 3 && establishedUnderSweepVolume(a, d)));
  if (!evaluator && !viaProxies && d.n * d.contentShare >= SUSTAINED_SWEEP_REQUESTS && content >= 0.5 && d.mc >= 0.15 && d.shallow >= 0.5) {
    out.push({
      detector: 'distillation',
      label: 'capability_probing',
      code: 'sustained_benchmark_sweeps',
      detail: ctx.explain === false ? '' : `${pct(d.mc)} multiple-choice benchmark items and ${pct(d.cot)} chain-of-thought elicitation over ${d.n} requests, ${pct(d.shallow)} single-turn`,
      weight: 0.3,
    });
  }
  // From 30 requests: over 20 to 29, a proxy customer's CoT questions (long answers to short
  // prompts) reached the ratio by chance in two of 120 training worlds, no campaign account did.
  if (d.outIn >= 1.7 && d.n >= 30 && d.shallow >= 0.4) {
    out.push({
      detector: 'distillation',
      label: 'distillation',
      code: 'output_harvesting',
      detail: ctx.explain === false ? '' : `output/input token ratio ${d.outIn.toFixed(2)} over ${d.n} requests`,
      weight: evaluator ? 0.1 : 0.3,
    });
  }
  // Round-the-clock sweeps.
  if (d.hoursCovered >= 16 && d.perActiveDay >= 60 && d.bench + d.cot >= 0.45 && !homework) {
    out.push({
      detector: 'distillation',
      label: 'distillation',
      code: 'round_the_clock_sweeps',
      detail: ctx.explain === false ? '' : `active in ${d.hoursCovered} hours of the day at ${d.perActiveDay.toFixed(0)} requests per active day, ${pct(d.bench + d.cot)} benchmark or CoT`,
      weight: 0.6,
    });
  }
  if (evaluator) for (const s of out) s.weight *= d.hoursCovered >= 14 ? 1 : 0.5;
  return out;
}

/** Requests on an account's only active day so far that make a sweep rate (`shallow_sweeps`). */
const FIRST_DAY_SWEEP_RATE = 20;
/** Requests with prompt content from which a low-rate sweep counts on its own (`sustained_benchmark_sweeps`). */
const SUSTAINED_SWEEP_REQUESTS = 30;
/** An account first used within this many days of signup is fresh (a campaign's stock is). */
const FRESH_ACCOUNT_DAYS = 21;
/** Multiple-choice items through rotating residential proxies that make an established account's traffic a sweep. */
const ESTABLISHED_SWEEP_ITEMS = 30;
/** Switches between countries within `PLACE_WINDOW` that make a key two places at once. */
const PLACE_SWITCHES = 1;

/** Days from signup to the account's first request (NaN without its record). */
function daysToFirstUse(a: Account | undefined, d: Derived): number {
  return a ? (d.firstTs - Date.parse(a.created_at)) / DAY : NaN;
}

/** Multiple-choice benchmark items the account has sent. */
function mcItems(d: Derived): number {
  return Math.round(d.mc * d.n * d.contentShare);
}

/**
 * An established account (first used more than `FRESH_ACCOUNT_DAYS` after signup: a campaign's
 * stock is put to work as it is made) with fewer multiple-choice items than a sweep's volume: a
 * proxy customer's homework, not a sweep, however its share of items reads.
 */
function establishedUnderSweepVolume(a: Account | undefined, d: Derived): boolean {
  return daysToFirstUse(a, d) > FRESH_ACCOUNT_DAYS && mcItems(d) < ESTABLISHED_SWEEP_ITEMS;
}

/** Traffic hops across many residential/mobile blocks in several countries (a proxy pool). */
export function rotatesResidential(d: Derived): boolean {
  return d.residential >= 0.8 && d.countries >= 4 && d.prefixes >= Math.min(12, 0.5 * d.n);
}

/** Network evasion shared by hydra and region evasion: rotating residential proxies, anonymizers. */
export function networkSignals(a: Account | undefined, d: Derived, ctx: DetectorContext): Signal[] {
  const out: Signal[] = [];
  if (d.n < 6) return out;
  if (ctx.hasNetworks && rotatesResidential(d)) {
    out.push({
      detector: 'region',
      label: null,
      code: 'rotating_residential_proxy',
      detail: ctx.explain === false ? '' : `${d.prefixes} address blocks in ${d.countries} countries on residential/mobile networks over ${d.n} requests`,
      weight: 0.3,
    });
    // Multiple-choice benchmark items and CoT prompts mixed into traffic that hops across
    // residential proxies: a proxy service's accounts harvesting for a distiller. A small
    // account (10–24 requests) shows it only with a denser mix — a fifth multiple-choice items,
    // over a third benchmark-like, 30% CoT system prompts — where a proxy user's few benchmark-
    // looking chats can reach the loose rates by chance; it then weighs less (step-up, not block).
    const sweepMix = d.n >= 25 ? d.mc >= 0.12 && d.bench >= 0.18 && d.cotSys >= 0.05 : d.n >= 10 && d.mc >= 0.2 && d.bench >= 0.35 && d.cotSys >= 0.3;
    // A harvesting stock is put to work as it is made: its accounts send their first request
    // within days of signup. A proxy service's long-standing customer (signed up weeks or months
    // before) pastes the same few multiple-choice questions into CoT chats now and then; from
    // such an established account only a sweep's volume counts, several dozen items: over a
    // few months of homework a heavy user's dozen or so items pile up.
    if (ctx.hasContent && sweepMix && !establishedUnderSweepVolume(a, d)) {
      const usedAfterDays = daysToFirstUse(a, d);
      out.push({
        detector: 'distillation',
        label: 'distillation',
        code: 'benchmark_sweeps_via_residential_proxies',
        detail:
          ctx.explain === false
            ? ''
            : `${pct(d.mc)} multiple-choice benchmark items (${mcItems(d)}), ${pct(d.bench)} benchmark-like and ${pct(d.cotSys)} CoT-system prompts through rotating residential proxies over ${d.n} requests${Number.isFinite(usedAfterDays) ? `, first request ${Math.max(0, usedAfterDays).toFixed(0)} days after signup` : ''}`,
        weight: d.n >= 25 ? 0.6 : 0.45,
      });
    }
  }
  // Key sharing: one key from many clients and places. Three clients on three networks in two
  // countries; or only two clients (a buyer who happens to run the owner's SDK, or two buyers
  // on the same one) on three networks, plain (no anonymizer) connections coming from two
  // countries other than the declared one. A VPN user's exits are anonymized and do not count
  // as plain; a developer with a second client or a CI server abroad shows one such country.
  const manyClients = d.uas >= 3 && d.countries >= 2 && d.asns >= 3;
  const clientsAbroad = d.uas >= 2 && d.asns >= 3 && d.plainAwayCountries >= 2;
  if (manyClients || clientsAbroad) {
    out.push({
      detector: 'key_sharing',
      label: 'key_sharing',
      code: 'key_used_by_many_clients',
      detail: ctx.explain === false ? '' : manyClients ? `${d.uas} client user agents from ${d.asns} networks in ${d.countries} countries` : `${d.uas} client user agents from ${d.asns} networks, with plain connections from ${d.plainAwayCountries} countries other than the declared one`,
      weight: clamp(0.72 + 0.06 * Math.max(0, d.uas - 3)),
    });
  } else if (ctx.hasNetworks && d.placeSwitches >= PLACE_SWITCHES && d.uas >= 2 && d.keys <= 1 && d.prefixes <= 4 && d.proxyExit === 0 && !rotatesResidential(d) && !(a?.verification === 'business' && a.org_id)) {
    // Two places at once: plain requests from home lines in the declared country and another
    // within the hour of each other, from two clients, on a few fixed lines (a proxy pool's
    // rotation is neither few nor fixed), through one key (a team's account gives each member a
    // key; a business-verified org's members may share one). The first buyer of a key shows it
    // while the owner still uses it. Once `key_used_by_many_clients` reads the key, this earlier
    // and weaker reading of the same sharing is not added to it.
    out.push({
      detector: 'key_sharing',
      label: 'key_sharing',
      code: 'key_used_in_two_countries_at_once',
      detail: ctx.explain === false ? '' : `${d.placeSwitches} request(s) from a home line in one country within ${PLACE_WINDOW / 60_000} minutes of one from another (one of them ${a?.declared_country ?? 'the declared country'}), ${d.uas} client user agents on ${d.prefixes} address blocks`,
      weight: 0.72,
    });
  }
  return out;
}

/**
 * Region evasion reads an account's VPN share from this many requests on (fewer, with a notable
 * signup); the engine's fast path must not skip accounts at it.
 */
export const REGION_MIN_REQUESTS = 3;
/** The VPN/proxy share of an account's requests from which the region detector reads it. */
export const REGION_VPN_SHARE = 0.3;

/** Region evasion: anonymizers, with hours, language or payment contradicting the declared country. */
export function regionSignals(a: Account | undefined, d: Derived | null, ctx: DetectorContext, restrictedHits: number, signup: IpInfo | null): Signal[] {
  const out: Signal[] = [];
  const declared = a?.declared_country;
  if (!declared || ctx.restrictedCountries.has(declared)) return out;
  if (d && restrictedHits > 0 && d.entityNet < 0.5) {
    out.push({
      detector: 'region',
      label: 'region_evasion',
      code: 'restricted_country_leak',
      detail: ctx.explain === false ? '' : `${restrictedHits} request(s) from a restricted country although ${declared} was declared`,
      weight: d.anonymizer >= 0.2 ? 0.75 : 0.3,
    });
  }
  const signupHidden = signup !== null && signup.anonymizers.length > 0;
  const hidden = d && d.n >= REGION_MIN_REQUESTS ? d.anonymizer : 0;
  const signupAbroad = signup !== null && signup.anonymizers.length === 0 && !!signup.country && signup.country !== declared && (signup.network_type === 'residential' || signup.network_type === 'mobile');
  // A company verified as a business pays as its group does: a branch on its parent's card from
  // abroad is ordinary, so the card's country is no contradiction for such an account.
  const companyCard = a?.verification === 'business' && !!a.org_id;
  const payAbroad = !!a?.payment_country && a.payment_country !== declared && !companyCard;
  // Before three requests the VPN share is not read on its own. An account that signed up from
  // a home or mobile network abroad and whose first request or two come mostly through VPN or
  // proxy exits shows, already, the contradiction read below from three requests on: a privacy
  // user signs up from home, a proxy user connects through its proxy's plain home addresses.
  const thinHidden = signupAbroad && !!d && d.n < REGION_MIN_REQUESTS && d.anonymizer >= 0.5;
  const vpnGate = hidden >= REGION_VPN_SHARE || signupHidden || thinHidden;
  if (!vpnGate && !(signupAbroad && payAbroad)) return out;
  const contradictions: string[] = [];
  let w = 0;
  // Weight of contradictions read only because fewer than three requests were let in (see
  // THIN_REGION_CAP); every one counts so when the thin VPN share alone opened the gate.
  let thinW = 0;
  let thinN = 0;
  const onlyThin = thinHidden && !payAbroad;
  // Plain connections from the declared country (no anonymizer, no shared proxy exit) place the
  // account where it says it is: an evader's plain connections are its home abroad or proxy
  // exits, never a line of its own in the country it declares. From 15% of three or more
  // requests (one in six or more: a developer whose CI runs in a hosting range an anonymizer list
  // names, a VPN user at home now and then), a resident who writes another region's language or
  // pays with a card from abroad is not evading, so neither counts as a contradiction then. A
  // plain request is any that no list calls anonymized and no four countries share: an evader
  // with a static proxy or a server of its own in the declared country passes as a resident.
  const resident = !!d && ctx.hasNetworks && d.n >= REGION_MIN_REQUESTS && d.plainHome >= 0.15;
  const tz = COUNTRY_TZ[declared];
  if (d && tz !== undefined && d.n >= 10 && tzDistance(tz, d.impliedOffset) >= 5) {
    contradictions.push(`activity implies UTC${d.impliedOffset >= 0 ? '+' : ''}${d.impliedOffset}, declared ${declared} is UTC${tz >= 0 ? '+' : ''}${tz}`);
    w += 0.1;
  }
  // One prompt in another region's language is a quotation or a curiosity as often as a home:
  // the language is read from two such prompts on.
  const topLangPrompts = d ? Math.round(d.topLangShare * d.n * d.contentShare) : 0;
  if (d && ctx.hasContent && !resident && d.topLang && LANG_HOME[d.topLang] && !LANG_HOME[d.topLang]!.includes(declared) && d.topLangShare >= 0.3 && topLangPrompts >= 2) {
    contradictions.push(`mostly ${d.topLang} prompts (${pct(d.topLangShare)}) from a ${declared} account`);
    w += 0.35;
  } else if (d && ctx.hasContent && !resident && d.n * d.contentShare >= 10) {
    // Mixed use: English leads, but a quarter of the prompts are in a language of another
    // region. A VPN user who writes such a language now and then (about 3% of prompts) stays
    // below: over 10 or more prompts a quarter takes 3 of them, which chance rarely gives.
    const other = otherRegionLanguage(d, declared);
    if (other && other.share >= 0.25) {
      contradictions.push(`${pct(other.share)} of prompts in ${other.lang} from a ${declared} account`);
      w += 0.35;
    }
  }
  if (signupAbroad && vpnGate && (!d || d.plainHome <= 0.1)) {
    contradictions.push(`signed up from a ${signup!.network_type} network in ${signup!.country}`);
    w += 0.3;
    if (thinHidden) {
      thinW += 0.3;
      thinN++;
    }
  }
  if (payAbroad && !resident) {
    contradictions.push(`payment instrument from ${a!.payment_country}`);
    w += 0.3;
  }
  if (d && d.countries >= 5) {
    contradictions.push(`${d.countries} countries (country hopping)`);
    w += 0.3;
  }
  // A pool rotates its exits: an evader's next session comes from another one. One shared
  // address, visit after visit, is a line of the account's own (its home, a host's or a hotel's)
  // that a proxy pool also exits from, and says nothing of where the account is. A sticky proxy
  // session that keeps one exit for hours looks the same.
  const ownLine = !!d && d.exitAddrs === 1 && d.exitVisits >= 2;
  // A traveller or a privacy-minded user still connects from home without the VPN now and
  // then; an evader's only plain connections are proxy exits in other countries.
  if (d && ctx.hasNetworks && d.n >= 5 && d.plainHome <= 0.1 && d.plainAwayCountries >= 3) {
    contradictions.push(`${pct(d.plainHome)} of requests from ${declared} without an anonymizer, while plain connections come from ${d.plainAwayCountries} other countries`);
    w += 0.3;
  } else if (d && ctx.hasNetworks && (d.n >= REGION_MIN_REQUESTS || signupHidden) && d.proxyExit > 0 && d.plainHome <= 0.1 && !ownLine) {
    // Off the VPN, a privacy-minded user connects from home; an evader from residential proxy
    // exits: home or mobile addresses that accounts of several declared countries connect from.
    // After a signup through an anonymizer, one such request is read (as thin evidence).
    contradictions.push(`${pct(d.proxyExit)} of requests through residential proxy exits (addresses shared by accounts of several declared countries), ${pct(d.plainHome)} from ${declared} on a network of its own`);
    w += 0.3;
    if (d.n < REGION_MIN_REQUESTS) {
      thinW += 0.3;
      thinN++;
    }
  }
  if (onlyThin) {
    thinW = w;
    thinN = contradictions.length;
  }
  if (contradictions.length > 0) {
    let weight = clamp(0.2 + 1.7 * w);
    // Thin evidence steps up at most; it never lowers what the firmer contradictions weigh.
    if (thinN > 0) weight = Math.max(thinN < contradictions.length ? clamp(0.2 + 1.7 * (w - thinW)) : 0, Math.min(THIN_REGION_CAP, weight));
    const how = [hidden >= 0.3 ? `${pct(hidden)} of requests through VPN/proxy exits` : '', thinHidden ? `${pct(d!.anonymizer)} of ${d!.n} request(s) through VPN/proxy exits` : '', signupHidden ? `signed up through a ${signup!.anonymizers.join('/')} exit` : '', signupAbroad && !vpnGate ? `signed up from a ${signup!.network_type} network in ${signup!.country}` : ''].filter(Boolean).join(', ');
    out.push({
      detector: 'region',
      label: 'region_evasion',
      code: 'anonymized_with_contradictions',
      detail: ctx.explain === false ? '' : `${how}; ${contradictions.join('; ')}`,
      weight,
    });
  }
  return out;
}

/** Undeclared resellers and intermediaries: many end users, styles and networks, round the clock. */
export function resellerSignals(a: Account | undefined, d: Derived): Signal[] {
  const out: Signal[] = [];
  if (a?.declared_use === 'reseller' || d.n < 30) return out;
  const manyUsers = d.endUsers >= 30 || d.forwardedShare >= 0.2;
  // Many styles: several languages or task kinds, and free-form prompts (an app's own users
  // fill the app's few templates; a reseller's customers write whatever they like).
  const manyStyles = (d.langs >= 2 || d.taskEntropy >= 2) && d.tplReuse < 0.5;
  if (manyUsers && d.hoursCovered >= 14 && manyStyles) {
    out.push({
      detector: 'reseller',
      label: 'undeclared_reseller',
      code: 'undeclared_reseller',
      detail: `${d.endUsers} end users${d.forwardedShare > 0 ? `, ${pct(d.forwardedShare)} forwarded` : ''}, ${d.langs} languages, active ${d.hoursCovered} h/day, not declared as a reseller`,
      weight: 0.35,
    });
  }
  return out;
}

/** Noisy-OR of signal weights. */
export function combine(weights: readonly number[]): number {
  let p = 1;
  for (let i = 0; i < weights.length; i++) p *= 1 - clamp(weights[i]!);
  return 1 - p;
}

/**
 * Attribution of a malicious cluster to a watchlist entity, through evidence only: screening
 * hits on the members' organisation names, owners and domains; traffic from networks the
 * entity operates; working hours in the entity's time zone; prompts in its language; payment
 * instruments issued in its jurisdiction (or territories that bank with it). Network
 * use alone never attributes (the entity's public cloud has benign customers), nor do hours
 * and language: at least one screening hit, or the entity's networks together with another
 * independent kind of evidence, is required. Strong indicators shared by another provider
 * (device, card, template, mail domain) attributed there to an identity that screens to the
 * entity count like a screening hit; shared networks alone never do.
 */
import type { Account, Reason, Watchlist } from '../core/index.js';
import type { AccountState } from './account-state.js';
import type { Derived } from './derived.js';
import { cappedGet } from './sketches.js';

export interface AttributionResult {
  entity: string;
  confidence: number;
  evidence: Reason[];
}

export interface AttributionDeps {
  accounts: ReadonlyMap<string, Account>;
  states: ReadonlyMap<string, AccountState>;
  derived: (id: string) => Derived | null;
  /** Screening hits of an account's org: `entity\0matched_on\0explanation`. */
  screen: (a: Account) => string[];
  watchlist: Watchlist | undefined;
  /** Evidence from indicators another provider attributed to an identity that screens to this entity. */
  imported?: (entityId: string) => Reason | null;
}

const JURISDICTION_TZ: Record<string, number> = { CN: 8, HK: 8, TW: 8, RU: 3, IR: 3.5, KP: 9, SY: 3, CU: -5, BY: 3 };
/** Where a jurisdiction's money comes from: its own cards and those of territories that bank with it. */
const JURISDICTION_PAYMENT: Record<string, string[]> = { CN: ['CN', 'HK', 'MO'], HK: ['HK', 'CN', 'MO'], RU: ['RU', 'BY'], BY: ['BY', 'RU'] };
const JURISDICTION_LANG: Record<string, string> = { CN: 'zh', HK: 'zh', TW: 'zh', RU: 'ru', BY: 'ru', IR: 'fa', KP: 'ko' };

export function attributeCluster(members: readonly string[], deps: AttributionDeps): AttributionResult | null {
  const entities = deps.watchlist?.entities ?? [];
  if (entities.length === 0) return null;
  let best: AttributionResult | null = null;
  for (const e of entities) {
    const evidence: Reason[] = [];
    // 1. Screening hits on member organisations.
    const hitOrgs = new Set<string>();
    const explanations: string[] = [];
    for (const m of members) {
      const a = deps.accounts.get(m);
      if (!a) continue;
      for (const h of deps.screen(a)) {
        const [id, on, why] = h.split('\u0000') as [string, string, string];
        if (id !== e.id) continue;
        const org = a.org_id ?? a.account_id;
        if (!hitOrgs.has(org)) {
          hitOrgs.add(org);
          if (explanations.length < 3) explanations.push(`${a.org_name ?? org} (${on}: ${why})`);
        }
      }
    }
    let strong = false;
    if (hitOrgs.size > 0) {
      strong = true;
      evidence.push({ code: 'screening_hit', detail: `${hitOrgs.size} member organisation(s) match ${e.name}: ${explanations.join('; ')}`, weight: Math.min(0.9, 0.6 + 0.1 * hitOrgs.size) });
    }
    // Strong indicators (device, card, template, mail domain) another provider attributed to this entity.
    const imported = deps.imported?.(e.id);
    if (imported) {
      strong = true;
      evidence.push(imported);
    }
    // 2. Traffic from the entity's own networks.
    let total = 0;
    let onEntity = 0;
    let tzMatch = 0;
    let langMatch = 0;
    let active = 0;
    const tz = e.jurisdiction ? JURISDICTION_TZ[e.jurisdiction] : undefined;
    const lang = e.jurisdiction ? JURISDICTION_LANG[e.jurisdiction] : undefined;
    for (const m of members) {
      const s = deps.states.get(m);
      const d = deps.derived(m);
      if (!s || !d) continue;
      active++;
      total += s.n;
      onEntity += cappedGet(s.entityAsnUse, e.id);
      if (tz !== undefined && d.n >= 10 && Math.abs(d.impliedOffset - tz) <= 1.5) tzMatch++;
      if (lang) {
        if (cappedGet(s.langs, lang) / Math.max(1, s.content) >= 0.05) langMatch++;
      }
    }
    const netShare = total > 0 ? onEntity / total : 0;
    const kinds: string[] = [];
    if (netShare >= 0.03) {
      evidence.push({ code: 'asn_operated_by_entity', detail: `${Math.round(100 * netShare)}% of the cluster's requests come from networks ${e.name} operates (AS${e.asns.join(', AS')})`, weight: 0.35 });
      kinds.push('network');
    }
    if (active > 0 && tzMatch / active >= 0.5) {
      evidence.push({ code: 'entity_time_zone', detail: `${tzMatch} of ${active} members work hours consistent with UTC+${tz} (${e.jurisdiction})`, weight: 0.15 });
      kinds.push('hours');
    }
    if (active > 0 && langMatch / active >= 0.3) {
      evidence.push({ code: 'entity_language', detail: `${langMatch} of ${active} members write prompts in ${lang}`, weight: 0.15 });
      kinds.push('language');
    }
    // Payment instruments issued where the entity is (its jurisdiction and the territories that
    // bank with it), on members declared elsewhere: the money comes from the entity's side.
    const payHome = e.jurisdiction ? (JURISDICTION_PAYMENT[e.jurisdiction] ?? [e.jurisdiction]) : [];
    let payMatch = 0;
    let withPay = 0;
    for (const m of members) {
      const a = deps.accounts.get(m);
      if (!a?.payment_country) continue;
      withPay++;
      if (payHome.includes(a.payment_country) && !payHome.includes(a.declared_country ?? '')) payMatch++;
    }
    if (withPay > 0 && payMatch >= 2 && payMatch / withPay >= 0.3) {
      evidence.push({ code: 'entity_payment_country', detail: `${payMatch} of ${withPay} members declared outside ${e.jurisdiction} pay with instruments issued in ${payHome.join('/')}`, weight: 0.15 });
      kinds.push('payment');
    }
    if (!strong && !(kinds.includes('network') && kinds.length >= 2)) continue;
    let p = 1;
    for (const r of evidence) p *= 1 - r.weight;
    const confidence = Math.round((1 - p) * 1000) / 1000;
    if (confidence < 0.5) continue;
    if (!best || confidence > best.confidence) best = { entity: e.id, confidence, evidence };
  }
  return best;
}

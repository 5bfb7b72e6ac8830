/**
 * The shareable indicators of a cluster (for its case and the STIX export): the payment and
 * device fingerprints, non-free-mail domains, /24 ranges, ASNs and prompt templates its members
 * hold, keeping only values that are specific to the cluster in this provider's own population
 * (at least as many of a value's holders are members as are not). A cloud ASN or a template
 * that half the evaluators use would only cost the recipient false positives.
 */
import type { CaseIndicators, IpIntel } from '../core/index.js';
import type { DetectionEngine } from './engine.js';
import { emailDomainOf, isFreemail } from './linkage.js';
import { cappedCount, cappedKey, cappedSize, distinctHas } from './sketches.js';

export interface ClusterIndicatorOptions {
  /** Resolves a /24's ASN (without it no ASN is exported). */
  intel?: Pick<IpIntel, 'lookup'>;
  /** A value is exported when members / all holders is at least this. Default 0.5. */
  minSpecificity?: number;
  /** Requests from a /24 (or with a template) for an account to count as using it. Default 3. */
  minUses?: number;
}

export interface IndicatorCandidate {
  kind: keyof CaseIndicators;
  value: string | number;
  members: number;
  others: number;
  exported: boolean;
}

type Kind = keyof CaseIndicators;

/** Indicators of `members` in `engine`'s population, and every candidate with its counts. */
export function clusterIndicators(engine: DetectionEngine, members: readonly string[], opts: ClusterIndicatorOptions = {}): { indicators: CaseIndicators; candidates: IndicatorCandidate[] } {
  const minSpec = opts.minSpecificity ?? 0.5;
  const minUses = opts.minUses ?? 3;
  const memberSet = new Set(members);
  const asnCache = new Map<string, number | undefined>();
  const asnOf = (prefix: string): number | undefined => {
    if (!opts.intel || prefix.includes(':')) return undefined;
    if (asnCache.has(prefix)) return asnCache.get(prefix);
    let asn: number | undefined;
    try {
      asn = opts.intel.lookup(prefix.replace(/\.0\/24$/, '.1')).asn;
    } catch {
      asn = undefined;
    }
    asnCache.set(prefix, asn);
    return asn;
  };
  /** Values of one account, per kind (`heavy`: used enough to be its own). */
  const valuesOf = (id: string, heavy: boolean): [Kind, string | number][] => {
    const out: [Kind, string | number][] = [];
    const a = engine.accounts.get(id);
    if (a?.payment_fingerprint) out.push(['payment_fingerprints', a.payment_fingerprint]);
    if (a?.device_fingerprint) out.push(['device_fingerprints', a.device_fingerprint]);
    const dom = (emailDomainOf(a) ?? '').toLowerCase();
    if (dom && !isFreemail(dom)) out.push(['email_domains', dom]);
    const s = engine.states.get(id);
    const need = heavy ? minUses : 1;
    const asns = new Set<number>();
    const pu = s?.prefixUse;
    if (pu) {
      for (let i = 0; i < cappedSize(pu); i++) {
        if (cappedCount(pu, i) < need) continue;
        const p = cappedKey(pu, i);
        out.push(['ip_ranges', p]);
        const asn = asnOf(p);
        if (asn !== undefined) asns.add(asn);
      }
    }
    for (const asn of asns) out.push(['asns', asn]);
    const tu = s?.tplUse;
    if (tu) for (let i = 0; i < cappedSize(tu); i++) if (cappedCount(tu, i) >= need) out.push(['prompt_fingerprints', cappedKey(tu, i)]);
    return out;
  };
  const key = (k: Kind, v: string | number) => `${k}\u0000${v}`;
  const counts = new Map<string, { kind: Kind; value: string | number; members: number; others: number }>();
  for (const m of members) {
    for (const [k, v] of valuesOf(m, true)) {
      const c = counts.get(key(k, v));
      if (c) c.members++;
      else counts.set(key(k, v), { kind: k, value: v, members: 1, others: 0 });
    }
  }
  const ids = new Set<string>([...engine.accounts.keys(), ...engine.states.keys()]);
  for (const id of ids) {
    if (memberSet.has(id)) continue;
    const seen = new Set<string>();
    const hold = (kk: string) => {
      if (seen.has(kk)) return;
      seen.add(kk);
      const c = counts.get(kk);
      if (c) c.others++;
    };
    for (const [k, v] of valuesOf(id, false)) hold(key(k, v));
    // The capped maps keep an account's top values only; its exact distinct sets (up to 16
    // values) also know the rarely used ones, so a benign holder is not missed.
    const s = engine.states.get(id);
    if (s) {
      for (const c of counts.values()) {
        if (c.kind === 'prompt_fingerprints' && distinctHas(s.tpls, String(c.value))) hold(key(c.kind, c.value));
        else if (c.kind === 'ip_ranges' && distinctHas(s.prefixes, String(c.value))) hold(key(c.kind, c.value));
      }
    }
  }
  const indicators: CaseIndicators = {};
  const candidates: IndicatorCandidate[] = [];
  for (const c of counts.values()) {
    // Account facts count from one member; networks and templates need two (one account's
    // own server or habit says nothing about the actor).
    const minMembers = c.kind === 'payment_fingerprints' || c.kind === 'device_fingerprints' || c.kind === 'email_domains' ? 1 : 2;
    const exported = c.members >= minMembers && c.members / (c.members + c.others) >= minSpec;
    candidates.push({ ...c, exported });
    if (!exported) continue;
    ((indicators[c.kind] ??= []) as (string | number)[]).push(c.value);
  }
  for (const k of Object.keys(indicators) as Kind[]) (indicators[k] as (string | number)[]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  candidates.sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : b.members - a.members));
  return { indicators, candidates };
}

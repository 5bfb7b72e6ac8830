/**
 * Indicators imported from another provider (`SharedIndicator`, see docs/detection.md
 * "Imported indicators"): matched against accounts (payment and device fingerprints, hashed the
 * way the sender hashed them; email domain; signup address) and against each event as it is
 * ingested (client address in a shared range, ASN, prompt template). An account that matches
 * gets one `imported_indicator` signal whose weight follows the kinds it matched (an ASN or a
 * shared /24 is weak, a device, card or private template is strong) times the sender's
 * confidence; the identities the matched indicators are attributed to feed attribution, which
 * still needs that identity to screen to a watchlist entity.
 */
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import {
  IMPORTED_INDICATOR_LABEL,
  SHARED_INDICATOR_KINDS,
  SHARED_INDICATOR_WEIGHT,
  STRONG_SHARED_INDICATOR_KINDS,
  liveSharedIndicators,
  type Account,
  type Reason,
  type SharedIndicator,
  type SharedIndicatorKind,
} from '../core/index.js';
import type { Signal } from './detectors.js';
import { emailDomainOf } from './linkage.js';

const KIND_INDEX = new Map<SharedIndicatorKind, number>(SHARED_INDICATOR_KINDS.map((k, i) => [k, i]));
const KIND_LABEL: Record<SharedIndicatorKind, string> = {
  ip_range: 'IP range',
  asn: 'ASN',
  email_domain: 'email domain',
  payment_fingerprint: 'payment instrument',
  device_fingerprint: 'device',
  prompt_fingerprint: 'prompt template',
};
/** Event-level kinds count only when at least this many requests, and this share of them, match. */
const MIN_EVENT_MATCHES = 3;
const MIN_EVENT_SHARE = 0.05;
/** Matched indicator ids kept per account (for details and attribution). */
const MAX_IDS = 16;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Per-account event matches: requests matched per kind, and which indicators. */
interface EventHits {
  n: number[];
  ids: string[];
}

export interface ImportedMatch {
  kind: SharedIndicatorKind;
  indicator: SharedIndicator;
  /** Requests that matched (event-level kinds); 1 for account facts. */
  requests: number;
}

export interface ImportedIndicatorsOptions {
  /** Indicators whose `valid_until` is before this time (ms) are dropped. Default: never dropped. */
  now?: number;
  /** Screens an identity name (and aliases) to watchlist entity ids (for attribution). */
  screen?: (name: string, aliases: readonly string[]) => string[];
}

export class ImportedIndicators {
  private readonly exact = new Map<string, SharedIndicator>();
  private readonly ranges: { list: BlockList; ind: SharedIndicator }[] = [];
  private readonly anyRange = new BlockList();
  private readonly hits = new Map<string, EventHits>();
  private readonly accountCache = new Map<string, ImportedMatch[]>();
  private readonly byId = new Map<string, SharedIndicator>();
  /** Identity name → watchlist entity ids it screens to. */
  readonly identityEntities = new Map<string, string[]>();
  readonly size: number;

  constructor(indicators: readonly SharedIndicator[], opts: ImportedIndicatorsOptions = {}) {
    const live = opts.now === undefined ? [...indicators] : liveSharedIndicators(indicators, opts.now);
    for (const ind of live) {
      this.byId.set(ind.id, ind);
      if (ind.kind === 'ip_range') {
        const [addr = '', len] = String(ind.value).split('/');
        const fam = isIP(addr);
        if (fam === 0) continue;
        const type = fam === 4 ? 'ipv4' : 'ipv6';
        const prefix = len === undefined ? (fam === 4 ? 32 : 128) : Number(len);
        const list = new BlockList();
        list.addSubnet(addr, prefix, type);
        this.anyRange.addSubnet(addr, prefix, type);
        this.ranges.push({ list, ind });
        continue;
      }
      const key = `${ind.kind}|${ind.hashed ? 'h' : 'p'}|${ind.kind === 'email_domain' ? String(ind.value).toLowerCase() : String(ind.value)}`;
      const prev = this.exact.get(key);
      if (!prev || prev.confidence < ind.confidence) this.exact.set(key, ind);
      if (ind.identity && opts.screen && !this.identityEntities.has(ind.identity)) this.identityEntities.set(ind.identity, opts.screen(ind.identity, ind.identity_aliases ?? []));
    }
    for (const { ind } of this.ranges) if (ind.identity && opts.screen && !this.identityEntities.has(ind.identity)) this.identityEntities.set(ind.identity, opts.screen(ind.identity, ind.identity_aliases ?? []));
    this.size = this.byId.size;
  }

  private lookup(kind: SharedIndicatorKind, value: string, hashable: boolean): SharedIndicator | undefined {
    return this.exact.get(`${kind}|p|${value}`) ?? (hashable ? this.exact.get(`${kind}|h|${sha256(value)}`) : undefined);
  }

  /** The range indicators an address falls in (none for a malformed address). */
  rangesOf(ip: string): SharedIndicator[] {
    const fam = isIP(ip);
    if (fam === 0) return [];
    const type = fam === 4 ? 'ipv4' : 'ipv6';
    if (!this.anyRange.check(ip, type)) return [];
    return this.ranges.filter((r) => r.list.check(ip, type)).map((r) => r.ind);
  }

  /** The indicators one request matches: its client address, ASN and prompt template. */
  eventMatches(ip: string | undefined, asn: number | undefined, tpl: string | null | undefined): SharedIndicator[] {
    const out: SharedIndicator[] = [];
    if (ip && this.ranges.length > 0) out.push(...this.rangesOf(ip));
    if (asn !== undefined) {
      const i = this.exact.get(`asn|p|${asn}`);
      if (i) out.push(i);
    }
    if (tpl) {
      const i = this.exact.get(`prompt_fingerprint|p|${tpl}`);
      if (i) out.push(i);
    }
    return out;
  }

  /** Counts one request of an account against the event-level indicators. */
  observe(accountId: string, ip: string | undefined, asn: number | undefined, tpl: string | null | undefined): void {
    if (this.size === 0) return;
    const m = this.eventMatches(ip, asn, tpl);
    if (m.length === 0) return;
    let h = this.hits.get(accountId);
    if (!h) this.hits.set(accountId, (h = { n: SHARED_INDICATOR_KINDS.map(() => 0), ids: [] }));
    const seen = new Set<SharedIndicatorKind>();
    for (const ind of m) {
      if (!seen.has(ind.kind)) {
        seen.add(ind.kind);
        h.n[KIND_INDEX.get(ind.kind)!]!++;
      }
      if (h.ids.length < MAX_IDS && !h.ids.includes(ind.id)) h.ids.push(ind.id);
    }
  }

  /** Matches on the account record itself: payment and device fingerprints, email domain, signup address. */
  accountMatches(a: Account): ImportedMatch[] {
    const cached = this.accountCache.get(a.account_id);
    if (cached) return cached;
    const out: ImportedMatch[] = [];
    const add = (ind: SharedIndicator | undefined) => {
      if (ind) out.push({ kind: ind.kind, indicator: ind, requests: 1 });
    };
    if (a.payment_fingerprint) add(this.lookup('payment_fingerprint', a.payment_fingerprint, true));
    if (a.device_fingerprint) add(this.lookup('device_fingerprint', a.device_fingerprint, true));
    const dom = (emailDomainOf(a) ?? '').toLowerCase();
    if (dom) add(this.lookup('email_domain', dom, false));
    if (a.signup_ip) for (const ind of this.rangesOf(a.signup_ip)) add(ind);
    this.accountCache.set(a.account_id, out);
    return out;
  }

  /**
   * Everything an account matches: its record, and the event-level kinds it used enough
   * (at least 3 requests and 5% of its `requests`).
   */
  matches(a: Account | undefined, accountId: string, requests: number): ImportedMatch[] {
    const out = a ? [...this.accountMatches(a)] : [];
    const h = this.hits.get(accountId);
    if (h) {
      for (const id of h.ids) {
        const ind = this.byId.get(id);
        if (!ind) continue;
        const n = h.n[KIND_INDEX.get(ind.kind)!]!;
        if (n >= MIN_EVENT_MATCHES && n >= MIN_EVENT_SHARE * requests && !out.some((m) => m.indicator.id === id)) out.push({ kind: ind.kind, indicator: ind, requests: n });
      }
    }
    return out;
  }

  /** The `imported_indicator` signal of an account, or null when it matches nothing that counts. */
  signal(a: Account | undefined, accountId: string, requests: number): Signal | null {
    const m = this.matches(a, accountId, requests);
    if (m.length === 0) return null;
    const best = new Map<SharedIndicatorKind, ImportedMatch>();
    for (const x of m) {
      const b = best.get(x.kind);
      if (!b || b.indicator.confidence < x.indicator.confidence) best.set(x.kind, x);
    }
    let p = 1;
    for (const [kind, x] of best) p *= 1 - SHARED_INDICATOR_WEIGHT[kind] * x.indicator.confidence;
    const sources = [...new Set(m.map((x) => x.indicator.source))].sort();
    const identities = [...new Set(m.map((x) => x.indicator.identity).filter((x): x is string => !!x))].sort();
    const parts = [...best.values()]
      .sort((x, y) => SHARED_INDICATOR_WEIGHT[y.kind] - SHARED_INDICATOR_WEIGHT[x.kind])
      .map((x) => `${KIND_LABEL[x.kind]}${x.kind === 'ip_range' || x.kind === 'asn' || x.kind === 'prompt_fingerprint' ? ` ${x.indicator.value}${x.requests > 1 ? ` (${x.requests} of ${requests} requests)` : ''}` : ''}`);
    return {
      detector: 'linkage',
      // The label (which the gateway's `indicator_match` reads) says the account itself matched
      // something of the actor's own; shared networks alone leave only the weight.
      label: [...best.keys()].some((k) => STRONG_SHARED_INDICATOR_KINDS.includes(k)) ? IMPORTED_INDICATOR_LABEL : null,
      code: 'imported_indicator',
      detail: `matches indicators shared by ${sources.join(', ')}: ${parts.join('; ')}${identities.length ? ` (attributed there to ${identities.join(', ')})` : ''}`,
      weight: 1 - p,
    };
  }

  /**
   * Attribution evidence for entity `entityId` over a cluster's members: the members that match
   * an indicator attributed to an identity screening to that entity. Only strong kinds count, so
   * a shared ASN or range never attributes; and a member counts only through something of the
   * actor's own (its device, card or mail domain) or two of its templates, because one template
   * can be a public one (a benchmark harness's) that an evaluator happens to share.
   */
  attributionEvidence(members: readonly string[], entityId: string, account: (id: string) => Account | undefined, requests: (id: string) => number): Reason | null {
    if (this.identityEntities.size === 0) return null;
    let strong = 0;
    const kinds = new Set<string>();
    const names = new Set<string>();
    for (const id of members) {
      const m = this.matches(account(id), id, requests(id)).filter(
        (x) => STRONG_SHARED_INDICATOR_KINDS.includes(x.kind) && x.indicator.identity && (this.identityEntities.get(x.indicator.identity) ?? []).includes(entityId),
      );
      const templates = m.filter((x) => x.kind === 'prompt_fingerprint').length;
      if (templates < 2 && !m.some((x) => x.kind !== 'prompt_fingerprint')) continue;
      strong++;
      for (const x of m) {
        kinds.add(KIND_LABEL[x.kind]);
        names.add(`${x.indicator.identity} (${x.indicator.source})`);
      }
    }
    if (strong === 0) return null;
    const share = strong / Math.max(1, members.length);
    return {
      code: 'imported_indicator',
      detail: `${strong} of ${members.length} members match indicators another provider attributed to ${[...names].join(', ')} (${[...kinds].sort().join(', ')})`,
      weight: Math.min(0.8, 0.5 + 0.3 * share),
    };
  }

  /** Plain data for checkpoints. */
  toJSON(): [string, EventHits][] {
    return [...this.hits];
  }
  restore(hits: readonly [string, EventHits][]): void {
    this.hits.clear();
    for (const [k, v] of hits) this.hits.set(k, v);
  }
}

/**
 * Indicators shared by another provider (imported from a STIX 2.1 bundle by `src/cases`), in the
 * one typed shape detection and the gateway read: what was seen, how sure the sender was, who sent
 * it and whom it points at. Not STIX objects: the cases part converts on import.
 */

export const SHARED_INDICATOR_KINDS = ['ip_range', 'asn', 'email_domain', 'payment_fingerprint', 'device_fingerprint', 'prompt_fingerprint'] as const;
export type SharedIndicatorKind = (typeof SHARED_INDICATOR_KINDS)[number];

export interface SharedIndicator {
  /** Stable id (the STIX indicator id). */
  id: string;
  kind: SharedIndicatorKind;
  /**
   * `ip_range`: a CIDR; `asn`: the AS number; `email_domain`: lower case; fingerprints: the
   * sender's stored value, or its SHA-256 (hex) when `hashed`; `prompt_fingerprint`: a `tpl`.
   */
  value: string | number;
  hashed: boolean;
  /** The sender's confidence, 0..1 (STIX `confidence` / 100; 0.5 when absent). */
  confidence: number;
  /** The sending provider's name. */
  source: string;
  /** Name of the identity the indicator is attributed to, when the bundle names one. */
  identity?: string;
  identity_aliases?: string[];
  /** ISO time after which the indicator is not used. */
  valid_until?: string;
}

/**
 * How much a match on one indicator of each kind says that an account belongs to the same
 * actor (before the sender's confidence). Things an actor keeps and others rarely share are
 * strong (its devices, cards, private prompt templates); things it shares with everybody on the
 * same network are weak (an ASN holds thousands of customers, a hosting /24 dozens). Why each
 * value: docs/detection.md, "Imported indicators".
 */
export const SHARED_INDICATOR_WEIGHT: Record<SharedIndicatorKind, number> = {
  asn: 0.1,
  ip_range: 0.2,
  email_domain: 0.4,
  prompt_fingerprint: 0.6,
  device_fingerprint: 0.75,
  payment_fingerprint: 0.75,
};

/** The kinds strong enough to attribute (with an identity that maps to a watchlist entity). */
export const STRONG_SHARED_INDICATOR_KINDS: readonly SharedIndicatorKind[] = ['email_domain', 'prompt_fingerprint', 'device_fingerprint', 'payment_fingerprint'];

/** The indicators still valid at `now` (ms). */
export function liveSharedIndicators(list: readonly SharedIndicator[], now: number): SharedIndicator[] {
  return list.filter((i) => !i.valid_until || !(Date.parse(i.valid_until) <= now));
}

/** One imported indicator a request matches, as the policy's `indicator_match` condition reads it. */
export interface IndicatorHit {
  kind: SharedIndicatorKind;
  confidence: number;
}

/** The detection label of an account that matched imported device, card, mail-domain or template indicators. */
export const IMPORTED_INDICATOR_LABEL = 'imported_indicator';

function ipv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return null;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function ipv6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return null;
  const [head = '', tail] = s.split('::') as [string, string | undefined];
  const part = (x: string) => (x === '' ? [] : x.split(':'));
  const groups = (xs: string[]): number[] | null => {
    const out: number[] = [];
    for (const [i, g] of xs.entries()) {
      if (i === xs.length - 1 && g.includes('.')) {
        const v4 = ipv4(g);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return null;
    }
    return out;
  };
  const h = groups(part(head));
  const t = tail === undefined ? [] : groups(part(tail));
  if (!h || !t) return null;
  const fill = 8 - h.length - t.length;
  if (tail === undefined ? fill !== 0 : fill < 1) return null;
  let x = 0n;
  for (const g of [...h, ...new Array<number>(fill).fill(0), ...t]) x = (x << 16n) | BigInt(g);
  return x;
}

/**
 * Matches requests against imported network indicators (`ip_range`, `asn`) at request time, and
 * adds the account's own matches as detection labelled them (`imported_indicator`: a device,
 * card, mail-domain or template indicator, at the strongest such kind's confidence). Pure; for
 * the policy's `indicator_match` condition. Expired indicators are dropped at construction.
 */
export function createIndicatorMatcher(list: readonly SharedIndicator[], now: number): { readonly size: number; hits(ip: string | undefined, asn: number | undefined, accountLabels: readonly string[] | undefined): IndicatorHit[] } {
  const live = liveSharedIndicators(list, now);
  const v4: { start: number; end: number; c: number }[] = [];
  const v6: { start: bigint; end: bigint; c: number }[] = [];
  const asns = new Map<number, number>();
  let accountConfidence = 0;
  for (const i of live) {
    if (i.kind === 'asn') asns.set(Number(i.value), Math.max(asns.get(Number(i.value)) ?? 0, i.confidence));
    else if (i.kind === 'ip_range') {
      const [addr = '', lenText] = String(i.value).split('/');
      const a4 = ipv4(addr);
      if (a4 !== null) {
        const size = 2 ** (32 - (lenText === undefined ? 32 : Math.min(32, Number(lenText))));
        const start = a4 - (a4 % size);
        v4.push({ start, end: start + size - 1, c: i.confidence });
        continue;
      }
      const a6 = ipv6(addr);
      if (a6 === null) continue;
      const mask = (1n << BigInt(128 - (lenText === undefined ? 128 : Math.min(128, Number(lenText))))) - 1n;
      v6.push({ start: a6 & ~mask, end: (a6 & ~mask) | mask, c: i.confidence });
    } else if (STRONG_SHARED_INDICATOR_KINDS.includes(i.kind)) accountConfidence = Math.max(accountConfidence, i.confidence);
  }
  const accountKinds = [...new Set(live.filter((i) => STRONG_SHARED_INDICATOR_KINDS.includes(i.kind)).map((i) => i.kind))];
  return {
    size: live.length,
    hits(ip, asn, labels) {
      const out: IndicatorHit[] = [];
      if (ip && (v4.length || v6.length)) {
        let best = -1;
        const a4 = v4.length ? ipv4(ip) : null;
        if (a4 !== null) for (const r of v4) if (a4 >= r.start && a4 <= r.end && r.c > best) best = r.c;
        if (a4 === null && v6.length && ip.includes(':')) {
          const a6 = ipv6(ip);
          if (a6 !== null) for (const r of v6) if (a6 >= r.start && a6 <= r.end && r.c > best) best = r.c;
        }
        if (best >= 0) out.push({ kind: 'ip_range', confidence: best });
      }
      if (asn !== undefined) {
        const c = asns.get(asn);
        if (c !== undefined) out.push({ kind: 'asn', confidence: c });
      }
      if (labels?.includes(IMPORTED_INDICATOR_LABEL)) for (const kind of accountKinds) out.push({ kind, confidence: accountConfidence });
      return out;
    },
  };
}

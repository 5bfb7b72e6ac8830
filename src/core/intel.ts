/**
 * What the intelligence part answers: where an address is and what kind of network it is,
 * and whether a party is on a sanctions list or a watchlist. Implemented in `src/intel`.
 */

export const NETWORK_TYPES = ['hosting', 'residential', 'mobile', 'education', 'business', 'unknown'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

export type AnonymizerKind = 'vpn' | 'tor' | 'proxy';

export interface IpInfo {
  ip: string;
  /** ISO alpha-2, or undefined where no source knows. */
  country?: string;
  asn?: number;
  as_org?: string;
  network_type: NetworkType;
  anonymizers: AnonymizerKind[];
  /** Labels from custom networks in the config (e.g. `adversary:example-conglomerate`). */
  labels: string[];
  /** One line per source that contributed, saying what it said (for `warden intel ip`). */
  why: string[];
}

export interface IpIntel {
  /** Must be fast (µs): it runs on every request. Throws `INPUT_INVALID` for a malformed address. */
  lookup(ip: string): IpInfo;
  /** Each data source with its age, for start-up reporting. */
  sources(): IntelSource[];
}

export interface IntelSource {
  name: string;
  licence: string;
  /** Date the data was published or fetched (RFC 3339 date). */
  date: string;
  entries: number;
}

/**
 * Network sampling for the simulator: real ranges from the same databases.
 * `pick` draws a uniform integer in [0, n).
 */
export interface NetworkSampler {
  sampleAddress(
    filter: { country?: string; asn?: number; network_type?: NetworkType; anonymizer?: AnonymizerKind },
    pick: (n: number) => number,
  ): string | null;
  /** ASNs matching a filter, with their organisation names. */
  listAsns(filter: { country?: string; network_type?: NetworkType }): { asn: number; as_org: string }[];
}

export interface ScreeningQuery {
  name: string;
  aliases?: string[];
  domains?: string[];
  owners?: { name: string; country?: string; share: number; org_id?: string }[];
  country?: string;
}

export interface ScreeningHit {
  /** `ofac-sdn:1234`, or a watchlist entity id. */
  entity_id: string;
  entity_name: string;
  list: string;
  kind: 'sanctioned' | 'competitor' | 'restricted';
  score: number;
  /** What matched: `name "Alibaba Cloud" ~ alias "Alibaba Cloud" (tokens alibaba cloud, 1.00)`. */
  explanation: string;
  matched_on: 'name' | 'alias' | 'native_name' | 'domain' | 'subsidiary' | 'owner' | 'ownership';
}

export interface ScreeningResult {
  status: 'clear' | 'hit' | 'restricted_ownership';
  hits: ScreeningHit[];
  /** Share owned by restricted parties (the 50% rule), when owners were declared. */
  restricted_ownership_share?: number;
  screened_at: string;
  lists_version: string;
}

export interface Screener {
  /**
   * `resolveOrg` turns an owner's `org_id` into that org's own query, so ownership through
   * other orgs counts toward the 50% rule.
   */
  screen(query: ScreeningQuery, opts?: { resolveOrg?: (orgId: string) => ScreeningQuery | undefined }): ScreeningResult;
}

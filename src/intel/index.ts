/**
 * @module intel
 * IP and network intelligence and entity screening. `openIpIntel` answers, in about a
 * microsecond, what an address is (country, ASN and organisation, network type, anonymizer
 * markers, custom labels) from the ip-location-db npm databases, the shipped datacenter/VPN/Tor
 * lists and the operator's custom networks, and samples real addresses for the simulator.
 * `createScreener` screens an organisation (names in any script, domains, declared owners) against
 * the OFAC and US export-control lists and a watchlist, with an explanation per hit and the 50%
 * ownership rule. The CLI calls the formatters, `intelUpdate`, `intelLoad` and `sourceWarnings`.
 */
export { IntelConfig, CustomNetwork, parseIntelConfig, type IntelConfigInput } from './config.js';
export { openIpIntel, type OpenIpIntelOptions, type OpenedIpIntel, type IpIntelStats, type AsnInfo } from './ip-intel.js';
export { NETWORK_RULES, classifyAsOrg, type NetworkRule } from './network-rules.js';
export {
  createScreener,
  DEFAULT_THRESHOLD,
  MAX_NAME_LENGTH,
  type CreateScreenerOptions,
  type OpenedScreener,
  type ScreenOptions,
  type NameMatch,
} from './screener.js';
export { loadSanctionsLists, type ListEntity, type LoadedLists } from './sanctions-lists.js';
export { loadWatchlist, parseWatchlist } from './watchlist.js';
export { normalizeName, normalizeDomain, type NormalizedName } from './normalize.js';
export { jaroWinkler } from './jaro-winkler.js';
export { describeIp, formatScreening, formatSources } from './format.js';
export {
  intelUpdate,
  intelLoad,
  sourceWarnings,
  detectListKind,
  LIST_KINDS,
  MAX_SOURCE_AGE_DAYS,
  type ListKind,
  type LoadResult,
  type UpdateResult,
  type ExecFn,
} from './sources.js';

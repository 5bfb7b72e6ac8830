/**
 * IP intelligence: country, ASN, AS organisation, network type and anonymizer markers for any
 * IPv4 or IPv6 address, from the ip-location-db npm databases, the shipped datacenter/VPN/Tor
 * lists and the operator's custom networks (which override them). Also the simulator's sampler.
 */
import { join } from 'node:path';
import {
  WardenError,
  type AnonymizerKind,
  type IntelSource,
  type IpInfo,
  type IpIntel,
  type NetworkSampler,
  type NetworkType,
  type Watchlist,
} from '../core/index.js';
import { parseIntelConfig, type IntelConfigInput } from './config.js';
import { formatIPv4, formatIPv6, invalidIp, parseCidr, parseIPv4, parseIPv6, wordsToBigInt } from './ip-address.js';
import { classifyAsOrg, type RuleVerdict } from './network-rules.js';
import { buildV4, buildV6, type RangeTableV4, type RangeTableV6, type RangeV4, type RangeV6 } from './range-table.js';
import { npmDb, ownCopy, readListText, resolveList, sourceWarnings, type ListKind, type ResolvedList } from './sources.js';

export interface OpenIpIntelOptions extends IntelConfigInput {
  /** Networks a watchlist entity operates (`asns`) get the label `watchlist:<entity id>`. */
  watchlist?: Watchlist;
  /** Read databases from here instead of node_modules (tests). */
  dbDirs?: { asn?: string; geo?: string };
}

export interface IpIntelStats {
  loadMs: number;
  /** Bytes held by the typed arrays of the range tables. */
  tableBytes: number;
  ranges: Record<string, number>;
  asns: number;
}

export interface AsnInfo {
  asn: number;
  as_org: string;
  country?: string;
  network_type: NetworkType;
  /** Why the network type: the list or rule that decided. */
  type_source: string;
}

/** What `openIpIntel` returns: the lookup port, the sampler and a few extras for the CLI. */
export interface OpenedIpIntel extends IpIntel, NetworkSampler {
  /** Like `lookup`, with address ranges in `why` (slower; for `warden intel ip`). */
  explain(ip: string): IpInfo;
  asnInfo(asn: number): AsnInfo | undefined;
  stats(): IpIntelStats;
  /** Warnings for sources older than the configured age limit. */
  warnings(now?: Date): string[];
}

interface CustomEntry {
  label: string;
  /** The one ASN of a network given as ranges plus a single ASN: its ranges' origin. */
  asn?: number;
  network_type?: NetworkType;
  country?: string;
  anonymizer?: AnonymizerKind;
  text: string;
}

/** Reads ip-location-db num CSV rows: `start,end,value[,org]` with the org maybe quoted. */
function eachCsvRow(text: string, fn: (a: string, b: string, c: string, d: string) => void): void {
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = n;
    if (nl > pos) {
      const c1 = text.indexOf(',', pos);
      const c2 = text.indexOf(',', c1 + 1);
      let c3 = text.indexOf(',', c2 + 1);
      if (c3 < 0 || c3 > nl) c3 = nl;
      let end = nl;
      if (text.charCodeAt(end - 1) === 13) end--;
      let d = c3 < end ? text.slice(c3 + 1, end) : '';
      if (d.charCodeAt(0) === 34) d = d.slice(1, d.endsWith('"') ? -1 : undefined).replace(/""/g, '"');
      fn(text.slice(pos, c1), text.slice(c1 + 1, c2), text.slice(c2 + 1, c3 < end ? c3 : end), d);
    }
    pos = nl + 1;
  }
}

function listLines(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l && !l.startsWith('#')) out.push(l);
  }
  return out;
}

/** `AS1234 # name` lines → map of ASN to name. */
function parseAsnList(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of listLines(text)) {
    const r = /^AS(\d+)\s*(?:#\s*(.*))?$/i.exec(l);
    if (r) m.set(Number(r[1]), ownCopy((r[2] ?? '').trim()));
  }
  return m;
}

function cidrTables(text: string, value: number): { v4: RangeV4[]; v6: RangeV6[] } {
  const v4: RangeV4[] = [];
  const v6: RangeV6[] = [];
  for (const l of listLines(text)) {
    const c = parseCidr(l);
    if (!c) continue;
    if (c.v === 4) v4.push({ s: c.start, e: c.end, v: value });
    else v6.push({ s: c.start, e: c.end, v: value });
  }
  return { v4, v6 };
}

/** Opens the databases and lists; takes about a second or two. */
export function openIpIntel(options: OpenIpIntelOptions = {}): OpenedIpIntel {
  const { dbDirs, watchlist, ...configInput } = options;
  const config = parseIntelConfig(configInput);
  const t0 = performance.now();

  const asnDb = npmDb('@ip-location-db/asn');
  const geoDb = npmDb('@ip-location-db/geo-whois-asn-country');
  const asnDir = dbDirs?.asn ?? asnDb.dir;
  const geoDir = dbDirs?.geo ?? geoDb.dir;

  // ASN database.
  const asnOrg = new Map<number, string>();
  const asnV4: RangeV4[] = [];
  eachCsvRow(readListText(join(asnDir, 'asn-ipv4-num.csv')), (a, b, c, d) => {
    const asn = Number(c);
    asnV4.push({ s: Number(a), e: Number(b), v: asn });
    if (!asnOrg.has(asn)) asnOrg.set(asn, ownCopy(d));
  });
  const asnTableV4 = buildV4(asnV4);
  asnV4.length = 0;

  // Country database.
  const countries: string[] = [];
  const countryIdx = new Map<string, number>();
  const cc = (c: string): number => {
    let i = countryIdx.get(c);
    if (i === undefined) {
      i = countries.length;
      countries.push(c);
      countryIdx.set(c, i);
    }
    return i;
  };
  const geoV4: RangeV4[] = [];
  eachCsvRow(readListText(join(geoDir, 'geo-whois-asn-country-ipv4-num.csv')), (a, b, c) => {
    geoV4.push({ s: Number(a), e: Number(b), v: cc(c.trim()) });
  });
  const geoTableV4 = buildV4(geoV4);
  geoV4.length = 0;

  let asnTableV6: RangeTableV6 = buildV6([]);
  let geoTableV6: RangeTableV6 = buildV6([]);
  if (config.ipv6) {
    const asnV6: RangeV6[] = [];
    eachCsvRow(readListText(join(asnDir, 'asn-ipv6-num.csv')), (a, b, c, d) => {
      const asn = Number(c);
      asnV6.push({ s: BigInt(a), e: BigInt(b), v: asn });
      if (!asnOrg.has(asn)) asnOrg.set(asn, ownCopy(d));
    });
    asnTableV6 = buildV6(asnV6);
    const geoV6: RangeV6[] = [];
    eachCsvRow(readListText(join(geoDir, 'geo-whois-asn-country-ipv6-num.csv')), (a, b, c) => {
      geoV6.push({ s: BigInt(a), e: BigInt(b), v: cc(c.trim()) });
    });
    geoTableV6 = buildV6(geoV6);
  }

  // Shipped (or loaded) lists.
  const lists = new Map<ListKind, ResolvedList & { entries: number }>();
  const readList = (kind: ListKind): string => {
    const r = resolveList(kind, config.dataDir);
    const text = readListText(r.file);
    lists.set(kind, { ...r, entries: listLines(text).length });
    return text;
  };
  const dcX4b = cidrTables(readList('datacenter-ipv4'), 0);
  dcX4b.v6.push(...cidrTables(readList('datacenter-ipv6'), 0).v6);
  const dcX4bV4 = buildV4(dcX4b.v4);
  const dcX4bV6 = buildV6(dcX4b.v6);
  const vpnR = cidrTables(readList('vpn-ipv4'), 0);
  vpnR.v6.push(...cidrTables(readList('vpn-ipv6'), 0).v6);
  const vpnV4 = buildV4(vpnR.v4);
  const vpnV6 = buildV6(vpnR.v6);
  const dcAsns = parseAsnList(readList('datacenter-asn'));
  const vpnAsns = parseAsnList(readList('vpn-asn'));
  const ipcatNames: string[] = [];
  const ipcatRanges: RangeV4[] = [];
  for (const l of listLines(readList('ipcat'))) {
    const [a, b, name] = l.split(',');
    const s = parseIPv4(a ?? '');
    const e = parseIPv4(b ?? '');
    if (s < 0 || e < s) continue;
    ipcatNames.push(ownCopy(name ?? ''));
    ipcatRanges.push({ s, e, v: ipcatNames.length - 1 });
  }
  const ipcatV4 = buildV4(ipcatRanges);
  const torV4 = new Set<number>();
  const torV6 = new Set<string>();
  {
    const w = new Uint32Array(4);
    for (const l of listLines(readList('tor'))) {
      const v4 = parseIPv4(l);
      if (v4 >= 0) torV4.add(v4);
      else if (parseIPv6(l, w)) torV6.add(`${w[0]},${w[1]},${w[2]},${w[3]}`);
    }
  }

  // Custom networks override the databases.
  const custom: CustomEntry[] = [];
  const customV4: { s: number; e: number; i: number }[] = [];
  const customV6: { s: bigint; e: bigint; i: number }[] = [];
  const customAsn = new Map<number, number[]>();
  const watched = (watchlist?.entities ?? [])
    .filter((e) => e.asns.length > 0)
    .map((e) => ({ label: `watchlist:${e.id}`, cidrs: [] as string[], asns: e.asns, network_type: undefined, country: undefined, anonymizer: undefined }));
  for (const n of [...config.customNetworks, ...watched]) {
    const i = custom.length;
    custom.push({
      label: n.label,
      network_type: n.network_type,
      country: n.country,
      anonymizer: n.anonymizer,
      ...(n.cidrs.length > 0 && n.asns.length === 1 ? { asn: n.asns[0]! } : {}),
      text: [...n.cidrs, ...n.asns.map((a) => `AS${a}`)].join(', '),
    });
    for (const c of n.cidrs) {
      const p = parseCidr(c)!;
      if (p.v === 4) customV4.push({ s: p.start, e: p.end, i });
      else customV6.push({ s: p.start, e: p.end, i });
    }
    for (const a of n.asns) customAsn.set(a, [...(customAsn.get(a) ?? []), i]);
  }
  // Narrower ranges first, so that a more specific custom network's type and country win.
  customV4.sort((a, b) => a.e - a.s - (b.e - b.s));
  customV6.sort((a, b) => (a.e - a.s < b.e - b.s ? -1 : 1));

  const loadMs = performance.now() - t0;

  const ruleCache = new Map<number, RuleVerdict>();
  const asnRule = (asn: number): RuleVerdict => {
    let r = ruleCache.get(asn);
    if (r === undefined) {
      r = classifyAsOrg(asnOrg.get(asn));
      ruleCache.set(asn, r);
    }
    return r;
  };

  const scratch = new Uint32Array(4);
  const explainShort = (ip: string): string[] => resolve(ip, false, true).why;
  const asnDate = asnDb.date;

  function resolve(ip: string, detailed: boolean, withWhy: boolean): IpInfo {
    if (typeof ip !== 'string' || ip.length === 0 || ip.length > 45) throw invalidIp(ip);
    let v4 = parseIPv4(ip);
    let v6 = false;
    if (v4 < 0) {
      if (!parseIPv6(ip, scratch)) throw invalidIp(ip);
      if (scratch[0] === 0 && scratch[1] === 0 && scratch[2] === 0xffff) v4 = scratch[3]!;
      else v6 = true;
    }
    // Building the explanation costs more than the lookup itself: `lookup` defers it (LazyIpInfo).
    const why: string[] | null = withWhy ? [] : null;
    const anonymizers: AnonymizerKind[] = [];
    const labels: string[] = [];
    let asn: number | undefined;
    let country: string | undefined;
    let networkType: NetworkType = 'unknown';
    let typeWhy: string | undefined;
    const range = (s: string, e: string): string => (detailed ? ` [${s} – ${e}]` : '');

    const ai = v6 ? asnTableV6.find(scratch) : asnTableV4.find(v4);
    if (ai >= 0) {
      asn = v6 ? asnTableV6.values[ai]! : asnTableV4.values[ai]!;
      why?.push(
        `AS${asn} ${asnOrg.get(asn) ?? ''} from @ip-location-db/asn (${asnDate})${
          detailed ? (v6 ? range(formatBig(asnTableV6.startOf(ai)), formatBig(asnTableV6.endOf(ai))) : range(formatIPv4(asnTableV4.starts[ai]!), formatIPv4(asnTableV4.ends[ai]!))) : ''
        }`,
      );
    }
    const gi = v6 ? geoTableV6.find(scratch) : geoTableV4.find(v4);
    if (gi >= 0) {
      country = countries[v6 ? geoTableV6.values[gi]! : geoTableV4.values[gi]!];
      why?.push(
        `country ${country} from @ip-location-db/geo-whois-asn-country (${geoDb.date})${
          detailed ? (v6 ? range(formatBig(geoTableV6.startOf(gi)), formatBig(geoTableV6.endOf(gi))) : range(formatIPv4(geoTableV4.starts[gi]!), formatIPv4(geoTableV4.ends[gi]!))) : ''
        }`,
      );
    }

    // Real lists first: datacenter ranges and ASNs say hosting.
    const dci = v6 ? dcX4bV6.find(scratch) : dcX4bV4.find(v4);
    if (dci >= 0) {
      networkType = 'hosting';
      typeWhy = !withWhy ? '' : `hosting: in the X4BNet datacenter list${
        detailed ? (v6 ? range(formatBig(dcX4bV6.startOf(dci)), formatBig(dcX4bV6.endOf(dci))) : range(formatIPv4(dcX4bV4.starts[dci]!), formatIPv4(dcX4bV4.ends[dci]!))) : ''
      }`;
    } else if (!v6) {
      const ci = ipcatV4.find(v4);
      if (ci >= 0) {
        networkType = 'hosting';
        typeWhy = !withWhy ? '' : `hosting: ipcat lists it as ${ipcatNames[ipcatV4.values[ci]!]}${range(formatIPv4(ipcatV4.starts[ci]!), formatIPv4(ipcatV4.ends[ci]!))}`;
      }
    }
    if (typeWhy === undefined && asn !== undefined) {
      const dcName = dcAsns.get(asn);
      if (dcName !== undefined) {
        networkType = 'hosting';
        typeWhy = !withWhy ? '' : `hosting: AS${asn} is in the X4BNet datacenter ASN list${dcName ? ` (${dcName})` : ''}`;
      } else {
        const r = asnRule(asn);
        if (r.rule !== null) {
          networkType = r.type;
          typeWhy = !withWhy ? '' : `${r.type}: AS organisation name matches rule "${r.rule}"`;
        }
      }
    }

    // Anonymizers.
    const vi = v6 ? vpnV6.find(scratch) : vpnV4.find(v4);
    if (vi >= 0) {
      anonymizers.push('vpn');
      why?.push(`vpn: in the X4BNet VPN list${detailed ? (v6 ? range(formatBig(vpnV6.startOf(vi)), formatBig(vpnV6.endOf(vi))) : range(formatIPv4(vpnV4.starts[vi]!), formatIPv4(vpnV4.ends[vi]!))) : ''}`);
    } else if (asn !== undefined && vpnAsns.has(asn)) {
      anonymizers.push('vpn');
      why?.push(`vpn: AS${asn} is in the X4BNet VPN provider ASN list (${vpnAsns.get(asn)})`);
    }
    if (v6 ? torV6.size > 0 && torV6.has(`${scratch[0]},${scratch[1]},${scratch[2]},${scratch[3]}`) : torV4.has(v4)) {
      anonymizers.push('tor');
      why?.push(`tor: a Tor exit node in the exit list (${lists.get('tor')?.date ?? ''})`);
    }

    // Custom networks override.
    if (customV4.length > 0 || customV6.length > 0 || customAsn.size > 0) {
      const hits: number[] = [];
      if (!v6) {
        for (const c of customV4) if (v4 >= c.s && v4 <= c.e) hits.push(c.i);
      } else if (customV6.length > 0) {
        const x = wordsToBigInt(scratch);
        for (const c of customV6) if (x >= c.s && x <= c.e) hits.push(c.i);
      }
      // Ranges the databases do not route (documentation ranges, private infrastructure) take
      // the custom network's own ASN, so lookups and simulated events agree.
      if (asn === undefined) {
        for (const i of hits) {
          const a = custom[i]!.asn;
          if (a !== undefined) {
            asn = a;
            why?.push(`AS${a}: the ASN of custom network "${custom[i]!.label}" (the databases route no AS for this range)`);
            break;
          }
        }
      }
      if (asn !== undefined) for (const i of customAsn.get(asn) ?? []) if (!hits.includes(i)) hits.push(i);
      // Applied in reverse so that the first (most specific range) hit has the last word.
      for (let k = hits.length - 1; k >= 0; k--) {
        const c = custom[hits[k]!]!;
        if (c.network_type) {
          networkType = c.network_type;
          typeWhy = !withWhy ? '' : `${c.network_type}: custom network "${c.label}" (${c.text}) in the config`;
        }
        if (c.country) country = c.country;
        if (c.anonymizer && !anonymizers.includes(c.anonymizer)) anonymizers.push(c.anonymizer);
      }
      for (const i of hits) {
        const c = custom[i]!;
        if (!labels.includes(c.label)) {
          labels.push(c.label);
          why?.push(`custom network "${c.label}" (${c.text}) in the config`);
        }
      }
    }
    if (why) {
      if (typeWhy !== undefined) why.push(typeWhy);
      else why.push('network type unknown: in no datacenter list, and no rule matches the AS organisation name');
    }

    const info: IpInfo = why ? { ip, network_type: networkType, anonymizers, labels, why } : new LazyIpInfo(ip, networkType, anonymizers, labels, explainShort);
    if (country !== undefined) info.country = country;
    if (asn !== undefined) {
      info.asn = asn;
      info.as_org = asnOrg.get(asn) ?? '';
    }
    return info;
  }

  const sourceList = (): IntelSource[] => [
    {
      name: `${asnDb.name}@${asnDb.version}`,
      licence: asnDb.licence,
      date: asnDb.date,
      entries: asnTableV4.size + asnTableV6.size,
    },
    {
      name: `${geoDb.name}@${geoDb.version}`,
      licence: geoDb.licence,
      date: geoDb.date,
      entries: geoTableV4.size + geoTableV6.size,
    },
    ...[...lists.values()].map((l) => ({
      name: l.origin === 'loaded' ? `${l.name} (loaded: ${l.file})` : l.name,
      licence: l.licence,
      date: l.date,
      entries: l.entries,
    })),
  ];

  // --- Sampler ---
  let asnCountry: Map<number, string> | null = null;
  const countryOfAsn = (asn: number): string | undefined => {
    if (!asnCountry) {
      const weights = new Map<number, Map<number, number>>();
      const t = asnTableV4;
      for (let i = 0; i < t.size; i++) {
        const g = geoTableV4.get(t.starts[i]!);
        if (g < 0) continue;
        const a = t.values[i]!;
        let m = weights.get(a);
        if (!m) weights.set(a, (m = new Map()));
        m.set(g, (m.get(g) ?? 0) + (t.ends[i]! - t.starts[i]! + 1));
      }
      asnCountry = new Map();
      for (const [a, m] of weights) {
        let best = -1;
        let bw = -1;
        for (const [g, w] of m) if (w > bw) ((bw = w), (best = g));
        asnCountry.set(a, countries[best]!);
      }
    }
    return asnCountry.get(asn);
  };

  const asnType = (asn: number): { type: NetworkType; source: string } => {
    const custom = customAsn.get(asn);
    if (custom) {
      for (const i of custom) {
        const t = customAsnTypeOf(i);
        if (t) return t;
      }
    }
    if (dcAsns.has(asn)) return { type: 'hosting', source: 'X4BNet datacenter ASN list' };
    const r = asnRule(asn);
    return { type: r.type, source: r.rule ? `rule "${r.rule}"` : 'no rule matches' };
  };
  const customAsnTypeOf = (i: number): { type: NetworkType; source: string } | null => {
    const c = custom[i]!;
    return c.network_type ? { type: c.network_type, source: `custom network "${c.label}"` } : null;
  };

  type Filter = Parameters<NetworkSampler['sampleAddress']>[0];
  const candidateCache = new Map<string, { s: Uint32Array; e: Uint32Array }>();
  const matches = (info: IpInfo, f: Filter): boolean =>
    (f.country === undefined || info.country === f.country) &&
    (f.asn === undefined || info.asn === f.asn) &&
    (f.network_type === undefined || info.network_type === f.network_type) &&
    (f.anonymizer === undefined || info.anonymizers.includes(f.anonymizer));

  const candidates = (f: Filter): { s: Uint32Array; e: Uint32Array } => {
    const key = JSON.stringify([f.country, f.asn, f.network_type, f.anonymizer]);
    const hit = candidateCache.get(key);
    if (hit) return hit;
    const s: number[] = [];
    const e: number[] = [];
    const consider = (a: number, b: number): void => {
      const info = resolve(formatIPv4(a), false, false);
      if (matches(info, f)) {
        s.push(a);
        e.push(b);
      }
    };
    if (f.anonymizer === 'tor') {
      for (const ip of torV4) consider(ip, ip);
    } else if (f.anonymizer === 'vpn') {
      for (let i = 0; i < vpnV4.size; i++) consider(vpnV4.starts[i]!, vpnV4.ends[i]!);
    } else if (f.anonymizer === 'proxy') {
      for (const c of customV4) consider(c.s, c.e);
      for (const [asn, idxs] of customAsn) {
        if (!idxs.some((i) => custom[i]!.anonymizer === 'proxy')) continue;
        for (let i = 0; i < asnTableV4.size; i++) if (asnTableV4.values[i] === asn) consider(asnTableV4.starts[i]!, asnTableV4.ends[i]!);
      }
    } else if (f.asn !== undefined) {
      for (let i = 0; i < asnTableV4.size; i++) if (asnTableV4.values[i] === f.asn) consider(asnTableV4.starts[i]!, asnTableV4.ends[i]!);
      for (const c of customV4) consider(c.s, c.e);
    } else if (f.country !== undefined) {
      const want = countryIdx.get(f.country);
      if (want !== undefined)
        for (let i = 0; i < geoTableV4.size; i++) if (geoTableV4.values[i] === want) consider(geoTableV4.starts[i]!, geoTableV4.ends[i]!);
    } else {
      for (let i = 0; i < asnTableV4.size; i++) {
        if (f.network_type !== undefined && asnType(asnTableV4.values[i]!).type !== f.network_type && f.network_type !== 'hosting') continue;
        consider(asnTableV4.starts[i]!, asnTableV4.ends[i]!);
      }
    }
    const out = { s: Uint32Array.from(s), e: Uint32Array.from(e) };
    candidateCache.set(key, out);
    return out;
  };

  const api: OpenedIpIntel = {
    lookup: (ip) => resolve(ip, false, false),
    explain: (ip) => resolve(ip, true, true),
    sources: sourceList,
    warnings: (now = new Date()) => sourceWarnings(now, { sources: sourceList(), maxAgeDays: config.maxSourceAgeDays }),
    stats: () => ({
      loadMs,
      tableBytes:
        asnTableV4.bytes() +
        asnTableV6.bytes() +
        geoTableV4.bytes() +
        geoTableV6.bytes() +
        dcX4bV4.bytes() +
        dcX4bV6.bytes() +
        vpnV4.bytes() +
        vpnV6.bytes() +
        ipcatV4.bytes(),
      ranges: {
        asn_v4: asnTableV4.size,
        asn_v6: asnTableV6.size,
        country_v4: geoTableV4.size,
        country_v6: geoTableV6.size,
        datacenter_v4: dcX4bV4.size + ipcatV4.size,
        datacenter_v6: dcX4bV6.size,
        vpn_v4: vpnV4.size,
        vpn_v6: vpnV6.size,
        tor: torV4.size + torV6.size,
        custom: customV4.length + customV6.length + customAsn.size,
      },
      asns: asnOrg.size,
    }),
    asnInfo(asn) {
      const org = asnOrg.get(asn);
      if (org === undefined) return undefined;
      const t = asnType(asn);
      const info: AsnInfo = { asn, as_org: org, network_type: t.type, type_source: t.source };
      const c = countryOfAsn(asn);
      if (c !== undefined) info.country = c;
      return info;
    },
    sampleAddress(filter, pick) {
      if (filter.country !== undefined && !/^[A-Z]{2}$/.test(filter.country)) {
        throw new WardenError('INPUT_INVALID', `country filter "${filter.country}": use an ISO 3166-1 alpha-2 code in upper case, such as "SG".`);
      }
      const c = candidates(filter);
      if (c.s.length === 0) return null;
      for (let attempt = 0; attempt < 16; attempt++) {
        const i = pick(c.s.length);
        const size = c.e[i]! - c.s[i]! + 1;
        const ip = formatIPv4(c.s[i]! + (size > 1 ? pick(size) : 0));
        if (matches(resolve(ip, false, false), filter)) return ip;
      }
      return null;
    },
    listAsns(filter) {
      const out: { asn: number; as_org: string }[] = [];
      for (const [asn, org] of asnOrg) {
        if (filter.network_type !== undefined && asnType(asn).type !== filter.network_type) continue;
        if (filter.country !== undefined && countryOfAsn(asn) !== filter.country) continue;
        out.push({ asn, as_org: org });
      }
      return out.sort((a, b) => a.asn - b.asn);
    },
  };
  return api;
}

function formatBig(x: bigint): string {
  const w = new Uint32Array(4);
  w[0] = Number((x >> 96n) & 0xffffffffn);
  w[1] = Number((x >> 64n) & 0xffffffffn);
  w[2] = Number((x >> 32n) & 0xffffffffn);
  w[3] = Number(x & 0xffffffffn);
  return formatIPv6(w);
}

/**
 * An `IpInfo` whose `why` is computed on first read (by looking the address up again with
 * explanations): the hot path never pays for the strings. Serialises with `why` included.
 */
class LazyIpInfo implements IpInfo {
  country?: string;
  asn?: number;
  as_org?: string;
  #why: string[] | undefined;
  readonly #explain: (ip: string) => string[];
  constructor(
    readonly ip: string,
    public network_type: NetworkType,
    public anonymizers: AnonymizerKind[],
    public labels: string[],
    explain: (ip: string) => string[],
  ) {
    this.#explain = explain;
  }
  get why(): string[] {
    return (this.#why ??= this.#explain(this.ip));
  }
  set why(v: string[]) {
    this.#why = v;
  }
  toJSON(): IpInfo {
    const o: IpInfo = { ip: this.ip, network_type: this.network_type, anonymizers: this.anonymizers, labels: this.labels, why: this.why };
    if (this.country !== undefined) o.country = this.country;
    if (this.asn !== undefined) o.asn = this.asn;
    if (this.as_org !== undefined) o.as_org = this.as_org;
    return o;
  }
}

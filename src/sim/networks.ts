/**
 * Real networks for simulated clients: every address is drawn through the intel part's
 * `NetworkSampler` (real ASN and country databases), except the fictional custom networks a
 * scenario declares (documentation ranges such as 203.0.113.0/24), drawn from their CIDR here.
 */
import { ConfigError, type IpIntel, type NetworkSampler, type NetworkType } from '../core/index.js';
import type { Rng } from './rng.js';
import type { CustomNetwork } from './scenario.js';

/** Where a request comes from, as the gateway would resolve it. */
export interface Egress {
  ip: string;
  asn?: number;
  country?: string;
}

/** The sampler, optionally with `lookup` (openIpIntel returns both) to resolve anonymizer samples. */
export type SimSampler = NetworkSampler & Partial<Pick<IpIntel, 'lookup'>>;

export interface NetSpec {
  country?: string;
  network_type?: NetworkType;
  asn?: number;
}

/**
 * International transit carriers: the databases place many of their small ranges in every
 * country, so a range-weighted draw lands on them often, but no household or office connects
 * through them. Draws for residential, mobile, business and education networks skip them.
 */
const TRANSIT_ASNS = new Set([174, 1273, 1299, 2914, 3257, 3356, 3491, 4637, 5511, 6453, 6461, 6762, 6830, 6939, 7473, 9002, 12956]);

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export class NetPicker {
  private readonly asnCache = new Map<string, { asn: number; as_org: string }[]>();
  constructor(
    private readonly sampler: SimSampler,
    private readonly custom: readonly CustomNetwork[],
  ) {}

  /** Real ASNs for a filter, relaxing the network type and then the country when nothing matches. */
  asns(spec: { country?: string; network_type?: NetworkType }): { asn: number; as_org: string }[] {
    const key = `${spec.country ?? ''}|${spec.network_type ?? ''}`;
    let hit = this.asnCache.get(key);
    if (!hit) {
      hit = this.sampler.listAsns(spec).filter((a) => !this.custom.some((c) => c.asns.includes(a.asn)));
      this.asnCache.set(key, hit);
    }
    return hit;
  }

  /**
   * Filters to try in turn: the country is kept before the network type, except for
   * datacenters (a server can sit anywhere, a home connection cannot).
   */
  private relaxations(country: string | undefined, type: NetworkType | undefined): { country?: string; network_type?: NetworkType }[] {
    const both = { ...(country ? { country } : {}), ...(type ? { network_type: type } : {}) };
    const c = country ? { country } : {};
    const t = type ? { network_type: type } : {};
    return type === 'hosting' ? [both, t, c] : [both, c, t];
  }

  /** Picks one real ASN for a country and network type (for samplers without `lookup`). */
  pickAsn(rng: Rng, country: string | undefined, type: NetworkType | undefined): number | undefined {
    for (const f of this.relaxations(country, type)) {
      const list = this.asns(f);
      if (list.length > 0) return rng.pick(list).asn;
    }
    return undefined;
  }

  /** An address in a custom network with `asn`, or null when the scenario declares none. */
  customAddress(asn: number, rng: Rng): Egress | null {
    const nets = this.custom.filter((c) => c.asns.includes(asn));
    if (nets.length === 0) return null;
    const net = rng.pick(nets);
    const [base, bits] = rng.pick(net.cidrs).split('/') as [string, string];
    const size = 2 ** (32 - Number(bits));
    const start = ipToInt(base);
    // Skip the network and broadcast addresses of ranges big enough to have them.
    const off = size > 2 ? 1 + rng.int(size - 2) : rng.int(size);
    return { ip: intToIp((start + off) >>> 0), asn, country: net.country };
  }

  /** One real address matching `spec` (the country and ASN it was drawn from included). */
  address(spec: NetSpec, rng: Rng): Egress {
    if (spec.asn !== undefined) {
      const c = this.customAddress(spec.asn, rng);
      if (c) return c;
      const ip = this.sampler.sampleAddress({ asn: spec.asn, country: spec.country }, (n) => rng.int(n));
      if (ip) return this.resolve(ip, { asn: spec.asn, country: spec.country });
    }
    if (this.sampler.lookup) {
      // Drawing ranges directly (not ASNs first) favours the operators that hold many ranges:
      // a retail client is far likelier on a national ISP than on a one-prefix network.
      for (const f of this.relaxations(spec.country, spec.network_type)) {
        for (let attempt = 0; attempt < 12; attempt++) {
          const ip = this.sampler.sampleAddress(f, (n) => rng.int(n));
          if (!ip) break;
          const e = this.resolve(ip, { country: f.country });
          if (spec.network_type !== 'hosting' && e.asn !== undefined && TRANSIT_ASNS.has(e.asn) && attempt < 11) continue;
          return e;
        }
      }
    } else {
      for (let attempt = 0; attempt < 6; attempt++) {
        const asn = this.pickAsn(rng, spec.country, spec.network_type);
        if (asn === undefined) break;
        const ip =
          this.sampler.sampleAddress({ asn, country: spec.country }, (n) => rng.int(n)) ??
          this.sampler.sampleAddress({ asn }, (n) => rng.int(n));
        if (ip) return this.resolve(ip, { asn, country: spec.country });
      }
    }
    throw new ConfigError(
      'CONFIG_INVALID',
      `the network sampler has no address for ${JSON.stringify(spec)}; check the IP databases the intel part loaded`,
    );
  }

  /** A commercial VPN exit in `country`: the sampler's VPN ranges when it knows them, else a hosting network. */
  vpnAddress(country: string, rng: Rng): Egress {
    const ip = this.sampler.sampleAddress({ country, anonymizer: 'vpn' }, (n) => rng.int(n));
    if (ip) return this.resolve(ip, { country });
    return this.address({ country, network_type: 'hosting' }, rng);
  }

  /** `n` addresses sharing one real ASN (an org's NAT range, a campus network). */
  sameAsn(spec: NetSpec, n: number, rng: Rng): Egress[] {
    const first = this.address(spec, rng);
    const out = [first];
    for (let i = 1; i < n; i++) out.push(this.address({ asn: first.asn, country: first.country }, rng));
    return out;
  }

  private resolve(ip: string, known: { asn?: number; country?: string }): Egress {
    const info = this.sampler.lookup?.(ip);
    return {
      ip,
      asn: info?.asn ?? known.asn,
      country: info?.country ?? known.country,
    };
  }
}

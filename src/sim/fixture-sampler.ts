/**
 * A small NetworkSampler over prefixes of real operators, for tests of the simulator that must
 * not load the full ASN databases. Real runs use the intel part's `openIpIntel()`; the prefixes
 * here are real allocations of the named operators, the network types a simplification.
 */
import type { IpInfo, NetworkSampler, NetworkType } from '../core/index.js';

interface Net {
  asn: number;
  org: string;
  country: string;
  type: NetworkType;
  cidr: string;
  vpn?: boolean;
}

const NETS: Net[] = [
  { asn: 16509, org: 'AMAZON-02', country: 'US', type: 'hosting', cidr: '3.80.0.0/12' },
  { asn: 16509, org: 'AMAZON-02', country: 'SG', type: 'hosting', cidr: '13.212.0.0/15' },
  { asn: 16509, org: 'AMAZON-02', country: 'JP', type: 'hosting', cidr: '13.112.0.0/14' },
  { asn: 16509, org: 'AMAZON-02', country: 'DE', type: 'hosting', cidr: '3.120.0.0/14' },
  { asn: 15169, org: 'GOOGLE', country: 'US', type: 'hosting', cidr: '34.64.0.0/10' },
  { asn: 8075, org: 'MICROSOFT-CORP-MSN-AS-BLOCK', country: 'US', type: 'hosting', cidr: '20.0.0.0/11' },
  { asn: 24940, org: 'Hetzner Online GmbH', country: 'DE', type: 'hosting', cidr: '88.198.0.0/16' },
  { asn: 16276, org: 'OVH SAS', country: 'FR', type: 'hosting', cidr: '51.75.0.0/16' },
  { asn: 14061, org: 'DIGITALOCEAN-ASN', country: 'US', type: 'hosting', cidr: '159.89.0.0/16' },
  { asn: 14061, org: 'DIGITALOCEAN-ASN', country: 'SG', type: 'hosting', cidr: '128.199.64.0/18' },
  { asn: 14061, org: 'DIGITALOCEAN-ASN', country: 'GB', type: 'hosting', cidr: '178.62.0.0/17' },
  { asn: 63949, org: 'Akamai Connected Cloud', country: 'JP', type: 'hosting', cidr: '139.162.64.0/19' },
  { asn: 45102, org: 'Alibaba (US) Technology Co., Ltd.', country: 'HK', type: 'hosting', cidr: '47.75.0.0/16' },
  { asn: 132203, org: 'Tencent Building, Kejizhongyi Avenue', country: 'HK', type: 'hosting', cidr: '43.128.0.0/14' },
  { asn: 9009, org: 'M247 Europe SRL', country: 'NL', type: 'hosting', cidr: '185.206.224.0/22', vpn: true },
  { asn: 9009, org: 'M247 Europe SRL', country: 'JP', type: 'hosting', cidr: '89.187.160.0/22', vpn: true },
  { asn: 60068, org: 'Datacamp Limited', country: 'US', type: 'hosting', cidr: '84.17.40.0/21', vpn: true },
  { asn: 60068, org: 'Datacamp Limited', country: 'SG', type: 'hosting', cidr: '89.187.162.0/23', vpn: true },
  { asn: 7922, org: 'COMCAST-7922', country: 'US', type: 'residential', cidr: '73.0.0.0/8' },
  { asn: 701, org: 'UUNET', country: 'US', type: 'residential', cidr: '71.160.0.0/11' },
  { asn: 21928, org: 'T-MOBILE-AS21928', country: 'US', type: 'mobile', cidr: '172.32.0.0/11' },
  { asn: 2856, org: 'British Telecommunications PLC', country: 'GB', type: 'residential', cidr: '86.128.0.0/10' },
  { asn: 3320, org: 'Deutsche Telekom AG', country: 'DE', type: 'residential', cidr: '79.192.0.0/10' },
  { asn: 3215, org: 'Orange S.A.', country: 'FR', type: 'residential', cidr: '90.0.0.0/9' },
  { asn: 1136, org: 'KPN B.V.', country: 'NL', type: 'residential', cidr: '77.160.0.0/12' },
  { asn: 3301, org: 'Telia Company AB', country: 'SE', type: 'residential', cidr: '81.224.0.0/12' },
  { asn: 3303, org: 'Swisscom (Schweiz) AG', country: 'CH', type: 'residential', cidr: '83.76.0.0/14' },
  { asn: 9506, org: 'Singtel Fibre Broadband', country: 'SG', type: 'residential', cidr: '116.86.0.0/15' },
  { asn: 3462, org: 'Data Communication Business Group', country: 'TW', type: 'residential', cidr: '114.32.0.0/12' },
  { asn: 4788, org: 'TM TECHNOLOGY SERVICES SDN. BHD.', country: 'MY', type: 'residential', cidr: '175.136.0.0/13' },
  { asn: 4760, org: 'HKT Limited', country: 'HK', type: 'residential', cidr: '112.118.0.0/15' },
  { asn: 2516, org: 'KDDI CORPORATION', country: 'JP', type: 'residential', cidr: '106.128.0.0/13' },
  { asn: 4766, org: 'Korea Telecom', country: 'KR', type: 'residential', cidr: '121.128.0.0/10' },
  { asn: 4134, org: 'CHINANET-BACKBONE', country: 'CN', type: 'residential', cidr: '116.224.0.0/12' },
  { asn: 9808, org: 'China Mobile Communications Group Co., Ltd.', country: 'CN', type: 'mobile', cidr: '120.192.0.0/10' },
  { asn: 12389, org: 'PJSC Rostelecom', country: 'RU', type: 'residential', cidr: '95.24.0.0/13' },
  { asn: 58224, org: 'Iran Telecommunication Company PJS', country: 'IR', type: 'residential', cidr: '5.112.0.0/12' },
  { asn: 55836, org: 'Reliance Jio Infocomm Limited', country: 'IN', type: 'mobile', cidr: '49.32.0.0/11' },
  { asn: 9829, org: 'National Internet Backbone', country: 'IN', type: 'residential', cidr: '117.192.0.0/10' },
  { asn: 28573, org: 'Claro NXT Telecomunicacoes Ltda', country: 'BR', type: 'residential', cidr: '177.32.0.0/11' },
  { asn: 812, org: 'ROGERS-COMMUNICATIONS', country: 'CA', type: 'residential', cidr: '99.224.0.0/11' },
  { asn: 1221, org: 'Telstra Limited', country: 'AU', type: 'residential', cidr: '101.160.0.0/11' },
  { asn: 5384, org: 'Emirates Telecommunications Group Company', country: 'AE', type: 'residential', cidr: '94.200.0.0/13' },
  { asn: 9121, org: 'Turk Telekomunikasyon Anonim Sirketi', country: 'TR', type: 'residential', cidr: '88.224.0.0/11' },
  { asn: 45899, org: 'VNPT Corp', country: 'VN', type: 'residential', cidr: '113.160.0.0/11' },
  { asn: 7713, org: 'PT Telekomunikasi Indonesia', country: 'ID', type: 'residential', cidr: '36.64.0.0/11' },
  { asn: 29465, org: 'MTN NIGERIA Communication limited', country: 'NG', type: 'mobile', cidr: '102.88.0.0/14' },
  { asn: 17557, org: 'Pakistan Telecommunication Company Limited', country: 'PK', type: 'residential', cidr: '39.32.0.0/11' },
  { asn: 1680, org: '013 NetVision Ltd', country: 'IL', type: 'residential', cidr: '89.138.0.0/15' },
  { asn: 3, org: 'MIT-GATEWAYS', country: 'US', type: 'education', cidr: '18.0.0.0/9' },
  { asn: 32, org: 'STANFORD', country: 'US', type: 'education', cidr: '171.64.0.0/14' },
  { asn: 786, org: 'Jisc Services Limited', country: 'GB', type: 'education', cidr: '128.232.0.0/16' },
  { asn: 680, org: 'Verein zur Foerderung eines Deutschen Forschungsnetzes e.V.', country: 'DE', type: 'education', cidr: '141.20.0.0/16' },
  { asn: 2914, org: 'NTT-LTD-2914', country: 'US', type: 'business', cidr: '129.250.0.0/16' },
  { asn: 3356, org: 'LEVEL3', country: 'US', type: 'business', cidr: '4.0.0.0/9' },
  { asn: 5400, org: 'British Telecommunications PLC', country: 'GB', type: 'business', cidr: '62.6.0.0/16' },
  { asn: 3209, org: 'Vodafone GmbH', country: 'DE', type: 'business', cidr: '88.64.0.0/12' },
  { asn: 4713, org: 'NTT Communications Corporation', country: 'JP', type: 'business', cidr: '210.150.0.0/15' },
  { asn: 7473, org: 'Singapore Telecommunications Ltd', country: 'SG', type: 'business', cidr: '203.116.0.0/16' },
  { asn: 4780, org: 'Digital United Inc.', country: 'TW', type: 'business', cidr: '60.248.0.0/14' },
  { asn: 4788, org: 'TM TECHNOLOGY SERVICES SDN. BHD.', country: 'MY', type: 'business', cidr: '210.186.0.0/16' },
  { asn: 9304, org: 'HGC Global Communications Limited', country: 'HK', type: 'business', cidr: '118.140.0.0/14' },
  { asn: 8220, org: 'COLT Technology Services Group Limited', country: 'FR', type: 'business', cidr: '213.41.0.0/17' },
  { asn: 8220, org: 'COLT Technology Services Group Limited', country: 'NL', type: 'business', cidr: '212.123.0.0/17' },
];

function parse(cidr: string): [number, number] {
  const [b, bits] = cidr.split('/') as [string, string];
  const base = b.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  return [base, 2 ** (32 - Number(bits))];
}
function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A fixture sampler (with `lookup`) over the real prefixes above. */
export function fixtureSampler(): NetworkSampler & { lookup(ip: string): IpInfo } {
  const ranges = NETS.map((n) => ({ n, r: parse(n.cidr) }));
  return {
    listAsns(filter) {
      const seen = new Map<number, string>();
      for (const { n } of ranges) {
        if (filter.country && n.country !== filter.country) continue;
        if (filter.network_type && n.type !== filter.network_type) continue;
        seen.set(n.asn, n.org);
      }
      return [...seen].map(([asn, as_org]) => ({ asn, as_org }));
    },
    sampleAddress(filter, pick) {
      const m = ranges.filter(
        ({ n }) =>
          (!filter.country || n.country === filter.country) &&
          (filter.asn === undefined || n.asn === filter.asn) &&
          (!filter.network_type || n.type === filter.network_type) &&
          (!filter.anonymizer || (filter.anonymizer === 'vpn' && n.vpn)),
      );
      if (m.length === 0) return null;
      const { r } = m[pick(m.length)]!;
      return toIp(r[0] + 1 + pick(r[1] - 2));
    },
    lookup(ip) {
      const v = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
      const hit = ranges.find(({ r }) => v >= r[0] && v < r[0] + r[1]);
      return {
        ip,
        ...(hit ? { country: hit.n.country, asn: hit.n.asn, as_org: hit.n.org } : {}),
        network_type: hit?.n.type ?? 'unknown',
        anonymizers: hit?.n.vpn ? ['vpn'] : [],
        labels: [],
        why: [hit ? `fixture: ${hit.n.cidr} AS${hit.n.asn}` : 'fixture: no range'],
      };
    },
  };
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../core/index.js';
import { describeIp, formatSources } from './format.js';
import { openIpIntel, type OpenedIpIntel } from './ip-intel.js';
import { intelLoad } from './sources.js';

let intel: OpenedIpIntel;
beforeAll(() => {
  intel = openIpIntel({
    customNetworks: [
      { label: 'adversary:example-conglomerate', cidrs: ['203.0.113.0/24', '2001:db8:1::/48'], network_type: 'business', country: 'CN' },
      { label: 'partner:acme-egress', cidrs: ['203.0.113.128/25'], network_type: 'hosting' },
      { label: 'watch:cloudflare', asns: [13335, 64500], anonymizer: 'proxy' },
    ],
  });
});

describe('lookup', () => {
  it('gives country, ASN, organisation and hosting type for a cloud address', () => {
    const i = intel.lookup('8.8.8.8');
    expect(i.asn).toBe(15169);
    expect(i.as_org).toMatch(/google/i);
    expect(i.country).toBe('US');
    expect(i.network_type).toBe('hosting');
    expect(i.why.some((w) => w.includes('datacenter'))).toBe(true);
  });
  it('answers for IPv6 and for IPv4-mapped IPv6', () => {
    const v6 = intel.lookup('2001:4860:4860::8888');
    expect(v6.asn).toBe(15169);
    expect(v6.network_type).toBe('hosting');
    const mapped = intel.lookup('::ffff:8.8.8.8');
    expect(mapped.asn).toBe(15169);
  });
  it('classifies a cable ISP as residential and a university as education by rule', () => {
    const comcast = intel.lookup('73.15.20.1');
    expect(comcast.asn).toBe(7922);
    expect(comcast.network_type).toBe('residential');
    expect(comcast.why.join(' ')).toMatch(/rule/);
    const berkeley = intel.lookup('128.32.0.1');
    expect(berkeley.network_type).toBe('education');
  });
  it('marks Tor exits and VPN ranges from the shipped lists', () => {
    const tor = intel.lookup('185.220.101.1');
    expect(tor.anonymizers).toContain('tor');
    expect(tor.anonymizers).toContain('vpn');
  });
  it('lets custom networks override the databases, the narrowest range deciding', () => {
    const a = intel.lookup('203.0.113.7');
    expect(a.labels).toEqual(['adversary:example-conglomerate']);
    expect(a.network_type).toBe('business');
    expect(a.country).toBe('CN');
    const b = intel.lookup('203.0.113.200');
    expect(b.labels.sort()).toEqual(['adversary:example-conglomerate', 'partner:acme-egress']);
    expect(b.network_type).toBe('hosting');
    expect(b.country).toBe('CN');
    const v6 = intel.lookup('2001:db8:1::42');
    expect(v6.labels).toEqual(['adversary:example-conglomerate']);
  });
  it('applies custom ASNs to every address of the AS', () => {
    const cf = intel.lookup('1.1.1.1');
    expect(cf.asn).toBe(13335);
    expect(cf.labels).toContain('watch:cloudflare');
    expect(cf.anonymizers).toContain('proxy');
  });
  it.each(['', 'not-an-ip', '999.1.1.1', '1.2.3.4:80', '2001:db8::1::1', 'x'.repeat(100_000), ' 1.2.3.4'])('refuses %j with INPUT_INVALID', (ip) => {
    try {
      intel.lookup(ip);
      expect.unreachable();
    } catch (e) {
      expect(isWardenError(e, 'INPUT_INVALID')).toBe(true);
      expect((e as Error).message).toMatch(/192\.0\.2\.1/);
    }
  });
  it('refuses non-string input', () => {
    expect(() => intel.lookup(42 as unknown as string)).toThrow(/not an IP address/);
  });
  it('says unknown for an address no database covers', () => {
    const i = intel.lookup('10.1.2.3');
    expect(i.asn).toBeUndefined();
    expect(i.network_type).toBe('unknown');
  });
});

describe('watchlist networks', () => {
  it('labels addresses in the ASNs a watchlist entity operates', () => {
    const w = openIpIntel({
      ipv6: false,
      watchlist: {
        restricted_countries: [],
        entities: [{ id: 'example-conglomerate', name: 'Example Conglomerate', kind: 'competitor', aliases: [], native_names: [], domains: [], asns: [15169, 64500], subsidiaries: [] }],
      },
    });
    expect(w.lookup('8.8.8.8').labels).toEqual(['watchlist:example-conglomerate']);
    expect(w.lookup('9.9.9.9').labels).toEqual([]);
  });
});

describe('describeIp', () => {
  it('prints what is known and why, with ranges', () => {
    const text = describeIp(intel.explain('47.74.0.1'));
    expect(text).toMatch(/^47\.74\.0\.1/);
    expect(text).toMatch(/AS45102 Alibaba/);
    expect(text).toMatch(/network type\s+hosting/);
    expect(text).toMatch(/47\.74\.0\.0 – /);
  });
});

describe('sampler', () => {
  const seq = (seed: number) => {
    let x = seed;
    return (n: number) => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x % n;
    };
  };
  it('draws real addresses that satisfy the filter', () => {
    const pick = seq(7);
    for (const f of [{ country: 'DE' }, { asn: 15169 }, { network_type: 'education' as const, country: 'US' }, { anonymizer: 'tor' as const }]) {
      const ip = intel.sampleAddress(f, pick);
      expect(ip).not.toBeNull();
      const info = intel.lookup(ip!);
      if ('country' in f) expect(info.country).toBe(f.country);
      if ('asn' in f) expect(info.asn).toBe(f.asn);
      if ('network_type' in f) expect(info.network_type).toBe(f.network_type);
      if ('anonymizer' in f) expect(info.anonymizers).toContain(f.anonymizer);
    }
  });
  it('returns null when nothing matches', () => {
    expect(intel.sampleAddress({ asn: 4_200_000_000 }, () => 0)).toBeNull();
  });
  it('refuses a malformed country code', () => {
    expect(() => intel.sampleAddress({ country: 'germany' }, () => 0)).toThrow(/alpha-2/);
  });
  it('lists ASNs matching a filter', () => {
    const edu = intel.listAsns({ country: 'US', network_type: 'education' });
    expect(edu.length).toBeGreaterThan(50);
    expect(edu.find((a) => a.asn === 25)?.as_org).toMatch(/Berkeley/);
    expect(intel.asnInfo(25)?.country).toBe('US');
  });
});

describe('sources', () => {
  it('reports every source with a date and entry count', () => {
    const s = intel.sources();
    expect(s.map((x) => x.name).join('\n')).toMatch(/@ip-location-db\/asn@/);
    expect(s.find((x) => /Tor/.test(x.name))?.entries).toBeGreaterThan(1000);
    for (const x of s) expect(x.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
  it('warns about sources older than the limit', () => {
    const w = intel.warnings(new Date('2030-01-01T00:00:00Z'));
    expect(w.length).toBe(intel.sources().length);
    expect(intel.warnings(new Date('2024-03-01T00:00:00Z')).some((x) => /Tor/.test(x))).toBe(false);
  });
  it('formats the sources with their age', () => {
    const text = formatSources(intel.sources(), new Date('2026-11-26T00:00:00Z'));
    expect(text).toMatch(/^source\s+date\s+age/);
    expect(text).toMatch(/Tor exit nodes.*2024-02-27\s+1003 d/);
  });
  it('keeps the explanation when an answer is serialised', () => {
    const json = JSON.parse(JSON.stringify(intel.lookup('8.8.8.8'))) as { why: string[]; asn: number };
    expect(json.asn).toBe(15169);
    expect(json.why.length).toBeGreaterThan(1);
  });
  it('reports memory and load time', () => {
    const st = intel.stats();
    expect(st.tableBytes).toBeGreaterThan(1_000_000);
    expect(st.ranges['asn_v4']).toBeGreaterThan(100_000);
  });
});

describe('loaded lists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-intel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('prefers a Tor list loaded into the data directory', () => {
    const f = join(dir, 'tor-exit-nodes.lst');
    writeFileSync(f, '198.51.100.23\n2001:db8::23\n');
    const r = intelLoad(f, join(dir, 'data'), { date: '2026-11-01' });
    expect(r.kind).toBe('tor');
    const local = openIpIntel({ dataDir: join(dir, 'data'), ipv6: false });
    expect(local.lookup('198.51.100.23').anonymizers).toContain('tor');
    expect(local.lookup('185.220.101.1').anonymizers).not.toContain('tor');
    expect(local.sources().find((s) => /Tor/.test(s.name))?.date).toBe('2026-11-01');
  });
});

describe('custom networks outside the databases', () => {
  it('gives an unrouted custom range the ASN of its network', async () => {
    const { openIpIntel } = await import('./ip-intel.js');
    const intel = openIpIntel({ customNetworks: [{ label: 'adversary:x', cidrs: ['203.0.113.0/24'], asns: [64500], network_type: 'hosting' }], ipv6: false });
    const info = intel.lookup('203.0.113.5');
    expect(info.asn).toBe(64500);
    expect(info.labels).toEqual(['adversary:x']);
    expect(info.network_type).toBe('hosting');
    expect(intel.lookup('198.51.100.5').asn).not.toBe(64500);
  });
});

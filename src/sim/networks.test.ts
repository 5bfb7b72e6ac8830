import { describe, expect, it } from 'vitest';
import type { IpInfo, NetworkSampler } from '../core/index.js';
import { NetPicker } from './networks.js';
import { Rng } from './rng.js';
import { CustomNetwork } from './scenario.js';

/** A sampler whose answers are scripted per filter, recording what it was asked. */
function scripted(answers: Record<string, string[]>, info: Record<string, { asn: number; country: string }>) {
  const asked: string[] = [];
  const sampler: NetworkSampler & { lookup(ip: string): IpInfo } = {
    listAsns: () => [],
    sampleAddress(f, pick) {
      const key = `${f.country ?? '*'}/${f.network_type ?? '*'}`;
      asked.push(key);
      const list = answers[key];
      return list?.length ? list[pick(list.length)]! : null;
    },
    lookup: (ip) => ({ ip, ...info[ip], network_type: 'residential', anonymizers: [], labels: [], why: [] }),
  };
  return { sampler, asked };
}

describe('NetPicker', () => {
  const entityCloud = CustomNetwork.parse({ label: 'entity-cloud:x', cidrs: ['203.0.113.0/24'], asns: [64500], country: 'CN' });

  it('draws the fictional networks from their CIDR, never the network or broadcast address', () => {
    const p = new NetPicker(scripted({}, {}).sampler, [entityCloud]);
    const r = new Rng(1);
    for (let i = 0; i < 500; i++) {
      const e = p.address({ asn: 64500 }, r);
      expect(e.asn).toBe(64500);
      expect(e.country).toBe('CN');
      expect(e.ip).toMatch(/^203\.0\.113\.(\d+)$/);
      const last = Number(e.ip.split('.')[3]);
      expect(last).toBeGreaterThan(0);
      expect(last).toBeLessThan(255);
    }
  });

  it('resolves the ASN and country of a real draw through lookup', () => {
    const { sampler } = scripted({ 'GB/residential': ['86.128.1.2'] }, { '86.128.1.2': { asn: 2856, country: 'GB' } });
    expect(new NetPicker(sampler, []).address({ country: 'GB', network_type: 'residential' }, new Rng(2))).toEqual({ ip: '86.128.1.2', asn: 2856, country: 'GB' });
  });

  it('skips transit carriers for home connections but not for servers', () => {
    const info = { '4.1.1.1': { asn: 3257, country: 'DE' }, '79.192.0.9': { asn: 3320, country: 'DE' } };
    const { sampler } = scripted({ 'DE/residential': ['4.1.1.1', '79.192.0.9'], 'DE/hosting': ['4.1.1.1'] }, info);
    const p = new NetPicker(sampler, []);
    const r = new Rng(3);
    for (let i = 0; i < 50; i++) expect(p.address({ country: 'DE', network_type: 'residential' }, r).asn).toBe(3320);
    expect(p.address({ country: 'DE', network_type: 'hosting' }, r).asn).toBe(3257);
  });

  it('keeps the country before the type for homes, and the type before the country for servers', () => {
    const info = { '1.1.1.1': { asn: 1, country: 'SE' }, '2.2.2.2': { asn: 2, country: 'US' } };
    const a = scripted({ 'SE/*': ['1.1.1.1'], '*/mobile': ['2.2.2.2'], '*/hosting': ['2.2.2.2'] }, info);
    const p = new NetPicker(a.sampler, []);
    expect(p.address({ country: 'SE', network_type: 'mobile' }, new Rng(4)).country).toBe('SE');
    expect(p.address({ country: 'SE', network_type: 'hosting' }, new Rng(4)).country).toBe('US');
    expect(a.asked).toEqual(['SE/mobile', 'SE/*', 'SE/hosting', '*/hosting']);
  });

  it('says what the sampler lacks when nothing matches', () => {
    expect(() => new NetPicker(scripted({}, {}).sampler, []).address({ country: 'SE', network_type: 'education' }, new Rng(5))).toThrow(
      /no address for .*"SE".*check the IP databases/,
    );
  });
});

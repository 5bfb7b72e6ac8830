import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../core/index.js';
import { detectListKind, intelLoad, intelUpdate, resolveList, sourceWarnings } from './sources.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sourceWarnings', () => {
  it('warns about the shipped sanctions snapshots, which are years old', () => {
    const w = sourceWarnings(new Date('2026-11-26T00:00:00Z'));
    expect(w.some((x) => /OFAC SDN list is \d+ days old/.test(x))).toBe(true);
    expect(w.every((x) => /warden intel (load|update)/.test(x))).toBe(true);
  });
  it('stays quiet for fresh sources and honours the limit', () => {
    const sources = [{ name: 'fresh', licence: 'MIT', date: '2026-11-01', entries: 1 }];
    expect(sourceWarnings(new Date('2026-11-26T00:00:00Z'), { sources })).toEqual([]);
    expect(sourceWarnings(new Date('2026-11-26T00:00:00Z'), { sources, maxAgeDays: 10 })).toHaveLength(1);
  });
});

describe('detectListKind', () => {
  it('recognises lists by name and content', () => {
    expect(detectListKind('/x/sdn.csv', '')).toBe('sdn');
    expect(detectListKind('/x/alt.csv', '')).toBe('sdn-alt');
    expect(detectListKind('/x/cons_prim.csv', '')).toBe('cons-prim');
    expect(detectListKind('/x/consolidated.csv.gz', '')).toBe('csl');
    expect(detectListKind('/x/vpn-ipv4.txt', '1.2.3.0/24\n5.6.7.0/24\n')).toBe('vpn-ipv4');
    expect(detectListKind('/x/datacenter-v6.txt', '2001:db8::/32\n')).toBe('datacenter-ipv6');
    expect(detectListKind('/x/vpn-asn.txt', 'AS9009 # M247\n')).toBe('vpn-asn');
    expect(detectListKind('/x/tor-exit-nodes.lst', '1.2.3.4\n')).toBe('tor');
    expect(detectListKind('/x/ranges.csv', '1.0.0.0,1.0.0.255,Example Hosting,http://example.com\n')).toBe('ipcat');
    expect(detectListKind('/x/notes.txt', 'hello\n')).toBeNull();
  });
});

describe('intelLoad', () => {
  it('copies a VPN list into the data directory, where it takes precedence', () => {
    const f = join(dir, 'vpn-ipv4.txt');
    writeFileSync(f, '# newer list\n198.51.100.0/24\n');
    const data = join(dir, 'data');
    const r = intelLoad(f, data, { date: '2026-11-20' });
    expect(r).toMatchObject({ kind: 'vpn-ipv4', entries: 1, replaced: 'shipped' });
    const resolved = resolveList('vpn-ipv4', data);
    expect(resolved.origin).toBe('loaded');
    expect(resolved.date).toBe('2026-11-20');
    expect(readFileSync(resolved.file, 'utf8')).toContain('198.51.100.0/24');
    expect(resolveList('tor', data).origin).toBe('shipped');
  });
  it('refuses a file it cannot recognise, a missing file and a malformed line, naming the file', () => {
    const f = join(dir, 'notes.txt');
    writeFileSync(f, 'hello\n');
    expect(() => intelLoad(f, join(dir, 'data'))).toThrow(/notes\.txt: cannot tell which list/);
    expect(() => intelLoad(join(dir, 'missing.csv'), join(dir, 'data'))).toThrow(/does not exist/);
    const bad = join(dir, 'vpn-bad.txt');
    writeFileSync(bad, '1.2.3.0/24\nnot-a-range\n');
    try {
      intelLoad(bad, join(dir, 'data'), { kind: 'vpn-ipv4' });
      expect.unreachable();
    } catch (e) {
      expect(isWardenError(e, 'INPUT_INVALID')).toBe(true);
      expect((e as Error).message).toMatch(/vpn-bad\.txt:2/);
    }
  });
});

describe('intelUpdate', () => {
  it('runs npm update for the two databases and reports versions', async () => {
    const calls: string[][] = [];
    const r = await intelUpdate({
      cwd: dir,
      exec: async (cmd, args) => {
        calls.push([cmd, ...args]);
        return { stdout: 'up to date\n', stderr: '' };
      },
    });
    expect(calls).toEqual([['npm', 'update', '@ip-location-db/asn', '@ip-location-db/geo-whois-asn-country']]);
    expect(r.packages.map((p) => p.name)).toEqual(['@ip-location-db/asn', '@ip-location-db/geo-whois-asn-country']);
    expect(r.packages[0]!.before).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.output).toBe('up to date');
  });
  it('reports a failed npm run as UNAVAILABLE with its stderr', async () => {
    await expect(
      intelUpdate({ cwd: dir, exec: async () => Promise.reject(Object.assign(new Error('exit 1'), { stderr: 'ENOTFOUND registry.npmjs.org' })) }),
    ).rejects.toThrow(/ENOTFOUND/);
  });
});

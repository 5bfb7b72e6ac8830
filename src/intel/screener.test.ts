import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWardenError, type ScreeningQuery, type Watchlist } from '../core/index.js';
import { formatScreening } from './format.js';
import { createScreener } from './screener.js';
import { intelLoad } from './sources.js';

const watchlist: Watchlist = {
  restricted_countries: ['CN', 'RU', 'IR', 'KP', 'SY', 'CU'],
  entities: [
    {
      id: 'example-conglomerate',
      name: 'Example Conglomerate Group Holding Ltd',
      kind: 'competitor',
      jurisdiction: 'CN',
      aliases: ['Example Group', 'ExampleCloud'],
      native_names: ['示例集团'],
      domains: ['example-group.com', 'examplecloud.com'],
      asns: [64500],
      subsidiaries: ['Example Cloud Intelligence', 'Example Research Academy'],
    },
    {
      id: 'alibaba',
      name: 'Alibaba Group Holding Limited',
      kind: 'competitor',
      jurisdiction: 'CN',
      aliases: ['Alibaba Cloud', 'Aliyun'],
      native_names: ['阿里巴巴集团'],
      domains: ['aliyun.com', 'alibabacloud.com'],
      asns: [],
      subsidiaries: [],
    },
    { id: 'tencent', name: 'Tencent Holdings Ltd', kind: 'competitor', aliases: [], native_names: ['腾讯'], domains: [], asns: [], subsidiaries: [] },
    {
      id: 'fictional-restricted',
      name: 'Norrland Quantum Dynamics AB',
      kind: 'restricted',
      aliases: [],
      native_names: [],
      domains: [],
      asns: [],
      subsidiaries: [],
    },
  ],
};

// Loaded once: the full shipped lists plus the watchlist (about a second).
const screener = createScreener({ watchlist, now: () => new Date('2026-11-26T12:00:00Z') });
const ids = (q: ScreeningQuery): string[] => screener.screen(q).hits.map((h) => h.entity_id);

describe('screening names', () => {
  it('hits the watchlist example with a name and a subdomain, explaining both', () => {
    const r = screener.screen({ name: 'Alibaba Cloud (Singapore) Pte. Ltd.', domains: ['aliyun.com'] });
    expect(r.status).toBe('hit');
    const h = r.hits.find((x) => x.entity_id === 'alibaba')!;
    expect(h.kind).toBe('competitor');
    expect(h.explanation).toMatch(/alias "Alibaba Cloud"/);
    expect(h.explanation).toMatch(/domain "aliyun\.com"/);
    const sub = screener.screen({ name: 'Unrelated Name Ltd', domains: ['https://console.aliyun.com/x'] });
    expect(sub.hits[0]).toMatchObject({ entity_id: 'alibaba', matched_on: 'domain' });
    expect(sub.hits[0]!.explanation).toMatch(/subdomain/);
  });
  it('meets Chinese names through pinyin and through the list\'s native names', () => {
    expect(ids({ name: '阿里巴巴' })).toContain('alibaba');
    const t = screener.screen({ name: '腾讯科技（深圳）有限公司' });
    expect(t.hits[0]).toMatchObject({ entity_id: 'tencent', matched_on: 'native_name' });
    expect(t.hits[0]!.explanation).toMatch(/read as "tengxun/);
    expect(ids({ name: '华为技术有限公司' }).some((i) => i.startsWith('ofac-cons:') || i.startsWith('us-csl:'))).toBe(true);
  });
  it('survives case, punctuation, suffixes, token order and typos', () => {
    for (const n of ['BANCO NACIONAL DE CUBA', 'banco nacional de cuba s.a.', 'Cuba, Banco Nacional de', 'Banco Nacionl de Cuba'])
      expect(ids({ name: n })).toContain('ofac-sdn:306');
    expect(ids({ name: 'Hauwei Technologies Co Ltd' }).length).toBeGreaterThan(0);
    expect(ids({ name: 'Example Conglomerate Grp Hldgs GmbH' })).toContain('example-conglomerate');
  });
  it('reads Cyrillic names through transliteration', () => {
    expect(screener.screen({ name: 'РОСНЕФТЬ' }).hits.some((h) => /rosneft/i.test(h.entity_name))).toBe(true);
  });
  it('hits through aliases and subsidiaries', () => {
    expect(screener.screen({ name: 'National Bank of Cuba' }).hits[0]).toMatchObject({ entity_id: 'ofac-sdn:306', matched_on: 'alias' });
    expect(screener.screen({ name: 'Example Cloud Intelligence Pte Ltd' }).hits[0]).toMatchObject({
      entity_id: 'example-conglomerate',
      matched_on: 'subsidiary',
    });
    expect(screener.screen({ name: 'Acme Trading', aliases: ['ExampleCloud'] }).hits[0]?.entity_id).toBe('example-conglomerate');
  });
  it('stays clear for similar but different names', () => {
    expect(screener.screen({ name: 'Acme Widgets Inc' }).status).toBe('clear');
    expect(ids({ name: 'Bank Mellat' })).not.toContain('ofac-sdn:25578'); // Bank Melli Iran
    expect(ids({ name: 'Example Conglomerate' })).toContain('example-conglomerate');
    expect(ids({ name: 'Example Widgets' })).not.toContain('example-conglomerate');
  });
  it('screens the watchlist alone when the sanctions lists are turned off', () => {
    const w = createScreener({ watchlist, sanctions: false });
    expect(w.screen({ name: 'Banco Nacional de Cuba' }).status).toBe('clear');
    expect(w.screen({ name: 'Aliyun' }).hits[0]?.entity_id).toBe('alibaba');
    expect(w.listsVersion).toMatch(/^watchlist@/);
  });
});

describe('abbreviations', () => {
  it('meets initials of four letters or more, not three', () => {
    const w = createScreener({
      sanctions: false,
      watchlist: {
        restricted_countries: [],
        entities: [
          { id: 'borg', name: 'Baltic Orbital Research Group', kind: 'restricted', aliases: [], native_names: [], domains: [], asns: [], subsidiaries: [] },
          { id: 'nqd', name: 'Nordic Quantum Devices', kind: 'restricted', aliases: [], native_names: [], domains: [], asns: [], subsidiaries: [] },
        ],
      },
    });
    const borg = w.screen({ name: 'B.O.R.G.' });
    expect(borg.hits[0]?.entity_id).toBe('borg');
    expect(borg.hits[0]?.explanation).toMatch(/initials/);
    expect(w.screen({ name: 'NQD' }).status).toBe('clear');
    expect(w.matchName('NQD', 0.7)[0]?.entity.id).toBe('nqd');
  });
});

describe('ownership (the 50% rule)', () => {
  it('marks an org majority-owned by restricted-country owners as restricted_ownership', () => {
    const r = screener.screen({
      name: 'Fjordline Analytics AS',
      owners: [
        { name: 'Holder One', country: 'RU', share: 0.3 },
        { name: 'Holder Two', country: 'IR', share: 0.25 },
        { name: 'Holder Three', country: 'NO', share: 0.45 },
      ],
    });
    expect(r.status).toBe('restricted_ownership');
    expect(r.restricted_ownership_share).toBeCloseTo(0.55);
    expect(r.hits.find((h) => h.matched_on === 'ownership')?.explanation).toMatch(/55% owned/);
  });
  it('stays clear under 50% and counts listed owners', () => {
    const r = screener.screen({
      name: 'Fjordline Analytics AS',
      owners: [
        { name: 'Norrland Quantum Dynamics', share: 0.4 },
        { name: 'Holder Three', country: 'NO', share: 0.6 },
      ],
    });
    expect(r.status).toBe('clear');
    expect(r.restricted_ownership_share).toBeCloseTo(0.4);
    expect(r.hits[0]).toMatchObject({ entity_id: 'fictional-restricted', matched_on: 'owner' });
  });
  it('follows owners through other orgs with the caller\'s lookup, and survives cycles', () => {
    const orgs: Record<string, ScreeningQuery> = {
      'org-b': { name: 'Midgard Holdings BV', owners: [{ name: 'Norrland Quantum Dynamics', share: 0.6 }, { name: 'Org C', share: 0.4, org_id: 'org-c' }] },
      'org-c': { name: 'Org C', owners: [{ name: 'Midgard Holdings BV', share: 1, org_id: 'org-b' }] },
    };
    const r = screener.screen(
      { name: 'Fjordline Analytics AS', owners: [{ name: 'Midgard Holdings BV', share: 0.5, org_id: 'org-b' }, { name: 'Someone', share: 0.5 }] },
      { resolveOrg: (id) => orgs[id] },
    );
    expect(r.status).toBe('restricted_ownership');
    expect(r.restricted_ownership_share).toBeCloseTo(0.5);
    expect(r.hits.find((h) => h.matched_on === 'ownership')?.explanation).toMatch(/org-b is 60% owned/);
    const without = screener.screen({ name: 'Fjordline Analytics AS', owners: [{ name: 'Midgard Holdings BV', share: 0.5, org_id: 'org-b' }] });
    expect(without.status).toBe('clear');
  });
  it('keeps status hit when the org itself is listed, with the share reported', () => {
    const r = screener.screen({ name: 'Aliyun', owners: [{ name: 'A', country: 'CN', share: 1 }] });
    expect(r.status).toBe('hit');
    expect(r.restricted_ownership_share).toBe(1);
  });
});

describe('bad input', () => {
  const invalid = (q: unknown): void => {
    try {
      screener.screen(q as ScreeningQuery);
      expect.unreachable();
    } catch (e) {
      expect(isWardenError(e, 'INPUT_INVALID')).toBe(true);
    }
  };
  it('refuses empty and giant names, bad shares and bad domains with INPUT_INVALID', () => {
    invalid({ name: '' });
    invalid({ name: '   ' });
    invalid({ name: 'x'.repeat(100_000) });
    invalid({ name: 'Ok', owners: [{ name: 'A', share: 1.5 }] });
    invalid({ name: 'Ok', domains: ['not a domain'] });
    invalid({ name: 42 });
  });
  it('gives a clean no-match for punctuation-only and mixed-script names', () => {
    expect(screener.screen({ name: '!!! ???' }).status).toBe('clear');
    expect(screener.screen({ name: 'Zxqv 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 Ωμέγα Ничто 無関係 🙂' }).status).toBe('clear');
  });
  it('reads a mixed-script name that contains a listed one', () => {
    expect(ids({ name: 'Alibaba 阿里巴巴 Cloud' })).toContain('alibaba');
  });
});

describe('formatScreening', () => {
  it('prints status, hits and why', () => {
    const q = { name: 'Alibaba Cloud (Singapore) Pte. Ltd.', domains: ['aliyun.com'] };
    const text = formatScreening(q, screener.screen(q));
    expect(text).toMatch(/HIT/);
    expect(text).toMatch(/Alibaba Group Holding Limited \[alibaba\] watchlist, competitor/);
    expect(text).toMatch(/lists: ofac-sdn@/);
    expect(formatScreening({ name: 'Acme Widgets' }, screener.screen({ name: 'Acme Widgets' }))).toMatch(/CLEAR/);
  });
});

describe('loaded sanctions lists', () => {
  it('screens against a newer SDN file loaded into the data directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-sdn-'));
    try {
      writeFileSync(join(dir, 'sdn.csv'), '990001,"VELMORA QUARTZ TRADING LLC",-0- ,"RUSSIA-EO14024",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"Website www.velmora-quartz.example."\n');
      writeFileSync(join(dir, 'alt.csv'), '990001,1,"aka","VQT GROUP",-0- \n');
      const data = join(dir, 'data');
      expect(intelLoad(join(dir, 'sdn.csv'), data, { date: '2026-11-20' }).kind).toBe('sdn');
      expect(intelLoad(join(dir, 'alt.csv'), data, { date: '2026-11-20' }).kind).toBe('sdn-alt');
      const s = createScreener({ dataDir: data });
      expect(s.screen({ name: 'Velmora Quartz Trading' }).hits[0]?.entity_id).toBe('ofac-sdn:990001');
      expect(s.screen({ name: 'VQT Group LLC' }).hits[0]?.matched_on).toBe('alias');
      expect(s.screen({ name: 'Nobody', domains: ['shop.velmora-quartz.example'] }).hits[0]?.matched_on).toBe('domain');
      expect(s.screen({ name: 'Banco Nacional de Cuba' }).status).toBe('clear');
      expect(s.listsVersion).toContain('ofac-sdn@2026-11-20');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures, Watchlist, type UsageEvent } from '../core/index.js';
import { fixtureSampler } from './fixture-sampler.js';
import { loadScenario, parseScenario } from './scenario.js';
import { simulate, type SimProgress } from './simulate.js';
import { loadTestWorld, type LoadedWorld, removeTempDirs, tempDir } from './test-world.js';

let w: LoadedWorld;
beforeAll(async () => {
  w = await loadTestWorld('demo');
});

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('simulate', () => {
  it('writes accounts, events, truth, watchlist and networks in the interchange formats', () => {
    expect(w.accounts.length).toBe(w.sim.accounts);
    expect(w.events.length).toBe(w.sim.events);
    expect(w.accounts.length).toBeGreaterThan(200);
    expect(w.events.length).toBeGreaterThan(2000);
    const wl = Watchlist.parse(parseYaml(readFileSync(w.sim.files.watchlist, 'utf8')));
    expect(wl.entities.map((e) => e.id)).toEqual(['example-conglomerate']);
    const nets = parseYaml(readFileSync(w.sim.files.networks, 'utf8')) as { customNetworks: { cidrs: string[]; asns: number[] }[] };
    expect(nets.customNetworks[0]).toMatchObject({ cidrs: ['203.0.113.0/24'], asns: [64500] });
  });

  it('writes events in time order with unique ids, each for a known account', () => {
    const ids = new Set(w.accounts.map((a) => a.account_id));
    let prev = '';
    const seen = new Set<string>();
    for (const e of w.events) {
      expect(e.ts >= prev).toBe(true);
      prev = e.ts;
      expect(ids.has(e.account_id!)).toBe(true);
      expect(seen.has(e.event_id)).toBe(false);
      seen.add(e.event_id);
    }
  });

  it('gives every account a truth entry with a group, and campaign timelines', () => {
    expect(Object.keys(w.truth.accounts).sort()).toEqual(w.accounts.map((a) => a.account_id).sort());
    const groups = new Set(Object.values(w.truth.accounts).map((t) => t.group));
    for (const p of w.scenario.populations) expect(groups).toContain(`benign:${p.id ?? p.kind}`);
    for (const c of w.scenario.campaigns) {
      const g = `campaign:${c.id ?? c.kind}`;
      expect(groups).toContain(g);
      const tl = w.truth.campaigns![g]!;
      expect(tl.requests).toBe(tl.hourly_requests.reduce((a, b) => a + b, 0));
      // Each campaign account counted once, in the hour it was created (earlier ones in hour 0).
      const created = new Array<number>(tl.hourly_requests.length).fill(0);
      const h0 = Date.parse(tl.hour0);
      for (const a of w.accounts) {
        if (w.truth.accounts[a.account_id]!.group !== g) continue;
        created[Math.min(created.length - 1, Math.max(0, Math.floor((Date.parse(a.created_at) - h0) / 3_600_000)))]!++;
      }
      expect(tl.hourly_new_accounts).toEqual(created);
      expect(created.reduce((x, y) => x + y, 0)).toBe(tl.accounts);
      // Each campaign account that sent a campaign request counted once, in the hour of its
      // first (a resold key: its first buyer's request, not its owner's own use; an
      // intermediary's end users inside a declared reseller are the reseller's requests).
      const used = new Array<number>(tl.hourly_requests.length).fill(0);
      const firstOf = new Map<string, number>();
      for (const e of w.eventsOf(g)) if (!firstOf.has(e.account_id!)) firstOf.set(e.account_id!, Date.parse(e.ts));
      for (const t of firstOf.values()) used[Math.min(used.length - 1, Math.max(0, Math.floor((t - h0) / 3_600_000)))]!++;
      if (c.kind === 'key_sharing') {
        expect(tl.hourly_first_requests!.reduce((x, y) => x + y, 0)).toBe(firstOf.size);
        expect(tl.hourly_first_requests!.findIndex((x) => x > 0)).toBeGreaterThan(used.findIndex((x) => x > 0));
      } else expect(tl.hourly_first_requests).toEqual(used);
      // The campaign's requests are its accounts' requests, plus (intermediary) those of its
      // end users inside the declared reseller, which stays benign; a resold key's requests
      // are the buyers' only (the owner's own use is not the campaign), and start at the resale.
      if (c.kind === 'intermediary' && c.via_reseller) expect(tl.requests).toBeGreaterThan(w.eventsOf(g).length);
      else if (c.kind === 'key_sharing') {
        expect(tl.requests).toBeGreaterThan(0);
        expect(tl.requests).toBeLessThan(w.eventsOf(g).length);
        expect(Date.parse(tl.first_request_at!)).toBeGreaterThanOrEqual(Date.parse(w.scenario.start) + c.start_day * 86_400_000);
      } else expect(tl.requests).toBe(w.eventsOf(g).length);
    }
  });

  it('is deterministic for a seed and different for another seed', async () => {
    const s = shortDemo(2);
    const a = tempDir('warden-det-');
    const b = tempDir('warden-det-');
    const c = tempDir('warden-det-');
    const ra = await simulate(s, a, { sampler: fixtureSampler() });
    const rb = await simulate(s, b, { sampler: fixtureSampler() });
    const rc = await simulate({ ...s, seed: s.seed + 1 }, c, { sampler: fixtureSampler() });
    expect(sha(ra.files.events)).toBe(sha(rb.files.events));
    expect(sha(ra.files.accounts)).toBe(sha(rb.files.accounts));
    expect(sha(ra.files.truth)).toBe(sha(rb.files.truth));
    expect(sha(rc.files.events)).not.toBe(sha(ra.files.events));
  });

  it('writes prompt features instead of the text with content: features, the same features the text gives', async () => {
    const s = shortDemo(1);
    const raw = await simulate(s, tempDir('warden-raw-'), { sampler: fixtureSampler() });
    const feat = await simulate({ ...s, content: 'features' }, tempDir('warden-feat-'), { sampler: fixtureSampler() });
    const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as UsageEvent);
    const a = lines(raw.files.events);
    const b = lines(feat.files.events);
    expect(b.length).toBe(a.length);
    expect(b.length).toBeGreaterThan(500);
    for (let i = 0; i < a.length; i++) {
      const { prompt, system, ...rest } = a[i]!;
      expect(b[i]!.prompt).toBeUndefined();
      expect(b[i]!.system).toBeUndefined();
      // Everything else is the same event; the features are the text's own.
      expect({ ...b[i]!, features: undefined }).toEqual({ ...rest, features: undefined });
      expect(b[i]!.features).toEqual(extractFeatures({ system: system ?? '', lastUser: prompt ?? '', turns: a[i]!.turns ?? 1, tools: a[i]!.tools ?? 0 }));
    }
  });

  it('reports progress through to done', async () => {
    const s = shortDemo(1);
    const seen: SimProgress[] = [];
    await simulate(s, tempDir('warden-prog-'), { sampler: fixtureSampler(), onProgress: (p) => seen.push(p), progressEvery: 100 });
    expect(seen[0]!.phase).toBe('build');
    expect(seen.some((p) => p.phase === 'events' && p.fraction > 0 && p.fraction <= 1)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ phase: 'done', fraction: 1 });
  });

  it('writes gzip files when asked', async () => {
    const s = shortDemo(1);
    const r = await simulate(s, tempDir('warden-gz-'), { sampler: fixtureSampler(), gzip: true });
    expect(r.files.events.endsWith('.jsonl.gz')).toBe(true);
    expect(readFileSync(r.files.events).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });
});


/** The demo cut to `days`, without the campaigns that would start after it. */
function shortDemo(days: number) {
  const d = loadScenario('demo');
  return parseScenario({ ...d, days, campaigns: d.campaigns.filter((c) => c.start_day < days) });
}

afterAll(() => removeTempDirs());

/**
 * Each population and campaign shows the statistical signature docs/simulator.md claims for it,
 * and every signal a campaign shows also appears in some benign population (no giveaways).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../core/index.js';
import { loadCorpus } from './corpus.js';
import { fixtureSampler } from './fixture-sampler.js';
import { loadScenario, parseScenario } from './scenario.js';
import { THRESHOLD_DEFAULTS } from './baselines.js';
import { loadTestWorld, type LoadedWorld, removeTempDirs } from './test-world.js';

let w: LoadedWorld;
beforeAll(async () => {
  w = await loadTestWorld('demo');
});

const intel = fixtureSampler();
const DAY = 86_400_000;
const byAccount = (evs: UsageEvent[]) => {
  const m = new Map<string, UsageEvent[]>();
  for (const e of evs) {
    const l = m.get(e.account_id!) ?? [];
    l.push(e);
    m.set(e.account_id!, l);
  }
  return m;
};
const share = <T>(xs: T[], f: (x: T) => boolean) => (xs.length ? xs.filter(f).length / xs.length : 0);
const utcHour = (e: UsageEvent) => new Date(e.ts).getUTCHours();
/** UTC+8 office hours (08:00–19:59 local). */
const utc8Office = (e: UsageEvent) => utcHour(e) < 12;
const isHosting = (e: UsageEvent) => intel.lookup(e.ip!).network_type === 'hosting' || e.asn === 64500;
const hasZh = (s: string | undefined) => /[\u4e00-\u9fff]/.test(s ?? '');
const benchTexts = (() => {
  const set = new Set<string>();
  for (const n of ['mmlu', 'gsm8k', 'human-eval', 'mt-bench', 'flan-cot'] as const) for (const p of loadCorpus(n).prompts) set.add(p.text);
  return set;
})();
/** Benchmark items by their first 24 characters, to find an item wrapped in any template. */
const K = 24;
const benchByHead = (() => {
  const m = new Map<string, string[]>();
  for (const t of benchTexts) {
    const k = t.slice(0, K);
    m.set(k, [...(m.get(k) ?? []), t]);
  }
  return m;
})();
const isBenchmark = (e: UsageEvent) => {
  const p = e.prompt ?? '';
  // Templates put at most a couple of hundred characters before the item.
  for (let i = 0; i <= Math.min(p.length - 1, 300); i++) {
    const hit = benchByHead.get(p.slice(i, i + K));
    if (hit?.some((t) => p.includes(t))) return true;
  }
  return false;
};
const maxPerDay = (evs: UsageEvent[]) => {
  const m = new Map<number, number>();
  for (const e of evs) {
    const d = Math.floor(Date.parse(e.ts) / DAY);
    m.set(d, (m.get(d) ?? 0) + 1);
  }
  return Math.max(0, ...m.values());
};

describe('benign populations', () => {
  it('course: students sign up in a burst, share one campus network and send near-identical homework', () => {
    const accts = w.accountsOf('benign:course');
    const evs = w.eventsOf('benign:course');
    expect(accts.length).toBe(60);
    const created = accts.map((a) => Date.parse(a.created_at)).sort((a, b) => a - b);
    expect(created.at(-1)! - created[0]!).toBeLessThan(8 * DAY);
    expect(new Set(accts.map((a) => a.email_domain)).size).toBe(1);
    const asnCount = new Map<number, number>();
    for (const e of evs) asnCount.set(e.asn!, (asnCount.get(e.asn!) ?? 0) + 1);
    const [topAsn, topN] = [...asnCount].sort((a, b) => b[1] - a[1])[0]!;
    expect(topN / evs.length).toBeGreaterThan(0.5);
    expect(intel.listAsns({ network_type: 'education' }).map((a) => a.asn)).toContain(topAsn);
    // Most requests are one of the few problems of the week, wrapped in a student's phrasing.
    const homework = [...loadCorpus('gsm8k').prompts, ...loadCorpus('human-eval').prompts].map((p) => p.text);
    const problems = new Set<string>();
    for (const e of evs) for (const t of homework) if (e.prompt!.includes(t)) problems.add(t);
    const weeks = Math.ceil(w.scenario.days / 7) + 1;
    expect(problems.size).toBeLessThanOrEqual(5 * weeks);
    expect(share(evs, isBenchmark)).toBeGreaterThan(0.7);
  });

  it('evaluator: declared evaluation, benchmark sweeps in bursts from hosting networks', () => {
    const accts = w.accountsOf('benign:evaluator');
    expect(accts.every((a) => a.declared_use === 'evaluation')).toBe(true);
    const evs = w.eventsOf('benign:evaluator');
    expect(share(evs, isBenchmark)).toBeGreaterThan(0.9);
    expect(share(evs, isHosting)).toBe(1);
    const t = evs.map((e) => Date.parse(e.ts));
    let burst = 0;
    for (let i = 0, j = 0; i < t.length; i++) {
      while (t[i]! - t[j]! > 10 * 60_000) j++;
      burst = Math.max(burst, i - j + 1);
    }
    expect(burst).toBeGreaterThanOrEqual(30);
  });

  it('enterprise: each org pays with one instrument and egresses through a few shared addresses', () => {
    const accts = w.accountsOf('benign:enterprise');
    const orgs = new Map<string, typeof accts>();
    for (const a of accts) orgs.set(a.org_id!, [...(orgs.get(a.org_id!) ?? []), a]);
    for (const list of orgs.values()) {
      expect(new Set(list.map((a) => a.payment_fingerprint)).size).toBe(1);
      const ids = new Set(list.map((a) => a.account_id));
      const ips = new Set(w.events.filter((e) => ids.has(e.account_id!)).map((e) => e.ip));
      expect(ips.size).toBeLessThanOrEqual(3);
    }
  });

  it('cloud customers run on the entity cloud (AS64500) and are benign with no entity', () => {
    const evs = w.eventsOf('benign:cloud_customer');
    expect(evs.length).toBeGreaterThan(0);
    expect(evs.every((e) => e.asn === 64500 && e.ip!.startsWith('203.0.113.'))).toBe(true);
    for (const id of w.ids('benign:cloud_customer')) expect(w.truth.accounts[id]).toMatchObject({ malicious: false, entity: null });
  });

  it('resellers name their end users and the one carrying campaign users is benign, labelled', () => {
    const evs = w.eventsOf('benign:reseller');
    expect(share(evs, (e) => e.end_user_id !== undefined)).toBe(1);
    const labelled = [...w.ids('benign:reseller')].filter((id) => w.truth.accounts[id]!.labels.includes('reseller_customer_traffic'));
    expect(labelled).toHaveLength(1);
    expect(w.truth.accounts[labelled[0]!]).toMatchObject({ malicious: false, entity: null });
    expect(w.accountsOf('benign:reseller').every((a) => a.declared_use === 'reseller')).toBe(true);
  });

  it('vpn users and travellers appear from several allowed countries, never restricted ones', () => {
    const restricted = new Set(w.scenario.watchlist.restricted_countries);
    for (const [, evs] of byAccount(w.eventsOf('benign:vpn_user'))) expect(evs.some((e) => restricted.has(e.country!))).toBe(false);
    const multi = [...byAccount(w.eventsOf('benign:vpn_user')).values()].filter((evs) => new Set(evs.map((e) => e.country)).size >= 2);
    expect(multi.length).toBeGreaterThan(3);
  });

  it('developers do not share payment instruments', () => {
    const fps = w.accountsOf('benign:developer').map((a) => a.payment_fingerprint).filter(Boolean);
    expect(new Set(fps).size).toBe(fps.length);
  });
});

describe('campaigns', () => {
  it('hydra: every account stays under per-account thresholds while rotating through a shared proxy pool', () => {
    const camp = w.scenario.campaigns.find((c) => c.kind === 'hydra')!;
    if (camp.kind !== 'hydra') throw new Error('no hydra');
    const per = byAccount(w.eventsOf('campaign:hydra'));
    expect(per.size).toBeGreaterThan(30);
    for (const evs of per.values()) {
      expect(maxPerDay(evs)).toBeLessThan(camp.max_requests_per_day);
      expect(maxPerDay(evs)).toBeLessThan(THRESHOLD_DEFAULTS.requestsPerDay);
      if (evs.length >= 10) expect(new Set(evs.map((e) => e.ip)).size / evs.length).toBeGreaterThan(0.5);
    }
    const proxyIps = new Set(w.eventsOf('benign:proxy_user').map((e) => e.ip));
    const shared = w.eventsOf('campaign:hydra').filter((e) => proxyIps.has(e.ip));
    expect(shared.length).toBeGreaterThan(0);
    const accts = w.accountsOf('campaign:hydra');
    const fps = accts.map((a) => a.payment_fingerprint).filter(Boolean);
    expect(fps.length / new Set(fps).size).toBeGreaterThan(2);
    // Its distillation rides with real customers' traffic.
    const evs = w.eventsOf('campaign:hydra');
    expect(share(evs, isBenchmark)).toBeGreaterThan(0.2);
    expect(share(evs, isBenchmark)).toBeLessThan(0.9);
  });

  it('intermediary: shells linked by payment instruments and devices, entity networks, UTC+8 office hours', () => {
    const accts = w.accountsOf('campaign:intermediary');
    expect(new Set(accts.map((a) => a.org_id)).size).toBe(3);
    const fps = new Map<string, Set<string>>();
    for (const a of accts) fps.set(a.payment_fingerprint!, (fps.get(a.payment_fingerprint!) ?? new Set()).add(a.org_id!));
    expect(fps.size).toBeLessThan(accts.length);
    expect([...fps.values()].some((orgs) => orgs.size >= 2)).toBe(true);
    expect(new Set(accts.map((a) => a.device_fingerprint)).size).toBeLessThan(accts.length / 2);
    const evs = w.eventsOf('campaign:intermediary');
    expect(evs.some((e) => e.asn === 64500)).toBe(true);
    expect(share(evs, utc8Office)).toBeGreaterThan(0.7);
    expect(share(evs, isBenchmark)).toBeGreaterThan(0.4);
    for (const a of accts) expect(w.truth.accounts[a.account_id]).toMatchObject({ malicious: true, entity: 'example-conglomerate' });
  });

  it('distillation: chain-of-thought and benchmark sweeps around the clock, surging after the release', () => {
    const evs = w.eventsOf('campaign:distillation');
    expect(share(evs, (e) => /step by step|reasoning|show all of your work|一步一步/i.test(`${e.system ?? ''} ${e.prompt}`))).toBeGreaterThan(0.4);
    expect(share(evs, (e) => (e.tools ?? 0) > 0)).toBeGreaterThan(0.05);
    const release = Date.parse(w.scenario.releases[0]!);
    const first = Date.parse(evs[0]!.ts);
    const perHour = (from: number, to: number) => evs.filter((e) => Date.parse(e.ts) >= from && Date.parse(e.ts) < to).length / ((to - from) / 3_600_000);
    expect(perHour(release, release + 2 * DAY)).toBeGreaterThan(1.5 * perHour(first, release));
    // Around the clock: no UTC hour of the day is silent.
    expect(new Set(evs.map(utcHour)).size).toBeGreaterThanOrEqual(18);
  });

  it('region evasion: declared in allowed countries, seen almost only through VPNs and proxies abroad', () => {
    const restricted = new Set(w.scenario.watchlist.restricted_countries);
    const accts = w.accountsOf('campaign:region_evasion');
    expect(accts.every((a) => !restricted.has(a.declared_country!))).toBe(true);
    const evs = w.eventsOf('campaign:region_evasion');
    expect(share(evs, (e) => restricted.has(e.country!))).toBeLessThan(0.06);
  });

  it('key sharing: one key used from one place, then from many places after the resale', () => {
    const camp = w.scenario.campaigns.find((c) => c.kind === 'key_sharing')!;
    const resale = Date.parse(w.scenario.start) + camp.start_day * DAY;
    for (const evs of byAccount(w.eventsOf('campaign:key_sharing')).values()) {
      const before = evs.filter((e) => Date.parse(e.ts) < resale);
      const after = evs.filter((e) => Date.parse(e.ts) > resale);
      expect(new Set(before.map((e) => e.ip)).size).toBeLessThanOrEqual(1);
      expect(new Set(after.map((e) => e.ip)).size).toBeGreaterThanOrEqual(4);
      expect(new Set(evs.map((e) => e.key_id)).size).toBe(1);
    }
  });

  it('the held-out variant never touches the entity networks and runs around the clock', async () => {
    const v = loadScenario('hard/heldout-variant');
    const small = parseScenario({
      ...v,
      days: 6,
      populations: [],
      campaigns: v.campaigns.filter((c) => c.kind === 'intermediary'),
    });
    const hv = await loadTestWorld(small);
    const evs = hv.eventsOf('campaign:intermediary-variant');
    expect(evs.length).toBeGreaterThan(100);
    expect(evs.some((e) => e.asn === 64500)).toBe(false);
    expect(hv.accountsOf('campaign:intermediary-variant').some((a) => a.signup_ip!.startsWith('203.0.113.'))).toBe(false);
    expect(share(evs, utc8Office)).toBeLessThan(0.7);
    // Only the odd benchmark item is in Chinese (the campaign itself writes none).
    expect(share(evs, (e) => hasZh(e.prompt))).toBeLessThan(0.01);
  });
});

describe('only the signatures claimed', () => {
  const groupsWhere = (f: (e: UsageEvent) => boolean) => new Set(w.events.filter(f).map((e) => w.truth.accounts[e.account_id!]!.group));

  it('only the entity campaign and the cloud customers use the entity cloud', () => {
    expect([...groupsWhere((e) => e.asn === 64500)].sort()).toEqual(['benign:cloud_customer', 'campaign:intermediary']);
  });

  it('only the proxy service customers, the hydra and region evaders use the proxy pool', () => {
    const pool = new Set(w.eventsOf('benign:proxy_user').map((e) => e.ip));
    const groups = groupsWhere((e) => pool.has(e.ip));
    for (const g of groups) expect(['benign:proxy_user', 'campaign:hydra', 'campaign:region_evasion']).toContain(g);
  });

  it('only end users of resellers and apps carry end_user_id', () => {
    const groups = groupsWhere((e) => e.end_user_id !== undefined);
    for (const g of groups) expect(['benign:startup', 'benign:reseller', 'benign:cloud_customer']).toContain(g);
  });

  it('only declared evaluators declare evaluation among benign accounts, and campaigns are never labelled benign', () => {
    for (const a of w.accounts) {
      const t = w.truth.accounts[a.account_id]!;
      if (!t.malicious && a.declared_use === 'evaluation') expect(t.group).toBe('benign:evaluator');
      expect(t.malicious).toBe(t.group.startsWith('campaign:'));
      if (!t.malicious) expect(t.entity).toBeNull();
    }
  });
});

describe('no giveaways', () => {
  const benignEvents = () => w.events.filter((e) => !w.truth.accounts[e.account_id!]!.malicious);
  const benignAccounts = () => w.accounts.filter((a) => !w.truth.accounts[a.account_id]!.malicious);

  it('ids have one format for everybody and accounts are listed by signup time, not by group', () => {
    for (const a of w.accounts) expect(a.account_id).toMatch(/^acc_[a-z2-9]{12}$/);
    for (const e of w.events) expect(e.key_id).toMatch(/^key_[a-z2-9]{12}$/);
    const times = w.accounts.map((a) => a.created_at);
    expect(times).toEqual([...times].sort());
  });

  it('every campaign signal also appears in benign traffic', () => {
    const be = benignEvents();
    const ba = benignAccounts();
    expect(share(be, isBenchmark)).toBeGreaterThan(0.05);
    expect(be.some((e) => /step by step/i.test(e.prompt ?? ''))).toBe(true);
    expect(be.some((e) => hasZh(e.prompt))).toBe(true);
    expect(ba.some((a) => hasZh(a.org_name))).toBe(true);
    expect(be.some((e) => e.asn === 64500)).toBe(true);
    expect(be.filter(isHosting).length).toBeGreaterThan(100);
    const b8 = w.eventsOf('benign:overseas_branch').concat(w.eventsOf('benign:cloud_customer'));
    expect(share(b8, utc8Office)).toBeGreaterThan(0.6);
    const fp = new Map<string, number>();
    for (const a of ba) if (a.payment_fingerprint) fp.set(a.payment_fingerprint, (fp.get(a.payment_fingerprint) ?? 0) + 1);
    expect(Math.max(...fp.values())).toBeGreaterThanOrEqual(5);
    const dev = new Map<string, number>();
    for (const a of ba) dev.set(a.device_fingerprint!, (dev.get(a.device_fingerprint!) ?? 0) + 1);
    expect(Math.max(...dev.values())).toBeGreaterThanOrEqual(3);
    expect(be.some((e) => (e.tools ?? 0) > 0)).toBe(true);
    expect(ba.some((a) => a.owners?.some((o) => o.country === 'CN'))).toBe(true);
  });

  it('uses only real or documentation addresses, never private ranges', () => {
    for (const e of w.events) expect(e.ip).not.toMatch(/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.)/);
    for (const e of w.events) {
      if (e.asn === 64500) continue;
      expect(intel.lookup(e.ip!).asn).toBe(e.asn);
    }
  });
});

afterAll(() => removeTempDirs());

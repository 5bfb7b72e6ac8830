import { describe, expect, it } from 'vitest';
import type { Account, AccountVerdict, UsageEvent, Verdicts, Watchlist } from '../core/index.js';
import { runEngine } from './analyzer.js';
import { account, countryOfIp, event, fakeIntel, HOUR, ipOf, PROMPTS, T0 } from './test-world.js';

const flagged = (v: AccountVerdict | undefined): boolean => v?.recommended_action === 'step_up' || v?.recommended_action === 'block';

function byId(v: Verdicts): Map<string, AccountVerdict> {
  return new Map(v.accounts.map((a) => [a.account_id, a]));
}

async function run(accounts: Account[], events: UsageEvent[], watchlist?: Watchlist): Promise<Verdicts> {
  events.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  return runEngine({ accounts, events, ...(watchlist ? { watchlist } : {}) }, { intel: fakeIntel() });
}

/** A deterministic generator so each test world is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

const ROTATE = ['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'IN', 'CA'];

/** Accounts that rotate residential proxies; `distill` mixes CoT and benchmark sweeps into their traffic. */
function proxyTraffic(ids: string[], opts: { distill: boolean; perAccount: number; seed: number }): UsageEvent[] {
  const r = lcg(opts.seed);
  const out: UsageEvent[] = [];
  ids.forEach((id, k) => {
    for (let i = 0; i < opts.perAccount; i++) {
      const t = T0 + k * 60_000 + Math.floor(r() * 72 * HOUR);
      const ip = ipOf(r() < 0.5 ? 'residential' : 'mobile', ROTATE[Math.floor(r() * ROTATE.length)]!, Math.floor(r() * 5000));
      const roll = r();
      const content =
        opts.distill && roll < 0.4
          ? { prompt: PROMPTS.cot(i), system: PROMPTS.cotSystem, output_tokens: 900 }
          : opts.distill && roll < 0.7
            ? { prompt: PROMPTS.mcq(i) }
            : { prompt: PROMPTS.chat(i), turns: 4 };
      out.push(event(id, t, { ip, ...content }));
    }
  });
  return out;
}

describe('hydra clusters (linkage)', () => {
  it('links accounts of no organisation that share prepaid cards and blocks the cluster', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `h${i}`);
    const accounts = ids.map((id, i) => account(id, { payment_fingerprint: `card_${Math.floor(i / 4)}`, signup_ip: ipOf('residential', 'US', 7000 + i) }));
    const v = await run(accounts, proxyTraffic(ids, { distill: true, perAccount: 40, seed: 1 }));
    const m = byId(v);
    for (const id of ids) {
      expect(flagged(m.get(id)), id).toBe(true);
      expect(m.get(id)!.labels).toContain('hydra_member');
      expect(m.get(id)!.reasons.map((r) => r.code)).toContain('cluster_member');
    }
    const hydra = v.clusters.filter((c) => c.labels.includes('hydra_cluster'));
    expect(hydra.length).toBeGreaterThan(0);
    expect(hydra.flatMap((c) => c.evidence.map((e) => e.code))).toContain('shared_payment_fingerprint');
  });

  it('flags a card-less proxy-service account whose rotating residential traffic carries benchmark and CoT sweeps', async () => {
    // Campaign stock: signed up two days before its first request.
    const v = await run([account('solo', { created_at: '2026-01-31T00:00:00Z', signup_ip: ipOf('residential', 'US', 9000) })], proxyTraffic(['solo'], { distill: true, perAccount: 60, seed: 4 }));
    const a = byId(v).get('solo')!;
    expect(flagged(a)).toBe(true);
    expect(a.reasons.map((r) => r.code)).toContain('benchmark_sweeps_via_residential_proxies');
    expect(a.cluster_id ?? null).toBeNull();
  });

  it('does not flag proxy users who rotate the same residential networks with their own cards and ordinary chats', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const accounts = ids.map((id) => account(id, { payment_fingerprint: `card_${id}`, signup_ip: ipOf('residential', 'GB', 100) }));
    const v = await run(accounts, proxyTraffic(ids, { distill: false, perAccount: 40, seed: 2 }));
    expect(v.accounts.filter(flagged)).toEqual([]);
    expect(v.clusters.filter((c) => c.labels.includes('hydra_cluster'))).toEqual([]);
  });

  it('does not make a hydra cluster of a university course: one campus network, one email domain, near-identical homework', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const accounts = ids.map((id, i) =>
      account(id, { email: `${id}@uni.edu.example`, email_domain: 'uni.edu.example', declared_use: 'research', signup_ip: ipOf('education', 'GB', i % 3), created_at: '2026-01-30T09:00:00Z' }),
    );
    const r = lcg(3);
    const events: UsageEvent[] = [];
    ids.forEach((id, k) => {
      for (let i = 0; i < 15; i++) {
        events.push(event(id, T0 + 18 * HOUR + Math.floor(r() * 6 * HOUR) + k, { ip: ipOf('education', 'GB', Math.floor(r() * 4)), prompt: PROMPTS.homework(i), endpoint: 'chat.completions', turns: 2 }));
      }
    });
    const v = await run(accounts, events);
    expect(v.accounts.filter(flagged)).toEqual([]);
    expect(v.clusters.filter((c) => c.labels.includes('hydra_cluster'))).toEqual([]);
  });
});

/** One account's shallow sweeps: `perDay` requests a day for `days` days, in the given UTC hours. */
/** Request `i` of a sweep: even ones a multiple-choice item, odd ones a CoT question under a CoT system prompt with a long answer. */
function sweepItem(i: number): Partial<UsageEvent> {
  return i % 2 ? { prompt: PROMPTS.cot(i), system: PROMPTS.cotSystem, output_tokens: 900 } : { prompt: PROMPTS.mcq(i) };
}

function sweeps(id: string, opts: { perDay: number; days: number; hours: [number, number]; ip: string; weekdaysOnly?: boolean }): UsageEvent[] {
  const out: UsageEvent[] = [];
  let i = 0;
  for (let d = 0; d < opts.days; d++) {
    const day = T0 + d * 24 * HOUR;
    const span = (opts.hours[1] - opts.hours[0]) * HOUR;
    for (let k = 0; k < opts.perDay; k++) {
      const t = day + opts.hours[0] * HOUR + Math.floor((k / opts.perDay) * span);
      out.push(event(id, t, { ip: opts.ip, output_tokens: 900, input_tokens: 250, ...sweepItem(i) }));
      i++;
    }
  }
  return out;
}

describe('distillation', () => {
  it('reads output harvesting from 30 requests on: a small account\'s long answers are no harvest', async () => {
    // Single-turn chats with answers four times as long as the prompts, from a home line.
    const chats = (id: string, n: number): UsageEvent[] =>
      Array.from({ length: n }, (_, i) => event(id, T0 + i * 3 * HOUR, { ip: ipOf('residential', 'US', 90), prompt: PROMPTS.chat(i), turns: 1, input_tokens: 200, output_tokens: 800 }));
    const m = byId(await run([account('oh1'), account('oh2')], [...chats('oh1', 24), ...chats('oh2', 30)].sort((a, b) => a.ts.localeCompare(b.ts))));
    expect(m.get('oh1')!.reasons.map((r) => r.code)).not.toContain('output_harvesting');
    expect(m.get('oh2')!.reasons.map((r) => r.code)).toContain('output_harvesting');
    expect(flagged(m.get('oh1'))).toBe(false);
  });

  /**
   * Sixty requests, `perDay` a day, from one hosting address: `mc` of them multiple-choice items,
   * `cot` CoT prompts under a CoT system prompt, the rest four-turn chats.
   */
  function slowSweeps(id: string, perDay: number, mix: { mc: number; cot: number }, opts: { n?: number; chatTurns?: number; cotTurns?: number } = {}): UsageEvent[] {
    return Array.from({ length: opts.n ?? 60 }, (_, i) => {
      const roll = (i * 7919) % 100;
      const content =
        roll < 100 * mix.mc
          ? { prompt: PROMPTS.mcq(i) }
          : roll < 100 * (mix.mc + mix.cot)
            ? { prompt: PROMPTS.cot(i), system: PROMPTS.cotSystem, turns: opts.cotTurns ?? 1 }
            : { prompt: PROMPTS.varied(i), turns: opts.chatTurns ?? 4 };
      return event(id, T0 + Math.floor(i / perDay) * 24 * HOUR + (i % perDay) * 30 * 60_000, { ip: ipOf('hosting', 'US', 12), ...content });
    });
  }
  const sustained = (a: AccountVerdict | undefined): boolean => (a?.reasons ?? []).some((r) => r.code === 'sustained_benchmark_sweeps');

  it('steps up a sweep kept up at twenty requests a day: a quarter multiple-choice items, a third CoT, the rest chats', async () => {
    const a = byId(await run([account('ss1', { org_id: 'o9', org_name: 'Slow Labs', declared_use: 'research', payment_fingerprint: 'pm_ss1' })], slowSweeps('ss1', 20, { mc: 0.25, cot: 0.35 }))).get('ss1')!;
    expect(sustained(a)).toBe(true);
    expect(flagged(a)).toBe(true);
  });

  it('does not read one from CoT questions with a tenth multiple-choice items, nor from a declared evaluator\'s harness', async () => {
    const chats = byId(await run([account('ss2')], slowSweeps('ss2', 20, { mc: 0.1, cot: 0.5 }))).get('ss2')!;
    expect(sustained(chats)).toBe(false);
    const evaluator = account('ss3', { org_id: 'o10', org_name: 'Bench Metrics Inc', declared_use: 'evaluation', verification: 'business', payment_fingerprint: 'pm_ss3' });
    const ev = byId(await run([evaluator], slowSweeps('ss3', 10, { mc: 0.5, cot: 0.5 }))).get('ss3')!;
    expect(sustained(ev)).toBe(false);
  });

  it('needs 30 requests, half of them single-turn, and distillation content, not items alone', async () => {
    const read = async (id: string, events: UsageEvent[]): Promise<boolean> => sustained(byId(await run([account(id)], events)).get(id));
    expect(await read('ss4', slowSweeps('ss4', 20, { mc: 0.25, cot: 0.35 }, { n: 29 }))).toBe(false);
    expect(await read('ss5', slowSweeps('ss5', 20, { mc: 0.25, cot: 0.35 }, { n: 30 }))).toBe(true);
    // The same mix with the CoT questions asked in sessions: mostly multi-turn, not a sweep.
    expect(await read('ss6', slowSweeps('ss6', 20, { mc: 0.25, cot: 0.35 }, { cotTurns: 3 }))).toBe(false);
    // Single-turn questions with a fifth multiple-choice items but no CoT: content under 0.5.
    expect(await read('ss7', slowSweeps('ss7', 20, { mc: 0.2, cot: 0 }, { chatTurns: 1 }))).toBe(false);
  });

  it('leaves an established proxy customer on sticky sessions to the proxy rule\'s volume, not a fresh account', async () => {
    // The slow sweep's mix, but from a proxy service's sticky sessions: most requests through one
    // home line in DE, the rest through lines in three other countries (9 blocks in all, too few
    // to read as rotation).
    const at = (e: UsageEvent, ip: string): UsageEvent => ({ ...e, ip, country: countryOfIp(ip) });
    const sticky = slowSweeps('sp0', 10, { mc: 0.25, cot: 0.35 }, { n: 39 }).map((e, i) => at(e, i % 4 ? ipOf('residential', 'DE', 500 + (i % 3)) : ipOf('residential', ['BR', 'GB', 'JP'][i % 3]!, 600 + (i % 6))));
    const a = byId(await run([account('sp0', { created_at: '2025-08-04T00:00:00Z' })], sticky)).get('sp0')!;
    expect(a.reasons.map((r) => r.code)).not.toContain('sustained_benchmark_sweeps');
    // A fresh account (signed up two days before) with the same traffic is a sweep: a distiller's
    // new stock does not escape by sending a few requests through lines abroad.
    const fresh = slowSweeps('sp8', 10, { mc: 0.25, cot: 0.35 }, { n: 39 }).map((e, i) => at(e, sticky[i]!.ip!));
    expect(byId(await run([account('sp8', { created_at: '2026-01-31T00:00:00Z' })], fresh)).get('sp8')!.reasons.map((r) => r.code)).toContain('sustained_benchmark_sweeps');
    // The same traffic from one home line is a sweep of its own.
    const home = slowSweeps('sp9', 10, { mc: 0.25, cot: 0.35 }, { n: 39 }).map((e) => at(e, ipOf('residential', 'DE', 500)));
    expect(byId(await run([account('sp9', { created_at: '2025-08-04T00:00:00Z' })], home)).get('sp9')!.reasons.map((r) => r.code)).toContain('sustained_benchmark_sweeps');
  });

  it('reads the items of traffic that rotates residential proxies once, through the proxy rule', async () => {
    const v = await run([account('sp1', { created_at: '2026-01-31T00:00:00Z', signup_ip: ipOf('residential', 'US', 9100) })], proxyTraffic(['sp1'], { distill: true, perAccount: 60, seed: 9 }));
    const codes = byId(v).get('sp1')!.reasons.map((r) => r.code);
    expect(codes).toContain('benchmark_sweeps_via_residential_proxies');
    expect(codes).not.toContain('sustained_benchmark_sweeps');
  });

  it('does not block a proxy customer whose CoT chats carry a sweep\'s share of items: the items count once', async () => {
    // 44 requests over five days through rotating residential proxies, first used 11 days after
    // signup: 8 multiple-choice items, 22 CoT questions under a CoT system prompt, 14 chats.
    const events = Array.from({ length: 44 }, (_, i) => {
      const ip = ipOf(i % 2 ? 'residential' : 'mobile', ROTATE[i % ROTATE.length]!, 300 + i * 37);
      const content = i % 11 < 2 ? { prompt: PROMPTS.mcq(i) } : i % 11 < 7.5 ? { prompt: PROMPTS.cot(i), system: PROMPTS.cotSystem } : { prompt: PROMPTS.varied(i), turns: 4 };
      return event('pu1', T0 + i * 2.7 * HOUR, { ip, ...content });
    });
    const a = byId(await run([account('pu1', { created_at: new Date(T0 - 11 * 24 * HOUR).toISOString(), signup_ip: ipOf('residential', 'GB', 310) })], events)).get('pu1')!;
    expect(a.reasons.map((r) => r.code)).toContain('benchmark_sweeps_via_residential_proxies');
    expect(a.recommended_action).not.toBe('block');
  });

  it('reads a sweep rate from two active days, or from 20 requests on the first', async () => {
    const codes = async (id: string, events: UsageEvent[]): Promise<string[]> => byId(await run([account(id)], events)).get(id)!.reasons.map((r) => r.code);
    // One evening's 18 single-turn CoT and multiple-choice questions: a session, not a rate.
    expect(await codes('fd1', sweeps('fd1', { perDay: 18, days: 1, hours: [19, 21], ip: ipOf('hosting', 'US', 30) }))).not.toContain('shallow_sweeps');
    // The same 18 again the next evening, or 22 in the one evening: a rate.
    expect(await codes('fd2', sweeps('fd2', { perDay: 18, days: 2, hours: [19, 21], ip: ipOf('hosting', 'US', 31) }))).toContain('shallow_sweeps');
    expect(await codes('fd3', sweeps('fd3', { perDay: 22, days: 1, hours: [19, 21], ip: ipOf('hosting', 'US', 32) }))).toContain('shallow_sweeps');
    expect(await codes('fd4', sweeps('fd4', { perDay: 19, days: 1, hours: [19, 21], ip: ipOf('hosting', 'US', 33) }))).not.toContain('shallow_sweeps');
    expect(await codes('fd5', sweeps('fd5', { perDay: 20, days: 1, hours: [19, 21], ip: ipOf('hosting', 'US', 34) }))).toContain('shallow_sweeps');
  });

  it('flags round-the-clock single-turn CoT and benchmark sweeps with long outputs', async () => {
    const v = await run([account('d1', { org_id: 'o1', org_name: 'Quiet Labs', declared_use: 'research', payment_fingerprint: 'pm_d1' })], sweeps('d1', { perDay: 150, days: 3, hours: [0, 24], ip: ipOf('hosting', 'US', 5) }));
    const a = byId(v).get('d1')!;
    expect(flagged(a)).toBe(true);
    expect(a.labels).toContain('distillation');
    expect(a.first_flagged_at).toBeDefined();
    expect(Date.parse(a.first_flagged_at!)).toBeGreaterThanOrEqual(T0);
  });

  it('does not block an evaluation company running declared benchmark sweeps in office hours', async () => {
    const acc = account('ev1', { org_id: 'o2', org_name: 'Bench Metrics Inc', declared_use: 'evaluation', verification: 'business', payment_fingerprint: 'pm_ev' });
    const v = await run([acc], sweeps('ev1', { perDay: 80, days: 2, hours: [14, 16], ip: ipOf('hosting', 'US', 9) }));
    const a = byId(v).get('ev1')!;
    expect(flagged(a)).toBe(false);
    expect(a.recommended_action).not.toBe('block');
  });

  it('flags single-turn CoT and benchmark sweeps at 30 a day with short outputs on the first day', async () => {
    const events = sweeps('d2', { perDay: 30, days: 1, hours: [9, 17], ip: ipOf('hosting', 'US', 6) }).map((e) => ({ ...e, output_tokens: 250 }));
    const a = byId(await run([account('d2', { org_id: 'o3', org_name: 'Steady Labs', declared_use: 'research', payment_fingerprint: 'pm_d2' })], events)).get('d2')!;
    expect(flagged(a)).toBe(true);
    expect(a.reasons.map((r) => r.code)).toContain('shallow_sweeps');
  });

  it('does not flag the same sweeps at 10 a day (a person practising benchmark questions)', async () => {
    const events = sweeps('d3', { perDay: 10, days: 2, hours: [9, 17], ip: ipOf('hosting', 'US', 7) }).map((e) => ({ ...e, output_tokens: 250 }));
    const a = byId(await run([account('d3', { declared_use: 'research', payment_fingerprint: 'pm_d3' })], events)).get('d3')!;
    expect(flagged(a)).toBe(false);
  });

  /** A declared, verified evaluator's three days of sweeps; `sessions` mixes in multi-turn sessions with tools (every third request). */
  function evaluatorTraffic(id: string, sessions: boolean): UsageEvent[] {
    return sweeps(id, { perDay: 120, days: 3, hours: [1, 11], ip: ipOf('hosting', 'US', 11) }).map((e, i) => (sessions && i % 3 === 2 ? { ...e, prompt: PROMPTS.chat(i), system: undefined, turns: 7, tools: 3, output_tokens: 300 } : e));
  }
  const evaluatorAccount = (id: string): Account => account(id, { org_id: `o_${id}`, org_name: 'Bench Metrics Inc', declared_use: 'evaluation', verification: 'business', payment_fingerprint: `pm_${id}` });

  it('does not let an evaluation declaration discount sweeps that come with a third multi-turn sessions', async () => {
    const a = byId(await run([evaluatorAccount('ev2')], evaluatorTraffic('ev2', true))).get('ev2')!;
    expect(flagged(a)).toBe(true);
    expect(a.labels).toContain('capability_probing');
  });

  it('keeps the discount for a declared evaluator whose same volume is single-turn items only', async () => {
    const a = byId(await run([evaluatorAccount('ev3')], evaluatorTraffic('ev3', false))).get('ev3')!;
    expect(flagged(a)).toBe(false);
  });

  it('keeps the discount for a declared evaluator sweeping on the four days or the week after a release, and not for one that sweeps every day for eleven days', async () => {
    const days = (id: string, n: number): UsageEvent[] => sweeps(id, { perDay: 120, days: n, hours: [1, 11], ip: ipOf('hosting', 'US', 12) });
    const m = byId(await run([evaluatorAccount('ev4'), evaluatorAccount('ev6'), evaluatorAccount('ev5')], [...days('ev4', 4), ...days('ev6', 7), ...days('ev5', 11)].sort((a, b) => a.ts.localeCompare(b.ts))));
    expect(flagged(m.get('ev4'))).toBe(false);
    expect(flagged(m.get('ev6'))).toBe(false);
    expect(flagged(m.get('ev5'))).toBe(true);
    expect(m.get('ev5')!.labels).toContain('capability_probing');
  });
});


/** A small account's requests through rotating residential proxies: `mcq` multiple-choice items, `cot` CoT prompts under a CoT system prompt, the rest multi-turn chats. */
function smallProxyAccount(id: string, mix: { mcq: number; cot: number; chat: number }): UsageEvent[] {
  const kinds = [...Array<string>(mix.mcq).fill('mcq'), ...Array<string>(mix.cot).fill('cot'), ...Array<string>(mix.chat).fill('chat')];
  return kinds.map((k, i) => {
    const ip = ipOf(i % 3 === 0 ? 'mobile' : 'residential', ROTATE[i % ROTATE.length]!, 300 + 37 * i);
    const content = k === 'mcq' ? { prompt: PROMPTS.mcq(i) } : k === 'cot' ? { prompt: PROMPTS.cot(i), system: PROMPTS.cotSystem, output_tokens: 900 } : { prompt: PROMPTS.chat(i), turns: 4 };
    return event(id, T0 + i * 5 * HOUR, { ip, ...content });
  });
}

describe('card-less proxy accounts with few requests', () => {
  it('steps up a 16-request account whose rotating residential traffic is a dense benchmark and CoT mix', async () => {
    const v = await run([account('few', { created_at: '2026-01-31T00:00:00Z', signup_ip: ipOf('residential', 'US', 9100) })], smallProxyAccount('few', { mcq: 6, cot: 5, chat: 5 }));
    const a = byId(v).get('few')!;
    expect(flagged(a)).toBe(true);
    expect(a.recommended_action).toBe('step_up');
    expect(a.reasons.map((r) => r.code)).toContain('benchmark_sweeps_via_residential_proxies');
  });

  it('does not flag a 16-request proxy user with a few benchmark-looking questions, though its rates pass the bar for larger accounts', async () => {
    // 3 multiple-choice items (19%), 5 CoT prompts (31%): over the 12% / 18% / 5% asked of 25+ requests.
    const v = await run([account('pu', { payment_fingerprint: 'pm_pu', signup_ip: ipOf('residential', 'GB', 9200) })], smallProxyAccount('pu', { mcq: 3, cot: 5, chat: 8 }));
    const a = byId(v).get('pu')!;
    expect(flagged(a)).toBe(false);
    expect(a.reasons.map((r) => r.code)).not.toContain('benchmark_sweeps_via_residential_proxies');
  });
});

describe('benchmark sweeps through residential proxies: fresh stock and established customers', () => {
  // 30 requests: 6 multiple-choice items (20%), 10 CoT prompts under a CoT system prompt, 14
  // chats: over the 12% / 18% / 5% asked of 25+ requests.
  const mix = { mcq: 6, cot: 10, chat: 14 };

  it('steps up an account first used two days after signup whose rotating residential traffic carries the mix', async () => {
    const v = await run([account('stock', { created_at: '2026-01-31T00:00:00Z', signup_ip: ipOf('residential', 'US', 9300) })], smallProxyAccount('stock', mix));
    const a = byId(v).get('stock')!;
    expect(flagged(a)).toBe(true);
    expect(a.reasons.map((r) => r.code)).toContain('benchmark_sweeps_via_residential_proxies');
    expect(a.reasons.find((r) => r.code === 'benchmark_sweeps_via_residential_proxies')!.detail).toContain('first request 2 days after signup');
  });

  it('does not flag a proxy customer of a year with the same traffic: six multiple-choice questions are no sweep', async () => {
    const v = await run([account('cust', { created_at: '2025-02-01T00:00:00Z', payment_fingerprint: 'pm_cust', signup_ip: ipOf('residential', 'GB', 9400) })], smallProxyAccount('cust', mix));
    const a = byId(v).get('cust')!;
    expect(flagged(a)).toBe(false);
    expect(a.reasons.map((r) => r.code)).toContain('rotating_residential_proxy');
    expect(a.reasons.map((r) => r.code)).not.toContain('benchmark_sweeps_via_residential_proxies');
  });

  it('does not flag a heavy proxy customer of a year whose homework piled up 18 multiple-choice items; the same traffic from fresh stock steps up', async () => {
    // 96 requests: 18 items (19%), 22 CoT prompts, 56 chats, as a heavy user's months of homework.
    const homework = { mcq: 18, cot: 22, chat: 56 };
    const aged = byId(await run([account('aged', { created_at: '2025-02-01T00:00:00Z', payment_fingerprint: 'pm_aged', signup_ip: ipOf('residential', 'GB', 9500) })], smallProxyAccount('aged', homework))).get('aged')!;
    expect(flagged(aged)).toBe(false);
    expect(aged.reasons.map((r) => r.code)).toContain('rotating_residential_proxy');
    expect(aged.reasons.map((r) => r.code)).not.toContain('benchmark_sweeps_via_residential_proxies');
    const stock = byId(await run([account('stock', { created_at: '2026-01-31T00:00:00Z', signup_ip: ipOf('residential', 'US', 9300) })], smallProxyAccount('stock', homework))).get('stock')!;
    expect(stock.reasons.map((r) => r.code)).toContain('benchmark_sweeps_via_residential_proxies');
    expect(flagged(stock)).toBe(true);
  });

  it('still steps up an established account at a sweep\'s volume (30 or more multiple-choice items)', async () => {
    const v = await run([account('aged', { created_at: '2025-02-01T00:00:00Z', signup_ip: ipOf('residential', 'GB', 9500) })], smallProxyAccount('aged', { mcq: 32, cot: 24, chat: 24 }));
    const a = byId(v).get('aged')!;
    expect(flagged(a)).toBe(true);
    expect(a.reasons.map((r) => r.code)).toContain('benchmark_sweeps_via_residential_proxies');
    expect(a.reasons.find((r) => r.code === 'benchmark_sweeps_via_residential_proxies')!.detail).toContain('(32)');
  });
});

describe('resellers', () => {
  function resellerWorld(declared: Account['declared_use']): { accounts: Account[]; events: UsageEvent[] } {
    const id = 'r1';
    const events: UsageEvent[] = [];
    const r = lcg(5);
    const langs = [PROMPTS.varied, PROMPTS.zhVaried];
    for (let i = 0; i < 600; i++) {
      const t = T0 + Math.floor((i / 600) * 72 * HOUR);
      const campaignUser = i % 10 === 0;
      const user = campaignUser ? `cu_${i % 3}` : `u_${Math.floor(r() * 60)}`;
      const content = campaignUser ? { prompt: i % 20 === 0 ? PROMPTS.mcq(i) : PROMPTS.cot(i), turns: 1 } : { prompt: langs[i % 2]!(i), turns: 3 };
      events.push(event(id, t, { ip: ipOf('hosting', 'SG', i % 4), end_user_id: user, endpoint: 'chat.completions', ...content }));
    }
    return { accounts: [account(id, { org_id: 'or1', org_name: 'Relay AI Pte', declared_use: declared, verification: 'business', declared_country: 'SG' })], events };
  }

  it('monitors a declared reseller whose end users run a sweep campaign, naming those end users, and never blocks it', async () => {
    const w = resellerWorld('reseller');
    const a = byId(await run(w.accounts, w.events)).get('r1')!;
    expect(a.recommended_action).toBe('monitor');
    expect(a.labels).toContain('reseller_customer_traffic');
    expect(a.end_user_ids).toEqual(['cu_0', 'cu_1', 'cu_2']);
  });

  /** Six customers' sweeps first (seven requests each: too few to name any of them), then chats. */
  function earlySweeps(declared: Account['declared_use']): { accounts: Account[]; events: UsageEvent[] } {
    const events: UsageEvent[] = [];
    for (let i = 0; i < 42; i++) events.push(event('r2', T0 + i * 2 * 60_000, { ip: ipOf('hosting', 'SG', i % 4), end_user_id: `cu_${i % 6}`, endpoint: 'chat.completions', ...sweepItem(i) }));
    for (let i = 0; i < 200; i++) events.push(event('r2', T0 + 3 * HOUR + i * 20 * 60_000, { ip: ipOf('hosting', 'SG', i % 4), end_user_id: `u_${i % 40}`, endpoint: 'chat.completions', prompt: PROMPTS.varied(i), turns: 3 }));
    return { accounts: [account('r2', { org_id: 'or2', org_name: 'Relay Two Ltd', declared_use: declared, verification: 'business', declared_country: 'SG' })], events };
  }

  it('never flags a declared reseller, not even online before any customer of a sweep can be named', async () => {
    const w = earlySweeps('reseller');
    const a = byId(await run(w.accounts, w.events)).get('r2')!;
    expect(a.first_flagged_at).toBeUndefined();
    expect(flagged(a)).toBe(false);
  });

  /** A declared reseller's 300 round-the-clock sweeps; `user(i)` tags request i (or not). */
  function resellerSweeps(id: string, user: (i: number) => string | undefined): { accounts: Account[]; events: UsageEvent[] } {
    const events = Array.from({ length: 300 }, (_, i) => {
      const u = user(i);
      return event(id, T0 + i * 12 * 60_000, { ip: ipOf('hosting', 'SG', i % 4), endpoint: 'chat.completions', ...(u ? { end_user_id: u } : {}), ...sweepItem(i) });
    });
    return { accounts: [account(id, { org_id: `or_${id}`, org_name: 'Relay Three Ltd', declared_use: 'reseller', verification: 'business', declared_country: 'SG' })], events };
  }

  it('gives no such grace to sweeps tagged with a fresh end user each, to a reseller\'s own untagged sweeps, or for long', async () => {
    const fresh = resellerSweeps('r3', (i) => `fresh_${i}`);
    const own = resellerSweeps('r4', (i) => (i % 10 < 3 ? `cu_${i % 5}` : undefined));
    // Seven requests per end user: none can be named, for all 300 requests.
    const rotated = resellerSweeps('r5', (i) => `rot_${Math.floor(i / 7)}`);
    const m = byId(await run([...fresh.accounts, ...own.accounts, ...rotated.accounts], [...fresh.events, ...own.events, ...rotated.events]));
    for (const id of ['r3', 'r4', 'r5']) expect(flagged(m.get(id)), id).toBe(true);
  });

  it('flags the same early sweeps online from an account that did not declare reselling', async () => {
    const w = earlySweeps('consumer');
    const a = byId(await run(w.accounts, w.events)).get('r2')!;
    expect(a.first_flagged_at).toBeDefined();
    expect(Date.parse(a.first_flagged_at!)).toBeLessThan(T0 + 3 * HOUR);
  });

  it('calls the same traffic an undeclared reseller when the account did not declare reselling', async () => {
    const w = resellerWorld('consumer');
    const a = byId(await run(w.accounts, w.events)).get('r1')!;
    expect(a.labels).toContain('undeclared_reseller');
    expect(a.recommended_action).not.toBe('none');
  });
});

describe('region evasion', () => {
  /**
   * Accounts `${prefix}0…` declaring each of `countries` (with a card from there), each sending one
   * plain request from each of `ips`, an hour apart by account and a minute by address: they make
   * a residential address a shared exit once a fourth declared country connects from it.
   */
  function sharedBy(prefix: string, countries: string[], ips: string[]): { accounts: Account[]; events: UsageEvent[] } {
    const accounts = countries.map((c, i) => account(`${prefix}${i}`, { declared_country: c, payment_fingerprint: `pm_${prefix}${i}`, payment_country: c }));
    const events = accounts.flatMap((u, i) => ips.map((ip, k) => event(u.account_id, T0 + i * HOUR + k * 60_000, { ip, prompt: PROMPTS.chat(i), turns: 3 })));
    return { accounts, events };
  }

  it('flags VPN traffic whose language and payment country contradict the declared country', async () => {
    const acc = account('re1', { declared_country: 'US', payment_fingerprint: 'pm_re1', payment_country: 'HK' });
    const events = Array.from({ length: 24 }, (_, i) => event('re1', T0 + i * 2 * HOUR, { ip: ipOf('vpn', i % 2 ? 'JP' : 'SG', i % 2), prompt: PROMPTS.zhChat(i), turns: 3 }));
    const a = byId(await run([acc], events)).get('re1')!;
    expect(flagged(a)).toBe(true);
    expect(a.labels).toContain('region_evasion');
  });

  it('flags within the quarter hour its evidence arrives, not at the next full hour', async () => {
    const acc = account('re8', { declared_country: 'US', payment_fingerprint: 'pm_re8', payment_country: 'HK' });
    // Requests every two minutes from 00:31 to 01:15: seven of them by the 00:45 evaluation.
    const events = Array.from({ length: 23 }, (_, i) => event('re8', T0 + 31 * 60_000 + i * 2 * 60_000, { ip: ipOf('vpn', 'SG', i % 2), prompt: PROMPTS.zhChat(i), turns: 3 }));
    const a = byId(await run([acc], events)).get('re8')!;
    expect(flagged(a)).toBe(true);
    expect(a.first_flagged_at).toBe(new Date(T0 + 45 * 60_000).toISOString());
  });

  it('flags an account that signed up through a VPN exit with a foreign card, before any traffic, and not one with a matching card', async () => {
    const evader = account('re2', { declared_country: 'GB', payment_fingerprint: 'pm_re2', payment_country: 'HK', signup_ip: ipOf('vpn', 'NL', 3), created_at: new Date(T0 - HOUR).toISOString() });
    const traveller = account('re3', { declared_country: 'GB', payment_fingerprint: 'pm_re3', payment_country: 'GB', signup_ip: ipOf('vpn', 'NL', 4), created_at: new Date(T0 - HOUR).toISOString() });
    const other = event('dev', T0 + 2 * HOUR, { ip: ipOf('residential', 'US', 1), prompt: PROMPTS.chat(1) });
    const m = byId(await run([evader, traveller, account('dev')], [other]));
    expect(flagged(m.get('re2'))).toBe(true);
    expect(m.get('re2')!.labels).toContain('region_evasion');
    expect(m.get('re2')!.first_flagged_at).toBeDefined();
    expect(flagged(m.get('re3'))).toBe(false);
  });

  it('reads an account signed up at home from its third request: four VPN requests mostly in Chinese from a US account, and not four in English', async () => {
    const home = { declared_country: 'US', payment_country: 'US', created_at: new Date(T0 - 24 * HOUR).toISOString() };
    const evader = account('re9', { ...home, payment_fingerprint: 'pm_re9', signup_ip: ipOf('residential', 'US', 21) });
    const privacy = account('vu9', { ...home, payment_fingerprint: 'pm_vu9', signup_ip: ipOf('residential', 'US', 2100) });
    // Each through exits of its own (a shared exit block would link the two).
    const four = (id: string, host: number, prompt: (i: number) => string): UsageEvent[] =>
      Array.from({ length: 4 }, (_, i) => event(id, T0 + 2 * HOUR + i * 5 * 60_000, { ip: ipOf('vpn', 'DE', host + (i % 2)), prompt: prompt(i), turns: 2 }));
    const m = byId(await run([evader, privacy], [...four('re9', 0, (i) => (i === 3 ? PROMPTS.chat(i) : PROMPTS.zhChat(i))), ...four('vu9', 1000, PROMPTS.chat)]));
    expect(flagged(m.get('re9'))).toBe(true);
    expect(m.get('re9')!.labels).toContain('region_evasion');
    expect(m.get('re9')!.reasons.map((r) => r.detail).join(' ')).toMatch(/zh prompts/);
    expect(flagged(m.get('vu9'))).toBe(false);
  });

  it('does not flag a VPN user whose payment, language and home network agree with the declared country', async () => {
    const acc = account('vu1', { declared_country: 'DE', payment_fingerprint: 'pm_vu1', payment_country: 'DE' });
    const events = Array.from({ length: 24 }, (_, i) =>
      event('vu1', T0 + 8 * HOUR + (i % 8) * HOUR + Math.floor(i / 8) * 24 * HOUR, { ip: i % 3 === 0 ? ipOf('residential', 'DE', 1) : ipOf('vpn', 'NL', 1), prompt: PROMPTS.chat(i), turns: 3 }),
    );
    const a = byId(await run([acc], events)).get('vu1')!;
    expect(flagged(a)).toBe(false);
  });

  /** Office hours in Germany; two requests in three through a VPN exit (in NL), the rest from `plain` networks in turn. */
  function vpnAndPlain(id: string, plain: string[], vpn = 'NL'): UsageEvent[] {
    return Array.from({ length: 30 }, (_, i) =>
      event(id, T0 + 8 * HOUR + (i % 8) * HOUR + Math.floor(i / 8) * 24 * HOUR, { ip: i % 3 === 0 ? plain[(i / 3) % plain.length]! : ipOf('vpn', vpn, 1), prompt: PROMPTS.chat(i), turns: 3 }),
    );
  }

  it('flags an account with a matching card and English prompts whose only plain connections are residential exits in other countries', async () => {
    const acc = account('re4', { declared_country: 'DE', payment_fingerprint: 'pm_re4', payment_country: 'DE' });
    const a = byId(await run([acc], vpnAndPlain('re4', [ipOf('residential', 'US', 11), ipOf('residential', 'GB', 12), ipOf('mobile', 'FR', 13)]))).get('re4')!;
    expect(flagged(a)).toBe(true);
    expect(a.labels).toContain('region_evasion');
    expect(a.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('without an anonymizer');
  });

  it('does not flag a traveller on a VPN and hotel networks in two countries, nor a VPN user who connects from home now and then', async () => {
    const traveller = account('tr1', { declared_country: 'DE', payment_fingerprint: 'pm_tr1', payment_country: 'DE' });
    const home = account('tr2', { declared_country: 'DE', payment_fingerprint: 'pm_tr2', payment_country: 'DE' });
    const m = byId(await run([traveller, home], [...vpnAndPlain('tr1', [ipOf('business', 'FR', 21), ipOf('residential', 'GB', 22)]), ...vpnAndPlain('tr2', [ipOf('residential', 'DE', 23), ipOf('residential', 'DE', 23), ipOf('mobile', 'US', 24), ipOf('residential', 'GB', 25), ipOf('residential', 'FR', 26)], 'DE')]));
    expect(m.get('tr1')!.recommended_action).toBe('none');
    expect(flagged(m.get('tr2'))).toBe(false);
  });

  /** German office hours, every request through a VPN exit in NL; `zh` of every 12 prompts in Chinese, the rest English. */
  function vpnMixedLanguage(id: string, zh: number): UsageEvent[] {
    return Array.from({ length: 12 }, (_, i) =>
      event(id, T0 + 8 * HOUR + (i % 8) * HOUR + Math.floor(i / 8) * 24 * HOUR, { ip: ipOf('vpn', 'NL', 1), prompt: i % 12 < zh ? PROMPTS.zhChat(i) : PROMPTS.chat(i), turns: 3 }),
    );
  }

  it('flags a VPN account whose prompts are a third Chinese although English leads, and not one with a Chinese prompt now and then', async () => {
    const mixed = account('re5', { declared_country: 'DE', payment_fingerprint: 'pm_re5', payment_country: 'DE' });
    const now = account('vu2', { declared_country: 'DE', payment_fingerprint: 'pm_vu2', payment_country: 'DE' });
    const m = byId(await run([mixed, now], [...vpnMixedLanguage('re5', 4), ...vpnMixedLanguage('vu2', 2)]));
    expect(flagged(m.get('re5'))).toBe(true);
    expect(m.get('re5')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('33% of prompts in zh');
    // 2 of 12 (17%): a German VPN user who writes to a Chinese friend or colleague now and then.
    expect(m.get('vu2')!.recommended_action).toBe('none');
  });

  /** German office hours, 30 requests, a third of the prompts in Chinese; one request in `homeEvery` from a German home line, the rest through a VPN exit in NL. */
  function residentMixedLanguage(id: string, homeEvery: number): UsageEvent[] {
    return Array.from({ length: 30 }, (_, i) =>
      event(id, T0 + 8 * HOUR + (i % 8) * HOUR + Math.floor(i / 8) * 24 * HOUR, { ip: i % homeEvery === 0 ? ipOf('residential', 'DE', 61) : ipOf('vpn', 'NL', 1), prompt: i % 3 === 0 ? PROMPTS.zhChat(i) : PROMPTS.chat(i), turns: 3 }),
    );
  }

  it('does not count another region\'s language or a foreign card against a user who connects from home in the declared country half the time, and does when home is rare', async () => {
    // Half from a German home line: a resident who writes Chinese and pays with a Taiwanese card.
    const resident = account('dv1', { declared_country: 'DE', payment_fingerprint: 'pm_dv1', payment_country: 'TW' });
    // One request in ten from that home line (10%): the VPN is the rule, home the exception.
    const rare = account('re9', { declared_country: 'DE', payment_fingerprint: 'pm_re9', payment_country: 'DE' });
    // One request in five from home (20%): a developer whose other requests go through a hosting range on an anonymizer list.
    const dev = account('dv2', { declared_country: 'DE', payment_fingerprint: 'pm_dv2', payment_country: 'DE' });
    const m = byId(await run([resident, rare, dev], [...residentMixedLanguage('dv1', 2), ...residentMixedLanguage('re9', 10), ...residentMixedLanguage('dv2', 5)].sort((a, b) => a.ts.localeCompare(b.ts))));
    expect(flagged(m.get('dv1'))).toBe(false);
    expect(flagged(m.get('dv2'))).toBe(false);
    expect(flagged(m.get('re9'))).toBe(true);
    expect(m.get('re9')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('of prompts in zh');
  });

  it('flags a small VPN account whose only plain connections come from three other countries, and not a traveller on one hotel network', async () => {
    const evader = account('re6', { declared_country: 'DE', payment_fingerprint: 'pm_re6', payment_country: 'DE' });
    const traveller = account('tr3', { declared_country: 'DE', payment_fingerprint: 'pm_tr3', payment_country: 'DE' });
    const six = (id: string, plain: string[]): UsageEvent[] =>
      Array.from({ length: 6 }, (_, i) => event(id, T0 + 8 * HOUR + i * HOUR, { ip: i % 2 === 0 ? plain[i / 2]! : ipOf('vpn', 'NL', 1), prompt: PROMPTS.chat(i), turns: 3 }));
    const m = byId(
      await run(
        [evader, traveller],
        [...six('re6', [ipOf('residential', 'US', 31), ipOf('mobile', 'FR', 32), ipOf('residential', 'GB', 33)]), ...six('tr3', [ipOf('business', 'FR', 34), ipOf('business', 'FR', 34), ipOf('business', 'FR', 34)])],
      ),
    );
    expect(flagged(m.get('re6'))).toBe(true);
    expect(m.get('re6')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('3 other countries');
    expect(m.get('tr3')!.recommended_action).toBe('none');
  });

  it('steps up a VPN account whose one plain connection is a residential exit that accounts of four countries share, and not a traveller on a home line abroad or a line three countries share', async () => {
    // A residential proxy exit: accounts declaring three countries connect from it, none of them through a VPN, and the evader makes four.
    const exit = ipOf('residential', 'US', 51);
    const { accounts: users, events: shared } = sharedBy('px', ['US', 'GB', 'FR'], [exit]);
    const evader = account('re8', { declared_country: 'DE', payment_fingerprint: 'pm_re8', payment_country: 'DE' });
    const traveller = account('tr5', { declared_country: 'DE', payment_fingerprint: 'pm_tr5', payment_country: 'DE' });
    const eight = (id: string, plain: string): UsageEvent[] =>
      Array.from({ length: 8 }, (_, i) => event(id, T0 + 8 * HOUR + i * HOUR, { ip: i === 3 ? plain : ipOf('vpn', 'NL', 1), prompt: PROMPTS.chat(i), turns: 3 }));
    // A home address that accounts of three declared countries use (this one's included) is not yet an exit.
    const near = ipOf('residential', 'US', 53);
    const { accounts: few, events: fewShared } = sharedBy('pn', ['US', 'GB'], [near]);
    const third = account('re9', { declared_country: 'DE', payment_fingerprint: 'pm_re9', payment_country: 'DE' });
    const m = byId(
      await run(
        [...users, evader, traveller, ...few, third],
        [...shared, ...eight('re8', exit), ...eight('tr5', ipOf('residential', 'US', 52)), ...fewShared, ...eight('re9', near)].sort((a, b) => a.ts.localeCompare(b.ts)),
      ),
    );
    expect(m.get('re9')!.recommended_action).toBe('none');
    expect(flagged(m.get('re8'))).toBe(true);
    expect(m.get('re8')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('residential proxy exits');
    expect(m.get('tr5')!.recommended_action).toBe('none');
    for (const u of users) expect(m.get(u.account_id)!.recommended_action).toBe('none');
  });

  it('does not read a shared exit as a proxy pool\'s when it is the account\'s one plain line, visit after visit, and does when the plain requests rotate across exits', async () => {
    // Two residential addresses that accounts of three other declared countries use: the two
    // accounts below make them exits. One stays at a place on one of them (a host's line that a
    // pool also uses); the other's plain requests come through both, as a pool rotates them.
    const exits = [ipOf('residential', 'US', 54), ipOf('residential', 'GB', 55)];
    const { accounts: users, events: shared } = sharedBy('py', ['US', 'GB', 'FR'], exits);
    const stay = account('tr8', { declared_country: 'DE', payment_fingerprint: 'pm_tr8', payment_country: 'DE' });
    const pool = account('re10', { declared_country: 'DE', payment_fingerprint: 'pm_re10', payment_country: 'DE' });
    // Eight requests an hour apart through a VPN exit, but the third and the seventh (four hours apart: two visits).
    const eight = (id: string, plain: (i: number) => string): UsageEvent[] =>
      Array.from({ length: 8 }, (_, i) => event(id, T0 + 8 * HOUR + i * HOUR, { ip: i === 2 || i === 6 ? plain(i) : ipOf('vpn', 'NL', 1), prompt: PROMPTS.chat(i), turns: 3 }));
    const m = byId(await run([...users, stay, pool], [...shared, ...eight('tr8', () => exits[0]!), ...eight('re10', (i) => exits[i === 2 ? 0 : 1]!)].sort((a, b) => a.ts.localeCompare(b.ts))));
    expect(m.get('tr8')!.recommended_action).toBe('none');
    expect(flagged(m.get('re10'))).toBe(true);
    expect(m.get('re10')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('residential proxy exits');
  });

  it('does not count a foreign card against a business-verified company account that signed up through a VPN, and does against a person\'s account', async () => {
    const at = new Date(T0 - HOUR).toISOString();
    // A Hong Kong branch of a British company on its parent's card, signed up through a VPN exit, no traffic yet.
    const branch = account('ob2', { declared_country: 'HK', org_id: 'org_harbor', verification: 'business', payment_fingerprint: 'pm_harbor', payment_country: 'GB', signup_ip: ipOf('vpn', 'NL', 87), created_at: at });
    // The same record without the verified company: an evader's.
    const person = account('re12', { declared_country: 'HK', verification: 'email', payment_fingerprint: 'pm_re12', payment_country: 'GB', signup_ip: ipOf('vpn', 'NL', 88), created_at: at });
    const m = byId(await run([branch, person], [event('zz', T0, { ip: ipOf('residential', 'US', 89), prompt: PROMPTS.chat(0) })]));
    expect(m.get('ob2')!.recommended_action).toBe('none');
    expect(flagged(m.get('re12'))).toBe(true);
    expect(m.get('re12')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('payment instrument from GB');
  });

  it('counts a user with one of three requests plainly from home in the declared country as a resident, whose Chinese prompts are no contradiction', async () => {
    // A German developer: two Chinese prompts from its home line, one request through a hosting range an anonymizer list names.
    const dev = account('dv3', { declared_country: 'DE', payment_fingerprint: 'pm_dv3', payment_country: 'DE' });
    const evader = account('re13', { declared_country: 'DE', payment_fingerprint: 'pm_re13', payment_country: 'DE' });
    const three = (id: string, home: string): UsageEvent[] => [
      event(id, T0 + 10 * HOUR, { ip: home, prompt: PROMPTS.zhChat(0), turns: 2 }),
      event(id, T0 + 10 * HOUR + 30_000, { ip: home, prompt: PROMPTS.zhChat(1), turns: 2 }),
      event(id, T0 + 10 * HOUR + 60_000, { ip: ipOf('vpn', 'DE', 2), prompt: PROMPTS.chat(2), turns: 2 }),
    ];
    // The evader's plain line is its home abroad (Taiwan).
    const m = byId(await run([dev, evader], [...three('dv3', ipOf('residential', 'DE', 62)), ...three('re13', ipOf('residential', 'TW', 63))]));
    expect(m.get('dv3')!.recommended_action).toBe('none');
    expect(flagged(m.get('re13'))).toBe(true);
    expect(m.get('re13')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('mostly zh prompts');
  });

  it('reads another region\'s language from two prompts on, not from one', async () => {
    const at = new Date(T0 - HOUR).toISOString();
    const vpn = (id: string, k: number, zh: boolean): UsageEvent => event(id, T0 + (2 + k) * HOUR, { ip: ipOf('vpn', 'NL', 1), prompt: zh ? PROMPTS.zhChat(k) : PROMPTS.chat(k), turns: 3 });
    // Both signed up through a VPN exit: one quoted a Chinese sentence once in two requests, the other wrote two of three prompts in Chinese.
    const once = account('vu5', { declared_country: 'US', payment_fingerprint: 'pm_vu5', payment_country: 'US', signup_ip: ipOf('vpn', 'NL', 85), created_at: at });
    const twice = account('re11', { declared_country: 'US', payment_fingerprint: 'pm_re11', payment_country: 'US', signup_ip: ipOf('vpn', 'NL', 86), created_at: at });
    const m = byId(await run([once, twice], [vpn('vu5', 0, true), vpn('vu5', 1, false), vpn('re11', 0, true), vpn('re11', 1, true), vpn('re11', 2, false)]));
    expect(m.get('vu5')!.recommended_action).toBe('none');
    expect(flagged(m.get('re11'))).toBe(true);
    expect(m.get('re11')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('mostly zh prompts');
  });

  it('steps up an account that signed up from a home network abroad and pays with a card from there, and not an office abroad or a user who comes home', async () => {
    const at = new Date(T0 - HOUR).toISOString();
    // Declares the US, signed up from a Chinese home line, pays with a Hong Kong card, no traffic yet.
    const evader = account('re7', { declared_country: 'US', payment_fingerprint: 'pm_re7', payment_country: 'HK', signup_ip: ipOf('residential', 'CN', 41), created_at: at });
    // An overseas branch: a foreign card, signed up from its office network (business, not home).
    const branch = account('ob1', { declared_country: 'US', payment_fingerprint: 'pm_ob1', payment_country: 'DE', signup_ip: ipOf('business', 'DE', 42), created_at: at });
    // Signed up on holiday from a French home line through no VPN, pays at home, uses the API from home.
    const holiday = account('tr4', { declared_country: 'US', payment_fingerprint: 'pm_tr4', payment_country: 'US', signup_ip: ipOf('residential', 'FR', 43), created_at: at });
    const home = Array.from({ length: 8 }, (_, i) => event('tr4', T0 + 15 * HOUR + i * HOUR, { ip: ipOf('residential', 'US', 44), prompt: PROMPTS.chat(i), turns: 3 }));
    const m = byId(await run([evader, branch, holiday], home));
    expect(flagged(m.get('re7'))).toBe(true);
    expect(m.get('re7')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('signed up from a residential network in CN');
    expect(m.get('ob1')!.recommended_action).toBe('none');
    expect(m.get('tr4')!.recommended_action).toBe('none');
  });

  it('steps up (never blocks) an account that signed up from a home line abroad and sent its first requests through a VPN, and not a proxy user, a holidaymaker or a VPN user who signed up at home', async () => {
    const at = new Date(T0 - HOUR).toISOString();
    const vpnReq = (id: string, k: number): UsageEvent => event(id, T0 + (2 + k) * HOUR, { ip: ipOf('vpn', 'NL', 1), prompt: PROMPTS.chat(k), turns: 3 });
    // Declares Japan, signed up from a Canadian mobile line, no card, one request through a VPN exit in NL.
    const evader = account('rt1', { declared_country: 'JP', signup_ip: ipOf('mobile', 'CA', 71), created_at: at });
    // The same with a Hong Kong card: thin evidence with a firmer contradiction beside it still steps up only.
    const carded = account('rt2', { declared_country: 'JP', payment_fingerprint: 'pm_rt2', payment_country: 'HK', signup_ip: ipOf('residential', 'US', 72), created_at: at });
    // A proxy user: signed up through its residential proxy abroad, its requests through plain residential addresses.
    const proxy = account('px9', { declared_country: 'DE', payment_fingerprint: 'pm_px9', payment_country: 'DE', signup_ip: ipOf('residential', 'US', 73), created_at: at });
    // Signed up on holiday from a French home line, then used the API from home.
    const holiday = account('tr6', { declared_country: 'US', signup_ip: ipOf('residential', 'FR', 74), created_at: at });
    // A privacy-minded user: signed up from home, both requests through a VPN exit abroad.
    const privacy = account('vu3', { declared_country: 'DE', payment_fingerprint: 'pm_vu3', payment_country: 'DE', signup_ip: ipOf('residential', 'DE', 75), created_at: at });
    const m = byId(
      await run(
        [evader, carded, proxy, holiday, privacy],
        [
          vpnReq('rt1', 0),
          vpnReq('rt2', 0),
          vpnReq('rt2', 1),
          event('px9', T0 + 2 * HOUR, { ip: ipOf('residential', 'GB', 76), prompt: PROMPTS.chat(0), turns: 3 }),
          event('px9', T0 + 3 * HOUR, { ip: ipOf('mobile', 'FR', 77), prompt: PROMPTS.chat(1), turns: 3 }),
          event('tr6', T0 + 2 * HOUR, { ip: ipOf('residential', 'US', 78), prompt: PROMPTS.chat(0), turns: 3 }),
          vpnReq('vu3', 0),
          vpnReq('vu3', 1),
        ],
      ),
    );
    expect(m.get('rt1')!.recommended_action).toBe('step_up');
    expect(m.get('rt1')!.labels).toContain('region_evasion');
    expect(m.get('rt1')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('signed up from a mobile network in CA');
    expect(m.get('rt2')!.recommended_action).toBe('step_up');
    expect(m.get('px9')!.recommended_action).toBe('none');
    expect(m.get('tr6')!.recommended_action).toBe('none');
    expect(m.get('vu3')!.recommended_action).toBe('none');
  });

  it('steps up an account that signed up through a VPN exit and whose one plain request is a residential exit that accounts of four countries share, and not one whose plain request is a home line abroad', async () => {
    const at = new Date(T0 - HOUR).toISOString();
    const exit = ipOf('residential', 'US', 81);
    const { accounts: users, events: shared } = sharedBy('pq', ['US', 'GB', 'FR'], [exit]);
    const evader = account('rt3', { declared_country: 'DE', payment_fingerprint: 'pm_rt3', payment_country: 'DE', signup_ip: ipOf('vpn', 'SG', 82), created_at: at });
    const traveller = account('tr7', { declared_country: 'DE', payment_fingerprint: 'pm_tr7', payment_country: 'DE', signup_ip: ipOf('vpn', 'NL', 83), created_at: at });
    const two = (id: string, plain: string): UsageEvent[] => [
      event(id, T0 + 5 * HOUR, { ip: plain, prompt: PROMPTS.chat(0), turns: 3 }),
      event(id, T0 + 6 * HOUR, { ip: ipOf('vpn', 'NL', 1), prompt: PROMPTS.chat(1), turns: 3 }),
    ];
    const m = byId(await run([...users, evader, traveller], [...shared, ...two('rt3', exit), ...two('tr7', ipOf('residential', 'GB', 84))]));
    expect(m.get('rt3')!.recommended_action).toBe('step_up');
    expect(m.get('rt3')!.reasons.find((r) => r.code === 'anonymized_with_contradictions')?.detail).toContain('residential proxy exits');
    expect(m.get('tr7')!.recommended_action).toBe('none');
    for (const u of users) expect(m.get(u.account_id)!.recommended_action).toBe('none');
  });
});

describe('key sharing', () => {
  const uas = ['Anthropic/Python 0.49.0', 'OpenAI/JS 4.91.1', 'curl/8.5.0', 'python-requests/2.32.3', 'axios/1.7.7', 'Go-http-client/2.0'];
  it('flags one key used by many clients in many countries', async () => {
    const events = Array.from({ length: 60 }, (_, i) => event('k1', T0 + i * 20 * 60_000, { ip: ipOf('residential', ROTATE[i % 6]!, i % 6), user_agent: uas[i % 6]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const a = byId(await run([account('k1')], events)).get('k1')!;
    expect(flagged(a)).toBe(true);
    expect(a.labels).toContain('key_sharing');
  });

  it('flags a resold key within the hour after the buyers appear, however long the owner used it alone', async () => {
    // Five days of the owner's own traffic (480 requests, one client, one place), then three
    // buyers, each with its own client and country, a request an hour each.
    const own = Array.from({ length: 480 }, (_, i) => event('k3', T0 + i * 15 * 60_000, { ip: ipOf('residential', 'US', 3), user_agent: uas[0]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const resale = T0 + 5 * 24 * HOUR;
    const buyers = Array.from({ length: 30 }, (_, i) => event('k3', resale + 10 * 60_000 + i * 20 * 60_000, { ip: ipOf('residential', ROTATE[1 + (i % 3)]!, 40 + (i % 3)), user_agent: uas[1 + (i % 3)]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const a = byId(await run([account('k3')], [...own, ...buyers])).get('k3')!;
    expect(a.labels).toContain('key_sharing');
    // The third buyer's first request is 50 minutes after the resale; the next hourly evaluation flags it.
    expect(Date.parse(a.first_flagged_at!) - resale).toBeLessThanOrEqual(2 * HOUR);
  });

  it('flags a resold key when a buyer runs the same client as the owner: two clients, three networks, two countries abroad', async () => {
    // The owner's use ends two hours before the first buyer's (in use at once, see below).
    const own = Array.from({ length: 480 }, (_, i) => event('k4', T0 + i * 15 * 60_000, { ip: ipOf('residential', 'US', 3), user_agent: uas[0]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const resale = T0 + 5 * 24 * HOUR + 2 * HOUR;
    // Buyer one in GB with its own client; buyer two, from a mobile network in DE, happens to use the owner's SDK.
    const b1 = Array.from({ length: 12 }, (_, i) => event('k4', resale + 10 * 60_000 + i * HOUR, { ip: ipOf('residential', 'GB', 40), user_agent: uas[1]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const second = resale + 3 * HOUR + 20 * 60_000;
    const b2 = Array.from({ length: 12 }, (_, i) => event('k4', second + i * HOUR, { ip: ipOf('mobile', 'DE', 41), user_agent: uas[0]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const a = byId(await run([account('k4')], [...own, ...b1, ...b2])).get('k4')!;
    expect(flagged(a)).toBe(true);
    expect(a.labels).toContain('key_sharing');
    expect(a.reasons.find((r) => r.code === 'key_used_by_many_clients')?.detail).toContain('2 countries other than the declared one');
    // Not on the first buyer alone (two clients, two networks, one country abroad); within two hours of the second.
    expect(Date.parse(a.first_flagged_at!)).toBeGreaterThan(second);
    expect(Date.parse(a.first_flagged_at!) - second).toBeLessThanOrEqual(2 * HOUR);
  });

  it('does not flag two clients on three networks when the other countries are VPN exits, or a developer with a CI server abroad', async () => {
    // A VPN user with a second client: home line in the US, VPN exits in DE and NL (anonymized: not plain connections abroad).
    const vpn = Array.from({ length: 90 }, (_, i) =>
      event('kv', T0 + i * 40 * 60_000, { ip: i % 3 === 0 ? ipOf('residential', 'US', 5) : ipOf('vpn', i % 3 === 1 ? 'DE' : 'NL', 6 + (i % 3)), user_agent: uas[i % 2]!, prompt: PROMPTS.chat(i), turns: 3 }),
    );
    // A developer with a laptop SDK at home and on a phone hotspot, and a second client on a CI server in DE.
    const dev = Array.from({ length: 90 }, (_, i) =>
      event('kd', T0 + i * 40 * 60_000, { ip: [ipOf('residential', 'US', 7), ipOf('mobile', 'US', 8), ipOf('hosting', 'DE', 9)][i % 3]!, user_agent: i % 3 === 2 ? uas[3]! : uas[0]!, prompt: PROMPTS.chat(i), turns: 3 }),
    );
    const m = byId(await run([account('kv'), account('kd')], [...vpn, ...dev]));
    for (const id of ['kv', 'kd']) {
      expect(m.get(id)!.reasons.some((r) => r.code === 'key_used_by_many_clients')).toBe(false);
      expect(flagged(m.get(id))).toBe(false);
    }
  });

  it('flags a key in use at home and abroad within the hour: the first buyer while the owner still uses it', async () => {
    // The owner's evenings at home in the US, a request every 20 minutes from 18:00 to 23:00 for five days.
    const own: UsageEvent[] = [];
    for (let day = 0; day < 5; day++) for (let i = 0; i < 15; i++) own.push(event('k5', T0 + day * 24 * HOUR + 18 * HOUR + i * 20 * 60_000, { ip: ipOf('residential', 'US', 3), user_agent: uas[0]!, prompt: PROMPTS.chat(i), turns: 3 }));
    // One buyer, a home line in GB with another client, every three hours from the fourth day's 17:30 on.
    const bought = T0 + 3 * 24 * HOUR + 17 * HOUR + 30 * 60_000;
    const buyer = Array.from({ length: 12 }, (_, i) => event('k5', bought + i * 3 * HOUR, { ip: ipOf('residential', 'GB', 40), user_agent: uas[1]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const a = byId(await run([account('k5')], [...own, ...buyer])).get('k5')!;
    expect(flagged(a)).toBe(true);
    expect(a.labels).toContain('key_sharing');
    expect(a.reasons.find((r) => r.code === 'key_used_in_two_countries_at_once')?.detail).toContain('within 60 minutes');
    // The owner's 18:00 request, 30 minutes after the buyer's first: flagged at the next evaluation.
    expect(Date.parse(a.first_flagged_at!) - bought).toBeLessThanOrEqual(HOUR);
  });

  it('does not read a traveller, a proxy customer, a team or a lone client as two places at once', async () => {
    const twoPlaces = (v: AccountVerdict | undefined): boolean => (v?.reasons ?? []).some((r) => r.code === 'key_used_in_two_countries_at_once');
    // A traveller: a laptop at home in the US for two days, then a phone in GB from eight hours after.
    const left = T0 + 2 * 24 * HOUR;
    const traveller = [
      ...Array.from({ length: 40 }, (_, i) => event('kt', T0 + i * HOUR, { ip: ipOf('residential', 'US', 3), user_agent: uas[0]!, prompt: PROMPTS.chat(i), turns: 3 })),
      ...Array.from({ length: 40 }, (_, i) => event('kt', left + 8 * HOUR + i * HOUR, { ip: ipOf('mobile', 'GB', 4), user_agent: uas[1]!, prompt: PROMPTS.chat(i), turns: 3 })),
    ];
    // A traveller in GB with a laptop on the hotel's line and a phone roaming on its US carrier, minutes apart.
    const roaming = Array.from({ length: 40 }, (_, i) => event('kr', T0 + i * 20 * 60_000, { ip: i % 2 ? ipOf('residential', 'GB', 7) : ipOf('mobile', 'US', 8), user_agent: uas[i % 2]!, prompt: PROMPTS.chat(i), turns: 3 }));
    // A proxy service's customer declared in the US with two clients, its exits rotating over home
    // lines in the US and GB minutes apart (one country abroad: no other key-sharing reading).
    const proxy = Array.from({ length: 40 }, (_, i) => event('kp', T0 + i * 10 * 60_000, { ip: ipOf('residential', i % 2 ? 'GB' : 'US', 100 + 250 * i), user_agent: uas[i % 2]!, prompt: PROMPTS.chat(i), turns: 3 }));
    // A team: one member at home in the US, one in GB, each with a key of their own; and a
    // business-verified org whose two members share one key.
    const team = (id: string, keys: boolean): UsageEvent[] =>
      Array.from({ length: 40 }, (_, i) => event(id, T0 + i * 20 * 60_000, { ip: ipOf('residential', i % 2 ? 'GB' : 'US', 9 + (i % 2)), user_agent: uas[i % 2]!, ...(keys ? { key_id: `key_${id}_${i % 2}` } : {}), prompt: PROMPTS.chat(i), turns: 3 }));
    // One client at home in the US and in GB within the hour (a person on a remote desktop abroad, say): one client is not two hands.
    const lone = Array.from({ length: 40 }, (_, i) => event('kl', T0 + i * 20 * 60_000, { ip: ipOf('residential', i % 2 ? 'GB' : 'US', 5 + (i % 2)), user_agent: uas[0]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const org = account('ko', { org_id: 'org_ko', org_name: 'Two Offices Ltd', verification: 'business' });
    const m = byId(await run([account('kt'), account('kr'), account('kp'), account('km'), org, account('kl')], [...traveller, ...roaming, ...proxy, ...team('km', true), ...team('ko', false), ...lone]));
    for (const id of ['kt', 'kr', 'kp', 'km', 'ko', 'kl']) {
      expect(twoPlaces(m.get(id)), id).toBe(false);
      expect(flagged(m.get(id)), id).toBe(false);
    }
    // The same team traffic through one key of a person's account is two places at once.
    const shared = byId(await run([account('ks')], team('ks', false))).get('ks');
    expect(twoPlaces(shared)).toBe(true);
  });

  it('does not flag a developer using one client from home', async () => {
    const events = Array.from({ length: 60 }, (_, i) => event('k2', T0 + i * 20 * 60_000, { ip: ipOf('residential', 'US', 3), user_agent: uas[0]!, prompt: PROMPTS.chat(i), turns: 3 }));
    const a = byId(await run([account('k2')], events)).get('k2')!;
    expect(a.recommended_action).toBe('none');
  });
});

describe('attribution', () => {
  const watchlist: Watchlist = {
    restricted_countries: ['CN'],
    entities: [
      {
        id: 'example-conglomerate',
        name: 'Example Conglomerate Group Holding Ltd',
        kind: 'competitor',
        jurisdiction: 'CN',
        aliases: ['Example Group'],
        native_names: [],
        domains: ['example-group.com'],
        asns: [64500],
        subsidiaries: ['Example Research Academy'],
      },
    ],
  };
  /** Shell companies sharing cards across organisations, sending sweeps partly from the entity's AS64500. */
  function shells(owner: string | null): { accounts: Account[]; events: UsageEvent[] } {
    const accounts: Account[] = [];
    const events: UsageEvent[] = [];
    for (let i = 0; i < 9; i++) {
      const org = `shell${Math.floor(i / 3)}`;
      const owners = [{ name: `Person ${org}`, share: 0.6 }, ...(owner && i < 3 ? [{ name: owner, share: 0.3 }] : [])];
      accounts.push(account(`x${i}`, { org_id: org, org_name: `${org} Trading Ltd`, owners, payment_fingerprint: `card_${i % 2}`, declared_use: 'research', declared_country: 'SG' }));
      for (const e of sweeps(`x${i}`, { perDay: 60, days: 2, hours: [1, 10], ip: ipOf('hosting', 'SG', i) })) {
        events.push(Number(e.event_id.slice(1)) % 3 === 0 ? { ...e, asn: 64500, ip: '203.0.113.7', country: 'CN' } : e);
      }
    }
    return { accounts, events };
  }

  it('attributes a malicious cluster to the entity when a member organisation declares its subsidiary as an owner', async () => {
    const w = shells('Example Research Academy');
    const v = await run(w.accounts, w.events, watchlist);
    const m = byId(v);
    for (let i = 0; i < 9; i++) {
      expect(flagged(m.get(`x${i}`))).toBe(true);
      expect(m.get(`x${i}`)!.attributed_entity).toBe('example-conglomerate');
    }
    const c = v.clusters.find((c) => c.attributed_entity === 'example-conglomerate');
    expect(c?.evidence.map((e) => e.code)).toContain('screening_hit');
    expect(c?.confidence).toBeGreaterThan(0.5);
  });

  it('attributes on the entity network and working hours when the shells pay with cards issued in the entity jurisdiction', async () => {
    const w = shells(null);
    for (const a of w.accounts) a.payment_country = 'HK';
    const v = await run(w.accounts, w.events, watchlist);
    const c = v.clusters.find((c) => c.attributed_entity === 'example-conglomerate');
    expect(c?.evidence.map((e) => e.code)).toEqual(expect.arrayContaining(['asn_operated_by_entity', 'entity_payment_country']));
    for (let i = 0; i < 9; i++) expect(byId(v).get(`x${i}`)!.attributed_entity).toBe('example-conglomerate');
  });

  it('carries an attribution over a shared device to a flagged cluster with no evidence of its own, and not to an unlinked account', async () => {
    const w = shells('Example Research Academy');
    // A second ring: other organisations, their own cards, sweeps from a plain cloud in NL;
    // one of its accounts signed up on a device of the first ring.
    for (let i = 0; i < 9; i++) {
      const id = `y${i}`;
      w.accounts.push(account(id, { org_id: `ring${Math.floor(i / 3)}`, org_name: `Ring ${i} BV`, payment_fingerprint: 'rcard', declared_use: 'research', declared_country: 'NL', ...(i === 0 ? { device_fingerprint: 'dev_x4' } : {}) }));
      w.events.push(...sweeps(id, { perDay: 60, days: 2, hours: [8, 18], ip: ipOf('hosting', 'NL', 40 + i) }));
    }
    // An unlinked account with the same sweeps: flagged on its own, attributed to nobody.
    w.accounts.push(account('z0', { org_id: 'calm', org_name: 'Calm Labs', payment_fingerprint: 'zcard', declared_use: 'research', declared_country: 'NL' }));
    w.events.push(...sweeps('z0', { perDay: 60, days: 2, hours: [8, 18], ip: ipOf('hosting', 'NL', 70) }));
    const v = await run(w.accounts, w.events, watchlist);
    const m = byId(v);
    const ring = v.clusters.find((c) => c.members.includes('y1'))!;
    expect(ring.members.some((x) => x.startsWith('x'))).toBe(false);
    expect(ring.attributed_entity).toBe('example-conglomerate');
    expect(ring.evidence.map((e) => e.code)).toContain('linked_to_attributed_cluster');
    expect(ring.confidence).toBeLessThan(v.clusters.find((c) => c.members.includes('x1'))!.confidence!);
    for (let i = 0; i < 9; i++) expect(m.get(`y${i}`)!.attributed_entity, `y${i}`).toBe('example-conglomerate');
    expect(m.get('z0')!.cluster_id ?? null).toBeNull();
    expect(m.get('z0')!.attributed_entity ?? null).toBeNull();
  });

  it('does not attribute on the entity network alone, even for a malicious cluster', async () => {
    const w = shells(null);
    const v = await run(w.accounts, w.events, watchlist);
    for (const a of v.accounts) expect(a.attributed_entity ?? null).toBeNull();
  });

  it('leaves benign customers of the entity public cloud unflagged and unattributed', async () => {
    const accounts = Array.from({ length: 5 }, (_, i) => account(`cc${i}`, { org_id: `cco${i}`, org_name: `Harbour Apps ${i}`, payment_fingerprint: `pm_cc${i}`, declared_country: 'SG' }));
    const events = accounts.flatMap((a, k) => Array.from({ length: 40 }, (_, i) => event(a.account_id, T0 + i * HOUR + k, { ip: '203.0.113.9', asn: 64500, country: 'CN', prompt: PROMPTS.chat(i), turns: 3, end_user_id: `eu${i % 7}` })));
    const v = await run(accounts, events, watchlist);
    for (const a of v.accounts) {
      expect(flagged(a)).toBe(false);
      expect(a.attributed_entity ?? null).toBeNull();
    }
  });
});

describe('first_flagged_at', () => {
  it('keeps the moment an account was first flagged online after later traffic lifts the flag', async () => {
    // A morning of CoT and multiple-choice sweeps, then two weeks of ordinary multi-turn chats.
    const sweeps = Array.from({ length: 40 }, (_, i) =>
      event('lift', T0 + i * 60_000, sweepItem(i)),
    );
    const chats = Array.from({ length: 400 }, (_, i) => event('lift', T0 + 6 * HOUR + i * 50 * 60_000, { prompt: PROMPTS.varied(i), turns: 6 }));
    const a = byId(await run([account('lift')], [...sweeps, ...chats])).get('lift')!;
    expect(flagged(a)).toBe(false);
    expect(a.first_flagged_at).toBeDefined();
    expect(Date.parse(a.first_flagged_at!)).toBeLessThan(T0 + 6 * HOUR);
  });
});

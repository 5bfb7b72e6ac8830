import { describe, expect, it } from 'vitest';
import { isWardenError, type IpIntel } from '../core/index.js';
import { decodeAccountFeatures, encodeAccountFeatures } from './account-features.js';
import { DetectionEngine } from './engine.js';
import { account, event, fakeIntel, ipOf, PROMPTS, T0 } from './test-world.js';

const events = (id: string, from: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    event(id, T0 + (from + i) * 60_000, { ip: ipOf('residential', 'DE', from + i), key_id: `k_${id}_${(from + i) % 3}`, end_user_id: `u${i % 4}`, prompt: PROMPTS.cot(from + i), system: PROMPTS.cotSystem }),
  );

describe('account features moved between engines', () => {
  /** An engine that will see every event of `id`, and one that saw only its first `n` (to export from). */
  function split(id: string, n: number) {
    const intel = fakeIntel();
    const whole = new DetectionEngine({ intel, autoEvaluate: false });
    const first = new DetectionEngine({ intel, autoEvaluate: false });
    const a = account(id);
    for (const e of [whole, first]) e.addAccount(a);
    for (const ev of events(id, 0, n)) {
      whole.ingest(ev);
      first.ingest(ev);
    }
    return { intel, whole, first, a, keys: [0, 1, 2].map((k) => `k_${id}_${k}`) };
  }

  it('continue exactly as if one engine had seen every event', () => {
    const { intel, whole, first, a, keys } = split('acc_1', 40);
    // Through the wire form, into a fresh engine that then sees the rest.
    const second = new DetectionEngine({ intel, autoEvaluate: false });
    second.addAccount(a);
    second.importAccount(decodeAccountFeatures(encodeAccountFeatures(first.exportAccount('acc_1', keys)!)));
    for (const ev of events('acc_1', 40, 40)) {
      whole.ingest(ev);
      second.ingest(ev);
    }
    const w = whole.exportAccount('acc_1', keys)!;
    const s = second.exportAccount('acc_1', keys)!;
    expect(s).toEqual(w);
    expect(s.state.n).toBe(80);
    expect(s.keys.map(([k]) => k).sort()).toEqual(keys);
    expect(s.endUsers.length).toBe(4);
    expect(second.evaluateNow().risks.find((r) => r.account_id === 'acc_1')).toEqual(whole.evaluateNow().risks.find((r) => r.account_id === 'acc_1'));
  });

  it('count a repeated key in the key record the engine holds, also after that record was replaced by an import', () => {
    const e = new DetectionEngine({ intel: fakeIntel(), autoEvaluate: false });
    for (const id of ['acc_k', 'acc_j']) e.addAccount(account(id));
    const ev = (id: string, i: number) => event(id, T0 + i * 60_000, { ip: ipOf('residential', 'DE', 1), key_id: 'k_only', prompt: PROMPTS.chat(i) });
    // The key is acc_k's; acc_j sends with it too (a shared key), twice in a row.
    for (let i = 0; i < 3; i++) e.ingest(ev('acc_k', i));
    for (let i = 3; i < 5; i++) e.ingest(ev('acc_j', i));
    expect(e.keys.get('k_only')!.n).toBe(5);
    // A worker's restore of acc_k replaces the key's record: acc_j's next event must count in the new one.
    e.importAccount(decodeAccountFeatures(encodeAccountFeatures(e.exportAccount('acc_k', ['k_only'])!)));
    const replaced = e.keys.get('k_only')!;
    e.ingest(ev('acc_j', 5));
    expect(e.keys.get('k_only')).toBe(replaced);
    expect(replaced.n).toBe(6);
    // An account record added after the account's first events is the one its next event reads.
    e.ingest(event('acc_late', T0 + 10 * 60_000, { ip: ipOf('residential', 'DE', 2), prompt: PROMPTS.chat(1) }));
    const late = account('acc_late', { declared_country: 'FR' });
    e.addAccount(late);
    expect(e.states.get('acc_late')!.account).toBe(late);
  });

  it('exports and checkpoints counters of their own, not the block the live states share', () => {
    const e = new DetectionEngine({ intel: fakeIntel(), autoEvaluate: false });
    for (const id of ['acc_a', 'acc_b']) {
      e.addAccount(account(id));
      for (const ev of events(id, 0, 3)) e.ingest(ev);
    }
    const st = e.states.get('acc_a')!;
    const live = st.u.subarray(st.co, st.co + st.counters().length);
    expect(live.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    const out = e.exportAccount('acc_a', [])!.state.c;
    expect(out).toEqual(live);
    expect(out.buffer.byteLength).toBe(live.byteLength);
    expect(live.buffer.byteLength).toBeGreaterThan(live.byteLength);
    const snap = e.snapshot() as { states: [string, { c: Uint32Array }][] };
    for (const [, st] of snap.states) expect(st.c.buffer.byteLength).toBe(live.byteLength);
  });

  it('takes a state saved before the capped maps were flat arrays and continues it', () => {
    const { intel, whole, first, a, keys } = split('acc_2', 30);
    // The older wire form: each capped map as { keys, counts, other }.
    const f = structuredClone(first.exportAccount('acc_2', keys)!);
    const legacy = (m: (string | number)[] | null) => m && { other: m[0], keys: m.filter((_, i) => i % 2 === 1), counts: m.filter((_, i) => i > 0 && i % 2 === 0) };
    const st = f.state as unknown as Record<string, unknown>;
    for (const k of ['langs', 'tplUse', 'prefixUse', 'entityAsnUse']) st[k] = legacy(st[k] as (string | number)[] | null);
    expect(st['prefixUse']).toHaveProperty('keys');
    const second = new DetectionEngine({ intel, autoEvaluate: false });
    second.addAccount(a);
    second.importAccount(decodeAccountFeatures(encodeAccountFeatures(f)));
    for (const ev of events('acc_2', 30, 30)) {
      whole.ingest(ev);
      second.ingest(ev);
    }
    expect(second.exportAccount('acc_2', keys)).toEqual(whole.exportAccount('acc_2', keys));
  });

  it('drops an account’s features on request and exports nothing for an account without traffic', () => {
    const e = new DetectionEngine({ autoEvaluate: false });
    for (const ev of events('acc_2', 0, 5)) e.ingest(ev);
    expect(e.exportAccount('acc_2', [])?.state.n).toBe(5);
    e.dropAccountFeatures('acc_2', ['k_acc_2_0']);
    expect(e.exportAccount('acc_2', [])).toBeNull();
    expect(e.exportAccount('nobody', [])).toBeNull();
  });

  it('refuses bytes that are not an encoded account state', () => {
    const err = (() => {
      try {
        decodeAccountFeatures(new Uint8Array([1, 2, 3]));
      } catch (x) {
        return x;
      }
    })();
    expect(isWardenError(err, 'VALIDATION')).toBe(true);
  });
});

describe('verdicts one at a time', () => {
  it('finishing() yields the verdicts finish() returns, in the same order, and the same clusters', () => {
    const intel = fakeIntel();
    const build = () => {
      const e = new DetectionEngine({ intel, autoEvaluate: false });
      for (const id of ['acc_a', 'acc_b', 'acc_c']) e.addAccount({ ...account(id), payment_fingerprint: 'pf_shared', device_fingerprint: 'df_shared' });
      for (const id of ['acc_a', 'acc_b', 'acc_c', 'acc_unregistered']) for (const ev of events(id, 0, 30)) e.ingest(ev);
      return e;
    };
    const whole = build().finish();
    const f = build().finishing();
    const streamed = [...f.accounts()];
    expect(streamed).toEqual(whole.accounts);
    expect(streamed.map((v) => v.account_id)).toEqual(['acc_a', 'acc_b', 'acc_c', 'acc_unregistered']);
    expect(f.clusters()).toEqual(whole.clusters);
    expect(whole.clusters.length).toBeGreaterThan(0);
  });
});

describe('network facts of a repeated address', () => {
  // Events that carry their ASN and country need no place from the intelligence: a session's
  // repeated address then reuses the facts its state kept.
  const placed = (id: string, i: number, ip: string) => event(id, T0 + i * 60_000, { ip, asn: 64_496, country: 'US' });

  it('counts each request by its own address, repeated or not', () => {
    const e = new DetectionEngine({ intel: fakeIntel(), autoEvaluate: false });
    e.addAccount(account('acc_r'));
    const vpn = ipOf('vpn', 'NL', 1);
    const home = ipOf('residential', 'US', 2);
    [vpn, vpn, home, home, home, vpn, home].forEach((ip, i) => e.ingest(placed('acc_r', i, ip)));
    expect(e.derived('acc_r')!.anonymizer).toBeCloseTo(3 / 7);
  });

  it('looks the address up again after a restore (the intelligence may have changed), never from the saved state', () => {
    const addr = ipOf('residential', 'US', 3);
    const before = new DetectionEngine({ intel: fakeIntel(), autoEvaluate: false });
    before.addAccount(account('acc_s'));
    for (let i = 0; i < 2; i++) before.ingest(placed('acc_s', i, addr));
    // The same address is a VPN exit by the time the engine restarts.
    const base = fakeIntel();
    const updated: IpIntel = { ...base, lookup: (ip) => (ip === addr ? { ...base.lookup(ip), network_type: 'hosting', anonymizers: ['vpn'] } : base.lookup(ip)) };
    const after = new DetectionEngine({ intel: updated, autoEvaluate: false });
    after.restoreSnapshot(JSON.parse(JSON.stringify(before.snapshot())));
    for (let i = 2; i < 4; i++) after.ingest(placed('acc_s', i, addr));
    expect(after.derived('acc_s')!.anonymizer).toBeCloseTo(2 / 4);
  });
});

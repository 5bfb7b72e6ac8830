import { describe, expect, it } from 'vitest';
import { extractFeatures, type UsageEvent } from '../core/index.js';
import { fromData, newAccountState, toData, updateAccount, type EventFacts, type NetFacts, type ReuseSink } from './account-state.js';
import { cappedCount, cappedKey, cappedSize } from './sketches.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-02T00:00:00.000Z');

/** One request of `acc` at `t` from `ip` whose prompt is `text` (features as a gateway extracts them). */
function facts(t: number, ip: string, text: string): EventFacts {
  const ev = { event_id: `e${t}`, ts: new Date(t).toISOString(), account_id: 'acc', key_id: 'k', ip, endpoint: 'messages', model: 'm', status: 200, input_tokens: 10, output_tokens: 5 } as UsageEvent;
  return { t, ev, f: extractFeatures({ lastUser: text, turns: 1, tools: 0 }), ip: null, entityAsn: null, restricted: false };
}

/** A word of letters only (templates mask digits, not words). */
const word = (n: number): string => {
  let w = '';
  for (let x = n + 26; x > 0; x = Math.floor(x / 26)) w += String.fromCharCode(97 + (x % 26));
  return w;
};
/** Distinct prompts, each its own template. */
const oneOff = (i: number): string => `Please ${word(i * 7 + 1)} the ${word(i * 13 + 5)} of ${word(i * 31 + 11)} and ${word(i * 57 + 3)} it for my ${word(i * 91 + 17)} today`;

describe('account state', () => {
  it('keeps a template or /24 in its capped map from its second use, and reports reuse at the third', () => {
    const s = newAccountState('acc');
    const reused: [string, string][] = [];
    const sink: ReuseSink = (field, value) => reused.push([field, value]);
    const sweep = 'Question 17: which of the following is a prime number? A) 21 B) 23 C) 25 D) 27. Answer with the letter only.';
    // Three one-off prompts from three /24s: none takes a slot.
    for (let i = 0; i < 3; i++) updateAccount(s, facts(T0 + i * HOUR, `198.51.${i}.7`, oneOff(i)), undefined, sink);
    expect(s.tplUse).toBeNull();
    expect(s.prefixUse).toBeNull();
    // The same prompt twice from the first /24 (a second and a third use of that /24).
    updateAccount(s, facts(T0 + 4 * HOUR, '198.51.0.7', sweep), undefined, sink);
    updateAccount(s, facts(T0 + 5 * HOUR, '198.51.0.7', sweep), undefined, sink);
    expect(cappedSize(s.prefixUse!)).toBe(1);
    expect(cappedKey(s.prefixUse!, 0)).toBe('198.51.0.0/24');
    expect(cappedCount(s.prefixUse!, 0)).toBe(3);
    expect(cappedSize(s.tplUse!)).toBe(1);
    expect(cappedCount(s.tplUse!, 0)).toBe(2);
    expect(reused).toEqual([['net_prefix', '198.51.0.0/24']]);
    updateAccount(s, facts(T0 + 6 * HOUR, '198.51.9.1', sweep), undefined, sink);
    expect(cappedCount(s.tplUse!, 0)).toBe(3);
    expect(reused.map(([f]) => f)).toEqual(['net_prefix', 'template']);
    expect(s.n).toBe(6);
  });

  it('admits values at their first use once the distinct set is a sketch and cannot tell', () => {
    const s = newAccountState('acc');
    for (let i = 0; i < 20; i++) updateAccount(s, facts(T0 + i * 60_000, '203.0.113.5', oneOff(i)), undefined);
    // 16 exact distinct templates, then a sketch: the later one-offs take slots (up to the cap).
    expect(s.tplUse).not.toBeNull();
    expect(cappedSize(s.tplUse!)).toBeGreaterThan(0);
    for (let i = 0; i < cappedSize(s.tplUse!); i++) expect(cappedCount(s.tplUse!, i)).toBe(1);
  });

  it('round-trips through its plain form, numbers and counters included', () => {
    const s = newAccountState('acc');
    for (let i = 0; i < 12; i++) updateAccount(s, facts(T0 + i * 7 * 60_000, `198.51.${i % 3}.7`, oneOff(i % 4)), 'FR');
    const d = toData(s);
    expect(d.n).toBe(12);
    expect(d.firstTs).toBe(T0);
    expect(d.lastTs).toBe(T0 + 11 * 7 * 60_000);
    expect(d.c.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    const back = fromData(structuredClone(d));
    expect(toData(back)).toEqual(d);
    // The copy is its own: counting on it leaves the original as it was.
    updateAccount(back, facts(T0 + 2 * HOUR, '198.51.0.7', oneOff(1)), 'FR');
    expect(back.n).toBe(13);
    expect(s.n).toBe(12);
  });

  it('counts shared exits: the first one\'s address, a second distinct one, and visits more than an hour apart', () => {
    const s = newAccountState('acc');
    const through = (t: number, ip: string): EventFacts => ({ ...facts(t, ip, oneOff(0)), sharedExit: true });
    // Three requests a minute apart through one exit: one visit. Out of order by a minute: still one.
    updateAccount(s, through(T0, '198.51.0.7'), 'FR');
    updateAccount(s, through(T0 + 2 * 60_000, '198.51.0.7'), 'FR');
    updateAccount(s, through(T0 + 60_000, '198.51.0.7'), 'FR');
    expect(s.proxyExit).toBe(3);
    expect(s.exitAddrs).toBe(1);
    expect(s.exitVisits).toBe(1);
    expect(s.exitAddr).not.toBe(0);
    // Two hours later, the same exit: a second visit; then another exit: two addresses.
    updateAccount(s, through(T0 + 2 * HOUR, '198.51.0.7'), 'FR');
    expect(s.exitVisits).toBe(2);
    expect(s.exitAddrs).toBe(1);
    // A late event (from 90 minutes before) does not move the last visit back: 45 minutes after
    // the second visit is still the second visit.
    updateAccount(s, through(T0 + 30 * 60_000, '198.51.0.7'), 'FR');
    updateAccount(s, through(T0 + 2 * HOUR + 45 * 60_000, '198.51.0.7'), 'FR');
    expect(s.exitVisits).toBe(2);
    updateAccount(s, through(T0 + 2 * HOUR + 46 * 60_000, '198.51.1.9'), 'FR');
    expect(s.exitAddrs).toBe(2);
    expect(s.exitVisits).toBe(2);
    // A plain request is no exit.
    updateAccount(s, facts(T0 + 5 * HOUR, '198.51.2.1', oneOff(1)), 'FR');
    expect(s.proxyExit).toBe(7);
    expect(s.exitVisits).toBe(2);
    // Saved and restored, the exit fields come back.
    const back = fromData(structuredClone(toData(s)));
    expect([back.exitAddr, back.exitAddrs, back.exitVisits, back.exitLastTs]).toEqual([s.exitAddr, s.exitAddrs, s.exitVisits, s.exitLastTs]);
  });

  it('counts plain home-line requests in the declared country and another within the hour as two places at once', () => {
    const s = newAccountState('acc');
    const home: NetFacts = { network_type: 'residential', anonymized: false };
    const mobile: NetFacts = { network_type: 'mobile', anonymized: false };
    // Each step: minutes after T0, country, network, whether through a shared exit, and the
    // account's switches after it (the account declares the US).
    const steps: [number, string, NetFacts, boolean, number, string][] = [
      [0, 'US', home, false, 0, 'home in the US'],
      [10, 'US', mobile, false, 0, 'the phone in the US: one country'],
      // Minutes later in GB: a phone (roaming keeps the home carrier's addresses, and a local SIM
      // is no home line), a VPN exit on a home line, a hosting server, a shared exit.
      [11, 'GB', mobile, false, 0, 'a phone in GB'],
      [12, 'GB', { network_type: 'residential', anonymized: true }, false, 0, 'a VPN exit on a home line'],
      [13, 'GB', { network_type: 'hosting', anonymized: false }, false, 0, 'a hosting server'],
      [14, 'GB', home, true, 0, 'a shared exit'],
      [61, 'GB', home, false, 0, 'a home line in GB 61 minutes after the last US one: a journey'],
      [65, 'DE', home, false, 0, 'two lines abroad (GB, then DE): neither the declared country'],
      [124, 'US', home, false, 1, 'home in the US 59 minutes after DE: two places at once'],
      [144, 'GB', home, false, 2, 'back to GB 20 minutes later'],
      [130, 'US', home, false, 2, 'a late event counts nothing'],
      [150, 'GB', home, false, 2, 'and does not move the last place back'],
    ];
    for (const [min, country, ip, sharedExit, switches, what] of steps) {
      const x = facts(T0 + min * 60_000, '198.51.0.7', oneOff(0));
      updateAccount(s, { ...x, ev: { ...x.ev, country }, ip, sharedExit }, 'US');
      expect(s.placeSwitches, what).toBe(switches);
    }
    const back = fromData(structuredClone(toData(s)));
    expect([back.placeTs, back.placeCc, back.placeSwitches]).toEqual([s.placeTs, s.placeCc, s.placeSwitches]);
    // A state saved before the fields existed starts at none.
    const d = toData(s) as unknown as Record<string, unknown>;
    for (const k of ['placeTs', 'placeCc', 'placeSwitches']) delete d[k];
    expect(fromData(d as unknown as ReturnType<typeof toData>).placeSwitches).toBe(0);
  });

  it('restores a state saved before exits were told apart as one that rotated them', () => {
    const s = newAccountState('acc');
    updateAccount(s, { ...facts(T0, '198.51.0.7', oneOff(0)), sharedExit: true }, 'FR');
    const d = toData(s) as unknown as Record<string, unknown>;
    for (const k of ['exitAddr', 'exitAddrs', 'exitVisits', 'exitLastTs']) delete d[k];
    const back = fromData(d as unknown as ReturnType<typeof toData>);
    expect(back.proxyExit).toBe(1);
    expect(back.exitAddrs).toBe(2);
    // One with no shared exit stays at none.
    const plain = toData(newAccountState('b')) as unknown as Record<string, unknown>;
    delete plain.exitAddrs;
    expect(fromData(plain as unknown as ReturnType<typeof toData>).exitAddrs).toBe(0);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from './scenario.js';
import { loadTestWorld, removeTempDirs, type LoadedWorld } from './test-world.js';

afterAll(removeTempDirs);

const traits = (w: LoadedWorld) => {
  const accts = w.accountsOf('campaign:intermediary');
  const ids = w.ids('campaign:intermediary');
  return {
    n: accts.length,
    devices: new Set(accts.map((a) => a.device_fingerprint)),
    cards: new Set(accts.map((a) => a.payment_fingerprint)),
    domains: new Set(accts.map((a) => a.email_domain)),
    orgs: new Set(accts.map((a) => a.org_name)),
    ips: new Set(w.events.filter((e) => ids.has(e.account_id!) && e.asn !== 64500).map((e) => e.ip)),
  };
};
const overlap = <T>(a: Set<T>, b: Set<T>) => [...a].filter((x) => b.has(x)).length;

describe('an intermediary campaign with a named actor', () => {
  it('keeps its devices, mail domain and servers across seeds, with new shells, accounts and cards', async () => {
    const sc = loadScenario('sharing');
    const a = traits(await loadTestWorld({ ...sc, seed: 1 }));
    const b = traits(await loadTestWorld({ ...sc, seed: 2 }));
    expect(a.n).toBe(12);
    expect(overlap(a.devices, b.devices)).toBeGreaterThan(0);
    expect([...a.domains].some((d) => d?.startsWith('example-ops-') && b.domains.has(d))).toBe(true);
    expect(overlap(a.ips, b.ips)).toBeGreaterThan(0);
    expect(overlap(a.cards, b.cards)).toBe(0);
    expect(overlap(a.orgs, b.orgs)).toBe(0);
  });

  it('without an actor, nothing of the operator persists from one seed to the next', async () => {
    const sc = loadScenario('demo');
    const a = traits(await loadTestWorld({ ...sc, seed: 1 }));
    const b = traits(await loadTestWorld({ ...sc, seed: 2 }));
    expect(overlap(a.devices, b.devices)).toBe(0);
    expect(overlap(a.domains, b.domains)).toBe(0);
    expect(overlap(a.cards, b.cards)).toBe(0);
  });
});

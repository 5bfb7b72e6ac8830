import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, removeTempDirs } from './test-world.js';
import { afterAll, describe, expect, it } from 'vitest';
import { isWardenError, ValidationError } from '../core/index.js';
import { listScenarios, loadScenario, loadSuite } from './scenario.js';

describe('scenario files', () => {
  it('ships a demo and a hard suite with training and held-out worlds, all valid', () => {
    const names = listScenarios();
    expect(names).toContain('demo');
    for (const n of names) expect(() => loadScenario(n)).not.toThrow();
    const suite = loadSuite('hard');
    expect(suite.filter((s) => s.split === 'train').length).toBeGreaterThanOrEqual(2);
    expect(suite.filter((s) => s.split === 'heldout').length).toBeGreaterThanOrEqual(2);
    const seeds = suite.map((s) => s.scenario.seed);
    expect(new Set(seeds).size).toBe(seeds.length);
  });

  it('has a held-out variant whose entity campaign never uses the entity networks', () => {
    const v = loadSuite('hard').find((s) => s.name.endsWith('heldout-variant'))!;
    const camp = v.scenario.campaigns.find((c) => c.kind === 'intermediary');
    expect(camp && camp.kind === 'intermediary' && camp.entity_networks).toBe(0);
    const train = loadSuite('hard').filter((s) => s.split === 'train');
    for (const t of train) {
      const tc = t.scenario.campaigns.find((c) => c.kind === 'intermediary');
      expect(tc && tc.kind === 'intermediary' && tc.entity_networks).toBeGreaterThan(0);
    }
  });

  it('names only fictional entities and documentation ranges for them', () => {
    for (const n of listScenarios()) {
      const s = loadScenario(n);
      for (const net of s.custom_networks) for (const c of net.cidrs) expect(c).toMatch(/^(192\.0\.2|198\.51\.100|203\.0\.113)\./);
      for (const e of s.watchlist.entities) expect(e.asns.every((a) => a >= 64496 && a <= 64511)).toBe(true);
    }
  });

  it('rejects a misspelt key with the file and the path', () => {
    const dir = tempDir('warden-sc-');
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'name: x\nseed: 1\nstart: 2026-01-01T00:00:00Z\ndays: 1\nwatchlist: {}\npopulations:\n  - { kind: developer, count: 3, rat: 5 }\n');
    try {
      loadScenario(f);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as Error).message).toContain(f);
      expect((e as ValidationError).issues.map((i) => i.path)).toContain('populations[0]');
      expect((e as Error).message).toMatch(/rat/);
    }
  });

  it('rejects references to undeclared pools and entities', () => {
    const dir = tempDir('warden-sc-');
    const f = join(dir, 'bad.yaml');
    writeFileSync(
      f,
      'name: x\nseed: 1\nstart: 2026-01-01T00:00:00Z\ndays: 2\nwatchlist: {}\ncampaigns:\n  - { kind: hydra, accounts: 3, pool: nope, entity: ghost }\n',
    );
    expect(() => loadScenario(f)).toThrow(/campaigns\[0\]\.pool: pool "nope" is not declared/);
    expect(() => loadScenario(f)).toThrow(/campaigns\[0\]\.entity: entity "ghost" is not in watchlist/);
  });

  it('says which scenarios exist when a name is unknown', () => {
    try {
      loadScenario('no-such-world');
      expect.unreachable();
    } catch (e) {
      expect(isWardenError(e, 'CONFIG_INVALID')).toBe(true);
      expect((e as Error).message).toMatch(/Shipped: .*demo/);
    }
  });
});

afterAll(() => removeTempDirs());

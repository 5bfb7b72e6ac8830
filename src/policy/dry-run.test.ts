import { describe, expect, it } from 'vitest';
import { isWardenError } from '../core/index.js';
import { compilePolicy } from './compile.js';
import { dryRun, ruleId } from './dry-run.js';
import { makeRequestContext as ctx } from './testing.js';

const current = compilePolicy(
  `rules:
  - id: region
    when: { field: client.country, in: [CN, RU] }
    decide: block
  - id: watch-hosting
    when: { field: client.network_type, equals: hosting }
    decide: monitor
`,
  { version: 4 },
);
const changed = compilePolicy(
  `rules:
  - id: region
    when: { field: client.country, in: [CN, RU, IR] }
    decide: block
  - id: hosting-step-up
    when: { field: client.network_type, equals: hosting }
    decide: step_up
    verify_url: https://console.example.com/verify
`,
  { version: 5 },
);

describe('dryRun', () => {
  const traffic = [
    ctx({ client: { country: 'CN' } }),
    ctx({ client: { country: 'IR' } }),
    ctx({ client: { country: 'IR' } }),
    ctx({ client: { network_type: 'hosting' } }),
    ctx(),
    ctx(),
  ];

  it('counts decisions by rule for both policies and lists what changed', () => {
    const r = dryRun(changed, traffic, current);
    expect(r.total).toBe(6);
    expect(r.baseline).toEqual({
      version: 4,
      decisions: { allow: 4, monitor: 1, throttle: 0, degrade: 0, step_up: 0, block: 1 },
      rules: { region: 1, default: 4, 'watch-hosting': 1 },
    });
    expect(r.candidate.decisions).toEqual({ allow: 2, monitor: 0, throttle: 0, degrade: 0, step_up: 1, block: 3 });
    expect(r.candidate.rules).toEqual({ region: 3, 'hosting-step-up': 1, default: 2 });
    expect(r.changed_decisions).toBe(3);
    expect(r.changed_rules).toBe(3);
    expect(r.transitions).toEqual([
      { from: 'allow', to: 'block', count: 2 },
      { from: 'monitor', to: 'step_up', count: 1 },
    ]);
    expect(r.rule_changes[0]).toEqual({ from: 'default', to: 'region', count: 2, examples: [1, 2] });
  });

  it('compares with the recorded decisions where samples carry them', () => {
    const r = dryRun(changed, [
      { ctx: ctx({ client: { country: 'IR' } }), previous: { decision: 'allow', rule: 'default@3' } },
      { ctx: ctx(), previous: { decision: 'throttle', rule: 'key-rpm@3' } },
    ]);
    expect(r.baseline.version).toBeNull();
    expect(r.baseline.rules).toEqual({ default: 1, 'key-rpm': 1 });
    expect(r.transitions).toEqual([
      { from: 'allow', to: 'block', count: 1 },
      { from: 'throttle', to: 'allow', count: 1 },
    ]);
  });

  it('mixes recorded pairs and bare contexts when a baseline policy is given', () => {
    const r = dryRun(changed, [{ ctx: ctx(), previous: { decision: 'monitor', rule: 'x@1' } }, ctx({ client: { country: 'CN' } }), { ctx: ctx() }], current);
    expect(r.baseline.rules).toEqual({ x: 1, region: 1, default: 1 });
    expect(r.changed_decisions).toBe(1);
  });

  it('refuses a bare context without a baseline policy, saying what to pass', () => {
    expect(() => dryRun(changed, [ctx()])).toThrowError(/baseline/);
    try {
      dryRun(changed, [ctx()]);
    } catch (e) {
      expect(isWardenError(e, 'INPUT_INVALID')).toBe(true);
    }
  });

  it('accepts any iterable, such as a generator over a day of traffic', () => {
    function* gen() {
      for (let i = 0; i < 1000; i++) yield ctx({ client: { country: i % 10 === 0 ? 'IR' : 'US' } });
    }
    const r = dryRun(changed, gen(), current);
    expect(r.total).toBe(1000);
    expect(r.transitions).toEqual([{ from: 'allow', to: 'block', count: 100 }]);
    expect(r.rule_changes[0]!.examples).toEqual([0, 10, 20]);
  });

  it('strips the version from rule refs', () => {
    expect(ruleId('tor-exit@12')).toBe('tor-exit');
    expect(ruleId('no-version')).toBe('no-version');
  });
});

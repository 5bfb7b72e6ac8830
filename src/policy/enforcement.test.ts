import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ClusterVerdict } from '../core/index.js';
import { compilePolicy, formatPolicyIssues, PolicyError, type PolicyIssue } from './compile.js';
import { durationMs, ENFORCEMENT_RULE_ACTIONS, EnforcementWhen } from './enforcement.js';

const policy = (enforcement: string, extra = '') => `format: 1
lists:
  campaign_labels: [distillation, capability_probing]
  entities: [example-conglomerate]
${extra}rules: []
${enforcement}`;

const cluster = (o: Partial<ClusterVerdict> = {}): ClusterVerdict => ({
  cluster_id: 'cl_1',
  members: ['acc_1', 'acc_2', 'acc_3'],
  labels: ['distillation'],
  risk: 0.9,
  recommended_action: 'block',
  evidence: [],
  ...o,
});

function issuesOf(text: string): PolicyIssue[] {
  try {
    compilePolicy(text, { version: 1, file: 'policies/bad.yaml' });
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as PolicyError).issues;
  }
  throw new Error('expected the policy to be refused');
}

const lineOf = (text: string, marker: string) => text.split('\n').findIndex((l) => l.includes(`# ${marker}`)) + 1;

describe('enforcement rules: matching', () => {
  const p = compilePolicy(
    policy(`enforcement:
  mode: enforce
  rules:
    - id: attributed-campaign
      when: { risk_gte: 0.98, attribution_confidence_gte: 0.9, labels_any: $campaign_labels }
      then: { action: block, subject: cluster, expires_in: 30d }
    - id: big-unattributed
      when: { risk_gte: 0.8, attributed: false, members_gte: 5, labels_none: [reseller_customer_traffic] }
      then: { action: step_up, subject: accounts, reason: large unattributed cluster }
    - id: off
      enabled: false
      then: { action: block }
    - id: throttle-probing
      when: { labels_all: [capability_probing, distillation], recommended_gte: step_up }
      then: { action: throttle, params: { requests_per_minute: 5 } }
    - id: the-rest
      when: { recommended_gte: step_up }
      then: { action: open_case }
`),
    { version: 7 },
  );

  it('reads the mode and lists every rule with its line', () => {
    expect(p.enforcement.mode).toBe('enforce');
    expect(p.enforcement.rules.map((r) => [r.id, r.action, r.subject ?? null, r.enabled])).toEqual([
      ['attributed-campaign', 'block', 'cluster', true],
      ['big-unattributed', 'step_up', 'accounts', true],
      ['off', 'block', 'cluster', false],
      ['throttle-probing', 'throttle', 'cluster', true],
      ['the-rest', 'open_case', null, true],
    ]);
    expect(p.enforcement.rules[0]!.line).toBe(9);
  });

  it('takes the first rule whose conditions all hold, in file order', () => {
    const m = p.enforcement.match(cluster({ risk: 0.99, attributed_entity: 'example-conglomerate', confidence: 0.95 }));
    expect(m).toEqual({ rule: 'attributed-campaign', ref: 'attributed-campaign@7', action: 'block', subject: 'cluster', expires_in_ms: 30 * 86_400_000, reason: 'enforcement rule attributed-campaign@7' });
  });

  it('needs every condition: attribution below its confidence falls through to a later rule', () => {
    expect(p.enforcement.match(cluster({ risk: 0.99, attributed_entity: 'example-conglomerate', confidence: 0.6 }))?.rule).toBe('the-rest');
    expect(p.enforcement.match(cluster({ risk: 0.99, confidence: 0.99 }))?.rule).toBe('the-rest'); // confidence without an entity is not attribution
  });

  it('tests members, attribution and excluded labels', () => {
    const five = ['a', 'b', 'c', 'd', 'e'];
    expect(p.enforcement.match(cluster({ risk: 0.85, members: five }))).toMatchObject({ rule: 'big-unattributed', subject: 'accounts', reason: 'large unattributed cluster' });
    expect(p.enforcement.match(cluster({ risk: 0.85, members: five, labels: ['distillation', 'reseller_customer_traffic'] }))?.rule).toBe('the-rest');
    expect(p.enforcement.match(cluster({ risk: 0.85, members: five, attributed_entity: 'x', confidence: 0.6 }))?.rule).toBe('the-rest');
  });

  it('passes validated params and skips disabled rules', () => {
    const m = p.enforcement.match(cluster({ risk: 0.5, labels: ['distillation', 'capability_probing'], recommended_action: 'step_up' }));
    expect(m).toMatchObject({ rule: 'throttle-probing', action: 'throttle', params: { requests_per_minute: 5 } });
  });

  it('matches nothing when no rule holds', () => {
    expect(p.enforcement.match(cluster({ risk: 0.4, recommended_action: 'monitor' }))).toBeNull();
  });

  it('defaults to dry_run and to no rules', () => {
    expect(compilePolicy(policy('enforcement:\n  rules: []\n'), { version: 1 }).enforcement.mode).toBe('dry_run');
    const none = compilePolicy(policy(''), { version: 1 }).enforcement;
    expect(none.rules).toEqual([]);
    expect(none.match(cluster())).toBeNull();
  });

  it('parses durations in minutes, hours and days', () => {
    expect([durationMs('90m'), durationMs('12h'), durationMs('2d')]).toEqual([90 * 60_000, 12 * 3_600_000, 2 * 86_400_000]);
  });
});

describe('enforcement rules: validation', () => {
  const BAD = policy(`enforcement:
  mode: enforced                                  # bad-mode
  rules:
    - id: a
      when: { risk_gte: 1.5 }                     # bad-risk
      then: { action: ban }                       # bad-action
    - id: b
      when: { risk_gtee: 0.9 }                    # unknown-key
      then: { action: block }
    - id: c
      then: { action: open_case, subject: cluster } # case-subject
    - id: d
      when: { labels_any: $nope }                 # unknown-list
      then: { action: block }
    - id: e
      then: { action: block, expires_in: 30days } # bad-duration
    - id: f
      then: { action: block, params: { max_output_tokens: 5 } } # params-on-block
    - id: g
      when: { risk_gte: 0.9, risk_lt: 0.5 }       # empty-range
      then: { action: step_up }
    - id: i
      then: { action: step_up, subject: everyone } # bad-subject
    - id: a                                       # duplicate
      then: { action: monitor }
    - id: h
      then: { action: throttle, params: { scope: org } } # no-rate
`);
  const issues = issuesOf(BAD);
  const on = (marker: string) => issues.filter((i) => i.line === lineOf(BAD, marker));

  it('reports every problem at once, each with file, line and rule', () => {
    expect(on('bad-mode')[0]).toMatchObject({ file: 'policies/bad.yaml', path: 'enforcement.mode' });
    expect(on('bad-mode')[0]!.message).toContain('use enforce or dry_run');
    expect(on('bad-risk')[0]).toMatchObject({ rule: 'enforcement rule "a"', path: 'when.risk_gte' });
    expect(on('bad-action')[0]).toMatchObject({ rule: 'enforcement rule "a"', path: 'then.action' });
    expect(on('bad-action')[0]!.message).toContain('open_case');
    expect(on('unknown-key')[0]!.message).toBe('unknown key "risk_gtee"; did you mean "risk_gte"?');
    expect(on('case-subject')[0]).toMatchObject({ rule: 'enforcement rule "c"', path: 'then.subject' });
    expect(on('unknown-list')[0]!.message).toContain('unknown list "$nope"');
    expect(on('bad-duration')[0]!.message).toContain('such as 90m, 12h or 30d');
    expect(on('params-on-block')[0]!.message).toContain('only applies to degrade and throttle');
    expect(on('empty-range')[0]!.message).toContain('no cluster can match');
    expect(on('bad-subject')[0]!.message).toContain('use cluster, accounts or org');
    expect(on('duplicate')[0]!.message).toContain('duplicate id "a"');
    expect(on('no-rate')[0]!.message).toContain('a throttle needs');
    expect(issues.length).toBe(12);
    expect(formatPolicyIssues(on('bad-action'))).toBe(`policies/bad.yaml:${lineOf(BAD, 'bad-action')}: enforcement rule "a": then.action: ${on('bad-action')[0]!.message}`);
  });

  it('refuses an enforcement rule id already used by a request rule', () => {
    const text = `rules:\n  - id: same\n    decide: monitor\nenforcement:\n  rules:\n    - id: same\n      then: { action: open_case }\n`;
    expect(issuesOf(text)).toMatchObject([{ line: 6, rule: 'enforcement rule "same"', path: 'id' }]);
  });

  it('validates the shipped demo policy, which runs its rules in dry run', () => {
    const demo = compilePolicy(readFileSync(new URL('../../policies/demo.yaml', import.meta.url), 'utf8'), { version: 1 });
    expect(demo.enforcement.mode).toBe('dry_run');
    expect(demo.enforcement.rules.length).toBeGreaterThan(0);
  });
});

describe('docs/policy.md', () => {
  it('documents every enforcement condition and action', () => {
    const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Automatic enforcement'));
    for (const k of Object.keys(EnforcementWhen.shape)) expect(section, k).toContain(`\`${k}\``);
    for (const a of ENFORCEMENT_RULE_ACTIONS) expect(section, a).toContain(a);
  });
});

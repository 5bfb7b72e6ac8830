import { describe, expect, it } from 'vitest';
import type { LimitSpec } from '../core/index.js';
import { compilePolicy } from './compile.js';
import { makeRequestContext as ctx } from './testing.js';

const POLICY = `
defaults:
  verify_url: https://console.example.com/verify
  messages:
    block: Not permitted. Contact support.
rules:
  - id: watch-hosting
    when: { field: client.network_type, equals: hosting }
    decide: monitor
  - id: slow-embeddings
    when: { field: endpoint, equals: embeddings }
    decide: throttle
    params: { requests_per_minute: 5, scope: org }
  - id: degrade-risky
    when: { field: account.risk, gte: 0.7 }
    decide: degrade
    params: { max_output_tokens: 256, strip_thinking: true, route_model: claude-haiku-4-5 }
  - id: opus-verify
    when: [{ field: model, glob: "claude-opus-*" }, { field: org.verification, lt: business }]
    decide: step_up
    message: Verify your business to use this model.
  - id: tor-first
    when: { field: client.anonymizers, contains: tor }
    decide: block
    message: Anonymity networks are not supported.
  - id: tor-second
    when: { field: client.anonymizers, contains: tor }
    decide: block
    message: never shown
  - id: region
    when: { field: client.country, in: [CN, RU, IR, KP, SY, CU] }
    decide: block
  - id: tag-internal
    when: { field: org.declared_use, equals: internal }
    decide: allow
limits:
  - id: key-base
    scope: key
    requests_per_minute: 600
    tokens_per_minute: 100000
  - id: org-base
    scope: org
    requests_per_minute: 1000
    monthly_tokens: 1000000
  - id: org-unverified
    when: { field: org.verification, lt: email }
    scope: org
    requests_per_minute: 50
    monthly_tokens: 2000
  - id: org-vip
    when: { field: org.id, equals: org_vip }
    scope: org
    override: true
    requests_per_minute: 50000
  - id: org-vip-second
    when: { field: org.id, equals: org_vip }
    scope: org
    override: true
    requests_per_minute: 7
  - id: acc-risky
    when: { field: account.risk, gte: 0.5 }
    scope: account
    tokens_per_minute: 999
`;
const policy = compilePolicy(POLICY, { version: 7, file: 'engine.yaml' });
const limitOf = (limits: LimitSpec[], scope: string, kind: string): LimitSpec | undefined =>
  limits.find((l) => l.scope === scope && l.kind === kind);

describe('decisions and precedence', () => {
  it('allows with rule "default@version" when nothing matches', () => {
    const d = policy.decide(ctx({ org: { declared_use: 'research' } }));
    expect(d.decision).toBe('allow');
    expect(d.rule).toBe('default@7');
    expect(d.message).toBeUndefined();
  });

  it('names a matching allow rule, which only labels the request', () => {
    const d = policy.decide(ctx({ org: { declared_use: 'internal' } }));
    expect(d).toMatchObject({ decision: 'allow', rule: 'tag-internal@7' });
  });

  it('picks the most severe matching decision whatever the file order', () => {
    const d = policy.decide(ctx({ client: { network_type: 'hosting', country: 'RU' }, account: { risk: 0.8 } }));
    expect(d).toMatchObject({ decision: 'block', rule: 'region@7', message: 'Not permitted. Contact support.' });
  });

  it('breaks ties by file order', () => {
    const d = policy.decide(ctx({ client: { anonymizers: ['tor'], country: 'CN' } }));
    expect(d).toMatchObject({ decision: 'block', rule: 'tor-first@7', message: 'Anonymity networks are not supported.' });
  });

  it('gives step_up its verify URL and message', () => {
    const d = policy.decide(ctx({ model: 'claude-opus-4-1', org: { verification: 'id' } }));
    expect(d).toMatchObject({
      decision: 'step_up',
      rule: 'opus-verify@7',
      message: 'Verify your business to use this model.',
      verify_url: 'https://console.example.com/verify',
    });
    expect(d.limits).toEqual([]);
  });

  it('returns degrade params and the limits, since a degraded request goes through', () => {
    const d = policy.decide(ctx({ account: { risk: 0.75 } }));
    expect(d.decision).toBe('degrade');
    expect(d.params).toEqual({ max_output_tokens: 256, strip_thinking: true, route_model: 'claude-haiku-4-5' });
    expect(d.message).toBeTruthy();
    expect(limitOf(d.limits, 'key', 'requests_per_minute')?.limit).toBe(600);
  });

  it('returns monitor without a message', () => {
    const d = policy.decide(ctx({ client: { network_type: 'hosting' } }));
    expect(d).toMatchObject({ decision: 'monitor', rule: 'watch-hosting@7' });
    expect(d.message).toBeUndefined();
  });

  it('turns a throttle into a limit that replaces a looser one of its scope and kind', () => {
    const d = policy.decide(ctx({ endpoint: 'embeddings' }));
    expect(d.decision).toBe('throttle');
    expect(d.params).toEqual({ requests_per_minute: 5, scope: 'org' });
    expect(limitOf(d.limits, 'org', 'requests_per_minute')).toEqual({ rule: 'slow-embeddings@7', scope: 'org', kind: 'requests_per_minute', limit: 5 });
    expect(d.limits.filter((l) => l.scope === 'org' && l.kind === 'requests_per_minute')).toHaveLength(1);
  });

  it('returns no limits for a block', () => {
    expect(policy.decide(ctx({ client: { country: 'IR' } })).limits).toEqual([]);
  });
});

describe('enforcement actions in force', () => {
  const enforced = (decision: 'monitor' | 'throttle' | 'degrade' | 'step_up' | 'block') => ({ decision, action_id: 'act_1', reason: 'internal note' });

  it('decide at least their own decision', () => {
    const d = policy.decide(ctx({ enforcement: enforced('degrade') }));
    expect(d.decision).toBe('degrade');
    expect(d.rule).toBe('enforcement@7');
    expect(d.params).toMatchObject({ max_output_tokens: 1024, strip_thinking: true });
    expect(d.message).not.toContain('internal note');
  });

  it('let a more severe rule win', () => {
    const d = policy.decide(ctx({ enforcement: enforced('throttle'), client: { country: 'CU' } }));
    expect(d).toMatchObject({ decision: 'block', rule: 'region@7' });
  });

  it('win over a less severe rule', () => {
    const d = policy.decide(ctx({ enforcement: enforced('block'), account: { risk: 0.8 } }));
    expect(d).toMatchObject({ decision: 'block', rule: 'enforcement@7', message: 'Not permitted. Contact support.' });
  });

  it('give step_up the default verify URL, and throttle its default limit', () => {
    expect(policy.decide(ctx({ enforcement: enforced('step_up') })).verify_url).toBe('https://console.example.com/verify');
    const t = policy.decide(ctx({ enforcement: enforced('throttle') }));
    expect(t.decision).toBe('throttle');
    expect(limitOf(t.limits, 'key', 'requests_per_minute')).toMatchObject({ rule: 'enforcement@7', limit: 10 });
  });

  it('yield to an equally severe rule, whose message is more specific', () => {
    const d = policy.decide(ctx({ enforcement: enforced('degrade'), account: { risk: 0.9 } }));
    expect(d.rule).toBe('degrade-risky@7');
  });
});

describe('limits', () => {
  it('returns the unconditional limits for a plain request, one per scope and kind', () => {
    const d = policy.decide(ctx());
    expect(d.limits).toEqual(
      expect.arrayContaining([
        { rule: 'key-base@7', scope: 'key', kind: 'requests_per_minute', limit: 600 },
        { rule: 'key-base@7', scope: 'key', kind: 'tokens_per_minute', limit: 100000 },
        { rule: 'org-base@7', scope: 'org', kind: 'requests_per_minute', limit: 1000 },
        { rule: 'org-base@7', scope: 'org', kind: 'monthly_tokens', limit: 1000000 },
      ]),
    );
    expect(d.limits).toHaveLength(4);
  });

  it('tightens with a scoped lower limit', () => {
    const d = policy.decide(ctx({ org: { verification: 'none' } }));
    expect(limitOf(d.limits, 'org', 'requests_per_minute')).toMatchObject({ rule: 'org-unverified@7', limit: 50 });
    expect(limitOf(d.limits, 'org', 'monthly_tokens')).toMatchObject({ rule: 'org-unverified@7', limit: 2000 });
    expect(limitOf(d.limits, 'key', 'requests_per_minute')?.limit).toBe(600);
  });

  it('lets the first matching override replace the others, even a lower one', () => {
    const d = policy.decide(ctx({ org: { id: 'org_vip', verification: 'none' } }));
    expect(limitOf(d.limits, 'org', 'requests_per_minute')).toMatchObject({ rule: 'org-vip@7', limit: 50000 });
    // The override covers requests_per_minute only; the budget still tightens.
    expect(limitOf(d.limits, 'org', 'monthly_tokens')?.limit).toBe(2000);
  });

  it('adds account limits when their condition holds', () => {
    expect(limitOf(policy.decide(ctx({ account: { risk: 0.6 } })).limits, 'account', 'tokens_per_minute')?.limit).toBe(999);
    expect(limitOf(policy.decide(ctx({ account: { risk: 0.1 } })).limits, 'account', 'tokens_per_minute')).toBeUndefined();
  });

  it('gives the same answer on repeated calls (memoised by match pattern)', () => {
    const a = policy.decide(ctx({ org: { verification: 'none' } })).limits;
    const b = policy.decide(ctx({ org: { verification: 'none' } })).limits;
    const c = policy.decide(ctx()).limits;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('skips disabled rules and limits', () => {
    const p = compilePolicy(
      `rules:\n  - id: off\n    enabled: false\n    decide: block\nlimits:\n  - id: l\n    enabled: false\n    scope: key\n    requests_per_minute: 1\n`,
      { version: 2 },
    );
    const d = p.decide(ctx());
    expect(d).toMatchObject({ decision: 'allow', rule: 'default@2', limits: [] });
    expect(p.rules).toEqual([{ id: 'off', decide: 'block', enabled: false, line: 2 }]);
  });
});

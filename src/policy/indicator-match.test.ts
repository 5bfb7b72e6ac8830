import { describe, expect, it } from 'vitest';
import { createIndicatorMatcher, type SharedIndicator } from '../core/index.js';
import { compilePolicy } from './compile.js';
import { makeRequestContext as ctx } from './testing.js';

const POLICY = `
defaults:
  verify_url: https://console.example.com/verify
rules:
  - id: shared-actor-strong
    when: { indicator_match: { kinds: [device_fingerprint, payment_fingerprint, prompt_fingerprint, email_domain], min_confidence: 0.7 } }
    decide: step_up
  - id: shared-actor-network
    when: [{ indicator_match: { kinds: [ip_range, asn] } }, { field: client.network_type, equals: hosting }]
    decide: monitor
`;

const ind = (kind: SharedIndicator['kind'], value: string | number, confidence = 0.9, valid_until?: string): SharedIndicator => ({
  id: `indicator--${kind}-${value}`,
  kind,
  value,
  hashed: false,
  confidence,
  source: 'Other Provider',
  ...(valid_until ? { valid_until } : {}),
});

describe('indicator_match', () => {
  const policy = compilePolicy(POLICY, { version: 1, file: 'p.yaml' });
  const now = Date.parse('2026-03-01T00:00:00Z');
  const matcher = createIndicatorMatcher(
    [ind('ip_range', '203.0.113.0/24'), ind('asn', 64500, 0.5), ind('device_fingerprint', 'x', 0.93), ind('ip_range', '2001:db8::/48'), ind('ip_range', '192.0.2.0/24', 0.9, '2026-02-01T00:00:00Z')],
    now,
  );
  const decide = (c: ReturnType<typeof ctx>) => {
    const hits = matcher.hits(c.client.ip, c.client.asn, c.account?.labels);
    if (hits.length) c.indicators = hits;
    return policy.decide(c);
  };

  it('matches a request from an imported range or ASN at request time, with the kinds and confidence asked for', () => {
    expect(decide(ctx({ client: { ip: '203.0.113.9', asn: 64501, network_type: 'hosting' } })).rule).toBe('shared-actor-network@1');
    expect(decide(ctx({ client: { ip: '198.51.100.9', asn: 64500, network_type: 'hosting' } })).rule).toBe('shared-actor-network@1');
    expect(decide(ctx({ client: { ip: '2001:db8::1', asn: 1, network_type: 'hosting' } })).rule).toBe('shared-actor-network@1');
    expect(decide(ctx({ client: { ip: '2001:db9::1', asn: 1, network_type: 'hosting' } })).decision).toBe('allow');
    // Expired: 192.0.2.0/24 ended before now.
    expect(decide(ctx({ client: { ip: '192.0.2.5', asn: 1, network_type: 'hosting' } })).decision).toBe('allow');
    // Network matches are weak: they never satisfy the strong rule.
    expect(decide(ctx({ client: { ip: '203.0.113.9', asn: 64500, network_type: 'residential' } })).decision).toBe('allow');
  });

  it("reads the account's own matches from detection's label, at the imported confidence", () => {
    expect(decide(ctx({ account: { labels: ['imported_indicator'] } })).rule).toBe('shared-actor-strong@1');
    expect(decide(ctx({ account: { labels: ['distillation'] } })).decision).toBe('allow');
    const low = createIndicatorMatcher([ind('device_fingerprint', 'x', 0.5)], now);
    const c = ctx({ account: { labels: ['imported_indicator'] } });
    c.indicators = low.hits(c.client.ip, c.client.asn, c.account?.labels);
    expect(policy.decide(c).decision).toBe('allow'); // 0.5 < min_confidence 0.7
  });

  it('rejects a malformed indicator_match, naming the place', () => {
    const bad = (when: string) => {
      try {
        compilePolicy(`rules:\n  - id: r\n    when: ${when}\n    decide: block\n`, { version: 1, file: 'p.yaml' });
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad('{ indicator_match: { kinds: [cookie] } }')).toMatch(/unknown indicator kind "cookie"/);
    expect(bad('{ indicator_match: { min_confidence: 2 } }')).toMatch(/min_confidence.*0 to 1/);
    expect(bad('{ indicator_match: { kind: [asn] } }')).toMatch(/unknown key "kind"/);
    expect(bad('{ indicator_match: {}, field: model, equals: x }')).toMatch(/stands alone/);
  });
});

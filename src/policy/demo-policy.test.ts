import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compilePolicy, validatePolicy } from './compile.js';
import { makeRequestContext as ctx } from './testing.js';

const path = (name: string): string => fileURLToPath(new URL(`../../policies/${name}`, import.meta.url));
const demoText = readFileSync(path('demo.yaml'), 'utf8');
const demo = compilePolicy(demoText, { version: 1, file: 'policies/demo.yaml' });

describe('policies/demo.yaml', () => {
  it('is valid and has at least 20 rules', () => {
    expect(validatePolicy(demoText, 'policies/demo.yaml')).toEqual([]);
    expect(demo.rules.length).toBeGreaterThanOrEqual(20);
    expect(demo.warnings).toEqual([]);
  });

  it('names only the fictional demo entity and documentation ASN', () => {
    expect(demoText).toContain('example-conglomerate');
    expect(demoText).toContain('64500');
  });

  it.each([
    ['a client in a restricted country', ctx({ client: { country: 'RU' } }), 'block', 'region-client'],
    ['an org paying from a restricted country', ctx({ org: { payment_country: 'IR' } }), 'block', 'region-payment'],
    ['an org screened as a hit', ctx({ org: { screening: 'hit' } }), 'block', 'screening-hit'],
    ['an account attributed to the adversary', ctx({ account: { attributed_entity: 'example-conglomerate' } }), 'block', 'attributed-entity'],
    ['the adversary network', ctx({ client: { asn: 64500 } }), 'block', 'adversary-network'],
    ['tor', ctx({ client: { anonymizers: ['tor'] } }), 'block', 'tor-exit'],
    ['opus without business verification', ctx({ model: 'claude-opus-4-1', org: { verification: 'id' } }), 'step_up', 'frontier-needs-business'],
    ['opus with business verification', ctx({ model: 'claude-opus-4-1' }), 'allow', 'default'],
    ['a critical risk score', ctx({ account: { risk: 0.93 } }), 'step_up', 'risk-critical'],
    ['hosting and unverified', ctx({ client: { network_type: 'hosting' }, org: { verification: 'email' } }), 'monitor', 'hosting-unverified'],
    ['a reseller without end-user ids', ctx({ org: { declared_use: 'reseller' } }), 'throttle', 'reseller-without-end-user'],
    ['a reseller with end-user ids', ctx({ org: { declared_use: 'reseller' }, end_user_id: 'u_1' }), 'allow', 'default'],
    ['distillation', ctx({ account: { labels: ['distillation'] } }), 'degrade', 'distillation'],
  ])('decides %s', (_name, c, decision, rule) => {
    const d = demo.decide(c);
    expect(d.decision).toBe(decision);
    expect(d.rule).toBe(`${rule}@1`);
  });

  it('gives the demo enterprise org its higher limits', () => {
    const d = demo.decide(ctx({ org: { id: 'org_demo_enterprise' } }));
    expect(d.limits.find((l) => l.scope === 'org' && l.kind === 'monthly_tokens')?.limit).toBe(5_000_000_000);
  });
});

describe('policies/default.yaml', () => {
  it('is valid', () => {
    const text = readFileSync(path('default.yaml'), 'utf8');
    expect(validatePolicy(text, 'policies/default.yaml')).toEqual([]);
    expect(compilePolicy(text, { version: 1 }).decide(ctx({ client: { country: 'KP' } })).decision).toBe('block');
  });
});

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compilePolicy } from './compile.js';
import { makeRequestContext as ctx, type ContextOverrides } from './testing.js';

/** Whether a rule with this `when` matches a context built from the overrides. */
function matches(when: unknown, o: ContextOverrides, lists?: Record<string, unknown[]>): boolean {
  const text = stringify({ lists, rules: [{ id: 'r', when, decide: 'block' }] });
  return compilePolicy(text, { version: 1 }).decide(ctx(o)).decision === 'block';
}

describe('condition operators', () => {
  it('equals and not_equals compare exactly', () => {
    expect(matches({ field: 'org.id', equals: 'org_1' }, { org: { id: 'org_1' } })).toBe(true);
    expect(matches({ field: 'org.id', equals: 'org_1' }, { org: { id: 'org_2' } })).toBe(false);
    expect(matches({ field: 'org.id', not_equals: 'org_1' }, { org: { id: 'org_2' } })).toBe(true);
    expect(matches({ field: 'org.id', not_equals: 'org_1' }, { org: { id: 'org_1' } })).toBe(false);
    expect(matches({ field: 'stream', equals: true }, { stream: true })).toBe(true);
    expect(matches({ field: 'stream', equals: true }, { stream: false })).toBe(false);
    expect(matches({ field: 'client.asn', equals: 64500 }, { client: { asn: 64500 } })).toBe(true);
  });

  it('in and not_in test membership, also through a named list', () => {
    const when = { field: 'client.country', in: ['CN', 'RU'] };
    expect(matches(when, { client: { country: 'RU' } })).toBe(true);
    expect(matches(when, { client: { country: 'FR' } })).toBe(false);
    expect(matches({ field: 'client.country', not_in: ['CN', 'RU'] }, { client: { country: 'FR' } })).toBe(true);
    expect(matches({ field: 'client.country', not_in: ['CN', 'RU'] }, { client: { country: 'CN' } })).toBe(false);
    const lists = { restricted: ['IR', 'KP'] };
    expect(matches({ field: 'org.payment_country', in: '$restricted' }, { org: { payment_country: 'KP' } }, lists)).toBe(true);
    expect(matches({ field: 'org.payment_country', in: '$restricted' }, { org: { payment_country: 'DE' } }, lists)).toBe(false);
    expect(matches({ field: 'client.asn', in: [64500, 64501] }, { client: { asn: 64501 } })).toBe(true);
  });

  it('glob and not_glob match model names, with a list of globs too', () => {
    expect(matches({ field: 'model', glob: 'claude-opus-*' }, { model: 'claude-opus-4-1' })).toBe(true);
    expect(matches({ field: 'model', glob: 'claude-opus-*' }, { model: 'claude-sonnet-4' })).toBe(false);
    expect(matches({ field: 'model', glob: ['gpt-5*', 'o3*'] }, { model: 'o3-mini' })).toBe(true);
    expect(matches({ field: 'model', not_glob: 'claude-*' }, { model: 'gpt-5' })).toBe(true);
    expect(matches({ field: 'model', not_glob: 'claude-*' }, { model: 'claude-haiku' })).toBe(false);
    expect(matches({ field: 'client.labels', glob: 'adversary:*' }, { client: { labels: ['x', 'adversary:example-conglomerate'] } })).toBe(true);
    expect(matches({ field: 'client.labels', glob: 'adversary:*' }, { client: { labels: ['x'] } })).toBe(false);
  });

  it('gt, gte, lt and lte compare numbers', () => {
    expect(matches({ field: 'account.risk', gte: 0.9 }, { account: { risk: 0.9 } })).toBe(true);
    expect(matches({ field: 'account.risk', gt: 0.9 }, { account: { risk: 0.9 } })).toBe(false);
    expect(matches({ field: 'account.risk', gt: 0.9 }, { account: { risk: 0.95 } })).toBe(true);
    expect(matches({ field: 'account.risk', lt: 0.1 }, { account: { risk: 0.05 } })).toBe(true);
    expect(matches({ field: 'account.risk', lte: 0.05 }, { account: { risk: 0.05 } })).toBe(true);
    expect(matches({ field: 'account.risk', lte: 0.05 }, { account: { risk: 0.06 } })).toBe(false);
  });

  it('compares verification levels and decisions by rank', () => {
    expect(matches({ field: 'org.verification', lt: 'business' }, { org: { verification: 'id' } })).toBe(true);
    expect(matches({ field: 'org.verification', lt: 'business' }, { org: { verification: 'business' } })).toBe(false);
    expect(matches({ field: 'org.verification', gte: 'phone' }, { org: { verification: 'id' } })).toBe(true);
    expect(matches({ field: 'org.verification', gte: 'phone' }, { org: { verification: 'email' } })).toBe(false);
    const enforcement = { decision: 'degrade' as const, action_id: 'act_1', reason: 'r' };
    expect(matches({ field: 'enforcement.decision', gte: 'throttle' }, { enforcement })).toBe(true);
    expect(matches({ field: 'enforcement.decision', gt: 'degrade' }, { enforcement })).toBe(false);
  });

  it('exists tests presence; empty strings and empty lists are absent', () => {
    expect(matches({ field: 'end_user_id', exists: true }, { end_user_id: 'u1' })).toBe(true);
    expect(matches({ field: 'end_user_id', exists: true }, {})).toBe(false);
    expect(matches({ field: 'end_user_id', exists: false }, { end_user_id: '' })).toBe(true);
    expect(matches({ field: 'org', exists: false }, { org: null })).toBe(true);
    expect(matches({ field: 'org', exists: false }, {})).toBe(false);
    expect(matches({ field: 'client.anonymizers', exists: true }, { client: { anonymizers: [] } })).toBe(false);
    expect(matches({ field: 'client.anonymizers', exists: true }, { client: { anonymizers: ['vpn'] } })).toBe(true);
  });

  it('contains, contains_any, contains_all and not_contains test list fields', () => {
    const labels = (l: string[]): ContextOverrides => ({ account: { labels: l } });
    expect(matches({ field: 'account.labels', contains: 'hydra_member' }, labels(['hydra_member']))).toBe(true);
    expect(matches({ field: 'account.labels', contains: 'hydra_member' }, labels(['distillation']))).toBe(false);
    expect(matches({ field: 'account.labels', contains_any: ['a', 'b'] }, labels(['c', 'b']))).toBe(true);
    expect(matches({ field: 'account.labels', contains_any: ['a', 'b'] }, labels(['c']))).toBe(false);
    expect(matches({ field: 'account.labels', contains_all: ['a', 'b'] }, labels(['b', 'a', 'c']))).toBe(true);
    expect(matches({ field: 'account.labels', contains_all: ['a', 'b'] }, labels(['a']))).toBe(false);
    expect(matches({ field: 'account.labels', not_contains: 'a' }, labels(['b']))).toBe(true);
    expect(matches({ field: 'account.labels', not_contains: ['a', 'b'] }, labels(['b']))).toBe(false);
    expect(matches({ field: 'client.anonymizers', contains: 'tor' }, { client: { anonymizers: ['vpn', 'tor'] } })).toBe(true);
  });

  it('combines with all, any, not, and a bare list meaning all', () => {
    const opus = { field: 'model', glob: 'claude-opus-*' };
    const unverified = { field: 'org.verification', lt: 'business' };
    const both = { model: 'claude-opus-4', org: { verification: 'id' as const } };
    const onlyModel = { model: 'claude-opus-4' };
    expect(matches({ all: [opus, unverified] }, both)).toBe(true);
    expect(matches({ all: [opus, unverified] }, onlyModel)).toBe(false);
    expect(matches([opus, unverified], both)).toBe(true);
    expect(matches([opus, unverified], onlyModel)).toBe(false);
    expect(matches({ any: [opus, unverified] }, onlyModel)).toBe(true);
    expect(matches({ any: [opus, unverified] }, { model: 'x' })).toBe(false);
    expect(matches({ not: opus }, { model: 'x' })).toBe(true);
    expect(matches({ not: opus }, onlyModel)).toBe(false);
    const three = { any: [opus, unverified, { field: 'stream', equals: true }] };
    expect(matches(three, { stream: true, model: 'x' })).toBe(true);
    expect(matches(three, { model: 'x' })).toBe(false);
    expect(matches({ all: [opus, { not: unverified }, { field: 'stream', equals: false }] }, onlyModel)).toBe(true);
  });

  it('treats a missing value as not matching comparisons, and negations as their opposite', () => {
    expect(matches({ field: 'org.verification', lt: 'business' }, { org: null })).toBe(false);
    expect(matches({ field: 'org.verification', gte: 'none' }, { org: null })).toBe(false);
    expect(matches({ field: 'account.risk', gte: 0 }, { account: null })).toBe(false);
    expect(matches({ field: 'org.declared_country', in: ['CN'] }, { org: { declared_country: undefined } })).toBe(false);
    expect(matches({ field: 'org.declared_country', not_in: ['CN'] }, { org: { declared_country: undefined } })).toBe(true);
    expect(matches({ field: 'account.labels', contains: 'x' }, { account: null })).toBe(false);
  });

  it('matches every request when a rule has no condition', () => {
    expect(matches(undefined, {})).toBe(true);
  });
});

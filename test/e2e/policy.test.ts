import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startHarness, waitForEvents, type Harness } from './harness.js';

const POLICY = `
format: 1
name: e2e
lists:
  restricted_countries: [CN, RU, IR, KP, SY, CU]
rules:
  - id: region-client
    when: { field: client.country, in: $restricted_countries }
    decide: block
    message: Requests from this region are not supported.
  - id: enforcement-block
    when: { field: enforcement.decision, equals: block }
    decide: block
    message: This account is suspended. Contact support to appeal.
  - id: enforcement-degrade
    when: { field: enforcement.decision, equals: degrade }
    decide: degrade
    params: { max_output_tokens: 7, strip_thinking: true }
  - id: verify-frontier
    when:
      all:
        - { field: model, glob: "claude-opus-*" }
        - { field: org.verification, lt: business }
    decide: step_up
    verify_url: https://verify.example/org
limits:
  - id: key-tight
    scope: key
    requests_per_minute: 3
    tokens_per_minute: 1000000
`;

describe('policy decisions at the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: POLICY });
  });
  afterAll(async () => h?.close());

  const client = (key: string, ip = '198.51.100.20') => new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': ip } });
  const ask = (a: Anthropic, model = 'claude-sonnet-4-6', max_tokens = 50) => a.messages.create({ model, max_tokens, messages: [{ role: 'user', content: 'Explain recursion with an example.' }] });

  it('blocks a client in a restricted region with 403 in the Anthropic shape, naming no detection logic', async () => {
    const c = await h.customer();
    // 77.88.8.8: a Russian resolver, per the real country database.
    const err = (await ask(client(c.key, '77.88.8.8')).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.PermissionDeniedError>;
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(err.message).toMatch(/region are not supported/);
    const [ev] = await waitForEvents<Record<string, unknown>>(h, `account_id=${c.accountId}`, 1);
    expect(ev).toMatchObject({ decision: 'block', status: 403, country: 'RU' });
    expect(String(ev!['decision_rule'])).toMatch(/^region-client@\d+$/);
    expect(h.upstream.stats.requests).toBeGreaterThanOrEqual(0);
  });

  it('never calls the upstream for a refused request', async () => {
    const c = await h.customer();
    const before = h.upstream.stats.requests;
    await ask(client(c.key, '77.88.8.8')).catch(() => undefined);
    expect(h.upstream.stats.requests).toBe(before);
  });

  it('answers 429 with retry-after and rate-limit headers past the key limit, in the OpenAI shape too', async () => {
    const c = await h.customer();
    const a = client(c.key);
    for (let i = 0; i < 3; i++) {
      const r = await a.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).withResponse();
      expect(r.response.headers.get('anthropic-ratelimit-requests-limit')).toBe('3');
      expect(r.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe(String(2 - i));
    }
    const err = (await ask(a).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.RateLimitError>;
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(0);
    const o = new OpenAI({ apiKey: c.key, baseURL: `${h.url}/v1`, maxRetries: 0 });
    await expect(o.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const events = await waitForEvents<Record<string, unknown>>(h, `account_id=${c.accountId}`, 5);
    expect(events.filter((e) => e['status'] === 429).every((e) => e['decision'] === 'throttle' && String(e['decision_rule']).startsWith('key-tight'))).toBe(true);
  });

  it('applies an enforcement action on the key to its next request, and its reversal', async () => {
    const c = await h.customer();
    const a = client(c.key);
    await ask(a);
    const action = await h.admin.call<{ action_id: string }>('POST', '/actions', { subject: { kind: 'key', id: c.keyId }, decision: 'block', reason: 'test' });
    const err = await ask(a).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((err as Error).message).toMatch(/suspended/);
    await h.admin.call('POST', `/actions/${action.action_id}/reverse`, { reason: 'appeal granted' });
    await expect(ask(a)).resolves.toMatchObject({ type: 'message' });
  });

  it('degrades with a documented header and a capped output', async () => {
    const c = await h.customer();
    await h.admin.call('POST', '/actions', { subject: { kind: 'account', id: c.accountId }, decision: 'degrade', reason: 'distillation suspected' });
    const r = await ask(client(c.key), 'claude-sonnet-4-6', 500).withResponse();
    expect(r.response.headers.get('warden-degraded')).toMatch(/^enforcement-degrade@\d+; .*max_tokens/);
    expect(r.data.usage.output_tokens).toBeLessThanOrEqual(7);
  });

  it('asks for verification with the verify URL', async () => {
    const c = await h.customer({ org: { verification: 'email' } });
    const err = await ask(client(c.key), 'claude-opus-4-7').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((err as Error).message).toMatch(/https:\/\/verify\.example\/org/);
  });

  it('reloads a changed policy file without a restart, and rolls back', async () => {
    const file = path.join(h.dataDir, 'policy.yaml');
    const c = await h.customer();
    const before = (await h.admin.call<{ version: number }>('GET', '/policy')).version;
    writeFileSync(file, `${POLICY}\n  - id: key-tight-2\n    scope: key\n    requests_per_minute: 1\n`);
    await expect.poll(async () => (await h.admin.call<{ version: number }>('GET', '/policy')).version, { timeout: 10_000 }).toBeGreaterThan(before);
    const a = client(c.key);
    await ask(a);
    await expect(ask(a)).rejects.toBeInstanceOf(Anthropic.RateLimitError);

    // An invalid file keeps the version in force.
    const good = (await h.admin.call<{ version: number }>('GET', '/policy')).version;
    writeFileSync(file, 'rules: [ { id: broken, decide: explode } ]\n');
    await new Promise((r) => setTimeout(r, 800));
    expect((await h.admin.call<{ version: number }>('GET', '/policy')).version).toBe(good);

    await h.admin.call('POST', '/policy/rollback', { version: before });
    expect((await h.admin.call<{ version: number }>('GET', '/policy')).version).toBe(before);
    const versions = (await h.admin.call<{ versions: { version: number }[] }>('GET', '/policy/versions')).versions;
    expect(versions.map((v) => v.version)).toEqual(expect.arrayContaining([before, good]));
  });
  it('applies an edited policy text through the admin API, and refuses an invalid one with its problems', async () => {
    const c = await h.customer();
    const before = (await h.admin.call<{ version: number }>('GET', '/policy')).version;
    const bad = await fetch(`${h.url}/admin/v1/policy`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'rules: [ { id: broken, decide: explode } ]\n', reason: 'test' }),
    });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { error: { type: string; issues: unknown[] } };
    expect(problem.error.type).toBe('policy_invalid');
    expect(JSON.stringify(problem.error.issues)).toMatch(/broken/);
    expect((await h.admin.call<{ version: number }>('GET', '/policy')).version).toBe(before);

    const applied = await h.admin.call<{ version: number }>('POST', '/policy', { text: `${POLICY}\n  - id: key-tight-3\n    scope: key\n    requests_per_minute: 1\n`, reason: 'tighten for the test' });
    expect(applied.version).toBeGreaterThan(before);
    expect((await h.admin.call<{ version: number }>('GET', '/policy')).version).toBe(applied.version);
    const a = client(c.key);
    await ask(a);
    await expect(ask(a)).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    await h.admin.call('POST', '/policy/rollback', { version: before });
  });
});

describe('shipped policies', () => {
  it('the demo policy has at least 20 rules', () => {
    const text = readFileSync(path.join(ROOT, 'policies/demo.yaml'), 'utf8');
    expect((text.match(/^\s+- id: /gm) ?? []).length).toBeGreaterThanOrEqual(20);
  });
});

describe('refused requests', () => {
  it('keep the prompt features of a refused request: probing is evidence too', async () => {
    const h = await startHarness({ policy: POLICY });
    try {
      const c = await h.customer();
      await new Anthropic({ apiKey: c.key, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': '77.88.8.8' } })
        .messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: "Let's think step by step: what is 17 * 23?" }] })
        .catch(() => undefined);
      const [ev] = await waitForEvents<Record<string, unknown>>(h, `account_id=${c.accountId}`, 1);
      expect(ev).toMatchObject({ decision: 'block', features: { v: 1 } });
    } finally {
      await h.close();
    }
  });
});

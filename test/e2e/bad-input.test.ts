import net from 'node:net';
import http from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitForEvents, type Harness } from './harness.js';

type Ev = Record<string, unknown>;

async function post(url: string, path: string, body: string | Buffer, headers: Record<string, string>) {
  const res = await fetch(`${url}${path}`, { method: 'POST', body, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json: json as Record<string, any>, headers: res.headers };
}

async function eventOf(h: Harness, requestId: string | null): Promise<Ev | undefined> {
  expect(requestId).toBeTruthy();
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const events = (await h.admin.call<{ events: Ev[] }>('GET', '/events?limit=10000')).events;
    const e = events.find((x) => x['event_id'] === requestId);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}

const anthropicBody = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] });
const openaiBody = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });

describe('bad input at the gateway', () => {
  let h: Harness;
  let c: Awaited<ReturnType<Harness['customer']>>;
  const aHeaders = () => ({ 'content-type': 'application/json', 'x-api-key': c.key, 'anthropic-version': '2023-06-01' });
  const oHeaders = () => ({ 'content-type': 'application/json', authorization: `Bearer ${c.key}` });

  beforeAll(async () => {
    h = await startHarness({ gateway: { max_body_bytes: 100_000, models: ['claude-sonnet-4-6', 'claude-haiku-4-5', 'gpt-4o-mini', 'mock-slow', 'mock-slow-stream', 'mock-error-500'], upstream_headers_timeout_ms: 1500 } });
    c = await h.customer();
  });
  afterAll(async () => h?.close());

  it('refuses malformed JSON in the Anthropic error shape and records the event', async () => {
    const r = await post(h.url, '/v1/messages', '{"model": "claude', aHeaders());
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(r.json.error.message).toMatch(/not valid JSON/);
    const ev = await eventOf(h, r.headers.get('request-id'));
    expect(ev).toMatchObject({ status: 400, account_id: c.accountId, endpoint: 'messages' });
  });

  it('refuses malformed JSON in the OpenAI error shape', async () => {
    const r = await post(h.url, '/v1/chat/completions', '{', oHeaders());
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(r.json['type']).toBeUndefined();
    await expect(eventOf(h, r.headers.get('x-request-id'))).resolves.toMatchObject({ status: 400 });
  });

  it('refuses a wrong content type', async () => {
    const r = await post(h.url, '/v1/messages', anthropicBody, { ...aHeaders(), 'content-type': 'text/plain' });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/Content-Type must be application\/json/);
    await expect(eventOf(h, r.headers.get('request-id'))).resolves.toMatchObject({ status: 400 });
  });

  it('refuses a body over the limit with 413', async () => {
    const big = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x'.repeat(200_000) }] });
    const r = await post(h.url, '/v1/messages', big, aHeaders());
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    await expect(eventOf(h, r.headers.get('request-id'))).resolves.toMatchObject({ status: 413 });
  });

  it('refuses invalid UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('{"model":"claude-sonnet-4-6","max_tokens":5,"messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
    const r = await post(h.url, '/v1/messages', bytes, aHeaders());
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/UTF-8/);
    await expect(eventOf(h, r.headers.get('request-id'))).resolves.toMatchObject({ status: 400 });
  });

  it('refuses a missing field with a message naming it', async () => {
    const r = await post(h.url, '/v1/messages', JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 5 }), aHeaders());
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/messages/);
  });

  it.each([
    ['missing', undefined, /No API key/],
    ['malformed', 'sk-not-a-warden-key', /malformed/],
    ['unknown', 'wdn_abcdefabcdef_' + 'A'.repeat(43), /not valid/],
  ])('refuses a %s key with 401 in both shapes and records the event without an account', async (_n, key, msg) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key) headers['x-api-key'] = key;
    const r = await post(h.url, '/v1/messages', anthropicBody, headers);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(r.json.error.message).toMatch(msg);
    const ev = await eventOf(h, r.headers.get('request-id'));
    expect(ev).toMatchObject({ status: 401, decision: 'block' });
    expect(ev!['account_id']).toBeUndefined();

    const o = new OpenAI({ apiKey: key ?? 'x', baseURL: `${h.url}/v1`, maxRetries: 0 });
    await expect(o.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('refuses a revoked key at once, and an expired one', async () => {
    const k = await h.customer();
    const a = new Anthropic({ apiKey: k.key, baseURL: h.url, maxRetries: 0 });
    await a.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    await h.admin.call('POST', `/keys/${k.keyId}/revoke`);
    const err = await a.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as Error).message).toMatch(/revoked/);

    const exp = await h.admin.call<{ key: string }>('POST', '/keys', { account_id: k.accountId, expires_at: new Date(Date.now() - 1000).toISOString() });
    const e2 = await new Anthropic({ apiKey: exp.key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((e2 as Error).message).toMatch(/expired/);
  });

  it('refuses a model the key may not use with 403, and an unknown model with 404', async () => {
    const k = await h.customer({ key: { allowed_models: ['claude-haiku-*'] } });
    const a = new Anthropic({ apiKey: k.key, baseURL: h.url, maxRetries: 0 });
    const e1 = await a.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(Anthropic.PermissionDeniedError);
    await expect(a.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).resolves.toMatchObject({ type: 'message' });
    const e2 = await new Anthropic({ apiKey: c.key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-nonexistent', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('passes an upstream error through and survives it', async () => {
    const r = await post(h.url, '/v1/messages', JSON.stringify({ model: 'mock-error-500', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), aHeaders());
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ type: 'error' });
    await expect(eventOf(h, r.headers.get('request-id'))).resolves.toMatchObject({ status: 500 });
  });

  it('answers 504 in the API shape when the upstream is too slow', async () => {
    const r = await post(h.url, '/v1/chat/completions', JSON.stringify({ model: 'mock-slow', messages: [{ role: 'user', content: 'x' }] }), oHeaders());
    expect(r.status).toBe(504);
    expect(r.json).toMatchObject({ error: { type: expect.any(String) } });
    await expect(eventOf(h, r.headers.get('x-request-id'))).resolves.toMatchObject({ status: 504 });
  });

  it('records an aborted stream and aborts the upstream when the client goes away', async () => {
    const before = h.upstream.stats.aborted;
    const req = http.request(`${h.url}/v1/messages`, { method: 'POST', headers: aHeaders() });
    const requestId = await new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        res.once('data', () => {
          req.destroy();
          resolve(String(res.headers['request-id']));
        });
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'mock-slow-stream', max_tokens: 4000, stream: true, messages: [{ role: 'user', content: 'a long story' }] }));
    });
    const ev = await eventOf(h, requestId);
    expect(ev).toMatchObject({ aborted: true, stream: true });
    await expect.poll(() => h.upstream.stats.aborted, { timeout: 5000 }).toBeGreaterThan(before);
  });

  it('refuses CR/LF in a header value with 400 and counts it', async () => {
    const raw = `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: a\rb\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`;
    const reply = await new Promise<string>((resolve, reject) => {
      const u = new URL(h.url);
      const s = net.connect(Number(u.port), u.hostname, () => s.end(raw));
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/warden_http_parse_errors_total\{code="[A-Z_]+"\} [1-9]/);
  });

  it('keeps serving after all of the above', async () => {
    const r = await post(h.url, '/v1/messages', anthropicBody, aHeaders());
    expect(r.status).toBe(200);
  });
});

describe('upstream down', () => {
  it('answers 502 in the API shape and records the event', async () => {
    const h = await startHarness({ upstreamUrl: 'http://127.0.0.1:9' });
    try {
      const c = await h.customer();
      const err = await new Anthropic({ apiKey: c.key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as { status: number }).status).toBe(502);
      const events = await waitForEvents<Ev>(h, `account_id=${c.accountId}`, 1);
      expect(events[0]).toMatchObject({ status: 502 });
    } finally {
      await h.close();
    }
  });
});

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicDialect, openaiDialect, parseSseStream } from './dialects/index.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';

const KEY = 'sk-mock-test';
const PROMPT = 'Explain how a river changes its course over a century.';

describe('simulated model upstream, through the official SDKs', () => {
  let up: MockUpstream;
  let anthropic: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    up = await startMockUpstream({ host: '127.0.0.1', port: 0, latencyMs: 0, apiKey: KEY, slowMs: 3000 });
    anthropic = new Anthropic({ apiKey: KEY, baseURL: up.url, maxRetries: 0 });
    openai = new OpenAI({ apiKey: KEY, baseURL: `${up.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => up?.close());

  describe('Anthropic Messages', () => {
    it('answers a message with deterministic text and usage that follows the text', async () => {
      const body = { model: 'claude-opus-4-1', max_tokens: 1024, system: 'Be brief.', messages: [{ role: 'user' as const, content: PROMPT }] };
      const a = await anthropic.messages.create(body);
      const b = await anthropic.messages.create(body);
      expect(a.type).toBe('message');
      expect(a.stop_reason).toBe('end_turn');
      const text = a.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      expect(text.length).toBeGreaterThan(40);
      expect(text).toMatch(/^[A-Z][^]*\.$/);
      expect(text).not.toMatch(/lorem/i);
      expect(b.content).toEqual(a.content);
      expect(a.id).not.toBe(b.id);
      expect(a.usage.output_tokens).toBe(Math.ceil(text.length / 4));
      expect(a.usage.input_tokens).toBe(Math.ceil(('Be brief.'.length + PROMPT.length + 4) / 4));
      const other = await anthropic.messages.create({ ...body, messages: [{ role: 'user', content: 'Something else entirely.' }] });
      expect(other.content).not.toEqual(a.content);
    });

    it('honours max_tokens with stop_reason max_tokens', async () => {
      const m = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: PROMPT }] });
      expect(m.stop_reason).toBe('max_tokens');
      expect(m.usage.output_tokens).toBeLessThanOrEqual(5);
    });

    it('streams events the SDK accumulates into the same message', async () => {
      const body = { model: 'claude-opus-4-1', max_tokens: 1024, messages: [{ role: 'user' as const, content: PROMPT }] };
      const plain = await anthropic.messages.create(body);
      const s = anthropic.messages.stream(body);
      const deltas: string[] = [];
      s.on('text', (t) => deltas.push(t));
      const final = await s.finalMessage();
      expect(deltas.length).toBeGreaterThan(3);
      expect(final.content).toEqual(plain.content);
      expect(final.usage.output_tokens).toBe(plain.usage.output_tokens);
      expect(final.usage.input_tokens).toBe(plain.usage.input_tokens);

      const raw = await anthropic.messages.create({ ...body, stream: true });
      const types: string[] = [];
      for await (const ev of raw) types.push(ev.type);
      expect(types[0]).toBe('message_start');
      expect(types.at(-2)).toBe('message_delta');
      expect(types.at(-1)).toBe('message_stop');
    });

    it('returns a thinking block when extended thinking is asked for', async () => {
      const m = await anthropic.messages.create({ model: 'claude-opus-4-1', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: PROMPT }] });
      expect(m.content.map((c) => c.type)).toEqual(['thinking', 'text']);
      const s = await anthropic.messages.stream({ model: 'claude-opus-4-1', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: PROMPT }] }).finalMessage();
      expect(s.content).toEqual(m.content);
    });

    it('counts tokens and lists models in the Anthropic shapes', async () => {
      const c = await anthropic.messages.countTokens({ model: 'claude-opus-4-1', messages: [{ role: 'user', content: PROMPT }] });
      expect(c.input_tokens).toBe(Math.ceil((PROMPT.length + 4) / 4));
      const ids: string[] = [];
      for await (const m of anthropic.models.list()) ids.push(m.id);
      expect(ids).toContain('claude-opus-4-1');
      const one = await anthropic.models.retrieve('claude-haiku-4-5');
      expect(one).toMatchObject({ type: 'model', id: 'claude-haiku-4-5' });
    });

    it('refuses a bad key, a malformed body and simulated failures with the SDK error classes', async () => {
      const bad = new Anthropic({ apiKey: 'wrong', baseURL: up.url, maxRetries: 0 });
      const msg = { max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] };
      await expect(bad.messages.create({ model: 'claude-opus-4-1', ...msg })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
      await expect(anthropic.messages.create({ model: 'claude-opus-4-1', messages: msg.messages } as never)).rejects.toThrow(/max_tokens: field required/);
      await expect(anthropic.messages.create({ model: 'mock-error-500', ...msg })).rejects.toBeInstanceOf(Anthropic.InternalServerError);
      await expect(anthropic.messages.create({ model: 'mock-overloaded', ...msg })).rejects.toBeInstanceOf(Anthropic.OverloadedError);
      await expect(anthropic.messages.create({ model: 'mock-rate-limit', ...msg })).rejects.toBeInstanceOf(Anthropic.RateLimitError);
      const streamed = (async () => {
        for await (const _ of await anthropic.messages.create({ model: 'mock-stream-error', ...msg, stream: true })) void _;
      })();
      await expect(streamed).rejects.toMatchObject({ type: 'overloaded_error' });
    });
  });

  describe('OpenAI Chat Completions', () => {
    it('answers a completion with usage that follows the text', async () => {
      const c = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: PROMPT }] });
      const text = c.choices[0]!.message.content ?? '';
      expect(c.object).toBe('chat.completion');
      expect(c.choices[0]!.finish_reason).toBe('stop');
      expect(c.usage?.completion_tokens).toBe(Math.ceil(text.length / 4));
      expect(c.usage?.prompt_tokens).toBe(Math.ceil(('Be brief.'.length + 4 + PROMPT.length + 4) / 4));
      const capped = await openai.chat.completions.create({ model: 'gpt-4o-mini', max_completion_tokens: 4, messages: [{ role: 'user', content: PROMPT }] });
      expect(capped.choices[0]!.finish_reason).toBe('length');
      expect(capped.usage!.completion_tokens).toBeLessThanOrEqual(4);
    });

    it('streams chunks, with a usage chunk only when include_usage is set', async () => {
      const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: PROMPT }] };
      const plain = await openai.chat.completions.create(body);
      const chunks = [];
      for await (const ch of await openai.chat.completions.create({ ...body, stream: true })) chunks.push(ch);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(plain.choices[0]!.message.content);
      expect(chunks.some((c) => c.usage)).toBe(false);

      const withUsage = [];
      for await (const ch of await openai.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } })) withUsage.push(ch);
      const last = withUsage.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({ prompt_tokens: plain.usage!.prompt_tokens, completion_tokens: plain.usage!.completion_tokens });

      const final = await openai.chat.completions.stream(body).finalChatCompletion();
      expect(final.choices[0]!.message.content).toBe(plain.choices[0]!.message.content);
    });

    it('lists models and raises the SDK error classes', async () => {
      const ids: string[] = [];
      for await (const m of openai.models.list()) ids.push(m.id);
      expect(ids).toContain('gpt-4o-mini');
      const bad = new OpenAI({ apiKey: 'wrong', baseURL: `${up.url}/v1`, maxRetries: 0 });
      const msg = { messages: [{ role: 'user' as const, content: 'x' }] };
      await expect(bad.chat.completions.create({ model: 'gpt-4o-mini', ...msg })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      await expect(openai.chat.completions.create({ model: 'gpt-4o-mini' } as never)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
      await expect(openai.chat.completions.create({ model: 'mock-rate-limit', ...msg })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
      await expect(openai.chat.completions.create({ model: 'mock-overloaded', ...msg })).rejects.toMatchObject({ status: 503 });
      const streamed = (async () => {
        for await (const _ of await openai.chat.completions.create({ model: 'mock-stream-error', ...msg, stream: true })) void _;
      })();
      await expect(streamed).rejects.toBeInstanceOf(OpenAI.APIError);
    });

    it('makes a slow model time out at the client and counts the abort', async () => {
      const before = up.stats.aborted;
      const quick = new OpenAI({ apiKey: KEY, baseURL: `${up.url}/v1`, maxRetries: 0, timeout: 200 });
      await expect(quick.chat.completions.create({ model: 'mock-slow', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      await expect.poll(() => up.stats.aborted).toBeGreaterThan(before);
    });
  });

  describe('OpenAI Responses', () => {
    it('answers and streams a response the SDK accumulates', async () => {
      const body = { model: 'gpt-5-mini', instructions: 'Be brief.', input: PROMPT };
      const r = await openai.responses.create(body);
      expect(r.status).toBe('completed');
      expect(r.output_text.length).toBeGreaterThan(40);
      expect(r.usage?.output_tokens).toBe(Math.ceil(r.output_text.length / 4));
      expect(r.usage?.input_tokens).toBe(Math.ceil(('Be brief.'.length + PROMPT.length) / 4));

      const s = openai.responses.stream(body);
      const deltas: string[] = [];
      s.on('response.output_text.delta', (e) => deltas.push(e.delta));
      const final = await s.finalResponse();
      expect(deltas.join('')).toBe(r.output_text);
      expect(final.output_text).toBe(r.output_text);
      expect(final.usage).toEqual(r.usage);

      const capped = await openai.responses.create({ ...body, max_output_tokens: 16 });
      expect(capped.status).toBe('incomplete');
      expect(capped.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    });
  });

  describe('relay metering against its streams', () => {
    it('the tracker reads the same usage as the non-streaming answer, at every split', async () => {
      const cases = [
        { path: '/v1/messages', dialect: anthropicDialect, endpoint: 'messages' as const, body: { model: 'claude-opus-4-1', max_tokens: 300, messages: [{ role: 'user', content: PROMPT }] } },
        { path: '/v1/chat/completions', dialect: openaiDialect, endpoint: 'chat.completions' as const, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], stream_options: { include_usage: true } } },
        { path: '/v1/responses', dialect: openaiDialect, endpoint: 'responses' as const, body: { model: 'gpt-5', input: PROMPT } },
      ];
      for (const c of cases) {
        const headers = { 'content-type': 'application/json', 'x-api-key': KEY, authorization: `Bearer ${KEY}`, 'anthropic-version': '2023-06-01' };
        const plain = await fetch(`${up.url}${c.path}`, { method: 'POST', headers, body: JSON.stringify(c.body) });
        const expected = c.dialect.usageFromResponse(c.endpoint, Buffer.from(await plain.arrayBuffer()));
        expect(expected).not.toBeNull();
        const streamed = await fetch(`${up.url}${c.path}`, { method: 'POST', headers, body: JSON.stringify({ ...c.body, stream: true }) });
        expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const raw = Buffer.from(await streamed.arrayBuffer());
        expect(parseSseStream(raw.toString()).length).toBeGreaterThan(4);
        for (let i = 0; i < raw.length; i += 7) {
          const t = c.dialect.createStreamTracker(c.endpoint);
          const out = [t.push(raw.subarray(0, i)), t.push(raw.subarray(i)), t.end()].filter((b): b is Buffer => b !== null);
          expect(Buffer.concat(out).equals(raw)).toBe(true);
          expect(t.usage()).toEqual(expected);
        }
      }
    });
  });

  it('answers a repeated stream from its cache with fresh ids and times', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
    for (const [path, body] of [
      ['/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `cache ${Date.now()}` }] }],
      ['/v1/responses', { model: 'gpt-5', stream: true, input: `cache ${Date.now()}` }],
      ['/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: `cache ${Date.now()}` }] }],
    ] as const) {
      const texts: string[] = [];
      const ids = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${up.url}${path}`, { method: 'POST', headers: { ...headers, 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) });
        const text = await res.text();
        expect(text).not.toMatch(/@@id@@|4102444800/);
        const events = parseSseStream(text).filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as Record<string, any>);
        const first = events[0]!;
        const id = first['id'] ?? first['response']?.['id'] ?? first['message']?.['id'];
        ids.add(String(id));
        expect(res.headers.get(path === '/v1/messages' ? 'request-id' : 'x-request-id')).toMatch(/^req_/);
        const created = first['created'] ?? first['response']?.['created_at'];
        if (created !== undefined) expect(Math.abs(created - Date.now() / 1000)).toBeLessThan(60);
        texts.push(text.replace(/(msg|chatcmpl-|resp|req)_?[a-z0-9]+/g, 'ID').replace(/"(created|created_at)":\d+/g, 'T'));
      }
      expect(ids.size).toBe(2);
      expect(texts[1]).toBe(texts[0]);
    }
  });

  it('records what it received, for the gateway tests', async () => {
    up.resetStats();
    const body = { model: 'claude-haiku-4-5', max_tokens: 7, metadata: { user_id: `end-user-${Date.now()}` }, messages: [{ role: 'user' as const, content: 'hi' }] };
    const first = await anthropic.messages.create(body);
    // The same request again is answered from the answer cache, and recorded the same way.
    const again = await anthropic.messages.create(body);
    expect(again.content).toEqual(first.content);
    expect(again.id).not.toBe(first.id);
    expect(up.stats.requests).toBe(2);
    expect(up.stats.byPath['/v1/messages']).toBe(2);
    expect(up.stats.recent.map((r) => r.body)).toEqual([body, body]);
    expect(up.stats.recent[0]).toMatchObject({ method: 'POST', path: '/v1/messages' });
    // @anthropic-ai/sdk 1.x sends its API key as a bearer token.
    const h = up.stats.recent[0]!.headers;
    expect(h['x-api-key'] ?? h['authorization']).toMatch(new RegExp(`^(Bearer )?${KEY}$`));
  });
});

describe('simulated model upstream pacing', () => {
  it('streams chunk by chunk at the configured token rate', async () => {
    const up = await startMockUpstream({ tokensPerSecond: 400 });
    try {
      const res = await fetch(`${up.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_completion_tokens: 120, messages: [{ role: 'user', content: PROMPT }] }),
      });
      let reads = 0;
      const reader = res.body!.getReader();
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
        reads++;
      }
      // Paced output arrives in several network reads, not one.
      expect(reads).toBeGreaterThan(3);
    } finally {
      await up.close();
    }
  });

  it('closes promptly with a hanging request open', async () => {
    const up = await startMockUpstream({});
    const pending = fetch(`${up.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-hang', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    }).catch((e: unknown) => e);
    await expect.poll(() => up.stats.requests).toBe(1);
    await up.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitForEvents, waitForEventsWhere, type Harness } from './harness.js';

// The official SDKs, unchanged, pointed at the gateway with a Warden key.
describe('official SDKs through the gateway', () => {
  let h: Harness;
  let c: Awaited<ReturnType<Harness['customer']>>;
  let anthropic: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    h = await startHarness();
    c = await h.customer();
    anthropic = new Anthropic({ apiKey: c.key, baseURL: h.url, maxRetries: 0 });
    openai = new OpenAI({ apiKey: c.key, baseURL: `${h.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => h?.close());

  it('answers Anthropic messages.create and records the usage and end-user id', async () => {
    const msg = await anthropic.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'What is a monad, briefly?' }],
      metadata: { user_id: 'eu-anthropic-1' },
    });
    expect(msg.type).toBe('message');
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const [ev] = await waitForEvents<Record<string, unknown>>(h, `account_id=${c.accountId}`, 1);
    expect(ev).toMatchObject({ endpoint: 'messages', status: 200, end_user_id: 'eu-anthropic-1', input_tokens: msg.usage.input_tokens, output_tokens: msg.usage.output_tokens, decision: 'allow' });
    expect(ev!['features']).toMatchObject({ v: 1 });
    expect(ev!['prompt']).toBeUndefined();
  });

  it('streams Anthropic messages with the SDK and meters the stream', async () => {
    const before = (await waitForEvents(h, `account_id=${c.accountId}`, 0)).length;
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 120, messages: [{ role: 'user', content: 'Tell me a story about a lighthouse.' }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    expect(text.length).toBeGreaterThan(0);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    const events = await waitForEvents<Record<string, unknown>>(h, `account_id=${c.accountId}`, before + 1);
    const ev = events.find((e) => e['stream'] === true && e['endpoint'] === 'messages');
    expect(ev).toMatchObject({ output_tokens: final.usage.output_tokens, input_tokens: final.usage.input_tokens });
  });

  it('counts tokens and lists models with the Anthropic SDK', async () => {
    const n = await anthropic.messages.countTokens({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'How many tokens is this sentence?' }] });
    expect(n.input_tokens).toBeGreaterThan(0);
    const models = await anthropic.models.list();
    expect(models.data.length).toBeGreaterThan(0);
  });

  it('answers OpenAI chat.completions, streaming and not, with the usage chunk only when asked', async () => {
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }], user: 'eu-openai-1' });
    expect(r.choices[0]?.message.content).toBeTruthy();
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);

    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const ch of await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Count to five' }] })) chunks.push(ch);
    expect(chunks.some((ch) => ch.usage)).toBe(false);
    expect(chunks.every((ch) => ch.choices.length > 0)).toBe(true);

    const withUsage: OpenAI.ChatCompletionChunk[] = [];
    for await (const ch of await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Count to five' }] })) withUsage.push(ch);
    expect(withUsage.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);

    const events = await waitForEventsWhere<Record<string, unknown>>(h, `account_id=${c.accountId}`, (ev) => ev.filter((e) => e['endpoint'] === 'chat.completions').length >= 3);
    const streamed = events.filter((e) => e['endpoint'] === 'chat.completions' && e['stream'] === true);
    expect(streamed.length).toBe(2);
    for (const e of streamed) expect(e['output_tokens']).toBeGreaterThan(0);
  });

  it('answers OpenAI responses, streaming and not, and lists models', async () => {
    const r = await openai.responses.create({ model: 'gpt-4o-mini', input: 'One word for happy?', safety_identifier: 'eu-openai-2' });
    expect(r.output_text.length).toBeGreaterThan(0);
    const s = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Stream a sentence.', stream: true });
    const types: string[] = [];
    for await (const e of s) types.push(e.type);
    expect(types).toContain('response.completed');
    const models = await openai.models.list();
    expect(models.data.length).toBeGreaterThan(0);
    const events = await waitForEventsWhere<Record<string, unknown>>(h, `account_id=${c.accountId}`, (ev) => ev.filter((e) => e['endpoint'] === 'responses').length >= 2);
    expect(events.some((e) => e['endpoint'] === 'responses' && e['end_user_id'] === 'eu-openai-2')).toBe(true);
  });

  it('returns the request id header each SDK reads', async () => {
    const res = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).withResponse();
    expect(res.request_id).toMatch(/^req_/);
    const o = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    expect(o.request_id).toMatch(/^req_/);
  });
});

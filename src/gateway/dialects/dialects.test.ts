import { describe, expect, it } from 'vitest';
import { anthropicDialect } from './anthropic.js';
import { openaiDialect, openaiDuration } from './openai.js';
import { formatSseEvent, parseSseEvent, parseSseStream } from './sse.js';
import { isParseError } from './index.js';
import type { ParsedRequest } from './types.js';

const ok = (r: ReturnType<typeof anthropicDialect.parseRequest>): ParsedRequest => {
  if (isParseError(r)) throw new Error(`unexpected parse error: ${r.error}`);
  return r;
};

describe('Anthropic parseRequest', () => {
  const base = { model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };

  it('reads the fields a policy needs from string and block content', () => {
    const r = ok(
      anthropicDialect.parseRequest('messages', {
        model: 'claude-haiku-4-5',
        max_tokens: 256,
        stream: true,
        system: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }],
        metadata: { user_id: 'reseller-user-42' },
        tools: [{ name: 'a', input_schema: {} }, { name: 'b', input_schema: {} }],
        thinking: { type: 'enabled', budget_tokens: 2048 },
        messages: [
          { role: 'user', content: 'first question' },
          { role: 'assistant', content: [{ type: 'text', text: 'first answer' }] },
          { role: 'user', content: [{ type: 'image', source: {} }, { type: 'text', text: 'second' }, { type: 'text', text: 'question' }] },
        ],
      }),
    );
    expect(r).toEqual({
      model: 'claude-haiku-4-5',
      stream: true,
      turns: 3,
      tools: 2,
      endUserId: 'reseller-user-42',
      systemText: 'You are terse.\nAnswer in French.',
      lastUserText: 'second\nquestion',
      maxTokens: 256,
      wantsThinking: true,
    });
  });

  it('takes tool results as the text of a user turn that has no text block', () => {
    const r = ok(anthropicDialect.parseRequest('messages', { ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: '42' }] }] }] }));
    expect(r.lastUserText).toBe('42');
    expect(r.wantsThinking).toBe(false);
    expect(r.endUserId).toBeUndefined();
  });

  it.each([
    [null, '(root): expected a JSON object'],
    [{ max_tokens: 5, messages: [] }, 'model: field required'],
    [{ model: 'm', max_tokens: 5 }, 'messages: field required'],
    [{ model: 'm', messages: [] }, 'max_tokens: field required'],
    [{ model: 'm', max_tokens: 0, messages: [] }, 'max_tokens: expected a positive integer'],
    [{ model: 'm', max_tokens: 5, messages: {} }, 'messages: expected an array of messages'],
    [{ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 'b' }] }, 'messages[1].role: expected "user" or "assistant"'],
    [{ model: 'm', max_tokens: 5, messages: [{ role: 'user' }] }, 'messages[0].content: field required'],
    [{ model: 'm', max_tokens: 5, messages: [], stream: 'yes' }, 'stream: expected a boolean'],
    [{ model: 'm', max_tokens: 5, messages: [], metadata: { user_id: 7 } }, 'metadata.user_id: expected a string'],
    [{ model: 'm', max_tokens: 5, messages: [], system: 3 }, 'system: expected a string or an array of text blocks'],
  ])('refuses %j with "%s"', (body, error) => {
    const r = anthropicDialect.parseRequest('messages', body);
    expect(isParseError(r) && r.error).toBe(error);
  });

  it('does not require max_tokens for count_tokens', () => {
    expect(ok(anthropicDialect.parseRequest('count_tokens', { model: 'm', messages: [{ role: 'user', content: 'x' }] })).turns).toBe(1);
  });
});

describe('OpenAI parseRequest', () => {
  it('reads chat completions: system and developer text, last user text, end user', () => {
    const r = ok(
      openaiDialect.parseRequest('chat.completions', {
        model: 'gpt-4o-mini',
        user: 'legacy-user',
        safety_identifier: 'hashed-user-9',
        max_tokens: 50,
        max_completion_tokens: 80,
        reasoning_effort: 'high',
        tools: [{ type: 'function', function: { name: 'f' } }],
        messages: [
          { role: 'developer', content: 'Be exact.' },
          { role: 'system', content: [{ type: 'text', text: 'No jokes.' }] },
          { role: 'user', content: [{ type: 'text', text: 'What is 2+2?' }, { type: 'image_url', image_url: { url: 'x' } }] },
          { role: 'assistant', content: null, tool_calls: [] },
          { role: 'tool', content: '4', tool_call_id: 't' },
        ],
      }),
    );
    expect(r).toEqual({
      model: 'gpt-4o-mini',
      stream: false,
      turns: 5,
      tools: 1,
      endUserId: 'hashed-user-9',
      systemText: 'Be exact.\n\nNo jokes.',
      lastUserText: 'What is 2+2?',
      maxTokens: 80,
      wantsThinking: true,
    });
    const legacy = ok(openaiDialect.parseRequest('chat.completions', { model: 'm', user: 'legacy-user', messages: [] }));
    expect(legacy.endUserId).toBe('legacy-user');
    expect(legacy.wantsThinking).toBe(false);
  });

  it('reads responses: string and item inputs, instructions, reasoning', () => {
    expect(ok(openaiDialect.parseRequest('responses', { model: 'gpt-5', input: 'Tell me a story', instructions: 'Short.', stream: true }))).toEqual({
      model: 'gpt-5',
      stream: true,
      turns: 1,
      tools: 0,
      systemText: 'Short.',
      lastUserText: 'Tell me a story',
      wantsThinking: false,
    });
    const r = ok(
      openaiDialect.parseRequest('responses', {
        model: 'gpt-5',
        reasoning: { effort: 'medium' },
        max_output_tokens: 900,
        input: [
          { role: 'developer', content: 'Rules.' },
          { role: 'user', content: [{ type: 'input_text', text: 'Q1' }] },
          { type: 'function_call_output', call_id: 'c', output: '{}' },
        ],
      }),
    );
    expect(r).toMatchObject({ turns: 3, systemText: 'Rules.', lastUserText: 'Q1', maxTokens: 900, wantsThinking: true });
  });

  it.each([
    ['chat.completions', { messages: [] }, 'model: field required'],
    ['chat.completions', { model: 'm' }, 'messages: field required'],
    ['chat.completions', { model: 'm', messages: [{ content: 'x' }] }, 'messages[0].role: field required'],
    ['chat.completions', { model: 'm', messages: [], user: 5 }, 'user: expected a string'],
    ['chat.completions', { model: 'm', messages: [], max_tokens: -1 }, 'max_tokens: expected a non-negative integer'],
    ['responses', { input: 'x' }, 'model: field required'],
    ['responses', { model: 'm', input: 5 }, 'input: expected a string or an array of input items'],
    ['embeddings', { model: 'm' }, 'input: field required'],
  ] as const)('%s refuses %j with "%s"', (endpoint, body, error) => {
    const r = openaiDialect.parseRequest(endpoint, body);
    expect(isParseError(r) && r.error).toBe(error);
  });
});

describe('rate-limit headers', () => {
  const now = Date.UTC(2026, 10, 26, 18, 0, 12, 500);
  const state = { requests: { limit: 60, remaining: 59, resetAt: Date.UTC(2026, 10, 26, 18, 1, 0) }, tokens: { limit: 100_000, remaining: -3, resetAt: now + 6 * 60_000 } };

  it('Anthropic: limit, remaining and an RFC 3339 reset time', () => {
    expect(anthropicDialect.rateLimitHeaders(state, now)).toEqual({
      'anthropic-ratelimit-requests-limit': '60',
      'anthropic-ratelimit-requests-remaining': '59',
      'anthropic-ratelimit-requests-reset': '2026-11-26T18:01:00Z',
      'anthropic-ratelimit-tokens-limit': '100000',
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': '2026-11-26T18:06:13Z',
    });
  });

  it('Anthropic: the reset times stay right when they change from request to request (memoized formatting)', () => {
    const at = (resetAt: number) => anthropicDialect.rateLimitHeaders({ requests: { limit: 1, remaining: 1, resetAt } }, now)['anthropic-ratelimit-requests-reset'];
    const times = [state.requests.resetAt, state.requests.resetAt + 1, state.requests.resetAt + 1000, state.requests.resetAt, now + 6 * 60_000, state.requests.resetAt + 999, state.requests.resetAt + 60_000];
    for (const t of [...times, ...times.reverse()]) expect(at(t)).toBe(new Date(Math.ceil(t / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
  });

  it('OpenAI: limit, remaining and a duration until reset', () => {
    expect(openaiDialect.rateLimitHeaders(state, now)).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '47.5s',
      'x-ratelimit-limit-tokens': '100000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(openaiDialect.rateLimitHeaders({}, now)).toEqual({});
    expect([12, 1000, 61_250, 3_723_000].map(openaiDuration)).toEqual(['12ms', '1s', '1m1.25s', '1h2m3s']);
  });
});

describe('prepareUpstreamBody', () => {
  it('asks an OpenAI stream for usage and says to strip it when the client did not', () => {
    const body: Record<string, unknown> = { model: 'm', stream: true, messages: [], stream_options: { include_obfuscation: false } };
    expect(openaiDialect.prepareUpstreamBody('chat.completions', body)).toEqual({ body, changed: true, stripUsageChunk: true });
    expect(body['stream_options']).toEqual({ include_obfuscation: false, include_usage: true });
    const asked: Record<string, unknown> = { model: 'm', stream: true, messages: [], stream_options: { include_usage: true } };
    expect(openaiDialect.prepareUpstreamBody('chat.completions', asked)).toMatchObject({ changed: false, stripUsageChunk: false });
    expect(openaiDialect.prepareUpstreamBody('chat.completions', { model: 'm', messages: [] })).toMatchObject({ changed: false, stripUsageChunk: false });
    expect(openaiDialect.prepareUpstreamBody('responses', { model: 'm', stream: true })).toMatchObject({ changed: false, stripUsageChunk: false });
    expect(anthropicDialect.prepareUpstreamBody('messages', { stream: true })).toMatchObject({ changed: false, stripUsageChunk: false });
  });
});

describe('applyDegrade', () => {
  it('Anthropic: caps max_tokens, strips thinking, routes the model', () => {
    const body: Record<string, unknown> = { model: 'claude-opus-4-1', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 4000 }, messages: [] };
    const changed = anthropicDialect.applyDegrade('messages', body, { max_output_tokens: 512, strip_thinking: true, route_model: 'claude-haiku-4-5' });
    expect(changed).toEqual(['model=claude-haiku-4-5', 'thinking=off', 'max_tokens=512']);
    expect(body).toEqual({ model: 'claude-haiku-4-5', max_tokens: 512, messages: [] });
  });

  it('Anthropic: keeps a thinking budget below a new cap, or drops thinking when none fits', () => {
    const a: Record<string, unknown> = { model: 'm', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 6000 }, messages: [] };
    expect(anthropicDialect.applyDegrade('messages', a, { max_output_tokens: 2048 })).toEqual(['max_tokens=2048', 'thinking.budget_tokens=2047']);
    expect(a['thinking']).toEqual({ type: 'enabled', budget_tokens: 2047 });
    const b: Record<string, unknown> = { model: 'm', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 6000 }, messages: [] };
    expect(anthropicDialect.applyDegrade('messages', b, { max_output_tokens: 512 })).toEqual(['max_tokens=512', 'thinking=off']);
    expect(b['thinking']).toBeUndefined();
  });

  it('changes nothing that is already within the limits', () => {
    const body: Record<string, unknown> = { model: 'claude-haiku-4-5', max_tokens: 100, messages: [] };
    expect(anthropicDialect.applyDegrade('messages', body, { max_output_tokens: 512, strip_thinking: true, route_model: 'claude-haiku-4-5' })).toEqual([]);
    expect(anthropicDialect.applyDegrade('messages', body, { max_output_tokens: 'lots', route_model: '' })).toEqual([]);
  });

  it('OpenAI chat: caps whichever output field is present, or sets one; strips reasoning_effort', () => {
    const a: Record<string, unknown> = { model: 'o3', max_tokens: 9000, max_completion_tokens: 300, reasoning_effort: 'high', messages: [] };
    expect(openaiDialect.applyDegrade('chat.completions', a, { max_output_tokens: 500, strip_thinking: true, route_model: 'gpt-4o-mini' })).toEqual(['model=gpt-4o-mini', 'max_tokens=500', 'reasoning=off']);
    expect(a).toEqual({ model: 'gpt-4o-mini', max_tokens: 500, max_completion_tokens: 300, messages: [] });
    const b: Record<string, unknown> = { model: 'm', messages: [] };
    expect(openaiDialect.applyDegrade('chat.completions', b, { max_output_tokens: 256 })).toEqual(['max_completion_tokens=256']);
    expect(b['max_completion_tokens']).toBe(256);
  });

  it('OpenAI responses: caps max_output_tokens and strips reasoning', () => {
    const body: Record<string, unknown> = { model: 'gpt-5', input: 'x', reasoning: { effort: 'high' } };
    expect(openaiDialect.applyDegrade('responses', body, { max_output_tokens: 1000, strip_thinking: true })).toEqual(['max_output_tokens=1000', 'reasoning=off']);
    expect(body).toEqual({ model: 'gpt-5', input: 'x', max_output_tokens: 1000 });
  });
});

describe('usageFromResponse', () => {
  it('Anthropic: counts cached input and reads the last usage object, not a tool input named usage', () => {
    const msg = {
      id: 'msg_1',
      type: 'message',
      content: [{ type: 'tool_use', id: 't', name: 'report', input: { usage: { input_tokens: 999, output_tokens: 999 } } }],
      usage: { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 30, output_tokens: 7 },
    };
    const buf = Buffer.from(JSON.stringify(msg));
    expect(anthropicDialect.usageFromResponse('messages', buf)).toEqual({ input_tokens: 142, output_tokens: 7 });
    expect(anthropicDialect.usageFromResponse('messages', msg)).toEqual({ input_tokens: 142, output_tokens: 7 });
    expect(anthropicDialect.usageFromResponse('count_tokens', Buffer.from('{"input_tokens":31}'))).toEqual({ input_tokens: 31, output_tokens: 0 });
    expect(anthropicDialect.usageFromResponse('messages', Buffer.from('not json'))).toBeNull();
    expect(anthropicDialect.usageFromResponse('messages', Buffer.from('{"type":"message"}'))).toBeNull();
  });

  it('OpenAI: chat, responses and embeddings usage; whitespace-formatted bodies too', () => {
    const chat = Buffer.from(JSON.stringify({ choices: [{ message: { content: '"usage": {"prompt_tokens": 1}' } }], usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29, completion_tokens_details: { reasoning_tokens: 0 } } }, null, 2));
    expect(openaiDialect.usageFromResponse('chat.completions', chat)).toEqual({ input_tokens: 19, output_tokens: 10 });
    const resp = Buffer.from(JSON.stringify({ object: 'response', tools: [{ parameters: { properties: { usage: { type: 'string' } } } }], usage: { input_tokens: 37, output_tokens: 11, total_tokens: 48 }, user: null, metadata: {} }));
    expect(openaiDialect.usageFromResponse('responses', resp)).toEqual({ input_tokens: 37, output_tokens: 11 });
    expect(openaiDialect.usageFromResponse('embeddings', { object: 'list', usage: { prompt_tokens: 8, total_tokens: 8 } })).toEqual({ input_tokens: 8, output_tokens: 0 });
  });
});

describe('sse', () => {
  it('formats and parses events, with and without an event name, across line-ending styles', () => {
    expect(formatSseEvent('ping', '{"type":"ping"}')).toBe('event: ping\ndata: {"type":"ping"}\n\n');
    expect(parseSseEvent('event: ping\r\ndata: {"a":1}\r\n\r\n')).toEqual({ event: 'ping', data: '{"a":1}' });
    expect(parseSseEvent(': comment\ndata:first\ndata: second\nid: 3\n')).toEqual({ event: null, data: 'first\nsecond' });
    expect(parseSseStream('data: 1\n\nevent: x\ndata: 2\n\n: keep-alive\n\ndata: [DONE]\n\n')).toEqual([
      { event: null, data: '1' },
      { event: 'x', data: '2' },
      { event: null, data: '[DONE]' },
    ]);
  });
});

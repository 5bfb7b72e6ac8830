import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicDialect } from './anthropic.js';
import { retryHeaders } from './common.js';
import { openaiDialect } from './openai.js';
import { ERROR_KINDS, type Dialect, type ErrorKind } from './types.js';

/** A server whose next answers are set by the test; it counts the requests it gets. */
async function scriptedServer() {
  let reply: (res: http.ServerResponse) => void = (res) => res.end();
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => reply(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits: () => hits,
    set(fn: (res: http.ServerResponse) => void) {
      reply = fn;
      hits = 0;
    },
    replyError(d: Dialect, kind: ErrorKind, message: string, headers: Record<string, string> = {}) {
      reply = (res) => {
        const body = JSON.stringify(d.errorBody(kind, message, 'req_test'));
        res.writeHead(d.errorStatus(kind), { 'content-type': 'application/json', [d.requestIdHeader]: 'req_test', ...headers });
        res.end(body);
      };
      hits = 0;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const ANTHROPIC_CLASSES: Record<ErrorKind, [cls: abstract new (...a: never[]) => Error, type: string]> = {
  invalid_request: [Anthropic.BadRequestError, 'invalid_request_error'],
  authentication: [Anthropic.AuthenticationError, 'authentication_error'],
  permission: [Anthropic.PermissionDeniedError, 'permission_error'],
  not_found: [Anthropic.NotFoundError, 'not_found_error'],
  request_too_large: [Anthropic.ContentTooLargeError, 'request_too_large'],
  rate_limit: [Anthropic.RateLimitError, 'rate_limit_error'],
  api_error: [Anthropic.InternalServerError, 'api_error'],
  upstream_unavailable: [Anthropic.InternalServerError, 'api_error'],
  timeout: [Anthropic.GatewayTimeoutError, 'timeout_error'],
  overloaded: [Anthropic.OverloadedError, 'overloaded_error'],
};

const OPENAI_CLASSES: Record<ErrorKind, abstract new (...a: never[]) => Error> = {
  invalid_request: OpenAI.BadRequestError,
  authentication: OpenAI.AuthenticationError,
  permission: OpenAI.PermissionDeniedError,
  not_found: OpenAI.NotFoundError,
  request_too_large: OpenAI.APIError,
  rate_limit: OpenAI.RateLimitError,
  api_error: OpenAI.InternalServerError,
  upstream_unavailable: OpenAI.InternalServerError,
  timeout: OpenAI.InternalServerError,
  overloaded: OpenAI.InternalServerError,
};

describe('error shapes through the official SDKs', () => {
  let s: Awaited<ReturnType<typeof scriptedServer>>;
  beforeAll(async () => {
    s = await scriptedServer();
  });
  afterAll(async () => s?.close());

  const msg = { model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user' as const, content: 'x' }] };
  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'x' }] };

  for (const kind of ERROR_KINDS) {
    it(`Anthropic: ${kind} raises ${ANTHROPIC_CLASSES[kind][0].name} with type ${ANTHROPIC_CLASSES[kind][1]}`, async () => {
      const [cls, type] = ANTHROPIC_CLASSES[kind];
      s.replyError(anthropicDialect, kind, `Refused for a test (${kind}).`);
      const client = new Anthropic({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
      const err = (await client.messages.create(msg).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      expect(err).toBeInstanceOf(cls);
      expect(err.status).toBe(anthropicDialect.errorStatus(kind));
      expect(err.type).toBe(type);
      expect(err.apiMessage).toBe(`Refused for a test (${kind}).`);
      expect(err.requestID).toBe('req_test');
    });

    it(`OpenAI: ${kind} raises ${OPENAI_CLASSES[kind].name} with the message and code`, async () => {
      s.replyError(openaiDialect, kind, `Refused for a test (${kind}).`);
      const client = new OpenAI({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
      const err = (await client.chat.completions.create(chat).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OPENAI_CLASSES[kind]);
      expect(err.status).toBe(openaiDialect.errorStatus(kind));
      expect(err.message).toContain(`Refused for a test (${kind}).`);
      expect(err.requestID).toBe('req_test');
      const body = openaiDialect.errorBody(kind, 'm') as { error: { type: string; code: string | null } };
      expect(err.type).toBe(body.error.type);
      expect(err.code).toBe(body.error.code);
    });
  }

  it('OpenAI names the exhausted window of a rate limit in the type', () => {
    expect(openaiDialect.errorBody('rate_limit', 'Token rate limit reached (1000 tokens per minute).')).toMatchObject({ error: { type: 'tokens', code: 'rate_limit_exceeded' } });
    expect(openaiDialect.errorBody('rate_limit', 'Rate limit reached (60 requests per minute).')).toMatchObject({ error: { type: 'requests' } });
  });

  it('the SDKs retry a 429 after retry-after-ms, and not at all with x-should-retry: false', async () => {
    const a = new Anthropic({ apiKey: 'k', baseURL: s.url, maxRetries: 1 });
    const o = new OpenAI({ apiKey: 'k', baseURL: s.url, maxRetries: 1 });
    s.replyError(anthropicDialect, 'rate_limit', 'slow down', retryHeaders({ retryAfterMs: 5 }));
    await expect(a.messages.create(msg)).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    expect(s.hits()).toBe(2);
    s.replyError(anthropicDialect, 'rate_limit', 'budget used up', retryHeaders({ retryAfterMs: 5, shouldRetry: false }));
    await expect(a.messages.create(msg)).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    expect(s.hits()).toBe(1);
    s.replyError(openaiDialect, 'rate_limit', 'budget used up', retryHeaders({ retryAfterMs: 5, shouldRetry: false }));
    await expect(o.chat.completions.create(chat)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect(s.hits()).toBe(1);
    expect(retryHeaders({ retryAfterMs: 1500 })).toEqual({ 'retry-after': '2', 'retry-after-ms': '1500' });
  });

  it('an error event inside a stream makes each SDK throw while iterating', async () => {
    const sse = (text: string) => (res: http.ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(text);
    };
    s.set(sse(anthropicDialect.streamErrorEvent('messages', 'overloaded', 'Overloaded mid-stream.')));
    const a = new Anthropic({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
    const iterA = (async () => {
      for await (const _ of await a.messages.create({ ...msg, stream: true })) void _;
    })();
    await expect(iterA).rejects.toMatchObject({ type: 'overloaded_error', apiMessage: 'Overloaded mid-stream.' });

    s.set(sse(openaiDialect.streamErrorEvent('chat.completions', 'upstream_unavailable', 'Upstream failed mid-stream.')));
    const o = new OpenAI({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
    const iterO = (async () => {
      for await (const _ of await o.chat.completions.create({ ...chat, stream: true })) void _;
    })();
    await expect(iterO).rejects.toThrow(/Upstream failed mid-stream/);

    s.set(sse(openaiDialect.streamErrorEvent('responses', 'api_error', 'Failed mid-response.')));
    const events: { type: string; message?: string }[] = [];
    for await (const ev of await o.responses.create({ model: 'gpt-5', input: 'x', stream: true })) events.push(ev as never);
    expect(events).toEqual([expect.objectContaining({ type: 'error', message: 'Failed mid-response.' })]);
  });
});

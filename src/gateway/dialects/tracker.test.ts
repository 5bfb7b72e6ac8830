import { describe, expect, it } from 'vitest';
import { anthropicDialect } from './anthropic.js';
import { openaiDialect } from './openai.js';
import { lastEventEnd } from './sse.js';
import type { Dialect, StreamTracker } from './types.js';
import type { Endpoint } from '../../core/index.js';

// ---------------------------------------------------------------------------------------------
/*
 * Streams as the APIs send them, modelled on the documented examples (spacing and field order
 * included), with multi-byte text so chunk splits fall inside UTF-8 sequences. */

/** Anthropic Messages stream: usage 25 input (10 + 15 cache read) and 15 output. */
export const ANTHROPIC_STREAM = [
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":15,"output_tokens":1}}}',
  '',
  'event: content_block_start',
  'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  '',
  'event: ping',
  'data: {"type": "ping"}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello — café 你好 🙂"}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the word \\"usage\\": {\\"error\\": {} } is just text"}}',
  '',
  'event: content_block_stop',
  'data: {"type":"content_block_stop","index":0}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}',
  '',
  'event: message_stop',
  'data: {"type":"message_stop"}',
  '',
  '',
].join('\n');

/** An Anthropic stream that fails after the 200. */
export const ANTHROPIC_ERROR_STREAM = [
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":7,"output_tokens":1}}}',
  '',
  'event: error',
  'data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
  '',
  '',
].join('\n');

const chatChunk = (delta: string, finish: string | null, withUsageNull: boolean) =>
  `data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]${withUsageNull ? ',"usage":null' : ''}}\n\n`;

/** The usage-only chunk sent when `stream_options.include_usage` is true. */
export const CHAT_USAGE_CHUNK =
  'data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}\n\n';

/** OpenAI chat stream with `include_usage`: usage 19 prompt, 10 completion. */
export const CHAT_STREAM_WITH_USAGE =
  chatChunk('{"role":"assistant","content":"","refusal":null}', null, true) +
  chatChunk('{"content":"Bonjour — ça va? 你好"}', null, true) +
  chatChunk('{"content":" 🙂 \\"usage\\": {}"}', null, true) +
  chatChunk('{}', 'stop', true) +
  CHAT_USAGE_CHUNK +
  'data: [DONE]\n\n';

/** The same stream as a client that did not ask for usage would have received it. */
export const CHAT_STREAM_WITHOUT_USAGE_CHUNK = CHAT_STREAM_WITH_USAGE.replace(CHAT_USAGE_CHUNK, '');

/** OpenAI chat stream with CRLF line endings and no usage. */
export const CHAT_STREAM_CRLF = (
  chatChunk('{"role":"assistant","content":""}', null, false) +
  chatChunk('{"content":"Ünïcödé"}', null, false) +
  chatChunk('{}', 'stop', false) +
  'data: [DONE]\n\n'
).replace(/\n/g, '\r\n');

/** A chat stream that reports an error mid-way (OpenAI sends `{"error": …}` as data). */
export const CHAT_ERROR_STREAM =
  chatChunk('{"role":"assistant","content":""}', null, false) +
  'data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}\n\n';

const resp = (status: string, usage: string) =>
  `{"id":"resp_67ccd3a9da748190baa7f1570fe91ac6","object":"response","created_at":1741476777,"status":"${status}","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-4o-2024-08-06","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[{"type":"function","name":"report","parameters":{"type":"object","properties":{"usage":{"type":"string"},"error":{"type":"string"}}}}],"top_p":1,"truncation":"disabled","usage":${usage},"user":null,"metadata":{}}`;

/** OpenAI Responses stream: usage 37 input, 11 output (in `response.completed`). */
export const RESPONSES_STREAM = [
  `event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":${resp('in_progress', 'null')}}\n\n`,
  `event: response.in_progress\ndata: {"type":"response.in_progress","sequence_number":1,"response":${resp('in_progress', 'null')}}\n\n`,
  'event: response.output_item.added\ndata: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_67c","type":"message","status":"in_progress","role":"assistant","content":[]}}\n\n',
  'event: response.content_part.added\ndata: {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_67c","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}\n\n',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_67c","output_index":0,"content_index":0,"delta":"Hi — 日本語 🙂"}\n\n',
  'event: response.output_text.done\ndata: {"type":"response.output_text.done","sequence_number":5,"item_id":"msg_67c","output_index":0,"content_index":0,"text":"Hi — 日本語 🙂"}\n\n',
  `event: response.completed\ndata: {"type":"response.completed","sequence_number":6,"response":${resp('completed', '{"input_tokens":37,"input_tokens_details":{"cached_tokens":0},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48}')}}\n\n`,
].join('');

interface Case {
  name: string;
  dialect: Dialect;
  endpoint: Endpoint;
  stream: string;
  strip: boolean;
  expected: string;
  usage: { input_tokens: number; output_tokens: number } | null;
  error: boolean;
}

const CASES: Case[] = [
  { name: 'Anthropic messages', dialect: anthropicDialect, endpoint: 'messages', stream: ANTHROPIC_STREAM, strip: false, expected: ANTHROPIC_STREAM, usage: { input_tokens: 25, output_tokens: 15 }, error: false },
  { name: 'Anthropic error mid-stream', dialect: anthropicDialect, endpoint: 'messages', stream: ANTHROPIC_ERROR_STREAM, strip: false, expected: ANTHROPIC_ERROR_STREAM, usage: { input_tokens: 7, output_tokens: 1 }, error: true },
  { name: 'OpenAI chat, usage kept', dialect: openaiDialect, endpoint: 'chat.completions', stream: CHAT_STREAM_WITH_USAGE, strip: false, expected: CHAT_STREAM_WITH_USAGE, usage: { input_tokens: 19, output_tokens: 10 }, error: false },
  { name: 'OpenAI chat, usage chunk stripped', dialect: openaiDialect, endpoint: 'chat.completions', stream: CHAT_STREAM_WITH_USAGE, strip: true, expected: CHAT_STREAM_WITHOUT_USAGE_CHUNK, usage: { input_tokens: 19, output_tokens: 10 }, error: false },
  { name: 'OpenAI chat with CRLF line endings', dialect: openaiDialect, endpoint: 'chat.completions', stream: CHAT_STREAM_CRLF, strip: true, expected: CHAT_STREAM_CRLF, usage: null, error: false },
  { name: 'OpenAI chat error mid-stream', dialect: openaiDialect, endpoint: 'chat.completions', stream: CHAT_ERROR_STREAM, strip: true, expected: CHAT_ERROR_STREAM, usage: null, error: true },
  { name: 'OpenAI responses', dialect: openaiDialect, endpoint: 'responses', stream: RESPONSES_STREAM, strip: false, expected: RESPONSES_STREAM, usage: { input_tokens: 37, output_tokens: 11 }, error: false },
];

/** Feeds `chunks`; checks that every complete event is forwarded as soon as it completes. */
function feed(t: StreamTracker, input: Buffer, cuts: number[], expectedOut: Buffer, strip: boolean) {
  // Where the usage chunk sits, when it is to be removed.
  const at = strip ? input.indexOf(CHAT_USAGE_CHUNK) : -1;
  const dropEnd = at >= 0 ? at + Buffer.byteLength(CHAT_USAGE_CHUNK) : -1;
  const out: Buffer[] = [];
  let outLen = 0;
  let prev = 0;
  for (const cut of [...cuts, input.length]) {
    const got = t.push(input.subarray(prev, cut));
    prev = cut;
    if (got) {
      out.push(Buffer.from(got));
      outLen += got.length;
      // Forwarded bytes always end at an event boundary.
      expect(lastEventEnd(got)).toBe(got.length);
    }
    // Nothing complete is held back: the output reaches the last blank line fed so far.
    const end = Math.max(0, lastEventEnd(input.subarray(0, cut)));
    expect(outLen).toBe(dropEnd >= 0 && end >= dropEnd ? end - (dropEnd - at) : end);
  }
  const tail = t.end();
  if (tail) out.push(Buffer.from(tail));
  expect(Buffer.concat(out).equals(expectedOut)).toBe(true);
}

describe('stream tracker', () => {
  for (const c of CASES) {
    it(`${c.name}: relays, meters and frames correctly at every two-way split`, () => {
      const input = Buffer.from(c.stream);
      const expected = Buffer.from(c.expected);
      for (let i = 0; i <= input.length; i++) {
        const t = c.dialect.createStreamTracker(c.endpoint, { stripUsageChunk: c.strip });
        feed(t, input, [i], expected, c.strip);
        expect(t.usage()).toEqual(c.usage);
        expect(t.sawError).toBe(c.error);
      }
    });

    it(`${c.name}: byte-at-a-time and random multi-way splits give the same result`, () => {
      const input = Buffer.from(c.stream);
      const expected = Buffer.from(c.expected);
      const ones = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
      const t1 = c.dialect.createStreamTracker(c.endpoint, { stripUsageChunk: c.strip });
      feed(t1, input, ones, expected, c.strip);
      expect(t1.usage()).toEqual(c.usage);
      let seed = 12345;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      for (let k = 0; k < 200; k++) {
        const cuts = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * input.length)))].sort((a, b) => a - b);
        const t = c.dialect.createStreamTracker(c.endpoint, { stripUsageChunk: c.strip });
        feed(t, input, cuts, expected, c.strip);
        expect(t.usage()).toEqual(c.usage);
        expect(t.sawError).toBe(c.error);
      }
    });
  }

  it('returns a chunk that ends at an event boundary as the same buffer, without copying', () => {
    const t = anthropicDialect.createStreamTracker('messages');
    const chunk = Buffer.from('event: ping\ndata: {"type": "ping"}\n\n');
    expect(t.push(chunk)).toBe(chunk);
  });

  it('holds an incomplete event and flushes it at the end of the stream', () => {
    const t = openaiDialect.createStreamTracker('chat.completions', { stripUsageChunk: true });
    expect(t.push(Buffer.from('data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"choi'))).toEqual(Buffer.from('data: {"choices":[{"delta":{"content":"a"}}]}\n\n'));
    expect(t.push(Buffer.from('ces":[]'))).toBeNull();
    expect(t.end()?.toString()).toBe('data: {"choices":[]');
    expect(t.end()).toBeNull();
  });

  it('strips a usage chunk that arrives without its final blank line', () => {
    const t = openaiDialect.createStreamTracker('chat.completions', { stripUsageChunk: true });
    const body = CHAT_USAGE_CHUNK.trimEnd();
    expect(t.push(Buffer.from(body))).toBeNull();
    expect(t.end()).toBeNull();
    expect(t.usage()).toEqual({ input_tokens: 19, output_tokens: 10 });
  });

  it('does not take a tool schema property named usage or error for usage or an error', () => {
    const t = openaiDialect.createStreamTracker('responses');
    const created = RESPONSES_STREAM.slice(0, RESPONSES_STREAM.indexOf('event: response.in_progress'));
    expect(created).toContain('"usage":{"type":"string"}');
    t.push(Buffer.from(created));
    expect(t.usage()).toBeNull();
    expect(t.sawError).toBe(false);
  });

  it('reads usage from response.incomplete and flags response.failed', () => {
    const t = openaiDialect.createStreamTracker('responses');
    t.push(Buffer.from('event: response.incomplete\ndata: {"type":"response.incomplete","sequence_number":9,"response":{"status":"incomplete","usage":{"input_tokens":3,"output_tokens":16}}}\n\n'));
    expect(t.usage()).toEqual({ input_tokens: 3, output_tokens: 16 });
    expect(t.sawError).toBe(false);
    const f = openaiDialect.createStreamTracker('responses');
    f.push(Buffer.from('event: response.failed\ndata: {"type":"response.failed","sequence_number":3,"response":{"status":"failed","error":{"code":"server_error","message":"x"},"usage":null}}\n\n'));
    expect(f.sawError).toBe(true);
  });
});

describe('stream tracker with unusual field order', () => {
  it('finds named events and errors when an id line or a comment comes first', () => {
    const t = anthropicDialect.createStreamTracker('messages');
    const text =
      ': keep-alive\n\n' +
      'id: 1\nevent: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":4,"output_tokens":1}}}\n\n' +
      'id: 2\nevent: message_delta\ndata: {"type":"message_delta","delta":{},"usage":{"output_tokens":9}}\n\n' +
      'id: 3\nevent: error\ndata: {"type":"error","error":{"type":"api_error","message":"x"}}\n\n';
    expect(t.push(Buffer.from(text))?.toString()).toBe(text);
    expect(t.usage()).toEqual({ input_tokens: 4, output_tokens: 9 });
    expect(t.sawError).toBe(true);
    const o = openaiDialect.createStreamTracker('chat.completions');
    o.push(Buffer.from('id: 7\ndata: {"error":{"message":"boom","type":"server_error"}}\n\n'));
    expect(o.sawError).toBe(true);
  });
});

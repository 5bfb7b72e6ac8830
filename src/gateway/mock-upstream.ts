/**
 * A simulated model upstream that speaks the Anthropic Messages API and the OpenAI Chat
 * Completions / Responses APIs closely enough for the official SDKs: the gateway's tests,
 * demo and benchmark run against it. Answers are deterministic (a hash of the model and the
 * prompt picks sentences from a precomputed set), token usage follows the text (about four
 * characters a token), `max_tokens` is honoured, and streams are framed as each API frames them.
 *
 * Test hooks by model name: `mock-error-500`, `mock-overloaded`, `mock-rate-limit`,
 * `mock-slow` (headers only after `slowMs`), `mock-slow-stream` (streams at 20 tokens/s),
 * `mock-stream-error` (an error event after the first deltas), `mock-disconnect` (the
 * connection drops mid-stream), `mock-hang` (never answers).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Endpoint } from '../core/index.js';
import { anthropicDialect } from './dialects/anthropic.js';
import { contentText, isObj, type Obj } from './dialects/common.js';
import { openaiDialect } from './dialects/openai.js';
import { formatSseEvent } from './dialects/sse.js';
import type { Dialect, ErrorKind, ModelListEntry } from './dialects/types.js';

export interface MockUpstreamOptions {
  port?: number;
  host?: string;
  /** Delay before the response starts, in ms (0: answer at once). */
  latencyMs?: number;
  /** Streaming pace; 0 or absent sends a whole stream at once. */
  tokensPerSecond?: number;
  /** Varies the generated text; the same seed and prompt give the same answer. */
  seed?: number;
  /** When set, requests must carry it in `x-api-key` or `Authorization: Bearer`. */
  apiKey?: string;
  /** How long `mock-slow` waits before answering (default 10 s). */
  slowMs?: number;
  /** Models listed by `GET /v1/models`. */
  models?: string[];
  /** How many recent requests `stats.recent` keeps (default 20). */
  keepRecent?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or undefined. */
  body: unknown;
}

export interface MockUpstreamStats {
  /** Every request received, answered or not. */
  requests: number;
  byPath: Record<string, number>;
  streams: number;
  /** Responses whose client went away before the end. */
  aborted: number;
  /** Error responses sent (4xx, 5xx, and errors inside streams). */
  errors: number;
  /** The last `keepRecent` requests, oldest first. */
  recent: RecordedRequest[];
}

export interface MockUpstream {
  url: string;
  stats: MockUpstreamStats;
  /** Zeroes the counters and forgets the recorded requests. */
  resetStats(): void;
  close(): Promise<void>;
}

const DEFAULT_MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1', 'gpt-5', 'gpt-5-mini', 'gpt-4o-mini'];
const CHARS_PER_TOKEN = 4;

// ---------------------------------------------------------------------------------------------
// Text: sentences assembled from phrase lists once at start-up, picked per request by a hash.

const OPENERS = ['', '', '', 'In practice, ', 'For example, ', 'As a result, ', 'In short, ', 'On the other hand, ', 'Over time, ', 'At first, ', 'Most of the time, ', 'Even so, '];
const SUBJECTS = ['the system', 'a careful reader', 'the committee', 'each team', 'the first draft', 'the river', 'a small company', 'the old library', 'every engineer', 'the market', 'the new method', 'a quiet street', 'the final report', 'our approach', 'the weather', 'this question'];
const VERBS = ['considers', 'builds on', 'explains', 'measures', 'describes', 'improves', 'follows', 'questions', 'supports', 'reviews', 'changes', 'depends on', 'points to', 'simplifies', 'balances', 'tests'];
const OBJECTS = ['the plan', 'a simple rule', 'the evidence', 'its own limits', 'the next step', 'a clear answer', 'the long history', 'several options', 'the main idea', 'a useful pattern', 'the original design', 'the shared budget', 'the small details', 'a practical example', 'the open problem', 'the results'];
const TAILS = ['before the end of the week', 'with great care', 'in most cases', 'without much delay', 'as the data suggests', 'for the first time', 'under normal conditions', 'at a steady pace', 'when the time is right', 'in a few short steps', 'across the whole region', 'from a different angle', 'despite the early doubts', 'with very little noise', 'for everyone involved', 'after a second look'];
const THOUGHTS = ['Let me think about what is being asked.', 'The key point seems to be the order of the steps.', 'I should check the assumptions first.', 'There are two readings of the question.', 'The simpler reading is probably the intended one.', 'A short answer with one example should be enough.', 'I will keep the structure plain.', 'Nothing here needs a long detour.'];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildSentences(seed: number, n: number): string[] {
  const rnd = mulberry32(seed);
  const pick = (a: readonly string[]) => a[Math.floor(rnd() * a.length)]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = `${pick(OPENERS)}${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)}.`;
    out.push(s.charAt(0).toUpperCase() + s.slice(1));
  }
  return out;
}

function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const tokensOf = (text: string) => Math.ceil(text.length / CHARS_PER_TOKEN);

/** Cuts `text` at a word boundary so it is at most `tokens` tokens. */
function cutToTokens(text: string, tokens: number): string {
  const maxChars = tokens * CHARS_PER_TOKEN;
  if (text.length <= maxChars) return text;
  const sp = text.lastIndexOf(' ', maxChars);
  return sp > 0 ? text.slice(0, sp) : text.slice(0, maxChars);
}

interface Answer {
  text: string;
  thinking: string;
  /** Output tokens, thinking included. */
  outputTokens: number;
  thinkingTokens: number;
  truncated: boolean;
}

// ---------------------------------------------------------------------------------------------

interface Req {
  api: 'anthropic' | 'openai';
  endpoint: Endpoint;
  dialect: Dialect;
  model: string;
  stream: boolean;
  body: Obj;
  id: string;
  /** The request body's text, the key of the answer cache. */
  rawText: string;
  /** Creation time in epoch seconds (a marker while a stream template is built). */
  stamp?: number;
  /** Set while a stream is built as a template for the cache: the request's own id. */
  templateFor?: string;
}

/** Markers in a cached stream template, replaced per answer (neither occurs in the text). */
const ID_MARK = '@@id@@';
const TIME_MARK = 4_102_444_800;
const TIME_MARK_TEXT = String(TIME_MARK);
const MARKS = new RegExp(`(${ID_MARK}|${TIME_MARK_TEXT})`);

export async function startMockUpstream(opts: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const latencyMs = Math.max(0, opts.latencyMs ?? 0);
  const tps = opts.tokensPerSecond && opts.tokensPerSecond > 0 ? opts.tokensPerSecond : 0;
  const seed = opts.seed ?? 1;
  const slowMs = opts.slowMs ?? 10_000;
  const keepRecent = opts.keepRecent ?? 20;
  const models: ModelListEntry[] = (opts.models ?? DEFAULT_MODELS).map((id, i) => ({ id, created: 1_735_689_600 + i * 86_400 }));
  const sentences = buildSentences(seed, 1024);
  const answers = new Map<string, Answer>();
  const timers = new Set<NodeJS.Timeout>();
  const idPrefix = `${(seed >>> 0).toString(36)}${Date.now().toString(36)}`;
  let seq = 0;

  const stats: MockUpstreamStats = { requests: 0, byPath: {}, streams: 0, aborted: 0, errors: 0, recent: [] };

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  function answer(model: string, prompt: string, maxTokens: number, thinkingBudget: number): Answer {
    const key = `${model}\u0000${maxTokens}\u0000${thinkingBudget}\u0000${prompt}`;
    const hit = answers.get(key);
    if (hit) return hit;
    const h = fnv1a(prompt, fnv1a(model, seed >>> 0));
    const rnd = mulberry32(h);
    let thinking = '';
    if (thinkingBudget > 0) {
      const n = 2 + Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) thinking += (i ? ' ' : '') + THOUGHTS[Math.floor(rnd() * THOUGHTS.length)]!;
      thinking = cutToTokens(thinking, Math.min(thinkingBudget, Math.max(1, maxTokens - 1)));
    }
    const thinkingTokens = thinking ? tokensOf(thinking) : 0;
    const target = 24 + Math.floor(rnd() * 200);
    let text = '';
    while (text.length < target * CHARS_PER_TOKEN) {
      text += (text ? ' ' : '') + sentences[Math.floor(rnd() * sentences.length)]!;
    }
    const room = Math.max(1, maxTokens - thinkingTokens);
    const truncated = tokensOf(text) > room;
    if (truncated) text = cutToTokens(text, room);
    const a: Answer = { text, thinking, outputTokens: thinkingTokens + tokensOf(text), thinkingTokens, truncated };
    if (answers.size >= 2048) answers.clear();
    answers.set(key, a);
    return a;
  }

  const newId = () => `${idPrefix}${(seq++).toString(36)}`;

  function sendJson(res: http.ServerResponse, r: Req | { dialect: Dialect; id: string }, status: number, body: unknown, extra?: Record<string, string>) {
    const s = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(s),
      [r.dialect.requestIdHeader]: `req_${r.id}`,
      ...extra,
    });
    res.end(s);
  }

  function sendError(res: http.ServerResponse, r: { dialect: Dialect; id: string }, kind: ErrorKind, message: string, extra?: Record<string, string>) {
    stats.errors++;
    sendJson(res, r, r.dialect.errorStatus(kind), r.dialect.errorBody(kind, message, `req_${r.id}`), extra);
  }

  function sendStream(res: http.ServerResponse, dialect: Dialect, id: string, text: string) {
    stats.streams++;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', [dialect.requestIdHeader]: `req_${id}` });
    res.end(text);
  }

  /** Writes stream parts at the configured pace (all at once without one). */
  function stream(res: http.ServerResponse, r: Req, parts: { s: string; tokens: number }[], pace: number, fault?: 'error' | 'disconnect') {
    if (r.templateFor !== undefined) {
      // A whole stream written at once is kept as a template for the same request text.
      const segments = parts.map((p) => p.s).join('').split(MARKS);
      const render = (id: string) => {
        const now = String(Math.floor(Date.now() / 1000));
        let out = '';
        for (const seg of segments) out += seg === ID_MARK ? id : seg === TIME_MARK_TEXT ? now : seg;
        return out;
      };
      if (hot.size >= 1024) hot.clear();
      hot.set(r.rawText, { endpoint: r.endpoint, render, stream: true });
      return sendStream(res, r.dialect, r.templateFor, render(r.templateFor));
    }
    stats.streams++;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      [r.dialect.requestIdHeader]: `req_${r.id}`,
    });
    if (fault) {
      // Send the head of the stream, then fail.
      const head = parts.slice(0, Math.min(parts.length, 5)).map((p) => p.s).join('');
      res.write(head);
      if (fault === 'disconnect') {
        later(5, () => res.destroy());
        return;
      }
      stats.errors++;
      res.end(r.dialect.streamErrorEvent(r.endpoint, 'overloaded', 'Overloaded (simulated failure mid-stream).'));
      return;
    }
    if (!pace) {
      res.end(parts.map((p) => p.s).join(''));
      return;
    }
    const t0 = performance.now();
    let i = 0;
    let due = 0;
    const step = () => {
      if (res.destroyed) return;
      const elapsed = performance.now() - t0;
      let out = '';
      while (i < parts.length && due <= elapsed) {
        out += parts[i]!.s;
        due += (parts[i]!.tokens / pace) * 1000;
        i++;
      }
      if (i >= parts.length) {
        res.end(out);
        return;
      }
      if (out) res.write(out);
      later(Math.max(1, Math.ceil(due - elapsed)), step);
    };
    step();
  }

  /** Splits text into deltas of up to three words (each keeps its leading space). */
  function pieces(text: string): string[] {
    const out: string[] = [];
    let start = 0;
    let words = 0;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 0x20 && i > start && ++words === 3) {
        out.push(text.slice(start, i));
        start = i;
        words = 0;
      }
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  }

  /**
   * Answers with `render(id)` and keeps it for the same request text: a repeated request (as a
   * benchmark sends) is answered without parsing or generating again.
   */
  const hot = new Map<string, { endpoint: Endpoint; render: (id: string) => string; stream?: boolean }>();
  function remember(res: http.ServerResponse, r: Req, render: (id: string) => string) {
    if (!r.model.startsWith('mock-')) {
      if (hot.size >= 1024) hot.clear();
      hot.set(r.rawText, { endpoint: r.endpoint, render });
    }
    sendJson(res, r, 200, render(r.id));
  }

  // -------------------------------------------------------------------------------------------
  // Anthropic

  function anthropicMessages(res: http.ServerResponse, r: Req, pace: number, fault?: 'error' | 'disconnect') {
    const b = r.body;
    const maxTokens = b['max_tokens'] as number;
    const thinkingReq = b['thinking'];
    const budget =
      isObj(thinkingReq) && thinkingReq['type'] !== 'disabled'
        ? typeof thinkingReq['budget_tokens'] === 'number'
          ? thinkingReq['budget_tokens']
          : 1024
        : 0;
    const messages = b['messages'] as Obj[];
    const last = lastUser(messages);
    const a = answer(r.model, last, maxTokens, budget);
    const inputTokens = anthropicInputTokens(b);
    const msgId = `msg_${r.id}`;
    const stop = a.truncated ? 'max_tokens' : 'end_turn';
    const signature = a.thinking ? Buffer.from(`mock-signature:${fnv1a(a.thinking).toString(16)}`).toString('base64') : '';
    if (!r.stream) {
      // Assembled as text once per distinct request: only the id varies between answers.
      const thinking = a.thinking ? `{"type":"thinking","thinking":${JSON.stringify(a.thinking)},"signature":"${signature}"},` : '';
      const tail = `","type":"message","role":"assistant","model":${JSON.stringify(r.model)},"content":[${thinking}{"type":"text","text":${JSON.stringify(a.text)}}],"stop_reason":"${stop}","stop_sequence":null,"usage":{"input_tokens":${inputTokens},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":${a.outputTokens},"service_tier":"standard"}}`;
      return remember(res, r, (id) => `{"id":"msg_${id}${tail}`);
    }
    const parts: { s: string; tokens: number }[] = [];
    const ev = (type: string, data: Obj, tokens = 0) => parts.push({ s: formatSseEvent(type, JSON.stringify(data)), tokens });
    ev('message_start', {
      type: 'message_start',
      message: {
        id: msgId,
        type: 'message',
        role: 'assistant',
        model: r.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1, service_tier: 'standard' },
      },
    });
    let index = 0;
    if (a.thinking) {
      ev('content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const p of pieces(a.thinking)) ev('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: p } }, tokensOf(p));
      ev('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature } });
      ev('content_block_stop', { type: 'content_block_stop', index });
      index++;
    }
    ev('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    ev('ping', { type: 'ping' });
    for (const p of pieces(a.text)) ev('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } }, tokensOf(p));
    ev('content_block_stop', { type: 'content_block_stop', index });
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: a.outputTokens } });
    ev('message_stop', { type: 'message_stop' });
    stream(res, r, parts, pace, fault);
  }

  // -------------------------------------------------------------------------------------------
  // OpenAI Chat Completions

  function chatCompletions(res: http.ServerResponse, r: Req, pace: number, fault?: 'error' | 'disconnect') {
    const b = r.body;
    const maxTokens = (b['max_completion_tokens'] as number | undefined) ?? (b['max_tokens'] as number | undefined) ?? 4096;
    const effort = b['reasoning_effort'];
    const reasoning = typeof effort === 'string' && effort !== 'none' ? 256 : 0;
    const messages = b['messages'] as Obj[];
    const a = answer(r.model, lastUser(messages), maxTokens, reasoning);
    const promptTokens = openaiChatInputTokens(b);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: a.outputTokens,
      total_tokens: promptTokens + a.outputTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: a.thinkingTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    const id = `chatcmpl-${r.id}`;
    const created = r.stamp ?? Math.floor(Date.now() / 1000);
    const finish = a.truncated ? 'length' : 'stop';
    if (!r.stream) {
      const tail = `,"model":${JSON.stringify(r.model)},"choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(a.text)},"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"${finish}"}],"usage":${JSON.stringify(usage)},"service_tier":"default","system_fingerprint":null}`;
      return remember(res, r, (id) => `{"id":"chatcmpl-${id}","object":"chat.completion","created":${Math.floor(Date.now() / 1000)}${tail}`);
    }
    const so = b['stream_options'];
    const includeUsage = isObj(so) && so['include_usage'] === true;
    const parts: { s: string; tokens: number }[] = [];
    const chunk = (choices: unknown[], tokens = 0, u?: unknown) => {
      const c: Obj = { id, object: 'chat.completion.chunk', created, model: r.model, service_tier: 'default', system_fingerprint: null, choices };
      if (includeUsage) c['usage'] = u ?? null;
      parts.push({ s: formatSseEvent(null, JSON.stringify(c)), tokens });
    };
    chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
    for (const p of pieces(a.text)) chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }], tokensOf(p));
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]);
    if (includeUsage) chunk([], 0, usage);
    parts.push({ s: 'data: [DONE]\n\n', tokens: 0 });
    stream(res, r, parts, pace, fault);
  }

  // -------------------------------------------------------------------------------------------
  // OpenAI Responses

  function responses(res: http.ServerResponse, r: Req, pace: number, fault?: 'error' | 'disconnect') {
    const b = r.body;
    const maxTokens = (b['max_output_tokens'] as number | undefined) ?? 4096;
    const reasoningReq = b['reasoning'];
    const reasoning = isObj(reasoningReq) && reasoningReq['effort'] !== 'none' ? 256 : 0;
    const input = b['input'];
    const prompt = typeof input === 'string' ? input : Array.isArray(input) ? lastUser(input as Obj[]) : '';
    const a = answer(r.model, prompt, maxTokens, reasoning);
    const inputTokens = responsesInputTokens(b);
    const usage = {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: a.outputTokens,
      output_tokens_details: { reasoning_tokens: a.thinkingTokens },
      total_tokens: inputTokens + a.outputTokens,
    };
    const respId = `resp_${r.id}`;
    const itemId = `msg_${r.id}`;
    const createdAt = r.stamp ?? Math.floor(Date.now() / 1000);
    const textPart = { type: 'output_text', text: a.text, annotations: [], logprobs: [] };
    const item = { id: itemId, type: 'message', status: a.truncated ? 'incomplete' : 'completed', role: 'assistant', content: [textPart] };
    const base = (status: string, output: unknown[], u: unknown) => ({
      id: respId,
      object: 'response',
      created_at: createdAt,
      status,
      background: false,
      error: null,
      incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
      instructions: typeof b['instructions'] === 'string' ? b['instructions'] : null,
      max_output_tokens: b['max_output_tokens'] ?? null,
      model: r.model,
      output,
      parallel_tool_calls: true,
      previous_response_id: b['previous_response_id'] ?? null,
      reasoning: { effort: isObj(reasoningReq) ? (reasoningReq['effort'] ?? null) : null, summary: null },
      store: b['store'] ?? true,
      temperature: b['temperature'] ?? 1,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: b['top_p'] ?? 1,
      truncation: 'disabled',
      usage: u,
      user: typeof b['user'] === 'string' ? b['user'] : null,
      metadata: isObj(b['metadata']) ? b['metadata'] : {},
    });
    const finalStatus = a.truncated ? 'incomplete' : 'completed';
    if (!r.stream) {
      sendJson(res, r, 200, base(finalStatus, [item], usage));
      return;
    }
    const parts: { s: string; tokens: number }[] = [];
    let n = 0;
    const ev = (type: string, data: Obj, tokens = 0) => parts.push({ s: formatSseEvent(type, JSON.stringify({ type, sequence_number: n++, ...data })), tokens });
    ev('response.created', { response: base('in_progress', [], null) });
    ev('response.in_progress', { response: base('in_progress', [], null) });
    ev('response.output_item.added', { output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
    ev('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
    for (const p of pieces(a.text)) ev('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta: p, logprobs: [] }, tokensOf(p));
    ev('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text: a.text, logprobs: [] });
    ev('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part: textPart });
    ev('response.output_item.done', { output_index: 0, item });
    ev(a.truncated ? 'response.incomplete' : 'response.completed', { response: base(finalStatus, [item], usage) });
    stream(res, r, parts, pace, fault);
  }

  // -------------------------------------------------------------------------------------------

  function dispatch(res: http.ServerResponse, r: Req) {
    const hook = r.model.startsWith('mock-') ? r.model : '';
    if (hook === 'mock-error-500') return sendError(res, r, 'api_error', 'Internal server error (simulated).');
    if (hook === 'mock-overloaded') return sendError(res, r, 'overloaded', 'Overloaded (simulated).');
    if (hook === 'mock-rate-limit') return sendError(res, r, 'rate_limit', 'Rate limit reached (simulated).', { 'retry-after': '1' });
    if (hook === 'mock-hang') return;
    if (r.endpoint === 'count_tokens') return sendJson(res, r, 200, { input_tokens: anthropicInputTokens(r.body) });
    const fault = hook === 'mock-stream-error' ? 'error' : hook === 'mock-disconnect' ? 'disconnect' : undefined;
    const pace = hook === 'mock-slow-stream' ? 20 : tps;
    if (r.stream && !hook && pace === 0) r = { ...r, id: ID_MARK, stamp: TIME_MARK, templateFor: r.id };
    if (r.endpoint === 'messages') return anthropicMessages(res, r, pace, r.stream ? fault : undefined);
    if (r.endpoint === 'chat.completions') return chatCompletions(res, r, pace, r.stream ? fault : undefined);
    return responses(res, r, pace, r.stream ? fault : undefined);
  }

  const ROUTES: Record<string, { api: 'anthropic' | 'openai'; endpoint: Endpoint }> = {
    '/v1/messages': { api: 'anthropic', endpoint: 'messages' },
    '/v1/messages/count_tokens': { api: 'anthropic', endpoint: 'count_tokens' },
    '/v1/chat/completions': { api: 'openai', endpoint: 'chat.completions' },
    '/v1/responses': { api: 'openai', endpoint: 'responses' },
  };

  function authorized(req: http.IncomingMessage): boolean {
    if (opts.apiKey === undefined) return true;
    return req.headers['x-api-key'] === opts.apiKey || req.headers['authorization'] === `Bearer ${opts.apiKey}`;
  }

  /** Headers are materialized only when a test reads them (Node builds `req.headers` lazily). */
  function record(method: string, path: string, req: http.IncomingMessage, body: unknown) {
    if (keepRecent <= 0) return;
    const raw = req.rawHeaders;
    let headers: http.IncomingHttpHeaders | undefined;
    let parsed = typeof body === 'function' ? undefined : body;
    const rec: RecordedRequest = {
      method,
      path,
      get body() {
        return (parsed ??= typeof body === 'function' ? (body as () => unknown)() : body);
      },
      get headers() {
        return (headers ??= headersOf(raw));
      },
    };
    if (stats.recent.length >= keepRecent) stats.recent.shift();
    stats.recent.push(rec);
  }

  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    stats.requests++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    stats.byPath[path] = (stats.byPath[path] ?? 0) + 1;
    const id = newId();

    if (req.method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      const anthropic = req.headers['anthropic-version'] !== undefined;
      const r = { dialect: anthropic ? anthropicDialect : openaiDialect, id };
      record('GET', path, req, undefined);
      req.resume();
      if (!authorized(req)) return sendError(res, r, 'authentication', 'invalid x-api-key (simulated upstream).');
      if (path === '/v1/models') return sendJson(res, r, 200, r.dialect.modelList(models));
      const wanted = decodeURIComponent(path.slice('/v1/models/'.length));
      const m = models.find((x) => x.id === wanted);
      if (!m) return sendError(res, r, 'not_found', `model: ${wanted}`);
      const list = r.dialect.modelList([m]) as { data: unknown[] };
      return sendJson(res, r, 200, list.data[0]);
    }

    const route = req.method === 'POST' ? ROUTES[path] : undefined;
    if (!route) {
      req.resume();
      const dialect = path.startsWith('/v1/messages') ? anthropicDialect : openaiDialect;
      record(req.method ?? '', path, req, undefined);
      return sendError(res, { dialect, id }, 'not_found', `${req.method} ${path} is not served by the simulated upstream.`);
    }
    const dialect = route.api === 'anthropic' ? anthropicDialect : openaiDialect;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const rawText = raw.toString('utf8');
      const seen = latencyMs === 0 ? hot.get(rawText) : undefined;
      if (seen && seen.endpoint === route.endpoint) {
        record('POST', path, req, () => JSON.parse(rawText));
        if (!authorized(req)) return sendError(res, { dialect, id }, 'authentication', route.api === 'anthropic' ? 'invalid x-api-key' : 'Incorrect API key provided.');
        return seen.stream ? sendStream(res, dialect, id, seen.render(id)) : sendJson(res, { dialect, id }, 200, seen.render(id));
      }
      let body: unknown;
      try {
        body = JSON.parse(rawText);
      } catch {
        record('POST', path, req, undefined);
        return sendError(res, { dialect, id }, 'invalid_request', 'The request body is not valid JSON.');
      }
      record('POST', path, req, body);
      if (!authorized(req)) {
        return sendError(res, { dialect, id }, 'authentication', route.api === 'anthropic' ? 'invalid x-api-key' : 'Incorrect API key provided.');
      }
      const parsed = dialect.parseRequest(route.endpoint, body);
      if ('error' in parsed) return sendError(res, { dialect, id }, 'invalid_request', parsed.error);
      const r: Req = { ...route, dialect, model: parsed.model, stream: parsed.stream, body: body as Obj, id, rawText };
      // Only a response that is delayed or streamed can lose its client half-way.
      if (r.stream || latencyMs > 0 || r.model.startsWith('mock-')) res.on('close', () => !res.writableFinished && stats.aborted++);
      const delay = r.model === 'mock-slow' || (r.model === 'mock-slow-stream' && !r.stream) ? slowMs : latencyMs;
      if (delay > 0) later(delay, () => !res.destroyed && dispatch(res, r));
      else dispatch(res, r);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${host}:${addr.port}`,
    stats,
    resetStats() {
      stats.requests = 0;
      stats.byPath = {};
      stats.streams = 0;
      stats.aborted = 0;
      stats.errors = 0;
      stats.recent = [];
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function headersOf(raw: string[]): http.IncomingHttpHeaders {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    h[k] = h[k] === undefined ? raw[i + 1]! : `${h[k]}, ${raw[i + 1]}`;
  }
  return h;
}

function lastUser(messages: Obj[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (isObj(m) && m['role'] === 'user') return contentText(m['content']) ?? '';
  }
  return '';
}

function textChars(content: unknown): number {
  return contentText(content)?.length ?? 0;
}

function toolChars(tools: unknown): number {
  return Array.isArray(tools) && tools.length ? JSON.stringify(tools).length : 0;
}

/** Input tokens from the request's text: system, messages, tool definitions. */
function anthropicInputTokens(b: Obj): number {
  let chars = typeof b['system'] === 'string' ? (b['system'] as string).length : textChars(b['system']);
  for (const m of b['messages'] as Obj[]) chars += textChars(m['content']) + 4;
  chars += toolChars(b['tools']);
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN));
}

function openaiChatInputTokens(b: Obj): number {
  let chars = 0;
  for (const m of b['messages'] as Obj[]) chars += textChars(m['content']) + 4;
  chars += toolChars(b['tools']);
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN));
}

function responsesInputTokens(b: Obj): number {
  const input = b['input'];
  let chars = typeof b['instructions'] === 'string' ? (b['instructions'] as string).length : 0;
  if (typeof input === 'string') chars += input.length;
  else if (Array.isArray(input)) for (const m of input) chars += (isObj(m) ? textChars(m['content']) : 0) + 4;
  chars += toolChars(b['tools']);
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN));
}

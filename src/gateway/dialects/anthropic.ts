/**
 * The Anthropic Messages API dialect: `POST /v1/messages`, `POST /v1/messages/count_tokens`,
 * `GET /v1/models`. Error bodies are `{"type":"error","error":{"type","message"}}` with the
 * documented statuses (https://docs.claude.com/en/api/errors), which `@anthropic-ai/sdk` maps
 * to its exception classes by status (401 AuthenticationError, 429 RateLimitError, 529
 * OverloadedError, …).
 */
import type { Endpoint } from '../../core/index.js';
import { checkOptional, contentText, degradeParams, fail, isObj, positiveInt, type Obj } from './common.js';
import { formatSseEvent, type SseEvent } from './sse.js';
import { lastUsageObject, SseUsageTracker, tokenCount, type Inspection } from './tracker.js';
import type {
  Dialect,
  ErrorKind,
  ModelListEntry,
  ParseOutcome,
  PreparedBody,
  RateLimitState,
  StreamTracker,
  Usage,
} from './types.js';

const ERRORS: Record<ErrorKind, [status: number, type: string]> = {
  invalid_request: [400, 'invalid_request_error'],
  authentication: [401, 'authentication_error'],
  permission: [403, 'permission_error'],
  not_found: [404, 'not_found_error'],
  request_too_large: [413, 'request_too_large'],
  rate_limit: [429, 'rate_limit_error'],
  api_error: [500, 'api_error'],
  // Not an Anthropic status of its own; 502 makes the SDK raise InternalServerError and retry.
  upstream_unavailable: [502, 'api_error'],
  timeout: [504, 'timeout_error'],
  overloaded: [529, 'overloaded_error'],
};

/** Thinking needs `budget_tokens >= 1024` and `< max_tokens`. */
const MIN_THINKING_BUDGET = 1024;

function parseRequest(endpoint: Endpoint, body: unknown): ParseOutcome {
  if (!isObj(body)) return fail('(root)', 'expected a JSON object');
  if (endpoint !== 'messages' && endpoint !== 'count_tokens') {
    const model = body['model'];
    return { model: typeof model === 'string' ? model : '', stream: body['stream'] === true, turns: 0, tools: 0 };
  }
  const model = body['model'];
  if (model === undefined || model === null) return fail('model', 'field required');
  if (typeof model !== 'string' || model === '') return fail('model', 'expected a non-empty string');
  const messages = body['messages'];
  if (messages === undefined || messages === null) return fail('messages', 'field required');
  if (!Array.isArray(messages)) return fail('messages', 'expected an array of messages');
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isObj(m)) return fail(`messages[${i}]`, 'expected an object');
    const role = m['role'];
    if (role !== 'user' && role !== 'assistant') return fail(`messages[${i}].role`, 'expected "user" or "assistant"');
    const content = m['content'];
    if (content === undefined) return fail(`messages[${i}].content`, 'field required');
    if (typeof content !== 'string' && !Array.isArray(content)) return fail(`messages[${i}].content`, 'expected a string or an array of content blocks');
  }
  const maxTokens = body['max_tokens'];
  if (endpoint === 'messages') {
    if (maxTokens === undefined || maxTokens === null) return fail('max_tokens', 'field required');
    if (positiveInt(maxTokens) === undefined) return fail('max_tokens', 'expected a positive integer');
  }
  const bad =
    checkOptional(body, 'stream', 'boolean') ??
    checkOptional(body, 'metadata', 'object') ??
    checkOptional(body, 'tools', 'array') ??
    checkOptional(body, 'thinking', 'object');
  if (bad) return bad;
  const system = body['system'];
  if (system !== undefined && system !== null && typeof system !== 'string' && !Array.isArray(system)) {
    return fail('system', 'expected a string or an array of text blocks');
  }
  let endUserId: string | undefined;
  const metadata = body['metadata'] as Obj | undefined | null;
  if (metadata) {
    const uid = metadata['user_id'];
    if (uid !== undefined && uid !== null && typeof uid !== 'string') return fail('metadata.user_id', 'expected a string');
    if (typeof uid === 'string' && uid !== '') endUserId = uid;
  }
  let lastUserText: string | undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Obj;
    if (m['role'] === 'user') {
      lastUserText = contentText(m['content']);
      break;
    }
  }
  const systemText = typeof system === 'string' ? (system === '' ? undefined : system) : contentText(system);
  const thinking = body['thinking'] as Obj | undefined | null;
  const tools = body['tools'] as unknown[] | undefined | null;
  return {
    model,
    stream: body['stream'] === true,
    turns: messages.length,
    tools: tools ? tools.length : 0,
    ...(endUserId !== undefined ? { endUserId } : {}),
    ...(systemText !== undefined ? { systemText } : {}),
    ...(lastUserText !== undefined ? { lastUserText } : {}),
    ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
    wantsThinking: !!thinking && thinking['type'] !== 'disabled',
  };
}

function errorBody(kind: ErrorKind, message: string, requestId?: string): Record<string, unknown> {
  const body: Record<string, unknown> = { type: 'error', error: { type: ERRORS[kind][1], message } };
  if (requestId !== undefined) body['request_id'] = requestId;
  return body;
}

/** RFC 3339 to the second, as Anthropic sends its reset times. */
/** The reset time to the second; the last two formatted are kept (the minute's reset is the same for every request in it). */
const rfc3339Memo: [number, string][] = [];
const rfc3339 = (ms: number): string => {
  const sec = Math.ceil(ms / 1000);
  for (const [s, text] of rfc3339Memo) if (s === sec) return text;
  const text = new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
  rfc3339Memo.unshift([sec, text]);
  if (rfc3339Memo.length > 2) rfc3339Memo.pop();
  return text;
};

function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const h: Record<string, string> = {};
  if (state.requests) {
    h['anthropic-ratelimit-requests-limit'] = String(state.requests.limit);
    h['anthropic-ratelimit-requests-remaining'] = String(Math.max(0, state.requests.remaining));
    h['anthropic-ratelimit-requests-reset'] = rfc3339(state.requests.resetAt);
  }
  if (state.tokens) {
    h['anthropic-ratelimit-tokens-limit'] = String(state.tokens.limit);
    h['anthropic-ratelimit-tokens-remaining'] = String(Math.max(0, state.tokens.remaining));
    h['anthropic-ratelimit-tokens-reset'] = rfc3339(state.tokens.resetAt);
  }
  return h;
}

function applyDegrade(endpoint: Endpoint, body: Record<string, unknown>, params: Record<string, unknown>): string[] {
  if (endpoint !== 'messages' && endpoint !== 'count_tokens') return [];
  const p = degradeParams(params);
  const changed: string[] = [];
  if (p.routeModel !== undefined && body['model'] !== p.routeModel) {
    body['model'] = p.routeModel;
    changed.push(`model=${p.routeModel}`);
  }
  if (endpoint === 'count_tokens') return changed;
  const thinking = body['thinking'];
  if (p.stripThinking && thinking !== undefined && !(isObj(thinking) && thinking['type'] === 'disabled')) {
    delete body['thinking'];
    changed.push('thinking=off');
  }
  if (p.maxOutput !== undefined) {
    const current = body['max_tokens'];
    if (typeof current !== 'number' || current > p.maxOutput) {
      body['max_tokens'] = p.maxOutput;
      changed.push(`max_tokens=${p.maxOutput}`);
    }
    // A thinking budget must stay below max_tokens, or the API refuses the request.
    const t = body['thinking'];
    if (isObj(t) && typeof t['budget_tokens'] === 'number' && t['budget_tokens'] >= p.maxOutput) {
      if (p.maxOutput - 1 >= MIN_THINKING_BUDGET) {
        body['thinking'] = { ...t, budget_tokens: p.maxOutput - 1 };
        changed.push(`thinking.budget_tokens=${p.maxOutput - 1}`);
      } else {
        delete body['thinking'];
        changed.push('thinking=off');
      }
    }
  }
  return changed;
}

/** Anthropic's `input_tokens` excludes cached input; Warden counts all input processed. */
function inputOf(u: Obj): number | undefined {
  const base = tokenCount(u['input_tokens']);
  if (base === undefined) return undefined;
  return base + (tokenCount(u['cache_creation_input_tokens']) ?? 0) + (tokenCount(u['cache_read_input_tokens']) ?? 0);
}

function usageOf(u: Obj): Usage | null {
  const input = inputOf(u);
  const output = tokenCount(u['output_tokens']);
  if (input === undefined && output === undefined) return null;
  return { input_tokens: input ?? 0, output_tokens: output ?? 0 };
}

function usageFromResponse(endpoint: Endpoint, body: Buffer | unknown): Usage | null {
  if (endpoint === 'other') return null;
  if (Buffer.isBuffer(body)) {
    if (endpoint !== 'count_tokens') {
      const u = lastUsageObject(body);
      const usage = u ? usageOf(u) : null;
      if (usage) return usage;
    }
    try {
      body = JSON.parse(body.toString('utf8'));
    } catch {
      return null;
    }
  }
  if (!isObj(body)) return null;
  if (endpoint === 'count_tokens' || (body['usage'] === undefined && body['input_tokens'] !== undefined)) {
    const n = tokenCount(body['input_tokens']);
    return n === undefined ? null : { input_tokens: n, output_tokens: 0 };
  }
  return isObj(body['usage']) ? usageOf(body['usage']) : null;
}

function inspect(ev: SseEvent, json: unknown): Inspection | null {
  if (ev.event === 'error') return { error: true };
  if (!isObj(json)) return null;
  switch (json['type']) {
    case 'message_start': {
      const msg = json['message'];
      const u = isObj(msg) && isObj(msg['usage']) ? msg['usage'] : undefined;
      if (!u) return null;
      const input = inputOf(u);
      const output = tokenCount(u['output_tokens']);
      return { ...(input !== undefined ? { input_tokens: input } : {}), ...(output !== undefined ? { output_tokens: output } : {}) };
    }
    case 'message_delta': {
      const u = json['usage'];
      if (!isObj(u)) return null;
      // message_delta carries cumulative totals; input fields appear only when they apply.
      const input = inputOf(u);
      const output = tokenCount(u['output_tokens']);
      return { ...(input !== undefined ? { input_tokens: input } : {}), ...(output !== undefined ? { output_tokens: output } : {}) };
    }
    case 'error':
      return { error: true };
    default:
      return null;
  }
}

function createStreamTracker(): StreamTracker {
  return new SseUsageTracker({ names: ['message_start', 'message_delta', 'error'], inspect });
}

function streamErrorEvent(_endpoint: Endpoint, kind: ErrorKind, message: string): string {
  return formatSseEvent('error', JSON.stringify(errorBody(kind, message)));
}

function modelList(models: readonly ModelListEntry[]): Record<string, unknown> {
  const data = models.map((m) => ({
    type: 'model',
    id: m.id,
    display_name: m.display_name ?? m.id,
    created_at: new Date((m.created ?? 0) * 1000).toISOString().replace('.000Z', 'Z'),
  }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
}

export const anthropicDialect: Dialect = {
  api: 'anthropic',
  requestIdHeader: 'request-id',
  parseRequest,
  errorBody,
  errorStatus: (kind) => ERRORS[kind][0],
  streamErrorEvent,
  rateLimitHeaders,
  prepareUpstreamBody: (_endpoint, body): PreparedBody => ({ body, changed: false, stripUsageChunk: false }),
  applyDegrade,
  usageFromResponse,
  createStreamTracker,
  modelList,
};

/**
 * The OpenAI dialect: `POST /v1/chat/completions`, `POST /v1/responses`, and, more thinly,
 * `POST /v1/completions`, `POST /v1/embeddings`, `GET /v1/models`. Error bodies are
 * `{"error":{"message","type","param","code"}}`; the `openai` SDK picks its exception class by
 * status (401 AuthenticationError, 403 PermissionDeniedError, 429 RateLimitError, ≥500
 * InternalServerError) and reads `x-request-id`.
 */
import type { Endpoint } from '../../core/index.js';
import { checkOptional, contentText, degradeParams, fail, isObj, joinText, positiveInt, type Obj } from './common.js';
import { formatSseEvent, type SseEvent } from './sse.js';
import { lastUsageObject, SseUsageTracker, tokenCount, type Inspection } from './tracker.js';
import type {
  Dialect,
  ErrorKind,
  ModelListEntry,
  ParseError,
  ParseOutcome,
  PreparedBody,
  RateLimitState,
  StreamTracker,
  StreamTrackerOptions,
  Usage,
} from './types.js';

const ERRORS: Record<ErrorKind, [status: number, type: string, code: string | null]> = {
  invalid_request: [400, 'invalid_request_error', null],
  authentication: [401, 'invalid_request_error', 'invalid_api_key'],
  permission: [403, 'request_forbidden', 'permission_denied'],
  not_found: [404, 'invalid_request_error', 'not_found'],
  request_too_large: [413, 'invalid_request_error', 'request_too_large'],
  rate_limit: [429, 'requests', 'rate_limit_exceeded'],
  api_error: [500, 'server_error', null],
  upstream_unavailable: [502, 'server_error', null],
  overloaded: [503, 'server_error', 'overloaded'],
  timeout: [504, 'server_error', 'timeout'],
};

function common(body: Obj): ParseError | undefined {
  return (
    checkOptional(body, 'stream', 'boolean') ??
    checkOptional(body, 'user', 'string') ??
    checkOptional(body, 'safety_identifier', 'string') ??
    checkOptional(body, 'tools', 'array')
  );
}

function endUser(body: Obj): { endUserId?: string } {
  const s = body['safety_identifier'];
  if (typeof s === 'string' && s !== '') return { endUserId: s };
  const u = body['user'];
  if (typeof u === 'string' && u !== '') return { endUserId: u };
  return {};
}

function requireModel(body: Obj): ParseError | string {
  const model = body['model'];
  if (model === undefined || model === null) return fail('model', 'field required');
  if (typeof model !== 'string' || model === '') return fail('model', 'expected a non-empty string');
  return model;
}

const opt = <K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } =>
  (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };

function parseChat(body: Obj): ParseOutcome {
  const model = requireModel(body);
  if (typeof model !== 'string') return model;
  const messages = body['messages'];
  if (messages === undefined || messages === null) return fail('messages', 'field required');
  if (!Array.isArray(messages)) return fail('messages', 'expected an array of messages');
  const system: (string | undefined)[] = [];
  let lastUserText: string | undefined;
  let lastUser = -1;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isObj(m)) return fail(`messages[${i}]`, 'expected an object');
    const role = m['role'];
    if (typeof role !== 'string') return fail(`messages[${i}].role`, 'field required');
    if (role === 'system' || role === 'developer') system.push(contentText(m['content']));
    else if (role === 'user') lastUser = i;
  }
  if (lastUser >= 0) lastUserText = contentText((messages[lastUser] as Obj)['content']);
  const bad =
    common(body) ??
    checkOptional(body, 'max_tokens', 'integer') ??
    checkOptional(body, 'max_completion_tokens', 'integer') ??
    checkOptional(body, 'functions', 'array') ??
    checkOptional(body, 'stream_options', 'object') ??
    checkOptional(body, 'reasoning_effort', 'string');
  if (bad) return bad;
  const tools = (body['tools'] as unknown[] | undefined | null)?.length ?? 0;
  const functions = (body['functions'] as unknown[] | undefined | null)?.length ?? 0;
  const effort = body['reasoning_effort'];
  return {
    model,
    stream: body['stream'] === true,
    turns: messages.length,
    tools: tools + functions,
    ...endUser(body),
    ...opt('systemText', joinText(system)),
    ...opt('lastUserText', lastUserText),
    ...opt('maxTokens', positiveInt(body['max_completion_tokens']) ?? positiveInt(body['max_tokens'])),
    wantsThinking: typeof effort === 'string' && effort !== 'none',
  };
}

function parseResponses(body: Obj): ParseOutcome {
  // A stored prompt template may name the model instead of the request.
  let model = '';
  if (body['model'] !== undefined || !isObj(body['prompt'])) {
    const m = requireModel(body);
    if (typeof m !== 'string') return m;
    model = m;
  }
  const input = body['input'];
  const system: (string | undefined)[] = [];
  const instructions = body['instructions'];
  if (instructions !== undefined && instructions !== null && typeof instructions !== 'string') {
    return fail('instructions', 'expected a string');
  }
  if (typeof instructions === 'string') system.push(instructions);
  let turns = 0;
  let lastUserText: string | undefined;
  if (typeof input === 'string') {
    turns = 1;
    lastUserText = input;
  } else if (Array.isArray(input)) {
    turns = input.length;
    let lastUser = -1;
    for (let i = 0; i < input.length; i++) {
      const item: unknown = input[i];
      if (!isObj(item)) return fail(`input[${i}]`, 'expected an object');
      const role = item['role'];
      if (role === 'system' || role === 'developer') system.push(contentText(item['content']));
      else if (role === 'user') lastUser = i;
    }
    if (lastUser >= 0) lastUserText = contentText((input[lastUser] as Obj)['content']);
  } else if (input !== undefined && input !== null) {
    return fail('input', 'expected a string or an array of input items');
  }
  const bad =
    common(body) ?? checkOptional(body, 'max_output_tokens', 'integer') ?? checkOptional(body, 'reasoning', 'object');
  if (bad) return bad;
  const reasoning = body['reasoning'] as Obj | undefined | null;
  return {
    model,
    stream: body['stream'] === true,
    turns,
    tools: (body['tools'] as unknown[] | undefined | null)?.length ?? 0,
    ...endUser(body),
    ...opt('systemText', joinText(system)),
    ...opt('lastUserText', lastUserText),
    ...opt('maxTokens', positiveInt(body['max_output_tokens'])),
    wantsThinking: !!reasoning && reasoning['effort'] !== 'none',
  };
}

function parseCompletions(body: Obj): ParseOutcome {
  const model = requireModel(body);
  if (typeof model !== 'string') return model;
  const prompt = body['prompt'];
  const bad = common(body) ?? checkOptional(body, 'max_tokens', 'integer');
  if (bad) return bad;
  const text = typeof prompt === 'string' ? prompt : Array.isArray(prompt) ? joinText(prompt.filter((p): p is string => typeof p === 'string')) : undefined;
  return {
    model,
    stream: body['stream'] === true,
    turns: prompt === undefined || prompt === null ? 0 : 1,
    tools: 0,
    ...endUser(body),
    ...opt('lastUserText', text),
    ...opt('maxTokens', positiveInt(body['max_tokens'])),
  };
}

function parseEmbeddings(body: Obj): ParseOutcome {
  const model = requireModel(body);
  if (typeof model !== 'string') return model;
  const input = body['input'];
  if (input === undefined || input === null) return fail('input', 'field required');
  const bad = checkOptional(body, 'user', 'string');
  if (bad) return bad;
  return {
    model,
    stream: false,
    turns: 0,
    tools: 0,
    ...endUser(body),
    ...opt('lastUserText', typeof input === 'string' ? input : undefined),
  };
}

function parseRequest(endpoint: Endpoint, body: unknown): ParseOutcome {
  if (!isObj(body)) return fail('(root)', 'expected a JSON object');
  switch (endpoint) {
    case 'chat.completions':
      return parseChat(body);
    case 'responses':
      return parseResponses(body);
    case 'completions':
      return parseCompletions(body);
    case 'embeddings':
      return parseEmbeddings(body);
    default: {
      const model = body['model'];
      return { model: typeof model === 'string' ? model : '', stream: body['stream'] === true, turns: 0, tools: 0 };
    }
  }
}

function errorBody(kind: ErrorKind, message: string): Record<string, unknown> {
  const [, type, code] = ERRORS[kind];
  // OpenAI names the exhausted window in `type`: `requests` or `tokens`.
  const t = kind === 'rate_limit' && /\btokens?\b/i.test(message) ? 'tokens' : type;
  return { error: { message, type: t, param: null, code } };
}

/** A Go-style duration, as OpenAI sends its reset times: `12ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function openaiDuration(ms: number): string {
  ms = Math.max(0, Math.ceil(ms));
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

function rateLimitHeaders(state: RateLimitState, now: number = Date.now()): Record<string, string> {
  const h: Record<string, string> = {};
  if (state.requests) {
    h['x-ratelimit-limit-requests'] = String(state.requests.limit);
    h['x-ratelimit-remaining-requests'] = String(Math.max(0, state.requests.remaining));
    h['x-ratelimit-reset-requests'] = openaiDuration(state.requests.resetAt - now);
  }
  if (state.tokens) {
    h['x-ratelimit-limit-tokens'] = String(state.tokens.limit);
    h['x-ratelimit-remaining-tokens'] = String(Math.max(0, state.tokens.remaining));
    h['x-ratelimit-reset-tokens'] = openaiDuration(state.tokens.resetAt - now);
  }
  return h;
}

function prepareUpstreamBody(endpoint: Endpoint, body: Record<string, unknown>): PreparedBody {
  if ((endpoint === 'chat.completions' || endpoint === 'completions') && body['stream'] === true) {
    const so = body['stream_options'];
    if (!isObj(so) || so['include_usage'] !== true) {
      body['stream_options'] = { ...(isObj(so) ? so : {}), include_usage: true };
      return { body, changed: true, stripUsageChunk: true };
    }
  }
  return { body, changed: false, stripUsageChunk: false };
}

const OUTPUT_CAP_FIELDS: Partial<Record<Endpoint, readonly string[]>> = {
  'chat.completions': ['max_completion_tokens', 'max_tokens'],
  responses: ['max_output_tokens'],
  completions: ['max_tokens'],
};

function applyDegrade(endpoint: Endpoint, body: Record<string, unknown>, params: Record<string, unknown>): string[] {
  const p = degradeParams(params);
  const changed: string[] = [];
  if (p.routeModel !== undefined && body['model'] !== undefined && body['model'] !== p.routeModel) {
    body['model'] = p.routeModel;
    changed.push(`model=${p.routeModel}`);
  }
  const fields = OUTPUT_CAP_FIELDS[endpoint];
  if (p.maxOutput !== undefined && fields) {
    let present = false;
    for (const f of fields) {
      const v = body[f];
      if (typeof v !== 'number') continue;
      present = true;
      if (v > p.maxOutput) {
        body[f] = p.maxOutput;
        changed.push(`${f}=${p.maxOutput}`);
      }
    }
    if (!present) {
      body[fields[0]!] = p.maxOutput;
      changed.push(`${fields[0]}=${p.maxOutput}`);
    }
  }
  if (p.stripThinking) {
    // Removing the request leaves the model's default effort; route_model to a model without
    // reasoning removes it entirely.
    if (endpoint === 'chat.completions' && body['reasoning_effort'] !== undefined) {
      delete body['reasoning_effort'];
      changed.push('reasoning=off');
    } else if (endpoint === 'responses' && body['reasoning'] !== undefined) {
      delete body['reasoning'];
      changed.push('reasoning=off');
    }
  }
  return changed;
}

/** Chat and completions report `prompt_tokens`/`completion_tokens`; Responses `input_tokens`/`output_tokens`. */
function usageOf(u: Obj): Usage | null {
  const prompt = tokenCount(u['prompt_tokens']);
  const completion = tokenCount(u['completion_tokens']);
  if (prompt !== undefined || completion !== undefined) return { input_tokens: prompt ?? 0, output_tokens: completion ?? 0 };
  const input = tokenCount(u['input_tokens']);
  const output = tokenCount(u['output_tokens']);
  if (input !== undefined || output !== undefined) return { input_tokens: input ?? 0, output_tokens: output ?? 0 };
  return null;
}

function usageFromResponse(endpoint: Endpoint, body: Buffer | unknown): Usage | null {
  if (endpoint === 'other') return null;
  if (Buffer.isBuffer(body)) {
    const u = lastUsageObject(body);
    const usage = u ? usageOf(u) : null;
    if (usage) return usage;
    try {
      body = JSON.parse(body.toString('utf8'));
    } catch {
      return null;
    }
  }
  if (!isObj(body) || !isObj(body['usage'])) return null;
  return usageOf(body['usage']);
}

const RESPONSE_END = new Set(['response.completed', 'response.incomplete', 'response.failed']);

function createStreamTracker(endpoint: Endpoint, opts: StreamTrackerOptions = {}): StreamTracker {
  if (endpoint === 'responses') {
    return new SseUsageTracker({ names: [...RESPONSE_END, 'error'], inspect: inspectResponses, quick: quickResponses });
  }
  const strip = opts.stripUsageChunk === true;
  return new SseUsageTracker({
    names: ['error'],
    inspect: (ev, json): Inspection | null => {
      if (ev.event === 'error') return { error: true };
      if (!isObj(json)) return null;
      if (isObj(json['error'])) return { error: true };
      const u = json['usage'];
      if (!isObj(u)) return null;
      const choices = json['choices'];
      return { ...(usageOf(u) ?? {}), ...(strip && Array.isArray(choices) && choices.length === 0 ? { drop: true } : {}) };
    },
  });
}

/** The usage of a final Responses event, found in its bytes (the event repeats the whole output). */
function quickResponses(name: string, raw: Buffer): Inspection | null | undefined {
  if (name === 'error') return { error: true };
  const u = lastUsageObject(raw);
  const usage = u ? usageOf(u) : null;
  if (!usage) return undefined;
  return { ...usage, ...(name === 'response.failed' ? { error: true } : {}) };
}

/** Responses streams carry usage in their last event: completed, incomplete or failed. */
function inspectResponses(ev: SseEvent, json: unknown): Inspection | null {
  if (ev.event === 'error') return { error: true };
  if (!isObj(json)) return null;
  const type = json['type'];
  if (type === 'error') return { error: true };
  if (typeof type !== 'string' || !RESPONSE_END.has(type)) return null;
  const r = json['response'];
  const usage = isObj(r) && isObj(r['usage']) ? usageOf(r['usage']) : null;
  return { ...(usage ?? {}), ...(type === 'response.failed' ? { error: true } : {}) };
}

function streamErrorEvent(endpoint: Endpoint, kind: ErrorKind, message: string): string {
  if (endpoint === 'responses') {
    const [, , code] = ERRORS[kind];
    return formatSseEvent('error', JSON.stringify({ type: 'error', code: code ?? ERRORS[kind][1], message, param: null, sequence_number: 0 }));
  }
  return formatSseEvent(null, JSON.stringify(errorBody(kind, message)));
}

function modelList(models: readonly ModelListEntry[]): Record<string, unknown> {
  return {
    object: 'list',
    data: models.map((m) => ({ id: m.id, object: 'model', created: m.created ?? 0, owned_by: 'system' })),
  };
}

export const openaiDialect: Dialect = {
  api: 'openai',
  requestIdHeader: 'x-request-id',
  parseRequest,
  errorBody,
  errorStatus: (kind) => ERRORS[kind][0],
  streamErrorEvent,
  rateLimitHeaders,
  prepareUpstreamBody,
  applyDegrade,
  usageFromResponse,
  createStreamTracker,
  modelList,
};

/**
 * What the gateway needs to know about an API family (Anthropic Messages; OpenAI Chat
 * Completions and Responses) on its hot path: the fields a policy reads from a request, the
 * exact error and header shapes the official SDKs parse, the countermeasures of `degrade`,
 * and the token usage of a response, streamed or not.
 */
import type { Endpoint } from '../../core/index.js';

export type ApiFamily = 'anthropic' | 'openai';

/**
 * A Warden error kind; each dialect maps it to its API's error type and HTTP status so the
 * official SDKs raise their usual exception (`AuthenticationError`, `RateLimitError`, …).
 */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'rate_limit'
  | 'request_too_large'
  | 'api_error'
  | 'overloaded'
  | 'upstream_unavailable'
  | 'timeout';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'invalid_request',
  'authentication',
  'permission',
  'not_found',
  'rate_limit',
  'request_too_large',
  'api_error',
  'overloaded',
  'upstream_unavailable',
  'timeout',
];

/** What the gateway and the policy read from a request body. */
export interface ParsedRequest {
  /** `''` where the endpoint has no model (a model listing). */
  model: string;
  stream: boolean;
  /** Anthropic `metadata.user_id`; OpenAI `safety_identifier`, else `user`. */
  endUserId?: string;
  /** Number of messages (Responses: input items; a string input counts as one). */
  turns: number;
  /** Number of tool definitions. */
  tools: number;
  /** System prompt text (Anthropic `system`; OpenAI system/developer messages, `instructions`). */
  systemText?: string;
  /** Text of the last user message. */
  lastUserText?: string;
  /** The output cap the client asked for, if any. */
  maxTokens?: number;
  /** The client asked for extended thinking / reasoning. */
  wantsThinking?: boolean;
}

/** A request body the API would refuse; `error` names the field: `messages: field required`. */
export interface ParseError {
  error: string;
  /** The offending field's path, such as `messages[2].role`, or `(root)`. */
  field: string;
}

export type ParseOutcome = ParsedRequest | ParseError;

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface RateLimitWindow {
  limit: number;
  remaining: number;
  /** Epoch ms at which the window resets. */
  resetAt: number;
}
export interface RateLimitState {
  requests?: RateLimitWindow;
  tokens?: RateLimitWindow;
}

/**
 * Parameters of a `degrade` decision or action (all optional):
 * `max_output_tokens` caps the output, `strip_thinking` removes extended-thinking / reasoning
 * requests, `route_model` replaces the model.
 */
export interface DegradeParams {
  max_output_tokens?: number;
  strip_thinking?: boolean;
  route_model?: string;
}

export interface PreparedBody {
  /** The same object, possibly mutated. */
  body: Record<string, unknown>;
  /** The body was mutated and must be re-serialized before it is forwarded. */
  changed: boolean;
  /** The relay must remove the usage-only chunk the client did not ask for. */
  stripUsageChunk: boolean;
}

/**
 * Follows an upstream SSE response: passes bytes through by whole events, reads the token
 * usage, and optionally removes the OpenAI usage-only chunk.
 */
export interface StreamTracker {
  /**
   * Feeds one upstream chunk (split anywhere, even inside a UTF-8 sequence or a line).
   * Returns the bytes of every SSE event completed by this chunk, to forward now, or null.
   */
  push(chunk: Buffer): Buffer | null;
  /** End of the upstream stream: returns whatever partial data was held, or null. */
  end(): Buffer | null;
  /** Usage seen so far; null until the stream carried any. */
  usage(): Usage | null;
  /** The stream carried an error event (an upstream failure after the 200). */
  readonly sawError: boolean;
}

export interface StreamTrackerOptions {
  stripUsageChunk?: boolean;
}

export interface ModelListEntry {
  id: string;
  /** Epoch seconds. */
  created?: number;
  display_name?: string;
}

export interface Dialect {
  readonly api: ApiFamily;
  /** Response header carrying the request id (`request-id`, `x-request-id`). */
  readonly requestIdHeader: string;
  /** Targeted checks of the fields Warden reads; not a full schema validation. */
  parseRequest(endpoint: Endpoint, body: unknown): ParseOutcome;
  /** The API's JSON error body; `requestId` goes into the body where the API puts it there. */
  errorBody(kind: ErrorKind, message: string, requestId?: string): Record<string, unknown>;
  errorStatus(kind: ErrorKind): number;
  /** An SSE error event in the API's shape, for failures after a stream has begun. */
  streamErrorEvent(endpoint: Endpoint, kind: ErrorKind, message: string): string;
  /** Rate-limit response headers in the API's names and formats. `now` in epoch ms. */
  rateLimitHeaders(state: RateLimitState, now?: number): Record<string, string>;
  /**
   * Readies a request body for the upstream (mutating it): for OpenAI streams, asks for the
   * usage chunk when the client did not, and says the relay must strip it.
   */
  prepareUpstreamBody(endpoint: Endpoint, body: Record<string, unknown>): PreparedBody;
  /**
   * Applies `degrade` countermeasures to a request body in place; returns what changed as
   * `name=value` tokens for the response header (empty when nothing applied).
   */
  applyDegrade(endpoint: Endpoint, body: Record<string, unknown>, params: Record<string, unknown>): string[];
  /** Usage of a non-streaming response: its raw bytes or parsed JSON. Null when absent. */
  usageFromResponse(endpoint: Endpoint, body: Buffer | unknown): Usage | null;
  createStreamTracker(endpoint: Endpoint, opts?: StreamTrackerOptions): StreamTracker;
  /** A `GET /v1/models` response body in the API's list shape. */
  modelList(models: readonly ModelListEntry[]): Record<string, unknown>;
}

/**
 * @module gateway/dialects
 * The API dialects the gateway speaks: Anthropic Messages and OpenAI Chat Completions /
 * Responses. Each `Dialect` reads the fields a policy needs from a request body (cheap,
 * targeted checks), writes errors and rate-limit headers in the API's exact shapes so the
 * official SDKs raise their usual exceptions, applies the `degrade` countermeasures, and
 * meters token usage from responses and from SSE streams relayed event by event.
 * See docs/dialects.md.
 */
import { anthropicDialect } from './anthropic.js';
import { openaiDialect } from './openai.js';
import type { ApiFamily, Dialect, ParseError, ParseOutcome } from './types.js';

export { anthropicDialect } from './anthropic.js';
export { openaiDialect, openaiDuration } from './openai.js';
export { retryHeaders, contentText } from './common.js';
export { formatSseEvent, parseSseEvent, parseSseStream, lastEventEnd, type SseEvent } from './sse.js';
export { ERROR_KINDS } from './types.js';
export type {
  ApiFamily,
  DegradeParams,
  Dialect,
  ErrorKind,
  ModelListEntry,
  ParsedRequest,
  ParseError,
  ParseOutcome,
  PreparedBody,
  RateLimitState,
  RateLimitWindow,
  StreamTracker,
  StreamTrackerOptions,
  Usage,
} from './types.js';

export const dialects: Readonly<Record<ApiFamily, Dialect>> = { anthropic: anthropicDialect, openai: openaiDialect };

/** True when `parseRequest` refused the body. */
export const isParseError = (r: ParseOutcome): r is ParseError => 'error' in r;

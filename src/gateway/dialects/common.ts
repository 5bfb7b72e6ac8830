/**
 * Helpers both dialects share: text extraction from string or content-block messages, the
 * small type checks of `parseRequest`, and the retry headers the official SDKs obey.
 */
import type { ParseError } from './types.js';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function fail(field: string, problem: string): ParseError {
  return { error: `${field}: ${problem}`, field };
}

const TEXT_BLOCKS = new Set(['text', 'input_text', 'output_text']);

/**
 * The text of a message's content: a string, or the `text` of its text blocks joined by a
 * newline (`text`, `input_text`, `output_text`); Anthropic `tool_result` blocks contribute their
 * own content's text. Undefined when there is no text.
 */
export function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let out: string | undefined;
  for (const block of content) {
    let t: string | undefined;
    if (typeof block === 'string') t = block;
    else if (isObj(block)) {
      const type = block['type'];
      if (typeof type === 'string' && TEXT_BLOCKS.has(type) && typeof block['text'] === 'string') t = block['text'];
      else if (type === 'tool_result') t = contentText(block['content']);
    }
    if (t !== undefined) out = out === undefined ? t : `${out}\n${t}`;
  }
  return out;
}

/** Joins defined parts with a blank line; undefined when none. */
export function joinText(parts: (string | undefined)[]): string | undefined {
  let out: string | undefined;
  for (const p of parts) if (p !== undefined && p !== '') out = out === undefined ? p : `${out}\n\n${p}`;
  return out;
}

/** Checks an optional field's type; returns a parse error or undefined. */
export function checkOptional(body: Obj, field: string, type: 'string' | 'boolean' | 'integer' | 'object' | 'array'): ParseError | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  switch (type) {
    case 'string':
      return typeof v === 'string' ? undefined : fail(field, 'expected a string');
    case 'boolean':
      return typeof v === 'boolean' ? undefined : fail(field, 'expected a boolean');
    case 'integer':
      return Number.isInteger(v) && (v as number) >= 0 ? undefined : fail(field, 'expected a non-negative integer');
    case 'object':
      return isObj(v) ? undefined : fail(field, 'expected an object');
    case 'array':
      return Array.isArray(v) ? undefined : fail(field, 'expected an array');
  }
}

export function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * Headers that tell an official SDK how long to wait before it retries (`retry-after`,
 * `retry-after-ms`), or not to retry at all (`x-should-retry: false`, for refusals that a retry
 * cannot cure, such as an exhausted monthly budget). Both SDKs read these three.
 */
export function retryHeaders(opts: { retryAfterMs?: number; shouldRetry?: boolean }): Record<string, string> {
  const h: Record<string, string> = {};
  if (opts.retryAfterMs !== undefined && opts.retryAfterMs >= 0) {
    h['retry-after'] = String(Math.max(1, Math.ceil(opts.retryAfterMs / 1000)));
    h['retry-after-ms'] = String(Math.ceil(opts.retryAfterMs));
  }
  if (opts.shouldRetry !== undefined) h['x-should-retry'] = opts.shouldRetry ? 'true' : 'false';
  return h;
}

/** Degrade parameters read leniently from a decision's or action's `params`. */
export function degradeParams(params: Record<string, unknown>): {
  maxOutput?: number;
  stripThinking: boolean;
  routeModel?: string;
} {
  const max = positiveInt(params['max_output_tokens']);
  const route = params['route_model'];
  return {
    ...(max !== undefined ? { maxOutput: max } : {}),
    stripThinking: params['strip_thinking'] === true,
    ...(typeof route === 'string' && route !== '' ? { routeModel: route } : {}),
  };
}

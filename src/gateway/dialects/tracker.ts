/**
 * The SSE relay's usage tracker, shared by both dialects. It forwards upstream bytes by whole
 * events without copying in the common case (a chunk that ends at an event boundary is
 * returned as is), holds only an incomplete trailing event, and parses JSON only for the rare
 * events that can carry usage or an error (see `TrackerSpec`); the dialect's inspector reads
 * the parsed event.
 */
import { eventEndAfter, lastEventEnd, parseSseEvent, seamEventEnd, type SseEvent } from './sse.js';
import type { StreamTracker, Usage } from './types.js';

/** What the dialect makes of a candidate event. */
export interface Inspection {
  /** Remove the event from the relayed stream. */
  drop?: boolean;
  /** Usage fields carried by the event (each overwrites the earlier value). */
  input_tokens?: number;
  output_tokens?: number;
  /** The event reports an upstream error. */
  error?: boolean;
}

/** Called with a parsed candidate event; `json` is its parsed data, or undefined if not JSON. */
export type Inspector = (ev: SseEvent, json: unknown) => Inspection | null;

const USAGE = Buffer.from('"usage"');
const ERROR_KEY = Buffer.from('"error"');
const EVENT_FIELD = Buffer.from('event:');
const DATA_FIELD = Buffer.from('data:');

const isWs = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** `"usage"` at `pos` followed by `:` and an object. */
function usageObjectAt(buf: Buffer, pos: number): boolean {
  let j = pos + 7;
  while (isWs(buf[j])) j++;
  if (buf[j] !== 0x3a) return false;
  j++;
  while (isWs(buf[j])) j++;
  return buf[j] === 0x7b;
}

/** Position of the next `"usage": {` at or after `from`, or -1. */
function findUsageObject(buf: Buffer, from: number): number {
  let p = buf.indexOf(USAGE, from);
  while (p >= 0 && !usageObjectAt(buf, p)) p = buf.indexOf(USAGE, p + 7);
  return p;
}

function startsWithAt(buf: Buffer, pos: number, prefix: Buffer): boolean {
  if (pos + prefix.length > buf.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}

/** `data: {"error"…` at `pos`: how OpenAI-style streams report a failure after the 200. */
function errorDataAt(buf: Buffer, pos: number): boolean {
  if (!startsWithAt(buf, pos, DATA_FIELD)) return false;
  let j = pos + 5;
  if (buf[j] === 0x20) j++;
  if (buf[j] !== 0x7b) return false;
  j++;
  while (buf[j] === 0x20 || buf[j] === 0x09) j++;
  return startsWithAt(buf, j, ERROR_KEY);
}

/**
 * Which events are parsed. An event with an `event:` line is parsed only when its name is in
 * `names` (Anthropic and Responses name every event; usage and errors come in a few of them).
 * An event without a name (OpenAI chat chunks) is parsed when its data holds `"usage": {` or
 * starts with `{"error"`; those markers cannot come from text, whose quotes JSON escapes.
 */
export interface TrackerSpec {
  names: readonly string[];
  inspect: Inspector;
  /**
   * Reads a named event from its raw bytes without parsing it whole (a Responses
   * `response.completed` event repeats the entire output); undefined falls back to `inspect`.
   */
  quick?: (name: string, raw: Buffer) => Inspection | null | undefined;
}

export class SseUsageTracker implements StreamTracker {
  #held: Buffer[] = [];
  #heldLen = 0;
  #input: number | undefined;
  #output: number | undefined;
  #sawError = false;
  readonly #names: Set<string>;
  readonly #nameLengths: Set<number>;
  readonly #inspect: Inspector;
  readonly #quick: TrackerSpec['quick'];

  constructor(spec: TrackerSpec) {
    this.#names = new Set(spec.names);
    this.#nameLengths = new Set(spec.names.map((n) => n.length));
    this.#inspect = spec.inspect;
    this.#quick = spec.quick;
  }

  get sawError(): boolean {
    return this.#sawError;
  }

  usage(): Usage | null {
    if (this.#input === undefined && this.#output === undefined) return null;
    return { input_tokens: this.#input ?? 0, output_tokens: this.#output ?? 0 };
  }

  push(chunk: Buffer): Buffer | null {
    if (chunk.length === 0) return null;
    if (this.#heldLen === 0) {
      const end = lastEventEnd(chunk);
      if (end < 0) {
        this.#hold(chunk);
        return null;
      }
      if (end < chunk.length) this.#hold(chunk.subarray(end));
      const out = this.#scan(end === chunk.length ? chunk : chunk.subarray(0, end));
      return out.length ? out : null;
    }
    let end = lastEventEnd(chunk);
    if (end < 0) {
      const last = this.#held[this.#held.length - 1]!;
      const tail =
        last.length >= 2 || this.#held.length === 1 ? last : Buffer.concat([this.#held[this.#held.length - 2]!, last]);
      end = seamEventEnd(tail, chunk);
    }
    if (end < 0) {
      this.#hold(chunk);
      return null;
    }
    const parts = this.#held;
    parts.push(end === chunk.length ? chunk : chunk.subarray(0, end));
    const complete = Buffer.concat(parts, this.#heldLen + end);
    this.#held = [];
    this.#heldLen = 0;
    if (end < chunk.length) this.#hold(chunk.subarray(end));
    const out = this.#scan(complete);
    return out.length ? out : null;
  }

  end(): Buffer | null {
    if (this.#heldLen === 0) return null;
    const rest = this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held, this.#heldLen);
    this.#held = [];
    this.#heldLen = 0;
    const out = this.#scan(rest);
    return out.length ? out : null;
  }

  #hold(b: Buffer) {
    this.#held.push(b);
    this.#heldLen += b.length;
  }

  /** Name of the event at `pos` if it starts with an `event:` line, else null. */
  #eventName(buf: Buffer, pos: number): string | null {
    if (!startsWithAt(buf, pos, EVENT_FIELD)) return null;
    let a = pos + 6;
    if (buf[a] === 0x20) a++;
    let b = a;
    while (b < buf.length && buf[b] !== 0x0a && buf[b] !== 0x0d) b++;
    // Only names of an interesting length are materialized.
    return this.#nameLengths.has(b - a) ? buf.toString('latin1', a, b) : '';
  }

  /** Inspects the candidate events in complete data; returns the data minus dropped events. */
  #scan(buf: Buffer): Buffer {
    const n = buf.length;
    let drops: [number, number][] | null = null;
    let nextUsage = -2;
    for (let pos = 0; pos < n; ) {
      const end = eventEndAfter(buf, pos);
      let name = this.#eventName(buf, pos);
      let candidate = false;
      let unusualError = false;
      if (name === null && !startsWithAt(buf, pos, DATA_FIELD)) {
        // Another field first (`id:`, a comment, a blank line): read the fields properly.
        const ev = parseSseEvent(buf.toString('utf8', pos, end));
        if (ev.event !== null) name = this.#names.has(ev.event) ? ev.event : '';
        else unusualError = /^\{\s*"error"/.test(ev.data);
      }
      if (name !== null) {
        candidate = this.#names.has(name);
      } else if (unusualError || errorDataAt(buf, pos)) {
        candidate = true;
      } else {
        // One forward search per chunk, shared by the events it spans.
        if (nextUsage !== -1 && nextUsage < pos) nextUsage = findUsageObject(buf, pos);
        candidate = nextUsage !== -1 && nextUsage < end;
      }
      if (candidate && this.#inspectEvent(buf, pos, end, name)) (drops ??= []).push([pos, end]);
      pos = end;
    }
    if (drops === null) return buf;
    const kept: Buffer[] = [];
    let at = 0;
    for (const [s, e] of drops) {
      if (s > at) kept.push(buf.subarray(at, s));
      at = e;
    }
    if (at < buf.length) kept.push(buf.subarray(at));
    return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
  }

  /** Parses and inspects one event; returns true when it is to be dropped. */
  #inspectEvent(buf: Buffer, start: number, end: number, name: string | null): boolean {
    let r = name && this.#quick ? this.#quick(name, buf.subarray(start, end)) : undefined;
    if (r === undefined) {
      const ev = parseSseEvent(buf.toString('utf8', start, end));
      let json: unknown;
      try {
        json = JSON.parse(ev.data);
      } catch {
        json = undefined;
      }
      r = this.#inspect(ev, json);
    }
    if (!r) return false;
    if (r.input_tokens !== undefined) this.#input = r.input_tokens;
    if (r.output_tokens !== undefined) this.#output = r.output_tokens;
    if (r.error) this.#sawError = true;
    return r.drop === true;
  }
}

/** Non-negative integer or undefined. */
export function tokenCount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
}

/**
 * Finds the usage object in a non-streaming JSON response without parsing the whole body: the
 * last `"usage": {…}` (usage follows the content in every one of these APIs, and a tool input
 * that has a `usage` key comes before it). Returns the parsed object, or undefined when not found
 * or not well formed (the caller then parses the whole body).
 */
export function lastUsageObject(buf: Buffer): Record<string, unknown> | undefined {
  let p = buf.lastIndexOf(USAGE);
  while (p >= 0) {
    if (usageObjectAt(buf, p)) {
      let j = buf.indexOf(0x7b, p + 7);
      const start = j;
      let depth = 0;
      let inString = false;
      for (; j < buf.length; j++) {
        const c = buf[j];
        if (inString) {
          if (c === 0x5c) j++;
          else if (c === 0x22) inString = false;
        } else if (c === 0x22) inString = true;
        else if (c === 0x7b) depth++;
        else if (c === 0x7d && --depth === 0) {
          try {
            const v: unknown = JSON.parse(buf.toString('utf8', start, j + 1));
            return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
          } catch {
            return undefined;
          }
        }
      }
      return undefined;
    }
    p = p > 0 ? buf.lastIndexOf(USAGE, p - 1) : -1;
  }
  return undefined;
}

/**
 * A small server-sent events reader and writer (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * byte-level framing for the relay (an event ends at a blank line: `\n\n` or `\r\n\r\n`), field
 * parsing for the few events whose JSON is read, and formatting for the simulated upstream.
 * A bare `\r` line ending (allowed by the spec, sent by none of these APIs) is not framed
 * incrementally; such a stream is still relayed whole at its end.
 */

const LF = 0x0a;
const CR = 0x0d;

export interface SseEvent {
  /** The `event:` field, or null when the event has none (OpenAI chat chunks). */
  event: string | null;
  /** The `data:` lines joined by `\n`. */
  data: string;
}

/** One event in wire form. `data` must not contain a line break (JSON.stringify output doesn't). */
export function formatSseEvent(event: string | null, data: string): string {
  return event === null ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}

/** Parses one event's text (without or with its terminating blank line). */
export function parseSseEvent(text: string): SseEvent {
  let event: string | null = null;
  let data: string | null = null;
  let i = 0;
  const n = text.length;
  while (i < n) {
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === LF || c === CR) break;
      j++;
    }
    if (j > i && text.charCodeAt(i) !== 0x3a /* ':' comment */) {
      const colon = text.indexOf(':', i);
      let field: string;
      let value: string;
      if (colon < 0 || colon > j) {
        field = text.slice(i, j);
        value = '';
      } else {
        field = text.slice(i, colon);
        let v = colon + 1;
        if (v < j && text.charCodeAt(v) === 0x20) v++;
        value = text.slice(v, j);
      }
      if (field === 'data') data = data === null ? value : `${data}\n${value}`;
      else if (field === 'event') event = value;
    }
    // Step over the line ending: \r\n, \n or \r.
    if (j < n && text.charCodeAt(j) === CR && j + 1 < n && text.charCodeAt(j + 1) === LF) i = j + 2;
    else i = j + 1;
  }
  return { event, data: data ?? '' };
}

/** Splits a whole stream's text into events (tests, tools; not the hot path). */
export function parseSseStream(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    const ev = parseSseEvent(block);
    if (ev.event === null && ev.data === '' && !/^data/m.test(block)) continue;
    out.push(ev);
  }
  return out;
}

/**
 * Index just past the last blank line in `buf[from..]` (the end of the last complete event),
 * or -1. Walks back line by line from the end: in a stream cut at event ends this is one step.
 */
export function lastEventEnd(buf: Buffer, from = 0): number {
  let i = buf.length - 1;
  while (i >= from) {
    i = buf.lastIndexOf(LF, i);
    if (i < from) return -1;
    if (i - 1 >= from && buf[i - 1] === LF) return i + 1;
    if (i - 2 >= from && buf[i - 1] === CR && buf[i - 2] === LF) return i + 1;
    i--;
  }
  return -1;
}

/** Index just past the blank line ending the event containing `pos`, or `buf.length`. */
export function eventEndAfter(buf: Buffer, pos: number): number {
  let i = pos;
  const n = buf.length;
  while (i < n) {
    i = buf.indexOf(LF, i);
    if (i < 0) return n;
    if (i + 1 < n && buf[i + 1] === LF) return i + 2;
    if (i + 2 < n && buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
    i++;
  }
  return n;
}

/**
 * Where a blank line straddles two chunks: `tail` is the held data's last bytes, `head` the new
 * chunk. Returns the index in `head` just past the blank line, or -1.
 */
export function seamEventEnd(tail: Buffer, head: Buffer): number {
  const t1 = tail.length >= 1 ? tail[tail.length - 1] : -1;
  const t2 = tail.length >= 2 ? tail[tail.length - 2] : -1;
  const h0 = head.length >= 1 ? head[0] : -1;
  const h1 = head.length >= 2 ? head[1] : -1;
  if (t1 === LF && h0 === LF) return 1; // \n | \n
  if (t1 === LF && h0 === CR && h1 === LF) return 2; // \n | \r\n
  if (t2 === LF && t1 === CR && h0 === LF) return 1; // \n\r | \n
  return -1;
}

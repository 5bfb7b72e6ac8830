import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { extractFeatures, isWardenError, type UsageEvent } from '../core/index.js';
import { looksLikeFeaturesV1, type EngineEvent } from './account-state.js';
import { decodeBatch, readEventBatches } from './event-reader.js';
import type { LineIssue, ReadMeter } from './jsonl-input.js';
import { event, ipOf, PROMPTS, T0 } from './test-world.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const FIELDS = ['account_id', 'key_id', 'ip', 'forwarded_for', 'user_agent', 'end_user_id', 'country', 'asn', 'input_tokens', 'output_tokens', 'turns', 'tools', 'system', 'prompt', 'features'] as const;
const FEATURE_FIELDS = ['v', 'cot', 'bench', 'code', 'tool_trace', 'probe', 'lang', 'task', 'turns', 'tools', 'sys_chars', 'tpl_framed', 'marks', 'tpl', 'sys_tpl', 'simhash'] as const;

/** What the engine would read of an event parsed in full: the `EngineEvent` fields, features as the engine reads them. */
function projected(e: UsageEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FIELDS) out[k] = e[k];
  const f = e.features;
  if (f) out.features = looksLikeFeaturesV1(f) ? Object.fromEntries(FEATURE_FIELDS.map((k) => [k, f[k]])) : 'ignored';
  return out;
}

function decoded(ev: EngineEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FIELDS) out[k] = ev[k];
  const f = ev.features as Record<string, unknown> | undefined;
  if (f) out.features = f.v === 1 ? Object.fromEntries(FEATURE_FIELDS.map((k) => [k, f[k]])) : 'ignored';
  return out;
}

/** Events of every shape the reader must carry: with and without features, raw text, odd features, duplicates, bad lines. */
function file(gzip = false): { path: string; expected: { t: number; e: Record<string, unknown> }[]; bad: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-reader-'));
  dirs.push(dir);
  const lines: string[] = [];
  const expected: { t: number; e: Record<string, unknown> }[] = [];
  const bad: number[] = [];
  const feats = (k: number) => ({ ...extractFeatures({ system: k % 3 ? PROMPTS.cotSystem : undefined, lastUser: k % 2 ? PROMPTS.mcq(k) : PROMPTS.chat(k), turns: 1 + (k % 4), tools: k % 5 }) });
  for (let k = 0; k < 5000; k++) {
    const t = T0 + k * 997 + (k % 7);
    let e: UsageEvent;
    if (k % 11 === 0) e = event(`a${k % 13}`, t, { prompt: PROMPTS.cot(k), system: PROMPTS.cotSystem, turns: 1 });
    else if (k % 17 === 0) e = event(`a${k % 13}`, t, { features: { v: 2, whatever: true } as unknown as UsageEvent['features'] });
    else if (k % 19 === 0) e = event(`a${k % 13}`, t, { features: { ...feats(k), tpl: null, sys_tpl: null, simhash: null, marks: ['x', 'y:z'] } as UsageEvent['features'] });
    // Version 1 in name, but not as the engine reads it (a SimHash of 3 digits): ignored.
    else if (k % 37 === 0) e = event(`a${k % 13}`, t, { features: { ...feats(k), simhash: 'abc' } as UsageEvent['features'] });
    else e = event(`a${k % 13}`, t, { ip: ipOf(k % 2 ? 'vpn' : 'residential', k % 3 ? 'US' : 'DE', k % 29), key_id: `k${k % 7}`, user_agent: k % 2 ? 'curl/8' : undefined, country: k % 4 ? 'US' : undefined, asn: k % 5 ? 64500 + (k % 9) : undefined, end_user_id: k % 23 === 0 ? `u${k}` : undefined, forwarded_for: k % 31 === 0 ? '10.0.0.1' : undefined, input_tokens: k, output_tokens: 2 * k, tools: k % 3, features: feats(k) as UsageEvent['features'] });
    // A text timestamp in another form (an offset) still reads as the same instant.
    if (k === 4242) e.ts = new Date(t).toISOString().replace('Z', '+00:00');
    lines.push(JSON.stringify(e));
    expected.push({ t, e: projected(e) });
    if (k % 1000 === 500) {
      // A re-imported event: skipped.
      lines.push(JSON.stringify(e));
    }
    // Re-imported after the first hour's ids have moved to the older set: still skipped.
    if (k === 3700) lines.push(lines.find((l) => l.includes(`"ts":"${new Date(T0 + 3500 * 997).toISOString().slice(0, 19)}`))!);
    if (k % 1500 === 700) {
      lines.push('{"event_id": "broken"');
      bad.push(lines.length);
    }
  }
  const text = lines.join('\n') + '\n';
  const path = join(dir, gzip ? 'events.jsonl.gz' : 'events.jsonl');
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return { path, expected, bad };
}

async function readAll(path: string, thread: boolean, strict = false) {
  const issues: LineIssue[] = [];
  const meter: ReadMeter = { read: 0, total: 0 };
  const got: { t: number; e: Record<string, unknown> }[] = [];
  let batches = 0;
  for await (const b of readEventBatches(path, { onIssue: (i) => issues.push(i), meter, thread, strict })) {
    batches++;
    decodeBatch(b, (ev, t) => got.push({ t, e: decoded(ev) }));
  }
  return { got, issues, meter, batches };
}

describe('event reader', () => {
  for (const thread of [false, true]) {
    it(`hands the engine exactly the fields it reads of every valid event, once, in order (${thread ? 'reader thread' : 'this thread'})`, async () => {
      const f = file();
      const r = await readAll(f.path, thread);
      expect(r.batches).toBeGreaterThan(1);
      expect(r.got.length).toBe(f.expected.length);
      for (let i = 0; i < f.expected.length; i++) expect(r.got[i]).toEqual(f.expected[i]);
      expect(r.issues.map((i) => i.line)).toEqual(f.bad);
      expect(r.issues[0]!.message).toMatch(/not JSON/);
      expect(r.meter.read).toBe(r.meter.total);
    });
  }

  it('reads gzip on the reader thread as in this thread', async () => {
    const f = file(true);
    const [a, b] = await Promise.all([readAll(f.path, false), readAll(f.path, true)]);
    expect(b.got).toEqual(a.got);
    expect(b.got.length).toBe(f.expected.length);
  });

  it('stops at the first malformed line in strict mode, with the same error from the reader thread', async () => {
    const f = file();
    const errs = await Promise.all([false, true].map((thread) => readAll(f.path, thread, true).catch((e: unknown) => e)));
    for (const e of errs) {
      expect(isWardenError(e)).toBe(true);
      expect((e as Error).message).toContain(`events.jsonl:${f.bad[0]}: not JSON`);
    }
    expect((errs[1] as Error).message).toBe((errs[0] as Error).message);
  });

  it('reports every line of a file of malformed lines, a bounded number per batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-reader-'));
    dirs.push(dir);
    const path = join(dir, 'events.jsonl');
    writeFileSync(path, Array.from({ length: 5000 }, (_, i) => (i % 2 ? '{' : '[1]')).join('\n') + '\n');
    for (const thread of [false, true]) {
      const issues: LineIssue[] = [];
      let most = 0;
      for await (const b of readEventBatches(path, { onIssue: (i) => issues.push(i), meter: { read: 0, total: 0 }, thread })) {
        expect(b.n).toBe(0);
        most = Math.max(most, b.issues.length);
      }
      expect(issues.map((i) => i.line)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
      expect(most).toBeLessThanOrEqual(2048);
    }
  });

  it('says so when the file is missing', async () => {
    const err = await readAll('/nonexistent/events.jsonl', true).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/does not exist/);
  });

  /** 50,000 small events: about 25 batches, more than the reader may send ahead. */
  function long(): string {
    const dir = mkdtempSync(join(tmpdir(), 'warden-reader-'));
    dirs.push(dir);
    const path = join(dir, 'events.jsonl');
    writeFileSync(path, Array.from({ length: 50_000 }, (_, k) => JSON.stringify(event(`a${k % 97}`, T0 + k * 50, { input_tokens: k }))).join('\n') + '\n');
    return path;
  }

  it('waits for a slow analysis and loses nothing', async () => {
    const meter: ReadMeter = { read: 0, total: 0 };
    const tokens: number[] = [];
    let batches = 0;
    for await (const b of readEventBatches(long(), { onIssue: () => {}, meter, thread: true })) {
      decodeBatch(b, (ev) => tokens.push(ev.input_tokens!));
      if (++batches % 4 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(batches).toBeGreaterThan(20);
    expect(tokens).toEqual(Array.from({ length: 50_000 }, (_, k) => k));
    expect(meter.read).toBe(meter.total);
  });

  it('stops the reader thread when the analysis stops early', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      const meter: ReadMeter = { read: 0, total: 0 };
      let n = 0;
      for await (const b of readEventBatches(long(), { onIssue: () => {}, meter, thread: true })) {
        n += b.n;
        break;
      }
      expect(n).toBe(2048);
      expect(terminate).toHaveBeenCalledTimes(1);
    } finally {
      terminate.mockRestore();
    }
  });
});


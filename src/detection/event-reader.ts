/**
 * Reading events.jsonl for batch analysis, optionally on a thread of its own.
 *
 * Reading, parsing and checking the lines (and dropping re-imported event ids) took about a
 * third of the analysis at a million accounts, on one core while the other idled. The reader
 * thread does that part and hands over, per batch of events, only the fields the engine reads
 * (`EngineEvent`), as columns: the event times, numbers in a Float64Array, strings once per
 * batch with indices into them. The analysis thread rebuilds small objects from them, which
 * costs a fraction of parsing the lines.
 *
 * The same encoder and decoder run when the reader stays on the calling thread (small files),
 * so both ways hand the engine the same events.
 */
import { existsSync, statSync } from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ValidationError, WardenError, type UsageEvent } from '../core/index.js';
import { looksLikeFeaturesV1, type EngineEvent, type EngineFeatures } from './account-state.js';
import { createEventClock } from './event-time.js';
import { FastUsageEvent, jsonLines, MalformedLine, type LineIssue, type ReadMeter } from './jsonl-input.js';
import { moduleWorker } from './module-worker.js';

/** Re-importing the same event id is a no-op (interchange.md): ids are remembered for an hour of event time. */
const DEDUP_WINDOW_MS = 3_600_000;
/** Events per batch, and the characters of strings after which a batch is sent early (raw prompts). */
const BATCH_EVENTS = 2048;
const BATCH_CHARS = 4 << 20;
/** Batches the reader thread may be ahead of the analysis. */
const IN_FLIGHT = 8;
/**
 * The reader thread's heap limit by default, MiB: a few batches and the last hour's event ids
 * (about 80 bytes each: some 6 million ids). V8 lets a heap grow towards its limit before it
 * collects, so a larger limit costs memory even when unused (2,048 added about 90 MB at 1M).
 */
export const READER_HEAP_MB = 512;
/** The reader's heap limit beside an analysis heap limit of `analysisHeapMb`: a sixth of it, at least READER_HEAP_MB. */
export function readerHeapFor(analysisHeapMb: number): number {
  return Math.max(READER_HEAP_MB, Math.floor(analysisHeapMb / 6));
}
/** Events files at least this large are read on a thread of their own (a thread costs ~0.1 s to start). */
export const READER_THREAD_MIN_BYTES = 32 << 20;

// String columns (indices into `strs`; ABSENT, NULL) and number columns (NaN when absent).
const S_ACCOUNT = 0, S_KEY = 1, S_IP = 2, S_UA = 3, S_COUNTRY = 4, S_END_USER = 5, S_FORWARDED = 6, S_PROMPT = 7, S_SYSTEM = 8;
const S_TPL = 9, S_SYS_TPL = 10, S_SIMHASH = 11, S_LANG = 12, S_TASK = 13, S_MARKS = 14;
const S_COLS = 15;
const N_ASN = 0, N_IN = 1, N_OUT = 2, N_TURNS = 3, N_TOOLS = 4;
const N_SYS_CHARS = 5, N_F_TURNS = 6, N_F_TOOLS = 7, N_COT = 8, N_CODE = 9, N_TOOL_TRACE = 10, N_BENCH = 11, N_PROBE = 12;
const N_COLS = 13;
const ABSENT = -1;
const NULL = -2;
/** What an event's features are: none, version-1 features (tpl_framed false / true), or something the engine ignores. */
const K_NONE = 0, K_V1 = 1, K_V1_FRAMED = 2, K_OTHER = 3;
/** Features present but not version-1 as the engine reads them: the engine ignores the event's content. */
const OTHER_FEATURES: EngineEvent['features'] = Object.freeze({ v: -1 });

/** A batch of events as the reader hands it over (transferable, see the module comment). */
export interface EventBatch {
  n: number;
  /** Event time, epoch ms. */
  t: Float64Array;
  kind: Uint8Array;
  s: Int32Array;
  num: Float64Array;
  strs: string[];
  /** Malformed lines met since the previous batch (they travel with the events, under the same limit). */
  issues: LineIssue[];
  /** Bytes of the file read when the batch was made (for progress). */
  read: number;
  total: number;
}

class BatchEncoder {
  private t = new Float64Array(BATCH_EVENTS);
  private kind = new Uint8Array(BATCH_EVENTS);
  private s = new Int32Array(BATCH_EVENTS * S_COLS);
  private num = new Float64Array(BATCH_EVENTS * N_COLS);
  private strs: string[] = [];
  private index = new Map<string, number>();
  private chars = 0;
  n = 0;
  issues: LineIssue[] = [];

  get full(): boolean {
    return this.n === BATCH_EVENTS || this.chars >= BATCH_CHARS || this.issues.length >= BATCH_EVENTS;
  }

  /** A repeated string (an account, address, client, template) is sent once per batch. */
  private str(v: unknown, intern: boolean): number {
    if (v === undefined) return ABSENT;
    if (v === null) return NULL;
    const text = v as string;
    if (!intern) {
      this.chars += text.length;
      return this.strs.push(text) - 1;
    }
    let i = this.index.get(text);
    if (i === undefined) {
      i = this.strs.push(text) - 1;
      this.index.set(text, i);
      this.chars += text.length;
    }
    return i;
  }

  add(e: UsageEvent, t: number): void {
    const i = this.n++;
    const so = i * S_COLS;
    const no = i * N_COLS;
    const s = this.s;
    const num = this.num;
    this.t[i] = t;
    s[so + S_ACCOUNT] = this.str(e.account_id, true);
    s[so + S_KEY] = this.str(e.key_id, true);
    s[so + S_IP] = this.str(e.ip, true);
    s[so + S_UA] = this.str(e.user_agent, true);
    s[so + S_COUNTRY] = this.str(e.country, true);
    s[so + S_END_USER] = this.str(e.end_user_id, true);
    s[so + S_FORWARDED] = this.str(e.forwarded_for, true);
    s[so + S_PROMPT] = this.str(e.prompt, false);
    s[so + S_SYSTEM] = this.str(e.system, false);
    num[no + N_ASN] = e.asn ?? NaN;
    num[no + N_IN] = e.input_tokens ?? NaN;
    num[no + N_OUT] = e.output_tokens ?? NaN;
    num[no + N_TURNS] = e.turns ?? NaN;
    num[no + N_TOOLS] = e.tools ?? NaN;
    const f = e.features;
    if (f === undefined) {
      this.kind[i] = K_NONE;
    } else if (!looksLikeFeaturesV1(f)) {
      this.kind[i] = K_OTHER;
    } else {
      this.kind[i] = f.tpl_framed ? K_V1_FRAMED : K_V1;
      s[so + S_TPL] = this.str(f.tpl, true);
      s[so + S_SYS_TPL] = this.str(f.sys_tpl, true);
      s[so + S_SIMHASH] = this.str(f.simhash, true);
      s[so + S_LANG] = this.str(f.lang, true);
      s[so + S_TASK] = this.str(f.task, true);
      // Marks are a short list of labels: sent as JSON, decoded once per batch and list.
      s[so + S_MARKS] = this.str(JSON.stringify(f.marks), true);
      num[no + N_SYS_CHARS] = f.sys_chars;
      num[no + N_F_TURNS] = f.turns;
      num[no + N_F_TOOLS] = f.tools;
      num[no + N_COT] = f.cot;
      num[no + N_CODE] = f.code;
      num[no + N_TOOL_TRACE] = f.tool_trace;
      num[no + N_BENCH] = f.bench;
      num[no + N_PROBE] = f.probe;
    }
  }

  /** The batch so far (its arrays are the batch's own: they may be transferred). */
  take(meter: ReadMeter): EventBatch {
    const n = this.n;
    const b: EventBatch = { n, t: this.t.slice(0, n), kind: this.kind.slice(0, n), s: this.s.slice(0, n * S_COLS), num: this.num.slice(0, n * N_COLS), strs: this.strs, issues: this.issues, read: meter.read, total: meter.total };
    this.strs = [];
    this.issues = [];
    this.index.clear();
    this.chars = 0;
    this.n = 0;
    return b;
  }
}

/**
 * The valid events of a file, in batches: parsed, checked, re-imported ids dropped, times read.
 * Malformed lines go to `onIssue` (strict: the first one throws).
 */
async function* encodeEvents(file: string, strict: boolean, meter: ReadMeter): AsyncGenerator<EventBatch> {
  const clock = createEventClock();
  const enc = new BatchEncoder();
  let seen = new Set<string>();
  let older = new Set<string>();
  let windowEnd = -1;
  for await (const e of jsonLines(file, FastUsageEvent, strict, meter)) {
    if (e instanceof MalformedLine) {
      enc.issues.push(e.issue);
      if (enc.full) yield enc.take(meter);
      continue;
    }
    const t = clock.parse(e.ts);
    // (Every timestamp the schema accepts parses; the engine skips an event whose time does not.)
    if (windowEnd < 0 && !Number.isNaN(t)) windowEnd = t + DEDUP_WINDOW_MS;
    if (t >= windowEnd) {
      older = seen;
      seen = new Set();
      windowEnd = t + DEDUP_WINDOW_MS;
    }
    if (seen.has(e.event_id) || older.has(e.event_id)) continue;
    seen.add(e.event_id);
    enc.add(e, t);
    if (enc.full) yield enc.take(meter);
  }
  if (enc.n > 0 || enc.issues.length > 0) yield enc.take(meter);
}

/** Calls `each` with every event of a batch, as the engine reads it, and its time. */
export function decodeBatch(b: EventBatch, each: (ev: EngineEvent, t: number) => void): void {
  const { s, num, strs, kind } = b;
  const str = (i: number): string | undefined => (i >= 0 ? strs[i] : undefined);
  const strOrNull = (i: number): string | null | undefined => (i >= 0 ? strs[i] : i === NULL ? null : undefined);
  const count = (x: number): number | undefined => (x === x ? x : undefined);
  let marks: Map<number, string[]> | null = null;
  for (let i = 0; i < b.n; i++) {
    const so = i * S_COLS;
    const no = i * N_COLS;
    const k = kind[i]!;
    let features: EngineEvent['features'];
    if (k === K_V1 || k === K_V1_FRAMED) {
      const mi = s[so + S_MARKS]!;
      marks ??= new Map();
      let m = marks.get(mi);
      if (m === undefined) marks.set(mi, (m = JSON.parse(strs[mi]!) as string[]));
      const f: EngineFeatures = {
        v: 1,
        cot: num[no + N_COT]!,
        bench: num[no + N_BENCH]!,
        code: num[no + N_CODE]!,
        tool_trace: num[no + N_TOOL_TRACE]!,
        probe: num[no + N_PROBE]!,
        lang: strs[s[so + S_LANG]!]!,
        task: strs[s[so + S_TASK]!]! as EngineFeatures['task'],
        turns: num[no + N_F_TURNS]!,
        tools: num[no + N_F_TOOLS]!,
        sys_chars: num[no + N_SYS_CHARS]!,
        tpl_framed: k === K_V1_FRAMED,
        marks: m as EngineFeatures['marks'],
        tpl: strOrNull(s[so + S_TPL]!) as string | null,
        sys_tpl: strOrNull(s[so + S_SYS_TPL]!) as string | null,
        simhash: strOrNull(s[so + S_SIMHASH]!) as string | null,
      };
      features = f;
    } else {
      features = k === K_OTHER ? OTHER_FEATURES : undefined;
    }
    const ev = {
      account_id: str(s[so + S_ACCOUNT]!),
      key_id: str(s[so + S_KEY]!),
      ip: str(s[so + S_IP]!),
      user_agent: str(s[so + S_UA]!),
      country: str(s[so + S_COUNTRY]!),
      end_user_id: str(s[so + S_END_USER]!),
      forwarded_for: str(s[so + S_FORWARDED]!),
      prompt: str(s[so + S_PROMPT]!),
      system: str(s[so + S_SYSTEM]!),
      asn: count(num[no + N_ASN]!),
      input_tokens: count(num[no + N_IN]!),
      output_tokens: count(num[no + N_OUT]!),
      turns: count(num[no + N_TURNS]!),
      tools: count(num[no + N_TOOLS]!),
      features,
    } as EngineEvent;
    each(ev, b.t[i]!);
  }
}

export interface ReadEventsOptions {
  onIssue: (i: LineIssue) => void;
  strict?: boolean;
  /** Filled in as the file is read (bytes read of its size). */
  meter: ReadMeter;
  /** Read on a thread of its own (default: for files of READER_THREAD_MIN_BYTES or more). */
  thread?: boolean;
  /** That thread's heap limit, MiB (default READER_HEAP_MB). */
  heapMb?: number;
}

type ReaderMessage = { type: 'batch'; b: EventBatch } | { type: 'end'; read: number; total: number } | { type: 'error'; message: string; validation: boolean; unavailable?: boolean };

/** The events of a file in batches (see the module comment), read on this thread or another. */
export async function* readEventBatches(file: string, o: ReadEventsOptions): AsyncGenerator<EventBatch> {
  if (!existsSync(file)) throw new ValidationError(`${file} does not exist: give the path of a JSON Lines file (.jsonl or .jsonl.gz).`);
  const thread = o.thread ?? statSync(file).size >= READER_THREAD_MIN_BYTES;
  if (!thread) {
    for await (const b of encodeEvents(file, o.strict ?? false, o.meter)) {
      for (const i of b.issues) o.onIssue(i);
      yield b;
    }
    return;
  }
  const heapMb = o.heapMb ?? READER_HEAP_MB;
  const worker = moduleWorker(import.meta.url, {
    workerData: { wardenEventReader: { file, strict: o.strict ?? false } },
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 64 },
    stdout: false,
    stderr: false,
  });
  const queue: ReaderMessage[] = [];
  let wake: (() => void) | null = null;
  const push = (m: ReaderMessage): void => {
    queue.push(m);
    wake?.();
  };
  worker.on('message', push);
  worker.on('error', (e: Error & { code?: string }) =>
    push(
      e.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? { type: 'error', message: `the event reader ran out of its ${heapMb} MiB heap reading ${file}: a line of hundreds of megabytes, or millions of events within one hour of event time (their ids are kept for an hour to drop re-imported events), or events far out of time order; sort the file by time, split it, or give warden analyze a larger --max-heap (the reader gets a sixth of it, at least ${READER_HEAP_MB} MiB)`, validation: false, unavailable: true }
        : { type: 'error', message: e.message, validation: false },
    ),
  );
  // What the reader posted before it stopped comes first: an exit read here came without an end.
  worker.on('exit', (code) => push({ type: 'error', message: `the event reader stopped (exit code ${code}) before the end of ${file}`, validation: false }));
  try {
    for (;;) {
      const m = queue.shift();
      if (m === undefined) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      if (m.type === 'batch') {
        for (const i of m.b.issues) o.onIssue(i);
        o.meter.read = m.b.read;
        o.meter.total = m.b.total;
        worker.postMessage('ack');
        yield m.b;
      } else if (m.type === 'end') {
        o.meter.read = m.read;
        o.meter.total = m.total;
        return;
      } else throw m.validation ? new ValidationError(m.message) : m.unavailable ? new WardenError('UNAVAILABLE', m.message) : new Error(m.message);
    }
  } finally {
    worker.removeAllListeners();
    // An error the reader raises while it is being stopped is of no interest any more.
    worker.on('error', () => {});
    worker.terminate().catch(() => {});
  }
}

/** The reader thread: sends batches, at most IN_FLIGHT ahead of the analysis. */
async function runReader(job: { file: string; strict: boolean }): Promise<void> {
  const port = parentPort!;
  let inFlight = 0;
  let resume: (() => void) | null = null;
  port.on('message', () => {
    inFlight--;
    resume?.();
  });
  const meter: ReadMeter = { read: 0, total: 0 };
  try {
    for await (const b of encodeEvents(job.file, job.strict, meter)) {
      port.postMessage({ type: 'batch', b } satisfies ReaderMessage, [b.t.buffer as ArrayBuffer, b.kind.buffer as ArrayBuffer, b.s.buffer as ArrayBuffer, b.num.buffer as ArrayBuffer]);
      if (++inFlight >= IN_FLIGHT) {
        await new Promise<void>((r) => (resume = r));
        resume = null;
      }
    }
    port.postMessage({ type: 'end', read: meter.read, total: meter.total } satisfies ReaderMessage);
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message, validation: e instanceof ValidationError } satisfies ReaderMessage);
  }
  port.close();
}

const job = (workerData as { wardenEventReader?: { file: string; strict: boolean } } | null)?.wardenEventReader;
if (!isMainThread && job) void runReader(job);

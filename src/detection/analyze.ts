/**
 * Batch mode (`warden analyze`): streams accounts.jsonl and events.jsonl (optionally .gz)
 * through the engine and writes verdicts.json as a stream. A malformed line is reported as
 * file:line and skipped (counted in `summary.skipped_lines`); `strict` makes the first one fatal.
 */
import { createWriteStream, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { ValidationError, type Account, type IpIntel, type Screener, type Verdicts, type Watchlist } from '../core/index.js';
import { createScreener } from '../intel/index.js';
import { DetectionEngine } from './engine.js';
import { emailDomainOf } from './linkage.js';
import { Interner } from './sketches.js';
import type { EngineEvent } from './account-state.js';
import { decodeBatch, readEventBatches } from './event-reader.js';
import { FastAccount, readJsonLines, type LineIssue, type ReadMeter } from './jsonl-input.js';

export type { LineIssue, ReadMeter } from './jsonl-input.js';
export { readJsonLines } from './jsonl-input.js';

export interface AnalyzeProgress {
  phase: 'accounts' | 'events' | 'clusters' | 'write';
  accounts: number;
  events: number;
  skipped: number;
  /**
   * How far the phase is, 0..1: the share of the file read (accounts, events; compressed bytes
   * for .gz), of the verdicts written (write); 0 while the clusters are built.
   */
  fraction: number;
}

export interface AnalyzeOptions {
  accountsFile: string;
  eventsFile: string;
  watchlist?: Watchlist;
  outDir: string;
  onProgress?: (p: AnalyzeProgress) => void;
  /** Called for each malformed line (it is skipped). */
  onIssue?: (i: LineIssue) => void;
  /** Make the first malformed line fatal. */
  strict?: boolean;
  intel?: IpIntel;
  screener?: Screener;
  /** A previous run's verdicts.json: clusters keep the id of the earlier cluster they overlap most. */
  previousVerdictsFile?: string;
  /** Read the events on a thread of their own (default: for large files, see event-reader.ts). */
  readerThread?: boolean;
  /** That thread's heap limit, MiB (default: event-reader.ts's READER_HEAP_MB). */
  readerHeapMb?: number;
  /** Clock for `generated_at` (tests). */
  now?: () => Date;
}

export interface AnalyzeResult {
  verdictsFile: string;
  summary: Verdicts['summary'];
  flagged: number;
  clusters: number;
  seconds: number;
}

/** Cluster memberships of a previous verdicts.json. */
export function previousClusters(file: string): Map<string, string[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ValidationError(`${file}: not a readable verdicts.json (${(e as Error).message})`);
  }
  const clusters = (raw as { clusters?: { cluster_id?: unknown; members?: unknown }[] }).clusters ?? [];
  const out = new Map<string, string[]>();
  for (const c of clusters) if (typeof c.cluster_id === 'string' && Array.isArray(c.members)) out.set(c.cluster_id, c.members.filter((m): m is string => typeof m === 'string'));
  return out;
}

/** Writes a chunk, waiting when the stream's buffer is full. */
async function write(out: NodeJS.WritableStream, s: string): Promise<void> {
  if (!out.write(s)) await once(out, 'drain');
}

/**
 * The account as detection keeps it: the e-mail address reduced to its domain (the part linkage,
 * screening and indicators read), without the signup user agent (nothing reads it). The engine
 * holds every account for the whole run: at a million accounts these two strings alone cost
 * about 200 MB.
 */
function slim(a: Account, shared: Interner): Account {
  const { email: _email, signup_user_agent: _ua, ...kept } = a;
  const domain = emailDomainOf(a);
  // Values many accounts repeat are kept once.
  if (domain !== undefined) kept.email_domain = shared.get(domain);
  if (kept.declared_country !== undefined) kept.declared_country = shared.get(kept.declared_country);
  if (kept.payment_country !== undefined) kept.payment_country = shared.get(kept.payment_country);
  if (kept.org_id !== undefined) kept.org_id = shared.get(kept.org_id);
  if (kept.declared_use !== undefined) kept.declared_use = shared.get(kept.declared_use) as Account['declared_use'];
  if (kept.verification !== undefined) kept.verification = shared.get(kept.verification) as Account['verification'];
  return kept;
}

export async function analyze(opts: AnalyzeOptions): Promise<AnalyzeResult> {
  const t0 = performance.now();
  let skipped = 0;
  const onIssue = (i: LineIssue): void => {
    skipped++;
    opts.onIssue?.(i);
  };
  const screener = opts.screener ?? (opts.watchlist ? createScreener({ watchlist: opts.watchlist, sanctions: false }) : undefined);
  const engine = new DetectionEngine({
    ...(opts.intel ? { intel: opts.intel } : {}),
    ...(screener ? { screener } : {}),
    ...(opts.watchlist ? { watchlist: opts.watchlist } : {}),
    ...(opts.previousVerdictsFile ? { previousClusters: previousClusters(opts.previousVerdictsFile) } : {}),
  });
  let accounts = 0;
  const shared = new Interner(65_536);
  const meter: ReadMeter = { read: 0, total: 0 };
  const progress = (phase: AnalyzeProgress['phase'], fraction = meter.total > 0 ? Math.min(1, meter.read / meter.total) : 0): void =>
    opts.onProgress?.({ phase, accounts, events: engine.eventCount, skipped, fraction });
  for await (const a of readJsonLines(opts.accountsFile, FastAccount, onIssue, opts.strict, meter)) {
    engine.addAccount(slim(a, shared));
    if (++accounts % 50_000 === 0) progress('accounts');
  }
  progress('accounts', 1);
  // Events are read, checked and de-duplicated by the reader (event-reader.ts), on a thread of
  // its own for large files.
  let last = 0;
  const ingest = (ev: EngineEvent, t: number): void => engine.ingestAt(ev, t);
  for await (const b of readEventBatches(opts.eventsFile, { onIssue, ...(opts.strict ? { strict: true } : {}), meter, ...(opts.readerThread !== undefined ? { thread: opts.readerThread } : {}), ...(opts.readerHeapMb !== undefined ? { heapMb: opts.readerHeapMb } : {}) })) {
    decodeBatch(b, ingest);
    if (engine.eventCount - last >= 100_000) {
      last = engine.eventCount;
      progress('events');
    }
  }
  progress('events', 1);
  progress('clusters', 0);
  // Verdicts are made and written one at a time (a million of them need not be in memory).
  const finishing = engine.finishing();
  progress('write', 0);
  mkdirSync(opts.outDir, { recursive: true });
  const verdictsFile = join(opts.outDir, 'verdicts.json');
  const out = createWriteStream(verdictsFile);
  const summary: Verdicts['summary'] = { accounts, events: engine.eventCount, skipped_lines: skipped, degraded_detectors: engine.degradedDetectors() };
  await write(out, `{"generated_at":${JSON.stringify((opts.now?.() ?? new Date()).toISOString())},"summary":${JSON.stringify(summary)},"accounts":[\n`);
  let flagged = 0;
  let i = 0;
  // Verdicts go out in batches of about 256 KB: one write (and one wait) per verdict cost a
  // promise each, a million of them.
  let batch = '';
  for (const v of finishing.accounts()) {
    if (v.recommended_action === 'step_up' || v.recommended_action === 'block') flagged++;
    batch += (i++ > 0 ? ',\n' : '') + JSON.stringify(v);
    if (batch.length >= 262_144) {
      await write(out, batch);
      batch = '';
    }
    if (i % 50_000 === 0) progress('write', Math.min(1, i / Math.max(1, accounts)));
  }
  if (batch.length > 0) await write(out, batch);
  progress('write', 1);
  const clusters = finishing.clusters();
  await write(out, '\n],"clusters":[\n');
  for (let i = 0; i < clusters.length; i++) await write(out, (i > 0 ? ',\n' : '') + JSON.stringify(clusters[i]));
  out.end('\n]}\n');
  await once(out, 'finish');
  return { verdictsFile, summary, flagged, clusters: clusters.length, seconds: (performance.now() - t0) / 1000 };
}

/**
 * `warden analyze` runs the batch analysis in a worker thread, for two reasons:
 *
 * - memory limits of its own: a heap limit the user sets (`--max-heap`), whatever Node's default
 *   is, and a young generation sized for the per-event garbage (every parsed line dies young);
 * - an out-of-memory stop is usually reported as what it is, with the limit to raise, instead of
 *   a V8 abort that takes the process down (one very large allocation, such as a hash table of
 *   millions of entries growing, can still abort it: measured at 1M accounts with a 3 GB limit).
 *
 * The worker opens its own IP intelligence and screener from plain options (the loaded
 * databases cannot cross threads) and posts progress, malformed lines and the result back.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { WardenError, type ErrorCode, type Watchlist } from '../core/index.js';
import { analyze, moduleWorker, readerHeapFor, type AnalyzeProgress, type AnalyzeResult, type LineIssue } from '../detection/index.js';
import { createScreener, openIpIntel } from '../intel/index.js';
import type { WardenConfig } from './config.js';

export interface AnalyzeJob {
  accountsFile: string;
  eventsFile: string;
  outDir: string;
  watchlist?: Watchlist;
  previousVerdictsFile?: string;
  strict?: boolean;
  /** Read the events on a thread of their own (default: for large files; tests force it). */
  readerThread?: boolean;
  /** The events reader thread's heap limit, MiB (`analyzeInWorker` sets a sixth of the analysis's, at least 512). */
  readerHeapMb?: number;
  /** The config's intelligence settings (custom networks, data directory). */
  intel: Pick<WardenConfig['intel'], 'custom_networks' | 'data_dir'>;
}

export interface AnalyzeLimits {
  /** Old-generation heap limit of the worker, MB. */
  maxHeapMb: number;
  /** Young-generation size of the worker, MB (three semi-spaces' worth in V8). */
  youngMb?: number;
}

/**
 * The analysis's heap limit by default, MiB: a million accounts with room for the collector, and
 * the whole process under 4 GB of memory. V8 lets the heap grow towards its limit before it
 * collects, so the limit sets the peak: at 1M accounts and 11.4M events the process peaked at
 * 3,778–3,848 MB with 3,200 (four runs; 3,846–4,046 MB with 3,400, as fast; 3,663 MB with 3,000,
 * 6% slower; docs/benchmarks.md).
 */
export const DEFAULT_MAX_HEAP_MB = 3200;
const DEFAULT_YOUNG_MB = 192;

type Message =
  | { type: 'progress'; p: AnalyzeProgress }
  | { type: 'issue'; i: LineIssue }
  | { type: 'done'; r: AnalyzeResult }
  | { type: 'error'; code: string | null; message: string; stack?: string };

/** Runs `analyze` in a worker thread with its own memory limits; progress and issues come back as they happen. */
export function analyzeInWorker(
  job: AnalyzeJob,
  limits: AnalyzeLimits,
  on: { progress?: (p: AnalyzeProgress) => void; issue?: (i: LineIssue) => void } = {},
): Promise<AnalyzeResult> {
  // The worker is this very module.
  const worker = moduleWorker(import.meta.url, {
    workerData: { ...job, readerHeapMb: job.readerHeapMb ?? readerHeapFor(limits.maxHeapMb) },
    resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb, maxYoungGenerationSizeMb: limits.youngMb ?? DEFAULT_YOUNG_MB },
    stdout: false,
    stderr: false,
  });
  return new Promise<AnalyzeResult>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void): void => {
      if (!settled) {
        settled = true;
        f();
      }
    };
    worker.on('message', (m: Message) => {
      if (m.type === 'progress') on.progress?.(m.p);
      else if (m.type === 'issue') on.issue?.(m.i);
      else if (m.type === 'done') settle(() => resolve(m.r));
      else
        settle(() => {
          const e = m.code ? new WardenError(m.code as ErrorCode, m.message) : new Error(m.message);
          if (m.stack) e.stack = m.stack;
          reject(e);
        });
    });
    worker.on('error', (e: Error & { code?: string }) =>
      settle(() =>
        reject(
          e.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new WardenError('UNAVAILABLE', `analyze ran out of memory at its heap limit of ${limits.maxHeapMb} MB; run it again with a larger --max-heap (for example --max-heap ${limits.maxHeapMb * 2}) on a machine with that much free memory.`)
            : e,
        ),
      ),
    );
    worker.on('exit', (code) => settle(() => reject(new Error(`the analysis worker stopped (exit code ${code}) before it finished`))));
  });
}

async function runJob(job: AnalyzeJob): Promise<void> {
  const port = parentPort!;
  const post = (m: Message): void => port.postMessage(m);
  try {
    const intel = openIpIntel({ customNetworks: job.intel.custom_networks, ...(job.intel.data_dir ? { dataDir: job.intel.data_dir } : {}), ...(job.watchlist ? { watchlist: job.watchlist } : {}) });
    const screener = createScreener({ ...(job.watchlist ? { watchlist: job.watchlist } : {}), ...(job.intel.data_dir ? { dataDir: job.intel.data_dir } : {}) });
    const r = await analyze({
      accountsFile: job.accountsFile,
      eventsFile: job.eventsFile,
      outDir: job.outDir,
      intel,
      screener,
      ...(job.watchlist ? { watchlist: job.watchlist } : {}),
      ...(job.previousVerdictsFile ? { previousVerdictsFile: job.previousVerdictsFile } : {}),
      ...(job.strict ? { strict: true } : {}),
      ...(job.readerThread !== undefined ? { readerThread: job.readerThread } : {}),
      ...(job.readerHeapMb !== undefined ? { readerHeapMb: job.readerHeapMb } : {}),
      onIssue: (i) => post({ type: 'issue', i }),
      onProgress: (p) => post({ type: 'progress', p }),
    });
    post({ type: 'done', r });
  } catch (e) {
    const err = e as Error & { code?: unknown };
    post({ type: 'error', code: e instanceof WardenError ? String(err.code) : null, message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
  }
}

if (!isMainThread && (workerData as AnalyzeJob | null)?.accountsFile) void runJob(workerData as AnalyzeJob);

/**
 * Batch mode (`warden analyze`): streams accounts.jsonl and events.jsonl (optionally .gz)
 * through the engine and writes verdicts.json as a stream. A malformed line is reported as
 * file:line and skipped (counted in `summary.skipped_lines`); `strict` makes the first one fatal.
 */
import { createReadStream, createWriteStream, existsSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { once } from 'node:events';
import { Account, DECISIONS, DECLARED_USES, ENDPOINTS, lineBatches, UsageEvent, VERIFICATION_LEVELS, ValidationError, Verdicts, type IpIntel, type Screener, type Watchlist } from '../core/index.js';
import { createScreener } from '../intel/index.js';
import { DetectionEngine } from './engine.js';
import { emailDomainOf } from './linkage.js';
import { Interner } from './sketches.js';

export interface LineIssue {
  file: string;
  line: number;
  message: string;
}

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

/** Where a reader is in its file: bytes read so far of the file's size (compressed bytes for .gz). */
export interface ReadMeter {
  read: number;
  total: number;
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

const DEDUP_WINDOW_MS = 3_600_000;

interface Schema<T> {
  safeParse(x: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/** Reads a JSON Lines file (gzip when the name ends in .gz), yielding valid records. */
export async function* readJsonLines<T>(file: string, schema: Schema<T>, onIssue: (i: LineIssue) => void, strict = false, meter?: ReadMeter): AsyncGenerator<T> {
  if (!existsSync(file)) throw new ValidationError(`${file} does not exist: give the path of a JSON Lines file (.jsonl or .jsonl.gz).`);
  const raw = createReadStream(file);
  if (meter) {
    meter.total = statSync(file).size;
    meter.read = 0;
  }
  const input: AsyncIterable<Buffer> = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  let line = 0;
  for await (const batch of lineBatches(input)) {
    if (meter) meter.read = raw.bytesRead;
    for (const text of batch) {
      line++;
      if (text.trim() === '') continue;
      let obj: unknown;
      let message: string | null = null;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        message = `not JSON (${(e as Error).message})`;
      }
      if (message === null) {
        const r = schema.safeParse(obj);
        if (r.success) {
          yield r.data;
          continue;
        }
        message = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(record)'}: ${i.message}`).join('; ');
      }
      const issue = { file, line, message: message! };
      if (strict) throw new ValidationError(`${file}:${line}: ${issue.message} (strict mode: fix the line or run without --strict to skip it)`);
      onIssue(issue);
    }
  }
}

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;
const STRING_FIELDS = ['account_id', 'org_id', 'key_id', 'forwarded_for', 'user_agent', 'end_user_id', 'model', 'decision_rule', 'system', 'prompt'] as const;
const COUNT_FIELDS = ['asn', 'input_tokens', 'output_tokens', 'turns', 'tools'] as const;

/**
 * The usage-event schema with a fast path: a record whose fields all have the documented types
 * is accepted after a few typeof checks (the full schema parse costs more than the detection
 * itself); anything else goes through the schema, which rejects it with its precise message.
 */
const FastUsageEvent: Schema<UsageEvent> = {
  safeParse(x: unknown) {
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>;
      let ok = typeof o.event_id === 'string' && o.event_id.length > 0 && typeof o.ts === 'string' && TS.test(o.ts) && !Number.isNaN(Date.parse(o.ts));
      for (let i = 0; ok && i < STRING_FIELDS.length; i++) {
        const v = o[STRING_FIELDS[i]!];
        if (v !== undefined && typeof v !== 'string') ok = false;
      }
      for (let i = 0; ok && i < COUNT_FIELDS.length; i++) {
        const v = o[COUNT_FIELDS[i]!];
        if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) ok = false;
      }
      if (ok && o.account_id === '') ok = false;
      if (ok && o.ip !== undefined) ok = typeof o.ip === 'string' && (IPV4.test(o.ip) || (o.ip.includes(':') && IPV6.test(o.ip)));
      if (ok && o.country !== undefined) ok = typeof o.country === 'string' && /^[A-Z]{2}$/.test(o.country);
      if (ok && o.features !== undefined) ok = typeof o.features === 'object' && o.features !== null && Number.isInteger((o.features as { v?: unknown }).v);
      // Fields the engine does not read but the schema constrains go through the schema.
      if (ok && (o.endpoint !== undefined || o.stream !== undefined || o.status !== undefined || o.latency_ms !== undefined || o.aborted !== undefined || o.decision !== undefined)) {
        ok = (o.stream === undefined || typeof o.stream === 'boolean') && (o.aborted === undefined || typeof o.aborted === 'boolean') && (o.status === undefined || Number.isInteger(o.status)) && (o.latency_ms === undefined || (typeof o.latency_ms === 'number' && o.latency_ms >= 0)) && (o.endpoint === undefined || ENDPOINT_SET.has(o.endpoint as string)) && (o.decision === undefined || DECISION_SET.has(o.decision as string));
      }
      if (ok) return { success: true, data: o as unknown as UsageEvent };
    }
    return UsageEvent.safeParse(x) as ReturnType<Schema<UsageEvent>['safeParse']>;
  },
};
const ENDPOINT_SET = new Set<string>(ENDPOINTS);
const DECISION_SET = new Set<string>(DECISIONS);

const ACCOUNT_STRING_FIELDS = new Set(['account_id', 'org_id', 'created_at', 'org_name', 'email', 'email_domain', 'declared_country', 'declared_use', 'verification', 'payment_fingerprint', 'payment_country', 'signup_ip', 'signup_user_agent', 'device_fingerprint']);
const COUNTRY = /^[A-Z]{2}$/;
const DECLARED_USE_SET = new Set<string>(DECLARED_USES);
const VERIFICATION_SET = new Set<string>(VERIFICATION_LEVELS);

/**
 * The account schema with the same kind of fast path: a record of documented string fields only,
 * each well-formed (an IPv4 signup address; anything else, owners included, goes through the
 * schema), is accepted as it is. Reading a million accounts through the schema alone took 17–36 s.
 */
const FastAccount: Schema<Account> = {
  safeParse(x: unknown) {
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>;
      let ok = typeof o.account_id === 'string' && o.account_id.length > 0 && typeof o.created_at === 'string' && TS.test(o.created_at) && !Number.isNaN(Date.parse(o.created_at));
      if (ok) {
        for (const k in o) {
          if (!ACCOUNT_STRING_FIELDS.has(k) || typeof o[k] !== 'string') {
            ok = false;
            break;
          }
        }
      }
      if (ok && o.org_id === '') ok = false;
      if (ok && o.declared_country !== undefined) ok = COUNTRY.test(o.declared_country as string);
      if (ok && o.payment_country !== undefined) ok = COUNTRY.test(o.payment_country as string);
      if (ok && o.declared_use !== undefined) ok = DECLARED_USE_SET.has(o.declared_use as string);
      if (ok && o.verification !== undefined) ok = VERIFICATION_SET.has(o.verification as string);
      if (ok && o.signup_ip !== undefined) ok = IPV4.test(o.signup_ip as string);
      if (ok) return { success: true, data: o as unknown as Account };
    }
    return Account.safeParse(x) as ReturnType<Schema<Account>['safeParse']>;
  },
};

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
  // Re-importing the same event id is a no-op (interchange.md). Duplicates in an export sit
  // near each other in time, so ids are remembered for an hour of event time (bounded memory).
  let seen = new Set<string>();
  let older = new Set<string>();
  let windowEnd = -1;
  for await (const e of readJsonLines(opts.eventsFile, FastUsageEvent, onIssue, opts.strict, meter)) {
    const t = Date.parse(e.ts);
    if (windowEnd < 0) windowEnd = t + DEDUP_WINDOW_MS;
    if (t >= windowEnd) {
      older = seen;
      seen = new Set();
      windowEnd = t + DEDUP_WINDOW_MS;
    }
    if (seen.has(e.event_id) || older.has(e.event_id)) continue;
    seen.add(e.event_id);
    engine.ingest(e);
    if (engine.eventCount % 100_000 === 0) progress('events');
  }
  seen.clear();
  older.clear();
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

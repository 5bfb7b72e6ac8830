/**
 * `warden eval`: simulate → analyze → score, for each scenario and each analyzer on the same
 * world (the two baselines now; the detection engine plugs in as another `NamedAnalyzer`).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Account, UsageEvent, ValidationError, Watchlist, type AccountVerdict, type IpIntel } from '../core/index.js';
import { wardenAnalyzer } from '../detection/index.js';
import { readVerdictAccounts } from './verdicts-reader.js';
import { baselines, median, type NamedAnalyzer } from './baselines.js';
import { readJsonl, type ReadIssue } from './jsonl.js';
import type { Scenario } from './scenario.js';
import { score, SimTruth, type ScoreReport } from './score.js';
import { simulate, type SimProgress } from './simulate.js';
import type { SimSampler } from './networks.js';

export interface EvalScenario {
  name: string;
  split?: 'train' | 'heldout';
  scenario: Scenario;
}

export interface EvalOptions {
  sampler: SimSampler;
  /** Worlds and reports go under `<outDir>/<scenario name>/`. */
  outDir: string;
  /** Defaults to both baselines, and Warden's detection engine when `intel` is given. */
  analyzers?: NamedAnalyzer[];
  /** Full IP intelligence for the detection engine (the CLI passes `openIpIntel()`). */
  intel?: IpIntel;
  promptDir?: string;
  onProgress?: (p: SimProgress & { scenario: string; step: 'simulate' | 'analyze'; analyzer?: string }) => void;
}

export interface EvalRun {
  scenario: string;
  split?: 'train' | 'heldout';
  dir: string;
  accounts: number;
  events: number;
  results: { analyzer: string; description: string; seconds: number; report: ScoreReport }[];
}

export interface EvalReport {
  generated_at: string;
  runs: EvalRun[];
}

/** Reads a world directory's files (accounts in memory, events as a stream). */
export async function readWorld(dir: string, opts: { onIssue?: (i: ReadIssue) => void; strict?: boolean } = {}) {
  const pick = (base: string): string => {
    const f = join(dir, `${base}.jsonl`);
    return existsSync(f) ? f : `${f}.gz`;
  };
  const accounts: Account[] = [];
  for await (const a of readJsonl(pick('accounts'), Account, opts)) accounts.push(a);
  return {
    accounts,
    events: (): AsyncIterable<UsageEvent> => readJsonl(pick('events'), UsageEvent, opts),
    truth: async (): Promise<SimTruth> => parseJsonFile(join(dir, 'truth.json'), SimTruth),
    /** The world's watchlist.yaml, or undefined when the directory has none. */
    watchlist: async (): Promise<Watchlist | undefined> => {
      const f = join(dir, 'watchlist.yaml');
      if (!existsSync(f)) return undefined;
      const r = Watchlist.safeParse(parseYaml(await readFile(f, 'utf8')));
      if (!r.success) throw new ValidationError(`${f}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return r.data;
    },
  };
}

async function parseJsonFile<T>(file: string, schema: { safeParse(x: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }): Promise<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ValidationError(`${file}: not JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    throw new ValidationError(`${file}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return r.data;
}

/**
 * `warden score --verdicts FILE --truth FILE`. The verdicts are read as a stream and kept only
 * as what scoring needs (action, attribution, first flag, end-user ids), so a verdicts file
 * larger than memory can be scored.
 */
export async function scoreFiles(verdictsFile: string, truthFile: string): Promise<ScoreReport> {
  const truth = await parseJsonFile(truthFile, SimTruth);
  const accounts: AccountVerdict[] = [];
  for await (const v of readVerdictAccounts(verdictsFile)) {
    accounts.push({
      account_id: v.account_id,
      risk: v.risk,
      labels: [],
      recommended_action: v.recommended_action,
      attributed_entity: v.attributed_entity ?? null,
      ...(v.first_flagged_at ? { first_flagged_at: v.first_flagged_at } : {}),
      ...(v.end_user_ids?.length ? { end_user_ids: v.end_user_ids.slice(0, 1) } : {}),
      reasons: [],
    });
  }
  return score({ accounts }, truth);
}

export async function evaluate(scenarios: EvalScenario[], opts: EvalOptions): Promise<EvalReport> {
  // Warden's own engine beside the two baselines, whenever full IP intelligence is at hand.
  const analyzers = opts.analyzers ?? [...baselines(), ...(opts.intel ? [wardenAnalyzer({ intel: opts.intel }) as NamedAnalyzer] : [])];
  const runs: EvalRun[] = [];
  for (const sc of scenarios) {
    const dir = join(opts.outDir, sc.name.replace(/[^a-zA-Z0-9_-]+/g, '_'));
    const sim = await simulate(sc.scenario, dir, {
      sampler: opts.sampler,
      ...(opts.promptDir ? { promptDir: opts.promptDir } : {}),
      onProgress: (p) => opts.onProgress?.({ ...p, scenario: sc.name, step: 'simulate' }),
    });
    const world = await readWorld(dir);
    const truth = await world.truth();
    const watchlist = await world.watchlist();
    const run: EvalRun = { scenario: sc.name, ...(sc.split ? { split: sc.split } : {}), dir, accounts: sim.accounts, events: sim.events, results: [] };
    for (const a of analyzers) {
      opts.onProgress?.({ phase: 'events', accounts: sim.accounts, events: 0, fraction: 0, scenario: sc.name, step: 'analyze', analyzer: a.name });
      const t0 = performance.now();
      const verdicts = await a.analyze({ accounts: world.accounts, events: world.events(), ...(watchlist ? { watchlist } : {}) });
      const seconds = (performance.now() - t0) / 1000;
      await writeFile(join(dir, `verdicts.${a.name}.json`), JSON.stringify(verdicts));
      run.results.push({ analyzer: a.name, description: a.description, seconds, report: score(verdicts, truth) });
    }
    await writeFile(join(dir, 'eval.json'), JSON.stringify(run, null, 2));
    runs.push(run);
  }
  const report: EvalReport = { generated_at: new Date().toISOString(), runs };
  await writeFile(join(opts.outDir, 'eval.json'), JSON.stringify(report, null, 2));
  return report;
}

/**
 * `flagged_online` is absent from reports written before it existed: unknown, not zero (and not
 * the final false positives, which it is at least).
 */
const known = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : String(x));
const sumKnown = (a: number | null, b: number | undefined): number | null => (a === null || b === undefined ? null : a + b);
const pct = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(0)}%`);
function pad(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}
function ttd(d: { hours: number; requests: number | null; share?: number | null } | null): string {
  if (!d) return 'never';
  const share = d.share === null || d.share === undefined ? '' : ` (${(100 * d.share).toFixed(1)}%)`;
  return `${Number.isNaN(d.hours) ? '?' : d.hours.toFixed(1)}h/${d.requests ?? '?'}req${share}`;
}

/** A plain-text table of one score report. */
export function formatScoreTable(r: ScoreReport, title = ''): string {
  const out: string[] = [];
  if (title) out.push(title);
  out.push(
    `precision ${pct(r.precision)}  recall ${pct(r.recall)}  flagged ${r.flagged}  false positives ${r.false_positives}  benign blocked ${r.benign_blocked}  benign flagged online ${known(r.benign_flagged_online)}  attribution ${pct(r.attribution.accuracy)} (errors on null-entity accounts: ${r.attribution.errors_on_null_entity})`,
  );
  const camp = [['campaign', 'accts', '≥monitor', '≥step_up', 'block', 'attrib', 'first flag', '90% flagged', '90% existed', '90% used']];
  for (const [g, c] of Object.entries(r.campaigns)) {
    camp.push([g, String(c.accounts), pct(c.recall_at.monitor), pct(c.recall_at.step_up), pct(c.recall_at.block), c.entity ? pct(c.attribution.accuracy) : 'n/a', ttd(c.time_to_detect.first), ttd(c.time_to_detect.p90), c.time_to_detect.p90_bound ? ttd(c.time_to_detect.p90_bound) : '—', c.time_to_detect.p90_used ? ttd(c.time_to_detect.p90_used) : '—']);
  }
  out.push(pad(camp));
  const ben = [['benign population', 'accts', 'FP', 'FP rate', 'blocked', 'flagged online', 'attrib err']];
  for (const [g, b] of Object.entries(r.populations)) {
    ben.push([g, String(b.accounts), String(b.false_positives), pct(b.fp_rate), String(b.blocked), known(b.flagged_online), String(b.attribution_errors)]);
    if (b.reseller_customer_traffic) {
      const rc = b.reseller_customer_traffic;
      ben.push([`  of which reseller_customer_traffic`, String(rc.accounts), `monitor+ids ${rc.monitored_with_end_users}`, '', String(rc.blocked), '', '']);
    }
  }
  out.push(pad(ben));
  return out.join('\n\n');
}

/** The eval table: one section per scenario and analyzer, then a held-out summary. */
export function formatEvalTable(report: EvalReport): string {
  const parts: string[] = [];
  for (const run of report.runs) {
    for (const res of run.results) {
      parts.push(
        formatScoreTable(
          res.report,
          `== ${run.scenario}${run.split ? ` [${run.split}]` : ''} — ${res.analyzer} (${run.accounts} accounts, ${run.events} events, ${res.seconds.toFixed(1)} s)`,
        ),
      );
    }
  }
  const summary = [['analyzer', 'split', 'runs', 'precision', 'recall', 'FP', 'benign blocked', 'benign flagged online']];
  const keys = new Map<string, { runs: number; flagged: number; tp: number; mal: number; fp: number; blocked: number; online: number | null }>();
  for (const run of report.runs) {
    for (const res of run.results) {
      const k = `${res.analyzer}\u0000${run.split ?? 'all'}`;
      const s = keys.get(k) ?? { runs: 0, flagged: 0, tp: 0, mal: 0, fp: 0, blocked: 0, online: 0 };
      s.runs++;
      s.flagged += res.report.flagged;
      s.tp += res.report.true_positives;
      s.mal += res.report.malicious;
      s.fp += res.report.false_positives;
      s.blocked += res.report.benign_blocked;
      s.online = sumKnown(s.online, res.report.benign_flagged_online);
      keys.set(k, s);
    }
  }
  for (const [k, s] of keys) {
    const [a, split] = k.split('\u0000') as [string, string];
    summary.push([a, split, String(s.runs), pct(s.flagged ? s.tp / s.flagged : null), pct(s.mal ? s.tp / s.mal : null), String(s.fp), String(s.blocked), known(s.online)]);
  }
  parts.push(`== summary (pooled over runs)\n\n${pad(summary)}`);
  return parts.join('\n\n');
}

/**
 * The targets of the detection issue across many worlds (one analyzer): for each campaign, how
 * many worlds met recall ≥ 95%, the first account flagged within 2% of the campaign's requests
 * and 90% within 10% (and in how many worlds 90% of its accounts did not even exist by then, or
 * had not yet sent a request);
 * for each benign population, how many worlds kept it at or under 0.1% flagged, and blocks; and
 * the same for accounts flagged at any moment online (those still flagged at the end, and those
 * whose flag a later evaluation lifted).
 */
export function formatTargetSummary(report: EvalReport, analyzer: string): string {
  const camps = new Map<string, { worlds: number; accounts: number; caught: number; minRecall: number; recall95: number; first2: number; p90in10: number; p90Shares: number[]; boundOver10: number; usedOver10: number }>();
  const pops = new Map<string, { worlds: number; accounts: number; fp: number; over: number; blocked: number; online: number | null; onlineOver: number }>();
  for (const run of report.runs) {
    const res = run.results.find((x) => x.analyzer === analyzer);
    if (!res) continue;
    for (const [g, c] of Object.entries(res.report.campaigns)) {
      const s = camps.get(g) ?? { worlds: 0, accounts: 0, caught: 0, minRecall: 1, recall95: 0, first2: 0, p90in10: 0, p90Shares: [], boundOver10: 0, usedOver10: 0 };
      s.worlds++;
      s.accounts += c.accounts;
      s.caught += c.by_action.step_up + c.by_action.block;
      s.minRecall = Math.min(s.minRecall, c.recall);
      if (c.recall >= 0.95) s.recall95++;
      const { first, p90, p90_bound: bound, p90_used: used } = c.time_to_detect;
      if ((first?.share ?? Infinity) <= 0.02) s.first2++;
      if (typeof p90?.share === 'number') {
        s.p90Shares.push(p90.share);
        if (p90.share <= 0.1) s.p90in10++;
      }
      if ((bound?.share ?? -Infinity) > 0.1) s.boundOver10++;
      // Reports written before the first-request timeline existed have no `p90_used`.
      if ((used?.share ?? -Infinity) > 0.1) s.usedOver10++;
      camps.set(g, s);
    }
    for (const [g, b] of Object.entries(res.report.populations)) {
      const s = pops.get(g) ?? { worlds: 0, accounts: 0, fp: 0, over: 0, blocked: 0, online: 0, onlineOver: 0 };
      s.worlds++;
      s.accounts += b.accounts;
      s.fp += b.false_positives;
      if (b.fp_rate > 0.001) s.over++;
      s.blocked += b.blocked;
      s.online = sumKnown(s.online, b.flagged_online);
      if (b.accounts > 0 && (b.flagged_online ?? 0) / b.accounts > 0.001) s.onlineOver++;
      pops.set(g, s);
    }
  }
  const share = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
  const camp = [['campaign', 'worlds', 'accts', 'caught', 'min', 'recall≥95%', 'first≤2%', '90%≤10%', '90% median', '90% impossible by 10%', '90% used after 10%']];
  for (const [g, s] of camps) {
    camp.push([g, String(s.worlds), String(s.accounts), share(s.caught / s.accounts), share(s.minRecall), `${s.recall95}/${s.worlds}`, `${s.first2}/${s.worlds}`, `${s.p90in10}/${s.worlds}`, share(s.p90Shares.length > 0 ? median(s.p90Shares) : null), `${s.boundOver10}/${s.worlds}`, `${s.usedOver10}/${s.worlds}`]);
  }
  const ben = [['benign population', 'worlds', 'accts', 'FP', 'FP rate', 'worlds >0.1%', 'blocked', 'flagged online', 'worlds >0.1% online']];
  // Benign rates are read against 0.1%: small ones get three decimals.
  const rate = (x: number | null): string => (x !== null && x > 0 && x < 0.01 ? `${(100 * x).toFixed(3)}%` : share(x));
  for (const [g, s] of pops) ben.push([g, String(s.worlds), String(s.accounts), String(s.fp), rate(s.accounts ? s.fp / s.accounts : null), `${s.over}/${s.worlds}`, String(s.blocked), known(s.online), s.online === null ? 'n/a' : `${s.onlineOver}/${s.worlds}`]);
  return `== targets over ${report.runs.length} worlds — ${analyzer}\n\n${pad(camp)}\n\n${pad(ben)}`;
}

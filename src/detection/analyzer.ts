/**
 * The detection engine as an analyzer with the simulator's `Analyzer` shape
 * (`{ accounts, events, watchlist } → Verdicts`), so `warden eval` runs it beside the baselines.
 */
import type { Account, IpIntel, Screener, UsageEvent, Verdicts, Watchlist } from '../core/index.js';
import { createScreener } from '../intel/index.js';
import { DetectionEngine } from './engine.js';

export interface WardenAnalyzerInput {
  accounts: readonly Account[];
  /** Events in time order. */
  events: AsyncIterable<UsageEvent> | Iterable<UsageEvent>;
  watchlist?: Watchlist;
}

export interface WardenAnalyzerDeps {
  /** IP intelligence (network types, anonymizers); without it network detectors degrade. */
  intel?: IpIntel;
  /** Screener for attribution; default: the run's watchlist alone (no sanctions lists). */
  screener?: Screener;
}

export interface WardenNamedAnalyzer {
  name: string;
  description: string;
  analyze(input: WardenAnalyzerInput): Promise<Verdicts>;
}

/** Runs the whole engine over an in-memory account list and an event stream. */
export async function runEngine(input: WardenAnalyzerInput, deps: WardenAnalyzerDeps = {}): Promise<Verdicts> {
  const screener = deps.screener ?? (input.watchlist ? createScreener({ watchlist: input.watchlist, sanctions: false }) : undefined);
  const engine = new DetectionEngine({
    ...(deps.intel ? { intel: deps.intel } : {}),
    ...(screener ? { screener } : {}),
    ...(input.watchlist ? { watchlist: input.watchlist } : {}),
  });
  for (const a of input.accounts) engine.addAccount(a);
  let last = '';
  for await (const e of input.events) {
    engine.ingest(e);
    last = e.ts;
  }
  const { accounts, clusters } = engine.finish();
  return {
    generated_at: last ? new Date(Date.parse(last)).toISOString() : new Date(0).toISOString(),
    summary: { accounts: input.accounts.length, events: engine.eventCount, skipped_lines: 0, degraded_detectors: engine.degradedDetectors() },
    accounts,
    clusters,
  };
}

/** The analyzer `warden eval` runs as `warden`. */
export function wardenAnalyzer(deps: WardenAnalyzerDeps = {}): WardenNamedAnalyzer {
  return {
    name: 'warden',
    description: 'Warden detection engine: streaming features, linkage clusters (Louvain), distillation, reseller, region-evasion and key-sharing detectors, evidence-based attribution',
    analyze: (input) => runEngine(input, deps),
  };
}

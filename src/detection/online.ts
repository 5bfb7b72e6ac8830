/**
 * The online detector: the same engine fed one usage event at a time (a bus consumer), with a
 * periodic `evaluate()` returning the accounts whose risk changed and the current clusters,
 * and a checkpoint so a restarted process resumes where it stopped.
 */
import { deserialize, serialize } from 'node:v8';
import { ValidationError, type Account, type AccountRisk, type CaseIndicators, type ClusterVerdict, type IpIntel, type Screener, type SharedIndicator, type UsageEvent, type Watchlist } from '../core/index.js';
import { createScreener } from '../intel/index.js';
import { DetectionEngine } from './engine.js';
import { clusterIndicators } from './indicators.js';

export interface OnlineDetectorOptions {
  intel?: IpIntel;
  /** Default: a screener over the watchlist alone. */
  screener?: Screener;
  watchlist?: Watchlist;
  /** Called by `evaluate()` with the risks it computed (e.g. to `StateStore.putRisk`). */
  onRisk?: (risks: AccountRisk[]) => void | Promise<void>;
}

export interface OnlineEvaluation {
  risks: AccountRisk[];
  clusters: ClusterVerdict[];
}

export interface OnlineDetector {
  /** Registers or updates an account record (signup facts feed the linkage graph). */
  upsertAccount(account: Account): void;
  /** Adds one usage event (in time order per account; late events are counted at their own time). */
  ingest(event: UsageEvent): void;
  /** Re-scores the accounts touched since the last call and rebuilds the clusters. */
  evaluate(): Promise<OnlineEvaluation>;
  /** The engine's whole state, to store with `StateStore.putBlob`. */
  checkpoint(): Buffer;
  /** Replaces the state with a checkpoint's. Throws `VALIDATION` for a buffer that is not one. */
  restore(buf: Buffer): void;
  stats(): { accounts: number; events: number };
  /** Replaces the indicators imported from other providers (see `DetectionEngine.setImported`). */
  setImported(indicators: readonly SharedIndicator[]): void;
  /** The shareable indicators of a cluster's members (for its alert, hence its case's STIX export). */
  indicatorsOf(members: readonly string[]): CaseIndicators;
}

const MAGIC = 'warden-detection-checkpoint';

export function createOnlineDetector(opts: OnlineDetectorOptions = {}): OnlineDetector {
  const screener = opts.screener ?? (opts.watchlist ? createScreener({ watchlist: opts.watchlist, sanctions: false }) : undefined);
  const make = (): DetectionEngine =>
    new DetectionEngine({
      ...(opts.intel ? { intel: opts.intel } : {}),
      ...(screener ? { screener } : {}),
      ...(opts.watchlist ? { watchlist: opts.watchlist } : {}),
      autoEvaluate: false,
    });
  let engine = make();
  let imported: readonly SharedIndicator[] = [];
  return {
    upsertAccount: (a) => engine.addAccount(a),
    ingest: (e) => engine.ingest(e),
    async evaluate() {
      const r = engine.evaluateNow();
      if (opts.onRisk && r.risks.length > 0) await opts.onRisk(r.risks);
      return r;
    },
    checkpoint: () => serialize({ magic: MAGIC, state: engine.snapshot() }),
    restore(buf) {
      let raw: { magic?: unknown; state?: unknown };
      try {
        raw = deserialize(buf) as typeof raw;
      } catch (e) {
        throw new ValidationError(`not a detection checkpoint (${(e as Error).message}); pass a buffer returned by checkpoint()`);
      }
      if (!raw || raw.magic !== MAGIC) throw new ValidationError('not a detection checkpoint; pass a buffer returned by checkpoint()');
      const next = make();
      if (imported.length) next.setImported(imported);
      next.restoreSnapshot(raw.state);
      engine = next;
    },
    stats: () => ({ accounts: engine.accounts.size, events: engine.eventCount }),
    setImported(list) {
      imported = list;
      engine.setImported(list);
    },
    indicatorsOf: (members) => clusterIndicators(engine, members, opts.intel ? { intel: opts.intel } : {}).indicators,
  };
}

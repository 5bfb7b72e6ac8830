/**
 * The two baselines every detector is measured against, on the same world:
 * per-account rate and volume thresholds, and a per-account statistical-outlier detector
 * (robust z-scores over the median and MAD of per-account features). Both run online over
 * events in time order, so `first_flagged_at` is when they would have fired in production.
 */
import type { Account, AccountVerdict, RecommendedAction, Reason, UsageEvent, Verdicts, Watchlist } from '../core/index.js';

export interface AnalyzeInput {
  accounts: readonly Account[];
  /** Events in time order. */
  events: AsyncIterable<UsageEvent> | Iterable<UsageEvent>;
  watchlist?: Watchlist;
}
/** What eval runs: the real detector plugs in with the same shape. */
export type Analyzer = (input: AnalyzeInput) => Promise<Verdicts>;
export interface NamedAnalyzer {
  name: string;
  description: string;
  analyze: Analyzer;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function verdicts(accounts: readonly Account[], byId: Map<string, AccountVerdict>, events: number, generatedAt: string): Verdicts {
  return {
    generated_at: generatedAt,
    summary: { accounts: accounts.length, events, skipped_lines: 0, degraded_detectors: [] },
    accounts: accounts.map(
      (a) =>
        byId.get(a.account_id) ?? { account_id: a.account_id, risk: 0, labels: [], attributed_entity: null, recommended_action: 'none', reasons: [] },
    ),
    clusters: [],
  };
}

// -----------------------------------------------------------------------------------------
// Thresholds

export interface ThresholdOptions {
  /** Requests in any sliding hour. */
  requestsPerHour: number;
  /** Requests on one UTC day. */
  requestsPerDay: number;
  /** Input plus output tokens on one UTC day. */
  tokensPerDay: number;
  /** Exceeding a limit by this factor recommends `block` instead of `step_up`. */
  blockFactor: number;
}
export const THRESHOLD_DEFAULTS: ThresholdOptions = {
  requestsPerHour: 200,
  requestsPerDay: 500,
  tokensPerDay: 2_000_000,
  blockFactor: 3,
};

/** Per-account rate and volume limits, the rule an API provider typically starts with. */
export function thresholdBaseline(opts: Partial<ThresholdOptions> = {}): NamedAnalyzer {
  const o = { ...THRESHOLD_DEFAULTS, ...opts };
  return {
    name: 'thresholds',
    description: `per-account limits: ${o.requestsPerHour}/hour, ${o.requestsPerDay}/day, ${o.tokensPerDay} tokens/day (block at ×${o.blockFactor})`,
    async analyze({ accounts, events }) {
      interface S {
        hourTimes: number[];
        hourHead: number;
        day: number;
        dayReq: number;
        dayTok: number;
        action: RecommendedAction;
        first?: string;
        reasons: Reason[];
      }
      const state = new Map<string, S>();
      let n = 0;
      let last = '';
      for await (const e of events) {
        n++;
        last = e.ts;
        if (!e.account_id) continue;
        const t = Date.parse(e.ts);
        let s = state.get(e.account_id);
        if (!s) state.set(e.account_id, (s = { hourTimes: [], hourHead: 0, day: -1, dayReq: 0, dayTok: 0, action: 'none', reasons: [] }));
        s.hourTimes.push(t);
        while (s.hourTimes[s.hourHead]! <= t - HOUR) s.hourHead++;
        if (s.hourHead > 1024) {
          s.hourTimes = s.hourTimes.slice(s.hourHead);
          s.hourHead = 0;
        }
        const d = Math.floor(t / DAY);
        if (d !== s.day) {
          s.day = d;
          s.dayReq = 0;
          s.dayTok = 0;
        }
        s.dayReq++;
        s.dayTok += (e.input_tokens ?? 0) + (e.output_tokens ?? 0);
        if (s.action === 'block') continue;
        const perHour = s.hourTimes.length - s.hourHead;
        const checks: [string, number, number][] = [
          ['requests_per_hour', perHour, o.requestsPerHour],
          ['requests_per_day', s.dayReq, o.requestsPerDay],
          ['tokens_per_day', s.dayTok, o.tokensPerDay],
        ];
        for (const [code, v, lim] of checks) {
          const act: RecommendedAction = v > lim * o.blockFactor ? 'block' : v > lim ? 'step_up' : 'none';
          if (act === 'none' || (act === 'step_up' && s.action !== 'none')) continue;
          s.action = act;
          s.first ??= e.ts;
          s.reasons.push({ code, detail: `${v} > ${act === 'block' ? lim * o.blockFactor : lim} at ${e.ts}`, weight: act === 'block' ? 1 : 0.6 });
        }
      }
      const out = new Map<string, AccountVerdict>();
      for (const [id, s] of state) {
        if (s.action === 'none') continue;
        out.set(id, {
          account_id: id,
          risk: s.action === 'block' ? 0.95 : 0.7,
          labels: [],
          attributed_entity: null,
          recommended_action: s.action,
          ...(s.first ? { first_flagged_at: s.first } : {}),
          reasons: s.reasons,
        });
      }
      return verdicts(accounts, out, n, last || new Date(0).toISOString());
    },
  };
}

// -----------------------------------------------------------------------------------------
// Robust outliers

export interface OutlierOptions {
  /** Robust z-score (0.6745·|x−median|/MAD) above which an account is stepped up. */
  stepUpZ: number;
  blockZ: number;
  /** Accounts with fewer requests are not scored. */
  minRequests: number;
  /** How often the online run re-scores every account. */
  checkpointHours: number;
}
export const OUTLIER_DEFAULTS: OutlierOptions = { stepUpZ: 3.5, blockZ: 8, minRequests: 10, checkpointHours: 24 };

export const OUTLIER_FEATURES = [
  'requests_per_active_day',
  'mean_input_tokens',
  'mean_output_tokens',
  'distinct_ips',
  'distinct_asns',
  'distinct_countries',
  'requests_per_ip',
  'tool_share',
  'hour_concentration',
] as const;

interface Acc {
  n: number;
  days: Set<number>;
  inTok: number;
  outTok: number;
  ips: Set<string>;
  asns: Set<number>;
  countries: Set<string>;
  tools: number;
  hours: Int32Array;
}

function features(a: Acc): number[] {
  let maxH = 0;
  for (const h of a.hours) if (h > maxH) maxH = h;
  return [
    Math.log(a.n / Math.max(1, a.days.size)),
    Math.log1p(a.inTok / a.n),
    Math.log1p(a.outTok / a.n),
    Math.log1p(a.ips.size),
    a.asns.size,
    a.countries.size,
    Math.log(a.n / Math.max(1, a.ips.size)),
    a.tools / a.n,
    maxH / a.n,
  ];
}

export function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per-account statistical outliers: robust z-scores of per-account features against everyone. */
export function outlierBaseline(opts: Partial<OutlierOptions> = {}): NamedAnalyzer {
  const o = { ...OUTLIER_DEFAULTS, ...opts };
  return {
    name: 'outliers',
    description: `robust z-scores (median/MAD) of ${OUTLIER_FEATURES.length} per-account features; step_up at z>${o.stepUpZ}, block at z>${o.blockZ}, re-scored every ${o.checkpointHours} h`,
    async analyze({ accounts, events }) {
      const acc = new Map<string, Acc>();
      const flagged = new Map<string, { action: RecommendedAction; first: string; z: number; feature: string }>();
      const score = (at: number): Map<string, { z: number; feature: string }> => {
        const ids: string[] = [];
        const rows: number[][] = [];
        for (const [id, a] of acc) {
          if (a.n < o.minRequests) continue;
          ids.push(id);
          rows.push(features(a));
        }
        const out = new Map<string, { z: number; feature: string }>();
        if (rows.length < 5) return out;
        const k = OUTLIER_FEATURES.length;
        const zs = rows.map(() => new Array<number>(k).fill(0));
        for (let f = 0; f < k; f++) {
          const col = rows.map((r) => r[f]!);
          const med = median(col);
          const mad = median(col.map((x) => Math.abs(x - med)));
          // A feature most accounts share (MAD 0) scores by its mean absolute deviation instead.
          const scale = mad > 0 ? mad / 0.6745 : col.reduce((s, x) => s + Math.abs(x - med), 0) / col.length / 0.7979 || 1;
          col.forEach((x, i) => (zs[i]![f] = (x - med) / scale));
        }
        ids.forEach((id, i) => {
          let best = 0;
          let bf = 0;
          zs[i]!.forEach((z, f) => {
            if (Math.abs(z) > Math.abs(best)) {
              best = z;
              bf = f;
            }
          });
          out.set(id, { z: Math.abs(best), feature: `${OUTLIER_FEATURES[bf]} (z=${best.toFixed(1)})` });
        });
        void at;
        return out;
      };
      const checkpoint = (at: number): void => {
        for (const [id, s] of score(at)) {
          const act: RecommendedAction = s.z > o.blockZ ? 'block' : s.z > o.stepUpZ ? 'step_up' : 'none';
          if (act === 'none') continue;
          const prev = flagged.get(id);
          if (!prev) flagged.set(id, { action: act, first: new Date(at).toISOString(), z: s.z, feature: s.feature });
          else if (act === 'block' && prev.action !== 'block') Object.assign(prev, { action: act, z: s.z, feature: s.feature });
        }
      };
      const step = o.checkpointHours * HOUR;
      let nextCp = -1;
      let n = 0;
      let lastT = 0;
      for await (const e of events) {
        n++;
        const t = Date.parse(e.ts);
        if (nextCp < 0) nextCp = Math.floor(t / step) * step + step;
        while (t >= nextCp) {
          checkpoint(nextCp);
          nextCp += step;
        }
        lastT = t;
        if (!e.account_id) continue;
        let a = acc.get(e.account_id);
        if (!a) acc.set(e.account_id, (a = { n: 0, days: new Set(), inTok: 0, outTok: 0, ips: new Set(), asns: new Set(), countries: new Set(), tools: 0, hours: new Int32Array(24) }));
        a.n++;
        a.days.add(Math.floor(t / DAY));
        a.inTok += e.input_tokens ?? 0;
        a.outTok += e.output_tokens ?? 0;
        if (e.ip) a.ips.add(e.ip);
        if (e.asn !== undefined) a.asns.add(e.asn);
        if (e.country) a.countries.add(e.country);
        if ((e.tools ?? 0) > 0) a.tools++;
        a.hours[new Date(t).getUTCHours()]!++;
      }
      if (n > 0) checkpoint(lastT + 1);
      const out = new Map<string, AccountVerdict>();
      for (const [id, f] of flagged) {
        out.set(id, {
          account_id: id,
          risk: Math.min(1, f.z / (2 * o.blockZ)),
          labels: [],
          attributed_entity: null,
          recommended_action: f.action,
          first_flagged_at: f.first,
          reasons: [{ code: 'statistical_outlier', detail: f.feature, weight: Math.min(1, f.z / o.blockZ) }],
        });
      }
      return verdicts(accounts, out, n, new Date(lastT).toISOString());
    },
  };
}

/** Both baselines with their defaults. */
export function baselines(): NamedAnalyzer[] {
  return [thresholdBaseline(), outlierBaseline()];
}

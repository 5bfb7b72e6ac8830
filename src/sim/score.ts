/**
 * `warden score`: scores any verdicts.json against any truth.json by interchange.md's rules —
 * a campaign account is caught at `step_up` or `block`; a benign account at `step_up` or
 * `block` is a false positive (a benign `block` is reported on its own); an attribution counts
 * when it names the right entity; any non-null attribution of a null-entity account is an error.
 */
import { z } from 'zod';
import { decisionRank, RecommendedAction, Truth, type Verdicts, type AccountVerdict } from '../core/index.js';

export const ACTIONS = ['none', 'allow', 'monitor', 'throttle', 'degrade', 'step_up', 'block'] as const;
const rank = (a: RecommendedAction): number => (a === 'none' ? -1 : decisionRank(a));
const CAUGHT = rank('step_up');

/** truth.json with the simulator's optional extension (campaign timelines). */
export const SimTruth = Truth.extend({
  campaigns: z
    .record(
      z.string(),
      z.object({
        first_request_at: z.string().nullable(),
        accounts: z.number(),
        requests: z.number(),
        hour0: z.string(),
        hourly_requests: z.array(z.number()),
        hourly_new_accounts: z.array(z.number()).optional(),
        hourly_first_requests: z.array(z.number()).optional(),
      }),
    )
    .optional(),
});
export type SimTruth = z.infer<typeof SimTruth>;

export interface Detection {
  /** Simulated hours from the campaign's first request. */
  hours: number;
  /** Campaign requests sent before that moment (hour resolution, interpolated). */
  requests: number | null;
  /** `requests` as a share of all the campaign's requests in the window (the targets' measure). */
  share: number | null;
  at: string;
}

export interface CampaignScore {
  accounts: number;
  entity: string | null;
  /** Accounts by recommended action. */
  by_action: Record<(typeof ACTIONS)[number], number>;
  /** Share of accounts whose action is at least each level. */
  recall_at: Record<'monitor' | 'throttle' | 'degrade' | 'step_up' | 'block', number>;
  /** Caught (step_up or block) / accounts. */
  recall: number;
  attribution: { correct: number; wrong: number; missing: number; accuracy: number | null };
  time_to_detect: {
    first: Detection | null;
    p90: Detection | null;
    /**
     * The earliest moment 90% of the campaign's accounts existed (start of the hour in which the
     * last of them was created): no detector can reach `p90` before it. Null when the truth file
     * carries no account timeline.
     */
    p90_bound: Detection | null;
    /**
     * The earliest moment 90% of the campaign's accounts had sent a campaign request (start of
     * the hour of the last such first request; hour resolution). Before it the rest were silent:
     * a flag then needs evidence from their records alone (a shared card or device), and for a
     * resold key there is none (the key is its owner's until a buyer uses it). Null when fewer
     * ever sent one, or the truth file has no first-request timeline.
     */
    p90_used: Detection | null;
    undated: number;
  };
}

export interface BenignScore {
  accounts: number;
  false_positives: number;
  blocked: number;
  fp_rate: number;
  /**
   * Accounts flagged (step_up or block) at some moment online, whatever their final action: those
   * flagged at the end and those with a `first_flagged_at`. Always at least `false_positives`. A
   * lifted flag is seen only if the analyzer writes `first_flagged_at` for it (Warden does since
   * session 11; verdicts from an older Warden or another tool give a lower bound). Absent from
   * reports written before the field existed.
   */
  flagged_online: number;
  /** Non-null attributions on these null-entity accounts (each is an error). */
  attribution_errors: number;
  /** Accounts labelled reseller_customer_traffic in truth: the right action is monitor plus end-user ids. */
  reseller_customer_traffic?: { accounts: number; monitored_with_end_users: number; blocked: number };
}

export interface ScoreReport {
  accounts: number;
  malicious: number;
  benign: number;
  /** Truth accounts with no verdict (scored as `none`). */
  missing_verdicts: number;
  flagged: number;
  true_positives: number;
  /** Malicious share of flagged (step_up or block) accounts; null when nothing was flagged. */
  precision: number | null;
  recall: number | null;
  false_positives: number;
  benign_blocked: number;
  /** Benign accounts flagged at some moment online (see `BenignScore.flagged_online`). */
  benign_flagged_online: number;
  attribution: {
    /** Malicious accounts with a truth entity that were attributed to it / such accounts. */
    accuracy: number | null;
    correct: number;
    wrong_entity: number;
    /** Non-null attributions of accounts whose truth entity is null. */
    errors_on_null_entity: number;
  };
  campaigns: Record<string, CampaignScore>;
  populations: Record<string, BenignScore>;
}

function detection(
  times: number[],
  need: number,
  start: number | null,
  timeline: NonNullable<SimTruth['campaigns']>[string] | undefined,
): Detection | null {
  if (times.length < need || need === 0) return null;
  const t = times[need - 1]!;
  const at = new Date(t).toISOString();
  if (start === null) return { hours: NaN, requests: null, share: null, at };
  let requests: number | null = null;
  if (timeline) {
    const h0 = Date.parse(timeline.hour0);
    const x = (t - h0) / 3_600_000;
    requests = 0;
    for (let h = 0; h < timeline.hourly_requests.length && h < x; h++) {
      const c = timeline.hourly_requests[h]!;
      requests += h + 1 <= x ? c : c * (x - h);
    }
    requests = Math.round(requests);
  }
  const share = requests !== null && timeline && timeline.requests > 0 ? requests / timeline.requests : null;
  return { hours: Math.max(0, (t - start) / 3_600_000), requests, share, at };
}

/** The start of the hour by whose end `need` of the campaign's accounts had been counted in `hourly` (created, or used). */
function countedBy(hourly: number[] | undefined, need: number, start: number | null, timeline: NonNullable<SimTruth['campaigns']>[string] | undefined): Detection | null {
  if (!hourly || !timeline || need === 0) return null;
  let n = 0;
  for (let h = 0; h < hourly.length; h++) {
    n += hourly[h]!;
    if (n >= need) return detection([Date.parse(timeline.hour0) + h * 3_600_000], 1, start, timeline);
  }
  return null;
}

/** Scores verdicts against truth (both already parsed). */
export function score(verdicts: Pick<Verdicts, 'accounts'>, truthIn: Truth | SimTruth): ScoreReport {
  const truth = truthIn as SimTruth;
  const byId = new Map<string, AccountVerdict>();
  for (const v of verdicts.accounts) byId.set(v.account_id, v);
  const report: ScoreReport = {
    accounts: 0,
    malicious: 0,
    benign: 0,
    missing_verdicts: 0,
    flagged: 0,
    true_positives: 0,
    precision: null,
    recall: null,
    false_positives: 0,
    benign_blocked: 0,
    benign_flagged_online: 0,
    attribution: { accuracy: null, correct: 0, wrong_entity: 0, errors_on_null_entity: 0 },
    campaigns: {},
    populations: {},
  };
  const flaggedTimes = new Map<string, number[]>();
  const undated = new Map<string, number>();
  let attributable = 0;
  for (const [id, t] of Object.entries(truth.accounts)) {
    report.accounts++;
    const v = byId.get(id);
    if (!v) report.missing_verdicts++;
    const action: RecommendedAction = v?.recommended_action ?? 'none';
    const r = rank(action);
    const caught = r >= CAUGHT;
    const attributed = v?.attributed_entity ?? null;
    if (caught) report.flagged++;
    if (t.entity === null && attributed !== null) report.attribution.errors_on_null_entity++;
    if (t.malicious) {
      report.malicious++;
      const c = (report.campaigns[t.group] ??= {
        accounts: 0,
        entity: t.entity,
        by_action: Object.fromEntries(ACTIONS.map((a) => [a, 0])) as CampaignScore['by_action'],
        recall_at: { monitor: 0, throttle: 0, degrade: 0, step_up: 0, block: 0 },
        recall: 0,
        attribution: { correct: 0, wrong: 0, missing: 0, accuracy: null },
        time_to_detect: { first: null, p90: null, p90_bound: null, p90_used: null, undated: 0 },
      });
      c.accounts++;
      c.by_action[action]++;
      for (const lvl of ['monitor', 'throttle', 'degrade', 'step_up', 'block'] as const) if (r >= rank(lvl)) c.recall_at[lvl]++;
      if (caught) {
        report.true_positives++;
        if (v?.first_flagged_at) {
          const list = flaggedTimes.get(t.group) ?? [];
          list.push(Date.parse(v.first_flagged_at));
          flaggedTimes.set(t.group, list);
        } else undated.set(t.group, (undated.get(t.group) ?? 0) + 1);
      }
      if (t.entity !== null) {
        attributable++;
        if (attributed === t.entity) {
          c.attribution.correct++;
          report.attribution.correct++;
        } else if (attributed === null) c.attribution.missing++;
        else {
          c.attribution.wrong++;
          report.attribution.wrong_entity++;
        }
      } else if (attributed !== null) c.attribution.wrong++;
    } else {
      report.benign++;
      const b = (report.populations[t.group] ??= { accounts: 0, false_positives: 0, blocked: 0, fp_rate: 0, flagged_online: 0, attribution_errors: 0 });
      b.accounts++;
      if (caught) {
        b.false_positives++;
        report.false_positives++;
      }
      if (caught || v?.first_flagged_at) {
        b.flagged_online++;
        report.benign_flagged_online++;
      }
      if (action === 'block') {
        b.blocked++;
        report.benign_blocked++;
      }
      if (attributed !== null) b.attribution_errors++;
      if (t.labels.includes('reseller_customer_traffic')) {
        const rc = (b.reseller_customer_traffic ??= { accounts: 0, monitored_with_end_users: 0, blocked: 0 });
        rc.accounts++;
        if (action === 'monitor' && (v?.end_user_ids?.length ?? 0) > 0) rc.monitored_with_end_users++;
        if (action === 'block') rc.blocked++;
      }
    }
  }
  for (const [g, c] of Object.entries(report.campaigns)) {
    for (const k of Object.keys(c.recall_at) as (keyof CampaignScore['recall_at'])[]) c.recall_at[k] /= c.accounts;
    c.recall = c.recall_at.step_up;
    const withEntity = c.entity !== null ? c.accounts : 0;
    c.attribution.accuracy = withEntity ? c.attribution.correct / withEntity : null;
    const times = (flaggedTimes.get(g) ?? []).sort((a, b) => a - b);
    const tl = truth.campaigns?.[g];
    const start = tl?.first_request_at ? Date.parse(tl.first_request_at) : null;
    c.time_to_detect = {
      first: detection(times, 1, start, tl),
      p90: detection(times, Math.ceil(0.9 * c.accounts), start, tl),
      p90_bound: countedBy(tl?.hourly_new_accounts, Math.ceil(0.9 * c.accounts), start, tl),
      p90_used: countedBy(tl?.hourly_first_requests, Math.ceil(0.9 * c.accounts), start, tl),
      undated: undated.get(g) ?? 0,
    };
  }
  for (const b of Object.values(report.populations)) b.fp_rate = b.accounts ? b.false_positives / b.accounts : 0;
  report.precision = report.flagged ? report.true_positives / report.flagged : null;
  report.recall = report.malicious ? report.true_positives / report.malicious : null;
  report.attribution.accuracy = attributable ? report.attribution.correct / attributable : null;
  return report;
}

/**
 * The JSON evidence report of a case: what a reviewer, an appeal or another provider reads.
 * A pure function of the case, its alerts and its actions (and usage volumes when the caller
 * has them), so the same inputs give the same report byte for byte.
 */
import type { Alert, Case, EnforcementAction, Evidence, EvidenceSnapshot, TimelineEntry } from '../core/index.js';

export interface CaseUsageVolumes {
  /** The window the volumes cover. */
  since?: string;
  until?: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  /** Per account, largest first in the report. */
  by_account?: Record<string, { requests: number; input_tokens: number; output_tokens: number }>;
}

export interface CaseReportInput {
  case: Case;
  /** The case's alerts (`listAlerts({ case_id })`). */
  alerts: readonly Alert[];
  /** The actions named in `case.actions` the caller could load; the others are listed by id. */
  actions?: readonly EnforcementAction[];
  usage?: CaseUsageVolumes;
  generated_at: string;
  /** Who the report is from (the provider's name). */
  generated_by?: string;
}

export interface AttributionReason {
  code: string;
  /** Sum of the weights of this evidence across the alerts that count. */
  weight: number;
  /** Share of the total weight, 0..1. */
  share: number;
  count: number;
  details: string[];
  alert_ids: string[];
}

export interface CaseReport {
  report_version: 1;
  generated_at: string;
  generated_by?: string;
  case: Pick<Case, 'case_id' | 'title' | 'severity' | 'status' | 'created_at' | 'updated_at' | 'score'> & { assignee?: string };
  summary: string;
  subjects: { accounts: string[]; clusters: string[]; entity: string | null };
  volumes: {
    alerts: number;
    alerts_by_detector: Record<string, number>;
    alerts_by_disposition: Record<string, number>;
    accounts: number;
    clusters: number;
    evidence_items: number;
    actions: number;
    actions_in_force: number;
    actions_reversed: number;
    usage?: CaseUsageVolumes;
  };
  attribution: {
    entity: string | null;
    /** Evidence from alerts not dispositioned false positive or benign, heaviest first. */
    reasoning: AttributionReason[];
    total_weight: number;
    /** Evidence set aside because its alert was dispositioned false positive or benign. */
    discounted: { alert_id: string; verdict: string; reason: string; codes: string[] }[];
  };
  alerts: {
    alert_id: string;
    detector: string;
    score: number;
    created_at: string;
    accounts: number;
    cluster_id?: string;
    entity?: string;
    labels: string[];
    disposition?: Alert['disposition'];
    evidence: Evidence[];
  }[];
  evidence_snapshots: EvidenceSnapshot[];
  actions: {
    action_id: string;
    decision?: string;
    subject?: EnforcementAction['subject'];
    reason?: string;
    author?: string;
    created_at?: string;
    expires_at?: string;
    reversed_at?: string;
    reversed_by?: string;
    reversed_reason?: string;
    /** False when the action record could not be loaded. */
    found: boolean;
  }[];
  notes: Case['notes'];
  timeline: TimelineEntry[];
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function counted(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of [...xs].sort()) out[x] = (out[x] ?? 0) + 1;
  return out;
}

export function caseReportJson(input: CaseReportInput): CaseReport {
  const c = input.case;
  const alerts = [...input.alerts].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.alert_id < b.alert_id ? -1 : 1));
  const discountedVerdicts = new Set(['false_positive', 'benign']);
  const counting = alerts.filter((a) => !a.disposition || !discountedVerdicts.has(a.disposition.verdict));

  const byCode = new Map<string, AttributionReason>();
  for (const a of counting) {
    for (const e of a.evidence) {
      let r = byCode.get(e.code);
      if (!r) byCode.set(e.code, (r = { code: e.code, weight: 0, share: 0, count: 0, details: [], alert_ids: [] }));
      r.weight += e.weight;
      r.count += 1;
      if (!r.details.includes(e.detail)) r.details.push(e.detail);
      if (!r.alert_ids.includes(a.alert_id)) r.alert_ids.push(a.alert_id);
    }
  }
  const total = [...byCode.values()].reduce((s, r) => s + r.weight, 0);
  const reasoning = [...byCode.values()]
    .map((r) => ({ ...r, weight: round(r.weight), share: total > 0 ? round(r.weight / total) : 0 }))
    .sort((a, b) => b.weight - a.weight || (a.code < b.code ? -1 : 1));

  const actionById = new Map((input.actions ?? []).map((a) => [a.action_id, a]));
  const actions = c.actions.map((id) => {
    const a = actionById.get(id);
    if (!a) return { action_id: id, found: false };
    const out: CaseReport['actions'][number] = {
      action_id: id,
      decision: a.decision,
      subject: a.subject,
      reason: a.reason,
      author: a.author,
      created_at: a.created_at,
      found: true,
    };
    if (a.expires_at) out.expires_at = a.expires_at;
    if (a.reversed_at) out.reversed_at = a.reversed_at;
    if (a.reversed_by) out.reversed_by = a.reversed_by;
    if (a.reversed_reason) out.reversed_reason = a.reversed_reason;
    return out;
  });
  const reversed = actions.filter((a) => a.reversed_at).length;
  const inForce = actions.filter((a) => a.found && !a.reversed_at && (!a.expires_at || a.expires_at > input.generated_at)).length;

  const entity = c.entity ?? null;
  const top = reasoning
    .slice(0, 3)
    .map((r) => `${r.code} (${Math.round(r.share * 100)}%)`)
    .join(', ');
  const summary = [
    `Case ${c.case_id} (${c.severity}, ${c.status}): ${c.accounts.length} account(s)`,
    c.clusters.length ? ` in cluster(s) ${c.clusters.join(', ')}` : '',
    entity ? `, attributed to ${entity}` : '',
    `. ${alerts.length} alert(s) from ${Object.keys(counted(alerts.map((a) => a.detector))).join(', ') || 'no detector'}`,
    counting.length < alerts.length ? ` (${alerts.length - counting.length} set aside as false positive or benign)` : '',
    top ? `; strongest evidence: ${top}` : '',
    `. ${actions.length} action(s), ${inForce} in force, ${reversed} reversed.`,
  ].join('');

  const report: CaseReport = {
    report_version: 1,
    generated_at: input.generated_at,
    case: {
      case_id: c.case_id,
      title: c.title,
      severity: c.severity,
      status: c.status,
      created_at: c.created_at,
      updated_at: c.updated_at,
      score: c.score,
      ...(c.assignee ? { assignee: c.assignee } : {}),
    },
    summary,
    subjects: { accounts: [...c.accounts].sort(), clusters: [...c.clusters].sort(), entity },
    volumes: {
      alerts: alerts.length,
      alerts_by_detector: counted(alerts.map((a) => a.detector)),
      alerts_by_disposition: counted(alerts.map((a) => a.disposition?.verdict ?? 'open')),
      accounts: c.accounts.length,
      clusters: c.clusters.length,
      evidence_items: alerts.reduce((s, a) => s + a.evidence.length, 0),
      actions: actions.length,
      actions_in_force: inForce,
      actions_reversed: reversed,
    },
    attribution: {
      entity,
      reasoning,
      total_weight: round(total),
      discounted: alerts
        .filter((a) => a.disposition && discountedVerdicts.has(a.disposition.verdict))
        .map((a) => ({ alert_id: a.alert_id, verdict: a.disposition!.verdict, reason: a.disposition!.reason, codes: a.evidence.map((e) => e.code) })),
    },
    alerts: alerts.map((a) => ({
      alert_id: a.alert_id,
      detector: a.detector,
      score: a.score,
      created_at: a.created_at,
      accounts: a.subjects.accounts.length,
      ...(a.subjects.cluster_id ? { cluster_id: a.subjects.cluster_id } : {}),
      ...(a.subjects.entity ? { entity: a.subjects.entity } : {}),
      labels: a.labels ?? [],
      ...(a.disposition ? { disposition: a.disposition } : {}),
      evidence: a.evidence,
    })),
    evidence_snapshots: c.snapshots,
    actions,
    notes: c.notes,
    timeline: [...c.timeline].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
  };
  if (input.generated_by) report.generated_by = input.generated_by;
  if (input.usage) {
    const usage = structuredClone(input.usage);
    if (usage.by_account) {
      usage.by_account = Object.fromEntries(Object.entries(usage.by_account).sort((a, b) => b[1].requests - a[1].requests || (a[0] < b[0] ? -1 : 1)));
    }
    report.volumes.usage = usage;
  }
  return structuredClone(report);
}

/**
 * Decisions on a case: taking an action, changing status or assignee, disposing of an alert.
 * Each decision that rests on evidence keeps a snapshot of that evidence as it was, so the
 * report shows what the analyst saw even after alerts are dispositioned or rescored.
 */
import { randomUUID } from 'node:crypto';
import type { Alert, AlertDisposition, AuditEntry, AuditLog, Case, CaseStatus, CaseStore, EnforcementAction, EvidenceSnapshot } from '../core/index.js';
import { CASE_STATUSES, ConflictError, NotFoundError, ValidationError } from '../core/index.js';

export interface DecisionContext {
  by: string;
  at: string;
  newId?: () => string;
  /** Where the decision is recorded (`case.action`, `case.status`, …); awaited until durable. */
  audit?: Pick<AuditLog, 'append'>;
}

async function audited(ctx: Pick<DecisionContext, 'audit'>, entry: Omit<AuditEntry, 'at'> & { at: string }): Promise<void> {
  if (ctx.audit) await ctx.audit.append(entry);
}

const defaultId = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 20)}`;

async function mustCase(store: CaseStore, caseId: string): Promise<Case> {
  const c = await store.getCase(caseId);
  if (!c) throw new NotFoundError(`Case ${caseId} does not exist. List cases to find its id.`);
  return c;
}

/** The evidence of a case's alerts now (dispositioned false positives left out). */
export function snapshotOf(alerts: readonly Alert[], decision: string, ctx: DecisionContext, data?: Record<string, unknown>): EvidenceSnapshot {
  const live = alerts.filter((a) => a.disposition?.verdict !== 'false_positive' && a.disposition?.verdict !== 'benign');
  return {
    snapshot_id: (ctx.newId ?? (() => defaultId('snap')))(),
    at: ctx.at,
    by: ctx.by,
    decision,
    alert_ids: live.map((a) => a.alert_id),
    evidence: structuredClone(live.flatMap((a) => a.evidence)),
    data: {
      scores: Object.fromEntries(live.map((a) => [a.alert_id, a.score])),
      ...(data ?? {}),
    },
  };
}

/**
 * Records an enforcement action taken for a case: its id, a snapshot of the evidence, a
 * timeline entry, and status `actioned` (unless the case is closed or under appeal).
 */
export async function recordCaseAction(store: CaseStore, caseId: string, action: EnforcementAction, ctx: DecisionContext): Promise<Case> {
  for (let attempt = 0; ; attempt++) {
    const c = await mustCase(store, caseId);
    if (c.actions.includes(action.action_id)) return c;
    const alerts = await store.listAlerts({ case_id: caseId });
    const snap = snapshotOf(alerts, `action:${action.action_id}`, ctx, { action: structuredClone(action) });
    const next: Case = {
      ...c,
      actions: [...c.actions, action.action_id],
      snapshots: [...c.snapshots, snap],
      status: c.status === 'closed' || c.status === 'appealed' ? c.status : 'actioned',
      updated_at: ctx.at,
      timeline: [
        ...c.timeline,
        {
          at: ctx.at,
          kind: 'action',
          by: ctx.by,
          detail: `${action.decision} on ${action.subject.kind} ${action.subject.id}: ${action.reason}`,
          ref: action.action_id,
        },
      ],
    };
    try {
      const saved = await store.updateCase(next);
      await audited(ctx, {
        type: 'case.action',
        actor: ctx.by,
        subject: action.subject,
        data: { case_id: caseId, action_id: action.action_id, decision: action.decision, reason: action.reason, snapshot_id: snap.snapshot_id },
        at: ctx.at,
      });
      return saved;
    } catch (err) {
      if (err instanceof ConflictError && attempt < 3) continue;
      throw err;
    }
  }
}

/** Records the reversal of an action taken for the case (an upheld appeal, a mistake). */
export async function recordCaseReversal(store: CaseStore, caseId: string, action: EnforcementAction, ctx: DecisionContext): Promise<Case> {
  const c = await mustCase(store, caseId);
  const saved = await store.updateCase({
    ...c,
    updated_at: ctx.at,
    timeline: [
      ...c.timeline,
      { at: ctx.at, kind: 'action', by: ctx.by, detail: `reversed ${action.decision} on ${action.subject.kind} ${action.subject.id}${action.reversed_reason ? `: ${action.reversed_reason}` : ''}`, ref: action.action_id },
    ],
  });
  await audited(ctx, {
    type: 'case.reversal',
    actor: ctx.by,
    subject: action.subject,
    data: { case_id: caseId, action_id: action.action_id, decision: action.decision, reason: action.reversed_reason ?? null },
    at: ctx.at,
  });
  return saved;
}

/** Changes status; closing keeps a snapshot of the evidence the case was closed on. */
export async function setCaseStatus(store: CaseStore, caseId: string, status: CaseStatus, ctx: DecisionContext & { reason?: string }): Promise<Case> {
  if (!(CASE_STATUSES as readonly string[]).includes(status)) {
    throw new ValidationError(`status: expected one of ${CASE_STATUSES.join(', ')}, got ${JSON.stringify(status)}.`, [{ path: 'status', message: CASE_STATUSES.join(', ') }]);
  }
  const c = await mustCase(store, caseId);
  if (c.status === status) return c;
  const snapshots = status === 'closed' ? [...c.snapshots, snapshotOf(await store.listAlerts({ case_id: caseId }), 'close', ctx, ctx.reason ? { reason: ctx.reason } : undefined)] : c.snapshots;
  const saved = await store.updateCase({
    ...c,
    status,
    snapshots,
    updated_at: ctx.at,
    timeline: [...c.timeline, { at: ctx.at, kind: 'status', by: ctx.by, detail: `${c.status} → ${status}${ctx.reason ? ` (${ctx.reason})` : ''}` }],
  });
  await audited(ctx, { type: 'case.status', actor: ctx.by, data: { case_id: caseId, from: c.status, to: status, reason: ctx.reason ?? null }, at: ctx.at });
  return saved;
}

export async function assignCase(store: CaseStore, caseId: string, assignee: string | undefined, ctx: DecisionContext): Promise<Case> {
  const c = await mustCase(store, caseId);
  const next: Case = { ...c, updated_at: ctx.at, timeline: [...c.timeline, { at: ctx.at, kind: 'assignee', by: ctx.by, detail: assignee ? `assigned to ${assignee}` : 'unassigned' }] };
  if (assignee) next.assignee = assignee;
  else delete next.assignee;
  const saved = await store.updateCase(next);
  await audited(ctx, { type: 'case.assignee', actor: ctx.by, data: { case_id: caseId, assignee: assignee ?? null }, at: ctx.at });
  return saved;
}

/** Disposes of an alert; the snapshot keeps the evidence the verdict was given on. */
export async function disposeAlert(store: CaseStore, alertId: string, d: AlertDisposition, ctx: Pick<DecisionContext, 'audit'> = {}): Promise<Alert> {
  const alert = await store.recordDisposition(alertId, d);
  await audited(ctx, {
    type: 'alert.disposition',
    actor: d.by,
    data: { alert_id: alertId, case_id: alert.case_id ?? null, verdict: d.verdict, reason: d.reason, fingerprint: alert.fingerprint ?? null },
    at: d.at,
  });
  if (alert.case_id) {
    const c = await store.getCase(alert.case_id);
    if (c) {
      const snap = snapshotOf([{ ...alert, disposition: undefined }], `disposition:${alertId}:${d.verdict}`, { by: d.by, at: d.at }, { reason: d.reason });
      await store.updateCase({ ...c, snapshots: [...c.snapshots, snap] });
    }
  }
  return alert;
}

/** What an automatic enforcement rule would have done in dry-run mode. */
export interface WouldAct {
  /** `rule@version`. */
  rule: string;
  decision: EnforcementAction['decision'];
  subject: EnforcementAction['subject'];
  reason: string;
  expires_at?: string;
}

/** The timeline `ref` of a would-have-been action: `<decision>:<subject kind>:<subject id>`. */
export const wouldActRef = (w: Pick<WouldAct, 'decision' | 'subject'>): string => `${w.decision}:${w.subject.kind}:${w.subject.id}`;

/**
 * Records, without acting, what an automatic enforcement rule in dry-run mode would have done:
 * a `would_act` timeline entry, a snapshot of the evidence and a `case.would_act` audit record.
 * The case's status is left as it is.
 */
export async function recordCaseWouldAct(store: CaseStore, caseId: string, w: WouldAct, ctx: DecisionContext): Promise<Case> {
  for (let attempt = 0; ; attempt++) {
    const c = await mustCase(store, caseId);
    const alerts = await store.listAlerts({ case_id: caseId });
    const snap = snapshotOf(alerts, `would_act:${w.rule}`, ctx, { would_act: structuredClone(w) });
    const detail = `would ${w.decision} ${w.subject.kind} ${w.subject.id}${w.expires_at ? ` until ${w.expires_at}` : ''} (rule ${w.rule}, dry run: nothing enforced): ${w.reason}`;
    try {
      const saved = await store.updateCase({
        ...c,
        snapshots: [...c.snapshots, snap],
        updated_at: ctx.at,
        timeline: [...c.timeline, { at: ctx.at, kind: 'would_act', by: ctx.by, detail, ref: wouldActRef(w) }],
      });
      await audited(ctx, {
        type: 'case.would_act',
        actor: ctx.by,
        subject: w.subject,
        data: { case_id: caseId, rule: w.rule, decision: w.decision, reason: w.reason, expires_at: w.expires_at ?? null, snapshot_id: snap.snapshot_id },
        at: ctx.at,
      });
      return saved;
    } catch (err) {
      if (err instanceof ConflictError && attempt < 3) continue;
      throw err;
    }
  }
}

/**
 * Taking an enforcement action for a case: the one path an analyst's action (`POST
 * /admin/v1/cases/:id/act`) and an automatic enforcement rule both go through. Each subject
 * gets one `EnforcementAction` (`source: case:<id>`), applied through `EnforcementState.apply`
 * (every gateway enforces it at once), audited (`action.put`) and recorded on the case
 * (`recordCaseAction`: snapshot, timeline, status `actioned`, `case.action`).
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog, Case, CaseStore, Decision, EnforcementAction, EnforcementState, StateStore, Subject } from '../core/index.js';
import { NotFoundError, ValidationError } from '../core/index.js';
import { recordCaseAction } from './case-ops.js';

export type CaseActionScope = 'cluster' | 'accounts' | 'org';

export interface CaseActDeps {
  cases: CaseStore;
  store: Pick<StateStore, 'getAccount'>;
  enforcement: Pick<EnforcementState, 'apply'>;
  audit?: Pick<AuditLog, 'append'>;
  now: () => number;
  newActionId?: () => string;
}

export interface CaseActInput {
  action: Exclude<Decision, 'allow'>;
  /** Internal reason; never sent to the customer. */
  reason: string;
  /** Who decided: an analyst's name, or `auto:<rule id>`. */
  author: string;
  /** Default: the case's clusters when it has any, else its accounts. */
  scope?: CaseActionScope;
  /** Explicit subjects instead of the scope's (an automatic rule acts on one cluster's). */
  subjects?: Subject[];
  expires_at?: string;
  params?: Record<string, unknown>;
}

/** The subjects a scope names for a case: its clusters, its accounts, or their orgs. */
export async function caseSubjects(store: Pick<StateStore, 'getAccount'>, c: Pick<Case, 'case_id' | 'clusters' | 'accounts'>, scope: CaseActionScope, accounts: readonly string[] = c.accounts): Promise<Subject[]> {
  if (scope === 'cluster') {
    if (!c.clusters.length) throw new ValidationError(`scope: case ${c.case_id} names no cluster; use scope "accounts" or "org".`, [{ path: 'scope', message: 'the case has no cluster' }]);
    return c.clusters.map((cl) => ({ kind: 'cluster', id: cl }));
  }
  if (scope === 'accounts') {
    if (!accounts.length) throw new ValidationError(`scope: case ${c.case_id} names no account; use scope "cluster".`, [{ path: 'scope', message: 'the case has no account' }]);
    return accounts.map((a) => ({ kind: 'account', id: a }));
  }
  const orgs = new Set<string>();
  for (const a of accounts) {
    const acc = await store.getAccount(a);
    if (acc) orgs.add(acc.org_id);
  }
  if (!orgs.size) throw new ValidationError(`scope: none of case ${c.case_id}'s accounts is known to the store, so no org can be named; use scope "cluster" or "accounts".`, [{ path: 'scope', message: 'no org found' }]);
  return [...orgs].sort().map((o) => ({ kind: 'org', id: o }));
}

/** Takes the action on each subject and records it on the case; resolves once all is durable. */
export async function actForCase(deps: CaseActDeps, caseId: string, input: CaseActInput): Promise<{ case: Case; actions: EnforcementAction[] }> {
  const c = await deps.cases.getCase(caseId);
  if (!c) throw new NotFoundError(`No case "${caseId}". List cases with GET /admin/v1/cases.`);
  const subjects = input.subjects ?? (await caseSubjects(deps.store, c, input.scope ?? (c.clusters.length ? 'cluster' : 'accounts')));
  if (input.expires_at && Date.parse(input.expires_at) <= deps.now()) {
    throw new ValidationError('expires_at: lies in the past; give a future time or leave it out.', [{ path: 'expires_at', message: 'a future time' }]);
  }
  const at = new Date(deps.now()).toISOString();
  const newId = deps.newActionId ?? (() => `act_${randomUUID().replaceAll('-', '').slice(0, 14)}`);
  const actions: EnforcementAction[] = [];
  let saved: Case = c;
  for (const subject of subjects) {
    const action: EnforcementAction = {
      action_id: newId(),
      subject,
      decision: input.action,
      reason: input.reason,
      author: input.author,
      created_at: at,
      source: `case:${caseId}`,
      ...(input.expires_at ? { expires_at: input.expires_at } : {}),
      ...(input.params ? { params: input.params } : {}),
    };
    await deps.enforcement.apply({ type: 'put', action });
    await deps.audit?.append({ type: 'action.put', actor: action.author, subject, data: { action_id: action.action_id, decision: action.decision, reason: action.reason, expires_at: action.expires_at ?? null, source: action.source! }, at });
    saved = await recordCaseAction(deps.cases, caseId, action, { by: input.author, at, ...(deps.audit ? { audit: deps.audit } : {}) });
    actions.push(action);
  }
  return { case: saved, actions };
}

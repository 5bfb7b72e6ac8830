/**
 * Automatic enforcement: the policy's `enforcement:` rules applied to detection's cluster
 * verdicts. A matching action rule acts on the cluster's case through the analyst's own path
 * (`actForCase`, author `auto:<rule id>`), so the action is audited, shown on the case and
 * reversible like any other; in dry-run mode it is only recorded (`would_act`). Never twice for
 * the same rule and subject (a reversed automatic action stays reversed), never on a case an
 * analyst closed, that is under appeal, or whose alert was dispositioned a false positive, and
 * never above `monitor` on a cluster holding a declared reseller.
 */
import type { Case, ClusterVerdict, EnforcementAction, StateStore, Subject } from '../core/index.js';
import { decisionRank } from '../core/index.js';
import type { EnforcementMatch, EnforcementMode } from '../policy/index.js';
import { actForCase, caseSubjects, type CaseActDeps } from './act.js';
import { recordCaseWouldAct, wouldActRef } from './case-ops.js';

export interface AutoEnforcementDeps extends CaseActDeps {
  store: Pick<StateStore, 'getAccount' | 'getOrg' | 'getAction'>;
}

/** One cluster a rule matched with an action (not `open_case`), and the alert raised for it. */
export interface AutoEnforcementItem {
  cluster: Pick<ClusterVerdict, 'cluster_id' | 'members'>;
  alert_id: string;
  match: EnforcementMatch;
}

export interface AutoEnforcementOutcome {
  cluster_id: string;
  rule: string;
  case_id?: string;
  mode: EnforcementMode;
  decision: EnforcementAction['decision'];
  /** Subjects acted on (enforce) or recorded as would-be (dry run) this time. */
  subjects: Subject[];
  action_ids: string[];
  /** Why nothing was done, when nothing was. */
  skipped?: string;
  /** The rule's action was lowered to `monitor`: the cluster holds a declared reseller. */
  reseller?: boolean;
}

const author = (m: EnforcementMatch) => `auto:${m.rule}`;
const sameSubject = (a: Subject, b: Subject) => a.kind === b.kind && a.id === b.id;

/** Applies (or, in dry run, records) each matched rule on its cluster's case. */
export async function applyAutoEnforcement(
  deps: AutoEnforcementDeps,
  mode: EnforcementMode,
  items: readonly AutoEnforcementItem[],
  /** alert_id → case_id of the alerts this evaluation placed (`IngestResult.placed`). */
  placed: Readonly<Record<string, string>>,
): Promise<AutoEnforcementOutcome[]> {
  const out: AutoEnforcementOutcome[] = [];
  for (const item of items) {
    const { match, cluster } = item;
    if (match.action === 'open_case') continue;
    const base = { cluster_id: cluster.cluster_id, rule: match.ref, mode, decision: match.action, subjects: [] as Subject[], action_ids: [] as string[] };
    let caseId = placed[item.alert_id];
    if (!caseId) {
      // The same finding was raised before (a duplicate), or dropped as a known false positive.
      const alert = await deps.cases.getAlert(item.alert_id);
      if (!alert?.case_id) {
        out.push({ ...base, skipped: 'no case: the alert was suppressed as a known false positive' });
        continue;
      }
      if (alert.disposition && alert.disposition.verdict !== 'true_positive') {
        out.push({ ...base, case_id: alert.case_id, skipped: `the alert was dispositioned ${alert.disposition.verdict}` });
        continue;
      }
      caseId = alert.case_id;
    }
    const c = await deps.cases.getCase(caseId);
    if (!c) continue;
    if (c.status === 'closed' || c.status === 'appealed') {
      out.push({ ...base, case_id: caseId, skipped: `the case is ${c.status}` });
      continue;
    }

    // Declared resellers are watched, never stopped automatically: their customers' traffic is
    // not theirs (docs/detection.md).
    let decision = match.action;
    let reason = match.reason;
    const reseller = await holdsDeclaredReseller(deps.store, cluster.members);
    if (reseller && decisionRank(decision) > decisionRank('monitor')) {
      reason = `${reason} (rule said ${decision}; the cluster holds a declared reseller, so monitor only: review the case)`;
      decision = 'monitor';
    }
    const wanted: Subject[] =
      match.subject === 'accounts' ? [...cluster.members].sort().map((id) => ({ kind: 'account' as const, id }))
      : match.subject === 'org' ? await caseSubjects(deps.store, c, 'org', cluster.members)
      : [{ kind: 'cluster', id: cluster.cluster_id }];
    const at = deps.now();
    const expires_at = match.expires_in_ms ? new Date(at + match.expires_in_ms).toISOString() : undefined;
    const todo = mode === 'enforce' ? await notYetActed(deps, c, wanted, match, decision, at) : notYetRecorded(c, wanted, match, decision);
    const result: AutoEnforcementOutcome = { ...base, decision, case_id: caseId, ...(reseller ? { reseller: true } : {}) };
    if (!todo.length) {
      out.push({ ...result, skipped: mode === 'enforce' ? 'already acted on' : 'already recorded' });
      continue;
    }
    if (mode === 'enforce') {
      const { actions } = await actForCase(deps, caseId, { action: decision as Exclude<typeof decision, 'allow'>, reason, author: author(match), subjects: todo, ...(expires_at ? { expires_at } : {}), ...(match.params ? { params: { ...match.params } } : {}) });
      out.push({ ...result, subjects: todo, action_ids: actions.map((a) => a.action_id) });
    } else {
      for (const subject of todo) {
        await recordCaseWouldAct(deps.cases, caseId, { rule: match.ref, decision, subject, reason, ...(expires_at ? { expires_at } : {}) }, { by: author(match), at: new Date(at).toISOString(), ...(deps.audit ? { audit: deps.audit } : {}) });
      }
      out.push({ ...result, subjects: todo });
    }
  }
  return out;
}

async function holdsDeclaredReseller(store: AutoEnforcementDeps['store'], members: readonly string[]): Promise<boolean> {
  const orgs = new Map<string, boolean>();
  for (const id of members) {
    const a = await store.getAccount(id);
    if (!a) continue;
    if (a.declared_use === 'reseller') return true;
    if (!orgs.has(a.org_id)) orgs.set(a.org_id, (await store.getOrg(a.org_id))?.declared_use === 'reseller');
    if (orgs.get(a.org_id)) return true;
  }
  return false;
}

/**
 * Subjects this rule has not acted on for the case. A rule's action that was reversed counts as
 * acted on (an analyst's reversal sticks); one that expired does not. A subject already under an
 * action at least as severe (an analyst's, say) is left alone.
 */
async function notYetActed(deps: AutoEnforcementDeps, c: Case, wanted: Subject[], match: EnforcementMatch, decision: EnforcementAction['decision'], now: number): Promise<Subject[]> {
  const actions = (await Promise.all(c.actions.map((id) => deps.store.getAction(id)))).filter((a): a is EnforcementAction => !!a);
  const live = (a: EnforcementAction) => !a.reversed_at && (!a.expires_at || Date.parse(a.expires_at) > now);
  return wanted.filter(
    (s) =>
      !actions.some((a) => sameSubject(a.subject, s) && ((a.author === author(match) && (a.reversed_at || live(a))) || (live(a) && decisionRank(a.decision) >= decisionRank(decision)))),
  );
}

function notYetRecorded(c: Case, wanted: Subject[], match: EnforcementMatch, decision: EnforcementAction['decision']): Subject[] {
  const seen = new Set(c.timeline.filter((t) => t.kind === 'would_act' && t.by === author(match)).map((t) => t.ref));
  return wanted.filter((subject) => !seen.has(wouldActRef({ decision, subject })));
}

/** One automatic action taken or recorded, as `warden policy enforcement-report` lists it. */
export interface AutoEnforcementEntry {
  at: string;
  case_id: string;
  /** The rule id (from the author `auto:<id>`). */
  rule: string;
  /** `would_act`: dry run, nothing enforced; `action`: enforced. */
  kind: 'would_act' | 'action';
  detail: string;
  /** `action_id` for an enforced action; `<decision>:<kind>:<id>` for a would-be one. */
  ref?: string;
  /** For enforced actions: `in_force`, `reversed`, `expired` (or `unknown` when not in the store). */
  state?: 'in_force' | 'reversed' | 'expired' | 'unknown';
}

/** Every automatic action taken or recorded on cases updated since `since`, newest first. */
export async function autoEnforcementReport(
  deps: { cases: AutoEnforcementDeps['cases']; store: Pick<StateStore, 'getAction'>; now: () => number },
  opts: { since?: string; limit?: number } = {},
): Promise<AutoEnforcementEntry[]> {
  const out: AutoEnforcementEntry[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await deps.cases.listCases({ limit: 500, ...(after ? { after } : {}) });
    for (const c of page) {
      if (opts.since && c.updated_at < opts.since) continue;
      for (const t of c.timeline) {
        if (!t.by.startsWith('auto:') || (t.kind !== 'would_act' && t.kind !== 'action')) continue;
        if (opts.since && t.at < opts.since) continue;
        const e: AutoEnforcementEntry = { at: t.at, case_id: c.case_id, rule: t.by.slice(5), kind: t.kind, detail: t.detail, ...(t.ref ? { ref: t.ref } : {}) };
        if (t.kind === 'action' && t.ref) {
          const a = await deps.store.getAction(t.ref);
          e.state = !a ? 'unknown' : a.reversed_at ? 'reversed' : a.expires_at && Date.parse(a.expires_at) <= deps.now() ? 'expired' : 'in_force';
        }
        out.push(e);
      }
    }
    if (page.length < 500) break;
    after = page[page.length - 1]!.case_id;
  }
  out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return opts.limit ? out.slice(0, opts.limit) : out;
}

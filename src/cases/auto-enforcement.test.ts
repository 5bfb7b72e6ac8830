import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, AuditEntry, EnforcementAction, EnforcementState } from '../core/index.js';
import { compilePolicy, type EnforcementMatch } from '../policy/index.js';
import { openSqliteCaseStore, openSqliteEnforcementState, openSqliteStore, type SqliteCaseStore, type SqliteStore } from '../store/index.js';
import { applyAutoEnforcement, autoEnforcementReport, type AutoEnforcementDeps } from './auto-enforcement.js';
import { ingestAlerts } from './ingest.js';
import { disposeAlert, setCaseStatus } from './case-ops.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const MEMBERS = ['acc_1', 'acc_2', 'acc_3'];

let store: SqliteStore;
let cases: SqliteCaseStore;
let enforcement: EnforcementState;
let audit: AuditEntry[];
let deps: AutoEnforcementDeps;

const match = (over: Partial<EnforcementMatch> = {}): EnforcementMatch => ({ rule: 'campaign', ref: 'campaign@3', action: 'block', subject: 'cluster', expires_in_ms: 86_400_000, reason: 'linked accounts', ...over });
const alert = (id = 'al_1'): Alert => ({ alert_id: id, detector: 'distillation', subjects: { accounts: MEMBERS, cluster_id: 'cl_1' }, score: 0.95, labels: ['distillation'], evidence: [{ code: 'cot', detail: 'chain-of-thought sweeps', weight: 0.6 }], created_at: iso(T0) });
const item = (m = match(), alertId = 'al_1') => ({ cluster: { cluster_id: 'cl_1', members: MEMBERS }, alert_id: alertId, match: m });
const ingest = async (a = alert()) => (await ingestAlerts(cases, [a], { now: () => iso(T0) })).placed;
const active = async () => enforcement.active(iso(T0));

beforeEach(async () => {
  audit = [];
  store = openSqliteStore({ path: ':memory:' });
  cases = openSqliteCaseStore({ db: store.db });
  enforcement = openSqliteEnforcementState({ store });
  for (const org of ['org_a', 'org_b']) await store.createOrg({ org_id: org, name: org, aliases: [], verification: 'email', owners: [], created_at: iso(T0), updated_at: iso(T0), screening: null });
  for (const [i, id] of MEMBERS.entries()) await store.createAccount({ account_id: id, org_id: i === 2 ? 'org_b' : 'org_a', created_at: iso(T0), status: 'active' });
  deps = { cases, store, enforcement, now: () => T0, audit: { append: async (e: AuditEntry) => void audit.push(e) as never } };
});
afterEach(async () => {
  await enforcement.close();
  await store.close();
});

describe('applyAutoEnforcement', () => {
  it('acts on the cluster through the case, authored by the rule, with its expiry', async () => {
    const placed = await ingest();
    const [o] = await applyAutoEnforcement(deps, 'enforce', [item()], placed);
    expect(o).toMatchObject({ mode: 'enforce', decision: 'block', case_id: placed['al_1'], subjects: [{ kind: 'cluster', id: 'cl_1' }] });
    const [a] = await active();
    expect(a).toMatchObject({ decision: 'block', author: 'auto:campaign', source: `case:${placed['al_1']}`, subject: { kind: 'cluster', id: 'cl_1' }, expires_at: iso(T0 + 86_400_000), reason: 'linked accounts' });
    const c = (await cases.getCase(placed['al_1']!))!;
    expect(c.status).toBe('actioned');
    expect(c.actions).toEqual([a!.action_id]);
    expect(audit.map((e) => `${e.type}:${e.actor}`)).toEqual(['action.put:auto:campaign', 'case.action:auto:campaign']);
  });

  it('acts on the accounts or on their orgs when the rule says so', async () => {
    const placed = await ingest();
    await applyAutoEnforcement(deps, 'enforce', [item(match({ subject: 'org', action: 'step_up' }))], placed);
    expect((await active()).map((a) => `${a.decision}:${a.subject.kind}:${a.subject.id}`).sort()).toEqual(['step_up:org:org_a', 'step_up:org:org_b']);
    await applyAutoEnforcement(deps, 'enforce', [item(match({ rule: 'acc', ref: 'acc@3', subject: 'accounts', action: 'throttle', params: { requests_per_minute: 5 } }))], placed);
    const accs = (await active()).filter((a) => a.subject.kind === 'account');
    expect(accs.map((a) => a.subject.id).sort()).toEqual(MEMBERS);
    expect(accs[0]!.params).toEqual({ requests_per_minute: 5 });
  });

  it('never blocks a cluster holding a declared reseller: monitor only, said on the case', async () => {
    const org = (await store.getOrg('org_b'))!;
    await store.updateOrg({ ...org, declared_use: 'reseller' });
    const placed = await ingest();
    const [o] = await applyAutoEnforcement(deps, 'enforce', [item()], placed);
    expect(o).toMatchObject({ decision: 'monitor', reseller: true });
    const [a] = await active();
    expect(a!.decision).toBe('monitor');
    expect(a!.reason).toContain('declared reseller');
  });

  it('does not act twice for the same rule and subject, and a reversal sticks', async () => {
    const placed = await ingest();
    await applyAutoEnforcement(deps, 'enforce', [item()], placed);
    const [again] = await applyAutoEnforcement(deps, 'enforce', [item()], {}); // the alert is a duplicate now
    expect(again).toMatchObject({ skipped: 'already acted on', subjects: [] });
    const [a] = await active();
    await enforcement.apply({ type: 'reverse', action: { ...a!, reversed_at: iso(T0), reversed_by: 'analyst', reversed_reason: 'fp' } });
    const [after] = await applyAutoEnforcement(deps, 'enforce', [item()], {});
    expect(after!.skipped).toBe('already acted on');
    expect(await active()).toEqual([]);
  });

  it('leaves alone a finding dispositioned false positive (and its repeats), a case under appeal and a closed case', async () => {
    const placed = await ingest();
    const caseId = placed['al_1']!;
    await disposeAlert(cases, 'al_1', { verdict: 'false_positive', reason: 'approved evaluation', by: 'analyst', at: iso(T0) });
    expect((await applyAutoEnforcement(deps, 'enforce', [item()], {}))[0]!.skipped).toBe('the alert was dispositioned false_positive');
    // The same evidence raised again is suppressed by ingest: no case, no action.
    const again = await ingest(alert('al_2'));
    expect(again).toEqual({});
    expect((await applyAutoEnforcement(deps, 'enforce', [item(match(), 'al_2')], again))[0]!.skipped).toMatch(/^no case/);

    // New evidence joins the case; under appeal, then closed, nothing is done.
    const fresh = await ingest({ ...alert('al_3'), evidence: [{ code: 'shared_card', detail: 'one card', weight: 0.5 }] });
    expect(fresh['al_3']).toBe(caseId);
    await setCaseStatus(cases, caseId, 'appealed', { by: 'customer:acc_1', at: iso(T0) });
    expect((await applyAutoEnforcement(deps, 'enforce', [item(match(), 'al_3')], fresh))[0]!.skipped).toBe('the case is appealed');
    await setCaseStatus(cases, caseId, 'closed', { by: 'analyst', at: iso(T0) });
    expect((await applyAutoEnforcement(deps, 'enforce', [item(match(), 'al_3')], {}))[0]!.skipped).toBe('the case is closed');
    expect(await active()).toEqual([]);
  });

  it('in dry run records would_act on the case and in the audit log, once, and acts on nothing', async () => {
    const placed = await ingest();
    const [o] = await applyAutoEnforcement(deps, 'dry_run', [item()], placed);
    expect(o).toMatchObject({ mode: 'dry_run', subjects: [{ kind: 'cluster', id: 'cl_1' }], action_ids: [] });
    expect(await active()).toEqual([]);
    const c = (await cases.getCase(placed['al_1']!))!;
    expect(c.status).toBe('open');
    expect(c.timeline.filter((t) => t.kind === 'would_act')).toEqual([
      { at: iso(T0), kind: 'would_act', by: 'auto:campaign', ref: 'block:cluster:cl_1', detail: `would block cluster cl_1 until ${iso(T0 + 86_400_000)} (rule campaign@3, dry run: nothing enforced): linked accounts` },
    ]);
    expect(c.snapshots.at(-1)!.decision).toBe('would_act:campaign@3');
    expect(audit.map((e) => e.type)).toEqual(['case.would_act']);
    expect((await applyAutoEnforcement(deps, 'dry_run', [item()], {}))[0]!.skipped).toBe('already recorded');

    const report = await autoEnforcementReport({ cases, store, now: () => T0 });
    expect(report).toMatchObject([{ kind: 'would_act', rule: 'campaign', case_id: c.case_id, ref: 'block:cluster:cl_1' }]);
  });

  it('skips open_case matches: the case is opened by ingest alone', async () => {
    const placed = await ingest();
    expect(await applyAutoEnforcement(deps, 'enforce', [item(match({ action: 'open_case' }))], placed)).toEqual([]);
    expect(await active()).toEqual([]);
  });

  it('works from a compiled policy', async () => {
    const p = compilePolicy('rules: []\nenforcement:\n  mode: enforce\n  rules:\n    - id: hi\n      when: { risk_gte: 0.9 }\n      then: { action: step_up, expires_in: 12h }\n', { version: 2 });
    const m = p.enforcement.match({ cluster_id: 'cl_1', members: MEMBERS, labels: [], risk: 0.95, recommended_action: 'block', evidence: [] })!;
    const placed = await ingest();
    await applyAutoEnforcement(deps, p.enforcement.mode, [item(m)], placed);
    expect((await active()).map((a: EnforcementAction) => [a.decision, a.author, a.expires_at])).toEqual([['step_up', 'auto:hi', iso(T0 + 12 * 3_600_000)]]);
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert, EnforcementAction } from '../core/index.js';
import { openSqliteCaseStore, type SqliteCaseStore } from '../store/index.js';
import { assignCase, disposeAlert, recordCaseAction, recordCaseReversal, setCaseStatus } from './case-ops.js';
import { alertFingerprint, ingestAlerts, severityFor } from './ingest.js';
import { caseReportJson } from './report.js';
import { auditKeyId, verifyAuditChain } from './audit-chain.js';
import { createAuditLog } from './audit-log.js';

let n = 0;
const id = (p: string) => `${p}_${++n}`;

function alert(over: Partial<Alert> & { accounts?: string[]; cluster?: string; entity?: string } = {}): Alert {
  const { accounts, cluster, entity, ...rest } = over;
  return {
    alert_id: id('al'),
    detector: 'hydra_cluster',
    subjects: {
      accounts: accounts ?? [id('acc')],
      ...(cluster ? { cluster_id: cluster } : {}),
      ...(entity ? { entity } : {}),
    },
    score: 0.8,
    evidence: [{ code: 'shared_payment_fingerprint', detail: 'one card on 3 accounts', weight: 0.4, data: { accounts: 3 } }],
    created_at: '2026-03-01T00:00:00.000Z',
    ...rest,
  };
}

let clock = Date.parse('2026-03-02T00:00:00.000Z');
const deps = () => ({ now: () => new Date((clock += 1000)).toISOString() });

const stores: SqliteCaseStore[] = [];
function store(): SqliteCaseStore {
  const s = openSqliteCaseStore({ path: ':memory:' });
  stores.push(s);
  return s;
}
afterEach(async () => {
  while (stores.length) await stores.pop()!.close();
});

describe('alertFingerprint', () => {
  it('ignores order, id, time and score, but not the evidence or subjects', () => {
    const a = alert({ accounts: ['a1', 'a2'], cluster: 'cl_1' });
    const same = {
      ...a,
      alert_id: 'other',
      score: 0.1,
      created_at: '2027-01-01T00:00:00Z',
      subjects: { ...a.subjects, accounts: ['a2', 'a1', 'a1'] },
    };
    expect(alertFingerprint(same)).toBe(alertFingerprint(a));
    expect(alertFingerprint({ ...a, evidence: [{ ...a.evidence[0]!, data: { accounts: 4 } }] })).not.toBe(alertFingerprint(a));
    expect(alertFingerprint({ ...a, subjects: { ...a.subjects, accounts: ['a1'] } })).not.toBe(alertFingerprint(a));
    expect(alertFingerprint({ ...a, detector: 'distillation' })).not.toBe(alertFingerprint(a));
  });
});

describe('severityFor', () => {
  it('grows with the score, and one step with attribution or ten accounts', () => {
    expect(severityFor(0.3, 1, false)).toBe('low');
    expect(severityFor(0.6, 1, false)).toBe('medium');
    expect(severityFor(0.8, 1, false)).toBe('high');
    expect(severityFor(0.95, 1, false)).toBe('critical');
    expect(severityFor(0.6, 1, true)).toBe('high');
    expect(severityFor(0.3, 12, false)).toBe('medium');
    expect(severityFor(0.95, 12, true)).toBe('critical');
  });
});

describe('ingestAlerts', () => {
  it('merges per-account alerts about one cluster into one case, not one per account', async () => {
    const s = store();
    const alerts = Array.from({ length: 12 }, (_, i) => alert({ accounts: [`acc_c${i}`], cluster: 'cl_7', score: 0.5 + i * 0.03 }));
    const r = await ingestAlerts(s, alerts, deps());
    expect(r.created.length).toBe(1);
    const c = (await s.getCase(r.created[0]!))!;
    expect(c.accounts.length).toBe(12);
    expect(c.clusters).toEqual(['cl_7']);
    expect(c.alerts.length).toBe(12);
    expect(c.score).toBeCloseTo(0.83);
    expect(c.severity).toBe('critical'); // high from 0.83, one step for 12 accounts
    expect(c.title).toBe('Cluster cl_7 (12 accounts): hydra_cluster');
    expect(Object.values(r.placed).every((x) => x === c.case_id)).toBe(true);
  });

  it('joins later alerts to the open case of their cluster, entity or account', async () => {
    const s = store();
    const first = await ingestAlerts(s, [alert({ accounts: ['a1', 'a2'], cluster: 'cl_1' })], deps());
    const caseId = first.created[0]!;
    const r = await ingestAlerts(
      s,
      [
        alert({ accounts: ['a9'], cluster: 'cl_1', detector: 'distillation', score: 0.95 }),
        alert({ accounts: ['a2'], detector: 'key_sharing' }),
      ],
      deps(),
    );
    expect(r.created).toEqual([]);
    expect(r.updated).toEqual([caseId]);
    const c = (await s.getCase(caseId))!;
    expect(c.accounts.sort()).toEqual(['a1', 'a2', 'a9']);
    expect(c.severity).toBe('critical');
    expect(c.title).toBe('Cluster cl_1 (3 accounts): hydra_cluster, distillation, key_sharing');
    expect(c.timeline.filter((t) => t.kind === 'alert').length).toBe(3);
    expect(c.timeline.some((t) => t.kind === 'severity' && t.detail.startsWith('high → critical'))).toBe(true);
  });

  it('groups a batch transitively (shared accounts bridge clusters and entities) and keeps unrelated accounts apart', async () => {
    const s = store();
    const r = await ingestAlerts(
      s,
      [
        alert({ accounts: ['x1'], cluster: 'cl_a' }),
        alert({ accounts: ['x1', 'x2'], entity: 'ent_1' }),
        alert({ accounts: ['x3'], entity: 'ent_1' }),
        alert({ accounts: ['lonely'] }),
      ],
      deps(),
    );
    expect(r.created.length).toBe(2);
    const cases = await s.listCases();
    const big = cases.find((c) => c.accounts.length === 3)!;
    expect(big.accounts.sort()).toEqual(['x1', 'x2', 'x3']);
    expect(big.entity).toBe('ent_1');
    expect(cases.find((c) => c.accounts.includes('lonely'))!.title).toBe('Account lonely: hydra_cluster');
  });

  it('opens a new case when the matching one is closed', async () => {
    const s = store();
    const first = await ingestAlerts(s, [alert({ cluster: 'cl_z' })], deps());
    await setCaseStatus(s, first.created[0]!, 'closed', { by: 'ana', at: '2026-03-05T00:00:00.000Z', reason: 'accounts deleted' });
    const again = await ingestAlerts(s, [alert({ cluster: 'cl_z' })], deps());
    expect(again.created.length).toBe(1);
    expect(again.created[0]).not.toBe(first.created[0]);
  });

  it('does not raise a dispositioned false positive again for the same evidence, but does for new evidence', async () => {
    const s = store();
    const a = alert({ accounts: ['u1', 'u2'], cluster: 'cl_fp' });
    await ingestAlerts(s, [a], deps());
    await disposeAlert(s, a.alert_id, { verdict: 'false_positive', reason: 'one university lab', by: 'ana', at: '2026-03-03T00:00:00.000Z' });
    const repeat = { ...a, alert_id: id('al'), score: 0.9, created_at: '2026-03-04T00:00:00.000Z' };
    const r = await ingestAlerts(s, [repeat], deps());
    expect(r.suppressed).toEqual([{ alert_id: repeat.alert_id, by_alert: a.alert_id }]);
    expect(await s.getAlert(repeat.alert_id)).toBeNull();
    const changed = { ...repeat, alert_id: id('al'), evidence: [{ code: 'shared_payment_fingerprint', detail: 'one card on 9 accounts', weight: 0.6, data: { accounts: 9 } }] };
    const r2 = await ingestAlerts(s, [changed], deps());
    expect(r2.suppressed).toEqual([]);
    expect(Object.keys(r2.placed)).toEqual([changed.alert_id]);
  });

  it('skips an alert id it already has and refuses an alert naming no subject', async () => {
    const s = store();
    const a = alert();
    await ingestAlerts(s, [a], deps());
    expect((await ingestAlerts(s, [a], deps())).duplicates).toEqual([a.alert_id]);
    await expect(ingestAlerts(s, [{ ...alert(), subjects: { accounts: [] } }], deps())).rejects.toThrow(/alerts\[0\].*names no account/);
  });

  it('keeps a title an analyst changed', async () => {
    const s = store();
    const r = await ingestAlerts(s, [alert({ cluster: 'cl_t' })], deps());
    const c = (await s.getCase(r.created[0]!))!;
    await s.updateCase({ ...c, title: 'Reseller farm, see ticket 42' });
    await ingestAlerts(s, [alert({ cluster: 'cl_t', detector: 'distillation' })], deps());
    expect((await s.getCase(c.case_id))!.title).toBe('Reseller farm, see ticket 42');
  });
});

function action(over: Partial<EnforcementAction> = {}): EnforcementAction {
  return {
    action_id: id('act'),
    subject: { kind: 'cluster', id: 'cl_r' },
    decision: 'block',
    reason: 'hydra cluster attributed to ent_r',
    author: 'ana@example.test',
    created_at: '2026-03-05T00:00:00.000Z',
    ...over,
  };
}

describe('decisions on a case', () => {
  it('snapshots the evidence at each action, unchanged by later dispositions', async () => {
    const s = store();
    const a1 = alert({ cluster: 'cl_r', entity: 'ent_r', score: 0.9 });
    const a2 = alert({ cluster: 'cl_r', detector: 'distillation', evidence: [{ code: 'templated_prompts', detail: '97% one template', weight: 0.5 }] });
    const r = await ingestAlerts(s, [a1, a2], deps());
    const caseId = r.created[0]!;
    const act = action();
    const c1 = await recordCaseAction(s, caseId, act, { by: 'ana', at: '2026-03-05T00:00:00.000Z' });
    expect(c1.status).toBe('actioned');
    expect(c1.actions).toEqual([act.action_id]);
    expect(c1.snapshots[0]).toMatchObject({ decision: `action:${act.action_id}`, alert_ids: [a1.alert_id, a2.alert_id] });
    expect(c1.snapshots[0]!.evidence.map((e) => e.code)).toEqual(['shared_payment_fingerprint', 'templated_prompts']);
    await disposeAlert(s, a2.alert_id, { verdict: 'false_positive', reason: 'benchmark run', by: 'bo', at: '2026-03-06T00:00:00.000Z' });
    const after = (await s.getCase(caseId))!;
    expect(after.snapshots[0]).toEqual(c1.snapshots[0]);
    expect(after.snapshots.at(-1)!.decision).toBe(`disposition:${a2.alert_id}:false_positive`);
    expect((await recordCaseAction(s, caseId, act, { by: 'ana', at: '2026-03-07T00:00:00.000Z' })).actions).toEqual([act.action_id]);
  });

  it('changes status and assignee with timeline entries, and closing keeps a snapshot', async () => {
    const s = store();
    const r = await ingestAlerts(s, [alert({ cluster: 'cl_s' })], deps());
    const caseId = r.created[0]!;
    await assignCase(s, caseId, 'bo@example.test', { by: 'ana', at: '2026-03-05T00:00:00.000Z' });
    await setCaseStatus(s, caseId, 'investigating', { by: 'bo', at: '2026-03-05T01:00:00.000Z' });
    const closed = await setCaseStatus(s, caseId, 'closed', { by: 'bo', at: '2026-03-05T02:00:00.000Z', reason: 'no abuse' });
    expect(closed.assignee).toBe('bo@example.test');
    expect(closed.timeline.filter((t) => t.kind === 'status').map((t) => t.detail)).toEqual(['open → investigating', 'investigating → closed (no abuse)']);
    expect(closed.snapshots.at(-1)).toMatchObject({ decision: 'close', data: { reason: 'no abuse' } });
    await expect(setCaseStatus(s, caseId, 'bogus' as never, { by: 'bo', at: '2026-03-05T02:00:00.000Z' })).rejects.toThrow(/status: expected one of/);
    await expect(setCaseStatus(s, 'case_missing', 'open', { by: 'bo', at: '2026-03-05T02:00:00.000Z' })).rejects.toThrow(/does not exist/);
  });
});

describe('caseReportJson', () => {
  it('reports summary, volumes, weighted attribution reasoning, actions and timeline', async () => {
    const s = store();
    const a1 = alert({
      accounts: ['r1', 'r2'],
      cluster: 'cl_rep',
      entity: 'ent_rep',
      score: 0.92,
      evidence: [
        { code: 'asn_operated_by_entity', detail: 'AS64500 is operated by ent_rep', weight: 0.3 },
        { code: 'shared_payment_fingerprint', detail: 'one card', weight: 0.4 },
      ],
    });
    const a2 = alert({ accounts: ['r3'], cluster: 'cl_rep', detector: 'distillation', evidence: [{ code: 'shared_payment_fingerprint', detail: 'one card (r3)', weight: 0.3 }] });
    const a3 = alert({ accounts: ['r3'], cluster: 'cl_rep', detector: 'capability_probing', evidence: [{ code: 'probe_suite', detail: 'known eval prompts', weight: 0.9 }] });
    const caseId = (await ingestAlerts(s, [a1, a2, a3], deps())).created[0]!;
    await disposeAlert(s, a3.alert_id, { verdict: 'benign', reason: 'their own eval', by: 'ana', at: '2026-03-04T00:00:00.000Z' });
    const act = action({ subject: { kind: 'cluster', id: 'cl_rep' } });
    const reversed = action({ decision: 'throttle', reversed_at: '2026-03-06T00:00:00.000Z', reversed_by: 'lead', reversed_reason: 'superseded by block' });
    await recordCaseAction(s, caseId, act, { by: 'ana', at: '2026-03-05T00:00:00.000Z' });
    await recordCaseAction(s, caseId, reversed, { by: 'ana', at: '2026-03-05T00:00:01.000Z' });
    await recordCaseReversal(s, caseId, reversed, { by: 'lead', at: '2026-03-06T00:00:00.000Z' });
    await s.addNote(caseId, { note_id: 'n1', author: 'ana', text: 'Same card as case 12.', at: '2026-03-05T00:00:02.000Z' });
    const c = (await s.getCase(caseId))!;
    const input = {
      case: c,
      alerts: await s.listAlerts({ case_id: caseId }),
      actions: [act, reversed],
      usage: { requests: 1200, input_tokens: 9e5, output_tokens: 3e6, by_account: { r1: { requests: 100, input_tokens: 1, output_tokens: 1 }, r3: { requests: 900, input_tokens: 1, output_tokens: 1 } } },
      generated_at: '2026-03-07T00:00:00.000Z',
      generated_by: 'Fictional Models Inc',
    };
    const rep = caseReportJson(input);
    expect(rep.subjects).toEqual({ accounts: ['r1', 'r2', 'r3'], clusters: ['cl_rep'], entity: 'ent_rep' });
    expect(rep.volumes).toMatchObject({
      alerts: 3,
      alerts_by_detector: { capability_probing: 1, distillation: 1, hydra_cluster: 1 },
      alerts_by_disposition: { benign: 1, open: 2 },
      accounts: 3,
      actions: 2,
      actions_in_force: 1,
      actions_reversed: 1,
    });
    expect(Object.keys(rep.volumes.usage!.by_account!)).toEqual(['r3', 'r1']);
    // The benign alert's heavy probe evidence is set aside, not counted.
    expect(rep.attribution.reasoning.map((r) => [r.code, r.weight, r.share, r.count])).toEqual([
      ['shared_payment_fingerprint', 0.7, 0.7, 2],
      ['asn_operated_by_entity', 0.3, 0.3, 1],
    ]);
    expect(rep.attribution.discounted).toEqual([{ alert_id: a3.alert_id, verdict: 'benign', reason: 'their own eval', codes: ['probe_suite'] }]);
    expect(rep.summary).toContain('3 account(s) in cluster(s) cl_rep, attributed to ent_rep');
    expect(rep.summary).toContain('1 set aside as false positive or benign');
    expect(rep.summary).toContain('shared_payment_fingerprint (70%)');
    expect(rep.actions.find((a) => a.action_id === reversed.action_id)).toMatchObject({ reversed_by: 'lead', found: true });
    expect(rep.evidence_snapshots.length).toBe(c.snapshots.length);
    expect(rep.notes).toEqual(c.notes);
    expect(rep.timeline.map((t) => t.at)).toEqual([...rep.timeline.map((t) => t.at)].sort());
    expect(JSON.stringify(caseReportJson(input))).toBe(JSON.stringify(rep));
    const missing = caseReportJson({ ...input, actions: [] });
    expect(missing.actions.every((a) => !a.found)).toBe(true);
  });
});

describe('decisions reach the audit log', () => {
  it('records detections, suppressions, actions, status changes and dispositions in a chain that verifies', async () => {
    const s = store();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const audit = createAuditLog({ store: s, key: { privateKey, publicKey, keyId: auditKeyId(publicKey) }, chain: 'cases-1' });
    const a = alert({ cluster: 'cl_au', accounts: ['p1', 'p2'] });
    const caseId = (await ingestAlerts(s, [a], { ...deps(), audit })).created[0]!;
    const act = action({ subject: { kind: 'cluster', id: 'cl_au' } });
    await recordCaseAction(s, caseId, act, { by: 'ana', at: '2026-03-05T00:00:00.000Z', audit });
    await disposeAlert(s, a.alert_id, { verdict: 'false_positive', reason: 'lab', by: 'ana', at: '2026-03-06T00:00:00.000Z' }, { audit });
    await recordCaseReversal(s, caseId, { ...act, reversed_reason: 'false positive' }, { by: 'ana', at: '2026-03-06T00:00:01.000Z', audit });
    await setCaseStatus(s, caseId, 'closed', { by: 'ana', at: '2026-03-06T00:00:02.000Z', audit });
    await ingestAlerts(s, [{ ...a, alert_id: id('al') }], { ...deps(), audit });
    const records = await audit.list();
    expect(records.map((r) => r.type)).toEqual(['detection.alert', 'case.action', 'alert.disposition', 'case.reversal', 'case.status', 'detection.suppressed']);
    expect(records[0]).toMatchObject({ actor: 'detector:hydra_cluster', subject: { kind: 'cluster', id: 'cl_au' }, data: { alert_id: a.alert_id, case_id: caseId } });
    expect(records[1]).toMatchObject({ actor: 'ana', subject: act.subject, data: { action_id: act.action_id, decision: 'block' } });
    expect(verifyAuditChain(records, publicKey).ok).toBe(true);
    await audit.close();
  });
});

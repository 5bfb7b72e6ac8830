/**
 * The `CaseStore` and `AuditStore` contract: every implementation (SQLite now, PostgreSQL
 * later) registers these tests with a factory returning a fresh, empty store for each test.
 * Audit records here are shaped but not really signed: the store keeps records, it does not
 * check them (`verifyAuditChain` in `src/cases` does).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert, AuditRecord, AuditStore, Case, CaseStore } from '../../core/index.js';
import { isWardenError } from '../../core/index.js';
import { uid } from './fixtures.js';

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected a rejection with code ${code}`).not.toBeNull();
  expect(isWardenError(err) ? err.code : err).toBe(code);
}

export function makeCase(over: Partial<Case> = {}): Case {
  return {
    case_id: uid('case'),
    title: 'Cluster of fictional accounts',
    severity: 'high',
    status: 'open',
    created_at: '2026-03-01T00:00:00.000Z',
    updated_at: '2026-03-01T00:00:00.000Z',
    version: 1,
    accounts: [],
    clusters: [],
    alerts: [],
    notes: [],
    snapshots: [],
    actions: [],
    timeline: [{ at: '2026-03-01T00:00:00.000Z', kind: 'created', by: 'system', detail: 'opened' }],
    score: 0,
    ...over,
  };
}

export function makeAlert(over: Partial<Alert> = {}): Alert {
  return {
    alert_id: uid('al'),
    detector: 'hydra_cluster',
    subjects: { accounts: [uid('acc'), uid('acc')], cluster_id: uid('cl') },
    score: 0.8,
    labels: ['hydra_member'],
    evidence: [{ code: 'shared_payment_fingerprint', detail: '2 accounts share one card', weight: 0.4, data: { n: 2 } }],
    created_at: '2026-03-01T01:00:00.000Z',
    fingerprint: uid('fp'),
    ...over,
  };
}

export function makeAuditRecords(chain: string, from: number, n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    const seq = from + i;
    out.push({
      v: 1,
      chain,
      seq,
      prev: seq === 1 ? '0'.repeat(64) : `${String(seq - 1).padStart(4, '0')}${'a'.repeat(60)}`,
      key_id: '0123456789abcdef',
      type: i % 2 ? 'action.put' : 'policy.refusal',
      actor: i % 2 ? 'analyst@example.test' : 'policy:default@3',
      ...(i % 2 ? { subject: { kind: 'account' as const, id: `acc_${i}` } } : {}),
      data: { i, nested: { list: [1, 'two', null] } },
      at: new Date(Date.UTC(2026, 2, 1, 0, 0, seq)).toISOString(),
      hash: `${String(seq).padStart(4, '0')}${'a'.repeat(60)}`,
      sig: 'c2ln',
    });
  }
  return out;
}

export function caseStoreContract(name: string, open: () => Promise<CaseStore & AuditStore>): void {
  describe(`CaseStore contract: ${name}`, () => {
    const opened: (CaseStore & AuditStore)[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      while (opened.length) await opened.pop()!.close();
    });

    it('round-trips a case, returns copies, and refuses a second case with the same id', async () => {
      const s = await fresh();
      const c = makeCase({ accounts: ['a1'], assignee: 'ana@example.test', entity: 'example-conglomerate' });
      await s.createCase(c);
      const got = await s.getCase(c.case_id);
      expect(got).toEqual(c);
      got!.accounts.push('mutated');
      expect((await s.getCase(c.case_id))!.accounts).toEqual(['a1']);
      await expectCode(s.createCase(c), 'CONFLICT');
      expect(await s.getCase('case_missing')).toBeNull();
    });

    it('updates a case only from its current version', async () => {
      const s = await fresh();
      const c = makeCase();
      await s.createCase(c);
      const v2 = await s.updateCase({ ...c, status: 'investigating', assignee: 'bo@example.test' });
      expect(v2.version).toBe(2);
      expect(await s.getCase(c.case_id)).toEqual(v2);
      await expectCode(s.updateCase({ ...c, status: 'closed' }), 'CONFLICT');
      await expectCode(s.updateCase(makeCase()), 'NOT_FOUND');
      await expectCode(s.updateCase({ ...v2, status: 'bogus' as never }), 'VALIDATION');
    });

    it('lists cases by status, severity, assignee, account, cluster and entity, newest update first, with paging', async () => {
      const s = await fresh();
      const a = makeCase({ status: 'open', severity: 'low', accounts: ['acc_x'], updated_at: '2026-03-01T00:00:01.000Z' });
      const b = makeCase({ status: 'closed', severity: 'critical', clusters: ['cl_9'], updated_at: '2026-03-01T00:00:03.000Z' });
      const c = makeCase({ status: 'open', severity: 'high', entity: 'ent_1', assignee: 'ana', updated_at: '2026-03-01T00:00:02.000Z' });
      for (const x of [a, b, c]) await s.createCase(x);
      const ids = (cs: Case[]) => cs.map((x) => x.case_id);
      expect(ids(await s.listCases())).toEqual([b.case_id, c.case_id, a.case_id]);
      expect(ids(await s.listCases({ status: ['open'] }))).toEqual([c.case_id, a.case_id]);
      expect(ids(await s.listCases({ severity: ['critical', 'low'] }))).toEqual([b.case_id, a.case_id]);
      expect(ids(await s.listCases({ assignee: 'ana' }))).toEqual([c.case_id]);
      expect(ids(await s.listCases({ account_id: 'acc_x' }))).toEqual([a.case_id]);
      expect(ids(await s.listCases({ cluster_id: 'cl_9' }))).toEqual([b.case_id]);
      expect(ids(await s.listCases({ entity: 'ent_1' }))).toEqual([c.case_id]);
      const page1 = await s.listCases({ limit: 2 });
      const page2 = await s.listCases({ limit: 2, after: page1.at(-1)!.case_id });
      expect(ids([...page1, ...page2])).toEqual([b.case_id, c.case_id, a.case_id]);
    });

    it('keeps the subject index in step with updates', async () => {
      const s = await fresh();
      const c = makeCase({ accounts: ['acc_old'] });
      await s.createCase(c);
      await s.updateCase({ ...c, accounts: ['acc_new'] });
      expect(await s.listCases({ account_id: 'acc_old' })).toEqual([]);
      expect((await s.listCases({ account_id: 'acc_new' })).length).toBe(1);
    });

    it('adds notes with a timeline entry and a new version', async () => {
      const s = await fresh();
      const c = makeCase();
      await s.createCase(c);
      const note = { note_id: uid('n'), author: 'ana@example.test', text: 'Same card on all 12 accounts.', at: '2026-03-02T00:00:00.000Z' };
      const after = await s.addNote(c.case_id, note);
      expect(after.notes).toEqual([note]);
      expect(after.timeline.at(-1)).toMatchObject({ kind: 'note', by: note.author, ref: note.note_id });
      expect(after.version).toBe(2);
      expect(after.updated_at).toBe(note.at);
      expect(await s.getCase(c.case_id)).toEqual(after);
      await expectCode(s.addNote('case_missing', note), 'NOT_FOUND');
    });

    it('stores alerts once and lists them by case, account, cluster, entity and openness', async () => {
      const s = await fresh();
      const a = makeAlert({ subjects: { accounts: ['acc_1', 'acc_2'], cluster_id: 'cl_1', entity: 'ent_1' } });
      const b = makeAlert({ subjects: { accounts: ['acc_3'] }, created_at: '2026-03-01T02:00:00.000Z' });
      expect(await s.putAlert(a)).toBe(true);
      expect(await s.putAlert({ ...a, score: 0.1 })).toBe(false);
      expect(await s.putAlert(b)).toBe(true);
      expect(await s.getAlert(a.alert_id)).toEqual(a);
      const ids = (xs: Alert[]) => xs.map((x) => x.alert_id);
      expect(ids(await s.listAlerts())).toEqual([a.alert_id, b.alert_id]);
      expect(ids(await s.listAlerts({ account_id: 'acc_2' }))).toEqual([a.alert_id]);
      expect(ids(await s.listAlerts({ cluster_id: 'cl_1' }))).toEqual([a.alert_id]);
      expect(ids(await s.listAlerts({ entity: 'ent_1' }))).toEqual([a.alert_id]);
      await s.recordDisposition(b.alert_id, { verdict: 'benign', reason: 'a university course', by: 'ana', at: '2026-03-03T00:00:00.000Z' });
      expect(ids(await s.listAlerts({ open: true }))).toEqual([a.alert_id]);
      await expectCode(s.putAlert({ ...makeAlert(), score: 2 }), 'VALIDATION');
    });

    it('lists alerts by disposition and creation time', async () => {
      const s = await fresh();
      const at = (h: number) => `2026-03-01T0${h}:00:00.000Z`;
      const [open, tp, fp, bn] = [1, 2, 3, 4].map((h) => makeAlert({ created_at: at(h) }));
      for (const a of [open, tp, fp, bn]) await s.putAlert(a!);
      const d = (verdict: 'true_positive' | 'false_positive' | 'benign') => ({ verdict, reason: `said ${verdict}`, by: 'ana', at: '2026-03-03T00:00:00.000Z' });
      await s.recordDisposition(tp!.alert_id, d('true_positive'));
      await s.recordDisposition(fp!.alert_id, d('false_positive'));
      await s.recordDisposition(bn!.alert_id, d('benign'));
      const ids = (xs: Alert[]) => xs.map((x) => x.alert_id);
      expect(ids(await s.listAlerts({ disposition: 'any' }))).toEqual([tp!.alert_id, fp!.alert_id, bn!.alert_id]);
      expect(ids(await s.listAlerts({ disposition: ['true_positive'] }))).toEqual([tp!.alert_id]);
      expect(ids(await s.listAlerts({ disposition: ['false_positive', 'benign'] }))).toEqual([fp!.alert_id, bn!.alert_id]);
      expect(await s.listAlerts({ disposition: [] })).toEqual([]);
      expect(ids(await s.listAlerts({ since: at(3) }))).toEqual([fp!.alert_id, bn!.alert_id]);
      expect(ids(await s.listAlerts({ disposition: 'any', since: at(2), limit: 2 }))).toEqual([tp!.alert_id, fp!.alert_id]);
      expect((await s.listAlerts({ disposition: ['benign'] }))[0]!.disposition).toEqual(d('benign'));
      await expectCode(s.listAlerts({ since: 'yesterday' }), 'VALIDATION');
    });

    it('links an alert to a case: subjects, score and timeline follow; relinking is a no-op', async () => {
      const s = await fresh();
      const c = makeCase({ accounts: ['acc_0'], score: 0.5 });
      const al = makeAlert({ score: 0.9, subjects: { accounts: ['acc_0', 'acc_1'], cluster_id: 'cl_5', entity: 'ent_7' } });
      await s.createCase(c);
      await s.putAlert(al);
      const linked = await s.linkAlert(c.case_id, al.alert_id, 'system', '2026-03-02T00:00:00.000Z');
      expect(linked.alerts).toEqual([al.alert_id]);
      expect(linked.accounts).toEqual(['acc_0', 'acc_1']);
      expect(linked.clusters).toEqual(['cl_5']);
      expect(linked.entity).toBe('ent_7');
      expect(linked.score).toBe(0.9);
      expect(linked.timeline.at(-1)).toMatchObject({ kind: 'alert', ref: al.alert_id });
      expect((await s.getAlert(al.alert_id))!.case_id).toBe(c.case_id);
      expect((await s.listAlerts({ case_id: c.case_id })).length).toBe(1);
      expect((await s.listCases({ cluster_id: 'cl_5' })).map((x) => x.case_id)).toEqual([c.case_id]);
      const again = await s.linkAlert(c.case_id, al.alert_id, 'system', '2026-03-02T00:00:00.000Z');
      expect(again.version).toBe(linked.version);
      const other = makeCase();
      await s.createCase(other);
      await expectCode(s.linkAlert(other.case_id, al.alert_id, 'system', '2026-03-02T00:00:00.000Z'), 'CONFLICT');
      await expectCode(s.linkAlert(c.case_id, 'al_missing', 'system', '2026-03-02T00:00:00.000Z'), 'NOT_FOUND');
    });

    it('suppresses a false positive’s fingerprint until a true positive lifts it', async () => {
      const s = await fresh();
      const c = makeCase();
      const al = makeAlert();
      await s.createCase(c);
      await s.putAlert(al);
      await s.linkAlert(c.case_id, al.alert_id, 'system', '2026-03-02T00:00:00.000Z');
      expect(await s.isSuppressed(al.fingerprint!)).toBeNull();
      const d = { verdict: 'false_positive' as const, reason: 'shared office network', by: 'ana', at: '2026-03-03T00:00:00.000Z' };
      const disposed = await s.recordDisposition(al.alert_id, d);
      expect(disposed.disposition).toEqual(d);
      expect(await s.isSuppressed(al.fingerprint!)).toEqual({ fingerprint: al.fingerprint, alert_id: al.alert_id, disposition: d });
      expect((await s.getCase(c.case_id))!.timeline.at(-1)).toMatchObject({ kind: 'disposition', ref: al.alert_id });
      await s.recordDisposition(al.alert_id, { ...d, verdict: 'true_positive', reason: 'new evidence' });
      expect(await s.isSuppressed(al.fingerprint!)).toBeNull();
      await expectCode(s.recordDisposition(al.alert_id, { ...d, verdict: 'maybe' as never }), 'VALIDATION');
      await expectCode(s.recordDisposition('al_missing', d), 'NOT_FOUND');
    });

    it('keeps any string exactly: NUL, emoji, lone surrogates, quotes', async () => {
      const s = await fresh();
      const odd = 'nul:\u0000 emoji:🦀 lone:\ud800 quote:" backslash:\\ newline:\n';
      const c = makeCase({ title: odd, accounts: [odd] });
      await s.createCase(c);
      const noted = await s.addNote(c.case_id, { note_id: uid('n'), author: odd, text: odd, at: '2026-03-02T00:00:00.000Z' });
      expect(await s.getCase(c.case_id)).toEqual(noted);
      expect(noted.notes[0]!.text).toBe(odd);
      expect((await s.listCases({ account_id: odd })).map((x) => x.case_id)).toEqual([c.case_id]);
      const al = makeAlert({ evidence: [{ code: 'odd', detail: odd, weight: 0.1, data: { odd } }] });
      await s.putAlert(al);
      expect(await s.getAlert(al.alert_id)).toEqual(al);
    });

    it('serialises concurrent changes to one case: no note, link or disposition is lost', async () => {
      const s = await fresh();
      const c = makeCase();
      await s.createCase(c);
      const alerts = Array.from({ length: 4 }, () => makeAlert());
      for (const a of alerts) await s.putAlert(a);
      const notes = Array.from({ length: 8 }, (_, i) => ({ note_id: uid('n'), author: `analyst-${i}`, text: `note ${i}`, at: '2026-03-02T00:00:00.000Z' }));
      await Promise.all([
        ...notes.map((n) => s.addNote(c.case_id, n)),
        ...alerts.map((a) => s.linkAlert(c.case_id, a.alert_id, 'system', '2026-03-02T00:00:00.000Z')),
      ]);
      await Promise.all(alerts.map((a) => s.recordDisposition(a.alert_id, { verdict: 'true_positive', reason: 'confirmed', by: 'ana', at: '2026-03-03T00:00:00.000Z' })));
      const after = (await s.getCase(c.case_id))!;
      expect(after.notes.map((n) => n.note_id).sort()).toEqual(notes.map((n) => n.note_id).sort());
      expect([...after.alerts].sort()).toEqual(alerts.map((a) => a.alert_id).sort());
      expect(after.timeline.filter((t) => t.kind === 'disposition').length).toBe(alerts.length);
      expect(after.version).toBe(1 + notes.length + alerts.length * 2);
      // Two updates from the same version: exactly one wins.
      const results = await Promise.allSettled([s.updateCase({ ...after, title: 'one' }), s.updateCase({ ...after, title: 'two' })]);
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
      expect(results.filter((r) => r.status === 'rejected' && isWardenError(r.reason, 'CONFLICT')).length).toBe(1);
    });

    it('refuses calls after close, saying to open it again', async () => {
      const s = await open();
      await s.close();
      await expect(s.createCase(makeCase())).rejects.toThrow(/closed/);
      await expect(s.listCases()).rejects.toThrow(/closed/);
      await expect(s.appendAudit(makeAuditRecords('w', 1, 1))).rejects.toThrow(/closed/);
    });
  });

  describe(`AuditStore contract: ${name}`, () => {
    const opened: (CaseStore & AuditStore)[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      while (opened.length) await opened.pop()!.close();
    });

    it('keeps records exactly, in storage order, with heads per chain', async () => {
      const s = await fresh();
      const a = makeAuditRecords('chain-a', 1, 3);
      const b = makeAuditRecords('chain-b', 1, 2);
      await Promise.all([s.appendAudit(a.slice(0, 2)), s.appendAudit(b)]);
      await s.appendAudit(a.slice(2));
      const all = await s.listAudit();
      expect(all.map(({ pos: _pos, ...r }) => r)).toEqual([...a.slice(0, 2), ...b, a[2]]);
      expect(all.map((r) => r.pos)).toEqual([...all.map((r) => r.pos)].sort((x, y) => x - y));
      expect(await s.auditHead('chain-a')).toEqual({ chain: 'chain-a', seq: 3, hash: a[2]!.hash });
      expect(await s.auditHead('chain-z')).toBeNull();
      expect(await s.auditHeads()).toEqual([
        { chain: 'chain-a', seq: 3, hash: a[2]!.hash },
        { chain: 'chain-b', seq: 2, hash: b[1]!.hash },
      ]);
    });

    it('filters by chain, type, actor, subject, time and position', async () => {
      const s = await fresh();
      const a = makeAuditRecords('chain-a', 1, 6);
      await s.appendAudit(a);
      const seqs = (rs: AuditRecord[]) => rs.map((r) => r.seq);
      expect(seqs(await s.listAudit({ type: 'action.put' }))).toEqual([2, 4, 6]);
      expect(seqs(await s.listAudit({ actor: 'policy:default@3' }))).toEqual([1, 3, 5]);
      expect(seqs(await s.listAudit({ subject: { kind: 'account', id: 'acc_3' } }))).toEqual([4]);
      expect(seqs(await s.listAudit({ since: a[1]!.at, until: a[3]!.at }))).toEqual([2, 3]);
      expect(seqs(await s.listAudit({ chain: 'other' }))).toEqual([]);
      const first = await s.listAudit({ limit: 2 });
      expect(seqs(await s.listAudit({ after_pos: first.at(-1)!.pos, limit: 2 }))).toEqual([3, 4]);
    });

    it('commits records appended just before close', async () => {
      const s = await open();
      const recs = makeAuditRecords('chain-c', 1, 3);
      const pending = s.appendAudit(recs);
      await s.close();
      // Queued before close: written, not refused.
      await expect(pending).resolves.toBeUndefined();
    });

    it('keeps records of several chains written at once, each chain in its order', async () => {
      const s = await fresh();
      const chains = ['w-1', 'w-2', 'w-3'];
      const written = chains.map((c) => makeAuditRecords(c, 1, 30));
      // Each writer writes its chain in batches of 5, one batch at a time, like createAuditLog.
      await Promise.all(
        written.map(async (recs) => {
          for (let i = 0; i < recs.length; i += 5) await s.appendAudit(recs.slice(i, i + 5));
        }),
      );
      const all = await s.listAudit();
      expect(all.length).toBe(90);
      for (const c of chains) {
        expect(all.filter((r) => r.chain === c).map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      }
      expect(await s.auditHeads()).toEqual(chains.map((c, i) => ({ chain: c, seq: 30, hash: written[i]![29]!.hash })));
    });

    it('keeps odd strings in records exactly and finds them by them', async () => {
      const s = await fresh();
      // (No lone surrogate here: SQLite text columns turn one into U+FFFD.)
      const odd = 'a\u0000b\\c🦀';
      const [r1, r2] = makeAuditRecords(`c\\${odd.length}`, 1, 2).map((r) => ({ ...r, actor: odd, subject: { kind: 'account' as const, id: odd }, data: { odd } }));
      await s.appendAudit([r1!, r2!]);
      expect((await s.listAudit({ actor: odd })).map(({ pos: _p, ...r }) => r)).toEqual([r1, r2]);
      expect((await s.listAudit({ subject: { kind: 'account', id: odd } })).length).toBe(2);
      expect(await s.listAudit({ actor: 'a' })).toEqual([]);
      expect(await s.auditHead(r1!.chain)).toEqual({ chain: r1!.chain, seq: 2, hash: r2!.hash });
    });

    it('refuses a batch that reuses a (chain, seq), writing none of it', async () => {
      const s = await fresh();
      await s.appendAudit(makeAuditRecords('chain-a', 1, 2));
      await expectCode(s.appendAudit(makeAuditRecords('chain-a', 2, 3)), 'CONFLICT');
      expect((await s.listAudit()).map((r) => r.seq)).toEqual([1, 2]);
    });
  });
}

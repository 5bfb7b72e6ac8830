/**
 * `SqliteCaseStore`: the embedded `CaseStore` and `AuditStore` in SQLite. Cases and alerts are
 * JSON documents with their queryable fields beside them as columns and index tables; the
 * audit log is one row per sealed record, in the order written (`pos`). It can share the state
 * store's file (pass `db`) or use its own (`path`). Reads build fresh objects from rows.
 */
import type {
  Alert,
  AlertDisposition,
  AlertQuery,
  AuditChainHead,
  AuditQuery,
  AuditRecord,
  AuditStore,
  Case,
  CaseNote,
  CaseQuery,
  CaseStore,
  SubjectKind,
  Suppression,
} from '../../core/index.js';
import {
  ALERT_VERDICTS,
  CASE_SEVERITIES,
  CASE_STATUSES,
  ConflictError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '../../core/index.js';
import { GroupCommit, migrate, openDatabase, timeMs, type Migration, type SqliteDatabase, type SqliteSynchronous } from './sqlite.js';

export const CASE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'cases, alerts, suppressions, audit log',
    up(db) {
      db.exec(`
CREATE TABLE cases (
  case_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  assignee TEXT,
  entity TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX cases_by_update ON cases (updated_ms DESC, case_id);
CREATE TABLE case_subjects (
  kind TEXT NOT NULL CHECK (kind IN ('account', 'cluster', 'entity')),
  value TEXT NOT NULL,
  case_id TEXT NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  PRIMARY KEY (kind, value, case_id)
);
CREATE INDEX case_subjects_by_case ON case_subjects (case_id);
CREATE TABLE alerts (
  alert_id TEXT PRIMARY KEY,
  case_id TEXT,
  detector TEXT NOT NULL,
  cluster_id TEXT,
  entity TEXT,
  fingerprint TEXT,
  verdict TEXT,
  created_ms INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX alerts_by_case ON alerts (case_id, created_ms);
CREATE INDEX alerts_by_cluster ON alerts (cluster_id);
CREATE INDEX alerts_by_entity ON alerts (entity);
CREATE TABLE alert_accounts (
  account_id TEXT NOT NULL,
  alert_id TEXT NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
  PRIMARY KEY (account_id, alert_id)
);
CREATE TABLE alert_suppressions (
  fingerprint TEXT PRIMARY KEY,
  alert_id TEXT NOT NULL,
  disposition TEXT NOT NULL
);
CREATE TABLE audit_log (
  pos INTEGER PRIMARY KEY AUTOINCREMENT,
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  prev TEXT NOT NULL,
  key_id TEXT NOT NULL,
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  subject_kind TEXT,
  subject_id TEXT,
  data TEXT NOT NULL,
  at TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  hash TEXT NOT NULL,
  sig TEXT NOT NULL,
  UNIQUE (chain, seq)
);
CREATE INDEX audit_by_time ON audit_log (at_ms);
CREATE INDEX audit_by_subject ON audit_log (subject_kind, subject_id);`);
    },
  },
];

export interface SqliteCaseStoreOptions {
  /** Share an open database (the state store's `db`: the usual wiring). */
  db?: SqliteDatabase;
  /** A file path (or `':memory:'`) when `db` is not given. */
  path?: string;
  synchronous?: SqliteSynchronous;
}

export interface SqliteCaseStore extends CaseStore, AuditStore {
  readonly db: SqliteDatabase;
}

type Row = Record<string, unknown>;

/** Validates a case before it is stored (shared with the PostgreSQL case store). */
export function checkCase(c: Case): void {
  const issues: { path: string; message: string }[] = [];
  const need = (ok: boolean, path: string, message: string) => {
    if (!ok) issues.push({ path, message });
  };
  need(typeof c?.case_id === 'string' && c.case_id !== '', 'case_id', 'a non-empty string');
  need(typeof c?.title === 'string', 'title', 'a string');
  need((CASE_STATUSES as readonly string[]).includes(c?.status), 'status', `one of ${CASE_STATUSES.join(', ')}`);
  need((CASE_SEVERITIES as readonly string[]).includes(c?.severity), 'severity', `one of ${CASE_SEVERITIES.join(', ')}`);
  need(Number.isInteger(c?.version), 'version', 'an integer');
  for (const f of ['accounts', 'clusters', 'alerts', 'notes', 'snapshots', 'actions', 'timeline'] as const) {
    need(Array.isArray(c?.[f]), f, 'an array');
  }
  for (const f of ['created_at', 'updated_at'] as const) {
    need(typeof c?.[f] === 'string' && !Number.isNaN(Date.parse(c[f])), f, 'an RFC 3339 time');
  }
  if (issues.length > 0) {
    throw new ValidationError(`Case ${String(c?.case_id)}: ${issues.map((i) => `${i.path}: expected ${i.message}`).join('; ')}.`, issues);
  }
}

export function checkAlert(a: Alert): void {
  const issues: { path: string; message: string }[] = [];
  const need = (ok: boolean, path: string, message: string) => {
    if (!ok) issues.push({ path, message });
  };
  need(typeof a?.alert_id === 'string' && a.alert_id !== '', 'alert_id', 'a non-empty string');
  need(typeof a?.detector === 'string' && a.detector !== '', 'detector', 'a non-empty string');
  need(Array.isArray(a?.subjects?.accounts), 'subjects.accounts', 'an array of account ids');
  need(typeof a?.score === 'number' && a.score >= 0 && a.score <= 1, 'score', 'a number 0..1');
  need(Array.isArray(a?.evidence), 'evidence', 'an array');
  need(typeof a?.created_at === 'string' && !Number.isNaN(Date.parse(a.created_at)), 'created_at', 'an RFC 3339 time');
  if (issues.length > 0) {
    throw new ValidationError(`Alert ${String(a?.alert_id)}: ${issues.map((i) => `${i.path}: expected ${i.message}`).join('; ')}.`, issues);
  }
}

export function checkDisposition(d: AlertDisposition): void {
  if (!(ALERT_VERDICTS as readonly string[]).includes(d?.verdict)) {
    throw new ValidationError(`disposition.verdict: expected one of ${ALERT_VERDICTS.join(', ')}, got ${JSON.stringify(d?.verdict)}.`, [
      { path: 'verdict', message: `one of ${ALERT_VERDICTS.join(', ')}` },
    ]);
  }
  if (typeof d.by !== 'string' || d.by === '' || typeof d.reason !== 'string') {
    throw new ValidationError('disposition: expected `by` (who decided) and `reason` strings.', [{ path: 'by', message: 'a non-empty string' }]);
  }
  timeMs(d.at, 'disposition.at');
}

export function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** `checkNote`: the shape `addNote` accepts. */
export function checkNote(note: CaseNote): void {
  if (typeof note?.note_id !== 'string' || typeof note.text !== 'string' || typeof note.author !== 'string') {
    throw new ValidationError('note: expected note_id, author and text strings.', [{ path: 'note', message: 'note_id, author, text, at' }]);
  }
  timeMs(note.at, 'note.at');
}

/**
 * The rules both case stores apply inside their transactions, as pure functions of the rows
 * read there, so SQLite and PostgreSQL behave the same.
 */
export const caseRules = {
  /** The next version of a case changed at `at` (`updated_at` never moves back). */
  bump(c: Case, at: string): Case {
    return { ...c, version: c.version + 1, updated_at: at > c.updated_at ? at : c.updated_at };
  },
  /** The case with the note and its timeline entry, or null when the note is already there. */
  note(c: Case, note: CaseNote): Case | null {
    if (c.notes.some((n) => n.note_id === note.note_id)) return null;
    c.notes.push(note);
    c.timeline.push({ at: note.at, kind: 'note', by: note.author, detail: note.text.length > 120 ? `${note.text.slice(0, 117)}…` : note.text, ref: note.note_id });
    return caseRules.bump(c, note.at);
  },
  /**
   * Links `a` into `c` (both as read): the changed alert and the next case, or null when the
   * alert is already linked there. Throws `ConflictError` when the alert is in another case.
   */
  link(c: Case, a: Alert, by: string, at: string): { alert: Alert; case: Case } | null {
    if (a.case_id && a.case_id !== c.case_id) {
      throw new ConflictError(`Alert ${a.alert_id} already belongs to case ${a.case_id}; unlink it there first.`);
    }
    if (a.case_id === c.case_id && c.alerts.includes(a.alert_id)) return null;
    a.case_id = c.case_id;
    c.alerts = uniq([...c.alerts, a.alert_id]);
    c.accounts = uniq([...c.accounts, ...a.subjects.accounts]);
    if (a.subjects.cluster_id) c.clusters = uniq([...c.clusters, a.subjects.cluster_id]);
    let detail = `${a.detector} alert (score ${a.score.toFixed(2)}) on ${a.subjects.accounts.length} account(s)`;
    if (a.subjects.entity && !c.entity) c.entity = a.subjects.entity;
    else if (a.subjects.entity && a.subjects.entity !== c.entity) detail += `; it attributes to ${a.subjects.entity}, the case to ${c.entity}`;
    c.score = Math.max(c.score, a.score);
    c.timeline.push({ at, kind: 'alert', by, detail, ref: a.alert_id });
    return { alert: a, case: caseRules.bump(c, at) };
  },
  /** Sets the alert's disposition; with its case (if any) the next case carrying the timeline entry. */
  dispose(a: Alert, d: AlertDisposition, c: Case | null): { alert: Alert; case: Case | null } {
    a.disposition = { verdict: d.verdict, reason: d.reason, by: d.by, at: d.at };
    if (!c) return { alert: a, case: null };
    c.timeline.push({ at: d.at, kind: 'disposition', by: d.by, detail: `alert ${a.alert_id}: ${d.verdict} (${d.reason})`, ref: a.alert_id });
    return { alert: a, case: caseRules.bump(c, d.at) };
  },
};

/** Opens the embedded case and audit store (creating its tables). */
export function openSqliteCaseStore(opts: SqliteCaseStoreOptions): SqliteCaseStore {
  const ownsDb = !opts.db;
  const db = opts.db ?? openDatabase({ path: opts.path ?? '', synchronous: opts.synchronous });
  migrate(db, 'cases', CASE_MIGRATIONS);
  const s = {
    insertCase: db.prepare(
      `INSERT INTO cases (case_id, status, severity, assignee, entity, created_ms, updated_ms, version, doc)
       VALUES (@case_id, @status, @severity, @assignee, @entity, @created_ms, @updated_ms, @version, @doc)`,
    ),
    replaceCase: db.prepare(
      `UPDATE cases SET status = @status, severity = @severity, assignee = @assignee, entity = @entity,
       updated_ms = @updated_ms, version = @version, doc = @doc WHERE case_id = @case_id`,
    ),
    getCase: db.prepare('SELECT doc FROM cases WHERE case_id = ?').pluck(),
    caseCursor: db.prepare('SELECT updated_ms FROM cases WHERE case_id = ?').pluck(),
    clearSubjects: db.prepare('DELETE FROM case_subjects WHERE case_id = ?'),
    addSubject: db.prepare('INSERT OR IGNORE INTO case_subjects (kind, value, case_id) VALUES (?, ?, ?)'),
    insertAlert: db.prepare(
      `INSERT OR IGNORE INTO alerts (alert_id, case_id, detector, cluster_id, entity, fingerprint, verdict, created_ms, doc)
       VALUES (@alert_id, @case_id, @detector, @cluster_id, @entity, @fingerprint, @verdict, @created_ms, @doc)`,
    ),
    updateAlert: db.prepare('UPDATE alerts SET case_id = @case_id, verdict = @verdict, fingerprint = @fingerprint, doc = @doc WHERE alert_id = @alert_id'),
    addAlertAccount: db.prepare('INSERT OR IGNORE INTO alert_accounts (account_id, alert_id) VALUES (?, ?)'),
    getAlert: db.prepare('SELECT doc FROM alerts WHERE alert_id = ?').pluck(),
    suppress: db.prepare(
      `INSERT INTO alert_suppressions (fingerprint, alert_id, disposition) VALUES (?, ?, ?)
       ON CONFLICT(fingerprint) DO UPDATE SET alert_id = excluded.alert_id, disposition = excluded.disposition`,
    ),
    unsuppress: db.prepare('DELETE FROM alert_suppressions WHERE fingerprint = ?'),
    suppression: db.prepare('SELECT * FROM alert_suppressions WHERE fingerprint = ?'),
    insertAudit: db.prepare(
      `INSERT INTO audit_log (chain, seq, prev, key_id, type, actor, subject_kind, subject_id, data, at, at_ms, hash, sig)
       VALUES (@chain, @seq, @prev, @key_id, @type, @actor, @subject_kind, @subject_id, @data, @at, @at_ms, @hash, @sig)`,
    ),
    auditHead: db.prepare('SELECT chain, seq, hash FROM audit_log WHERE chain = ? ORDER BY seq DESC LIMIT 1'),
    auditHeads: db.prepare(
      `SELECT a.chain, a.seq, a.hash FROM audit_log a
       JOIN (SELECT chain, max(seq) AS seq FROM audit_log GROUP BY chain) m ON a.chain = m.chain AND a.seq = m.seq
       ORDER BY a.chain`,
    ),
  };
  const audit = new GroupCommit(db, 'audit log');
  let closed = false;

  function open(): void {
    if (closed) throw new UnavailableError('The case store is closed; open it again.');
  }

  function readCase(caseId: string): Case | null {
    const doc = s.getCase.get(caseId) as string | undefined;
    return doc === undefined ? null : (JSON.parse(doc) as Case);
  }
  function mustCase(caseId: string): Case {
    const c = readCase(caseId);
    if (!c) throw new NotFoundError(`Case ${caseId} does not exist. List cases to find its id.`);
    return c;
  }
  function readAlert(alertId: string): Alert | null {
    const doc = s.getAlert.get(alertId) as string | undefined;
    return doc === undefined ? null : (JSON.parse(doc) as Alert);
  }
  function caseParams(c: Case): Row {
    return {
      case_id: c.case_id,
      status: c.status,
      severity: c.severity,
      assignee: c.assignee ?? null,
      entity: c.entity ?? null,
      created_ms: timeMs(c.created_at, 'case.created_at'),
      updated_ms: timeMs(c.updated_at, 'case.updated_at'),
      version: c.version,
      doc: JSON.stringify(c),
    };
  }
  function indexCase(c: Case): void {
    s.clearSubjects.run(c.case_id);
    for (const a of c.accounts) s.addSubject.run('account', a, c.case_id);
    for (const k of c.clusters) s.addSubject.run('cluster', k, c.case_id);
    if (c.entity) s.addSubject.run('entity', c.entity, c.case_id);
  }
  /** Stores a case's next version (from `caseRules`), read in this transaction. */
  function store(next: Case): Case {
    s.replaceCase.run(caseParams(next));
    indexCase(next);
    return next;
  }
  function writeAlert(a: Alert): void {
    s.updateAlert.run({
      alert_id: a.alert_id,
      case_id: a.case_id ?? null,
      verdict: a.disposition?.verdict ?? null,
      fingerprint: a.fingerprint ?? null,
      doc: JSON.stringify(a),
    });
  }

  const tx = {
    create: db.transaction((c: Case) => {
      if (readCase(c.case_id)) throw new ConflictError(`Case ${c.case_id} already exists; use updateCase to change it.`);
      s.insertCase.run(caseParams(c));
      indexCase(c);
    }),
    update: db.transaction((c: Case): Case => {
      const cur = mustCase(c.case_id);
      if (cur.version !== c.version) {
        throw new ConflictError(`Case ${c.case_id} was changed by someone else (version ${cur.version}, yours ${c.version}). Reload it and apply your change again.`);
      }
      const next = { ...structuredClone(c), version: c.version + 1 };
      s.replaceCase.run(caseParams(next));
      indexCase(next);
      return next;
    }),
    note: db.transaction((caseId: string, note: CaseNote): Case => {
      const c = mustCase(caseId);
      const next = caseRules.note(c, note);
      return next ? store(next) : c;
    }),
    putAlert: db.transaction((a: Alert): boolean => {
      const r = s.insertAlert.run({
        alert_id: a.alert_id,
        case_id: a.case_id ?? null,
        detector: a.detector,
        cluster_id: a.subjects.cluster_id ?? null,
        entity: a.subjects.entity ?? null,
        fingerprint: a.fingerprint ?? null,
        verdict: a.disposition?.verdict ?? null,
        created_ms: timeMs(a.created_at, 'alert.created_at'),
        doc: JSON.stringify(a),
      });
      if (r.changes === 0) return false;
      for (const acc of uniq(a.subjects.accounts)) s.addAlertAccount.run(acc, a.alert_id);
      return true;
    }),
    link: db.transaction((caseId: string, alertId: string, by: string, at: string): Case => {
      const c = mustCase(caseId);
      const a = readAlert(alertId);
      if (!a) throw new NotFoundError(`Alert ${alertId} does not exist; store it with putAlert first.`);
      const linked = caseRules.link(c, a, by, at);
      if (!linked) return c;
      writeAlert(linked.alert);
      return store(linked.case);
    }),
    dispose: db.transaction((alertId: string, d: AlertDisposition): Alert => {
      const a = readAlert(alertId);
      if (!a) throw new NotFoundError(`Alert ${alertId} does not exist.`);
      const r = caseRules.dispose(a, d, a.case_id ? readCase(a.case_id) : null);
      writeAlert(r.alert);
      if (r.alert.fingerprint) {
        if (d.verdict === 'true_positive') s.unsuppress.run(r.alert.fingerprint);
        else s.suppress.run(r.alert.fingerprint, r.alert.alert_id, JSON.stringify(r.alert.disposition));
      }
      if (r.case) store(r.case);
      return r.alert;
    }),
  };

  return {
    db,
    async createCase(c) {
      open();
      checkCase(c);
      tx.create.immediate(structuredClone(c));
    },
    async updateCase(c) {
      open();
      checkCase(c);
      return tx.update.immediate(c);
    },
    async getCase(caseId) {
      open();
      return readCase(caseId);
    },
    async listCases(q = {}) {
      open();
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.status?.length) {
        where.push(`c.status IN (${q.status.map(() => '?').join(',')})`);
        params.push(...q.status);
      }
      if (q.severity?.length) {
        where.push(`c.severity IN (${q.severity.map(() => '?').join(',')})`);
        params.push(...q.severity);
      }
      if (q.assignee !== undefined) {
        where.push('c.assignee = ?');
        params.push(q.assignee);
      }
      for (const [kind, value] of [
        ['account', q.account_id],
        ['cluster', q.cluster_id],
        ['entity', q.entity],
      ] as const) {
        if (value === undefined) continue;
        where.push('EXISTS (SELECT 1 FROM case_subjects x WHERE x.case_id = c.case_id AND x.kind = ? AND x.value = ?)');
        params.push(kind, value);
      }
      if (q.after !== undefined) {
        const ms = s.caseCursor.get(q.after) as number | undefined;
        if (ms !== undefined) {
          where.push('(c.updated_ms < ? OR (c.updated_ms = ? AND c.case_id > ?))');
          params.push(ms, ms, q.after);
        }
      }
      const sql = `SELECT c.doc FROM cases c ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY c.updated_ms DESC, c.case_id LIMIT ?`;
      params.push(q.limit ?? 1000);
      return (db.prepare(sql).pluck().all(...params) as string[]).map((d) => JSON.parse(d) as Case);
    },
    async addNote(caseId, note) {
      open();
      checkNote(note);
      return tx.note.immediate(caseId, structuredClone(note));
    },
    async putAlert(a) {
      open();
      checkAlert(a);
      return tx.putAlert.immediate(structuredClone(a));
    },
    async getAlert(alertId) {
      open();
      return readAlert(alertId);
    },
    async listAlerts(q: AlertQuery = {}) {
      open();
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.case_id !== undefined) {
        where.push('a.case_id = ?');
        params.push(q.case_id);
      }
      if (q.cluster_id !== undefined) {
        where.push('a.cluster_id = ?');
        params.push(q.cluster_id);
      }
      if (q.entity !== undefined) {
        where.push('a.entity = ?');
        params.push(q.entity);
      }
      if (q.account_id !== undefined) {
        where.push('EXISTS (SELECT 1 FROM alert_accounts x WHERE x.alert_id = a.alert_id AND x.account_id = ?)');
        params.push(q.account_id);
      }
      if (q.open) where.push('a.verdict IS NULL');
      if (q.disposition === 'any') where.push('a.verdict IS NOT NULL');
      else if (q.disposition) {
        where.push(q.disposition.length ? `a.verdict IN (${q.disposition.map(() => '?').join(', ')})` : '0');
        params.push(...q.disposition);
      }
      if (q.since !== undefined) {
        where.push('a.created_ms >= ?');
        params.push(timeMs(q.since, 'since'));
      }
      const sql = `SELECT a.doc FROM alerts a ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY a.created_ms, a.alert_id LIMIT ?`;
      params.push(q.limit ?? 10_000);
      return (db.prepare(sql).pluck().all(...params) as string[]).map((d) => JSON.parse(d) as Alert);
    },
    async linkAlert(caseId, alertId, by, at) {
      open();
      timeMs(at, 'at');
      return tx.link.immediate(caseId, alertId, by, at);
    },
    async recordDisposition(alertId, d) {
      open();
      checkDisposition(d);
      return tx.dispose.immediate(alertId, d);
    },
    async isSuppressed(fingerprint): Promise<Suppression | null> {
      open();
      const r = s.suppression.get(fingerprint) as { fingerprint: string; alert_id: string; disposition: string } | undefined;
      return r ? { fingerprint: r.fingerprint, alert_id: r.alert_id, disposition: JSON.parse(r.disposition) as AlertDisposition } : null;
    },

    appendAudit(records: AuditRecord[]) {
      if (closed) return Promise.reject(new UnavailableError('The audit store is closed; open it again.'));
      const rows = records.map((r) => ({
        chain: r.chain,
        seq: r.seq,
        prev: r.prev,
        key_id: r.key_id,
        type: r.type,
        actor: r.actor,
        subject_kind: r.subject?.kind ?? null,
        subject_id: r.subject?.id ?? null,
        data: JSON.stringify(r.data),
        at: r.at,
        at_ms: timeMs(r.at, 'audit.at'),
        hash: r.hash,
        sig: r.sig,
      }));
      return audit
        .enqueue(() => {
          for (const row of rows) s.insertAudit.run(row);
        })
        .catch((err: unknown) => {
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
            throw new ConflictError(
              `Audit chain ${records[0]?.chain} already has a record with one of seqs ${records[0]?.seq}..${records.at(-1)?.seq}: two writers use the same chain id. Give each writer process its own chain.`,
            );
          }
          throw err;
        });
    },
    async listAudit(q: AuditQuery = {}) {
      open();
      const where: string[] = [];
      const params: unknown[] = [];
      const eq = (col: string, v: unknown) => {
        if (v === undefined) return;
        where.push(`${col} = ?`);
        params.push(v);
      };
      eq('chain', q.chain);
      eq('type', q.type);
      eq('actor', q.actor);
      eq('subject_kind', q.subject?.kind);
      eq('subject_id', q.subject?.id);
      if (q.since !== undefined) {
        where.push('at_ms >= ?');
        params.push(timeMs(q.since, 'since'));
      }
      if (q.until !== undefined) {
        where.push('at_ms < ?');
        params.push(timeMs(q.until, 'until'));
      }
      if (q.after_pos !== undefined) {
        where.push('pos > ?');
        params.push(q.after_pos);
      }
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY pos LIMIT ?`;
      params.push(q.limit ?? 100_000);
      return (db.prepare(sql).all(...params) as Row[]).map((r) => {
        const rec: AuditRecord & { pos: number } = {
          pos: r.pos as number,
          v: 1,
          chain: r.chain as string,
          seq: r.seq as number,
          prev: r.prev as string,
          key_id: r.key_id as string,
          type: r.type as string,
          actor: r.actor as string,
          data: JSON.parse(r.data as string) as Record<string, unknown>,
          at: r.at as string,
          hash: r.hash as string,
          sig: r.sig as string,
        };
        if (r.subject_kind !== null) rec.subject = { kind: r.subject_kind as SubjectKind, id: r.subject_id as string };
        return rec;
      });
    },
    async auditHead(chain) {
      open();
      return (s.auditHead.get(chain) as AuditChainHead | undefined) ?? null;
    },
    async auditHeads() {
      open();
      return s.auditHeads.all() as AuditChainHead[];
    },
    async close() {
      if (closed) return;
      audit.close();
      closed = true;
      if (ownsDb) db.close();
    },
  };
}

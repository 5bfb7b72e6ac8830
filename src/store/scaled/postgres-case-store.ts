/**
 * `PostgresCaseStore`: the scaled-out `CaseStore` and `AuditStore` on PostgreSQL, shared by
 * every gateway, worker and console process of the cluster profile. It mirrors the embedded
 * case store table for table (migration 2 of the `store` component) and applies the same rules
 * (`caseRules`, the same checks), so the two behave alike; the contract suite runs on both.
 *
 * Concurrency: every case or alert change is one transaction that locks the rows it reads
 * (`FOR UPDATE`, the case before the alert, always), so two processes acting on one case
 * serialise instead of losing an update; a transaction that still meets a deadlock or a
 * serialisation failure is retried. Audit batches from one process are group-committed: the
 * batches queued while one write is in flight go together in the next transaction, in the order
 * they were appended, so storage order (`pos`) follows each chain's order.
 */
import type pg from 'pg';
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
  CaseStore,
  SubjectKind,
  Suppression,
} from '../../core/index.js';
import { ConflictError, NotFoundError, UnavailableError, isWardenError } from '../../core/index.js';
import { caseRules, checkAlert, checkCase, checkDisposition, checkNote, uniq } from '../embedded/case-store.js';
import { timeMs } from '../embedded/sqlite.js';
import { migratePostgres } from './migrations.js';
import { checkSchemaName, ident, poolFrom, q, tx, unavailable, type PgClient, type PgConnectOptions, type Queryable } from './pg.js';

type Row = Record<string, unknown>;

export interface PostgresCaseStoreOptions extends PgConnectOptions {
  /** The PostgreSQL schema holding Warden's tables (created if missing). Default `public`. */
  schema?: string;
  /** Run the migrations on open (default true). With false, run `warden migrate` first. */
  migrate?: boolean;
  /** Most audit records one INSERT statement carries. Default 1000. */
  auditRowsPerStatement?: number;
  /**
   * How long an audit write keeps retrying while PostgreSQL is unreachable (a restart, a
   * failover) before its appends reject. Default 30 s; the audit log queues new records meanwhile.
   */
  auditRetryMs?: number;
}

/** The scaled-out `CaseStore` and `AuditStore`, with its pool (shared with the state store, or its own). */
export interface PostgresCaseStore extends CaseStore, AuditStore {
  readonly pool: pg.Pool;
  readonly schema: string;
}

/** SQLite reads a negative LIMIT as "no limit"; PostgreSQL refuses one, so it becomes NULL (all). */
const limitOf = (n: number | undefined, d: number) => (n === undefined ? d : n < 0 ? null : Math.floor(n));
const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';
/** Deadlock detected, serialization failure: the transaction may simply be run again. */
const AUDIT_COLUMNS = [
  ['chain', 'text[]'],
  ['seq', 'bigint[]'],
  ['prev', 'text[]'],
  ['key_id', 'text[]'],
  ['type', 'text[]'],
  ['actor', 'text[]'],
  ['subject_kind', 'text[]'],
  ['subject_id', 'text[]'],
  ['data', 'text[]'],
  ['at', 'text[]'],
  ['at_ms', 'bigint[]'],
  ['hash', 'text[]'],
  ['sig', 'text[]'],
] as const;

/**
 * PostgreSQL text cannot hold NUL, and the driver turns a lone UTF-16 surrogate into U+FFFD;
 * SQLite keeps both. Text columns (ids, actors, subjects: JSON documents need nothing) hold
 * strings with these escaped, and a backslash doubled, so every string comes back as written
 * and compares equal only to itself. Ordinary strings are stored as they are.
 */
const ODD = /[\\\u0000\ud800-\udfff]/;
export function pgText(v: string): string;
export function pgText(v: string | null | undefined): string | null;
export function pgText(v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (!ODD.test(v)) return v;
  return v.replace(/\\|\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (m) =>
    m === '\\' ? '\\\\' : `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
export function fromPgText(v: string): string {
  return v.includes('\\') ? v.replace(/\\(\\|u[0-9a-f]{4})/g, (_, x: string) => (x === '\\' ? '\\' : String.fromCharCode(parseInt(x.slice(1), 16)))) : v;
}
const t = pgText;

interface AuditWrite {
  records: AuditRecord[];
  columns: unknown[][];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Opens the PostgreSQL case and audit store (running the migrations unless `migrate: false`). */
export async function openPostgresCaseStore(opts: PostgresCaseStoreOptions): Promise<PostgresCaseStore> {
  const schemaName = checkSchemaName(opts.schema ?? 'public');
  const { pool, owns } = await poolFrom(opts, 'openPostgresCaseStore');
  const perStatement = Math.max(1, Math.floor(opts.auditRowsPerStatement ?? 1000));
  const auditRetryMs = Math.max(0, opts.auditRetryMs ?? 30_000);
  try {
    if (opts.migrate !== false) await migratePostgres(pool, { schema: schemaName });
    else await q(pool, 'SELECT 1');
  } catch (err) {
    if (owns) await pool.end().catch(() => {});
    unavailable(err, pool);
  }
  const s = ident(schemaName);
  let closed = false;

  const open = () => {
    if (closed) throw new UnavailableError('The case store is closed; open it again.');
  };
  const run = async <R extends Row = Row>(text: string, values: unknown[] = [], db: Queryable = pool) => {
    try {
      return await q<R>(db, text, values);
    } catch (err) {
      unavailable(err, pool);
    }
  };

  /** One transaction, run again (a few times) when PostgreSQL aborts it for a deadlock or serialisation failure. */
  const transaction = <R>(fn: (c: PgClient) => Promise<R>): Promise<R> => tx(pool, fn, { retries: 4 });

  const caseValues = (c: Case) => [
    t(c.case_id),
    c.status,
    c.severity,
    t(c.assignee),
    t(c.entity),
    timeMs(c.created_at, 'case.created_at'),
    timeMs(c.updated_at, 'case.updated_at'),
    c.version,
    JSON.stringify(c),
  ];
  async function readCase(db: Queryable, caseId: string, lock = false): Promise<Case | null> {
    const r = await q<{ doc: string }>(db, `SELECT doc FROM ${s}.cases WHERE case_id = $1${lock ? ' FOR UPDATE' : ''}`, [t(caseId)]);
    return r.rows[0] ? (JSON.parse(r.rows[0].doc) as Case) : null;
  }
  async function mustCase(db: Queryable, caseId: string): Promise<Case> {
    const c = await readCase(db, caseId, true);
    if (!c) throw new NotFoundError(`Case ${caseId} does not exist. List cases to find its id.`);
    return c;
  }
  async function readAlert(db: Queryable, alertId: string, lock = false): Promise<Alert | null> {
    const r = await q<{ doc: string }>(db, `SELECT doc FROM ${s}.alerts WHERE alert_id = $1${lock ? ' FOR UPDATE' : ''}`, [t(alertId)]);
    return r.rows[0] ? (JSON.parse(r.rows[0].doc) as Alert) : null;
  }
  async function indexCase(db: Queryable, c: Case): Promise<void> {
    await q(db, `DELETE FROM ${s}.case_subjects WHERE case_id = $1`, [t(c.case_id)]);
    const kinds: string[] = [];
    const values: string[] = [];
    for (const a of c.accounts) (kinds.push('account'), values.push(t(a)));
    for (const k of c.clusters) (kinds.push('cluster'), values.push(t(k)));
    if (c.entity) (kinds.push('entity'), values.push(t(c.entity)));
    if (kinds.length === 0) return;
    await q(
      db,
      `INSERT INTO ${s}.case_subjects (kind, value, case_id) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS t(k, v)
       ON CONFLICT DO NOTHING`,
      [kinds, values, t(c.case_id)],
    );
  }
  /** Stores a case's next version (from `caseRules` or `updateCase`), locked in this transaction. */
  async function storeCase(db: Queryable, next: Case): Promise<Case> {
    await q(
      db,
      // created_ms stays as created, as in the embedded store.
      `UPDATE ${s}.cases SET status = $2, severity = $3, assignee = $4, entity = $5, updated_ms = $6, version = $7, doc = $8::json
       WHERE case_id = $1`,
      caseValues(next).filter((_, i) => i !== 5),
    );
    await indexCase(db, next);
    return next;
  }
  async function writeAlert(db: Queryable, a: Alert): Promise<void> {
    await q(db, `UPDATE ${s}.alerts SET case_id = $2, verdict = $3, fingerprint = $4, doc = $5::json WHERE alert_id = $1`, [
      t(a.alert_id),
      t(a.case_id),
      a.disposition?.verdict ?? null,
      t(a.fingerprint),
      JSON.stringify(a),
    ]);
  }

  // Audit: group commit of the batches queued while a write is in flight.
  let auditQueue: AuditWrite[] = [];
  let auditInFlight: Promise<void> | null = null;

  const conflict = (records: AuditRecord[]) =>
    new ConflictError(
      `Audit chain ${records[0]?.chain} already has a record with one of seqs ${records[0]?.seq}..${records.at(-1)?.seq}: two writers use the same chain id. Give each writer process its own chain.`,
    );

  async function insertAudit(db: Queryable, writes: AuditWrite[]): Promise<void> {
    const rows = writes.flatMap((w) => w.columns[0]!.map((_, i) => w.columns.map((col) => col[i])));
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      const columns = AUDIT_COLUMNS.map((_, j) => chunk.map((r) => r[j]));
      // unnest yields the rows in array order, so `pos` (the serial) follows the append order.
      await q(
        db,
        `INSERT INTO ${s}.audit_log (${AUDIT_COLUMNS.map(([n]) => n).join(', ')})
         SELECT ${AUDIT_COLUMNS.map(([n]) => (n === 'data' ? 't.data::json' : `t.${n}`)).join(', ')}
         FROM unnest(${AUDIT_COLUMNS.map(([, t], j) => `$${j + 1}::${t}`).join(', ')}) AS t(${AUDIT_COLUMNS.map(([n]) => n).join(', ')})`,
        columns,
      );
    }
  }

  /** True when every record of `writes` is stored with its hash: a commit whose answer was lost. */
  async function alreadyWritten(writes: AuditWrite[]): Promise<boolean> {
    try {
      for (const w of writes) {
        const chain = w.records[0]!.chain;
        const r = await q<{ seq: number; hash: string }>(pool, `SELECT seq, hash FROM ${s}.audit_log WHERE chain = $1 AND seq = ANY($2::bigint[])`, [
          t(chain),
          w.records.map((x) => x.seq),
        ]);
        const stored = new Map(r.rows.map((x) => [x.seq, fromPgText(x.hash)]));
        if (!w.records.every((x) => x.chain === chain && stored.get(x.seq) === x.hash)) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /**
   * One transaction for `writes`, retried with backoff (100 ms doubling to 2 s) while PostgreSQL
   * is unreachable, for up to `auditRetryMs`. A retry that meets its own records (the previous
   * attempt committed but the answer was lost) counts as written.
   */
  async function commitAudit(writes: AuditWrite[]): Promise<void> {
    const deadline = Date.now() + auditRetryMs;
    let delay = 100;
    let uncertain = false;
    for (;;) {
      try {
        await transaction((c) => insertAudit(c, writes));
        return;
      } catch (err) {
        if (uncertain && isUniqueViolation(err) && (await alreadyWritten(writes))) return;
        if (!isWardenError(err, 'UNAVAILABLE') || Date.now() + delay > deadline) throw err;
        uncertain = true;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  async function writeAudit(writes: AuditWrite[]): Promise<void> {
    try {
      await commitAudit(writes);
      for (const w of writes) w.resolve();
      return;
    } catch (err) {
      if (writes.length === 1 || !isUniqueViolation(err)) {
        // Unreachable past the retry window, or one batch's own conflict: the same answer for all.
        for (const w of writes) w.reject(isUniqueViolation(err) ? conflict(w.records) : err);
        return;
      }
    }
    // One batch spoiled the group (a chain id used twice): each batch alone, all or none.
    for (const w of writes) {
      try {
        await commitAudit([w]);
        w.resolve();
      } catch (err) {
        w.reject(isUniqueViolation(err) ? conflict(w.records) : err);
      }
    }
  }

  function pumpAudit(): Promise<void> {
    if (auditInFlight) return auditInFlight;
    if (auditQueue.length === 0) return Promise.resolve();
    const writes = auditQueue;
    auditQueue = [];
    auditInFlight = writeAudit(writes).finally(() => {
      auditInFlight = null;
      if (auditQueue.length > 0) void pumpAudit();
    });
    return auditInFlight;
  }

  const store: PostgresCaseStore = {
    pool,
    schema: schemaName,

    async createCase(c) {
      open();
      checkCase(c);
      try {
        await transaction(async (db) => {
          await q(
            db,
            `INSERT INTO ${s}.cases (case_id, status, severity, assignee, entity, created_ms, updated_ms, version, doc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json)`,
            caseValues(c),
          );
          await indexCase(db, c);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError(`Case ${c.case_id} already exists; use updateCase to change it.`);
        throw err;
      }
    },
    async updateCase(c) {
      open();
      checkCase(c);
      return transaction(async (db) => {
        const cur = await mustCase(db, c.case_id);
        if (cur.version !== c.version) {
          throw new ConflictError(
            `Case ${c.case_id} was changed by someone else (version ${cur.version}, yours ${c.version}). Reload it and apply your change again.`,
          );
        }
        return storeCase(db, { ...structuredClone(c), version: c.version + 1 });
      });
    },
    async getCase(caseId) {
      open();
      try {
        return await readCase(pool, caseId);
      } catch (err) {
        unavailable(err, pool);
      }
    },
    async listCases(qy = {}) {
      open();
      const where: string[] = [];
      const values: unknown[] = [];
      const param = (v: unknown) => {
        values.push(v);
        return `$${values.length}`;
      };
      if (qy.status?.length) where.push(`c.status = ANY(${param(qy.status)}::text[])`);
      if (qy.severity?.length) where.push(`c.severity = ANY(${param(qy.severity)}::text[])`);
      if (qy.assignee !== undefined) where.push(`c.assignee = ${param(t(qy.assignee))}`);
      for (const [kind, value] of [
        ['account', qy.account_id],
        ['cluster', qy.cluster_id],
        ['entity', qy.entity],
      ] as const) {
        if (value === undefined) continue;
        where.push(`EXISTS (SELECT 1 FROM ${s}.case_subjects x WHERE x.case_id = c.case_id AND x.kind = ${param(kind)} AND x.value = ${param(t(value))})`);
      }
      if (qy.after !== undefined) {
        const cur = (await run<{ updated_ms: number }>(`SELECT updated_ms FROM ${s}.cases WHERE case_id = $1`, [t(qy.after)])).rows[0];
        if (cur) {
          const ms = param(cur.updated_ms);
          where.push(`(c.updated_ms < ${ms} OR (c.updated_ms = ${ms} AND c.case_id > ${param(t(qy.after))}))`);
        }
      }
      const sql = `SELECT c.doc FROM ${s}.cases c ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY c.updated_ms DESC, c.case_id LIMIT ${param(limitOf(qy.limit, 1000))}`;
      return (await run<{ doc: string }>(sql, values)).rows.map((r) => JSON.parse(r.doc) as Case);
    },
    async addNote(caseId, note: CaseNote) {
      open();
      checkNote(note);
      return transaction(async (db) => {
        const c = await mustCase(db, caseId);
        const next = caseRules.note(c, structuredClone(note));
        return next ? storeCase(db, next) : c;
      });
    },
    async putAlert(a) {
      open();
      checkAlert(a);
      return transaction(async (db) => {
        const r = await q(
          db,
          `INSERT INTO ${s}.alerts (alert_id, case_id, detector, cluster_id, entity, fingerprint, verdict, created_ms, doc)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json) ON CONFLICT (alert_id) DO NOTHING`,
          [
            t(a.alert_id),
            t(a.case_id),
            t(a.detector),
            t(a.subjects.cluster_id),
            t(a.subjects.entity),
            t(a.fingerprint),
            a.disposition?.verdict ?? null,
            timeMs(a.created_at, 'alert.created_at'),
            JSON.stringify(a),
          ],
        );
        if (r.rowCount === 0) return false;
        const accounts = uniq(a.subjects.accounts).map((x) => t(x));
        if (accounts.length) {
          await q(
            db,
            `INSERT INTO ${s}.alert_accounts (account_id, alert_id) SELECT acc, $2 FROM unnest($1::text[]) AS t(acc) ON CONFLICT DO NOTHING`,
            [accounts, t(a.alert_id)],
          );
        }
        return true;
      });
    },
    async getAlert(alertId) {
      open();
      try {
        return await readAlert(pool, alertId);
      } catch (err) {
        unavailable(err, pool);
      }
    },
    async listAlerts(qy: AlertQuery = {}) {
      open();
      const where: string[] = [];
      const values: unknown[] = [];
      const param = (v: unknown) => {
        values.push(v);
        return `$${values.length}`;
      };
      if (qy.case_id !== undefined) where.push(`a.case_id = ${param(t(qy.case_id))}`);
      if (qy.cluster_id !== undefined) where.push(`a.cluster_id = ${param(t(qy.cluster_id))}`);
      if (qy.entity !== undefined) where.push(`a.entity = ${param(t(qy.entity))}`);
      if (qy.account_id !== undefined) {
        where.push(`EXISTS (SELECT 1 FROM ${s}.alert_accounts x WHERE x.alert_id = a.alert_id AND x.account_id = ${param(t(qy.account_id))})`);
      }
      if (qy.open) where.push('a.verdict IS NULL');
      if (qy.disposition === 'any') where.push('a.verdict IS NOT NULL');
      else if (qy.disposition) where.push(qy.disposition.length ? `a.verdict IN (${qy.disposition.map((v) => param(t(v))).join(', ')})` : 'FALSE');
      if (qy.since !== undefined) where.push(`a.created_ms >= ${param(timeMs(qy.since, 'since'))}`);
      const sql = `SELECT a.doc FROM ${s}.alerts a ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY a.created_ms, a.alert_id LIMIT ${param(limitOf(qy.limit, 10_000))}`;
      return (await run<{ doc: string }>(sql, values)).rows.map((r) => JSON.parse(r.doc) as Alert);
    },
    async linkAlert(caseId, alertId, by, at) {
      open();
      timeMs(at, 'at');
      return transaction(async (db) => {
        const c = await mustCase(db, caseId);
        const a = await readAlert(db, alertId, true);
        if (!a) throw new NotFoundError(`Alert ${alertId} does not exist; store it with putAlert first.`);
        const linked = caseRules.link(c, a, by, at);
        if (!linked) return c;
        await writeAlert(db, linked.alert);
        return storeCase(db, linked.case);
      });
    },
    async recordDisposition(alertId, d: AlertDisposition) {
      open();
      checkDisposition(d);
      return transaction(async (db) => {
        // Lock the case before the alert, as linkAlert does, so the two never deadlock: peek
        // at the alert's case, lock it, then lock the alert and check it did not move meanwhile.
        for (;;) {
          const peek = await readAlert(db, alertId);
          if (!peek) throw new NotFoundError(`Alert ${alertId} does not exist.`);
          const c = peek.case_id ? await readCase(db, peek.case_id, true) : null;
          const a = (await readAlert(db, alertId, true))!;
          if ((a.case_id ?? null) !== (peek.case_id ?? null)) continue;
          const r = caseRules.dispose(a, d, c);
          await writeAlert(db, r.alert);
          if (r.alert.fingerprint) {
            if (d.verdict === 'true_positive') await q(db, `DELETE FROM ${s}.alert_suppressions WHERE fingerprint = $1`, [t(r.alert.fingerprint)]);
            else {
              await q(
                db,
                `INSERT INTO ${s}.alert_suppressions (fingerprint, alert_id, disposition) VALUES ($1, $2, $3::json)
                 ON CONFLICT (fingerprint) DO UPDATE SET alert_id = excluded.alert_id, disposition = excluded.disposition`,
                [t(r.alert.fingerprint), t(r.alert.alert_id), JSON.stringify(r.alert.disposition)],
              );
            }
          }
          if (r.case) await storeCase(db, r.case);
          return r.alert;
        }
      });
    },
    async isSuppressed(fingerprint): Promise<Suppression | null> {
      open();
      const r = (await run<{ fingerprint: string; alert_id: string; disposition: string }>(
        `SELECT fingerprint, alert_id, disposition FROM ${s}.alert_suppressions WHERE fingerprint = $1`,
        [t(fingerprint)],
      )).rows[0];
      return r ? { fingerprint: fromPgText(r.fingerprint), alert_id: fromPgText(r.alert_id), disposition: JSON.parse(r.disposition) as AlertDisposition } : null;
    },

    appendAudit(records: AuditRecord[]) {
      if (closed) return Promise.reject(new UnavailableError('The audit store is closed; open it again.'));
      let columns: unknown[][];
      try {
        columns = AUDIT_COLUMNS.map(() => []);
        for (const r of records) {
          const row = [
            t(r.chain),
            r.seq,
            t(r.prev),
            t(r.key_id),
            t(r.type),
            t(r.actor),
            t(r.subject?.kind),
            t(r.subject?.id),
            JSON.stringify(r.data),
            t(r.at),
            timeMs(r.at, 'audit.at'),
            t(r.hash),
            t(r.sig),
          ];
          row.forEach((v, j) => columns[j]!.push(v));
        }
      } catch (err) {
        return Promise.reject(err);
      }
      if (records.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        auditQueue.push({ records, columns, resolve, reject });
        void pumpAudit();
      });
    },
    async listAudit(qy: AuditQuery = {}) {
      open();
      const where: string[] = [];
      const values: unknown[] = [];
      const eq = (col: string, v: unknown) => {
        if (v === undefined) return;
        values.push(t(v as string));
        where.push(`${col} = $${values.length}`);
      };
      eq('chain', qy.chain);
      eq('type', qy.type);
      eq('actor', qy.actor);
      eq('subject_kind', qy.subject?.kind);
      eq('subject_id', qy.subject?.id);
      if (qy.since !== undefined) {
        values.push(timeMs(qy.since, 'since'));
        where.push(`at_ms >= $${values.length}`);
      }
      if (qy.until !== undefined) {
        values.push(timeMs(qy.until, 'until'));
        where.push(`at_ms < $${values.length}`);
      }
      if (qy.after_pos !== undefined) {
        values.push(qy.after_pos);
        where.push(`pos > $${values.length}`);
      }
      values.push(limitOf(qy.limit, 100_000));
      const sql = `SELECT * FROM ${s}.audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY pos LIMIT $${values.length}`;
      return (await run(sql, values)).rows.map((r) => {
        const rec: AuditRecord & { pos: number } = {
          pos: r['pos'] as number,
          v: 1,
          chain: fromPgText(r['chain'] as string),
          seq: r['seq'] as number,
          prev: fromPgText(r['prev'] as string),
          key_id: fromPgText(r['key_id'] as string),
          type: fromPgText(r['type'] as string),
          actor: fromPgText(r['actor'] as string),
          data: JSON.parse(r['data'] as string) as Record<string, unknown>,
          at: fromPgText(r['at'] as string),
          hash: fromPgText(r['hash'] as string),
          sig: fromPgText(r['sig'] as string),
        };
        if (r['subject_kind'] !== null) {
          rec.subject = { kind: fromPgText(r['subject_kind'] as string) as SubjectKind, id: fromPgText(r['subject_id'] as string) };
        }
        return rec;
      });
    },
    async auditHead(chain) {
      open();
      const r = await run<{ chain: string; seq: number; hash: string }>(
        `SELECT chain, seq, hash FROM ${s}.audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1`,
        [t(chain)],
      );
      const h = r.rows[0];
      return h ? { chain: fromPgText(h.chain), seq: h.seq, hash: fromPgText(h.hash) } : null;
    },
    async auditHeads() {
      open();
      const r = await run<{ chain: string; seq: number; hash: string }>(
        `SELECT DISTINCT ON (chain) chain, seq, hash FROM ${s}.audit_log ORDER BY chain, seq DESC`,
      );
      return r.rows.map((h): AuditChainHead => ({ chain: fromPgText(h.chain), seq: h.seq, hash: fromPgText(h.hash) }));
    },
    async close() {
      if (closed) return;
      // Writes already queued are committed first, as the embedded store's close does.
      while (auditQueue.length > 0 || auditInFlight) await pumpAudit();
      closed = true;
      if (owns) await pool.end();
    },
  };
  return store;
}

/**
 * `SqliteStore`: the embedded `StateStore` in one SQLite file. Scalar fields are columns
 * (so an analyst can query the file with `sqlite3`), nested ones JSON text. Every read
 * builds fresh objects from rows, so callers never share state with the store.
 */
import { createHash } from 'node:crypto';
import type {
  AccountRecord,
  AccountRisk,
  ApiKeyRecord,
  EnforcementAction,
  EventQuery,
  Org,
  PolicyVersionRecord,
  StateStore,
  Subject,
  UsageEvent,
} from '../../core/index.js';
import { ConflictError, NotFoundError, systemClock, type Clock } from '../../core/index.js';
import { columnDefs, columnList, fromRow, placeholderList, positionalList, toParams, toPositional, type ColumnSpec } from './columns.js';
import { GroupCommit, migrate, openDatabase, timeMs, type Migration, type SqliteDatabase, type SqliteSynchronous } from './sqlite.js';

export const ORG_COLUMNS = [
  ['org_id', 'text'],
  ['name', 'text'],
  ['aliases', 'json'],
  ['email_domain', 'text'],
  ['declared_country', 'text'],
  ['payment_country', 'text'],
  ['declared_use', 'text'],
  ['verification', 'text'],
  ['owners', 'json'],
  ['created_at', 'text'],
  ['updated_at', 'text'],
  ['screening', 'json'],
] as const satisfies ColumnSpec;

export const ACCOUNT_COLUMNS = [
  ['account_id', 'text'],
  ['org_id', 'text'],
  ['status', 'text'],
  ['created_at', 'text'],
  ['org_name', 'text'],
  ['email', 'text'],
  ['email_domain', 'text'],
  ['declared_country', 'text'],
  ['declared_use', 'text'],
  ['verification', 'text'],
  ['payment_fingerprint', 'text'],
  ['payment_country', 'text'],
  ['signup_ip', 'text'],
  ['signup_user_agent', 'text'],
  ['device_fingerprint', 'text'],
  ['owners', 'json'],
] as const satisfies ColumnSpec;

export const KEY_COLUMNS = [
  ['key_id', 'text'],
  ['account_id', 'text'],
  ['org_id', 'text'],
  ['name', 'text'],
  ['secret_hash', 'text'],
  ['prefix', 'text'],
  ['created_at', 'text'],
  ['expires_at', 'text'],
  ['revoked_at', 'text'],
  ['allowed_models', 'json'],
  ['last_used_at', 'text'],
  ['rotated_from', 'text'],
] as const satisfies ColumnSpec;

export const EVENT_COLUMNS = [
  ['event_id', 'text'],
  ['ts', 'text'],
  ['account_id', 'text'],
  ['org_id', 'text'],
  ['key_id', 'text'],
  ['ip', 'text'],
  ['forwarded_for', 'text'],
  ['user_agent', 'text'],
  ['end_user_id', 'text'],
  ['country', 'text'],
  ['asn', 'int'],
  ['endpoint', 'text'],
  ['model', 'text'],
  ['stream', 'bool'],
  ['status', 'int'],
  ['input_tokens', 'int'],
  ['output_tokens', 'int'],
  ['latency_ms', 'real'],
  ['aborted', 'bool'],
  ['decision', 'text'],
  ['decision_rule', 'text'],
  ['turns', 'int'],
  ['tools', 'int'],
  ['system', 'text'],
  ['prompt', 'text'],
  ['features', 'json'],
] as const satisfies ColumnSpec;

/** Actions keep their subject in two columns; the record's `subject` is rebuilt on read. */
export const ACTION_COLUMNS = [
  ['action_id', 'text'],
  ['subject_kind', 'text'],
  ['subject_id', 'text'],
  ['decision', 'text'],
  ['reason', 'text'],
  ['author', 'text'],
  ['created_at', 'text'],
  ['expires_at', 'text'],
  ['reversed_at', 'text'],
  ['reversed_by', 'text'],
  ['reversed_reason', 'text'],
  ['params', 'json'],
  ['source', 'text'],
] as const satisfies ColumnSpec;

export const RISK_COLUMNS = [
  ['account_id', 'text'],
  ['risk', 'real'],
  ['labels', 'json'],
  ['cluster_id', 'json'],
  ['attributed_entity', 'json'],
  ['updated_at', 'text'],
] as const satisfies ColumnSpec;

export const STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'orgs, accounts, keys, events, policy versions, actions, risk, blobs',
    up(db) {
      db.exec(`
CREATE TABLE orgs (
  ${columnDefs(ORG_COLUMNS, { org_id: 'TEXT PRIMARY KEY', name: 'TEXT NOT NULL' })}
);
CREATE TABLE accounts (
  ${columnDefs(ACCOUNT_COLUMNS, { account_id: 'TEXT PRIMARY KEY', status: "TEXT NOT NULL DEFAULT 'active'" })}
);
CREATE INDEX accounts_org ON accounts (org_id, account_id);
CREATE TABLE api_keys (
  ${columnDefs(KEY_COLUMNS, { key_id: 'TEXT PRIMARY KEY', account_id: 'TEXT NOT NULL', secret_hash: 'TEXT NOT NULL' })}
);
CREATE INDEX api_keys_account ON api_keys (account_id);
CREATE INDEX api_keys_org ON api_keys (org_id);
CREATE TABLE events (
  ${columnDefs(EVENT_COLUMNS, { event_id: 'TEXT PRIMARY KEY', ts: 'TEXT NOT NULL' })},
  ts_ms INTEGER NOT NULL
);
CREATE INDEX events_account_ts ON events (account_id, ts_ms);
CREATE INDEX events_org_ts ON events (org_id, ts_ms);
CREATE INDEX events_ts ON events (ts_ms);
CREATE TABLE policy_versions (
  version INTEGER PRIMARY KEY,
  text TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  source TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE actions (
  ${columnDefs(ACTION_COLUMNS, { action_id: 'TEXT PRIMARY KEY' })},
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER
);
CREATE INDEX actions_subject ON actions (subject_kind, subject_id, created_ms);
CREATE INDEX actions_in_force ON actions (reversed_at, expires_ms);
CREATE TABLE risk (
  ${columnDefs(RISK_COLUMNS, { account_id: 'TEXT PRIMARY KEY' })}
);
CREATE TABLE blobs (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  updated_at TEXT NOT NULL
);
`);
    },
  },
];

/** Personal fields cleared from an account's tombstone by `deleteAccount`. */
const ACCOUNT_PERSONAL_FIELDS = ACCOUNT_COLUMNS.map(([n]) => n).filter(
  (n) => !['account_id', 'org_id', 'status', 'created_at'].includes(n),
);

export interface SqliteStoreOptions {
  /** A file path, or `':memory:'`. Ignored when `db` is given. */
  path?: string;
  /** An already open database to share with the other embedded adapters. */
  db?: SqliteDatabase;
  synchronous?: SqliteSynchronous;
  clock?: Clock;
}

/** The embedded `StateStore`, with its database exposed for the other embedded adapters. */
export interface SqliteStore extends StateStore {
  readonly db: SqliteDatabase;
  /**
   * Stores one event, group-committed with the others recorded in the same event-loop turn;
   * resolves once committed (WAL: it survives the process being killed). The embedded gateway
   * records usage events with it directly: the store is local, so no outbox hop is needed for
   * the same durability.
   */
  recordEvent(event: UsageEvent): Promise<void>;
}

type Row = Record<string, unknown>;

/** An event refused at the gateway (see `EventBucket.refused`); shared with the PostgreSQL store. */
export const REFUSED_SQL = "(decision IN ('block', 'step_up', 'throttle') AND status >= 400)";

function actionToParams(a: EnforcementAction): Row {
  return {
    ...toParams(ACTION_COLUMNS, { ...a, subject_kind: a.subject.kind, subject_id: a.subject.id }),
    created_ms: timeMs(a.created_at, 'action.created_at'),
    expires_ms: a.expires_at === undefined ? null : timeMs(a.expires_at, 'action.expires_at'),
  };
}

export function actionFromRow(row: Row): EnforcementAction {
  const { subject_kind, subject_id, ...rest } = fromRow<EnforcementAction & { subject_kind: string; subject_id: string }>(
    ACTION_COLUMNS,
    row,
  );
  return { ...rest, subject: { kind: subject_kind as Subject['kind'], id: subject_id } };
}

function isConstraint(err: unknown): boolean {
  return typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('SQLITE_CONSTRAINT');
}

/** Upserts actions into the `actions` table (shared with the enforcement state). */
export function prepareActionWriter(db: SqliteDatabase): (a: EnforcementAction) => void {
  const cols = [...ACTION_COLUMNS, ['created_ms', 'int'], ['expires_ms', 'int']] as const;
  const stmt = db.prepare(`INSERT OR REPLACE INTO actions (${columnList(cols)}) VALUES (${placeholderList(cols)})`);
  return (a) => void stmt.run(actionToParams(a));
}

/** Opens (creating or migrating) the embedded state store. */
export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const ownsDb = opts.db === undefined;
  const db = opts.db ?? openDatabase({ path: opts.path ?? '', synchronous: opts.synchronous });
  const clock = opts.clock ?? systemClock;
  migrate(db, 'store', STORE_MIGRATIONS);

  const insert = (table: string, spec: ColumnSpec, verb = 'INSERT') =>
    db.prepare(`${verb} INTO ${table} (${columnList(spec)}) VALUES (${placeholderList(spec)})`);
  const update = (table: string, spec: ColumnSpec, key: string) =>
    db.prepare(
      `UPDATE ${table} SET ${spec
        .filter(([n]) => n !== key)
        .map(([n]) => `${n} = @${n}`)
        .join(', ')} WHERE ${key} = @${key}`,
    );

  const s = {
    insertOrg: insert('orgs', ORG_COLUMNS),
    updateOrg: update('orgs', ORG_COLUMNS, 'org_id'),
    getOrg: db.prepare('SELECT * FROM orgs WHERE org_id = ?'),
    listOrgs: db.prepare('SELECT * FROM orgs WHERE org_id > ? ORDER BY org_id LIMIT ?'),
    insertAccount: insert('accounts', ACCOUNT_COLUMNS),
    updateAccount: update('accounts', ACCOUNT_COLUMNS, 'account_id'),
    getAccount: db.prepare('SELECT * FROM accounts WHERE account_id = ?'),
    listAccounts: db.prepare('SELECT * FROM accounts WHERE account_id > ? ORDER BY account_id LIMIT ?'),
    listAccountsOfOrg: db.prepare('SELECT * FROM accounts WHERE org_id = ? AND account_id > ? ORDER BY account_id LIMIT ?'),
    deletedAccounts: db.prepare("SELECT account_id FROM accounts WHERE status = 'deleted'"),
    insertKey: insert('api_keys', KEY_COLUMNS),
    getKey: db.prepare('SELECT * FROM api_keys WHERE key_id = ?'),
    touchKey: db.prepare(
      'UPDATE api_keys SET last_used_at = ? WHERE key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    ),
    insertEvent: db.prepare(
      `INSERT OR IGNORE INTO events (${columnList(EVENT_COLUMNS)}, ts_ms) VALUES (${positionalList(EVENT_COLUMNS)}, ?)`,
    ),
    deleteEventsBefore: db.prepare('DELETE FROM events WHERE ts_ms < ?'),
    scrubBefore: db.prepare(
      'UPDATE events SET prompt = NULL, system = NULL WHERE ts_ms < ? AND (prompt IS NOT NULL OR system IS NOT NULL)',
    ),
    latestPolicy: db.prepare('SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1'),
    insertPolicy: db.prepare(
      'INSERT INTO policy_versions (version, text, sha256, created_at, source, active) VALUES (?, ?, ?, ?, ?, 0)',
    ),
    listPolicies: db.prepare('SELECT * FROM policy_versions ORDER BY version'),
    getPolicy: db.prepare('SELECT * FROM policy_versions WHERE version = ?'),
    activePolicy: db.prepare('SELECT version FROM policy_versions WHERE active = 1 LIMIT 1'),
    activatePolicy: db.prepare('UPDATE policy_versions SET active = (version = ?)'),
    getAction: db.prepare('SELECT * FROM actions WHERE action_id = ?'),
    activeActions: db.prepare(
      'SELECT * FROM actions WHERE reversed_at IS NULL AND (expires_ms IS NULL OR expires_ms > ?) ORDER BY created_ms, action_id',
    ),
    listActions: db.prepare('SELECT * FROM actions ORDER BY created_ms DESC, action_id DESC LIMIT ?'),
    listActionsOf: db.prepare(
      'SELECT * FROM actions WHERE subject_kind = ? AND subject_id = ? ORDER BY created_ms DESC, action_id DESC LIMIT ?',
    ),
    putRisk: insert('risk', RISK_COLUMNS, 'INSERT OR REPLACE'),
    getRisk: db.prepare('SELECT * FROM risk WHERE account_id = ?'),
    putBlob: db.prepare(
      'INSERT INTO blobs (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    ),
    getBlob: db.prepare('SELECT value FROM blobs WHERE key = ?'),
  };
  const writeAction = prepareActionWriter(db);

  // Tombstoned accounts, so events relayed after an erasure are not stored again.
  const deleted = new Set<string>((s.deletedAccounts.all() as { account_id: string }[]).map((r) => r.account_id));
  let closed = false;

  const eventWrites = new GroupCommit(db, 'event store');
  /** The event's time in epoch ms; the field name for the error is built only when it is needed. */
  const eventMs = (e: UsageEvent): number => {
    const ms = Date.parse(e.ts);
    return Number.isNaN(ms) ? timeMs(e.ts, `event ${e.event_id} ts`) : ms;
  };
  const insertOne = (e: UsageEvent): number =>
    e.account_id !== undefined && deleted.has(e.account_id) ? 0 : s.insertEvent.run(toPositional(EVENT_COLUMNS, e, eventMs(e))).changes;

  const appendTx = db.transaction((events: UsageEvent[]) => {
    let added = 0;
    for (const e of events) added += insertOne(e);
    return added;
  });

  function eventWhere(q: EventQuery): { sql: string; params: unknown[] } {
    const parts: string[] = [];
    const params: unknown[] = [];
    if (q.account_id !== undefined) {
      parts.push('account_id = ?');
      params.push(q.account_id);
    }
    if (q.org_id !== undefined) {
      parts.push('org_id = ?');
      params.push(q.org_id);
    }
    if (q.since !== undefined) {
      parts.push('ts_ms >= ?');
      params.push(timeMs(q.since, 'query.since'));
    }
    if (q.until !== undefined) {
      parts.push('ts_ms < ?');
      params.push(timeMs(q.until, 'query.until'));
    }
    return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
  }

  const limitOf = (n: number | undefined) => (n === undefined ? -1 : Math.max(0, Math.floor(n)));

  const policyFromRow = (r: Row): PolicyVersionRecord => ({
    version: Number(r['version']),
    text: r['text'] as string,
    sha256: r['sha256'] as string,
    created_at: r['created_at'] as string,
    source: r['source'] as string,
    active: r['active'] === 1,
  });

  const store: SqliteStore = {
    db,

    async createOrg(org) {
      try {
        s.insertOrg.run(toParams(ORG_COLUMNS, org));
      } catch (err) {
        if (isConstraint(err)) throw new ConflictError(`Org ${org.org_id} already exists; use updateOrg to change it.`);
        throw err;
      }
    },
    async updateOrg(org) {
      if (s.updateOrg.run(toParams(ORG_COLUMNS, org)).changes === 0) {
        throw new NotFoundError(`Org ${org.org_id} does not exist; create it first.`);
      }
    },
    async getOrg(orgId) {
      const row = s.getOrg.get(orgId) as Row | undefined;
      return row ? fromRow<Org>(ORG_COLUMNS, row) : null;
    },
    async listOrgs(o = {}) {
      return (s.listOrgs.all(o.after ?? '', limitOf(o.limit)) as Row[]).map((r) => fromRow<Org>(ORG_COLUMNS, r));
    },

    async createAccount(account) {
      try {
        s.insertAccount.run(toParams(ACCOUNT_COLUMNS, account));
      } catch (err) {
        if (isConstraint(err)) {
          throw new ConflictError(`Account ${account.account_id} already exists (ids of deleted accounts are never reused).`);
        }
        throw err;
      }
      if (account.status === 'deleted') deleted.add(account.account_id);
    },
    async updateAccount(account) {
      const current = s.getAccount.get(account.account_id) as Row | undefined;
      if (!current) throw new NotFoundError(`Account ${account.account_id} does not exist; create it first.`);
      if (current['status'] === 'deleted') {
        throw new ConflictError(`Account ${account.account_id} was deleted; a deleted account cannot be changed.`);
      }
      s.updateAccount.run(toParams(ACCOUNT_COLUMNS, account));
      if (account.status === 'deleted') deleted.add(account.account_id);
    },
    async getAccount(accountId) {
      const row = s.getAccount.get(accountId) as Row | undefined;
      return row ? fromRow<AccountRecord>(ACCOUNT_COLUMNS, row) : null;
    },
    async listAccounts(o = {}) {
      if (o.search !== undefined && o.search !== '') {
        const like = `%${o.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const match = ['a.account_id', 'a.org_id', "coalesce(a.email, '')", "coalesce(a.org_name, '')", "coalesce(o.name, '')"].map((c) => `lower(${c}) LIKE @like ESCAPE '\\'`);
        const parts = [`(${match.join(' OR ')})`, 'a.account_id > @after'];
        if (o.orgId !== undefined) parts.push('a.org_id = @org');
        const rows = db
          .prepare(`SELECT a.* FROM accounts a LEFT JOIN orgs o ON o.org_id = a.org_id WHERE ${parts.join(' AND ')} ORDER BY a.account_id LIMIT @limit`)
          .all({ like, after: o.after ?? '', limit: limitOf(o.limit), ...(o.orgId !== undefined ? { org: o.orgId } : {}) }) as Row[];
        return rows.map((r) => fromRow<AccountRecord>(ACCOUNT_COLUMNS, r));
      }
      const rows =
        o.orgId === undefined
          ? s.listAccounts.all(o.after ?? '', limitOf(o.limit))
          : s.listAccountsOfOrg.all(o.orgId, o.after ?? '', limitOf(o.limit));
      return (rows as Row[]).map((r) => fromRow<AccountRecord>(ACCOUNT_COLUMNS, r));
    },
    async deleteAccount(accountId) {
      const now = new Date(clock.now()).toISOString();
      db.transaction(() => {
        const current = s.getAccount.get(accountId) as Row | undefined;
        if (!current) {
          // Events imported without their account record still belong to a person: erase them.
          const ev = db.prepare('SELECT org_id FROM events WHERE account_id = ? LIMIT 1').get(accountId) as Row | undefined;
          if (!ev) throw new NotFoundError(`Account ${accountId} does not exist and has no events; nothing to delete.`);
          s.insertAccount.run(
            toParams(ACCOUNT_COLUMNS, { account_id: accountId, org_id: ev['org_id'] ?? '', status: 'deleted', created_at: now }),
          );
        }
        db.prepare(
          `UPDATE accounts SET status = 'deleted', ${ACCOUNT_PERSONAL_FIELDS.map((f) => `${f} = NULL`).join(', ')} WHERE account_id = ?`,
        ).run(accountId);
        db.prepare('DELETE FROM events WHERE account_id = ?').run(accountId);
        db.prepare(
          "UPDATE api_keys SET secret_hash = '', name = NULL, last_used_at = NULL, revoked_at = COALESCE(revoked_at, ?) WHERE account_id = ?",
        ).run(now, accountId);
        db.prepare('DELETE FROM risk WHERE account_id = ?').run(accountId);
      })();
      deleted.add(accountId);
    },

    async createKey(key) {
      try {
        s.insertKey.run(toParams(KEY_COLUMNS, key));
      } catch (err) {
        if (isConstraint(err)) throw new ConflictError(`Key ${key.key_id} already exists; issue a new key id.`);
        throw err;
      }
    },
    async getKey(keyId) {
      const row = s.getKey.get(keyId) as Row | undefined;
      return row ? fromRow<ApiKeyRecord>(KEY_COLUMNS, row) : null;
    },
    async listKeys(o = {}) {
      const parts: string[] = [];
      const params: unknown[] = [];
      if (o.accountId !== undefined) {
        parts.push('account_id = ?');
        params.push(o.accountId);
      }
      if (o.orgId !== undefined) {
        parts.push('org_id = ?');
        params.push(o.orgId);
      }
      const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
      return (db.prepare(`SELECT * FROM api_keys ${where} ORDER BY created_at, key_id`).all(...params) as Row[]).map((r) =>
        fromRow<ApiKeyRecord>(KEY_COLUMNS, r),
      );
    },
    async updateKey(keyId, patch) {
      const fields = (['revoked_at', 'expires_at', 'last_used_at'] as const).filter((f) => patch[f] !== undefined);
      if (fields.length === 0) {
        if (!s.getKey.get(keyId)) throw new NotFoundError(`Key ${keyId} does not exist.`);
        return;
      }
      const res = db
        .prepare(`UPDATE api_keys SET ${fields.map((f) => `${f} = ?`).join(', ')} WHERE key_id = ?`)
        .run(...fields.map((f) => patch[f]), keyId);
      if (res.changes === 0) throw new NotFoundError(`Key ${keyId} does not exist.`);
    },
    async touchKeys(lastUsed) {
      db.transaction(() => {
        for (const [keyId, at] of lastUsed) s.touchKey.run(at, keyId, at);
      })();
    },

    async appendEvents(events) {
      return events.length === 0 ? 0 : appendTx(events);
    },
    recordEvent(event) {
      return eventWrites.enqueue(() => void insertOne(event));
    },
    async listEvents(q) {
      const { sql, params } = eventWhere(q);
      const rows = db
        .prepare(`SELECT * FROM events ${sql} ORDER BY ${q.newest_first ? 'ts_ms DESC, event_id DESC' : 'ts_ms, event_id'} LIMIT ?`)
        .all(...params, limitOf(q.limit)) as Row[];
      return rows.map((r) => fromRow<UsageEvent>(EVENT_COLUMNS, r));
    },
    async countEvents(q = {}) {
      const { sql, params } = eventWhere(q);
      const n = (db.prepare(`SELECT count(*) AS n FROM events ${sql}`).get(...params) as { n: number }).n;
      return q.limit === undefined ? n : Math.min(n, limitOf(q.limit));
    },
    async eventBuckets(q) {
      const width = q.bucket === 'minute' ? 60_000 : 3_600_000;
      const ids = q.account_ids;
      if (ids && ids.length === 0) return [];
      const accounts = ids ? `AND account_id IN (SELECT value FROM json_each(?))` : '';
      const rows = db
        .prepare(
          `SELECT (ts_ms / ${width}) * ${width} AS b, count(*) AS requests,
             sum(CASE WHEN ${REFUSED_SQL} THEN 1 ELSE 0 END) AS refused,
             coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
             count(DISTINCT ip) AS distinct_ips
           FROM events WHERE ts_ms >= ? AND ts_ms < ? ${accounts} GROUP BY b ORDER BY b`,
        )
        .all(timeMs(q.since, 'query.since'), timeMs(q.until, 'query.until'), ...(ids ? [JSON.stringify(ids.slice(0, 1000))] : [])) as Row[];
      return rows.map((r) => ({
        at: new Date(Number(r['b'])).toISOString(),
        requests: Number(r['requests']),
        refused: Number(r['refused']),
        input_tokens: Number(r['input_tokens']),
        output_tokens: Number(r['output_tokens']),
        distinct_ips: Number(r['distinct_ips']),
      }));
    },
    async refusalsByRule(q) {
      const rows = db
        .prepare(
          `SELECT coalesce(decision_rule, '(none)') AS rule, count(*) AS n FROM events
           WHERE ts_ms >= ? AND ts_ms < ? AND ${REFUSED_SQL} GROUP BY rule ORDER BY n DESC, rule`,
        )
        .all(timeMs(q.since, 'query.since'), timeMs(q.until, 'query.until')) as Row[];
      return rows.map((r) => ({ rule: r['rule'] as string, count: Number(r['n']) }));
    },
    async deleteEventsBefore(before) {
      return s.deleteEventsBefore.run(timeMs(before, 'before')).changes;
    },
    async scrubRawTextBefore(before) {
      return s.scrubBefore.run(timeMs(before, 'before')).changes;
    },

    async savePolicyVersion(text, source, now) {
      const sha256 = createHash('sha256').update(text).digest('hex');
      return db.transaction(() => {
        const latest = s.latestPolicy.get() as Row | undefined;
        if (latest && latest['sha256'] === sha256) return policyFromRow(latest);
        const version = latest ? Number(latest['version']) + 1 : 1;
        s.insertPolicy.run(version, text, sha256, now, source);
        return policyFromRow(s.getPolicy.get(version) as Row);
      }).immediate();
    },
    async listPolicyVersions() {
      return (s.listPolicies.all() as Row[]).map(policyFromRow);
    },
    async getPolicyVersion(version) {
      const row = s.getPolicy.get(version) as Row | undefined;
      return row ? policyFromRow(row) : null;
    },
    async activePolicyVersion() {
      const row = s.activePolicy.get() as Row | undefined;
      return row ? Number(row['version']) : null;
    },
    async setActivePolicyVersion(version) {
      db.transaction(() => {
        if (!s.getPolicy.get(version)) {
          throw new NotFoundError(`Policy version ${version} does not exist; list the versions with listPolicyVersions.`);
        }
        s.activatePolicy.run(version);
      })();
    },

    async putAction(action) {
      writeAction(action);
    },
    async getAction(actionId) {
      const row = s.getAction.get(actionId) as Row | undefined;
      return row ? actionFromRow(row) : null;
    },
    async listActiveActions(now) {
      return (s.activeActions.all(timeMs(now, 'now')) as Row[]).map(actionFromRow);
    },
    async listActions(o = {}) {
      const rows = o.subject
        ? s.listActionsOf.all(o.subject.kind, o.subject.id, limitOf(o.limit))
        : s.listActions.all(limitOf(o.limit));
      return (rows as Row[]).map(actionFromRow);
    },

    async putRisk(risks) {
      db.transaction(() => {
        for (const r of risks) s.putRisk.run(toParams(RISK_COLUMNS, r));
      })();
    },
    async getRisk(accountId) {
      const row = s.getRisk.get(accountId) as Row | undefined;
      return row ? fromRow<AccountRisk>(RISK_COLUMNS, row) : null;
    },

    async riskClusters(o = {}) {
      const rows = db
        .prepare(
          `SELECT json_extract(cluster_id, '$') AS c, max(risk) AS risk, count(*) AS n,
             max(json_extract(attributed_entity, '$')) AS entity
           FROM risk WHERE json_extract(cluster_id, '$') IS NOT NULL
           GROUP BY c ORDER BY risk DESC, n DESC, c LIMIT ?`,
        )
        .all(limitOf(o.limit)) as Row[];
      return rows.map((r) => ({
        cluster_id: r['c'] as string,
        risk: Number(r['risk']),
        accounts: Number(r['n']),
        ...(r['entity'] ? { entity: r['entity'] as string } : {}),
      }));
    },

    async putBlob(key, value) {
      s.putBlob.run(key, value, new Date(clock.now()).toISOString());
    },
    async getBlob(key) {
      const row = s.getBlob.get(key) as { value: Buffer } | undefined;
      return row ? Buffer.from(row.value) : null;
    },

    async close() {
      if (closed) return;
      closed = true;
      eventWrites.close();
      if (ownsDb) db.close();
    },
  };
  return store;
}

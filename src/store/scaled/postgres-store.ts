/**
 * `PostgresStore`: the scaled-out `StateStore` on PostgreSQL, shared by every gateway, worker
 * and console process. It mirrors the embedded schema column for column (the column lists are
 * the embedded ones), with JSONB for nested values, `BIGINT` epoch-ms columns for time ranges
 * and `COLLATE "C"` text so ids and times sort byte-wise, as in SQLite.
 *
 * Every method is one statement or one transaction, so several processes may share the
 * database: erasure tombstones are checked in SQL (not in a per-process cache), policy
 * versions are numbered under an advisory lock, and `appendEvents` inserts a whole batch in
 * one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
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
import type { ColumnSpec } from '../embedded/columns.js';
import { timeMs } from '../embedded/sqlite.js';
import {
  ACCOUNT_COLUMNS,
  ACTION_COLUMNS,
  EVENT_COLUMNS,
  KEY_COLUMNS,
  ORG_COLUMNS,
  RISK_COLUMNS,
  REFUSED_SQL,
} from '../embedded/state-store.js';
import { migratePostgres, PG_ARRAY } from './migrations.js';
import {
  checkSchemaName,
  ident,
  poolFrom,
  q,
  tx,
  unavailable,
  type PgConnectOptions,
  type Queryable,
} from './pg.js';

type Row = Record<string, unknown>;

/** Parameters in column order: absent fields as NULL, nested ones as JSON text. */
export function pgValues(spec: ColumnSpec, record: object): unknown[] {
  const src = record as Row;
  return spec.map(([name, kind]) => {
    const v = src[name];
    if (v === undefined) return null;
    if (kind === 'json') return JSON.stringify(v);
    if (kind === 'bool') return Boolean(v);
    return v;
  });
}

/** A fresh record from a row: SQL NULL columns are left out, JSON `null` stays `null`. */
export function pgFromRow<T>(spec: ColumnSpec, row: Row): T {
  const out: Row = {};
  for (const [name, kind] of spec) {
    const v = row[name];
    if (v === null || v === undefined) continue;
    if (kind === 'json') out[name] = JSON.parse(v as string);
    else if (kind === 'int' || kind === 'real') out[name] = Number(v);
    else out[name] = v;
  }
  return out as T;
}

const cols = (spec: ColumnSpec) => spec.map(([n]) => n).join(', ');
const placeholders = (spec: ColumnSpec, from = 1) =>
  spec.map(([, k], i) => (k === 'json' ? `$${i + from}::jsonb` : `$${i + from}`)).join(', ');
const setAll = (spec: ColumnSpec, key: string) =>
  spec
    .filter(([n]) => n !== key)
    .map(([n]) => `${n} = excluded.${n}`)
    .join(', ');

const ACTION_ROW = [...ACTION_COLUMNS, ['created_ms', 'int'], ['expires_ms', 'int']] as const satisfies ColumnSpec;
const EVENT_ROW = [...EVENT_COLUMNS, ['ts_ms', 'int']] as const satisfies ColumnSpec;

export function actionValues(a: EnforcementAction): unknown[] {
  return pgValues(ACTION_ROW, {
    ...a,
    subject_kind: a.subject.kind,
    subject_id: a.subject.id,
    created_ms: timeMs(a.created_at, 'action.created_at'),
    expires_ms: a.expires_at === undefined ? undefined : timeMs(a.expires_at, 'action.expires_at'),
  });
}

export function pgActionFromRow(row: Row): EnforcementAction {
  const { subject_kind, subject_id, ...rest } = pgFromRow<EnforcementAction & { subject_kind: string; subject_id: string }>(
    ACTION_COLUMNS,
    row,
  );
  return { ...rest, subject: { kind: subject_kind as Subject['kind'], id: subject_id } };
}

/** The upsert `putAction` and the enforcement state share (schema already quoted). */
export function upsertActionSql(s: string): string {
  return `INSERT INTO ${s}.actions (${cols(ACTION_ROW)}) VALUES (${placeholders(ACTION_ROW)})
    ON CONFLICT (action_id) DO UPDATE SET ${setAll(ACTION_ROW, 'action_id')}`;
}

export function activeActionsSql(s: string): string {
  return `SELECT * FROM ${s}.actions WHERE reversed_at IS NULL AND (expires_ms IS NULL OR expires_ms > $1)
    ORDER BY created_ms, action_id`;
}

const ACCOUNT_PERSONAL_FIELDS = ACCOUNT_COLUMNS.map(([n]) => n).filter(
  (n) => !['account_id', 'org_id', 'status', 'created_at'].includes(n),
);

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

export interface PostgresStoreOptions extends PgConnectOptions {
  /** The PostgreSQL schema holding Warden's tables (created if missing). Default `public`. */
  schema?: string;
  /** Run the migrations on open (default true). With false, run `warden migrate` first. */
  migrate?: boolean;
  /** Most rows `appendEvents` sends in one statement. Default 2000. */
  eventBatchRows?: number;
  clock?: Clock;
}

/** The scaled-out `StateStore`, with its pool exposed for the other PostgreSQL adapters. */
export interface PostgresStore extends StateStore {
  readonly pool: pg.Pool;
  readonly schema: string;
}

/** Opens the PostgreSQL state store (running its migrations unless `migrate: false`). */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const schemaName = checkSchemaName(opts.schema ?? 'public');
  const { pool, owns } = await poolFrom(opts, 'openPostgresStore');
  const clock = opts.clock ?? systemClock;
  const batchRows = Math.max(1, Math.floor(opts.eventBatchRows ?? 2000));
  try {
    if (opts.migrate !== false) await migratePostgres(pool, { schema: schemaName });
    else await q(pool, 'SELECT 1');
  } catch (err) {
    if (owns) await pool.end().catch(() => {});
    unavailable(err, pool);
  }
  const s = ident(schemaName);
  let closed = false;

  const run = async <R extends Row = Row>(text: string, values: unknown[] = [], db: Queryable = pool) => {
    try {
      return await q<R>(db, text, values);
    } catch (err) {
      unavailable(err, pool);
    }
  };
  const one = async (text: string, values: unknown[]) => (await run(text, values)).rows[0];
  const limitOf = (n: number | undefined) => (n === undefined ? null : Math.max(0, Math.floor(n)));

  const sql = {
    insertOrg: `INSERT INTO ${s}.orgs (${cols(ORG_COLUMNS)}) VALUES (${placeholders(ORG_COLUMNS)})`,
    updateOrg: `UPDATE ${s}.orgs SET (${cols(ORG_COLUMNS)}) = ROW(${placeholders(ORG_COLUMNS)}) WHERE org_id = $1`,
    insertAccount: `INSERT INTO ${s}.accounts (${cols(ACCOUNT_COLUMNS)}) VALUES (${placeholders(ACCOUNT_COLUMNS)})`,
    updateAccount: `UPDATE ${s}.accounts SET (${cols(ACCOUNT_COLUMNS)}) = ROW(${placeholders(ACCOUNT_COLUMNS)}) WHERE account_id = $1`,
    insertKey: `INSERT INTO ${s}.api_keys (${cols(KEY_COLUMNS)}) VALUES (${placeholders(KEY_COLUMNS)})`,
    upsertAction: upsertActionSql(s),
    upsertRisk: `INSERT INTO ${s}.risk (${cols(RISK_COLUMNS)})
      SELECT ${RISK_COLUMNS.map(([n, k]) => (k === 'json' ? `${n}::jsonb` : n)).join(', ')}
      FROM unnest(${RISK_COLUMNS.map(([, k], i) => `$${i + 1}::${PG_ARRAY[k]}`).join(', ')}) AS t(${cols(RISK_COLUMNS)})
      ON CONFLICT (account_id) DO UPDATE SET ${setAll(RISK_COLUMNS, 'account_id')}`,
    // One statement per batch; the tombstone check keeps erased accounts erased even when
    // another process relays a late event.
    insertEvents: `INSERT INTO ${s}.events (${cols(EVENT_ROW)})
      SELECT ${EVENT_ROW.map(([n, k]) => (k === 'json' ? `t.${n}::jsonb` : `t.${n}`)).join(', ')}
      FROM unnest(${EVENT_ROW.map(([, k], i) => `$${i + 1}::${PG_ARRAY[k]}`).join(', ')}) AS t(${cols(EVENT_ROW)})
      WHERE t.account_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM ${s}.accounts a WHERE a.account_id = t.account_id AND a.status = 'deleted')
      ON CONFLICT (event_id) DO NOTHING`,
  };

  function eventWhere(qy: EventQuery): { where: string; values: unknown[] } {
    const parts: string[] = [];
    const values: unknown[] = [];
    const add = (cond: string, v: unknown) => {
      values.push(v);
      parts.push(cond.replace('?', `$${values.length}`));
    };
    if (qy.account_id !== undefined) add('account_id = ?', qy.account_id);
    if (qy.org_id !== undefined) add('org_id = ?', qy.org_id);
    if (qy.since !== undefined) add('ts_ms >= ?', timeMs(qy.since, 'query.since'));
    if (qy.until !== undefined) add('ts_ms < ?', timeMs(qy.until, 'query.until'));
    return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', values };
  }

  const policyFromRow = (r: Row): PolicyVersionRecord => ({
    version: Number(r['version']),
    text: r['text'] as string,
    sha256: r['sha256'] as string,
    created_at: r['created_at'] as string,
    source: r['source'] as string,
    active: r['active'] === true,
  });

  const store: PostgresStore = {
    pool,
    schema: schemaName,

    async createOrg(org) {
      try {
        await q(pool, sql.insertOrg, pgValues(ORG_COLUMNS, org));
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError(`Org ${org.org_id} already exists; use updateOrg to change it.`);
        unavailable(err, pool);
      }
    },
    async updateOrg(org) {
      if ((await run(sql.updateOrg, pgValues(ORG_COLUMNS, org))).rowCount === 0) {
        throw new NotFoundError(`Org ${org.org_id} does not exist; create it first.`);
      }
    },
    async getOrg(orgId) {
      const row = await one(`SELECT * FROM ${s}.orgs WHERE org_id = $1`, [orgId]);
      return row ? pgFromRow<Org>(ORG_COLUMNS, row) : null;
    },
    async listOrgs(o = {}) {
      const r = await run(`SELECT * FROM ${s}.orgs WHERE org_id > $1 ORDER BY org_id LIMIT $2`, [o.after ?? '', limitOf(o.limit)]);
      return r.rows.map((row) => pgFromRow<Org>(ORG_COLUMNS, row));
    },

    async createAccount(account) {
      try {
        await q(pool, sql.insertAccount, pgValues(ACCOUNT_COLUMNS, account));
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new ConflictError(`Account ${account.account_id} already exists (ids of deleted accounts are never reused).`);
        }
        unavailable(err, pool);
      }
    },
    async updateAccount(account) {
      await tx(pool, async (c) => {
        const current = (await q(c, `SELECT status FROM ${s}.accounts WHERE account_id = $1 FOR UPDATE`, [account.account_id]))
          .rows[0];
        if (!current) throw new NotFoundError(`Account ${account.account_id} does not exist; create it first.`);
        if (current['status'] === 'deleted') {
          throw new ConflictError(`Account ${account.account_id} was deleted; a deleted account cannot be changed.`);
        }
        await q(c, sql.updateAccount, pgValues(ACCOUNT_COLUMNS, account));
      });
    },
    async getAccount(accountId) {
      const row = await one(`SELECT * FROM ${s}.accounts WHERE account_id = $1`, [accountId]);
      return row ? pgFromRow<AccountRecord>(ACCOUNT_COLUMNS, row) : null;
    },
    async listAccounts(o = {}) {
      if (o.search !== undefined && o.search !== '') {
        const like = `%${o.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const match = ['a.account_id', 'a.org_id', "coalesce(a.email, '')", "coalesce(a.org_name, '')", "coalesce(o.name, '')"].map((c) => `lower(${c}) LIKE $1`);
        const values: unknown[] = [like, o.after ?? '', limitOf(o.limit)];
        if (o.orgId !== undefined) values.push(o.orgId);
        const r = await run(
          `SELECT a.* FROM ${s}.accounts a LEFT JOIN ${s}.orgs o ON o.org_id = a.org_id
           WHERE (${match.join(' OR ')}) AND a.account_id > $2 ${o.orgId !== undefined ? 'AND a.org_id = $4' : ''}
           ORDER BY a.account_id LIMIT $3`,
          values,
        );
        return r.rows.map((row) => pgFromRow<AccountRecord>(ACCOUNT_COLUMNS, row));
      }
      const r =
        o.orgId === undefined
          ? await run(`SELECT * FROM ${s}.accounts WHERE account_id > $1 ORDER BY account_id LIMIT $2`, [
              o.after ?? '',
              limitOf(o.limit),
            ])
          : await run(`SELECT * FROM ${s}.accounts WHERE org_id = $1 AND account_id > $2 ORDER BY account_id LIMIT $3`, [
              o.orgId,
              o.after ?? '',
              limitOf(o.limit),
            ]);
      return r.rows.map((row) => pgFromRow<AccountRecord>(ACCOUNT_COLUMNS, row));
    },
    async deleteAccount(accountId) {
      const now = new Date(clock.now()).toISOString();
      await tx(pool, async (c) => {
        const current = (await q(c, `SELECT status FROM ${s}.accounts WHERE account_id = $1 FOR UPDATE`, [accountId])).rows[0];
        if (!current) {
          // Events imported without their account record still belong to a person: erase them.
          const ev = (await q(c, `SELECT org_id FROM ${s}.events WHERE account_id = $1 LIMIT 1`, [accountId])).rows[0];
          if (!ev) throw new NotFoundError(`Account ${accountId} does not exist and has no events; nothing to delete.`);
          await q(
            c,
            `INSERT INTO ${s}.accounts (account_id, org_id, status, created_at) VALUES ($1, $2, 'deleted', $3)
             ON CONFLICT (account_id) DO NOTHING`,
            [accountId, ev['org_id'] ?? '', now],
          );
        }
        await q(
          c,
          `UPDATE ${s}.accounts SET status = 'deleted', ${ACCOUNT_PERSONAL_FIELDS.map((f) => `${f} = NULL`).join(', ')}
           WHERE account_id = $1`,
          [accountId],
        );
        await q(c, `DELETE FROM ${s}.events WHERE account_id = $1`, [accountId]);
        await q(
          c,
          `UPDATE ${s}.api_keys SET secret_hash = '', name = NULL, last_used_at = NULL, revoked_at = COALESCE(revoked_at, $1)
           WHERE account_id = $2`,
          [now, accountId],
        );
        await q(c, `DELETE FROM ${s}.risk WHERE account_id = $1`, [accountId]);
      });
    },

    async createKey(key) {
      try {
        await q(pool, sql.insertKey, pgValues(KEY_COLUMNS, key));
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError(`Key ${key.key_id} already exists; issue a new key id.`);
        unavailable(err, pool);
      }
    },
    async getKey(keyId) {
      const row = await one(`SELECT * FROM ${s}.api_keys WHERE key_id = $1`, [keyId]);
      return row ? pgFromRow<ApiKeyRecord>(KEY_COLUMNS, row) : null;
    },
    async listKeys(o = {}) {
      const parts: string[] = [];
      const values: unknown[] = [];
      if (o.accountId !== undefined) {
        values.push(o.accountId);
        parts.push(`account_id = $${values.length}`);
      }
      if (o.orgId !== undefined) {
        values.push(o.orgId);
        parts.push(`org_id = $${values.length}`);
      }
      const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
      const r = await run(`SELECT * FROM ${s}.api_keys ${where} ORDER BY created_at, key_id`, values);
      return r.rows.map((row) => pgFromRow<ApiKeyRecord>(KEY_COLUMNS, row));
    },
    async updateKey(keyId, patch) {
      const fields = (['revoked_at', 'expires_at', 'last_used_at'] as const).filter((f) => patch[f] !== undefined);
      const r =
        fields.length === 0
          ? await run(`SELECT 1 FROM ${s}.api_keys WHERE key_id = $1`, [keyId])
          : await run(`UPDATE ${s}.api_keys SET ${fields.map((f, i) => `${f} = $${i + 2}`).join(', ')} WHERE key_id = $1`, [
              keyId,
              ...fields.map((f) => patch[f]),
            ]);
      if (r.rowCount === 0) throw new NotFoundError(`Key ${keyId} does not exist.`);
    },
    async touchKeys(lastUsed) {
      if (lastUsed.size === 0) return;
      // Never moves last use backwards: a late batch from another gateway is ignored.
      await run(
        `UPDATE ${s}.api_keys k SET last_used_at = t.at
         FROM unnest($1::text[], $2::text[]) AS t(key_id, at)
         WHERE k.key_id = t.key_id AND (k.last_used_at IS NULL OR k.last_used_at < t.at)`,
        [[...lastUsed.keys()], [...lastUsed.values()]],
      );
    },

    async appendEvents(events) {
      let added = 0;
      for (let i = 0; i < events.length; i += batchRows) {
        const chunk = events.slice(i, i + batchRows);
        const columns: unknown[][] = EVENT_ROW.map(() => []);
        for (const e of chunk) {
          const values = pgValues(EVENT_ROW, { ...e, ts_ms: timeMs(e.ts, `event ${e.event_id} ts`) });
          values.forEach((v, j) => columns[j]!.push(v));
        }
        added += (await run(sql.insertEvents, columns)).rowCount ?? 0;
      }
      return added;
    },
    async listEvents(qy) {
      const { where, values } = eventWhere(qy);
      const order = qy.newest_first ? 'ts_ms DESC, event_id DESC' : 'ts_ms, event_id';
      const r = await run(`SELECT * FROM ${s}.events ${where} ORDER BY ${order} LIMIT $${values.length + 1}`, [
        ...values,
        limitOf(qy.limit),
      ]);
      return r.rows.map((row) => pgFromRow<UsageEvent>(EVENT_COLUMNS, row));
    },
    async countEvents(qy = {}) {
      const { where, values } = eventWhere(qy);
      const n = Number((await one(`SELECT count(*) AS n FROM ${s}.events ${where}`, values))?.['n'] ?? 0);
      return qy.limit === undefined ? n : Math.min(n, limitOf(qy.limit) ?? n);
    },
    async eventBuckets(qy) {
      const width = qy.bucket === 'minute' ? 60_000 : 3_600_000;
      const ids = qy.account_ids;
      if (ids && ids.length === 0) return [];
      const r = await run(
        `SELECT (ts_ms / ${width}) * ${width} AS b, count(*) AS requests,
           sum(CASE WHEN ${REFUSED_SQL} THEN 1 ELSE 0 END) AS refused,
           coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
           count(DISTINCT ip) AS distinct_ips
         FROM ${s}.events WHERE ts_ms >= $1 AND ts_ms < $2 ${ids ? 'AND account_id = ANY($3::text[])' : ''}
         GROUP BY b ORDER BY b`,
        [timeMs(qy.since, 'query.since'), timeMs(qy.until, 'query.until'), ...(ids ? [ids.slice(0, 1000)] : [])],
      );
      return r.rows.map((row) => ({
        at: new Date(Number(row['b'])).toISOString(),
        requests: Number(row['requests']),
        refused: Number(row['refused']),
        input_tokens: Number(row['input_tokens']),
        output_tokens: Number(row['output_tokens']),
        distinct_ips: Number(row['distinct_ips']),
      }));
    },
    async refusalsByRule(qy) {
      const r = await run(
        `SELECT coalesce(decision_rule, '(none)') AS rule, count(*) AS n FROM ${s}.events
         WHERE ts_ms >= $1 AND ts_ms < $2 AND ${REFUSED_SQL} GROUP BY 1 ORDER BY n DESC, rule`,
        [timeMs(qy.since, 'query.since'), timeMs(qy.until, 'query.until')],
      );
      return r.rows.map((row) => ({ rule: row['rule'] as string, count: Number(row['n']) }));
    },
    async deleteEventsBefore(before) {
      return (await run(`DELETE FROM ${s}.events WHERE ts_ms < $1`, [timeMs(before, 'before')])).rowCount ?? 0;
    },
    async scrubRawTextBefore(before) {
      const r = await run(
        `UPDATE ${s}.events SET prompt = NULL, system = NULL WHERE ts_ms < $1 AND (prompt IS NOT NULL OR system IS NOT NULL)`,
        [timeMs(before, 'before')],
      );
      return r.rowCount ?? 0;
    },

    async savePolicyVersion(text, source, now) {
      const sha256 = createHash('sha256').update(text).digest('hex');
      return tx(pool, async (c) => {
        // Two consoles saving at once must not both take the next number.
        await q(c, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`warden.policy.${schemaName}`]);
        const latest = (await q(c, `SELECT * FROM ${s}.policy_versions ORDER BY version DESC LIMIT 1`)).rows[0];
        if (latest && latest['sha256'] === sha256) return policyFromRow(latest);
        const version = latest ? Number(latest['version']) + 1 : 1;
        const r = await q(
          c,
          `INSERT INTO ${s}.policy_versions (version, text, sha256, created_at, source, active)
           VALUES ($1, $2, $3, $4, $5, false) RETURNING *`,
          [version, text, sha256, now, source],
        );
        return policyFromRow(r.rows[0]!);
      });
    },
    async listPolicyVersions() {
      return (await run(`SELECT * FROM ${s}.policy_versions ORDER BY version`)).rows.map(policyFromRow);
    },
    async getPolicyVersion(version) {
      const row = await one(`SELECT * FROM ${s}.policy_versions WHERE version = $1`, [version]);
      return row ? policyFromRow(row) : null;
    },
    async activePolicyVersion() {
      const row = await one(`SELECT version FROM ${s}.policy_versions WHERE active LIMIT 1`, []);
      return row ? Number(row['version']) : null;
    },
    async setActivePolicyVersion(version) {
      await tx(pool, async (c) => {
        await q(c, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`warden.policy.${schemaName}`]);
        if ((await q(c, `SELECT 1 FROM ${s}.policy_versions WHERE version = $1`, [version])).rowCount === 0) {
          throw new NotFoundError(`Policy version ${version} does not exist; list the versions with listPolicyVersions.`);
        }
        await q(c, `UPDATE ${s}.policy_versions SET active = false WHERE active AND version <> $1`, [version]);
        await q(c, `UPDATE ${s}.policy_versions SET active = true WHERE version = $1`, [version]);
      });
    },

    async putAction(action) {
      await run(sql.upsertAction, actionValues(action));
    },
    async getAction(actionId) {
      const row = await one(`SELECT * FROM ${s}.actions WHERE action_id = $1`, [actionId]);
      return row ? pgActionFromRow(row) : null;
    },
    async listActiveActions(now) {
      return (await run(activeActionsSql(s), [timeMs(now, 'now')])).rows.map(pgActionFromRow);
    },
    async listActions(o = {}) {
      const r = o.subject
        ? await run(
            `SELECT * FROM ${s}.actions WHERE subject_kind = $1 AND subject_id = $2
             ORDER BY created_ms DESC, action_id DESC LIMIT $3`,
            [o.subject.kind, o.subject.id, limitOf(o.limit)],
          )
        : await run(`SELECT * FROM ${s}.actions ORDER BY created_ms DESC, action_id DESC LIMIT $1`, [limitOf(o.limit)]);
      return r.rows.map(pgActionFromRow);
    },

    async putRisk(risks) {
      if (risks.length === 0) return;
      // The last entry for an account wins, as a sequence of upserts would (one statement may
      // not touch a row twice).
      const last = new Map(risks.map((r) => [r.account_id, r]));
      const columns: unknown[][] = RISK_COLUMNS.map(() => []);
      for (const r of last.values()) pgValues(RISK_COLUMNS, r).forEach((v, j) => columns[j]!.push(v));
      await run(sql.upsertRisk, columns);
    },
    async getRisk(accountId) {
      const row = await one(`SELECT * FROM ${s}.risk WHERE account_id = $1`, [accountId]);
      return row ? pgFromRow<AccountRisk>(RISK_COLUMNS, row) : null;
    },

    async riskClusters(o = {}) {
      const r = await run(
        `SELECT cluster_id #>> '{}' AS c, max(risk) AS risk, count(*) AS n, max(attributed_entity #>> '{}') AS entity
         FROM ${s}.risk WHERE cluster_id IS NOT NULL AND jsonb_typeof(cluster_id) = 'string'
         GROUP BY 1 ORDER BY risk DESC, n DESC, c LIMIT $1`,
        [limitOf(o.limit)],
      );
      return r.rows.map((row) => ({
        cluster_id: row['c'] as string,
        risk: Number(row['risk']),
        accounts: Number(row['n']),
        ...(row['entity'] ? { entity: row['entity'] as string } : {}),
      }));
    },

    async putBlob(key, value) {
      await run(
        `INSERT INTO ${s}.blobs (key, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [key, value, new Date(clock.now()).toISOString()],
      );
    },
    async getBlob(key) {
      const row = await one(`SELECT value FROM ${s}.blobs WHERE key = $1`, [key]);
      return row ? Buffer.from(row['value'] as Buffer) : null;
    },

    async close() {
      if (closed) return;
      closed = true;
      if (owns) await pool.end();
    },
  };
  return store;
}

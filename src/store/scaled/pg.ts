/**
 * Shared PostgreSQL plumbing for the scaled-out adapters: pools that fail fast with the URL
 * they tried, queries whose JSON and bigint columns come back in a form that keeps `null`
 * distinct from absent, and versioned migrations per component in `schema_version`.
 */
import type pg from 'pg';
import { ConfigError, UnavailableError, WardenError } from '../../core/index.js';

// Loaded on first open, so processes of the embedded profile never load the driver.
let driver: typeof pg | undefined;
export async function loadPg(): Promise<typeof pg> {
  driver ??= (await import('pg')).default;
  return driver;
}

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;
/** Anything that can run a query: a pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

const JSON_OIDS = new Set([114, 3802]);
const INT8_OID = 20;

/**
 * JSON columns come back as text (so the SQL `NULL` of an absent field and the JSON `null` of a
 * field set to null stay apart) and bigints as numbers (epoch ms, ASNs, counts: all below 2^53).
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (JSON_OIDS.has(oid)) return (v: string) => v;
    if (oid === INT8_OID) return (v: string) => Number(v);
    return driver!.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

export async function q<R extends Record<string, unknown> = Record<string, unknown>>(
  db: Queryable,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  if (!driver) await loadPg();
  return (db as pg.Pool).query<R>({ text, values, types });
}

/** The connection string without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export function describePool(pool: pg.Pool): string {
  const o = (pool as unknown as { options?: pg.PoolConfig }).options ?? {};
  if (o.connectionString) return redactUrl(o.connectionString);
  return `postgres://${o.user ?? ''}@${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`;
}

export interface PgConnectOptions {
  connectionString?: string;
  pool?: pg.Pool;
  /** Most connections the pool opens. Default 10. */
  maxConnections?: number;
  /** How long to wait for a connection before failing. Default 5 s. */
  connectTimeoutMs?: number;
}

/** A pool from the options (or the one given), and whether the caller owns it. */
export async function poolFrom(opts: PgConnectOptions, what: string): Promise<{ pool: pg.Pool; owns: boolean }> {
  const pgModule = await loadPg();
  if (opts.pool) return { pool: opts.pool, owns: false };
  if (typeof opts.connectionString !== 'string' || opts.connectionString === '') {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${what}: give a PostgreSQL connectionString such as postgres://warden@db:5432/warden, or an open pool.`,
    );
  }
  const pool = new pgModule.Pool({
    connectionString: opts.connectionString,
    max: opts.maxConnections ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
  });
  // An idle client losing its connection (a PostgreSQL restart) must not crash the process;
  // the pool replaces it and the next query reports the failure if the server is still down.
  pool.on('error', () => {});
  return { pool, owns: true };
}

/** Rethrows a connection failure as an `UnavailableError` naming the server it tried. */
export function unavailable(err: unknown, pool: pg.Pool): never {
  if (err instanceof WardenError) throw err;
  const code = (err as { code?: string }).code ?? '';
  const msg = (err as Error).message ?? String(err);
  const network = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|EAI_AGAIN|57P0[1-3]|08\d\d[0-9A-Z]?)$/.test(code) ||
    /timeout|terminated|Connection/i.test(msg);
  if (network) {
    throw new UnavailableError(
      `Cannot reach PostgreSQL at ${describePool(pool)}: ${msg}. Check that the server runs and the connection string is right.`,
      { cause: err },
    );
  }
  throw err;
}

const isRetryable = (err: unknown) => ['40P01', '40001'].includes((err as { code?: string }).code ?? '');

/**
 * Runs `fn` in a transaction on one client, rolling back on error; a lost connection becomes
 * `UnavailableError` (others are rethrown as they are). `retries`: run it again that many times
 * when PostgreSQL aborts it for a deadlock or a serialisation failure. The server may end the
 * session mid-transaction (idle_in_transaction_session_timeout): the failure reaches the caller
 * through the query, the client's own 'error' event does not crash the process, and the broken
 * client is not returned to the pool.
 */
export async function tx<R>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<R>, opts: { retries?: number } = {}): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      unavailable(err, pool);
    }
    let broken: Error | undefined;
    const onError = (e: Error) => void (broken = e);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const r = await fn(client);
      await client.query('COMMIT');
      return r;
    } catch (err) {
      if (!broken) await client.query('ROLLBACK').catch(() => {});
      if (attempt < (opts.retries ?? 0) && isRetryable(err)) continue;
      unavailable(err, pool);
    } finally {
      client.off('error', onError);
      client.release(broken ?? undefined);
    }
  }
}

/** A double-quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `PostgreSQL schema: expected lower-case letters, digits and underscores (at most 63), got ${JSON.stringify(schema)}.`,
    );
  }
  return schema;
}

/** One schema change of one component; `sql` gets the quoted schema name. */
export interface PgMigration {
  version: number;
  description: string;
  sql(schema: string): string;
}

/**
 * Brings `component` to its newest version in `schema`, in one transaction holding an advisory
 * lock, so several processes starting at once run each migration once. A schema newer than this
 * code is refused. Returns the version.
 */
export async function migrateComponent(
  pool: pg.Pool,
  schema: string,
  component: string,
  migrations: readonly PgMigration[],
): Promise<number> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${component} migration #${i} has version ${m.version}; expected ${i + 1}`);
  });
  const s = ident(checkSchemaName(schema));
  return tx(pool, async (c) => {
    await q(c, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`warden.migrate.${schema}`]);
    await q(c, `CREATE SCHEMA IF NOT EXISTS ${s}`);
    await q(
      c,
      `CREATE TABLE IF NOT EXISTS ${s}.schema_version (
        component TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
    );
    const row = (await q<{ version: number }>(c, `SELECT version FROM ${s}.schema_version WHERE component = $1`, [component]))
      .rows[0];
    const current = row?.version ?? 0;
    if (current > migrations.length) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `The ${component} schema in PostgreSQL schema ${schema} is version ${current}, newer than this Warden (${migrations.length}). Upgrade Warden or use another schema.`,
      );
    }
    for (const m of migrations.slice(current)) await q(c, m.sql(s));
    if (current < migrations.length) {
      await q(
        c,
        `INSERT INTO ${s}.schema_version (component, version, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (component) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
        [component, migrations.length],
      );
    }
    return migrations.length;
  });
}

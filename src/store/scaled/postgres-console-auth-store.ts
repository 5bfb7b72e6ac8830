/**
 * `PostgresConsoleAuthStore`: the console's users and sessions in PostgreSQL, shared by every
 * gateway process of a deployment (a session made on one gateway is valid on the others). The
 * same tables as the embedded store (`console_users`, `console_sessions`), migration `console`.
 */
import type pg from 'pg';
import type { ConsoleAuthStore } from '../../core/index.js';
import { ConflictError, NotFoundError } from '../../core/index.js';
import { ms, sessionFromRow, userFromRow } from '../embedded/console-auth-store.js';
import { migratePostgres } from './migrations.js';
import { checkSchemaName, ident, poolFrom, q, tx, unavailable, type PgConnectOptions } from './pg.js';

export interface PostgresConsoleAuthStoreOptions extends PgConnectOptions {
  schema?: string;
  /** Run the migrations on open (default true). */
  migrate?: boolean;
}



const isConstraint = (err: unknown) => ['23505', '23503'].includes((err as { code?: string }).code ?? '');

export async function openPostgresConsoleAuthStore(opts: PostgresConsoleAuthStoreOptions): Promise<ConsoleAuthStore & { readonly pool: pg.Pool }> {
  const schemaName = checkSchemaName(opts.schema ?? 'public');
  const { pool, owns } = await poolFrom(opts, 'openPostgresConsoleAuthStore');
  try {
    if (opts.migrate !== false) await migratePostgres(pool, { schema: schemaName });
  } catch (err) {
    if (owns) await pool.end().catch(() => {});
    unavailable(err, pool);
  }
  const s = ident(schemaName);
  const run = async (text: string, values: unknown[] = []) => {
    try {
      return await q(pool, text, values);
    } catch (err) {
      if (isConstraint(err)) throw err;
      unavailable(err, pool);
    }
  };
  let closed = false;
  return {
    pool,
    async createUser(u) {
      try {
        await run(`INSERT INTO ${s}.console_users (username, role, password_hash, created_at, disabled) VALUES ($1, $2, $3, $4, $5)`, [
          u.username,
          u.role,
          u.password_hash,
          u.created_at,
          u.disabled,
        ]);
      } catch (err) {
        if (isConstraint(err)) throw new ConflictError(`Console user "${u.username}" exists already.`);
        throw err;
      }
    },
    async getUser(username) {
      const r = (await run(`SELECT * FROM ${s}.console_users WHERE username = $1`, [username])).rows[0];
      return r ? userFromRow(r) : null;
    },
    async listUsers() {
      return (await run(`SELECT * FROM ${s}.console_users ORDER BY username`)).rows.map(userFromRow);
    },
    async updateUser(username, patch) {
      const r = (
        await run(
          `UPDATE ${s}.console_users SET role = coalesce($2, role), password_hash = coalesce($3, password_hash), disabled = coalesce($4, disabled)
           WHERE username = $1 RETURNING *`,
          [username, patch.role ?? null, patch.password_hash ?? null, patch.disabled ?? null],
        )
      ).rows[0];
      if (!r) throw new NotFoundError(`No console user "${username}".`);
      return userFromRow(r);
    },
    async deleteUser(username) {
      return tx(pool, async (c) => {
        await q(c, `DELETE FROM ${s}.console_sessions WHERE username = $1`, [username]);
        return ((await q(c, `DELETE FROM ${s}.console_users WHERE username = $1`, [username])).rowCount ?? 0) > 0;
      });
    },
    async createSession(x) {
      try {
        await run(
          `INSERT INTO ${s}.console_sessions (session_hash, username, role, csrf_token, created_at, last_seen_at, expires_at, expires_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [x.session_hash, x.username, x.role, x.csrf_token, x.created_at, x.last_seen_at, x.expires_at, ms(x.expires_at, 'expires_at')],
        );
      } catch (err) {
        if (isConstraint(err)) throw new ConflictError(`Session exists already, or its user "${x.username}" does not exist.`);
        throw err;
      }
    },
    async getSession(hash) {
      const r = (await run(`SELECT * FROM ${s}.console_sessions WHERE session_hash = $1`, [hash])).rows[0];
      return r ? sessionFromRow(r) : null;
    },
    async touchSession(hash, lastSeenAt, expiresAt) {
      await run(`UPDATE ${s}.console_sessions SET last_seen_at = $2, expires_at = $3, expires_ms = $4 WHERE session_hash = $1`, [
        hash,
        lastSeenAt,
        expiresAt,
        ms(expiresAt, 'expires_at'),
      ]);
    },
    async deleteSession(hash) {
      return ((await run(`DELETE FROM ${s}.console_sessions WHERE session_hash = $1`, [hash])).rowCount ?? 0) > 0;
    },
    async deleteSessionsOf(username) {
      return (await run(`DELETE FROM ${s}.console_sessions WHERE username = $1`, [username])).rowCount ?? 0;
    },
    async deleteExpiredSessions(now) {
      return (await run(`DELETE FROM ${s}.console_sessions WHERE expires_ms <= $1`, [ms(now, 'now')])).rowCount ?? 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owns) await pool.end();
    },
  };
}

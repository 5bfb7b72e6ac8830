/**
 * `SqliteConsoleAuthStore`: the console's users and sessions in SQLite, in the same file as the
 * state store (`warden.db`). Sessions are keyed by the SHA-256 of their id; passwords arrive
 * already hashed (scrypt, `src/console`).
 */
import type { ConsoleAuthStore, ConsoleRole, ConsoleSession, ConsoleUser } from '../../core/index.js';
import { ConflictError, NotFoundError } from '../../core/index.js';
import { migrate, openDatabase, type Migration, type SqliteDatabase } from './sqlite.js';

export const CONSOLE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'console users and sessions',
    up(db) {
      db.exec(`
CREATE TABLE console_users (
  username TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE console_sessions (
  session_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
  role TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (username);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_ms);
`);
    },
  },
];

export interface SqliteConsoleAuthStoreOptions {
  /** A file path or `':memory:'`; ignored when `db` is given. */
  path?: string;
  /** The state store's database, shared. */
  db?: SqliteDatabase;
}

type Row = Record<string, unknown>;

/** A user row of either dialect (SQLite stores `disabled` as 0/1, PostgreSQL as a boolean). */
export const userFromRow = (r: Record<string, unknown>): ConsoleUser => ({
  username: r['username'] as string,
  role: r['role'] as ConsoleRole,
  password_hash: r['password_hash'] as string,
  created_at: r['created_at'] as string,
  disabled: r['disabled'] === 1 || r['disabled'] === true,
});
export const sessionFromRow = (r: Record<string, unknown>): ConsoleSession => ({
  session_hash: r['session_hash'] as string,
  username: r['username'] as string,
  role: r['role'] as ConsoleRole,
  csrf_token: r['csrf_token'] as string,
  created_at: r['created_at'] as string,
  last_seen_at: r['last_seen_at'] as string,
  expires_at: r['expires_at'] as string,
});

/** Epoch ms of a session time (the expiry index), refusing a time that does not parse. */
export function ms(iso: string, field: string): number {
  const n = Date.parse(iso);
  if (Number.isNaN(n)) throw new TypeError(`${field}: expected an RFC 3339 time, got "${iso}"`);
  return n;
}

const isConstraint = (err: unknown) => String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_CONSTRAINT');

export function openSqliteConsoleAuthStore(opts: SqliteConsoleAuthStoreOptions): ConsoleAuthStore {
  const ownsDb = opts.db === undefined;
  const db = opts.db ?? openDatabase({ path: opts.path ?? '' });
  migrate(db, 'console', CONSOLE_MIGRATIONS);
  const s = {
    insertUser: db.prepare('INSERT INTO console_users (username, role, password_hash, created_at, disabled) VALUES (?, ?, ?, ?, ?)'),
    getUser: db.prepare('SELECT * FROM console_users WHERE username = ?'),
    listUsers: db.prepare('SELECT * FROM console_users ORDER BY username'),
    deleteUser: db.prepare('DELETE FROM console_users WHERE username = ?'),
    insertSession: db.prepare(
      'INSERT INTO console_sessions (session_hash, username, role, csrf_token, created_at, last_seen_at, expires_at, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    getSession: db.prepare('SELECT * FROM console_sessions WHERE session_hash = ?'),
    touchSession: db.prepare('UPDATE console_sessions SET last_seen_at = ?, expires_at = ?, expires_ms = ? WHERE session_hash = ?'),
    deleteSession: db.prepare('DELETE FROM console_sessions WHERE session_hash = ?'),
    deleteSessionsOf: db.prepare('DELETE FROM console_sessions WHERE username = ?'),
    deleteExpired: db.prepare('DELETE FROM console_sessions WHERE expires_ms <= ?'),
  };
  let closed = false;
  return {
    async createUser(u) {
      try {
        s.insertUser.run(u.username, u.role, u.password_hash, u.created_at, u.disabled ? 1 : 0);
      } catch (err) {
        if (isConstraint(err)) throw new ConflictError(`Console user "${u.username}" exists already.`);
        throw err;
      }
    },
    async getUser(username) {
      const r = s.getUser.get(username) as Row | undefined;
      return r ? userFromRow(r) : null;
    },
    async listUsers() {
      return (s.listUsers.all() as Row[]).map(userFromRow);
    },
    async updateUser(username, patch) {
      return db.transaction(() => {
        const r = s.getUser.get(username) as Row | undefined;
        if (!r) throw new NotFoundError(`No console user "${username}".`);
        const next = { ...userFromRow(r), ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as ConsoleUser;
        db.prepare('UPDATE console_users SET role = ?, password_hash = ?, disabled = ? WHERE username = ?').run(next.role, next.password_hash, next.disabled ? 1 : 0, username);
        return next;
      })();
    },
    async deleteUser(username) {
      return db.transaction(() => {
        s.deleteSessionsOf.run(username);
        return s.deleteUser.run(username).changes > 0;
      })();
    },
    async createSession(x) {
      try {
        s.insertSession.run(x.session_hash, x.username, x.role, x.csrf_token, x.created_at, x.last_seen_at, x.expires_at, ms(x.expires_at, 'expires_at'));
      } catch (err) {
        if (isConstraint(err)) throw new ConflictError(`Session exists already, or its user "${x.username}" does not exist.`);
        throw err;
      }
    },
    async getSession(hash) {
      const r = s.getSession.get(hash) as Row | undefined;
      return r ? sessionFromRow(r) : null;
    },
    async touchSession(hash, lastSeenAt, expiresAt) {
      s.touchSession.run(lastSeenAt, expiresAt, ms(expiresAt, 'expires_at'), hash);
    },
    async deleteSession(hash) {
      return s.deleteSession.run(hash).changes > 0;
    },
    async deleteSessionsOf(username) {
      return s.deleteSessionsOf.run(username).changes;
    },
    async deleteExpiredSessions(now) {
      return s.deleteExpired.run(ms(now, 'now')).changes;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownsDb) db.close();
    },
  };
}

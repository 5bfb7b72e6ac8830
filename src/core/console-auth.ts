/**
 * Who may call the admin API, and the storage of the analyst console's users and sessions.
 *
 * Every `/admin/v1` route is guarded by an injected `AdminAuthenticator` that turns a request's
 * headers into an `AdminPrincipal` (the bearer admin token, or a console session cookie), then by
 * `admitAdmin`, which checks the route's role and, for cookie sessions, the CSRF token. The
 * table of roles per route is `requiredAdminRole`, in one place so it can be read and tested.
 * Pure: no I/O here; hashing and the store live in `src/console` and `src/store`.
 */

export const CONSOLE_ROLES = ['viewer', 'analyst', 'admin'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** A console user. `password_hash` is `scrypt$N$r$p$salt$hash` (base64url), never the password. */
export interface ConsoleUser {
  username: string;
  role: ConsoleRole;
  password_hash: string;
  created_at: string;
  disabled: boolean;
}

/** A signed-in session, stored under the SHA-256 of its id (the id itself is only in the cookie). */
export interface ConsoleSession {
  /** Hex SHA-256 of the session id. */
  session_hash: string;
  username: string;
  role: ConsoleRole;
  /** The synchronizer token the browser sends back in `x-csrf-token` on every non-GET request. */
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

/** Users and sessions of the console (embedded: SQLite; scaled: PostgreSQL). */
export interface ConsoleAuthStore {
  /** `ConflictError` when the username exists. */
  createUser(user: ConsoleUser): Promise<void>;
  getUser(username: string): Promise<ConsoleUser | null>;
  /** Sorted by username. */
  listUsers(): Promise<ConsoleUser[]>;
  /** `NotFoundError` when there is no such user. */
  updateUser(username: string, patch: Partial<Pick<ConsoleUser, 'role' | 'password_hash' | 'disabled'>>): Promise<ConsoleUser>;
  /** Deletes the user and every session of theirs; false when there was no such user. */
  deleteUser(username: string): Promise<boolean>;

  /** `ConflictError` when the hash exists. */
  createSession(session: ConsoleSession): Promise<void>;
  /** The session, whether or not it has expired (the caller compares `expires_at`). */
  getSession(sessionHash: string): Promise<ConsoleSession | null>;
  /** Sets `last_seen_at` and `expires_at`; a missing session is ignored. */
  touchSession(sessionHash: string, lastSeenAt: string, expiresAt: string): Promise<void>;
  deleteSession(sessionHash: string): Promise<boolean>;
  deleteSessionsOf(username: string): Promise<number>;
  /** Deletes sessions whose `expires_at` is at or before `now`; returns how many. */
  deleteExpiredSessions(now: string): Promise<number>;
  close(): Promise<void>;
}

/** Who is calling the admin API. */
export interface AdminPrincipal {
  /** Recorded as author/actor: `admin` for the token, the username for a session. */
  actor: string;
  role: ConsoleRole;
  via: 'token' | 'session';
  /** The session's CSRF token (sessions only). */
  csrf_token?: string;
}

export type AdminHeaders = Record<string, string | string[] | undefined>;

/** Turns a request's headers into a principal, or null when neither a valid token nor a live session is given. */
export type AdminAuthenticator = (req: { headers: AdminHeaders }) => Promise<AdminPrincipal | null>;

export function roleAtLeast(role: ConsoleRole, needed: ConsoleRole): boolean {
  return CONSOLE_ROLES.indexOf(role) >= CONSOLE_ROLES.indexOf(needed);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The least role a route of the admin API needs. `path` is the URL path (query ignored) with or
 * without the `/admin/v1` prefix. Viewers read; analysts also work cases, alerts, actions; all
 * else (policy, keys, orgs, accounts, users, STIX import) and a few reads that expose personal
 * data or credentials (account export, users) need an admin.
 */
export function requiredAdminRole(method: string, path: string): ConsoleRole {
  const p = path.split('?')[0]!.replace(/^\/admin\/v1/, '').replace(/\/+$/, '');
  const m = method.toUpperCase();
  if (SAFE_METHODS.has(m)) {
    if (/^\/accounts\/[^/]+\/export$/.test(p) || p === '/users' || p.startsWith('/users/')) return 'admin';
    return 'viewer';
  }
  if (/^\/cases(\/|$)/.test(p) || /^\/alerts(\/|$)/.test(p) || p === '/actions' || /^\/actions\/[^/]+\/reverse$/.test(p)) return 'analyst';
  return 'admin';
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i % (a.length || 1)) || 0) ^ (b.charCodeAt(i % (b.length || 1)) || 0);
  return diff === 0;
}

export type AdminAdmission =
  | { ok: true; principal: AdminPrincipal }
  | { ok: false; status: 401 | 403; error: { type: 'unauthorized' | 'csrf' | 'forbidden'; message: string } };

export const ADMIN_UNAUTHORIZED_MESSAGE =
  'Admin token missing or wrong. Send Authorization: Bearer <admin token> (see `warden serve` output or WARDEN_ADMIN_TOKEN), or sign in to the console.';

/**
 * Decides whether a principal may make this request: 401 without one; for a cookie session,
 * 403 `csrf` on a non-GET request whose `x-csrf-token` is not the session's; 403 `forbidden`
 * when the role is too low.
 */
export function admitAdmin(principal: AdminPrincipal | null, method: string, path: string, csrfHeader: string | string[] | undefined): AdminAdmission {
  if (!principal) return { ok: false, status: 401, error: { type: 'unauthorized', message: ADMIN_UNAUTHORIZED_MESSAGE } };
  if (principal.via === 'session' && !SAFE_METHODS.has(method.toUpperCase())) {
    const given = typeof csrfHeader === 'string' ? csrfHeader : '';
    if (!principal.csrf_token || !given || !constantTimeEqual(given, principal.csrf_token)) {
      return { ok: false, status: 403, error: { type: 'csrf', message: 'Missing or wrong x-csrf-token header: send the csrf_token from POST or GET /console/api/session with every request that changes something.' } };
    }
  }
  const needed = requiredAdminRole(method, path);
  if (!roleAtLeast(principal.role, needed)) {
    return {
      ok: false,
      status: 403,
      error: { type: 'forbidden', message: `${method.toUpperCase()} ${path.split('?')[0]} requires the ${needed} role; ${principal.actor} has the ${principal.role} role.` },
    };
  }
  return { ok: true, principal };
}

/** The value of one cookie in a `Cookie` header, or undefined. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const h = Array.isArray(header) ? header.join('; ') : header;
  if (!h) return undefined;
  for (const part of h.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  }
  return undefined;
}

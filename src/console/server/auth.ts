/**
 * Sign-in, sessions and the admin API's authenticator. A session id is 32 random bytes, sent
 * only in the `warden_session` cookie (HttpOnly, SameSite=Strict) and stored as its SHA-256, so
 * a copy of the database signs nobody in. Each session carries a synchronizer CSRF token the
 * browser sends back in `x-csrf-token`. Sessions expire after an idle period (sliding, touched at
 * most once a minute) and at the latest 7 days after sign-in.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AdminAuthenticator, AdminPrincipal, ConsoleAuthStore, ConsoleRole, ConsoleSession, ConsoleUser, Counters, Period } from '../../core/index.js';
import { ConflictError, NotFoundError, ValidationError, cookieValue } from '../../core/index.js';
import { dummyHash, hashPassword, MIN_PASSWORD_LENGTH, SCRYPT_PARAMS, verifyPassword } from './passwords.js';

export const SESSION_COOKIE = 'warden_session';
/** A session ends this long after sign-in however active it is. */
export const SESSION_MAX_MS = 7 * 86_400_000;
/** `last_seen_at` is written at most this often per session. */
const TOUCH_EVERY_MS = 60_000;

export interface ConsoleAuthOptions {
  store: ConsoleAuthStore;
  /** The admin token (Bearer); compared in constant time. */
  adminToken: string;
  /** Idle minutes after which a session ends. */
  idleMinutes: number;
  now?: () => number;
  /** scrypt cost of new hashes; default `SCRYPT_PARAMS` (tests use cheaper ones). */
  scrypt?: { N: number; r: number; p: number };
}

export interface SignedIn {
  /** The raw session id for the cookie; never stored. */
  sessionId: string;
  session: ConsoleSession;
  user: ConsoleUser;
}

export interface ConsoleAuth {
  authenticate: AdminAuthenticator;
  /** The session of a cookie header, if live (touching it). */
  sessionOf(cookieHeader: string | string[] | undefined): Promise<ConsoleSession | null>;
  /** Checks a username and password; null when either is wrong or the user is disabled (same time either way). */
  signIn(username: string, password: string): Promise<SignedIn | { failed: 'unknown_user' | 'wrong_password' | 'disabled' }>;
  signOut(cookieHeader: string | string[] | undefined): Promise<ConsoleSession | null>;
  createUser(input: { username: string; password: string; role: ConsoleRole }): Promise<ConsoleUser>;
  deleteUser(username: string): Promise<void>;
  listUsers(): Promise<Omit<ConsoleUser, 'password_hash'>[]>;
  idleMs: number;
}

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export function createConsoleAuth(opts: ConsoleAuthOptions): ConsoleAuth {
  const now = opts.now ?? Date.now;
  const idleMs = opts.idleMinutes * 60_000;
  const tokenHash = createHash('sha256').update(opts.adminToken).digest();
  const params = opts.scrypt ?? SCRYPT_PARAMS;

  const live = async (hash: string): Promise<ConsoleSession | null> => {
    const s = await opts.store.getSession(hash);
    if (!s) return null;
    const t = now();
    if (Date.parse(s.expires_at) <= t) {
      await opts.store.deleteSession(hash);
      return null;
    }
    if (t - Date.parse(s.last_seen_at) >= TOUCH_EVERY_MS) {
      const expires = new Date(Math.min(t + idleMs, Date.parse(s.created_at) + SESSION_MAX_MS)).toISOString();
      const seen = new Date(t).toISOString();
      await opts.store.touchSession(hash, seen, expires);
      return { ...s, last_seen_at: seen, expires_at: expires };
    }
    return s;
  };
  const sessionOf = async (cookieHeader: string | string[] | undefined) => {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (!id || id.length > 200) return null;
    return live(sha256Hex(id));
  };

  const authenticate: AdminAuthenticator = async ({ headers }) => {
    const auth = headers['authorization'];
    const m = typeof auth === 'string' ? /^Bearer\s+(.+)$/i.exec(auth) : null;
    if (m) {
      const given = createHash('sha256').update(m[1]!).digest();
      // A bearer header decides alone: a wrong token is refused even with a valid cookie.
      return timingSafeEqual(given, tokenHash) ? { actor: 'admin', role: 'admin', via: 'token' } : null;
    }
    const s = await sessionOf(headers['cookie']);
    if (!s) return null;
    const p: AdminPrincipal = { actor: s.username, role: s.role, via: 'session', csrf_token: s.csrf_token };
    return p;
  };

  return {
    authenticate,
    sessionOf,
    idleMs,
    async signIn(username, password) {
      const user = await opts.store.getUser(username);
      // The same scrypt work whether or not the user exists, so timing does not tell.
      const ok = await verifyPassword(password, user?.password_hash ?? (await dummyHash(params)));
      if (!user) return { failed: 'unknown_user' };
      if (!ok) return { failed: 'wrong_password' };
      if (user.disabled) return { failed: 'disabled' };
      const sessionId = randomBytes(32).toString('base64url');
      const t = now();
      const session: ConsoleSession = {
        session_hash: sha256Hex(sessionId),
        username: user.username,
        role: user.role,
        csrf_token: randomBytes(24).toString('base64url'),
        created_at: new Date(t).toISOString(),
        last_seen_at: new Date(t).toISOString(),
        expires_at: new Date(t + Math.min(idleMs, SESSION_MAX_MS)).toISOString(),
      };
      await opts.store.createSession(session);
      // Expired sessions are swept on each sign-in (cheap: an indexed delete).
      await opts.store.deleteExpiredSessions(new Date(t).toISOString());
      return { sessionId, session, user };
    },
    async signOut(cookieHeader) {
      const id = cookieValue(cookieHeader, SESSION_COOKIE);
      if (!id) return null;
      const hash = sha256Hex(id);
      const s = await opts.store.getSession(hash);
      await opts.store.deleteSession(hash);
      return s;
    },
    async createUser(input) {
      const issues: { path: string; message: string }[] = [];
      if (!USERNAME_PATTERN.test(input.username)) issues.push({ path: 'username', message: 'lower-case letters, digits and . _ @ - (at most 64), starting with a letter or digit' });
      if (input.password.length < MIN_PASSWORD_LENGTH) issues.push({ path: 'password', message: `at least ${MIN_PASSWORD_LENGTH} characters` });
      if (input.password.length > 1024) issues.push({ path: 'password', message: 'at most 1024 characters' });
      if (issues.length) throw new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
      if (await opts.store.getUser(input.username)) throw new ConflictError(`Console user "${input.username}" exists already; delete it first to change it.`);
      const user: ConsoleUser = {
        username: input.username,
        role: input.role,
        password_hash: await hashPassword(input.password, params),
        created_at: new Date(now()).toISOString(),
        disabled: false,
      };
      await opts.store.createUser(user);
      return user;
    },
    async deleteUser(username) {
      if (!(await opts.store.deleteUser(username))) throw new NotFoundError(`No console user "${username}". List them with GET /admin/v1/users.`);
    },
    async listUsers() {
      return (await opts.store.listUsers()).map(({ password_hash: _h, ...u }) => u);
    },
  };
}

/**
 * Failed sign-ins counted per username and per client address in a fixed window; past the limit
 * further attempts get 429 until the window ends. A success clears the username's count. The
 * counts live in the Counters port, so on the cluster profile every gateway shares them (Redis):
 * spreading guesses over gateways does not multiply the allowance.
 */
export function createLoginLimiter(opts: { counters: Counters; perUser?: number; perIp?: number; windowMs?: number; now?: () => number }) {
  const perUser = opts.perUser ?? 5;
  const perIp = opts.perIp ?? 20;
  const windowMs = opts.windowMs ?? 15 * 60_000;
  const now = opts.now ?? Date.now;
  const { counters } = opts;
  const period = (): Period => {
    const n = Math.floor(now() / windowMs);
    return { id: `w${windowMs}:${n}`, endsAt: (n + 1) * windowMs };
  };
  const userKey = (u: string) => `console:login:u:${u}`;
  /** Failures of the username up to its last success (counters only grow: a success is a mark). */
  const clearedKey = (u: string) => `console:login:ok:${u}`;
  const ipKey = (ip: string) => `console:login:i:${ip}`;
  return {
    /** Seconds until another attempt is allowed, or 0 when it is allowed now. */
    async blockedFor(username: string, ip: string): Promise<number> {
      const p = period();
      const [u, ok, i] = await Promise.all([counters.peek(userKey(username), p), counters.peek(clearedKey(username), p), counters.peek(ipKey(ip), p)]);
      return u - ok >= perUser || i >= perIp ? Math.max(1, Math.ceil((p.endsAt - now()) / 1000)) : 0;
    },
    async failed(username: string, ip: string): Promise<void> {
      const p = period();
      await Promise.all([counters.add(userKey(username), p, 1), counters.add(ipKey(ip), p, 1)]);
    },
    async succeeded(username: string): Promise<void> {
      const p = period();
      const [u, ok] = await Promise.all([counters.peek(userKey(username), p), counters.peek(clearedKey(username), p)]);
      if (u > ok) await counters.add(clearedKey(username), p, u - ok);
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

/**
 * @module console
 * The analyst console, server side: sign-in with users and roles (scrypt passwords, sessions
 * stored as SHA-256 of their id, synchronizer CSRF tokens), the authenticator every `/admin/v1`
 * route uses, the console's own admin routes (overview, live stream, case graph and timeline,
 * account overview, policy dry run, users), and serving the built single-page app from
 * `dist/console-ui/` at `/console/`. The browser client lives in `client/` and talks only HTTP.
 * See docs/console.md.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminAuthenticator, AuditEntry, CaseStore, ConsoleAuthStore, Counters, IpIntel, StateStore } from '../core/index.js';
import { createConsoleAuth, createLoginLimiter, type ConsoleAuth } from './server/auth.js';
import { registerConsoleApiRoutes, type ConsoleHealth, type DryRunPolicy } from './server/api-routes.js';
import { registerSessionRoutes } from './server/session-routes.js';

export { createConsoleAuth, createLoginLimiter, sha256Hex, SESSION_COOKIE, SESSION_MAX_MS, USERNAME_PATTERN } from './server/auth.js';
export type { ConsoleAuth, ConsoleAuthOptions, LoginLimiter, SignedIn } from './server/auth.js';
export { hashPassword, verifyPassword, generatePassword, MIN_PASSWORD_LENGTH, SCRYPT_PARAMS } from './server/passwords.js';
export { registerConsoleApiRoutes, fillBuckets } from './server/api-routes.js';
export type { ConsoleApiDeps, ConsoleHealth, DryRunPolicy } from './server/api-routes.js';
export { registerSessionRoutes, CONSOLE_SECURITY_HEADERS } from './server/session-routes.js';
export type { SessionRoutesDeps } from './server/session-routes.js';
export { caseGraph, ipPrefix } from './server/graph.js';
export type { CaseGraph, GraphNodeKind } from './server/graph.js';

export interface ConsoleOptions {
  /** Console users and sessions. */
  users: ConsoleAuthStore;
  /** Where failed sign-ins are counted (the gateway's counters: shared by every gateway of a cluster). */
  counters: Counters;
  store: StateStore;
  cases: CaseStore;
  adminToken: string;
  /** Serve the app and the session routes (`console.enabled`); the authenticator works either way. */
  enabled: boolean;
  secureCookies: 'auto' | boolean;
  idleMinutes: number;
  /** The built client, normally `<package>/dist/console-ui`. */
  staticDir: string;
  now: () => number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  audit?: (entry: AuditEntry) => Promise<unknown>;
  health: () => ConsoleHealth;
  policy?: DryRunPolicy;
  intel?: IpIntel;
  draining?: () => boolean;
  /** The client's address for sign-in rate limits and audit records (default: the socket's). */
  clientIp?: (req: FastifyRequest) => string;
  /** scrypt cost of new password hashes (default `SCRYPT_PARAMS`). */
  scrypt?: { N: number; r: number; p: number };
}

export interface ConsoleServer {
  auth: ConsoleAuth;
  /** Give this to every `/admin/v1` route family. */
  authenticate: AdminAuthenticator;
  /** Registers the console's routes (call from the gateway's `routes` hook). */
  register(app: FastifyInstance): void;
}

/** The console's auth, ready to inject into the admin routes before they are registered. */
export function createConsole(opts: ConsoleOptions): ConsoleServer {
  const auth = createConsoleAuth({ store: opts.users, adminToken: opts.adminToken, idleMinutes: opts.idleMinutes, now: opts.now, ...(opts.scrypt ? { scrypt: opts.scrypt } : {}) });
  const limiter = createLoginLimiter({ counters: opts.counters, now: opts.now });
  return {
    auth,
    authenticate: auth.authenticate,
    register(app) {
      registerConsoleApiRoutes(app, {
        authenticate: auth.authenticate,
        auth,
        store: opts.store,
        cases: opts.cases,
        now: opts.now,
        log: opts.log,
        health: opts.health,
        ...(opts.audit ? { audit: opts.audit } : {}),
        ...(opts.policy ? { policy: opts.policy } : {}),
        ...(opts.intel ? { intel: opts.intel } : {}),
        ...(opts.draining ? { draining: opts.draining } : {}),
      });
      if (opts.enabled) {
        registerSessionRoutes(app, {
          auth,
          limiter,
          secureCookies: opts.secureCookies,
          staticDir: opts.staticDir,
          now: opts.now,
          log: opts.log,
          ...(opts.audit ? { audit: opts.audit } : {}),
          ...(opts.clientIp ? { clientIp: opts.clientIp } : {}),
        });
      }
    },
  };
}

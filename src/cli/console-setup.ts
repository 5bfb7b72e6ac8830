/**
 * Wires the analyst console into `warden serve`: its users and sessions in the state store's
 * database (embedded: the same SQLite file; cluster: the same PostgreSQL schema), its
 * authenticator for every `/admin/v1` route, its health figures and the policy dry run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditEntry, CaseStore, ConsoleAuthStore, Counters, IpIntel, StateStore } from '../core/index.js';
import { createConsole, type ConsoleServer, type ConsoleHealth } from '../console/index.js';
import { clientAddress } from '../gateway/index.js';
import type { PolicyManager } from '../policy/index.js';
import { openPostgresConsoleAuthStore, openSqliteConsoleAuthStore, type PostgresStore, type SqliteStore } from '../store/index.js';
import type { WardenConfig } from './config.js';

/** The built client: `<package>/dist/console-ui` (Vite's output, apart from tsc's dist/console) (the same from `src/cli` and `dist/cli`). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../dist/console-ui/', import.meta.url));

export interface ConsoleSetup extends ConsoleServer {
  users: ConsoleAuthStore;
  close(): Promise<void>;
}

export async function setupConsole(opts: {
  config: WardenConfig;
  store: StateStore;
  cases: CaseStore;
  /** Failed sign-ins are counted here (embedded: SQLite; cluster: Redis, shared by the gateways). */
  counters: Counters;
  adminToken: string;
  audit?: (entry: AuditEntry) => Promise<unknown>;
  policy: Pick<PolicyManager, 'validate' | 'draft'>;
  intel?: IpIntel;
  health: () => ConsoleHealth;
  draining: () => boolean;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  staticDir?: string;
}): Promise<ConsoleSetup> {
  const users =
    'db' in opts.store
      ? openSqliteConsoleAuthStore({ db: (opts.store as SqliteStore).db })
      : await openPostgresConsoleAuthStore({ pool: (opts.store as PostgresStore).pool, schema: (opts.store as PostgresStore).schema, migrate: false });
  const c = opts.config.console;
  // Sign-in limits count per client: behind a trusted load balancer, the address it reports.
  const trusted = new Set(opts.config.gateway.trusted_proxies);
  const con = createConsole({
    users,
    counters: opts.counters,
    store: opts.store,
    cases: opts.cases,
    adminToken: opts.adminToken,
    enabled: c.enabled,
    secureCookies: c.secure_cookies,
    idleMinutes: c.session_idle_minutes,
    staticDir: opts.staticDir ?? path.resolve(CONSOLE_DIST),
    now: Date.now,
    log: opts.log,
    health: opts.health,
    policy: {
      validate: (text) => opts.policy.validate(text).map((i) => ({ path: i.path, line: i.line, ...(i.rule ? { rule: i.rule } : {}), message: i.message })),
      draft: (text) => opts.policy.draft(text),
    },
    draining: opts.draining,
    clientIp: (req) => {
      const xff = req.headers['x-forwarded-for'];
      return clientAddress(req.socket.remoteAddress, Array.isArray(xff) ? xff.join(',') : xff, trusted) ?? req.ip;
    },
    ...(opts.audit ? { audit: opts.audit } : {}),
    ...(opts.intel ? { intel: opts.intel } : {}),
  });
  return { ...con, users, close: () => users.close() };
}

/**
 * `GET /admin/v1/enforcement/automatic`: what the policy's automatic enforcement rules did, or in
 * dry run would have done (`warden policy enforcement-report`). Kept apart from the other case
 * routes so each registration stays small; guarded like the rest of the admin API.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { admitAdmin, formatIssuePath } from '../core/index.js';
import type { AdminAuthenticator, AdminPrincipal, CaseStore, StateStore } from '../core/index.js';
import type { CompiledEnforcement } from '../policy/index.js';
import { autoEnforcementReport } from './auto-enforcement.js';

/**
 * Guards one admin route the way the rest of the admin API is guarded: the injected authenticator
 * (the bearer admin token, or a console session), then `admitAdmin` (role per route, CSRF for
 * sessions). Answers 401/403 and returns null when refused; else the principal.
 */
export function adminGuard(authenticate: AdminAuthenticator): (req: FastifyRequest, reply: FastifyReply) => Promise<AdminPrincipal | null> {
  return async (req, reply) => {
    const verdict = admitAdmin(await authenticate({ headers: req.headers }), req.method, req.routeOptions.url ?? req.url, req.headers['x-csrf-token']);
    if (verdict.ok) return verdict.principal;
    await reply.code(verdict.status).send({ error: verdict.error });
    return null;
  };
}

/** An authenticator accepting only the bearer admin token (compared as SHA-256, in constant time). */
export function adminTokenAuthenticator(token: string): AdminAuthenticator {
  const want = createHash('sha256').update(token).digest();
  return async ({ headers }) => {
    const h = headers['authorization'];
    const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h) : null;
    const given = createHash('sha256').update(m?.[1] ?? '').digest();
    return m && timingSafeEqual(given, want) ? { actor: 'admin', role: 'admin', via: 'token' } : null;
  };
}

const ReportQuery = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export interface AutoEnforcementRoutesDeps {
  cases: CaseStore;
  store: Pick<StateStore, 'getAction'>;
  now: () => number;
  /** The active policy's enforcement section. */
  rules: () => CompiledEnforcement;
  authenticate: AdminAuthenticator;
}

export function registerAutoEnforcementRoutes(app: FastifyInstance, deps: AutoEnforcementRoutesDeps): void {
  const guard = adminGuard(deps.authenticate);
  app.get('/admin/v1/enforcement/automatic', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    const q = ReportQuery.safeParse(req.query ?? {});
    if (!q.success) {
      const issues = q.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message }));
      return reply.code(400).send({ error: { type: 'validation', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues } });
    }
    const rules = deps.rules();
    const entries = await autoEnforcementReport(deps, { ...(q.data.since ? { since: q.data.since } : {}), limit: q.data.limit });
    return { mode: rules.mode, rules: rules.rules, entries };
  });
}

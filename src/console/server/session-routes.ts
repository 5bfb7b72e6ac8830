/**
 * The console's own HTTP surface outside `/admin/v1`: sign-in and sign-out
 * (`/console/api/session`), the single-page app's files under `/console/` with a fallback to
 * `index.html`, security headers on every console response, and `GET /` → `/console/`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditEntry } from '../../core/index.js';
import { constantTimeEqual } from '../../core/index.js';
import { SESSION_COOKIE, SESSION_MAX_MS, type ConsoleAuth, type LoginLimiter } from './auth.js';

export interface SessionRoutesDeps {
  auth: ConsoleAuth;
  limiter: LoginLimiter;
  /** `auto`: Secure when the request came over https (directly or as `x-forwarded-proto`). */
  secureCookies: 'auto' | boolean;
  /** The built client (`dist/console-ui`); when it has no index.html, `/console/` answers 503. */
  staticDir: string;
  audit?: (entry: AuditEntry) => Promise<unknown>;
  now: () => number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** The client's address for rate limits and the audit log (behind trusted proxies: from X-Forwarded-For). Default: the socket's. */
  clientIp?: (req: FastifyRequest) => string;
}

/** Headers on every console response (the app, its files and its API). */
export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const SignInInput = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
const WRONG = 'Wrong username or password.';

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Warden console not built</title></head>
<body><main><h1>The Warden console is not built</h1>
<p>This server found no <code>dist/console-ui/index.html</code>. Run <code>npm run build</code> in the Warden folder, then restart <code>warden serve</code>.</p>
<p>The admin API at <code>/admin/v1</code> works without it.</p></main></body></html>
`;

export function registerSessionRoutes(app: FastifyInstance, deps: SessionRoutesDeps): void {
  const iso = () => new Date(deps.now()).toISOString();
  const audit = (entry: Omit<AuditEntry, 'at'>) => {
    if (!deps.audit) return Promise.resolve();
    return deps.audit({ ...entry, at: iso() }).then(
      () => undefined,
      (err: unknown) => deps.log.error({ err: String(err), type: entry.type }, 'audit record could not be written'),
    );
  };
  const secure = (req: FastifyRequest) =>
    deps.secureCookies === 'auto' ? req.protocol === 'https' || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https' : deps.secureCookies;
  const cookieOptions = (req: FastifyRequest) => ({ httpOnly: true, sameSite: 'strict' as const, path: '/', secure: secure(req) });

  app.get('/', async (_req, reply) => reply.redirect('/console/', 302));

  app.register(async (scope) => {
    // Loaded when a server registers the console, so CLI commands do not pay for them.
    const [{ default: fastifyCookie }, { default: fastifyStatic }] = await Promise.all([import('@fastify/cookie'), import('@fastify/static')]);
    await scope.register(fastifyCookie);
    scope.addHook('onSend', async (_req, reply, payload) => {
      for (const [k, v] of Object.entries(CONSOLE_SECURITY_HEADERS)) reply.header(k, v);
      return payload;
    });
    const errorOf = (reply: FastifyReply, status: number, type: string, message: string) => reply.code(status).send({ error: { type, message } });
    scope.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      if (err.statusCode && err.statusCode < 500) return errorOf(reply, err.statusCode, 'invalid_request', err.message);
      deps.log.error({ err: { name: err.name, message: err.message } }, 'console request failed');
      return errorOf(reply, 500, 'internal', 'Internal error; see the server log.');
    });

    // Session
    scope.post('/console/api/session', async (req, reply) => {
      const r = SignInInput.safeParse(req.body ?? {});
      if (!r.success) {
        return reply.code(400).send({ error: { type: 'validation', message: 'Send {"username","password"} as JSON.', issues: r.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })) } });
      }
      const username = r.data.username.trim().toLowerCase();
      const ip = deps.clientIp?.(req) ?? req.ip;
      const wait = await deps.limiter.blockedFor(username, ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        return errorOf(reply, 429, 'rate_limited', `Too many failed sign-ins. Try again in ${Math.ceil(wait / 60)} minute(s).`);
      }
      const result = await deps.auth.signIn(username, r.data.password);
      if ('failed' in result) {
        await deps.limiter.failed(username, ip);
        await audit({ type: 'console.login_failed', actor: 'anonymous', data: { username: username.slice(0, 64), ip, reason: result.failed } });
        return errorOf(reply, 401, 'unauthorized', WRONG);
      }
      await deps.limiter.succeeded(username);
      await audit({ type: 'console.login', actor: result.user.username, data: { role: result.user.role, ip } });
      // The cookie may outlive an idle session (the server refuses it then); it must not end
      // before a session that activity keeps alive, up to the 7-day cap.
      reply.setCookie(SESSION_COOKIE, result.sessionId, { ...cookieOptions(req), maxAge: Math.floor(SESSION_MAX_MS / 1000) });
      reply.header('cache-control', 'no-store');
      return { user: { username: result.user.username, role: result.user.role }, csrf_token: result.session.csrf_token, expires_at: result.session.expires_at };
    });
    scope.get('/console/api/session', async (req, reply) => {
      const s = await deps.auth.sessionOf(req.headers.cookie);
      if (!s) return errorOf(reply, 401, 'unauthorized', 'Not signed in.');
      reply.header('cache-control', 'no-store');
      return { user: { username: s.username, role: s.role }, csrf_token: s.csrf_token, expires_at: s.expires_at };
    });
    scope.delete('/console/api/session', async (req, reply) => {
      const s = await deps.auth.sessionOf(req.headers.cookie);
      if (!s) return errorOf(reply, 401, 'unauthorized', 'Not signed in.');
      const given = req.headers['x-csrf-token'];
      if (typeof given !== 'string' || !constantTimeEqual(given, s.csrf_token)) return errorOf(reply, 403, 'csrf', 'Missing or wrong x-csrf-token header.');
      await deps.auth.signOut(req.headers.cookie);
      await audit({ type: 'console.logout', actor: s.username, data: { ip: deps.clientIp?.(req) ?? req.ip } });
      reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
      return reply.code(204).send();
    });
    scope.all('/console/api/*', async (req, reply) => errorOf(reply, 404, 'not_found', `No console route ${req.method} ${req.url.split('?')[0]}.`));

    // The app
    const index = path.join(deps.staticDir, 'index.html');
    if (!existsSync(index)) {
      deps.log.warn({ dir: deps.staticDir }, 'console not built: /console/ answers 503 until `npm run build`');
      const notBuilt = async (_req: FastifyRequest, reply: FastifyReply) => reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      scope.get('/console', notBuilt);
      scope.get('/console/', notBuilt);
      scope.get('/console/*', notBuilt);
      return;
    }
    scope.get('/console', async (_req, reply) => reply.redirect('/console/', 302));
    await scope.register(
      async (files) => {
        await files.register(fastifyStatic, { root: deps.staticDir, prefix: '/', index: ['index.html'], wildcard: true, decorateReply: true });
        // Client-side routes (/console/cases/…) get the app; missing assets stay 404.
        files.setNotFoundHandler(async (req, reply) => {
          const p = req.url.split('?')[0]!;
          if (req.method === 'GET' && p.startsWith('/console/') && !/\.[a-z0-9]{1,8}$/i.test(p)) {
            return reply.header('cache-control', 'no-cache').sendFile('index.html');
          }
          return errorOf(reply, 404, 'not_found', `No file ${p}.`);
        });
      },
      { prefix: '/console' },
    );
  });
}

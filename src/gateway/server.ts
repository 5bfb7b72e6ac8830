/**
 * The gateway process: one node:http server whose model-API routes go to the proxy handler
 * and whose other routes (admin API, health, metrics, console) go to Fastify.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Pool } from 'undici';
import type {
  AuditEntry,
  AccountRecord,
  AccountRisk,
  ApiKeyRecord,
  CompiledPolicy,
  Counters,
  EnforcementState,
  IpIntel,
  Org,
  StateStore,
  UsageEvent,
} from '../core/index.js';
import { createReadThroughCache } from './cache.js';
import type { GatewayConfig } from './config.js';
import { anthropicDialect, openaiDialect } from './dialects/index.js';
import type { ParsedRequest } from './dialects/index.js';
import { createEnforcementIndex } from './enforcement-index.js';
import type { GatewayMetrics } from './metrics.js';
import { createProxyHandler, errSummary, type Route } from './proxy.js';

export interface Logger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface GatewayDeps {
  config: GatewayConfig;
  store: StateStore;
  counters: Counters;
  enforcement: EnforcementState;
  intel: IpIntel;
  policy: () => CompiledPolicy;
  /** Resolves once the event is durable. */
  record: (event: UsageEvent) => Promise<void>;
  features: (p: ParsedRequest) => Record<string, unknown> & { v: number };
  metrics: GatewayMetrics;
  log: Logger;
  now?: () => number;
  retainRawText: boolean;
  /** Registers the admin API, console and other non-model routes. */
  routes?: (app: FastifyInstance, gw: GatewayInternals) => void | Promise<void>;
  /** Fresh entries are re-read from the store after this long (cross-process changes). */
  cacheTtlMs?: number;
  /** Appends a decision to the audit log (batched). */
  audit?: (entry: AuditEntry) => void;
}

/** What the admin routes need to make a change take effect at once in this process. */
export interface GatewayInternals {
  invalidateKey(keyId: string): void;
  invalidateOrg(orgId: string): void;
  invalidateAccount(accountId: string): void;
  invalidateRisk(accountId: string): void;
  ready(): boolean;
}

export interface Gateway {
  url: string;
  server: http.Server;
  app: FastifyInstance;
  /** Stops accepting, drains in-flight requests (up to the drain timeout), then closes. */
  close(): Promise<void>;
}

const ROUTES: Record<string, Route> = {
  'POST /v1/messages': { api: 'anthropic', endpoint: 'messages', upstreamPath: '/v1/messages' },
  'POST /v1/messages/count_tokens': { api: 'anthropic', endpoint: 'count_tokens', upstreamPath: '/v1/messages/count_tokens' },
  'POST /v1/chat/completions': { api: 'openai', endpoint: 'chat.completions', upstreamPath: '/v1/chat/completions' },
  'POST /v1/responses': { api: 'openai', endpoint: 'responses', upstreamPath: '/v1/responses' },
};

export async function startGateway(deps: GatewayDeps): Promise<Gateway> {
  const now = deps.now ?? Date.now;
  const cfg = deps.config;
  const ttl = deps.cacheTtlMs ?? 1000;
  const onError = (err: unknown) => deps.log.error({ err: errSummary(err) }, 'cache refresh failed');
  const keys = createReadThroughCache<ApiKeyRecord>((id) => deps.store.getKey(id), { ttlMs: ttl, max: 200_000, now, onError });
  const accounts = createReadThroughCache<AccountRecord>((id) => deps.store.getAccount(id), { ttlMs: ttl, max: 200_000, now, onError });
  const orgs = createReadThroughCache<Org>((id) => deps.store.getOrg(id), { ttlMs: ttl, max: 100_000, now, onError });
  const risk = createReadThroughCache<AccountRisk>((id) => deps.store.getRisk(id), { ttlMs: ttl, max: 200_000, now, onError });
  const enforcement = await createEnforcementIndex(deps.enforcement, now, { onClusterAction: () => risk.expireAll() });

  const upstreams = {
    anthropic: { dispatcher: new Pool(cfg.upstreams.anthropic.url, { connections: cfg.upstreams.anthropic.connections, pipelining: 1 }), apiKey: cfg.upstreams.anthropic.api_key },
    openai: { dispatcher: new Pool(cfg.upstreams.openai.url, { connections: cfg.upstreams.openai.connections, pipelining: 1 }), apiKey: cfg.upstreams.openai.api_key },
  };

  // Last-used times are written in batches, not per request.
  // Kept as epoch ms (formatted once per key per batch, not once per request).
  const lastUsed = new Map<string, number>();
  const asIso = (m: Map<string, number>) => new Map([...m].map(([k, at]) => [k, new Date(at).toISOString()]));
  const touchTimer = setInterval(() => {
    if (lastUsed.size === 0) return;
    const batch = asIso(lastUsed);
    lastUsed.clear();
    deps.store.touchKeys(batch).catch(onError);
  }, 1000);
  touchTimer.unref();

  const handle = createProxyHandler({
    config: cfg,
    dialects: { anthropic: anthropicDialect, openai: openaiDialect },
    upstreams,
    keys,
    accounts,
    orgs,
    risk,
    enforcement,
    counters: deps.counters,
    intel: deps.intel,
    policy: deps.policy,
    record: deps.record,
    features: deps.features,
    metrics: deps.metrics,
    log: deps.log,
    now,
    retainRawText: deps.retainRawText,
    touchKey: (id, at) => void lastUsed.set(id, at),
    ...(deps.audit ? { audit: deps.audit } : {}),
  });

  let draining = false;
  let fastifyHandler: http.RequestListener | undefined;
  const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, (req, res) => {
    const q = req.url!.indexOf('?');
    const path = q < 0 ? req.url! : req.url!.slice(0, q);
    const route = ROUTES[`${req.method} ${path}`] ?? (req.method === 'GET' && path === '/v1/models' ? modelsRoute(req) : undefined);
    if (route) {
      if (draining) res.setHeader('connection', 'close');
      void handle(req, res, route);
      return;
    }
    fastifyHandler!(req, res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    deps.metrics.parseErrors.labels(err.code ?? 'unknown').inc();
    if (socket.writable) {
      const body = JSON.stringify({ error: { type: 'invalid_request_error', message: 'Malformed HTTP request.' } });
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    } else {
      socket.destroy();
    }
  });

  const app = Fastify({
    logger: false,
    bodyLimit: 1_000_000,
    serverFactory: (h) => {
      fastifyHandler = h;
      return server;
    },
  });
  const internals: GatewayInternals = {
    invalidateKey: (id) => keys.invalidate(id),
    invalidateOrg: (id) => orgs.invalidate(id),
    invalidateAccount: (id) => accounts.invalidate(id),
    invalidateRisk: (id) => risk.invalidate(id),
    ready: () => !draining,
  };
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (draining) return reply.code(503).send({ status: 'draining' });
    return { status: 'ready', policy_version: deps.policy().version };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  if (deps.routes) await deps.routes(app, internals);

  const [host, portStr] = splitHostPort(cfg.listen);
  await app.listen({ host, port: Number(portStr) });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  return {
    url,
    server,
    app,
    async close() {
      draining = true;
      // Stop accepting; idle keep-alive sockets are closed so clients reconnect elsewhere.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), cfg.drain_timeout_ms);
      await closed;
      clearTimeout(deadline);
      clearInterval(touchTimer);
      if (lastUsed.size) await deps.store.touchKeys(asIso(lastUsed)).catch(onError);
      enforcement.close();
      await app.close().catch(() => undefined);
      await Promise.all([upstreams.anthropic.dispatcher.close(), upstreams.openai.dispatcher.close()]);
    },
  };
}

/** GET /v1/models is shared by both APIs: the Anthropic SDK sends `anthropic-version`. */
function modelsRoute(req: http.IncomingMessage): Route {
  return req.headers['anthropic-version'] || req.headers['x-api-key']
    ? { api: 'anthropic', endpoint: 'other', upstreamPath: '/v1/models' }
    : { api: 'openai', endpoint: 'other', upstreamPath: '/v1/models' };
}

function splitHostPort(listen: string): [string, string] {
  const i = listen.lastIndexOf(':');
  let host = listen.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return [host, listen.slice(i + 1)];
}

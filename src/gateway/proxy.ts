/**
 * The request path: authenticate, decide, count, forward, meter. Runs on node:http directly
 * (no framework on the hot path; the admin API uses Fastify) and streams SSE through as it
 * arrives. Every request, allowed or refused, leaves one usage event in the local outbox, and
 * the last bytes of a response are written only once that event is durable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type {
  AuditEntry,
  ApiKeyRecord,
  AccountRisk,
  CompiledPolicy,
  Counters,
  Decision,
  Endpoint,
  IpIntel,
  LimitSpec,
  Org,
  PolicyDecision,
  RequestContext,
  UsageEvent,
  AccountRecord,
} from '../core/index.js';
import { decisionRank } from '../core/index.js';
import type { Dialect, ErrorKind, ParsedRequest } from './dialects/index.js';
import { retryHeaders } from './dialects/index.js';
import type { EnforcementIndex } from './enforcement-index.js';
import type { ReadThroughCache } from './cache.js';
import type { GatewayMetrics } from './metrics.js';
import type { GatewayConfig } from './config.js';
import { keyUnusable, parseKey, presentedKey, secretMatches } from './keys.js';
import { clientAddress } from './client-ip.js';
import { compileGlob } from '../policy/index.js';
import { currentPeriods, type LimitOutcome, checkLimits, debitTokens } from './limits.js';

export interface Route {
  api: 'anthropic' | 'openai';
  endpoint: Endpoint;
  upstreamPath: string;
}

export interface ProxyDeps {
  config: GatewayConfig;
  dialects: Record<'anthropic' | 'openai', Dialect>;
  upstreams: Record<'anthropic' | 'openai', { dispatcher: Dispatcher; apiKey?: string }>;
  keys: ReadThroughCache<ApiKeyRecord>;
  accounts: ReadThroughCache<AccountRecord>;
  orgs: ReadThroughCache<Org>;
  risk: ReadThroughCache<AccountRisk>;
  enforcement: EnforcementIndex;
  counters: Counters;
  intel: IpIntel;
  policy: () => CompiledPolicy;
  /** Resolves once the event is durable (the local outbox's group commit). */
  record: (event: UsageEvent) => Promise<void>;
  /** Computes prompt features (runs while the upstream works). */
  features: (p: ParsedRequest) => Record<string, unknown> & { v: number };
  metrics: GatewayMetrics;
  log: {
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
    info(obj: object, msg: string): void;
    debug?(obj: object, msg: string): void;
  };
  now: () => number;
  /** Keep raw prompt text on events (retention configured). */
  retainRawText: boolean;
  /** Records a key's use (batched by the caller). */
  touchKey: (keyId: string, at: number) => void;
  /** Appends a policy refusal to the audit log (batched, off the request path). */
  audit?: (entry: AuditEntry) => void;
}

const bootId = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
let seq = 0;
/** Request ids are unique per process start and cheap: a boot id and a counter. */
export function newRequestId(): string {
  return `req_${bootId}${Date.now().toString(36)}${(seq++).toString(36)}`;
}

let isoSecond = NaN;
let isoPrefix = '';
/**
 * `new Date(ms).toISOString()`, with the date and time up to the second formatted once per
 * second: every request's event has a timestamp, and most share their second with the last.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > 253_402_300_799_999) return new Date(ms).toISOString();
  const r = ms % 1000;
  const sec = ms - r;
  if (sec !== isoSecond) {
    isoPrefix = new Date(sec).toISOString().slice(0, 20);
    isoSecond = sec;
  }
  return `${isoPrefix}${r < 10 ? '00' : r < 100 ? '0' : ''}${r}Z`;
}

/**
 * The policy's view of an org, built once per org record: the caches hand out the same record
 * until it is read again from the store (a change, or its time is up), which makes a new one.
 * The policy only reads its context.
 */
const orgContexts = new WeakMap<Org, NonNullable<RequestContext['org']>>();
function orgContext(org: Org): NonNullable<RequestContext['org']> {
  let c = orgContexts.get(org);
  if (c === undefined) {
    c = { id: org.org_id } as NonNullable<RequestContext['org']>;
    if (org.declared_country) c.declared_country = org.declared_country;
    if (org.payment_country) c.payment_country = org.payment_country;
    if (org.declared_use) c.declared_use = org.declared_use;
    c.verification = org.verification;
    c.screening = org.screening?.status ?? 'unscreened';
    c.screening_entities = org.screening?.hits.map((h) => h.entity_id) ?? [];
    orgContexts.set(org, c);
  }
  return c;
}

/** A model listing has no body; it is authenticated and decided like any request. */
const LISTING: ParsedRequest = { model: '', stream: false, turns: 0, tools: 0 };

class Refusal {
  constructor(
    readonly kind: ErrorKind,
    readonly message: string,
    readonly decision: Decision,
    readonly rule: string | undefined,
    readonly headers: Record<string, string> = {},
  ) {}
}

/**
 * Aborts the upstream request when the client goes away. undici accepts an EventEmitter as its
 * abort signal; an AbortController (an EventTarget and its listener bookkeeping) costs about
 * ten times as much per request, and this one is made for every request.
 */
class UpstreamAbort extends EventEmitter {
  aborted = false;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/** The last event of each stream kind: held until the usage event is durable. */
const TERMINAL_MARKERS: Record<string, Buffer[]> = {
  messages: [Buffer.from('event: message_stop')],
  'chat.completions': [Buffer.from('data: [DONE]')],
  responses: [Buffer.from('event: response.completed'), Buffer.from('event: response.incomplete'), Buffer.from('event: response.failed')],
};

export function createProxyHandler(deps: ProxyDeps) {
  const trusted = new Set(deps.config.trusted_proxies);
  const knownModels = deps.config.models.length ? new Set(deps.config.models) : null;
  const observe = createObserver(deps.metrics);

  return async function handle(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const started = deps.now();
    const t0 = performance.now();
    const dialect = deps.dialects[route.api];
    const requestId = newRequestId();
    res.setHeader(dialect.requestIdHeader, requestId);
    deps.metrics.inflight.inc();

    const ev: UsageEvent = {
      event_id: requestId,
      ts: isoTime(started),
      endpoint: route.endpoint,
    };
    const xff = req.headers['x-forwarded-for'];
    const ip = clientAddress(req.socket.remoteAddress, typeof xff === 'string' ? xff : undefined, trusted);
    if (ip) ev.ip = ip;
    if (typeof xff === 'string') ev.forwarded_for = xff;
    const ua = req.headers['user-agent'];
    if (ua) ev.user_agent = ua;

    let upstreamMs = 0;
    /** Set once the body parsed: a refused request's content is evidence too (probing). */
    let forFeatures: ParsedRequest | undefined;
    try {
      // 1. The key.
      const presented = presentedKey(req.headers);
      if (!presented) throw new Refusal('authentication', 'No API key was given. Send your Warden key in the x-api-key header or as Authorization: Bearer.', 'block', 'auth.missing');
      const parsedKey = parseKey(presented);
      if (!parsedKey) throw new Refusal('authentication', 'The API key is malformed. Check that you copied the whole key.', 'block', 'auth.malformed');
      const key = deps.keys.fresh(parsedKey.keyId) ?? (await deps.keys.get(parsedKey.keyId).catch((e: unknown) => unavailable(deps, 'store', e, requestId)));
      if (!key || !secretMatches(parsedKey.secret, key.secret_hash)) throw new Refusal('authentication', 'The API key is not valid.', 'block', 'auth.unknown');
      const unusable = keyUnusable(key, started);
      if (unusable) {
        throw new Refusal('authentication', unusable === 'revoked' ? 'This API key has been revoked. Create a new key in your account.' : 'This API key has expired. Create a new key or rotate this one.', 'block', `auth.${unusable}`);
      }
      ev.key_id = key.key_id;
      ev.account_id = key.account_id;
      ev.org_id = key.org_id;
      deps.touchKey(key.key_id, started);

      // 2. The body.
      const isGet = req.method === 'GET';
      const body = isGet ? { raw: Buffer.alloc(0), json: {} } : await readBody(req, deps.config.max_body_bytes, req.headers['content-type']);
      const outcomeOfParse = isGet ? LISTING : dialect.parseRequest(route.endpoint, body.json);
      if ('error' in outcomeOfParse) throw new Refusal('invalid_request', outcomeOfParse.error, 'allow', undefined);
      const parsed = outcomeOfParse;
      if (!isGet) forFeatures = parsed;
      if (parsed.model) ev.model = parsed.model;
      ev.stream = parsed.stream;
      ev.turns = parsed.turns;
      ev.tools = parsed.tools;
      if (parsed.endUserId) ev.end_user_id = parsed.endUserId;
      if (key.allowed_models && !isGet && !key.allowed_models.some((m) => modelMatches(m, parsed.model))) {
        throw new Refusal('permission', `This API key may not use the model "${parsed.model}".`, 'block', 'key.allowed_models');
      }
      if (knownModels && !isGet && !knownModels.has(parsed.model)) {
        throw new Refusal('not_found', `model: ${parsed.model}`, 'allow', undefined);
      }

      // 3. Who is asking, from where, and what the policy says.
      // Fresh cache entries are used as they are; only a miss or a stale entry waits for the store.
      let org = deps.orgs.fresh(key.org_id);
      let account = deps.accounts.fresh(key.account_id);
      let risk = deps.risk.fresh(key.account_id);
      if (org === undefined || account === undefined || risk === undefined) {
        [org, account, risk] = await Promise.all([
          org !== undefined ? org : deps.orgs.get(key.org_id).catch((e: unknown) => unavailable(deps, 'store', e, requestId)),
          account !== undefined ? account : deps.accounts.get(key.account_id).catch((e: unknown) => unavailable(deps, 'store', e, requestId)),
          risk !== undefined
            ? risk
            : deps.risk.get(key.account_id).catch((e: unknown) => (deps.config.on_unavailable.risk === 'open' ? degraded(deps, 'risk', e, requestId) : unavailable(deps, 'risk', e, requestId))),
        ]);
      }
      if (!account || account.status !== 'active') throw new Refusal('authentication', 'This API key is not valid.', 'block', 'auth.account_deleted');
      const info = ip ? safeLookup(deps.intel, ip) : undefined;
      if (info?.country) ev.country = info.country;
      if (info?.asn !== undefined) ev.asn = info.asn;
      // No action in force anywhere (the usual case): no subject list to build and look up.
      const action =
        deps.enforcement.size() === 0
          ? undefined
          : deps.enforcement.strongest(
              [
                { kind: 'key', id: key.key_id },
                { kind: 'account', id: key.account_id },
                { kind: 'org', id: key.org_id },
                { kind: 'cluster', id: risk?.cluster_id },
                { kind: 'end_user', id: parsed.endUserId ? `${key.org_id}:${parsed.endUserId}` : undefined },
              ],
              started,
            );
      // Built by assignment in the order the fields have always had (no object spreads: each
      // spread copies through the runtime and leaves the object with a slow shape).
      const client: RequestContext['client'] = {} as RequestContext['client'];
      if (ip) client.ip = ip;
      if (info?.country) client.country = info.country;
      if (info?.asn !== undefined) client.asn = info.asn;
      client.network_type = info?.network_type ?? 'unknown';
      client.anonymizers = info?.anonymizers ?? [];
      client.labels = info?.labels ?? [];
      const ctx: RequestContext = { api: route.api, endpoint: route.endpoint, model: parsed.model, stream: parsed.stream } as RequestContext;
      if (parsed.endUserId) ctx.end_user_id = parsed.endUserId;
      ctx.client = client;
      if (org) ctx.org = orgContext(org);
      ctx.account = {
        id: key.account_id,
        risk: risk?.risk ?? 0,
        labels: risk?.labels ?? [],
        cluster_id: risk?.cluster_id ?? null,
        attributed_entity: risk?.attributed_entity ?? null,
      };
      ctx.key = { id: key.key_id };
      if (action) ctx.enforcement = { decision: action.decision, action_id: action.action_id, reason: action.reason };
      const decision = deps.policy().decide(ctx);
      ev.decision = decision.decision;
      ev.decision_rule = decision.rule;
      refuseIfRequired(decision, deps.config.verify_url);

      // 4. Limits (requests now; tokens were debited at the end of earlier responses).
      const limits: LimitSpec[] = decision.limits;
      let outcome: LimitOutcome | undefined;
      if (limits.length) {
        try {
          outcome = await checkLimits(deps.counters, limits, { key: key.key_id, org: key.org_id, account: key.account_id }, currentPeriods(started), started);
        } catch (e) {
          if (deps.config.on_unavailable.counters === 'closed') unavailable(deps, 'counters', e, requestId);
          degraded(deps, 'counters', e, requestId);
        }
        if (outcome?.refused) {
          // A spent monthly budget will not come back on a retry: tell the SDKs not to retry.
          const h = { ...dialect.rateLimitHeaders(outcome.headers, started), ...retryHeaders({ retryAfterMs: outcome.retryAfterMs, shouldRetry: outcome.refused.kind !== 'monthly_tokens' }) };
          ev.decision = 'throttle';
          ev.decision_rule = outcome.refused.rule;
          // A throttle decided for this customer (not an ordinary limit) can be appealed.
          throw new Refusal('rate_limit', decision.decision === 'throttle' ? `${outcome.message}${APPEAL_HINT}` : outcome.message, 'throttle', outcome.refused.rule, h);
        }
        const h = outcome ? dialect.rateLimitHeaders(outcome.headers, started) : {};
        for (const name in h) res.setHeader(name, h[name]!);
      }

      // 5. Countermeasures and the upstream body.
      let upstreamJson = body.json as Record<string, unknown>;
      let rawBody: Buffer | string = body.raw;
      let mutated = false;
      if (decision.decision === 'degrade') {
        const changed = dialect.applyDegrade(route.endpoint, upstreamJson, decision.params ?? {});
        if (changed.length) {
          mutated = true;
          res.setHeader('warden-degraded', `${decision.rule}; ${changed.join(',')}`);
        }
      }
      const prep = isGet ? { body: upstreamJson, changed: false, stripUsageChunk: false } : dialect.prepareUpstreamBody(route.endpoint, upstreamJson);
      if (prep.changed) mutated = true;
      upstreamJson = prep.body as Record<string, unknown>;
      if (mutated) rawBody = JSON.stringify(upstreamJson);

      // 6. Forward.
      const up = deps.upstreams[route.api];
      const abort = new UpstreamAbort();
      let clientGone = false;
      res.on('close', () => {
        if (!res.writableFinished) {
          clientGone = true;
          abort.abort();
        }
      });
      const tUp = performance.now();
      let upRes: Dispatcher.ResponseData;
      try {
        const pending = up.dispatcher.request({
          path: route.upstreamPath,
          method: isGet ? 'GET' : 'POST',
          headers: upstreamHeaders(route.api, up.apiKey, req),
          body: isGet ? null : rawBody,
          signal: abort,
          headersTimeout: deps.config.upstream_headers_timeout_ms,
          bodyTimeout: deps.config.upstream_body_timeout_ms,
        });
        // Features are not needed for the decision: computed once the request is on its way
        // (undici writes it to a free connection synchronously), so their time overlaps the
        // upstream's, with no extra turn of the event loop.
        if (!isGet) {
          try {
            ev.features = deps.features(parsed);
          } catch (e) {
            deps.log.error({ request_id: requestId, err: errSummary(e) }, 'feature extraction failed');
          }
        }
        upRes = await pending;
      } catch (err) {
        upstreamMs = performance.now() - tUp;
        if (clientGone) {
          ev.aborted = true;
          ev.status = 499;
          await deps.record(finishEvent(ev, t0));
          return;
        }
        const timeout = isTimeout(err);
        deps.metrics.upstreamErrors.labels(timeout ? 'timeout' : 'connect').inc();
        deps.log.warn({ request_id: requestId, err: errSummary(err) }, 'upstream request failed');
        throw new Refusal(timeout ? 'timeout' : 'upstream_unavailable', timeout ? 'The model did not answer in time. Retry shortly.' : 'The model service is unavailable. Retry shortly.', ev.decision ?? 'allow', ev.decision_rule);
      }

      if (deps.retainRawText) {
        if (parsed.lastUserText) ev.prompt = parsed.lastUserText;
        if (parsed.systemText) ev.system = parsed.systemText;
      }

      const status = upRes.statusCode;
      ev.status = status;
      if (status >= 500) deps.metrics.upstreamErrors.labels('status_5xx').inc();
      const contentType = String(upRes.headers['content-type'] ?? '');
      const isSse = parsed.stream && status < 300 && contentType.includes('text/event-stream');

      if (!isSse) {
        let buf: Buffer;
        try {
          buf = Buffer.from(await upRes.body.arrayBuffer());
        } catch (err) {
          upstreamMs = performance.now() - tUp;
          if (clientGone) {
            ev.aborted = true;
            await deps.record(finishEvent(ev, t0));
            return;
          }
          deps.metrics.upstreamErrors.labels(isTimeout(err) ? 'timeout' : 'body').inc();
          throw new Refusal('upstream_unavailable', 'The model service failed mid-response. Retry shortly.', ev.decision ?? 'allow', ev.decision_rule);
        }
        upstreamMs = performance.now() - tUp;
        if (status < 300) {
          const usage = dialect.usageFromResponse(route.endpoint, buf);
          if (usage) {
            ev.input_tokens = usage.input_tokens;
            ev.output_tokens = usage.output_tokens;
          }
        }
        ev.latency_ms = round(performance.now() - t0);
        await deps.record(finishEvent(ev, t0));
        if (outcome) void debitTokens(deps.counters, limits, outcome.subjects, currentPeriods(started), (ev.input_tokens ?? 0) + (ev.output_tokens ?? 0)).catch((e: unknown) => deps.log.error({ err: errSummary(e) }, 'token debit failed'));
        if (!res.destroyed) {
          res.writeHead(status, { 'content-type': contentType || 'application/json', 'content-length': buf.length });
          res.end(buf);
        }
        observe(route, ev, t0, upstreamMs);
        return;
      }

      // Streaming: pass each complete SSE event through as it arrives; hold only the terminal
      // event until the usage event is durable.
      res.writeHead(status, {
        'content-type': contentType,
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
      const tracker = dialect.createStreamTracker(route.endpoint, { stripUsageChunk: prep.stripUsageChunk });
      const markers = TERMINAL_MARKERS[route.endpoint];
      let held: Buffer | null = null;
      /** Passes on what the tracker released; false when the client's socket is full (wait for 'drain'). */
      const forward = (out: Buffer | null): boolean => {
        if (!out || out.length === 0) return true;
        if (held) {
          held = Buffer.concat([held, out]);
          return true;
        }
        let at = -1;
        if (markers) {
          for (const m of markers) {
            const i = out.indexOf(m);
            if (i >= 0 && (at < 0 || i < at)) at = i;
          }
        }
        if (at >= 0) {
          held = out.subarray(at);
          out = out.subarray(0, at);
          if (out.length === 0) return true;
        }
        return res.write(out) || res.destroyed;
      };
      try {
        await relay(upRes.body, (chunk) => (clientGone ? null : forward(tracker.push(chunk))), res);
        if (!forward(tracker.end())) await waitDrain(res);
      } catch (err) {
        if (!clientGone) {
          deps.metrics.upstreamErrors.labels(isTimeout(err) ? 'timeout' : 'stream').inc();
          deps.log.warn({ request_id: requestId, err: errSummary(err) }, 'upstream stream failed');
          // Tell the client in its API's own stream shape rather than cutting the stream.
          held = null;
          if (!res.destroyed) res.write(dialect.streamErrorEvent(route.endpoint, 'upstream_unavailable', 'The model service failed mid-stream. Retry the request.'));
        }
      }
      upstreamMs = performance.now() - tUp;
      const usage = tracker.usage();
      if (usage) {
        ev.input_tokens = usage.input_tokens;
        ev.output_tokens = usage.output_tokens;
      }
      if (clientGone || res.destroyed) ev.aborted = true;
      ev.latency_ms = round(performance.now() - t0);
      await deps.record(finishEvent(ev, t0));
      if (outcome) void debitTokens(deps.counters, limits, outcome.subjects, currentPeriods(started), (ev.input_tokens ?? 0) + (ev.output_tokens ?? 0)).catch((e: unknown) => deps.log.error({ err: errSummary(e) }, 'token debit failed'));
      if (!res.destroyed) res.end(held ?? undefined);
      observe(route, ev, t0, upstreamMs);
    } catch (err) {
      const r = err instanceof Refusal ? err : internalRefusal(err, deps, requestId);
      if (ev.decision === undefined || decisionRank(r.decision) > decisionRank(ev.decision)) {
        ev.decision = r.decision;
        if (r.rule) ev.decision_rule = r.rule;
      }
      const status = dialect.errorStatus(r.kind);
      ev.status = status;
      if (forFeatures && !ev.features && ev.account_id) {
        try {
          ev.features = deps.features(forFeatures);
        } catch (e) {
          deps.log.error({ request_id: requestId, err: errSummary(e) }, 'feature extraction failed');
        }
      }
      ev.latency_ms = round(performance.now() - t0);
      try {
        await deps.record(finishEvent(ev, t0));
      } catch (e) {
        deps.log.error({ request_id: requestId, err: errSummary(e) }, 'usage event could not be recorded');
      }
      if (r.rule && r.kind !== 'invalid_request') deps.metrics.refusals.labels(r.rule.split('@')[0]!).inc();
      const line = { request_id: requestId, status, rule: ev.decision_rule, key_id: ev.key_id, endpoint: route.endpoint };
      // Policy refusals are decisions: they go to the audit log (rate-limit refusals stay on
      // the usage events, which are durable too, so a 429 flood cannot swamp the signer).
      if (deps.audit && ev.decision_rule && (r.decision === 'block' || r.decision === 'step_up') && !r.rule?.startsWith('auth.')) {
        deps.audit({
          type: 'policy.refusal',
          actor: `policy:${ev.decision_rule}`,
          ...(ev.key_id ? { subject: { kind: 'key', id: ev.key_id } } : {}),
          data: { request_id: requestId, decision: r.decision, status, account_id: ev.account_id ?? null, org_id: ev.org_id ?? null, ip: ev.ip ?? null, country: ev.country ?? null },
          at: ev.ts,
        });
      }
      if (status === 429 || status < 400) deps.log.debug?.(line, 'request refused');
      else if (status >= 500) deps.log.warn(line, 'request failed');
      else deps.log.info(line, 'request refused');
      if (!res.headersSent && !res.destroyed) {
        const payload = JSON.stringify(dialect.errorBody(r.kind, r.message));
        res.writeHead(status, { ...r.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
        res.end(payload);
      } else if (!res.destroyed) {
        res.end();
      }
      observe(route, ev, t0, upstreamMs);
    } finally {
      deps.metrics.inflight.dec();
    }
  };
}

/** A backing service failed and the request cannot be decided without it: a retryable 503. */
function unavailable(deps: ProxyDeps, component: string, err: unknown, requestId: string): never {
  deps.metrics.unavailable.labels(component, 'closed').inc();
  deps.log.warn({ request_id: requestId, component, err: errSummary(err) }, 'backing service unavailable: refusing (fail-closed)');
  throw new Refusal('overloaded', 'The service is temporarily unavailable. Retry shortly.', 'allow', undefined, { 'retry-after': '1' });
}

/** A backing service failed and the request goes on without it (fail-open), counted. */
function degraded(deps: ProxyDeps, component: string, err: unknown, requestId: string): null {
  deps.metrics.unavailable.labels(component, 'open').inc();
  deps.log.warn({ request_id: requestId, component, err: errSummary(err) }, 'backing service unavailable: deciding without it (fail-open)');
  return null;
}

function finishEvent(ev: UsageEvent, t0: number): UsageEvent {
  if (ev.latency_ms === undefined) ev.latency_ms = round(performance.now() - t0);
  return ev;
}

/**
 * Records a finished request's metrics. The labelled children are looked up once per label set
 * and kept: prom-client's `labels()` hashes its arguments on every call.
 */
function createObserver(metrics: GatewayMetrics) {
  type Child = { inc(): void };
  const counters = new Map<string, Child>();
  const seconds = {
    anthropic: { gateway: metrics.gatewaySeconds.labels('anthropic'), upstream: metrics.upstreamSeconds.labels('anthropic') },
    openai: { gateway: metrics.gatewaySeconds.labels('openai'), upstream: metrics.upstreamSeconds.labels('openai') },
  };
  return (route: Route, ev: UsageEvent, t0: number, upstreamMs: number): void => {
    const total = performance.now() - t0;
    const decision = ev.decision ?? 'allow';
    const status = ev.status ?? 0;
    const k = `${route.api} ${route.endpoint} ${decision} ${status}`;
    let c = counters.get(k);
    if (c === undefined) {
      c = metrics.requests.labels(route.api, route.endpoint, decision, String(status));
      if (counters.size < 10_000) counters.set(k, c);
    }
    c.inc();
    const s = seconds[route.api];
    s.gateway.observe(Math.max(0, total - upstreamMs) / 1000);
    if (upstreamMs > 0) s.upstream.observe(upstreamMs / 1000);
  };
}

/**
 * Every refusal a customer can contest (block, step_up, a throttle decided for them) says where
 * to appeal: the route `registerAppealRoute` serves (docs/cases.md "Customer-facing messages").
 */
export const APPEAL_HINT = ' To appeal this decision, POST /v1/warden/appeals with this API key and your reason.';

function refuseIfRequired(d: PolicyDecision, defaultVerifyUrl: string): void {
  if (d.decision === 'block') {
    throw new Refusal('permission', `${d.message ?? 'This request is not permitted under the usage policy. Contact support if you believe this is a mistake.'}${APPEAL_HINT}`, 'block', d.rule);
  }
  if (d.decision === 'step_up') {
    const url = d.verify_url ?? defaultVerifyUrl;
    throw new Refusal('permission', `${d.message ?? 'Additional verification is required for this request.'} Verify your organization at ${url} and retry.${APPEAL_HINT}`, 'step_up', d.rule);
  }
}

function internalRefusal(err: unknown, deps: ProxyDeps, requestId: string): Refusal {
  if (err instanceof BodyError) return new Refusal(err.kind, err.message, 'allow', undefined);
  deps.log.error({ request_id: requestId, err: errSummary(err) }, 'internal error on the request path');
  return new Refusal('api_error', 'Internal error in the gateway. Retry shortly; quote the request id if it persists.', 'allow', undefined);
}

export class BodyError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const JSON_TYPE = /^application\/json\b/i;

/**
 * Reads and checks a JSON body: size, content type, UTF-8, JSON. Reads with 'data' events
 * rather than an async iterator: a small body arrives in one chunk, and the iterator's
 * promises and stream bookkeeping cost more than the parse.
 */
export function readBody(req: IncomingMessage, max: number, contentType: string | undefined): Promise<{ raw: Buffer; json: unknown }> {
  if (!contentType || !JSON_TYPE.test(contentType)) {
    req.resume();
    return Promise.reject(new BodyError('invalid_request', `Content-Type must be application/json (got ${contentType ? JSON.stringify(contentType.slice(0, 100)) : 'none'}).`));
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) {
    req.resume();
    return Promise.reject(new BodyError('request_too_large', `The request body is ${declared} bytes; the limit is ${max} bytes.`));
  }
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        stop();
        req.resume();
        reject(new BodyError('request_too_large', `The request body is over the limit of ${max} bytes.`));
        return;
      }
      if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    };
    const onEnd = () => {
      stop();
      try {
        resolve(parseJsonBody(more ? Buffer.concat(more, size) : (first ?? Buffer.alloc(0))));
      } catch (e) {
        reject(e);
      }
    };
    const onError = (e: Error) => {
      stop();
      reject(e);
    };
    // The client went away before the body ended (no 'end', maybe no 'error').
    const onClose = () => {
      stop();
      reject(Object.assign(new Error('The client closed the connection before the request body ended.'), { code: 'ECONNRESET' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function parseJsonBody(raw: Buffer): { raw: Buffer; json: unknown } {
  if (!isUtf8(raw)) throw new BodyError('invalid_request', 'The request body is not valid UTF-8.');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new BodyError('invalid_request', `The request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new BodyError('invalid_request', 'The request body must be a JSON object.');
  }
  return { raw, json };
}

function upstreamHeaders(api: 'anthropic' | 'openai', apiKey: string | undefined, req: IncomingMessage): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json' };
  if (api === 'anthropic') {
    h['anthropic-version'] = String(req.headers['anthropic-version'] ?? '2023-06-01');
    const beta = req.headers['anthropic-beta'];
    if (typeof beta === 'string') h['anthropic-beta'] = beta;
    if (apiKey) h['x-api-key'] = apiKey;
  } else if (apiKey) {
    h['authorization'] = `Bearer ${apiKey}`;
  }
  return h;
}

function safeLookup(intel: IpIntel, ip: string) {
  try {
    return intel.lookup(ip);
  } catch {
    return undefined;
  }
}

const globCache = new Map<string, RegExp | null>();
/** A key's allowed models are globs (`claude-haiku-*`), compiled once with the policy's glob syntax. */
export function modelMatches(pattern: string, model: string): boolean {
  let re = globCache.get(pattern);
  if (re === undefined) {
    const g = compileGlob(pattern);
    re = g.ok ? g.regex : null;
    if (globCache.size < 10_000) globCache.set(pattern, re);
  }
  return re ? re.test(model) : pattern === model;
}

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code.includes('TIMEOUT');
}

export function errSummary(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return { name: err.name, message: err.message, ...(code ? { code } : {}) };
  }
  return { name: 'unknown', message: String(err) };
}

/**
 * Reads an upstream body with 'data' events, as a `for await` loop over it did but without an
 * async iterator's promise and bookkeeping per chunk. `onChunk` returns false when the client
 * is full (the body pauses until the client drains) and null to stop (the client went away:
 * the body is destroyed, as leaving the loop did). Resolves at the body's end; rejects with its
 * error, with what `onChunk` threw, or when it closes before its end.
 */
function relay(body: Readable, onChunk: (chunk: Buffer) => boolean | null, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      body.off('data', onData);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (chunk: Buffer) => {
      let ok: boolean | null;
      try {
        ok = onChunk(chunk);
      } catch (e) {
        body.destroy();
        finish(e);
        return;
      }
      if (ok === null) {
        body.destroy();
        finish();
      } else if (!ok) {
        body.pause();
        void waitDrain(res).then(() => {
          if (!done) body.resume();
        });
      }
    };
    // The listeners other than 'data' stay: after the end they do nothing, and an 'error'
    // emitted late must still find a listener.
    body.on('data', onData);
    body.on('end', () => finish());
    body.on('error', (e: Error) => finish(e));
    // (The error is made only when it is needed: an Error captures a stack trace.)
    body.on('close', () => {
      if (!done) finish(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
  });
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Webhook delivery of alert and case events to configured URLs. Each event is a JSON body
 * `{ id, type, at, data }` POSTed with a signature header
 * `warden-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (the endpoint's
 * secret as key), plus `warden-event-id` and `warden-event-type`. Delivery never blocks the
 * caller: `emit` queues and returns. Each endpoint has its own bounded queue and worker, so a
 * slow receiver delays only itself; events to one endpoint go out in order. A failed attempt
 * (network error, timeout, 408, 429, 5xx) is retried with exponential backoff and jitter
 * (honouring `Retry-After`), up to `maxAttempts`; other 4xx answers are final. When a queue is
 * full the oldest event is dropped and counted, never silently.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../core/index.js';

export const WebhookEndpointConfig = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** HMAC key; at least 16 characters. */
  secret: z.string().min(16, 'at least 16 characters'),
  /** Event types to send (`case.action`) or prefixes (`case.*`); default all. */
  events: z.array(z.string().min(1)).default(['*']),
});
export type WebhookEndpointConfig = z.input<typeof WebhookEndpointConfig>;
export const WebhookConfig = z.strictObject({
  endpoints: z.array(WebhookEndpointConfig).default([]),
  max_queue: z.number().int().min(1).max(1_000_000).default(10_000),
  max_attempts: z.number().int().min(1).max(50).default(8),
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
});
export type WebhookConfig = z.input<typeof WebhookConfig>;

export interface WebhookEvent {
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface WebhookOptions {
  endpoints: WebhookEndpointConfig[];
  /** Per endpoint. Default 10 000. */
  maxQueue?: number;
  /** Attempts per event, the first included. Default 8. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt. Default 1000 ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  log?: { warn(obj: object, msg: string): void };
}

export interface WebhookStats {
  delivered: number;
  /** Events given up on (final 4xx, or attempts exhausted). */
  failed: number;
  /** Events dropped because a queue was full. */
  dropped: number;
  retries: number;
  queued: number;
}

export interface WebhookDispatcher {
  /** Queues the event for every endpoint that wants it; returns at once. */
  emit(event: WebhookEvent): void;
  /** Resolves when every queue is empty (each event delivered or given up). */
  flush(): Promise<void>;
  stats(): WebhookStats;
  /** Stops: the attempt in flight finishes, waiting retries are cancelled, queued events are counted as dropped. */
  close(): Promise<void>;
}

/** The `warden-signature` header value for a body sent at `t` (unix seconds). */
export function signWebhook(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * Checks a `warden-signature` header against the raw body: the HMAC must match and `t` lie
 * within `toleranceSeconds` of now (replay protection). For receivers; constant-time.
 */
export function verifyWebhookSignature(secret: string, header: string | undefined, body: string, opts: { now?: number; toleranceSeconds?: number } = {}): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => { const i = p.indexOf('='); return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const; }));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) return false;
  const want = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(want, Buffer.from(v1, 'hex'));
}

function wants(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

export function createWebhookDispatcher(opts: WebhookOptions): WebhookDispatcher {
  const endpoints = opts.endpoints.map((e, i) => {
    const r = WebhookEndpointConfig.safeParse(e);
    if (!r.success) throw new ConfigError('CONFIG_INVALID', `webhooks.endpoints[${i}]: ${r.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}. Fix the webhook entry in warden.yaml.`);
    return r.data;
  });
  const maxQueue = opts.maxQueue ?? 10_000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const baseDelay = opts.baseDelayMs ?? 1000;
  const maxDelay = opts.maxDelayMs ?? 5 * 60_000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const stats: Omit<WebhookStats, 'queued'> = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  let closed = false;

  interface Queue {
    endpoint: (typeof endpoints)[number];
    items: { id: string; body: string; type: string }[];
    running: boolean;
    idle: (() => void)[];
    wake?: () => void;
    timer?: NodeJS.Timeout;
  }
  const queues: Queue[] = endpoints.map((endpoint) => ({ endpoint, items: [], running: false, idle: [] }));

  const sleep = (q: Queue, ms: number) =>
    new Promise<void>((resolve) => {
      q.wake = resolve;
      q.timer = setTimeout(resolve, ms);
    }).finally(() => {
      clearTimeout(q.timer);
      delete q.wake;
    });

  /** One attempt: 'ok', 'retry' (with an optional Retry-After delay) or 'fail'. */
  const attempt = async (q: Queue, item: Queue['items'][number]): Promise<{ r: 'ok' | 'retry' | 'fail'; after?: number; why: string }> => {
    const t = Math.floor(now() / 1000);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const res = await doFetch(q.endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'warden-webhooks/1',
          'warden-event-id': item.id,
          'warden-event-type': item.type,
          'warden-signature': signWebhook(q.endpoint.secret, t, item.body),
        },
        body: item.body,
        signal: ac.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { r: 'ok', why: String(res.status) };
      const ra = Number(res.headers.get('retry-after'));
      return { r: RETRYABLE(res.status) ? 'retry' : 'fail', ...(Number.isFinite(ra) && ra > 0 ? { after: ra * 1000 } : {}), why: `HTTP ${res.status}` };
    } catch (err) {
      return { r: 'retry', why: ac.signal.aborted ? `no answer within ${timeoutMs} ms` : String((err as Error).cause ?? err) };
    } finally {
      clearTimeout(timer);
    }
  };

  const run = async (q: Queue) => {
    if (q.running) return;
    q.running = true;
    try {
      while (q.items.length && !closed) {
        const item = q.items[0]!;
        for (let n = 1; ; n++) {
          const out = await attempt(q, item);
          if (out.r === 'ok') {
            stats.delivered++;
            break;
          }
          if (out.r === 'fail' || n >= maxAttempts || closed) {
            stats.failed++;
            opts.log?.warn({ url: q.endpoint.url, event_id: item.id, type: item.type, attempts: n, last: out.why }, 'webhook event given up');
            break;
          }
          stats.retries++;
          const exp = Math.min(maxDelay, baseDelay * 2 ** (n - 1));
          const delay = Math.min(maxDelay, Math.max(out.after ?? 0, exp / 2 + (random() * exp) / 2));
          await sleep(q, delay);
          if (closed) {
            stats.failed++;
            break;
          }
        }
        // The item may have been dropped from the front meanwhile only by close(); shift if still first.
        if (q.items[0] === item) q.items.shift();
      }
    } finally {
      q.running = false;
      if (!q.items.length || closed) for (const f of q.idle.splice(0)) f();
    }
  };

  return {
    emit(event) {
      if (closed) return;
      const body = JSON.stringify({ id: `whev_${randomUUID().replaceAll('-', '')}`, type: event.type, at: event.at, data: event.data });
      const id = (JSON.parse(body) as { id: string }).id;
      for (const q of queues) {
        if (!wants(q.endpoint.events, event.type)) continue;
        if (q.items.length >= maxQueue) {
          // Keep the event being attempted (index 0); drop the oldest waiting one.
          q.items.splice(q.items.length > 1 ? 1 : 0, 1);
          stats.dropped++;
          opts.log?.warn({ url: q.endpoint.url, max_queue: maxQueue }, 'webhook queue full: oldest waiting event dropped');
        }
        q.items.push({ id, body, type: event.type });
        void run(q);
      }
    },
    async flush() {
      await Promise.all(queues.map((q) => (q.items.length || q.running ? new Promise<void>((r) => q.idle.push(r)) : undefined)));
    },
    stats() {
      return { ...stats, queued: queues.reduce((s, q) => s + q.items.length, 0) };
    },
    async close() {
      closed = true;
      for (const q of queues) {
        stats.dropped += Math.max(0, q.items.length - (q.running ? 1 : 0));
        q.wake?.();
      }
      await Promise.all(queues.map((q) => (q.running ? new Promise<void>((r) => q.idle.push(r)) : undefined)));
      for (const q of queues) q.items.length = 0;
    },
  };
}

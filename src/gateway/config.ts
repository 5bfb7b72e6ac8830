/**
 * The gateway's options. Strict: a misspelt key is an error. Defaults need no service.
 */
import { z } from 'zod';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'host:port, such as "127.0.0.1:8787"');

export const UpstreamConfig = z.strictObject({
  /** Base URL of the model API, e.g. https://api.anthropic.com (no trailing /v1). */
  url: z.url({ protocol: /^https?$/ }),
  /** The provider's credential; sent upstream, never to a client or a log. */
  api_key: z.string().optional(),
  /** Max connections to this upstream. */
  connections: z.number().int().positive().default(256),
});
export type UpstreamConfig = z.infer<typeof UpstreamConfig>;

export const GatewayConfig = z.strictObject({
  listen: hostPort.default('127.0.0.1:8787'),
  upstreams: z
    .strictObject({
      anthropic: UpstreamConfig,
      openai: UpstreamConfig,
    })
    .describe('where each API family is forwarded'),
  /** Largest request body accepted, in bytes. */
  max_body_bytes: z.number().int().positive().default(10_000_000),
  /** Addresses (exact IPs) whose X-Forwarded-For is believed; empty = use the socket address. */
  trusted_proxies: z.array(z.string()).default([]),
  /** Models the gateway knows; a request for another gets not_found. Empty = any model. */
  models: z.array(z.string()).default([]),
  /** How long to wait for the upstream's response headers, and for the whole response. */
  upstream_headers_timeout_ms: z.number().int().positive().default(60_000),
  upstream_body_timeout_ms: z.number().int().positive().default(600_000),
  /** Where a customer goes to verify (step_up) when the policy rule names no URL. */
  verify_url: z.url().default('https://example.com/verify'),
  /** Grace for in-flight requests on SIGTERM. */
  drain_timeout_ms: z.number().int().nonnegative().default(15_000),
  /**
   * What a request gets when a backing service is down, per decision input (docs/scale-out.md):
   * `open` decides without that input, `closed` refuses with a retryable 503. Keys, accounts and
   * orgs are always closed for entries not cached (nobody unauthenticated gets in); cached
   * entries keep working.
   */
  on_unavailable: z
    .strictObject({
      /** Rate limits and budgets (Redis in the cluster profile). */
      counters: z.enum(['open', 'closed']).default('open'),
      /** Detection risk (treated as 0 when open). */
      risk: z.enum(['open', 'closed']).default('open'),
    })
    .prefault({}),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const RetentionConfig = z.strictObject({
  /** Usage events older than this are deleted. */
  events_days: z.number().positive().default(90),
  /** Raw prompt text is kept only when > 0, and for that many days. */
  raw_text_days: z.number().nonnegative().default(0),
});
export type RetentionConfig = z.infer<typeof RetentionConfig>;

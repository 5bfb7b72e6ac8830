/**
 * Reads warden.yaml (or the file given with --config) once, applies environment overrides,
 * and validates the whole thing, reporting every problem with its path.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatIssuePath } from '../core/index.js';
import { GatewayConfig, RetentionConfig } from '../gateway/index.js';
import { CustomNetwork } from '../intel/index.js';
import { WebhookConfig } from '../cases/index.js';

export const WardenConfig = z.strictObject({
  profile: z.enum(['embedded', 'cluster']).default('embedded'),
  /** Where the embedded profile keeps its databases, the admin token and the audit key. */
  data_dir: z.string().default('.warden'),
  /** Upstream URLs default to the public Anthropic and OpenAI APIs (filled in by loadConfig). */
  gateway: GatewayConfig,
  policy: z
    .strictObject({
      file: z.string().default('policies/default.yaml'),
      /**
       * Cluster profile: how often (ms) a gateway or worker reads the store's active policy
       * version, so a version applied or rolled back at one process is in force at every other.
       */
      follow_every_ms: z.number().int().min(100).default(1000),
    })
    .prefault({}),
  intel: z
    .strictObject({
      /** Your own intelligence: ranges and ASNs with a label (they override the databases). */
      custom_networks: z.array(CustomNetwork).default([]),
      /** Newer list files loaded with `warden intel load` live here. */
      data_dir: z.string().optional(),
      /** Sources older than this many days produce a loud start-up warning. */
      max_source_age_days: z.number().int().positive().default(90),
    })
    .prefault({}),
  /** A watchlist file (interchange.md), screened with the sanctions lists. */
  watchlist: z.string().optional(),
  retention: RetentionConfig.prefault({}),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info') }).prefault({}),
  admin: z.strictObject({ token: z.string().min(16).optional() }).prefault({}),
  /** Services of the cluster profile (docs/scale-out.md). */
  cluster: z
    .strictObject({
      postgres_url: z.string().default('postgres://postgres@127.0.0.1:5432/test'),
      /** PostgreSQL schema holding Warden's tables. */
      schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier').default('warden'),
      redis_url: z.string().default('redis://127.0.0.1:6379'),
      /** Prefix of Redis keys (rate-limit counters). */
      redis_prefix: z.string().default('warden'),
      nats_servers: z.string().default('127.0.0.1:4222'),
      /** JetStream stream of usage events. */
      stream: z.string().default('WARDEN_USAGE'),
      subject_prefix: z.string().default('warden.usage'),
      /** Partitions of the usage stream: detection workers split them. */
      partitions: z.number().int().min(1).max(256).default(4),
      /** Usage events older than this leave the stream (they are in PostgreSQL by then). */
      stream_max_age_hours: z.number().positive().default(168),
    })
    .prefault({}),
  /** Online detection inside the gateway process (embedded profile; docs/detection.md). */
  detection: z
    .strictObject({
      online: z.boolean().default(true),
      /** How often new events are ingested and accounts re-scored. */
      evaluate_every_ms: z.number().int().min(100).default(2000),
      checkpoint_every_ms: z.number().int().min(1000).default(30_000),
    })
    .prefault({}),
  /** `warden worker`: the cluster profile's detection workers (docs/scale-out.md). */
  worker: z
    .strictObject({
      /** This worker's name in leases; default <hostname>-<pid>. Unique among live workers. */
      id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'letters, digits, _ . : -').optional(),
      /** `auto` splits the stream's partitions with the other live workers; or a list owned by this one. */
      partitions: z.union([z.literal('auto'), z.array(z.number().int().min(0).max(255)).min(1)]).default('auto'),
      /** JetStream consumer group of the workers. */
      group: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ or -').default('detect'),
      /** Most events per committed batch (one PostgreSQL transaction). */
      batch_size: z.number().int().min(1).max(10_000).default(256),
      /** How long a partial batch waits for more events. */
      linger_ms: z.number().int().min(0).max(10_000).default(50),
      /** A worker that stops renewing its leases loses its partitions after this. */
      lease_ttl_ms: z.number().int().min(500).default(10_000),
      /** How often the leader evaluates (risks, clusters, cases). */
      evaluate_every_ms: z.number().int().min(100).default(5000),
      /** Take part in the election of the evaluation leader. */
      lead: z.boolean().default(true),
      /** Prometheus metrics at http://<metrics_listen>/metrics (port 0: any free port). */
      metrics_listen: z.string().default('127.0.0.1:9464'),
      /** Counted event ids are kept this long (event time): a republish within it counts once. */
      counted_retention_hours: z.number().positive().default(168),
      /** A delivery not acked for this long is redelivered (keep it above a batch's commit time). */
      ack_wait_ms: z.number().int().min(1000).default(60_000),
    })
    .prefault({}),
  /** The analyst console at /console/ (docs/console.md). */
  console: z
    .strictObject({
      /** Serve the console and its sign-in; the admin API keeps its token either way. */
      enabled: z.boolean().default(true),
      /** `auto`: Secure cookies when the request came over https (or X-Forwarded-Proto: https). */
      secure_cookies: z.union([z.literal('auto'), z.boolean()]).default('auto'),
      /** A session ends after this many minutes without a request (and 7 days after sign-in at most). */
      session_idle_minutes: z.number().int().min(1).max(7 * 24 * 60).default(720),
    })
    .prefault({}),
  /** Verification that lifts step_up (docs/cases.md "Verification"). */
  verification: z
    .strictObject({
      /** Secret shared with the verification provider; the webhook route exists only when set. */
      webhook_secret: z.string().min(16, 'at least 16 characters; generate one with `openssl rand -hex 32`').optional(),
      /** How far a delivery's signed timestamp may be from now. */
      webhook_tolerance_seconds: z.number().int().min(1).max(3600).default(300),
    })
    .prefault({}),
  /** Signed webhooks for alerts and case events (docs/cases.md). */
  webhooks: WebhookConfig.prefault({}),
  audit: z
    .strictObject({
      /** The Ed25519 signing key lives here, outside the database (default <data_dir>/audit-key). */
      key_dir: z.string().optional(),
      /**
       * This writer's chain id; each writer process needs its own. Default: `gateway` (embedded),
       * `gw-<hostname>-<hash of data_dir>` (cluster; see auditChainId in serve.ts).
       */
      chain: z.string().optional(),
    })
    .prefault({}),
});
export type WardenConfig = z.infer<typeof WardenConfig>;

/** Environment variables that override the file, and the setting each one sets. */
export const ENV_OVERRIDES: Record<string, string> = {
  WARDEN_PROFILE: 'profile',
  WARDEN_DATA_DIR: 'data_dir',
  WARDEN_LISTEN: 'gateway.listen',
  WARDEN_UPSTREAM_URL: 'gateway.upstreams.anthropic.url,gateway.upstreams.openai.url',
  WARDEN_ANTHROPIC_UPSTREAM_URL: 'gateway.upstreams.anthropic.url',
  WARDEN_OPENAI_UPSTREAM_URL: 'gateway.upstreams.openai.url',
  WARDEN_ANTHROPIC_API_KEY: 'gateway.upstreams.anthropic.api_key',
  WARDEN_OPENAI_API_KEY: 'gateway.upstreams.openai.api_key',
  WARDEN_POLICY_FILE: 'policy.file',
  WARDEN_WATCHLIST: 'watchlist',
  WARDEN_ADMIN_TOKEN: 'admin.token',
  WARDEN_VERIFICATION_WEBHOOK_SECRET: 'verification.webhook_secret',
  WARDEN_LOG_LEVEL: 'log.level',
  WARDEN_POSTGRES_URL: 'cluster.postgres_url',
  WARDEN_REDIS_URL: 'cluster.redis_url',
  WARDEN_NATS_SERVERS: 'cluster.nats_servers',
};

export interface LoadedConfig {
  config: WardenConfig;
  /** The file read, or null when defaults (and the environment) were used. */
  file: string | null;
}

export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv): LoadedConfig {
  let raw: Record<string, unknown> = {};
  let used: string | null = null;
  const candidate = file ?? env['WARDEN_CONFIG'] ?? (existsSync('warden.yaml') ? 'warden.yaml' : undefined);
  if (candidate) {
    if (!existsSync(candidate)) throw new ConfigError('CONFIG_INVALID', `Config file ${candidate} does not exist.`);
    try {
      raw = (parseYaml(readFileSync(candidate, 'utf8')) as Record<string, unknown>) ?? {};
    } catch (e) {
      throw new ConfigError('CONFIG_INVALID', `${candidate}: not valid YAML: ${(e as Error).message}`);
    }
    used = path.resolve(candidate);
  }
  for (const [name, targets] of Object.entries(ENV_OVERRIDES)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    for (const t of targets.split(',')) setPath(raw, t, v);
  }
  // An upstream given only by URL (file or env) still needs the other defaults.
  const gw = (raw['gateway'] ?? {}) as Record<string, unknown>;
  const ups = (gw['upstreams'] ?? {}) as Record<string, Record<string, unknown>>;
  ups['anthropic'] = { url: 'https://api.anthropic.com', ...(ups['anthropic'] ?? {}) };
  ups['openai'] = { url: 'https://api.openai.com', ...(ups['openai'] ?? {}) };
  gw['upstreams'] = ups;
  raw['gateway'] = gw;
  const r = WardenConfig.safeParse(raw);
  if (!r.success) {
    const where = used ?? 'the configuration';
    const lines = r.error.issues.map((i) => `  ${formatIssuePath(i.path)}: ${i.message}`);
    throw new ConfigError('CONFIG_INVALID', `Invalid configuration in ${where}:\n${lines.join('\n')}\nEnvironment overrides: ${Object.keys(ENV_OVERRIDES).join(', ')}.`);
  }
  return { config: r.data, file: used };
}

function setPath(obj: Record<string, unknown>, dotted: string, value: string): void {
  const parts = dotted.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]!] = value;
}

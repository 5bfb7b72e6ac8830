/**
 * A whole Warden (embedded) in this process, in front of the simulated upstream, for the
 * end-to-end tests; each call makes its own data directory and closes what it opened.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WardenConfig } from '../../src/cli/config.js';
import { createAdminClient, type AdminClient } from '../../src/cli/admin-client.js';
import { serve, type Server } from '../../src/cli/serve.js';
import { runWorker, type RunningWorker } from '../../src/cli/worker.js';
import type { EnforcementChange } from '../../src/core/index.js';
import { createLogger } from '../../src/cli/log.js';
import { DEMO_NETWORKS } from '../../src/cli/demo.js';
import { startMockUpstream } from '../../src/gateway/index.js';
import { createScreener, openIpIntel, type OpenedIpIntel, type OpenedScreener } from '../../src/intel/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Loading the IP databases and sanctions lists takes seconds: one copy per test file.
let shared: { intel: OpenedIpIntel; screener: OpenedScreener } | undefined;
function sharedIntel() {
  shared ??= { intel: openIpIntel({ customNetworks: DEMO_NETWORKS }), screener: createScreener({}) };
  return shared;
}

export interface Harness {
  /** `cluster` when the harness runs on PostgreSQL, Redis and NATS (WARDEN_E2E_PROFILE=cluster or `opts.cluster`). */
  profile: 'embedded' | 'cluster';
  url: string;
  upstreamUrl: string;
  server: Server;
  admin: AdminClient;
  dataDir: string;
  upstream: Awaited<ReturnType<typeof startMockUpstream>>;
  /**
   * Cluster profile: the detection worker (`warden worker`, in this process) that consumes the
   * gateway's usage events; undefined on the embedded profile or with `detection.online: false`.
   */
  worker: RunningWorker | undefined;
  /**
   * Runs detection over everything served so far, as the profile does it. Embedded: the gateway's
   * online detection ingests its queue and evaluates. Cluster: waits until the outbox has
   * relayed every event to JetStream and the worker has committed every event of the stream, runs
   * the leader's evaluation, and waits until this gateway has received every action it took (the
   * Redis push the gateways enforce from).
   */
  detect(): Promise<void>;
  /** Events online detection has counted (embedded: the detector's; cluster: the worker's). */
  detectedEvents(): Promise<number>;
  /** Creates an org, an account and a key; returns the key. */
  customer(opts?: { org?: Record<string, unknown>; key?: Record<string, unknown> }): Promise<{ key: string; keyId: string; accountId: string; orgId: string }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  policy?: string;
  gateway?: Record<string, unknown>;
  upstreamUrl?: string;
  retention?: Record<string, unknown>;
  /** Online detection settings (e.g. a long `evaluate_every_ms`, so only `tick()` evaluates). */
  detection?: Record<string, unknown>;
  /** Verification settings (`verification.webhook_secret`). */
  verification?: Record<string, unknown>;
  /** The cluster profile, with these cluster settings (test/services). */
  cluster?: Record<string, unknown>;
  /** Audit settings (such as a key_dir shared by several gateways); by default a chain per data_dir. */
  audit?: Record<string, unknown>;
}

/** Cluster settings of their own (schema, stream, subjects, Redis prefix) for one harness or several sharing them. */
export function ownCluster(prefix = 'e2e') {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  return { schema: `wt_${prefix}_${id}`, redis_prefix: `wt${prefix}:${id}`, stream: `WT${prefix.toUpperCase()}_${id}`, subject_prefix: `wt${prefix}.${id}`, partitions: 2 };
}

/** Drops what `ownCluster` made: the schema, the Redis keys and the stream. */
export async function dropCluster(c: ReturnType<typeof ownCluster>): Promise<void> {
  const [{ default: pg }, { Redis }, { connect }, { jetstreamManager }] = await Promise.all([
    import('pg'),
    import('ioredis'),
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
  ]);
  const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${c.schema} CASCADE`);
  } finally {
    await pool.end();
  }
  const redis = new Redis('redis://127.0.0.1:6379');
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${c.redis_prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  const nc = await connect({ servers: '127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(c.stream).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  // WARDEN_E2E_PROFILE=cluster (vitest project e2e-cluster) runs every harness on the services.
  const own = !opts.cluster && process.env.WARDEN_E2E_PROFILE === 'cluster' ? ownCluster() : undefined;
  const clusterSettings = opts.cluster ?? own;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'warden-test-'));
  const upstream = await startMockUpstream({ host: '127.0.0.1', port: 0, latencyMs: 0 });
  let policyFile = path.join(ROOT, 'policies/demo.yaml');
  if (opts.policy) {
    policyFile = path.join(dataDir, 'policy.yaml');
    writeFileSync(policyFile, opts.policy);
  }
  const upstreamUrl = opts.upstreamUrl ?? upstream.url;
  const config = WardenConfig.parse({
    data_dir: dataDir,
    gateway: {
      listen: '127.0.0.1:0',
      upstreams: { anthropic: { url: upstreamUrl }, openai: { url: upstreamUrl } },
      trusted_proxies: ['127.0.0.1', '::1'],
      ...opts.gateway,
    },
    policy: { file: policyFile },
    intel: { custom_networks: DEMO_NETWORKS },
    log: { level: 'silent' },
    ...(opts.retention ? { retention: opts.retention } : {}),
    ...(opts.detection ? { detection: opts.detection } : {}),
    ...(opts.verification ? { verification: opts.verification } : {}),
    ...(clusterSettings ? { profile: 'cluster', cluster: clusterSettings, audit: opts.audit ?? { chain: `gw-${path.basename(dataDir)}` } } : {}),
  });
  let server: Server | undefined;
  let worker: RunningWorker | undefined;
  try {
    server = await serve(config, { log: createLogger('silent'), ...sharedIntel() });
    // Cluster: detection runs in a worker. Only `detect()` evaluates unless the test asks for a
    // period (its own audit chain: one writer per chain).
    if (own && (opts.detection?.['online'] ?? true) !== false) {
      const workerConfig = WardenConfig.parse({
        ...config,
        audit: { ...config.audit, chain: `wk-${path.basename(dataDir)}` },
        worker: { id: `e2e-${own.schema}`, metrics_listen: '127.0.0.1:0', linger_ms: 5, lease_ttl_ms: 3000, evaluate_every_ms: Number(opts.detection?.['evaluate_every_ms'] ?? 3_600_000) },
      });
      worker = await runWorker(workerConfig, { log: createLogger('silent'), ...sharedIntel() });
    }
  } catch (e) {
    await server?.close().catch(() => undefined);
    await upstream.close();
    if (own) await dropCluster(own).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const url = server.gateway.url;
  const admin = createAdminClient(config, { url, token: server.adminToken });
  let n = 0;
  const srv = server;
  const poll = async (what: string, done: () => Promise<boolean> | boolean, timeoutMs = 20_000) => {
    const until = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > until) throw new Error(`harness: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    profile: clusterSettings ? 'cluster' : 'embedded',
    url,
    upstreamUrl,
    server: srv,
    worker,
    admin,
    dataDir,
    upstream,
    async detect() {
      if (!worker) {
        if (!srv.detection) throw new Error('harness: online detection is off in this harness');
        return srv.detection.tick();
      }
      const w = worker.worker;
      await poll('the outbox to relay every usage event to JetStream', () => srv.outboxBacklog() === 0);
      await poll('the worker to commit every event of the stream', async () => (await w.status()).partitions.every((p) => p.committed >= p.last));
      await poll('the worker to lead the evaluation', () => w.isLeader());
      const seen: EnforcementChange[] = [];
      const stop = srv.enforcement.watch((c) => seen.push(c));
      try {
        const r = await w.evaluate();
        if (!r) throw new Error('harness: the worker lost the leadership during the evaluation');
        await poll(`this gateway to receive the ${r.acted} action(s) the evaluation took`, () => seen.length >= r.acted, 5000);
      } finally {
        stop();
      }
    },
    async detectedEvents() {
      if (!worker) return srv.detection?.stats().events ?? 0;
      const metric = await worker.worker.registry.getSingleMetric('warden_worker_events_total')!.get();
      return metric.values.filter((v) => v.labels['result'] === 'counted').reduce((a, v) => a + v.value, 0);
    },
    async customer(o = {}) {
      n++;
      const org = await admin.call<{ org_id: string }>('POST', '/orgs', { name: `Customer ${n} Ltd`, declared_country: 'DE', verification: 'business', ...o.org });
      const acc = await admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id });
      const key = await admin.call<{ key: string; key_id: string }>('POST', '/keys', { account_id: acc.account_id, ...o.key });
      return { key: key.key, keyId: key.key_id, accountId: acc.account_id, orgId: org.org_id };
    },
    async close() {
      await worker?.close();
      await srv.close();
      await upstream.close();
      if (own) await dropCluster(own);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls the admin API until `n` events of the account are stored. */
export async function waitForEvents<T = Record<string, unknown>>(h: Harness, query: string, n: number, timeoutMs = 10_000): Promise<T[]> {
  const until = Date.now() + timeoutMs;
  let events: T[] = [];
  while (Date.now() < until) {
    events = (await h.admin.call<{ events: T[] }>('GET', `/events?${query}&limit=10000`)).events;
    if (events.length >= n) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
  return events;
}

/** Polls the admin API until the events of `query` satisfy `done` (a count is not enough when earlier tests left events). */
export async function waitForEventsWhere<T = Record<string, unknown>>(h: Harness, query: string, done: (events: T[]) => boolean, timeoutMs = 10_000): Promise<T[]> {
  const until = Date.now() + timeoutMs;
  let events: T[] = [];
  while (Date.now() < until) {
    events = (await h.admin.call<{ events: T[] }>('GET', `/events?${query}&limit=10000`)).events;
    if (done(events)) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
  return events;
}

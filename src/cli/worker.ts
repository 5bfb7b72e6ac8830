/**
 * `warden worker`: a detection worker of the cluster profile (docs/scale-out.md "Detection
 * workers"). Opens PostgreSQL (the state store, the workers' state, the case store), the usage
 * stream on JetStream and the intelligence, runs `startDetectionWorker`, and serves its
 * Prometheus metrics; drains (commits what it holds, gives its partitions up) on SIGTERM. The
 * policy is the store's active version (the gateways save theirs there), followed as it changes,
 * so the leader's automatic enforcement uses the rules the gateways enforce; its actions reach
 * the gateways through the shared enforcement state (PostgreSQL + Redis push).
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuditLog, loadOrCreateAuditKey } from '../cases/index.js';
import type { OpenedIpIntel, OpenedScreener } from '../intel/index.js';
import { createPolicyManager, NO_ENFORCEMENT } from '../policy/index.js';
import { openClusterEnforcementState, openPostgresCaseStore, openPostgresDetectionState, openPostgresStore } from '../store/index.js';
import type { WardenConfig } from './config.js';
import { startDetectionWorker, type DetectionWorker } from './detection-worker.js';
import { createLogger, type WardenLogger } from './log.js';
import { auditChainId, auditKeyDir, openIntelligence, openUsageBus } from './serve.js';

export interface RunningWorker {
  worker: DetectionWorker;
  /** http://host:port of the metrics endpoint (`/metrics`, `/status`). */
  metricsUrl: string;
  close(): Promise<void>;
}

export interface WorkerRunOptions {
  log?: WardenLogger;
  intel?: OpenedIpIntel;
  screener?: OpenedScreener;
}

function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`worker.metrics_listen: expected host:port, got "${listen}".`);
  return { host: listen.slice(0, i), port };
}

export async function runWorker(config: WardenConfig, opts: WorkerRunOptions = {}): Promise<RunningWorker> {
  const log = opts.log ?? createLogger(config.log.level);
  const c = config.cluster;
  const w = config.worker;
  const listen = splitListen(w.metrics_listen);
  mkdirSync(config.data_dir, { recursive: true });
  const opened: { close(): Promise<void> | void }[] = [];
  const closeAll = async () => {
    for (const x of opened.reverse()) await Promise.resolve(x.close()).catch(() => undefined);
  };
  try {
    const store = await openPostgresStore({ connectionString: c.postgres_url, schema: c.schema });
    opened.push(store);
    // A commit left idle (this worker stopped mid-transaction) ends well within a lease's life.
    const state = await openPostgresDetectionState({ pool: store.pool, schema: c.schema, idleInTransactionTimeoutMs: Math.max(1000, Math.floor(w.lease_ttl_ms / 2)) });
    opened.push(state);
    const bus = await openUsageBus(config, { ackWaitMs: w.ack_wait_ms, name: `warden-worker-${w.id ?? process.pid}` });
    opened.push(bus);
    const { watchlist, intel, screener } = openIntelligence(config, opts);
    // Cases and the audit log in PostgreSQL, where the gateways' admin API and the console read
    // them (the store's migrations created the tables above).
    const cases = await openPostgresCaseStore({ pool: store.pool, schema: store.schema, migrate: false });
    opened.push(cases);
    const workerId = w.id ?? undefined;
    // One audit chain per writer: workers may share a data_dir, so the worker's id is part of it.
    const chain = config.audit.chain ?? `${auditChainId(config, 'worker')}-${workerId ?? process.pid}`.slice(0, 128);
    const audit = createAuditLog({ store: cases, key: loadOrCreateAuditKey(auditKeyDir(config)), chain });
    opened.push(audit);
    // Automatic enforcement: the store's active policy (none yet when no gateway has started: the
    // rules are empty until one is there), and the enforcement state the gateways read.
    const enforcement = await openClusterEnforcementState({ pg: store.pool, schema: store.schema, redisUrl: c.redis_url });
    opened.push(enforcement);
    const policy = createPolicyManager({ store, followStoreEveryMs: config.policy.follow_every_ms }, { logger: log });
    opened.push(policy);
    let policyReady = false;
    let policyWarned = false;
    const startPolicy = () =>
      policy.start().then(
        () => void (policyReady = true),
        (e: unknown) => {
          if (!policyWarned) log.warn({ err: String(e) }, 'no active policy in the store yet: automatic enforcement waits for a gateway to save one');
          policyWarned = true;
        },
      );
    await startPolicy();
    const rules = () => {
      if (policyReady) return policy.current().enforcement;
      void startPolicy();
      return NO_ENFORCEMENT;
    };
    const worker = await startDetectionWorker({
      ...(workerId ? { id: workerId } : {}),
      bus,
      state,
      store,
      cases,
      audit,
      enforcement: { rules, state: enforcement },
      intel,
      screener,
      ...(watchlist ? { watchlist } : {}),
      log,
      partitions: w.partitions,
      group: w.group,
      batchSize: w.batch_size,
      lingerMs: w.linger_ms,
      leaseTtlMs: w.lease_ttl_ms,
      evaluateEveryMs: w.evaluate_every_ms,
      lead: w.lead,
      countedRetentionMs: w.counted_retention_hours * 3_600_000,
    });
    opened.push(worker);

    const server = http.createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/metrics') {
        worker.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': worker.registry.contentType }).end(text),
          (e: unknown) => res.writeHead(500).end(String(e)),
        );
      } else if (url === '/status') {
        worker.status().then(
          (s) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...s, owned: worker.owned() })),
          (e: unknown) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e) })),
        );
      } else res.writeHead(404).end('not found: try /metrics or /status\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const metricsUrl = `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${addr.port}`;
    log.info({ id: worker.id, metrics: `${metricsUrl}/metrics`, partitions: c.partitions, group: w.group }, 'warden worker started');
    let closing: Promise<void> | undefined;
    return {
      worker,
      metricsUrl,
      close() {
        closing ??= (async () => {
          await new Promise<void>((r) => server.close(() => r()));
          await closeAll();
          log.flush?.();
        })();
        return closing;
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/**
 * `warden serve`: the composition root of a gateway process. Picks the adapters for the
 * profile, wires the path of usage events (embedded: straight into the local store; cluster: local
 * outbox → JetStream → PostgreSQL), the policy manager, the intel
 * part and the admin API, and drains cleanly on SIGTERM.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { extractFeatures } from '../core/index.js';
import type { Counters, EnforcementState, EventBus, StateStore, UsageEvent } from '../core/index.js';
import type { OpenedIpIntel, OpenedScreener } from '../intel/index.js';
import {
  createGatewayMetrics,
  registerAdminRoutes,
  startGateway,
  type Gateway,
  type GatewayInternals,
  type ParsedRequest,
} from '../gateway/index.js';
import { createScreener, loadWatchlist, openIpIntel } from '../intel/index.js';
import { createPolicyManager } from '../policy/index.js';
import { createAuditLog, createWebhookDispatcher, loadOrCreateAuditKey, registerCaseRoutes, type WebhookEndpointConfig } from '../cases/index.js';
import {
  openClusterEnforcementState,
  openNatsBus,
  openPostgresStore,
  openRedisCounters,
  openSqliteCaseStore,
  openOutbox,
  openSqliteCounters,
  openSqliteEnforcementState,
  openSqliteStore,
  type SqliteCaseStore,
} from '../store/index.js';
import { adminTokenFile } from './admin-client.js';
import type { WardenConfig } from './config.js';
import { createLogger, type WardenLogger } from './log.js';
import { startOnlineDetection, type OnlineDetection } from './online-detection.js';
import { registerAppealRoute } from './appeals.js';

export interface Server {
  gateway: Gateway;
  /** Online detection (embedded profile, unless turned off). */
  detection: OnlineDetection | undefined;
  intel: OpenedIpIntel;
  adminToken: string;
  log: WardenLogger;
  /** The state store and the case store this server uses (tests seed risk records through it). */
  store: StateStore;
  cases: SqliteCaseStore;
  /** Drains requests, flushes the outbox and closes every store. */
  close(): Promise<void>;
}

export interface ServeOptions {
  log?: WardenLogger;
  /** Already-opened intelligence (tests share one: loading the databases takes seconds). */
  intel?: OpenedIpIntel;
  screener?: OpenedScreener;
  /** Print the start-up banner (the CLI does; the demo and tests may not). */
  quiet?: boolean;
  /** Where alert and case events are delivered (signed webhooks, docs/cases.md). */
  webhooks?: WebhookEndpointConfig[];
}

interface Ports {
  store: StateStore;
  counters: Counters;
  enforcement: EnforcementState;
  /** Holds the audit log. In the cluster profile it is per process (one chain per writer). */
  cases: SqliteCaseStore;
  /**
   * How usage events leave the request path. Embedded: recorded durably in the local store (no
   * outbox needed). Cluster: through this process's local outbox to the bus.
   */
  events: { record: (e: UsageEvent) => Promise<void> } | { bus: EventBus<UsageEvent> };
  close(): Promise<void>;
}

function openEmbeddedPorts(config: WardenConfig): Ports {
  const store = openSqliteStore({ path: path.join(config.data_dir, 'warden.db') });
  const counters = openSqliteCounters({ db: store.db });
  const enforcement = openSqliteEnforcementState({ store });
  const cases = openSqliteCaseStore({ db: store.db });
  return { store, counters, enforcement, cases, events: { record: (e) => store.recordEvent(e) }, close: () => closeInReverse([store, enforcement, counters]) };
}

/** Closes what was opened, last opened first, even when one of them fails. */
async function closeInReverse(opened: { close(): Promise<void> | void }[]): Promise<void> {
  for (const o of [...opened].reverse()) await Promise.resolve(o.close()).catch(() => undefined);
}

/** PostgreSQL (source of truth), Redis (counters, enforcement push), NATS JetStream (usage events). */
async function openClusterPorts(config: WardenConfig): Promise<Ports> {
  const c = config.cluster;
  const store = await openPostgresStore({ connectionString: c.postgres_url, schema: c.schema });
  const opened: { close(): Promise<void> | void }[] = [store];
  try {
    const counters = await openRedisCounters({ url: c.redis_url, prefix: `${c.redis_prefix}:ctr` });
    opened.push(counters);
    const enforcement = await openClusterEnforcementState({ pg: store.pool, schema: store.schema, redisUrl: c.redis_url });
    opened.push(enforcement);
    const bus = await openNatsBus<UsageEvent>({
      servers: c.nats_servers,
      stream: c.stream,
      subjectPrefix: c.subject_prefix,
      partitions: c.partitions,
      partitionKey: (e) => e.account_id ?? '',
      maxAgeMs: c.stream_max_age_hours * 3_600_000,
    });
    opened.push(bus);
    const cases = openSqliteCaseStore({ path: path.join(config.data_dir, 'audit.db') });
    opened.push(cases);
    return { store, counters, enforcement, cases, events: { bus }, close: () => closeInReverse(opened) };
  } catch (e) {
    await closeInReverse(opened);
    throw e;
  }
}

/** The audit signing key lives outside the database file (configurable: audit.key_dir). */
export function auditKeyDir(config: WardenConfig): string {
  return config.audit.key_dir ?? path.join(config.data_dir, 'audit-key');
}

export function ensureAdminToken(config: WardenConfig): string {
  if (config.admin.token) return config.admin.token;
  const f = adminTokenFile(config);
  if (existsSync(f)) return readFileSync(f, 'utf8').trim();
  const token = `wadm_${randomBytes(24).toString('base64url')}`;
  writeFileSync(f, `${token}\n`, { mode: 0o600 });
  chmodSync(f, 0o600);
  return token;
}

export async function serve(config: WardenConfig, opts: ServeOptions = {}): Promise<Server> {
  const log = opts.log ?? createLogger(config.log.level);
  mkdirSync(config.data_dir, { recursive: true });
  const adminToken = ensureAdminToken(config);

  const ports = config.profile === 'cluster' ? await openClusterPorts(config) : openEmbeddedPorts(config);
  const { store, counters, enforcement } = ports;
  // Cluster: each gateway process keeps its own local outbox, so it answers while the bus is
  // down. Embedded: the store is local and durable already, so events are recorded into it
  // directly (group-committed), with the same guarantee and no relay to pay for.
  const bus = 'bus' in ports.events ? ports.events.bus : undefined;
  const outbox = bus ? openOutbox({ path: path.join(config.data_dir, 'outbox.db') }) : undefined;
  const cases = ports.cases;
  const auditKey = loadOrCreateAuditKey(auditKeyDir(config));
  const audit = createAuditLog({ store: cases, key: auditKey, chain: config.audit.chain });
  const auditDropped = { n: 0 };
  const auditAsync = (e: Parameters<typeof audit.append>[0]) => {
    audit.append(e).catch((err: unknown) => {
      auditDropped.n++;
      log.error({ err: String(err), type: e.type }, 'audit record could not be written');
    });
  };

  const watchlist = config.watchlist ? loadWatchlist(config.watchlist) : undefined;
  const intelDir = config.intel.data_dir ?? path.join(config.data_dir, 'intel');
  const intel =
    opts.intel ??
    openIpIntel({
      customNetworks: config.intel.custom_networks,
      maxSourceAgeDays: config.intel.max_source_age_days,
      dataDir: intelDir,
      ...(watchlist ? { watchlist } : {}),
    });
  for (const s of intel.sources()) log.info({ source: s.name, date: s.date, entries: s.entries }, 'intel source loaded');
  for (const w of intel.warnings()) log.warn({}, w);
  const screener = opts.screener ?? createScreener({ ...(watchlist ? { watchlist } : {}), dataDir: intelDir });

  const policy = createPolicyManager(
    { file: config.policy.file, store },
    {
      logger: log,
      onEvent: (e) => {
        if (e.type === 'activated') auditAsync({ type: 'policy.activate', actor: 'system', data: { version: e.version, source: e.source, reason: e.reason }, at: new Date().toISOString() });
        else if (e.type === 'rejected') auditAsync({ type: 'policy.reject', actor: 'system', data: { source: e.source, problems: e.issues.length, kept_version: e.kept_version }, at: new Date().toISOString() });
      },
    },
  );
  await policy.start();

  const endpoints = opts.webhooks ?? config.webhooks.endpoints;
  const webhooks = endpoints.length
    ? createWebhookDispatcher({ endpoints, log, maxQueue: config.webhooks.max_queue, maxAttempts: config.webhooks.max_attempts, timeoutMs: config.webhooks.timeout_ms })
    : undefined;
  const metrics = createGatewayMetrics();
  const retainRawText = config.retention.raw_text_days > 0;

  // Cluster: the outbox relay publishes to JetStream, and every gateway runs a member of the
  // `store` consumer group that writes the stream into PostgreSQL.
  outbox?.startRelay(async (events) => void (await Promise.all(events.map((e) => bus!.publish(e, e.event_id)))), {
    lingerMs: 25,
    // A bus back after an outage is caught up within a few seconds, not half a minute.
    maxBackoffMs: 5000,
    onError: (err, n) => {
      if (n === 1 || n % 20 === 0) log.warn({ err: String(err), consecutive_failures: n }, 'usage events wait in the outbox: the bus is not accepting them');
    },
  });
  const writer = bus
    ? bus.consume(
        'store',
        async (d) => {
          await store.appendEvents([d.data]);
          await d.ack();
        },
        { batch: 256 },
      )
    : undefined;
  let gatewayInternals: GatewayInternals | undefined;
  // Online detection (embedded: in this process; the cluster profile's workers come later).
  const online =
    config.detection.online && 'record' in ports.events
      ? await startOnlineDetection({
          store,
          intel,
          screener,
          ...(watchlist ? { watchlist } : {}),
          log,
          everyMs: config.detection.evaluate_every_ms,
          checkpointEveryMs: config.detection.checkpoint_every_ms,
          cases,
          audit,
          // The new risk (and cluster) applies to the account's very next request here.
          riskChanged: (ids) => {
            for (const id of ids) gatewayInternals?.invalidateRisk(id);
          },
        })
      : undefined;
  const local = 'record' in ports.events ? ports.events.record : undefined;
  const record = local
    ? async (e: UsageEvent) => {
        await local(e);
        online?.observe(e);
      }
    : (e: UsageEvent) => outbox!.append(e);
  const gauges = setInterval(() => {
    metrics.outboxBacklog.set(outbox?.backlog() ?? 0);
    writer?.pending().then((n) => metrics.busPending.set(n), () => undefined);
    metrics.policyVersion.set(policy.current().version);
  }, 1000);
  gauges.unref();

  // Retention: events and raw text older than the configured periods go.
  const retention = async () => {
    const now = Date.now();
    const events = await store.deleteEventsBefore(new Date(now - config.retention.events_days * 86_400_000).toISOString());
    const scrubbed = await store.scrubRawTextBefore(new Date(now - config.retention.raw_text_days * 86_400_000).toISOString());
    if (events || scrubbed) log.info({ events_deleted: events, raw_text_scrubbed: scrubbed }, 'retention applied');
  };
  await retention();
  const retentionTimer = setInterval(() => void retention().catch((e: unknown) => log.error({ err: String(e) }, 'retention failed')), 3_600_000);
  retentionTimer.unref();

  const gateway = await startGateway({
    config: config.gateway,
    store,
    counters,
    enforcement,
    intel,
    policy: () => policy.current(),
    record,
    features: (p: ParsedRequest) =>
      extractFeatures({
        ...(p.systemText !== undefined ? { system: p.systemText } : {}),
        ...(p.lastUserText !== undefined ? { lastUser: p.lastUserText } : {}),
        turns: p.turns,
        tools: p.tools,
        model: p.model,
      }) as unknown as Record<string, unknown> & { v: number },
    metrics,
    log,
    retainRawText,
    audit: auditAsync,
    routes: (app, gw) => {
      gatewayInternals = gw;
      registerAppealRoute(app, { store, cases, audit, now: Date.now, ...(webhooks ? { emit: (e) => webhooks.emit(e) } : {}) });
      registerCaseRoutes(app, { cases, store, enforcement, token: adminToken, now: Date.now, log, audit, ...(webhooks ? { emit: (e) => webhooks.emit(e) } : {}) });
      registerAdminRoutes(
        app,
        {
          store,
          enforcement,
          screener,
          token: adminToken,
          now: Date.now,
          log,
          audit: (e) => audit.append(e),
          ...(online ? { onAccount: (a, org) => online.account(a, org) } : {}),
          policy: {
            active: () => policy.current(),
            versions: () => policy.versions(),
            text: async (v) => (await store.getPolicyVersion(v))?.text ?? null,
            rollback: async (v) => void (await policy.rollback(v)),
          },
        },
        gw,
      );
    },
  });
  log.info({ url: gateway.url, profile: config.profile, policy_version: policy.current().version, data_dir: path.resolve(config.data_dir) }, 'warden gateway listening');

  let closing: Promise<void> | undefined;
  return {
    gateway,
    detection: online,
    intel,
    adminToken,
    log,
    store,
    cases,
    close() {
      closing ??= (async () => {
        await gateway.close();
        clearInterval(gauges);
        clearInterval(retentionTimer);
        await policy.close();
        await online?.close();
        await outbox?.close();
        await audit.close();
        await webhooks?.close();
        await writer?.close();
        await ports.close();
        log.flush?.();
      })();
      return closing;
    },
  };
}

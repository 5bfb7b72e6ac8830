/**
 * `warden serve`: the composition root of a gateway process. Picks the adapters for the
 * profile, wires the path of usage events (embedded: straight into the local store; cluster: local
 * outbox → JetStream → PostgreSQL), the policy manager, the intel
 * part and the admin API, and drains cleanly on SIGTERM.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { Gauge } from 'prom-client';
import { extractFeatures } from '../core/index.js';
import type { AuditStore, CaseStore, Counters, EnforcementState, EventBus, StateStore, UsageEvent } from '../core/index.js';
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
import { registerAutoEnforcementRoutes, registerVerificationAdminRoute, registerVerificationWebhook } from '../cases/index.js';
import {
  openClusterEnforcementState,
  openNatsBus,
  openPostgresStore,
  openRedisCounters,
  openSqliteCaseStore,
  openPostgresCaseStore,
  openOutbox,
  openSqliteCounters,
  openSqliteEnforcementState,
  openSqliteStore,
  type NatsBus,
} from '../store/index.js';
import { adminTokenFile } from './admin-client.js';
import type { WardenConfig } from './config.js';
import { createLogger, type WardenLogger } from './log.js';
import { startOnlineDetection, type OnlineDetection } from './online-detection.js';
import { startImportedIndicatorPolicy } from './imported-policy.js';
import { registerAppealRoute } from './appeals.js';
import { createBatchWriter } from './batch-writer.js';
import { setupConsole, type ConsoleSetup } from './console-setup.js';

export interface Server {
  gateway: Gateway;
  /** Online detection (embedded profile, unless turned off). */
  detection: OnlineDetection | undefined;
  intel: OpenedIpIntel;
  adminToken: string;
  log: WardenLogger;
  /** The state store and the case store this server uses (tests seed risk records through it). */
  store: StateStore;
  cases: CaseStore & AuditStore;
  /** The enforcement state the gateway enforces (its changes, applied anywhere, can be watched). */
  enforcement: EnforcementState;
  /** Usage events in the local outbox not yet on the bus (cluster profile; 0 on the embedded one). */
  outboxBacklog(): number;
  /** The analyst console: its users and sessions, and the admin API's authenticator. */
  console: ConsoleSetup;
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
  /** Cases, alerts and the audit log: the local SQLite file, or PostgreSQL in the cluster profile (one chain per writer process). */
  cases: CaseStore & AuditStore;
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
    const bus = await openUsageBus(config);
    opened.push(bus);
    // Cases and the audit log live in PostgreSQL beside the state (its migrations ran above), so
    // every gateway, worker and console sees one set of cases; each process writes its own chain.
    const cases = await openPostgresCaseStore({ pool: store.pool, schema: store.schema, migrate: false });
    opened.push(cases);
    return { store, counters, enforcement, cases, events: { bus }, close: () => closeInReverse(opened) };
  } catch (e) {
    await closeInReverse(opened);
    throw e;
  }
}

/** The audit signing key lives outside the database file (configurable: audit.key_dir). */
/**
 * The usage stream on JetStream as the cluster's gateways and workers all see it: one stream, its
 * subjects partitioned by account (a worker's partition must be the one the gateway published
 * to), its retention; `extra` for what differs by process (its name, a worker's ack wait).
 */
export function openUsageBus(config: WardenConfig, extra: { ackWaitMs?: number; name?: string } = {}): Promise<NatsBus<UsageEvent>> {
  const c = config.cluster;
  return openNatsBus<UsageEvent>({
    servers: c.nats_servers,
    stream: c.stream,
    subjectPrefix: c.subject_prefix,
    partitions: c.partitions,
    partitionKey: (e) => e.account_id ?? '',
    maxAgeMs: c.stream_max_age_hours * 3_600_000,
    ...extra,
  });
}

/** The IP intelligence and the screener a gateway or worker loads from its config (the databases take seconds: tests pass theirs in). */
export function openIntelligence(config: WardenConfig, given: { intel?: OpenedIpIntel; screener?: OpenedScreener } = {}) {
  const watchlist = config.watchlist ? loadWatchlist(config.watchlist) : undefined;
  const intelDir = config.intel.data_dir ?? path.join(config.data_dir, 'intel');
  const intel =
    given.intel ??
    openIpIntel({ customNetworks: config.intel.custom_networks, maxSourceAgeDays: config.intel.max_source_age_days, dataDir: intelDir, ...(watchlist ? { watchlist } : {}) });
  const screener = given.screener ?? createScreener({ ...(watchlist ? { watchlist } : {}), dataDir: intelDir });
  return { watchlist, intel, screener };
}

export function auditKeyDir(config: WardenConfig): string {
  return config.audit.key_dir ?? path.join(config.data_dir, 'audit-key');
}

/**
 * This process's audit chain id: `audit.chain` when set; otherwise `gateway` in the embedded
 * profile (one writer per file), and in the cluster profile `<role>-<hostname>-<8 hex of the
 * data_dir path>`: stable across restarts of the same process (which continues its chain) and
 * distinct for every process sharing the database (each has its own data_dir: its outbox is
 * locked to one process).
 */
export function auditChainId(config: WardenConfig, role = 'gw'): string {
  if (config.audit.chain) return config.audit.chain;
  if (config.profile !== 'cluster') return 'gateway';
  const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 63) || 'host';
  const dir = createHash('sha256').update(path.resolve(config.data_dir)).digest('hex').slice(0, 8);
  return `${role}-${host}-${dir}`;
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
  const audit = createAuditLog({ store: cases, key: auditKey, chain: auditChainId(config) });
  const auditDropped = { n: 0 };
  const auditAsync = (e: Parameters<typeof audit.append>[0]) => {
    audit.append(e).catch((err: unknown) => {
      auditDropped.n++;
      log.error({ err: String(err), type: e.type }, 'audit record could not be written');
    });
  };

  const { watchlist, intel, screener } = openIntelligence(config, opts);
  for (const s of intel.sources()) log.info({ source: s.name, date: s.date, entries: s.entries }, 'intel source loaded');
  for (const w of intel.warnings()) log.warn({}, w);

  const policy = createPolicyManager(
    // Cluster: a version applied or rolled back at another gateway is in force here within a second.
    { file: config.policy.file, store, ...(config.profile === 'cluster' ? { followStoreEveryMs: config.policy.follow_every_ms } : {}) },
    {
      logger: log,
      onEvent: (e) => {
        // A followed version was audited by the process that applied it.
        if (e.type === 'activated' && e.reason !== 'follow') auditAsync({ type: 'policy.activate', actor: 'system', data: { version: e.version, source: e.source, reason: e.reason }, at: new Date().toISOString() });
        else if (e.type === 'rejected') auditAsync({ type: 'policy.reject', actor: 'system', data: { source: e.source, problems: e.issues.length, kept_version: e.kept_version }, at: new Date().toISOString() });
      },
    },
  );
  await policy.start();
  // Indicators imported from other providers reach the policy's `indicator_match` per request.
  const importedPolicy = startImportedIndicatorPolicy({ store, current: () => policy.current(), log });

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
  // Deliveries arrive one at a time; they are written to PostgreSQL many rows per statement.
  const eventRows = bus ? createBatchWriter<UsageEvent>((events) => store.appendEvents(events), { maxItems: 256, lingerMs: 10 }) : undefined;
  const writer = bus
    ? bus.consume(
        'store',
        async (d) => {
          await eventRows!.add(d.data);
          await d.ack();
        },
        { batch: 256 },
      )
    : undefined;
  let gatewayInternals: GatewayInternals | undefined;
  /** When online detection last wrote risk scores (the console's health shows it). */
  let riskWrittenAt: string | undefined;
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
            riskWrittenAt = new Date().toISOString();
            for (const id of ids) gatewayInternals?.invalidateRisk(id);
          },
          // The policy's enforcement: rules act on clusters (or, in dry_run, say what they would do).
          enforcement: { rules: () => policy.current().enforcement, state: enforcement },
        })
      : undefined;
  const local = 'record' in ports.events ? ports.events.record : undefined;
  const record = local
    ? async (e: UsageEvent) => {
        await local(e);
        online?.observe(e);
      }
    : (e: UsageEvent) => outbox!.append(e);
  // Cluster: what the detection workers have not committed yet, readable here even when every
  // worker is stopped (docs/scale-out.md "Detection workers").
  const detectionPending = bus
    ? new Gauge({ name: 'warden_detection_pending', help: 'Usage events the detection workers have not committed yet (their consumer group on the stream)', registers: [metrics.registry] })
    : undefined;
  let workersPending: number | undefined;
  const gauges = setInterval(() => {
    metrics.outboxBacklog.set(outbox?.backlog() ?? 0);
    writer?.pending().then((n) => metrics.busPending.set(n), () => undefined);
    if (bus && 'groupPending' in bus) (bus as { groupPending(g: string): Promise<number | null> }).groupPending(config.worker.group).then((n) => detectionPending?.set((workersPending = n ?? 0)), () => undefined);
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

  const startedAt = Date.now();
  const consoleSetup = await setupConsole({
    config,
    store,
    cases,
    counters,
    adminToken,
    audit: (e) => audit.append(e),
    policy,
    intel,
    log,
    draining: () => gatewayInternals !== undefined && !gatewayInternals.ready(),
    health: () => ({
      profile: config.profile,
      policy_version: policy.current().version,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      outbox_backlog: outbox?.backlog() ?? 0,
      // Cluster: detection runs in `warden worker`; the health says how far behind the workers are.
      detection: { online: online !== undefined, ...(riskWrittenAt ? { last_evaluated_at: riskWrittenAt } : {}), ...(bus ? { workers_pending: workersPending ?? null } : {}) },
    }),
  });

  const gateway = await startGateway({
    config: config.gateway,
    store,
    counters,
    enforcement,
    intel,
    policy: () => importedPolicy.policy(),
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
      consoleSetup.register(app);
      registerCaseRoutes(app, { cases, store, enforcement, authenticate: consoleSetup.authenticate, now: Date.now, log, audit, ...(webhooks ? { emit: (e) => webhooks.emit(e) } : {}) });
      // Automatic enforcement's report, and verification that lifts step_up (docs/cases.md).
      registerAutoEnforcementRoutes(app, { cases, store, now: Date.now, rules: () => policy.current().enforcement, authenticate: consoleSetup.authenticate });
      registerVerificationAdminRoute(app, { store, cases, enforcement, audit, now: Date.now, log, authenticate: consoleSetup.authenticate });
      if (config.verification.webhook_secret) {
        registerVerificationWebhook(app, { store, cases, enforcement, audit, now: Date.now, log, secret: config.verification.webhook_secret, toleranceSeconds: config.verification.webhook_tolerance_seconds });
      }
      registerAdminRoutes(
        app,
        {
          store,
          enforcement,
          screener,
          authenticate: consoleSetup.authenticate,
          now: Date.now,
          log,
          audit: (e) => audit.append(e),
          ...(online ? { onAccount: (a, org) => online.account(a, org) } : {}),
          policy: {
            active: () => policy.current(),
            versions: () => policy.versions(),
            text: async (v) => (await store.getPolicyVersion(v))?.text ?? null,
            rollback: async (v) => void (await policy.rollback(v)),
            apply: async (text, source) => ({ version: (await policy.apply(text, source)).version }),
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
    enforcement,
    outboxBacklog: () => outbox?.backlog() ?? 0,
    console: consoleSetup,
    close() {
      closing ??= (async () => {
        await gateway.close();
        clearInterval(gauges);
        clearInterval(retentionTimer);
        importedPolicy.close();
        await policy.close();
        await online?.close();
        await outbox?.close();
        await audit.close();
        await webhooks?.close();
        await writer?.close();
        await consoleSetup.close();
        await ports.close();
        log.flush?.();
      })();
      return closing;
    },
  };
}

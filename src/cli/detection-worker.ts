/**
 * The runtime of `warden worker` (docs/scale-out.md "Detection workers"): consumes the usage
 * stream's partitions it holds a lease on, keeps each partition's per-account streaming
 * features in memory, and commits them per batch together with the counted event ids and the
 * partition's stream position in one transaction (`DetectionStateStore.commit`); the deliveries
 * are acked after the commit. One worker at a time (the `leader` lease) loads every partition's
 * account states, runs the engine's evaluation (risks, clusters, attribution), writes the risks
 * for the gateways and turns clusters into alerts, cases and the policy's automatic actions
 * (detection-outcome.ts, shared with the embedded profile), with the imported STIX indicators.
 *
 * Exactly once in effect: a partition's consumer is recreated at acquisition to deliver from the
 * committed position + 1, batches are processed one at a time in stream order, a delivery at or
 * below the committed position is acked without effect, an event id already counted changes
 * nothing (an outbox republish after the dedup window), and a commit made under a lost lease is
 * refused by its epoch. Any failure to commit drops the partition's in-memory state and restarts
 * it from what PostgreSQL holds.
 */
import os from 'node:os';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Account, AuditLog, CaseStore, DetectionLease, DetectionStateStore, IpIntel, Org, Screener, StateStore, UsageEvent, Watchlist } from '../core/index.js';
import { ConfigError, isWardenError } from '../core/index.js';
import { DetectionEngine, clusterIndicators, decodeAccountFeatures, encodeAccountFeatures } from '../detection/index.js';
import type { NatsBus, NatsDelivery } from '../store/index.js';
import { createDetectionOutcome, createImportedIndicatorLoader, type AutoEnforcementSetup, type DetectionOutcome } from './detection-outcome.js';
import type { WardenLogger } from './log.js';
import { interchangeAccount } from './online-detection.js';

export interface DetectionWorkerOptions {
  /** This worker's name in leases (unique among live workers). */
  id?: string;
  bus: NatsBus<UsageEvent>;
  state: DetectionStateStore;
  store: StateStore;
  cases?: CaseStore;
  audit?: Pick<AuditLog, 'append'>;
  /**
   * Automatic enforcement: the active policy's `enforcement:` rules (the leader matches each
   * cluster against them, as `warden serve` does on the embedded profile) and where actions go.
   */
  enforcement?: AutoEnforcementSetup;
  intel?: IpIntel;
  screener?: Screener;
  watchlist?: Watchlist;
  log: WardenLogger;
  /** `auto`: split every partition with the other live workers; or exactly these. */
  partitions: 'auto' | number[];
  /** Consumer group on the usage stream. */
  group: string;
  /** Most events per committed batch. */
  batchSize: number;
  /** How long a partial batch waits for more events before it is committed. */
  lingerMs: number;
  /** A lease not renewed for this long is free for another worker. */
  leaseTtlMs: number;
  /** How often the leader evaluates (risks, clusters, cases). */
  evaluateEveryMs: number;
  /** Takes part in the leader election. */
  lead: boolean;
  /** Counted event ids are kept this long (event time) to drop republished events. */
  countedRetentionMs: number;
  now?: () => number;
}

export interface DetectionWorker {
  readonly id: string;
  readonly registry: Registry;
  /** Partitions this worker holds now. */
  owned(): number[];
  isLeader(): boolean;
  /** Runs the leader's evaluation now (when leader); resolves with what it wrote. */
  evaluate(): Promise<{ risks: number; clusters: number; cases: string[]; acted: number } | null>;
  /** Waits until every owned partition has committed everything published so far. */
  status(): Promise<{ id: string; leader: boolean; partitions: { partition: number; committed: number; last: number; owned: boolean }[] }>;
  close(): Promise<void>;
}

interface PartitionRun {
  partition: number;
  lease: DetectionLease;
  engine: DetectionEngine;
  keysOf: Map<string, Set<string>>;
  committed: number;
  buffer: NatsDelivery<UsageEvent>[];
  timer: NodeJS.Timeout | undefined;
  chain: Promise<void>;
  consumer: { close(): Promise<void>; pending(): Promise<number> } | undefined;
  stopped: boolean;
}

export async function startDetectionWorker(o: DetectionWorkerOptions): Promise<DetectionWorker> {
  const id = o.id ?? `${os.hostname()}-${process.pid}`;
  const now = o.now ?? Date.now;
  const { bus, state, store, log } = o;
  const P = bus.partitions;
  if (o.partitions !== 'auto') {
    for (const p of o.partitions) {
      if (!Number.isInteger(p) || p < 0 || p >= P) {
        throw new ConfigError('CONFIG_INVALID', `worker.partitions: ${p} is not a partition of the stream (0…${P - 1}); cluster.partitions is ${P}.`);
      }
    }
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'warden_process_' });
  const m = {
    events: new Counter({ name: 'warden_worker_events_total', help: 'Usage events handled, by result (counted, duplicate id, at or below the committed position)', labelNames: ['result'], registers: [registry] }),
    batches: new Counter({ name: 'warden_worker_batches_committed_total', help: 'Batches committed (states, counted ids and position in one transaction)', registers: [registry] }),
    failures: new Counter({ name: 'warden_worker_commit_failures_total', help: 'Batches not committed (the partition restarts from PostgreSQL)', labelNames: ['reason'], registers: [registry] }),
    owned: new Gauge({ name: 'warden_worker_partitions_owned', help: 'Partitions this worker holds', registers: [registry] }),
    leader: new Gauge({ name: 'warden_worker_leader', help: '1 when this worker runs the global evaluation', registers: [registry] }),
    committed: new Gauge({ name: 'warden_worker_committed_seq', help: 'Last stream sequence committed, by partition', labelNames: ['partition'], registers: [registry] }),
    last: new Gauge({ name: 'warden_worker_stream_last_seq', help: 'Last stream sequence published, by partition', labelNames: ['partition'], registers: [registry] }),
    lag: new Gauge({ name: 'warden_worker_lag_events', help: 'Events of a partition not yet committed (undelivered + delivered, not acked), for owned partitions', labelNames: ['partition'], registers: [registry] }),
    evalSeconds: new Histogram({ name: 'warden_worker_evaluation_seconds', help: 'Duration of one global evaluation', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    risks: new Counter({ name: 'warden_worker_risks_written_total', help: 'Account risks written by the leader', registers: [registry] }),
  };

  const runs = new Map<number, PartitionRun>();
  const accountCache = new Map<string, Account | null>();
  /** Erased accounts: their late events are not counted (the store drops them too). */
  const erased = new Set<string>();
  const orgCache = new Map<string, Org | null>();
  let closed = false;

  const newEngine = () =>
    new DetectionEngine({
      ...(o.intel ? { intel: o.intel } : {}),
      ...(o.screener ? { screener: o.screener } : {}),
      ...(o.watchlist ? { watchlist: o.watchlist } : {}),
      autoEvaluate: false,
    });

  async function accountOf(accountId: string): Promise<Account | null> {
    if (accountCache.has(accountId)) return accountCache.get(accountId)!;
    const a = await store.getAccount(accountId);
    if (a?.status === 'deleted') {
      erased.add(accountId);
      return null;
    }
    let org: Org | null = null;
    if (a?.org_id) {
      if (!orgCache.has(a.org_id)) orgCache.set(a.org_id, await store.getOrg(a.org_id));
      org = orgCache.get(a.org_id)!;
    }
    const acc = a ? interchangeAccount(a, org) : null;
    // Unknown accounts are looked up again later (the event may precede the row's replication).
    if (acc) accountCache.set(accountId, acc);
    return acc;
  }

  // ---- partitions -----------------------------------------------------------------------

  async function startPartition(p: number, lease: DetectionLease): Promise<void> {
    const engine = newEngine();
    const keysOf = new Map<string, Set<string>>();
    for (const row of await state.partitionStates(p)) {
      const f = decodeAccountFeatures(row.state);
      engine.importAccount(f);
      keysOf.set(row.account_id, new Set(f.keys.map(([k]) => k)));
      // Account records are read when the account's next event arrives (commitBatch), not here:
      // taking a partition over must not wait for one query per account.
    }
    const committed = (await state.positions()).get(p) ?? 0;
    const run: PartitionRun = { partition: p, lease, engine, keysOf, committed, buffer: [], timer: undefined, chain: Promise.resolve(), consumer: undefined, stopped: false };
    runs.set(p, run);
    m.committed.set({ partition: String(p) }, committed);
    // Room for two batches: the next one is fetched while the current one commits.
    run.consumer = bus.consumePartition(o.group, p, async (d) => receive(run, d), { batch: 2 * o.batchSize, startAfterSeq: committed });
    m.owned.set(runs.size);
    log.info({ partition: p, committed, accounts: keysOf.size, epoch: lease.epoch }, 'worker took partition');
  }

  function receive(run: PartitionRun, d: NatsDelivery<UsageEvent>): void {
    if (run.stopped) return; // not settled: the next owner's consumer starts from the committed position
    run.buffer.push(d);
    if (run.buffer.length >= o.batchSize) {
      if (run.timer) clearTimeout(run.timer);
      run.timer = undefined;
      schedule(run);
    } else if (!run.timer) {
      run.timer = setTimeout(() => {
        run.timer = undefined;
        schedule(run);
      }, o.lingerMs);
    }
  }

  function schedule(run: PartitionRun): void {
    const batch = run.buffer;
    run.buffer = [];
    if (batch.length === 0) return;
    run.chain = run.chain.then(() => commitBatch(run, batch));
  }

  async function commitBatch(run: PartitionRun, batch: NatsDelivery<UsageEvent>[]): Promise<void> {
    if (run.stopped) return;
    batch.sort((a, b) => a.seq - b.seq);
    // Deliveries at or below the committed position go through the commit too: their ids were
    // counted with it, so they change nothing. The position alone does not decide, because a
    // delivery can come back out of order (a worker that woke after losing its lease pulled it
    // from its successor's consumer and gave it back).
    const behind = batch.filter((d) => d.seq <= run.committed).length;
    const ahead = batch;
    const seq = Math.max(run.committed, ahead[ahead.length - 1]!.seq);
    const touched = new Set<string>();
    try {
      // Accounts not seen yet: each looked up once per batch, a few at a time (not one query per
      // event in turn; an unknown account is looked up again in a later batch).
      const unseen = [...new Set(ahead.map((d) => d.data.account_id).filter((acc): acc is string => !!acc && !run.engine.accounts.has(acc) && !erased.has(acc)))];
      for (let i = 0; i < unseen.length; i += 4) {
        await Promise.all(
          unseen.slice(i, i + 4).map(async (acc) => {
            const a = await accountOf(acc);
            if (a) run.engine.accounts.set(acc, a);
          }),
        );
      }
      const events = ahead.map((d) => ({ event_id: d.data.event_id ?? d.id, ts_ms: Date.parse(d.data.ts) || 0 }));
      const r = await state.commit(run.lease, {
        partition: run.partition,
        seq,
        events,
        now: now(),
        apply: (fresh) => {
          const todo = new Set(fresh);
          for (const d of ahead) {
            const e = d.data;
            if (!todo.delete(e.event_id ?? d.id)) continue;
            if (e.account_id && erased.has(e.account_id)) continue;
            run.engine.ingest(e);
            if (!e.account_id) continue;
            touched.add(e.account_id);
            if (e.key_id) {
              let ks = run.keysOf.get(e.account_id);
              if (!ks) run.keysOf.set(e.account_id, (ks = new Set()));
              ks.add(e.key_id);
            }
          }
          const at = now();
          const rows = [];
          for (const acc of touched) {
            const f = run.engine.exportAccount(acc, run.keysOf.get(acc) ?? []);
            if (f) rows.push({ account_id: acc, partition: run.partition, events: f.state.n, state: encodeAccountFeatures(f), updated_ms: at });
          }
          return rows;
        },
      });
      run.committed = seq;
      m.batches.inc();
      m.events.inc({ result: 'counted' }, r.fresh);
      m.events.inc({ result: 'behind' }, Math.min(behind, ahead.length - r.fresh));
      m.events.inc({ result: 'duplicate' }, ahead.length - r.fresh - Math.min(behind, ahead.length - r.fresh));
      m.committed.set({ partition: String(run.partition) }, seq);
    } catch (err) {
      const lost = isWardenError(err, 'CONFLICT');
      m.failures.inc({ reason: lost ? 'lease_lost' : 'error' });
      log.warn({ err: String(err), partition: run.partition }, lost ? 'worker lost its lease on a partition' : 'worker could not commit a batch; the partition restarts from PostgreSQL');
      // Given back at once (to the next owner when the lease was lost) instead of after ack_wait.
      for (const d of batch) void d.nak().catch(() => undefined);
      // The in-memory state may hold this batch: drop it, and start over from what was committed.
      void restartPartition(run, lost);
      return;
    }
    // Acked after the commit, each delivery explicitly but with one confirmed round trip for the
    // batch; a lost ack only means a redelivery at or below the position.
    await bus.ackBatch(batch).catch(() => undefined);
  }

  async function stopPartition(run: PartitionRun, release: boolean): Promise<void> {
    if (run.stopped) return;
    run.stopped = true;
    if (run.timer) clearTimeout(run.timer);
    for (const d of run.buffer) void d.nak().catch(() => undefined);
    run.buffer = [];
    runs.delete(run.partition);
    m.owned.set(runs.size);
    m.lag.remove({ partition: String(run.partition) });
    await run.consumer?.close().catch(() => undefined);
    await run.chain.catch(() => undefined);
    if (release) await state.release(run.lease).catch(() => undefined);
    log.info({ partition: run.partition, released: release }, 'worker left partition');
  }

  async function restartPartition(run: PartitionRun, lost: boolean): Promise<void> {
    await stopPartition(run, false);
    if (lost || closed) return;
    await new Promise((r) => setTimeout(r, 500).unref());
    // Taken again at the next balance pass (the lease is still ours until it expires).
    await balance().catch(() => undefined);
  }

  // ---- leases and balance ---------------------------------------------------------------

  let leaderLease: DetectionLease | null = null;
  let leaderEngine: DetectionEngine | null = null;
  /** What the leader's evaluations lead to (alerts, cases, automatic actions) and its imported indicators. */
  let leaderOutcome: DetectionOutcome | null = null;
  let leaderImports: { load(): Promise<void> } | null = null;
  let loadedUntil = 0;
  let lastPrune = 0;
  let balancing: Promise<void> | undefined;

  async function balanceOnce(): Promise<void> {
    if (closed) return;
    const t = now();
    const live = await state.heartbeat(id, t, o.leaseTtlMs);
    for (const run of [...runs.values()]) {
      const renewed = await state.renew(run.lease, t, o.leaseTtlMs);
      if (renewed) run.lease = renewed;
      else {
        log.warn({ partition: run.partition }, 'worker lease expired and was taken; leaving the partition');
        await stopPartition(run, false);
      }
    }
    const wanted = o.partitions === 'auto' ? [...Array(P).keys()] : o.partitions;
    const me = Math.max(0, live.indexOf(id));
    const target = o.partitions === 'auto' ? Math.ceil(P / Math.max(1, live.length)) : wanted.length;
    if (runs.size > target) {
      const extra = [...runs.values()].sort((a, b) => b.partition - a.partition).slice(0, runs.size - target);
      for (const run of extra) await stopPartition(run, true);
    }
    // Start looking at a different partition per worker so two workers rarely race for one.
    const order = wanted.map((_, i) => wanted[(i + me * target) % wanted.length]!);
    for (const p of order) {
      if (runs.size >= target) break;
      if (runs.has(p)) continue;
      const lease = await state.acquire(`p${p}`, id, now(), o.leaseTtlMs);
      if (lease) {
        try {
          await startPartition(p, lease);
        } catch (err) {
          log.warn({ err: String(err), partition: p }, 'worker could not start a partition');
          await state.release(lease).catch(() => undefined);
        }
      }
    }
    if (o.lead) {
      if (leaderLease) leaderLease = await state.renew(leaderLease, now(), o.leaseTtlMs);
      else leaderLease = await state.acquire('leader', id, now(), o.leaseTtlMs);
      if (!leaderLease && leaderEngine) {
        leaderEngine = null;
        log.info({}, 'worker is no longer the evaluation leader');
      } else if (leaderLease && !leaderEngine) {
        const engine = (leaderEngine = newEngine());
        loadedUntil = 0;
        leaderImports = createImportedIndicatorLoader({ store, log, set: (live) => engine.setImported(live) });
        leaderOutcome = o.cases
          ? createDetectionOutcome({
              cases: o.cases,
              store,
              log,
              actor: 'detector:worker',
              indicatorsOf: (members) => clusterIndicators(engine, members, o.intel ? { intel: o.intel } : {}).indicators,
              now,
              ...(o.audit ? { audit: o.audit } : {}),
              ...(o.enforcement ? { enforcement: o.enforcement } : {}),
            })
          : null;
        log.info({ epoch: leaderLease.epoch }, 'worker is the evaluation leader');
      }
      m.leader.set(leaderLease ? 1 : 0);
    }
  }
  function balance(): Promise<void> {
    balancing ??= balanceOnce().finally(() => (balancing = undefined));
    return balancing;
  }

  // ---- the leader's global evaluation ---------------------------------------------------

  let evaluating: Promise<{ risks: number; clusters: number; cases: string[]; acted: number } | null> | undefined;
  async function evaluateOnce(): Promise<{ risks: number; clusters: number; cases: string[]; acted: number } | null> {
    const engine = leaderEngine;
    const outcome = leaderOutcome;
    if (!engine || !leaderLease) return null;
    const end = m.evalSeconds.startTimer();
    const t0 = now();
    const erasedSeen: string[] = [];
    // Accounts (signup facts feed the linkage graph), then the states committed since the last
    // load (with an overlap: a commit's time is taken before it is visible).
    let after: string | undefined;
    for (;;) {
      const page = await store.listAccounts({ limit: 1000, ...(after ? { after } : {}) });
      for (const a of page) {
        if (a.status === 'deleted') {
          if (engine.states.has(a.account_id) || engine.accounts.has(a.account_id)) {
            engine.dropAccountFeatures(a.account_id, []);
            engine.accounts.delete(a.account_id);
          }
          erasedSeen.push(a.account_id);
          continue;
        }
        if (a.status !== 'active' || engine.accounts.has(a.account_id)) continue;
        let org: Org | null = null;
        if (a.org_id) {
          if (!orgCache.has(a.org_id)) orgCache.set(a.org_id, await store.getOrg(a.org_id));
          org = orgCache.get(a.org_id)!;
        }
        engine.addAccount(interchangeAccount(a, org));
      }
      if (page.length < 1000) break;
      after = page[page.length - 1]!.account_id;
    }
    // Erasure reaches the committed features too (a late event may write a row again; the next
    // pass deletes it).
    if (erasedSeen.length) await state.forgetAccounts(erasedSeen);
    const gone = new Set(erasedSeen);
    const rows = await state.statesSince(Math.max(0, loadedUntil - 10_000));
    loadedUntil = t0;
    for (const row of rows) if (!gone.has(row.account_id)) engine.importAccount(decodeAccountFeatures(row.state));
    await leaderImports?.load();
    const { risks, clusters } = engine.evaluateNow();
    // Still the leader? (A leader stopped past its lease must not write over its successor.)
    const held = leaderLease ? await state.renew(leaderLease, now(), o.leaseTtlMs) : null;
    if (!held || leaderEngine !== engine) {
      if (!held && leaderEngine === engine) {
        leaderLease = null;
        leaderEngine = null;
        m.leader.set(0);
        log.info({}, 'worker is no longer the evaluation leader');
      }
      return null;
    }
    leaderLease = held;
    if (risks.length) await store.putRisk(risks);
    m.risks.inc(risks.length);
    const { created, acted } = outcome ? await outcome.apply(clusters) : { created: [], acted: 0 };
    if (t0 - lastPrune > 3_600_000) {
      lastPrune = t0;
      const n = await state.pruneCounted(t0 - o.countedRetentionMs);
      if (n) log.info({ pruned: n }, 'counted event ids past retention forgotten');
    }
    end();
    return { risks: risks.length, clusters: clusters.length, cases: created, acted };
  }
  function evaluate() {
    evaluating ??= evaluateOnce().finally(() => (evaluating = undefined));
    return evaluating;
  }

  async function gauges(): Promise<void> {
    const positions = await state.positions();
    for (let p = 0; p < P; p++) {
      m.committed.set({ partition: String(p) }, positions.get(p) ?? 0);
      m.last.set({ partition: String(p) }, await bus.lastSeq(p));
    }
    for (const run of runs.values()) {
      const n = await run.consumer?.pending();
      if (n !== undefined) m.lag.set({ partition: String(run.partition) }, n);
    }
  }

  await balance();
  const balanceTimer = setInterval(() => void balance().catch((e: unknown) => log.warn({ err: String(e) }, 'worker lease pass failed; retrying')), Math.max(100, Math.floor(o.leaseTtlMs / 3)));
  const evalTimer = setInterval(() => void evaluate().catch((e: unknown) => log.error({ err: String(e) }, 'evaluation failed; it runs again at the next interval')), o.evaluateEveryMs);
  const gaugeTimer = setInterval(() => void gauges().catch(() => undefined), 1000);
  gaugeTimer.unref();

  return {
    id,
    registry,
    owned: () => [...runs.keys()].sort((a, b) => a - b),
    isLeader: () => leaderLease !== null,
    evaluate,
    async status() {
      const positions = await state.positions();
      const out = [];
      for (let p = 0; p < P; p++) out.push({ partition: p, committed: positions.get(p) ?? 0, last: await bus.lastSeq(p), owned: runs.has(p) });
      return { id, leader: leaderLease !== null, partitions: out };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(balanceTimer);
      clearInterval(evalTimer);
      clearInterval(gaugeTimer);
      await balancing?.catch(() => undefined);
      await evaluating?.catch(() => undefined);
      // Commit what is buffered, then give the partitions up so another worker takes them at once.
      for (const run of [...runs.values()]) {
        if (run.timer) clearTimeout(run.timer);
        schedule(run);
        await run.chain.catch(() => undefined);
        await stopPartition(run, true);
      }
      if (leaderLease) await state.release(leaderLease).catch(() => undefined);
      await state.leave(id).catch(() => undefined);
    },
  };
}

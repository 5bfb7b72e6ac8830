/**
 * Online detection inside `warden serve` (embedded profile): usage events feed the detection
 * engine in batches off the request path, accounts are registered as they are created, each
 * evaluation writes the accounts' risk to the store (the gateway's policy reads it within a
 * second), and the engine's state is checkpointed so a restart resumes instead of forgetting.
 * Each evaluation's clusters go through the policy's `enforcement:` rules: matching actions are
 * taken (or, in dry run, recorded) on the clusters' cases (docs/policy.md).
 */
import type { Account, AccountRecord, AuditLog, CaseStore, IpIntel, Org, Screener, StateStore, UsageEvent, Watchlist } from '../core/index.js';
import { createOnlineDetector, type OnlineDetector } from '../detection/index.js';
import { createDetectionOutcome, createImportedIndicatorLoader, type AutoEnforcementSetup } from './detection-outcome.js';
import type { WardenLogger } from './log.js';

const CHECKPOINT = 'detection:checkpoint';
const CURSOR = 'detection:cursor';

export interface OnlineDetection {
  /** Queues a recorded event for the next batch (cheap: the request path calls it). */
  observe(event: UsageEvent): void;
  /** Registers a new or changed account. */
  account(account: AccountRecord, org: Org | null): void;
  /** Ingests what is queued and re-scores now (tests, shutdown). */
  tick(): Promise<void>;
  stats(): { accounts: number; events: number; queued: number };
  close(): Promise<void>;
}

/** The interchange account of a stored account, its org's facts filled in. */
export function interchangeAccount(a: AccountRecord, org: Org | null): Account {
  const { status: _status, ...rest } = a;
  return {
    ...rest,
    ...(org?.name && !a.org_name ? { org_name: org.name } : {}),
    ...(org?.email_domain && !a.email_domain ? { email_domain: org.email_domain } : {}),
    ...(org?.declared_country && !a.declared_country ? { declared_country: org.declared_country } : {}),
    ...(org?.payment_country && !a.payment_country ? { payment_country: org.payment_country } : {}),
    ...(org?.declared_use && !a.declared_use ? { declared_use: org.declared_use } : {}),
    ...(org && !a.verification ? { verification: org.verification } : {}),
    ...(org?.owners.length && !a.owners ? { owners: org.owners } : {}),
  };
}

export async function startOnlineDetection(opts: {
  store: StateStore;
  intel: IpIntel;
  screener: Screener;
  watchlist?: Watchlist;
  log: WardenLogger;
  /** How often queued events are ingested and the accounts re-scored. */
  everyMs: number;
  /** How often the engine's state is checkpointed. */
  checkpointEveryMs: number;
  /** Where clusters recommended for step_up or block become alerts, merged into cases. */
  cases?: CaseStore;
  audit?: Pick<AuditLog, 'append'>;
  /** Told after each batch of risks is stored (the gateway drops its cached copies). */
  riskChanged?: (accountIds: string[]) => void;
  /**
   * Automatic enforcement: the active policy's `enforcement:` rules, matched against each
   * cluster verdict; matching actions are taken on the cluster's case (needs `cases`).
   */
  enforcement?: AutoEnforcementSetup;
}): Promise<OnlineDetection> {
  const { store, log } = opts;
  const detector: OnlineDetector = createOnlineDetector({
    intel: opts.intel,
    screener: opts.screener,
    ...(opts.watchlist ? { watchlist: opts.watchlist } : {}),
    onRisk: async (risks) => {
      await store.putRisk(risks);
      opts.riskChanged?.(risks.map((r) => r.account_id));
    },
  });

  // Resume: the checkpoint, then the events stored after it (a few at its last instant may be
  // counted twice; none is lost).
  let cursor: { ts: string } | null = null;
  const saved = await store.getBlob(CHECKPOINT);
  if (saved) {
    try {
      detector.restore(saved);
      const c = await store.getBlob(CURSOR);
      cursor = c ? (JSON.parse(c.toString('utf8')) as { ts: string }) : null;
    } catch (e) {
      log.warn({ err: String(e) }, 'detection checkpoint unreadable: starting detection from the stored events');
    }
  }
  let after: string | undefined;
  for (;;) {
    const page = await store.listAccounts({ limit: 1000, ...(after ? { after } : {}) });
    for (const a of page) if (a.status === 'active') detector.upsertAccount(interchangeAccount(a, await store.getOrg(a.org_id)));
    if (page.length < 1000) break;
    after = page[page.length - 1]!.account_id;
  }
  let lastTs = cursor?.ts;
  for (;;) {
    const events = await store.listEvents({ ...(lastTs ? { since: lastTs } : {}), limit: 10_000 });
    const fresh = cursor && lastTs === cursor.ts ? events.filter((e) => e.ts > cursor!.ts) : events;
    for (const e of fresh) if (e.account_id) detector.ingest(e);
    if (events.length < 10_000) break;
    const next = events[events.length - 1]!.ts;
    if (next === lastTs) break;
    lastTs = next;
  }

  let queue: UsageEvent[] = [];
  let latest = cursor?.ts ?? '';
  let running: Promise<void> | undefined;
  // Indicators imported from other providers (`POST /stix/imports`), re-read each tick.
  const imports = createImportedIndicatorLoader({ store, log, set: (live) => detector.setImported(live) });
  const outcome = opts.cases
    ? createDetectionOutcome({
        cases: opts.cases,
        store,
        log,
        actor: 'detector:online',
        indicatorsOf: (members) => detector.indicatorsOf(members),
        ...(opts.audit ? { audit: opts.audit } : {}),
        ...(opts.enforcement ? { enforcement: opts.enforcement } : {}),
      })
    : undefined;
  const tick = async () => {
    const batch = queue;
    queue = [];
    for (const e of batch) {
      detector.ingest(e);
      if (e.ts > latest) latest = e.ts;
    }
    await imports.load();
    const { clusters } = await detector.evaluate();
    if (outcome) await outcome.apply(clusters);
  };
  const guarded = () => {
    running ??= tick()
      .catch((e: unknown) => log.error({ err: String(e) }, 'online detection failed; it retries on the next tick'))
      .finally(() => (running = undefined));
    return running;
  };
  const checkpoint = async () => {
    await store.putBlob(CHECKPOINT, detector.checkpoint());
    if (latest) await store.putBlob(CURSOR, Buffer.from(JSON.stringify({ ts: latest })));
  };
  const timer = setInterval(() => void guarded(), opts.everyMs);
  timer.unref();
  const cpTimer = setInterval(() => void checkpoint().catch((e: unknown) => log.error({ err: String(e) }, 'detection checkpoint failed')), opts.checkpointEveryMs);
  cpTimer.unref();
  await guarded();

  return {
    observe(event) {
      if (event.account_id) queue.push(event);
    },
    account(a, org) {
      if (a.status === 'active') detector.upsertAccount(interchangeAccount(a, org));
    },
    tick: guarded,
    stats: () => ({ ...detector.stats(), queued: queue.length }),
    async close() {
      clearInterval(timer);
      clearInterval(cpTimer);
      await running;
      await guarded();
      await checkpoint();
    },
  };
}

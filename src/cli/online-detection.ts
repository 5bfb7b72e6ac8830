/**
 * Online detection inside `warden serve` (embedded profile): usage events feed the detection
 * engine in batches off the request path, accounts are registered as they are created, each
 * evaluation writes the accounts' risk to the store (the gateway's policy reads it within a
 * second), and the engine's state is checkpointed so a restart resumes instead of forgetting.
 * Each evaluation's clusters go through the policy's `enforcement:` rules: matching actions are
 * taken (or, in dry run, recorded) on the clusters' cases (docs/policy.md).
 */
import { createHash } from 'node:crypto';
import { decisionRank, liveSharedIndicators, type SharedIndicator } from '../core/index.js';
import type { Account, AccountRecord, Alert, AuditLog, CaseStore, ClusterVerdict, EnforcementState, IpIntel, Org, Screener, StateStore, UsageEvent, Watchlist } from '../core/index.js';
import { applyAutoEnforcement, ingestAlerts, sharedIndicatorsOf, STIX_IMPORTS_BLOB, type AutoEnforcementItem, type StixImportRecord } from '../cases/index.js';
import { NO_ENFORCEMENT, type CompiledEnforcement } from '../policy/index.js';
import { createOnlineDetector, type OnlineDetector } from '../detection/index.js';
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
  enforcement?: { rules: () => CompiledEnforcement; state: Pick<EnforcementState, 'apply'> };
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
  // Indicators imported from other providers (`POST /stix/imports`): re-read when the blob changes.
  // Expiry is on the wall clock (the engine's clock is event time): the live set is recomputed
  // each tick and handed over when it changes.
  let importsText = '';
  let imports: SharedIndicator[] = [];
  let liveKey = '';
  const alertsSeen = new Set<string>();
  const loadImports = async () => {
    const blob = await store.getBlob(STIX_IMPORTS_BLOB);
    const text = blob ? blob.toString('utf8') : '';
    if (text !== importsText) {
      importsText = text;
      imports = text ? (JSON.parse(text) as StixImportRecord[]).flatMap((r) => sharedIndicatorsOf(r)) : [];
    }
    const live = liveSharedIndicators(imports, Date.now());
    const key = live.map((i) => `${i.id}|${i.valid_until ?? ''}|${i.confidence}`).join(',');
    if (key === liveKey) return;
    liveKey = key;
    detector.setImported(live);
    log.info({ indicators: live.length }, 'imported indicators loaded into detection');
  };
  const tick = async () => {
    const batch = queue;
    queue = [];
    for (const e of batch) {
      detector.ingest(e);
      if (e.ts > latest) latest = e.ts;
    }
    await loadImports();
    const { clusters } = await detector.evaluate();
    if (opts.cases) {
      const at = new Date().toISOString();
      // Each cluster detection would act on is matched against the policy's enforcement rules
      // (first match wins); clusters no rule takes still become cases when detection recommends
      // step_up or block, as before.
      const rules = opts.enforcement?.rules() ?? NO_ENFORCEMENT;
      const alerts: Alert[] = [];
      const items: AutoEnforcementItem[] = [];
      for (const c of clusters) {
        const match = c.recommended_action === 'none' ? null : rules.match(c);
        if (!match && !wantsCase(c)) continue;
        // The cluster's shareable indicators travel with its alert, so the case can be exported as
        // STIX; computed once per alert id (a repeated alert is a duplicate that ingest skips).
        const base = clusterAlert(c, at);
        const alert = alertsSeen.has(base.alert_id) ? base : { ...base, indicators: detector.indicatorsOf(c.members) };
        if (alertsSeen.size > 10_000) alertsSeen.clear();
        alertsSeen.add(base.alert_id);
        alerts.push(alert);
        if (match && match.action !== 'open_case') items.push({ cluster: c, alert_id: alert.alert_id, match });
      }
      if (alerts.length) {
        const r = await ingestAlerts(opts.cases, alerts, { actor: 'detector:online', ...(opts.audit ? { audit: opts.audit } : {}) });
        if (r.created.length) log.info({ cases: r.created }, 'detection opened cases');
        if (items.length && opts.enforcement) {
          const done = await applyAutoEnforcement(
            { cases: opts.cases, store, enforcement: opts.enforcement.state, now: Date.now, ...(opts.audit ? { audit: opts.audit } : {}) },
            rules.mode,
            items,
            r.placed,
          );
          for (const o of done) {
            if (o.subjects.length) log.info({ rule: o.rule, mode: o.mode, decision: o.decision, case_id: o.case_id, cluster_id: o.cluster_id, subjects: o.subjects.length, actions: o.action_ids }, o.mode === 'enforce' ? 'automatic enforcement acted' : 'automatic enforcement (dry run) would have acted');
          }
        }
      }
    }
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

/**
 * Alerts for the clusters detection recommends stepping up or blocking. An alert's id is a hash of
 * what it says (cluster, members, labels, action), so the same finding on the next evaluation is
 * a duplicate, while a cluster that grows raises a new alert that joins the same case.
 */
export function clusterAlerts(clusters: readonly ClusterVerdict[], at: string): Alert[] {
  return clusters.filter(wantsCase).map((c) => clusterAlert(c, at));
}

/** Detection recommends stepping the cluster up or blocking it. */
function wantsCase(c: ClusterVerdict): boolean {
  return c.recommended_action !== 'none' && decisionRank(c.recommended_action) >= decisionRank('step_up');
}

/** The alert for one cluster verdict (its id a hash of what it says). */
export function clusterAlert(c: ClusterVerdict, at: string): Alert {
  const members = [...c.members].sort();
  const labels = [...c.labels].sort();
  const id = createHash('sha256').update(JSON.stringify([c.cluster_id, members, labels, c.recommended_action, c.attributed_entity ?? null])).digest('hex').slice(0, 20);
  return {
    alert_id: `al_${id}`,
    detector: labels[0] ?? 'cluster',
    subjects: { accounts: members, cluster_id: c.cluster_id, ...(c.attributed_entity ? { entity: c.attributed_entity } : {}) },
    score: c.risk,
    labels,
    evidence: c.evidence.map((e) => ({ code: e.code, detail: e.detail, weight: e.weight })),
    created_at: at,
  };
}

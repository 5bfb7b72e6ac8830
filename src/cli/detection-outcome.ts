/**
 * What an evaluation's clusters lead to, the same in both profiles: the clusters detection would
 * act on (and those the policy's `enforcement:` rules take) become alerts carrying the cluster's
 * shareable indicators, alerts merge into cases, and matched rules act on those cases (or, in
 * dry run, record what they would do). The embedded profile runs it inside `warden serve`
 * (online-detection.ts), the cluster profile in the leading `warden worker` (detection-worker.ts).
 * Also here: the indicators imported from other providers, re-read from the store for the engine.
 */
import { createHash } from 'node:crypto';
import { decisionRank, liveSharedIndicators, type SharedIndicator } from '../core/index.js';
import type { Alert, AuditLog, CaseIndicators, CaseStore, ClusterVerdict, EnforcementState, StateStore } from '../core/index.js';
import { applyAutoEnforcement, ingestAlerts, sharedIndicatorsOf, STIX_IMPORTS_BLOB, type AutoEnforcementItem, type StixImportRecord } from '../cases/index.js';
import { NO_ENFORCEMENT, type CompiledEnforcement } from '../policy/index.js';
import type { WardenLogger } from './log.js';

/** The policy's enforcement rules and where their actions go. */
export interface AutoEnforcementSetup {
  rules: () => CompiledEnforcement;
  state: Pick<EnforcementState, 'apply'>;
}

export interface DetectionOutcomeDeps {
  cases: CaseStore;
  store: StateStore;
  audit?: Pick<AuditLog, 'append'>;
  enforcement?: AutoEnforcementSetup;
  log: WardenLogger;
  /** Who raised the alerts in the audit log (`detector:online`, `detector:worker`). */
  actor: string;
  /** The shareable indicators of a cluster's members (computed once per new alert). */
  indicatorsOf(members: readonly string[]): CaseIndicators;
  now?: () => number;
}

export interface DetectionOutcome {
  /** Turns one evaluation's clusters into alerts, cases and automatic actions. */
  apply(clusters: readonly ClusterVerdict[]): Promise<{ created: string[]; acted: number }>;
}

export function createDetectionOutcome(deps: DetectionOutcomeDeps): DetectionOutcome {
  const now = deps.now ?? Date.now;
  const alertsSeen = new Set<string>();
  return {
    async apply(clusters) {
      const at = new Date(now()).toISOString();
      // Each cluster detection would act on is matched against the policy's enforcement rules
      // (first match wins); clusters no rule takes still become cases when detection recommends
      // step_up or block.
      const rules = deps.enforcement?.rules() ?? NO_ENFORCEMENT;
      const alerts: Alert[] = [];
      const items: AutoEnforcementItem[] = [];
      for (const c of clusters) {
        const match = c.recommended_action === 'none' ? null : rules.match(c);
        if (!match && !wantsCase(c)) continue;
        // The cluster's shareable indicators travel with its alert, so the case can be exported as
        // STIX; computed once per alert id (a repeated alert is a duplicate that ingest skips).
        const base = clusterAlert(c, at);
        const alert = alertsSeen.has(base.alert_id) ? base : { ...base, indicators: deps.indicatorsOf(c.members) };
        if (alertsSeen.size > 10_000) alertsSeen.clear();
        alertsSeen.add(base.alert_id);
        alerts.push(alert);
        if (match && match.action !== 'open_case') items.push({ cluster: c, alert_id: alert.alert_id, match });
      }
      if (!alerts.length) return { created: [], acted: 0 };
      const r = await ingestAlerts(deps.cases, alerts, { actor: deps.actor, ...(deps.audit ? { audit: deps.audit } : {}) });
      if (r.created.length) deps.log.info({ cases: r.created }, 'detection opened cases');
      let acted = 0;
      if (items.length && deps.enforcement) {
        const done = await applyAutoEnforcement(
          { cases: deps.cases, store: deps.store, enforcement: deps.enforcement.state, now, ...(deps.audit ? { audit: deps.audit } : {}) },
          rules.mode,
          items,
          r.placed,
        );
        for (const o of done) {
          if (!o.subjects.length) continue;
          acted += o.action_ids.length;
          deps.log.info(
            { rule: o.rule, mode: o.mode, decision: o.decision, case_id: o.case_id, cluster_id: o.cluster_id, subjects: o.subjects.length, actions: o.action_ids },
            o.mode === 'enforce' ? 'automatic enforcement acted' : 'automatic enforcement (dry run) would have acted',
          );
        }
      }
      return { created: r.created, acted };
    },
  };
}

/**
 * Keeps an engine's imported indicators (`POST /stix/imports`, stored as a blob) current: the
 * blob is parsed again when it changes, and the live set (expiry is on the wall clock; the
 * engine's clock is event time) handed over when it changes.
 */
export function createImportedIndicatorLoader(opts: {
  store: Pick<StateStore, 'getBlob'>;
  log: WardenLogger;
  set(live: readonly SharedIndicator[]): void;
  now?: () => number;
}): { load(): Promise<void> } {
  const now = opts.now ?? Date.now;
  let text = '';
  let imports: SharedIndicator[] = [];
  let liveKey = '';
  return {
    async load() {
      const blob = await opts.store.getBlob(STIX_IMPORTS_BLOB);
      const next = blob ? blob.toString('utf8') : '';
      if (next !== text) {
        text = next;
        imports = next ? (JSON.parse(next) as StixImportRecord[]).flatMap((r) => sharedIndicatorsOf(r)) : [];
      }
      const live = liveSharedIndicators(imports, now());
      const key = live.map((i) => `${i.id}|${i.valid_until ?? ''}|${i.confidence}`).join(',');
      if (key === liveKey) return;
      liveKey = key;
      opts.set(live);
      opts.log.info({ indicators: live.length }, 'imported indicators loaded into detection');
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

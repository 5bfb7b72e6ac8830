/**
 * Alerts → cases. Alerts about the same cluster, the same attributed entity or overlapping
 * accounts go into one case (never one case per account): first within the batch (connected
 * components over those keys), then into the open case that already holds any of them.
 * A false positive is not raised again for the same evidence: an alert whose fingerprint an
 * analyst dispositioned `false_positive` or `benign` is dropped before it reaches a case.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Alert, AuditLog, Case, CaseSeverity, CaseStore } from '../core/index.js';
import { CASE_SEVERITIES, ValidationError } from '../core/index.js';
import { canonicalJson } from './audit-chain.js';

/**
 * SHA-256 over the detector, the subjects and the evidence (codes and data, or the detail
 * where there is no data), independent of order and of the alert's id, time and score: the
 * same finding raised again has the same fingerprint, new evidence a new one.
 */
export function alertFingerprint(a: Pick<Alert, 'detector' | 'subjects' | 'evidence'>): string {
  const subjects = {
    accounts: [...new Set(a.subjects.accounts)].sort(),
    cluster_id: a.subjects.cluster_id ?? null,
    entity: a.subjects.entity ?? null,
    end_user_ids: [...new Set(a.subjects.end_user_ids ?? [])].sort(),
  };
  const evidence = a.evidence
    .map((e) => canonicalJson({ code: e.code, facts: e.data ?? e.detail }))
    .sort();
  return createHash('sha256').update(canonicalJson({ v: 1, detector: a.detector, subjects, evidence })).digest('hex');
}

/**
 * A case's severity from its alerts: the highest score sets the base (< 0.5 low, < 0.75
 * medium, < 0.9 high, else critical); an attributed entity or 10 or more accounts raises it
 * one step.
 */
export function severityFor(score: number, accounts: number, attributed: boolean): CaseSeverity {
  let i = score < 0.5 ? 0 : score < 0.75 ? 1 : score < 0.9 ? 2 : 3;
  if (attributed || accounts >= 10) i = Math.min(3, i + 1);
  return CASE_SEVERITIES[i]!;
}

function maxSeverity(a: CaseSeverity, b: CaseSeverity): CaseSeverity {
  return CASE_SEVERITIES.indexOf(a) >= CASE_SEVERITIES.indexOf(b) ? a : b;
}

export interface IngestDeps {
  /** Who the timeline names. Default `system`. */
  actor?: string;
  now?: () => string;
  newCaseId?: () => string;
  /**
   * Where detections are recorded: one `detection.alert` record per alert placed in a case and
   * one `detection.suppressed` per alert dropped; `ingestAlerts` resolves after they are durable.
   */
  audit?: Pick<AuditLog, 'append'>;
}

export interface IngestResult {
  created: string[];
  updated: string[];
  /** Alerts dropped because an analyst dispositioned the same evidence before. */
  suppressed: { alert_id: string; by_alert: string }[];
  /** Alerts already stored (same `alert_id`): nothing done. */
  duplicates: string[];
  /** alert_id → case_id for every alert placed in a case. */
  placed: Record<string, string>;
}

function checkAlertShape(a: Alert, i: number): void {
  const path = `alerts[${i}]`;
  if (!a || typeof a.alert_id !== 'string' || !a.subjects || !Array.isArray(a.subjects.accounts) || !Array.isArray(a.evidence)) {
    throw new ValidationError(`${path}: expected an alert with alert_id, detector, subjects.accounts and evidence.`, [{ path, message: 'an alert' }]);
  }
  if (a.subjects.accounts.length === 0 && !a.subjects.cluster_id && !a.subjects.entity) {
    throw new ValidationError(`${path} (${a.alert_id}): names no account, cluster or entity, so it cannot join a case. Add subjects.accounts.`, [
      { path: `${path}.subjects`, message: 'at least one account, a cluster or an entity' },
    ]);
  }
}

function keysOf(a: Alert): string[] {
  const keys = a.subjects.accounts.map((x) => `account:${x}`);
  if (a.subjects.cluster_id) keys.push(`cluster:${a.subjects.cluster_id}`);
  if (a.subjects.entity) keys.push(`entity:${a.subjects.entity}`);
  return keys;
}

function titleFor(c: Pick<Case, 'accounts' | 'clusters' | 'entity'>, detectors: string[]): string {
  const what = [...new Set(detectors)].join(', ');
  const n = c.accounts.length;
  const accounts = `${n} account${n === 1 ? '' : 's'}`;
  if (c.clusters.length > 0) {
    return `Cluster ${c.clusters.join(', ')} (${accounts})${c.entity ? ` attributed to ${c.entity}` : ''}: ${what}`;
  }
  if (c.entity) return `Entity ${c.entity} (${accounts}): ${what}`;
  return `${n === 1 ? `Account ${c.accounts[0]}` : accounts}: ${what}`;
}

/**
 * Stores new alerts and merges them into cases: one case per cluster or entity (or group of
 * accounts sharing alerts), reusing the open case (any status but `closed`) that already holds
 * one of their clusters, entities or accounts. Raises the severity of a case, never lowers it.
 */
export async function ingestAlerts(store: CaseStore, alerts: readonly Alert[], deps: IngestDeps = {}): Promise<IngestResult> {
  const actor = deps.actor ?? 'system';
  const now = deps.now ?? (() => new Date().toISOString());
  const newCaseId = deps.newCaseId ?? (() => `case_${randomUUID().replaceAll('-', '').slice(0, 20)}`);
  const result: IngestResult = { created: [], updated: [], suppressed: [], duplicates: [], placed: {} };
  alerts.forEach(checkAlertShape);

  // 1. Fingerprint, drop suppressed, store; what remains are new alerts.
  const fresh: Alert[] = [];
  for (const a0 of alerts) {
    const a: Alert = { ...structuredClone(a0), fingerprint: a0.fingerprint ?? alertFingerprint(a0) };
    delete a.case_id;
    const sup = await store.isSuppressed(a.fingerprint!);
    if (sup) {
      result.suppressed.push({ alert_id: a.alert_id, by_alert: sup.alert_id });
      continue;
    }
    if (!(await store.putAlert(a))) {
      result.duplicates.push(a.alert_id);
      continue;
    }
    fresh.push(a);
  }

  // 2. Group the batch: alerts sharing a cluster, entity or account are one group.
  const parent = fresh.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const owner = new Map<string, number>();
  fresh.forEach((a, i) => {
    for (const k of keysOf(a)) {
      const j = owner.get(k);
      if (j === undefined) owner.set(k, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, Alert[]>();
  fresh.forEach((a, i) => {
    const r = find(i);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(a);
  });

  // 3. Each group joins the open case holding one of its keys (clusters first, then the entity,
  //    then accounts; the oldest such case when several), or opens a new one.
  for (const group of groups.values()) {
    const target = await findOpenCase(store, group);
    const at = now();
    let c: Case;
    // An analyst may have renamed the case: only a title Warden wrote is rewritten.
    let autoTitle = true;
    if (target) {
      c = target;
      const before = (await store.listAlerts({ case_id: c.case_id })).map((a) => a.detector);
      autoTitle = c.title === titleFor(c, before);
    } else {
      c = {
        case_id: newCaseId(),
        title: '',
        severity: 'low',
        status: 'open',
        created_at: at,
        updated_at: at,
        version: 1,
        accounts: [],
        clusters: [],
        alerts: [],
        notes: [],
        snapshots: [],
        actions: [],
        timeline: [{ at, kind: 'created', by: actor, detail: `opened from ${group.length} alert(s)` }],
        score: 0,
      };
      await store.createCase(c);
    }
    for (const a of group) {
      c = await store.linkAlert(c.case_id, a.alert_id, actor, at);
      result.placed[a.alert_id] = c.case_id;
    }
    const severity = maxSeverity(c.severity, severityFor(c.score, c.accounts.length, c.entity !== undefined));
    const detectors = (await store.listAlerts({ case_id: c.case_id })).map((a) => a.detector);
    const title = autoTitle ? titleFor(c, detectors) : c.title;
    if (severity !== c.severity || title !== c.title) {
      const timeline = [...c.timeline];
      if (severity !== c.severity) timeline.push({ at, kind: 'severity', by: actor, detail: `${c.severity} → ${severity} (score ${c.score.toFixed(2)}, ${c.accounts.length} accounts)` });
      c = await store.updateCase({ ...c, severity, title, timeline });
    }
    (target ? result.updated : result.created).push(c.case_id);
  }
  result.updated = [...new Set(result.updated)].filter((id) => !result.created.includes(id));
  if (deps.audit) {
    const at = now();
    const byId = new Map(fresh.map((a) => [a.alert_id, a]));
    await Promise.all([
      ...Object.entries(result.placed).map(([alert_id, case_id]) => {
        const a = byId.get(alert_id)!;
        return deps.audit!.append({
          type: 'detection.alert',
          actor: `detector:${a.detector}`,
          ...(a.subjects.cluster_id ? { subject: { kind: 'cluster' as const, id: a.subjects.cluster_id } } : a.subjects.accounts.length === 1 ? { subject: { kind: 'account' as const, id: a.subjects.accounts[0]! } } : {}),
          data: { alert_id, case_id, score: a.score, accounts: a.subjects.accounts, entity: a.subjects.entity ?? null, fingerprint: a.fingerprint!, evidence: a.evidence.map((e) => ({ code: e.code, weight: e.weight })) },
          at,
        });
      }),
      ...result.suppressed.map((x) =>
        deps.audit!.append({ type: 'detection.suppressed', actor, data: { alert_id: x.alert_id, suppressed_by_alert: x.by_alert }, at }),
      ),
    ]);
  }
  return result;
}

async function findOpenCase(store: CaseStore, group: Alert[]): Promise<Case | null> {
  const open = (cs: Case[]) => cs.filter((c) => c.status !== 'closed').sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.case_id < b.case_id ? -1 : 1));
  const clusters = [...new Set(group.flatMap((a) => (a.subjects.cluster_id ? [a.subjects.cluster_id] : [])))];
  for (const cluster_id of clusters) {
    const found = open(await store.listCases({ cluster_id }));
    if (found[0]) return found[0];
  }
  const entities = [...new Set(group.flatMap((a) => (a.subjects.entity ? [a.subjects.entity] : [])))];
  for (const entity of entities) {
    const found = open(await store.listCases({ entity }));
    if (found[0]) return found[0];
  }
  const candidates: Case[] = [];
  for (const account_id of new Set(group.flatMap((a) => a.subjects.accounts))) {
    candidates.push(...(await store.listCases({ account_id })));
  }
  return open(candidates)[0] ?? null;
}

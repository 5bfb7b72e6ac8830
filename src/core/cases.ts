/**
 * Cases, alerts and the audit log: the shared records and the ports that keep them
 * (`CaseStore`, `AuditStore`) plus the `AuditLog` the parts write decisions to. The logic
 * (merging alerts into cases, sealing and verifying the audit chain, STIX) lives in `src/cases`;
 * the embedded tables in `src/store/embedded/case-store.ts`. Field names are snake_case like the
 * interchange records, so one shape serves the admin API, the tables and exported files.
 */
import type { Subject } from './ports.js';

// ---------------------------------------------------------------------------------------------
// Alerts and cases

/** One piece of evidence; the same shape as a verdict's `Reason`, with optional raw data. */
export interface Evidence {
  code: string;
  detail: string;
  /** Contribution to the score or attribution, 0..1. */
  weight: number;
  /** Machine-readable facts behind `detail` (counts, shared values); part of the fingerprint. */
  data?: Record<string, unknown>;
}

/** Indicators a detector found, shareable with other providers (STIX export). */
export interface CaseIndicators {
  /** CIDR ranges (`198.51.100.0/24`, `2001:db8::/48`); a single address is a /32 or /128. */
  ip_ranges?: string[];
  asns?: number[];
  /** Payment fingerprints as stored (already hashes, never the instrument). */
  payment_fingerprints?: string[];
  device_fingerprints?: string[];
  email_domains?: string[];
  /** Fingerprints of prompt templates (docs/features.md). */
  prompt_fingerprints?: string[];
}

export interface AlertSubjects {
  /** The accounts the alert is about (one or many). */
  accounts: string[];
  cluster_id?: string;
  /** A watchlist entity id the alert attributes the accounts to. */
  entity?: string;
  end_user_ids?: string[];
}

export const ALERT_VERDICTS = ['true_positive', 'false_positive', 'benign'] as const;
export type AlertVerdict = (typeof ALERT_VERDICTS)[number];

export interface AlertDisposition {
  verdict: AlertVerdict;
  reason: string;
  by: string;
  at: string;
}

/** What a detector raised: one finding about one or more accounts. */
export interface Alert {
  alert_id: string;
  /** The detector that raised it, such as `hydra_cluster` or `distillation`. */
  detector: string;
  subjects: AlertSubjects;
  /** 0..1 */
  score: number;
  labels?: string[];
  evidence: Evidence[];
  indicators?: CaseIndicators;
  created_at: string;
  /**
   * SHA-256 over the detector, subjects and evidence (`alertFingerprint` in `src/cases`): a
   * false positive is not raised again for the same evidence. Filled in on ingest.
   */
  fingerprint?: string;
  /** The case it was merged into. */
  case_id?: string;
  disposition?: AlertDisposition;
}

export const CASE_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type CaseSeverity = (typeof CASE_SEVERITIES)[number];
export const CASE_STATUSES = ['open', 'investigating', 'actioned', 'closed', 'appealed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export interface CaseNote {
  note_id: string;
  author: string;
  text: string;
  at: string;
}

/**
 * The evidence as it was when a decision was made (an action, a disposition, a closure),
 * kept unchanged however the alerts and scores change later.
 */
export interface EvidenceSnapshot {
  snapshot_id: string;
  at: string;
  by: string;
  /** The decision it supports, such as `action:act_123` or `close`. */
  decision: string;
  alert_ids: string[];
  evidence: Evidence[];
  /** Anything else that decided: scores, account lists, the policy version. */
  data?: Record<string, unknown>;
}

export const TIMELINE_KINDS = [
  'created',
  'alert',
  'note',
  'status',
  'assignee',
  'severity',
  'action',
  /** What an automatic enforcement rule would have done, in dry-run mode (nothing was done). */
  'would_act',
  'disposition',
  'snapshot',
  'update',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  by: string;
  detail: string;
  /** The id of what the entry is about (an alert, note, action, snapshot). */
  ref?: string;
}

export interface Case {
  case_id: string;
  title: string;
  severity: CaseSeverity;
  status: CaseStatus;
  assignee?: string;
  created_at: string;
  updated_at: string;
  /** Optimistic concurrency: `updateCase` refuses a case whose version is not the stored one. */
  version: number;
  accounts: string[];
  clusters: string[];
  entity?: string;
  /** Ids of the alerts merged into the case. */
  alerts: string[];
  notes: CaseNote[];
  snapshots: EvidenceSnapshot[];
  /** Ids of `EnforcementAction`s taken for this case. */
  actions: string[];
  timeline: TimelineEntry[];
  /** Highest alert score seen, 0..1. */
  score: number;
}

export interface CaseQuery {
  status?: CaseStatus[];
  severity?: CaseSeverity[];
  assignee?: string;
  account_id?: string;
  cluster_id?: string;
  entity?: string;
  /** Newest `updated_at` first; `after` is the last `case_id` of the previous page. */
  limit?: number;
  after?: string;
}

export interface AlertQuery {
  case_id?: string;
  account_id?: string;
  cluster_id?: string;
  entity?: string;
  /** Only alerts without a disposition. */
  open?: boolean;
  /** Only alerts with a disposition: any verdict (`any`) or one of these verdicts. */
  disposition?: 'any' | AlertVerdict[];
  /** Only alerts created at or after this time (RFC 3339). */
  since?: string;
  limit?: number;
}

export interface Suppression {
  fingerprint: string;
  alert_id: string;
  disposition: AlertDisposition;
}

/** Keeps cases and alerts. Every method is atomic; writes to a missing case throw `NotFoundError`. */
export interface CaseStore {
  /** `ConflictError` when the id exists. */
  createCase(c: Case): Promise<void>;
  /**
   * Replaces a case whose stored `version` equals `c.version` and stores it with version + 1
   * (returned); `ConflictError` when someone else changed it first (reload and retry).
   */
  updateCase(c: Case): Promise<Case>;
  getCase(caseId: string): Promise<Case | null>;
  listCases(query?: CaseQuery): Promise<Case[]>;
  /** Appends a note and its timeline entry. */
  addNote(caseId: string, note: CaseNote): Promise<Case>;
  /** Stores an alert; an `alert_id` already stored is left as it is and `false` returned. */
  putAlert(alert: Alert): Promise<boolean>;
  getAlert(alertId: string): Promise<Alert | null>;
  listAlerts(query?: AlertQuery): Promise<Alert[]>;
  /**
   * Links an alert to a case: sets its `case_id`, adds its accounts, cluster and entity to the
   * case, raises the case's score, and adds a timeline entry. Linking twice is a no-op.
   */
  linkAlert(caseId: string, alertId: string, by: string, at: string): Promise<Case>;
  /**
   * Records an analyst's verdict on an alert. A `false_positive` or `benign` verdict on an
   * alert with a fingerprint suppresses that fingerprint; a later `true_positive` lifts it.
   */
  recordDisposition(alertId: string, disposition: AlertDisposition): Promise<Alert>;
  /** The disposition that suppresses alerts with this fingerprint, or null. */
  isSuppressed(fingerprint: string): Promise<Suppression | null>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Audit log

/** What a part hands the audit log: one decision. */
export interface AuditEntry {
  /** Such as `policy.refusal`, `detection.alert`, `action.put`, `action.reverse`, `console.login`. */
  type: string;
  /** Who decided: a user, `policy:rule@version`, `detector:name`, `system`. */
  actor: string;
  subject?: Subject;
  /** JSON data (no `undefined` inside arrays, no non-finite numbers). */
  data: Record<string, unknown>;
  /** RFC 3339 time of the decision. */
  at: string;
}

/**
 * A sealed record: `hash` is the hex SHA-256 of the canonical JSON of every field but `hash`
 * and `sig` (docs/audit.md), so it commits to `prev`, the previous record's hash in the same
 * chain; `sig` is the base64 Ed25519 signature over the 32 hash bytes.
 */
export interface AuditRecord extends AuditEntry {
  v: 1;
  /** One chain per writer process. */
  chain: string;
  /** 1, 2, 3, … within the chain. */
  seq: number;
  /** Hash of record `seq - 1` in the chain; 64 zeros for the first. */
  prev: string;
  /** Which key signed it: the first 16 hex digits of the SHA-256 of the public key (SPKI DER). */
  key_id: string;
  hash: string;
  sig: string;
}

export interface AuditQuery {
  chain?: string;
  type?: string;
  actor?: string;
  subject?: Subject;
  /** Inclusive lower bound on `at`. */
  since?: string;
  /** Exclusive upper bound on `at`. */
  until?: string;
  /** Records after this storage position (`AuditRecordRow.pos`), for paging. */
  after_pos?: number;
  limit?: number;
}

export interface AuditChainHead {
  chain: string;
  seq: number;
  hash: string;
}

/** Persistence for sealed audit records; `listAudit` returns them in storage order. */
export interface AuditStore {
  /**
   * Appends sealed records atomically (all or none). `ConflictError` when a (chain, seq)
   * already exists: another writer uses the same chain id.
   */
  appendAudit(records: AuditRecord[]): Promise<void>;
  listAudit(query?: AuditQuery): Promise<(AuditRecord & { pos: number })[]>;
  /** The last record of a chain, or null for a new chain. */
  auditHead(chain: string): Promise<AuditChainHead | null>;
  auditHeads(): Promise<AuditChainHead[]>;
}

/** The log the parts write decisions to (implemented in `src/cases`, over an `AuditStore`). */
export interface AuditLog {
  /** This writer's chain id. */
  readonly chain: string;
  /**
   * Queues a decision; records are sealed and written in batches off the request path. The
   * promise resolves once the record is durable, with the sealed record.
   */
  append(entry: AuditEntry): Promise<AuditRecord>;
  list(query?: AuditQuery): Promise<(AuditRecord & { pos: number })[]>;
  /** Writes what is queued now. */
  flush(): Promise<void>;
  /** Flushes, then refuses later appends. */
  close(): Promise<void>;
}

export type AuditProblemKind = 'changed' | 'removed' | 'reordered' | 'bad_signature' | 'forked';

export interface AuditProblem {
  chain: string;
  seq: number;
  kind: AuditProblemKind;
  detail: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  /** Records checked. */
  checked: number;
  chains: AuditChainHead[];
  problems: AuditProblem[];
}

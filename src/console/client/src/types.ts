/** The admin API's records as the console reads them (see docs/console.md and the contract). */
export type Role = 'viewer' | 'analyst' | 'admin';
export interface User {
  username: string;
  role: Role;
}
export interface Session {
  user: User;
  csrf_token: string;
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const STATUSES = ['open', 'investigating', 'actioned', 'closed', 'appealed'] as const;
export type CaseStatus = (typeof STATUSES)[number];
export const VERDICTS = ['true_positive', 'false_positive', 'benign'] as const;
export type Verdict = (typeof VERDICTS)[number];
export const ACTION_KINDS = ['block', 'throttle', 'step_up', 'degrade', 'monitor'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface Evidence {
  code: string;
  detail: string;
  weight: number;
  data?: Record<string, unknown>;
}
export interface Alert {
  alert_id: string;
  detector: string;
  subjects: { accounts: string[]; cluster_id?: string; entity?: string };
  score: number;
  labels?: string[];
  evidence: Evidence[];
  created_at: string;
  case_id?: string;
  disposition?: { verdict: Verdict; reason: string; by: string; at: string };
}
export interface TimelineEntry {
  at: string;
  kind: string;
  by: string;
  detail: string;
  ref?: string;
}
export interface CaseNote {
  note_id: string;
  author: string;
  text: string;
  at: string;
}
export interface Case {
  case_id: string;
  title: string;
  severity: Severity;
  status: CaseStatus;
  assignee?: string;
  created_at: string;
  updated_at: string;
  accounts: string[];
  clusters: string[];
  entity?: string;
  alerts: string[];
  notes: CaseNote[];
  actions: string[];
  timeline: TimelineEntry[];
  score: number;
  alert_records?: Alert[];
}
export interface Subject {
  kind: 'key' | 'account' | 'org' | 'cluster' | 'end_user';
  id: string;
}
export interface EnforcementAction {
  action_id: string;
  subject: Subject;
  decision: string;
  reason: string;
  author: string;
  created_at: string;
  expires_at?: string;
  reversed_at?: string;
  reversed_by?: string;
  reversed_reason?: string;
  source?: string;
}

export interface Overview {
  generated_at: string;
  traffic: {
    window_minutes: number;
    buckets: { at: string; allowed: number; refused: number }[];
    totals: { allowed: number; refused: number };
    refused_by_rule: { rule: string; count: number }[];
  };
  cases: { open_by_severity: Record<Severity, number>; open_total: number; recent: Case[] };
  clusters: { cluster_id: string; risk: number; accounts: number; entity?: string; recommended_action?: string; case_id?: string }[];
  health: {
    status: 'ok' | 'degraded';
    profile: string;
    policy_version: number;
    uptime_s: number;
    outbox_backlog: number;
    store: 'ok' | 'error';
    /** `workers_pending`: cluster profile, events the detection workers have not committed (null before the first reading). */
    detection: { online: boolean; last_evaluated_at?: string; workers_pending?: number | null };
  };
}

export const NODE_KINDS = ['account', 'payment', 'device', 'network', 'ip_prefix', 'asn', 'template', 'email_domain', 'entity', 'other'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];
export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  cluster_id?: string;
  risk?: number;
}
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  label: string;
}
export interface CaseGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Nodes left out past the server's cap (500). */
  omitted?: number;
}
export interface CaseTimeline {
  buckets: { at: string; requests: number; refused: number }[];
  entries: TimelineEntry[];
}

export interface Account {
  account_id: string;
  org_id: string;
  created_at: string;
  org_name?: string;
  email?: string;
  email_domain?: string;
  declared_country?: string;
  declared_use?: string;
  verification?: string;
  payment_fingerprint?: string;
  payment_country?: string;
  signup_ip?: string;
  device_fingerprint?: string;
  status: 'active' | 'deleted';
}
export interface ScreeningHit {
  entity_id: string;
  entity_name: string;
  list: string;
  kind: string;
  score: number;
  explanation: string;
  matched_on: string;
}
export interface Org {
  org_id: string;
  name: string;
  aliases: string[];
  email_domain?: string;
  declared_country?: string;
  payment_country?: string;
  declared_use?: string;
  verification: string;
  created_at: string;
  updated_at: string;
  screening: { status: string; hits: ScreeningHit[]; screened_at: string; lists_version: string } | null;
}
export interface PublicKey {
  key_id: string;
  account_id: string;
  name?: string;
  prefix: string;
  created_at: string;
  expires_at?: string;
  revoked_at?: string;
  last_used_at?: string;
  allowed_models?: string[];
}
export interface AccountOverview {
  account: Account;
  org?: Org;
  risk?: { score: number; action: string; reasons: { code: string; weight: number; detail: string }[]; cluster_id?: string };
  series: { at: string; requests: number; input_tokens: number; output_tokens: number; refused: number; distinct_ips: number }[];
  screening: ScreeningHit[];
  keys: PublicKey[];
  actions: EnforcementAction[];
  decisions: { at: string; decision: string; rule?: string; request_id: string }[];
  cases: Case[];
}

export interface PolicyVersion {
  version: number;
  created_at: string;
  source: string;
  active: boolean;
  sha256: string;
}
export type DryRun =
  | { valid: true; report: { events: number; changed: number; by_rule: { rule: string; before: number; after: number }[]; samples: { request_id: string; account_id: string; before: string; after: string }[] } }
  | { valid: false; issues: { path?: string; line?: number; rule?: string; message: string }[] };

/**
 * Ports: the interfaces every part talks through. Each has an embedded implementation
 * (SQLite, in-process; the default, needing no service) and a scaled-out one (PostgreSQL,
 * Redis, NATS JetStream), and one contract suite in `src/store/contract` that both pass.
 */
import type {
  Account,
  Decision,
  DECLARED_USES,
  Owner,
  UsageEvent,
  VerificationLevel,
} from './interchange.js';
import type { ScreeningResult } from './intel.js';

// ---------------------------------------------------------------------------------------------
// Records kept by the state store

export interface Org {
  org_id: string;
  name: string;
  aliases: string[];
  email_domain?: string;
  declared_country?: string;
  payment_country?: string;
  declared_use?: (typeof DECLARED_USES)[number];
  verification: VerificationLevel;
  owners: Owner[];
  created_at: string;
  updated_at: string;
  /** Result of the last screening (on create, change and key issue); null before the first. */
  screening: ScreeningResult | null;
}

/** An account: the interchange record (its org fields filled from the org on export). */
export interface AccountRecord extends Account {
  org_id: string;
  status: 'active' | 'deleted';
}

export interface ApiKeyRecord {
  key_id: string;
  account_id: string;
  org_id: string;
  name?: string;
  /** Hex SHA-256 of the key's secret part; the secret itself is never stored. */
  secret_hash: string;
  /** The first characters of the key, for display (`wdn_k3x9…`). */
  prefix: string;
  created_at: string;
  expires_at?: string;
  revoked_at?: string;
  /** Models this key may call; absent means any model the policy allows. */
  allowed_models?: string[];
  last_used_at?: string;
  /** The key this one replaced by rotation. */
  rotated_from?: string;
}

export type SubjectKind = 'key' | 'account' | 'org' | 'cluster' | 'end_user';
export interface Subject {
  kind: SubjectKind;
  id: string;
}

/** An enforcement action on a subject; it stays in force until it expires or is reversed. */
export interface EnforcementAction {
  action_id: string;
  subject: Subject;
  decision: Decision;
  reason: string;
  author: string;
  created_at: string;
  expires_at?: string;
  reversed_at?: string;
  reversed_by?: string;
  reversed_reason?: string;
  /** Decision-specific parameters, e.g. `{ max_output_tokens: 512 }` for `degrade`. */
  params?: Record<string, unknown>;
  /** Where the action came from: an analyst, a policy rule, a case. */
  source?: string;
}

/** Detection's current view of an account, read by the policy on each request. */
export interface AccountRisk {
  account_id: string;
  risk: number;
  labels: string[];
  cluster_id?: string | null;
  attributed_entity?: string | null;
  updated_at: string;
}

export interface PolicyVersionRecord {
  version: number;
  text: string;
  /** SHA-256 of `text`; an unchanged file is not saved again. */
  sha256: string;
  created_at: string;
  source: string;
  active: boolean;
}

export interface EventQuery {
  account_id?: string;
  org_id?: string;
  /** Inclusive lower bound on `ts`. */
  since?: string;
  /** Exclusive upper bound on `ts`. */
  until?: string;
  limit?: number;
  /** Newest first (default oldest first). */
  newest_first?: boolean;
}

/** Events of one time bucket (a minute or an hour), for the console's charts. */
export interface EventBucket {
  /** RFC 3339 start of the bucket. */
  at: string;
  requests: number;
  /** Requests refused at the gateway: decision `block`, `step_up` or `throttle` with a 4xx/5xx status. */
  refused: number;
  input_tokens: number;
  output_tokens: number;
  distinct_ips: number;
}

export interface EventBucketQuery {
  /** Inclusive lower bound on `ts`. */
  since: string;
  /** Exclusive upper bound on `ts`. */
  until: string;
  bucket: 'minute' | 'hour';
  /** Only these accounts (at most 1000); absent means every account. */
  account_ids?: string[];
}

/** Accounts detection put in one cluster, summarised from the stored risk records. */
export interface RiskCluster {
  cluster_id: string;
  /** Highest risk of a member. */
  risk: number;
  accounts: number;
  entity?: string;
}

// ---------------------------------------------------------------------------------------------
// State store

/** The source of truth for orgs, accounts, keys, events, policies, actions and risk. */
export interface StateStore {
  createOrg(org: Org): Promise<void>;
  updateOrg(org: Org): Promise<void>;
  getOrg(orgId: string): Promise<Org | null>;
  listOrgs(opts?: { limit?: number; after?: string }): Promise<Org[]>;

  createAccount(account: AccountRecord): Promise<void>;
  updateAccount(account: AccountRecord): Promise<void>;
  getAccount(accountId: string): Promise<AccountRecord | null>;
  /** `search`: a case-insensitive substring of the account id, org id, email or org name. */
  listAccounts(opts?: { orgId?: string; limit?: number; after?: string; search?: string }): Promise<AccountRecord[]>;
  /**
   * Erases an account for a data-subject request: its events, keys' secrets and personal
   * fields go; a tombstone with `status: 'deleted'` stays so ids are never reused.
   */
  deleteAccount(accountId: string): Promise<void>;

  createKey(key: ApiKeyRecord): Promise<void>;
  getKey(keyId: string): Promise<ApiKeyRecord | null>;
  listKeys(opts?: { accountId?: string; orgId?: string }): Promise<ApiKeyRecord[]>;
  /** Sets `revoked_at` and/or `expires_at`; absent fields are left as they are. */
  updateKey(keyId: string, patch: Partial<Pick<ApiKeyRecord, 'revoked_at' | 'expires_at' | 'last_used_at'>>): Promise<void>;
  /** Records last-use times in one write (the gateway batches them). */
  touchKeys(lastUsed: Map<string, string>): Promise<void>;

  /** Stores events; an `event_id` already stored is skipped. Returns how many were new. */
  appendEvents(events: UsageEvent[]): Promise<number>;
  listEvents(query: EventQuery): Promise<UsageEvent[]>;
  countEvents(query?: EventQuery): Promise<number>;
  /** Events per minute or hour in `[since, until)`, oldest first; empty buckets are left out. */
  eventBuckets(query: EventBucketQuery): Promise<EventBucket[]>;
  /** Refused events (as in `EventBucket.refused`) per rule in `[since, until)`, most first; no rule counts as `(none)`. */
  refusalsByRule(query: { since: string; until: string }): Promise<{ rule: string; count: number }[]>;
  /** Retention: deletes events older than `before`; returns how many. */
  deleteEventsBefore(before: string): Promise<number>;
  /** Retention of raw text: clears `prompt` and `system` on events older than `before`. */
  scrubRawTextBefore(before: string): Promise<number>;

  savePolicyVersion(text: string, source: string, now: string): Promise<PolicyVersionRecord>;
  listPolicyVersions(): Promise<PolicyVersionRecord[]>;
  getPolicyVersion(version: number): Promise<PolicyVersionRecord | null>;
  setActivePolicyVersion(version: number): Promise<void>;
  /** The active version's number (a cheap read for processes that follow the store's policy), or null. */
  activePolicyVersion(): Promise<number | null>;

  putAction(action: EnforcementAction): Promise<void>;
  getAction(actionId: string): Promise<EnforcementAction | null>;
  /** Actions neither reversed nor expired at `now`. */
  listActiveActions(now: string): Promise<EnforcementAction[]>;
  listActions(opts?: { subject?: Subject; limit?: number }): Promise<EnforcementAction[]>;

  putRisk(risks: AccountRisk[]): Promise<void>;
  getRisk(accountId: string): Promise<AccountRisk | null>;
  /** Clusters of the stored risk records, riskiest first. */
  riskClusters(opts?: { limit?: number }): Promise<RiskCluster[]>;

  /** Generic keyed blobs for parts' own checkpoints (detection feature state, cursors). */
  putBlob(key: string, value: Buffer): Promise<void>;
  getBlob(key: string): Promise<Buffer | null>;

  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Event bus

export interface Delivery<T> {
  readonly data: T;
  /** The id given at publish. */
  readonly id: string;
  /** 1 on first delivery, 2 after one redelivery, … */
  readonly attempt: number;
  /** Processed; never sent again to this group. */
  ack(): Promise<void>;
  /** Failed; redelivered to the group after `delayMs`. */
  nak(delayMs?: number): Promise<void>;
  /** Poison; parked with its reason, not retried. */
  term(reason: string): Promise<void>;
}

export interface Consumer {
  /** Messages published but not yet acked by this group. */
  pending(): Promise<number>;
  /** Stops delivering; messages in flight may still be acked. */
  close(): Promise<void>;
}

/** One bus per topic (usage events, …). Every group sees every message once (at least once). */
export interface EventBus<T> {
  /** Resolves once the message is durably accepted; a repeated id is a no-op. */
  publish(message: T, id: string): Promise<void>;
  consume(group: string, handle: (d: Delivery<T>) => Promise<void>, opts?: { batch?: number }): Consumer;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Counters: rate limits and budgets

/** A counting period chosen by the caller: a minute window, a calendar month, … */
export interface Period {
  /** Distinguishes one period from the next, e.g. the minute number or `2026-11`. */
  id: string;
  /** Epoch ms when the period ends; the counter may be forgotten after it. */
  endsAt: number;
}

export interface Counters {
  /**
   * Atomically adds `cost` to `key` in `period` unless the total would pass `limit`.
   * `ok: false` leaves the counter unchanged.
   */
  take(key: string, period: Period, cost: number, limit: number): Promise<{ ok: boolean; total: number }>;
  /** Adds unconditionally (token debits at the end of a response); returns the new total. */
  add(key: string, period: Period, amount: number): Promise<number>;
  peek(key: string, period: Period): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Enforcement state shared by every gateway

export type EnforcementChange =
  | { type: 'put'; action: EnforcementAction }
  | { type: 'reverse'; action: EnforcementAction };

/**
 * The actions in force, pushed to every gateway: `apply` stores an action and notifies
 * every watcher (in every process of a deployment) within a second.
 */
export interface EnforcementState {
  apply(change: EnforcementChange): Promise<void>;
  /** Actions in force now. */
  active(now: string): Promise<EnforcementAction[]>;
  /** Calls `listener` for each change applied anywhere, from now on. */
  watch(listener: (change: EnforcementChange) => void): () => void;
  close(): Promise<void>;
}

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/**
 * The interchange records of `docs/interchange.md` (accounts, usage events, watchlists,
 * verdicts, truth). Field names keep the documented snake_case so one schema serves files,
 * the admin API, the bus and the tables. File readers are lenient (unknown fields ignored);
 * the admin API uses the `strict*` variants.
 */
import { z } from 'zod';

/** `allow` < `monitor` < `throttle` < `degrade` < `step_up` < `block`. */
export const DECISIONS = ['allow', 'monitor', 'throttle', 'degrade', 'step_up', 'block'] as const;
export const Decision = z.enum(DECISIONS);
export type Decision = z.infer<typeof Decision>;

const DECISION_RANK: Record<Decision, number> = {
  allow: 0,
  monitor: 1,
  throttle: 2,
  degrade: 3,
  step_up: 4,
  block: 5,
};
/** Severity rank of a decision (0 for `allow` … 5 for `block`). */
export function decisionRank(d: Decision): number {
  return DECISION_RANK[d];
}
/** The more severe of two decisions. */
export function maxDecision(a: Decision, b: Decision): Decision {
  return DECISION_RANK[a] >= DECISION_RANK[b] ? a : b;
}

export const RecommendedAction = z.enum(['none', ...DECISIONS]);
export type RecommendedAction = z.infer<typeof RecommendedAction>;

const isoTime = z.iso.datetime({ offset: true });
const country = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code in upper case, such as "SG"');
const ip = z.union([z.ipv4(), z.ipv6()]);

export const DECLARED_USES = ['consumer', 'internal', 'research', 'reseller', 'evaluation', 'unknown'] as const;
export const VERIFICATION_LEVELS = ['none', 'email', 'phone', 'id', 'business'] as const;
export type VerificationLevel = (typeof VERIFICATION_LEVELS)[number];
/** Rank of a verification level, `none` = 0 … `business` = 4. */
export function verificationRank(v: VerificationLevel): number {
  return VERIFICATION_LEVELS.indexOf(v);
}

export const Owner = z.object({
  name: z.string().min(1),
  country: country.optional(),
  share: z.number().min(0).max(1),
  org_id: z.string().optional(),
});
export type Owner = z.infer<typeof Owner>;

const accountShape = {
  account_id: z.string().min(1),
  org_id: z.string().min(1).optional(),
  created_at: isoTime,
  org_name: z.string().optional(),
  email: z.string().optional(),
  email_domain: z.string().optional(),
  declared_country: country.optional(),
  declared_use: z.enum(DECLARED_USES).optional(),
  verification: z.enum(VERIFICATION_LEVELS).optional(),
  payment_fingerprint: z.string().optional(),
  payment_country: country.optional(),
  signup_ip: ip.optional(),
  signup_user_agent: z.string().optional(),
  device_fingerprint: z.string().optional(),
  owners: z.array(Owner).optional(),
};
/** A line of `accounts.jsonl` (unknown fields are dropped, not rejected). */
export const Account = z.object(accountShape);
export type Account = z.infer<typeof Account>;
/** The same record as the admin API takes it: unknown fields are refused. */
export const StrictAccount = z.strictObject(accountShape);

export const ENDPOINTS = [
  'messages',
  'chat.completions',
  'responses',
  'completions',
  'embeddings',
  'count_tokens',
  'other',
] as const;
export const Endpoint = z.enum(ENDPOINTS);
export type Endpoint = z.infer<typeof Endpoint>;

/** Prompt features as computed by a gateway; versioned, documented in docs/features.md. */
export const FeaturesObject = z.looseObject({ v: z.number().int() });

const usageEventShape = {
  event_id: z.string().min(1),
  ts: isoTime,
  account_id: z.string().min(1).optional(),
  org_id: z.string().optional(),
  key_id: z.string().optional(),
  ip: ip.optional(),
  forwarded_for: z.string().optional(),
  user_agent: z.string().optional(),
  end_user_id: z.string().optional(),
  country: country.optional(),
  asn: z.number().int().nonnegative().optional(),
  endpoint: Endpoint.optional(),
  model: z.string().optional(),
  stream: z.boolean().optional(),
  status: z.number().int().optional(),
  input_tokens: z.number().int().nonnegative().optional(),
  output_tokens: z.number().int().nonnegative().optional(),
  latency_ms: z.number().nonnegative().optional(),
  aborted: z.boolean().optional(),
  decision: Decision.optional(),
  decision_rule: z.string().optional(),
  turns: z.number().int().nonnegative().optional(),
  tools: z.number().int().nonnegative().optional(),
  system: z.string().optional(),
  prompt: z.string().optional(),
  features: FeaturesObject.optional(),
};
/** A line of `events.jsonl`: one API request. */
export const UsageEvent = z.object(usageEventShape);
export type UsageEvent = z.infer<typeof UsageEvent>;

export const WatchlistEntity = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  kind: z.enum(['competitor', 'sanctioned', 'restricted']),
  jurisdiction: country.optional(),
  aliases: z.array(z.string()).default([]),
  native_names: z.array(z.string()).default([]),
  domains: z.array(z.string()).default([]),
  asns: z.array(z.number().int().nonnegative()).default([]),
  subsidiaries: z.array(z.string()).default([]),
});
export type WatchlistEntity = z.infer<typeof WatchlistEntity>;

export const Watchlist = z.object({
  restricted_countries: z.array(country).default([]),
  entities: z.array(WatchlistEntity).default([]),
});
export type Watchlist = z.infer<typeof Watchlist>;

export const ACCOUNT_LABELS = [
  'hydra_member',
  'undeclared_reseller',
  'reseller_customer_traffic',
  'distillation',
  'capability_probing',
  'region_evasion',
  'prohibited_entity',
  'key_sharing',
] as const;
export type AccountLabel = (typeof ACCOUNT_LABELS)[number];

export const Reason = z.object({ code: z.string(), detail: z.string(), weight: z.number() });
export type Reason = z.infer<typeof Reason>;

export const AccountVerdict = z.object({
  account_id: z.string(),
  risk: z.number().min(0).max(1),
  labels: z.array(z.string()),
  cluster_id: z.string().nullable().optional(),
  attributed_entity: z.string().nullable().optional(),
  recommended_action: RecommendedAction,
  /**
   * When the account would first have been flagged (step_up or block) had the analysis run
   * online. Present also when a later evaluation lifted the flag: it does not mean "flagged now"
   * (read `recommended_action` for that).
   */
  first_flagged_at: isoTime.optional(),
  reasons: z.array(Reason).default([]),
  /** Extension: end-user ids inside a declared reseller whose traffic looks like a campaign. */
  end_user_ids: z.array(z.string()).optional(),
});
export type AccountVerdict = z.infer<typeof AccountVerdict>;

export const ClusterVerdict = z.object({
  cluster_id: z.string(),
  members: z.array(z.string()),
  labels: z.array(z.string()),
  attributed_entity: z.string().nullable().optional(),
  confidence: z.number().min(0).max(1).optional(),
  risk: z.number().min(0).max(1),
  recommended_action: RecommendedAction,
  evidence: z.array(Reason).default([]),
});
export type ClusterVerdict = z.infer<typeof ClusterVerdict>;

export const Verdicts = z.object({
  generated_at: isoTime,
  summary: z.object({
    accounts: z.number().int(),
    events: z.number().int(),
    skipped_lines: z.number().int(),
    degraded_detectors: z.array(z.string()),
  }),
  accounts: z.array(AccountVerdict),
  clusters: z.array(ClusterVerdict),
});
export type Verdicts = z.infer<typeof Verdicts>;

export const TruthAccount = z.object({
  group: z.string().regex(/^(benign|campaign):.+/, '"benign:<population>" or "campaign:<campaign>"'),
  malicious: z.boolean(),
  entity: z.string().nullable(),
  labels: z.array(z.string()),
});
export type TruthAccount = z.infer<typeof TruthAccount>;
export const Truth = z.object({ accounts: z.record(z.string(), TruthAccount) });
export type Truth = z.infer<typeof Truth>;

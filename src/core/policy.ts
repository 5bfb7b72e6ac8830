/**
 * The policy engine's surface: what a request looks like to a rule, and what a rule decides.
 * The engine (in `src/policy`) is pure: compiled rules in, a decision out. The gateway, the
 * console's dry run and the cases part all call it through these types.
 */
import type { Decision, Endpoint, VerificationLevel } from './interchange.js';
import type { AnonymizerKind, NetworkType } from './intel.js';
import type { IndicatorHit } from './shared-indicators.js';

export interface RequestContext {
  api: 'anthropic' | 'openai';
  endpoint: Endpoint;
  model?: string;
  stream: boolean;
  end_user_id?: string;
  client: {
    ip?: string;
    country?: string;
    asn?: number;
    network_type: NetworkType;
    anonymizers: AnonymizerKind[];
    labels: string[];
  };
  /** Absent when no key was resolved. */
  org?: {
    id: string;
    declared_country?: string;
    payment_country?: string;
    declared_use?: string;
    verification: VerificationLevel;
    /** `clear`, `hit` or `restricted_ownership`; `unscreened` before the first screening. */
    screening: 'clear' | 'hit' | 'restricted_ownership' | 'unscreened';
    /** Watchlist entity ids or list ids that the screening matched. */
    screening_entities: string[];
  };
  account?: {
    id: string;
    risk: number;
    labels: string[];
    cluster_id?: string | null;
    attributed_entity?: string | null;
  };
  key?: { id: string };
  /** The most severe enforcement action in force on the key, account, org or cluster. */
  enforcement?: { decision: Decision; action_id: string; reason: string };
  /**
   * Imported indicators (other providers' STIX) this request matches: its address and ASN at
   * request time, the account's own matches through detection's label. Absent when none.
   */
  indicators?: IndicatorHit[];
}

/** A limit that applies to this request; the gateway counts it with the Counters port. */
export interface LimitSpec {
  /** Rule id that declared the limit; it names the refusal. */
  rule: string;
  scope: 'key' | 'org' | 'account';
  kind: 'requests_per_minute' | 'tokens_per_minute' | 'monthly_tokens';
  limit: number;
}

export interface PolicyDecision {
  decision: Decision;
  /** `rule@version`, as written to the usage event's `decision_rule`. */
  rule: string;
  /**
   * Customer-facing message for refusals: what happened and what to do, never how it was
   * detected (e.g. "Requests from this region are not supported.").
   */
  message?: string;
  /** For `step_up`: where the customer verifies. */
  verify_url?: string;
  /** For `degrade` and `throttle`: the countermeasures to apply. */
  params?: Record<string, unknown>;
  /** Limits the gateway enforces after this decision (only when the decision lets it through). */
  limits: LimitSpec[];
}

/** A compiled policy: pure, synchronous, no I/O; must decide in microseconds. */
export interface CompiledPolicy {
  readonly version: number;
  decide(ctx: RequestContext): PolicyDecision;
}

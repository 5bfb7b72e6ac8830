/**
 * The shape of a policy file (zod, strict: an unknown key is an error). Conditions are checked by
 * `conditions.ts`, params per decision here.
 */
import { z } from 'zod';
import { DECISIONS } from '../core/index.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
export const RuleId = z
  .string({ error: 'an id is required: a short name such as "tor-block"' })
  .regex(ID, 'an id is letters, digits, "-", "_", "." or ":" (no spaces, no "@"), such as "tor-block"');

export const DecisionName = z.enum(DECISIONS, {
  error: (iss) => `bad decision ${JSON.stringify(iss.input)}; use one of ${DECISIONS.join(', ')}`,
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'a verify URL is an http(s) URL such as "https://console.example.com/verify"' });
const positiveInt = z
  .int({ error: 'a whole number, such as 600' })
  .positive({ error: 'a positive whole number, such as 600' });
export const LimitScope = z.enum(['key', 'org', 'account'], {
  error: (iss) => `bad scope ${JSON.stringify(iss.input)}; use key, org or account`,
});

export const DegradeParams = z.strictObject({
  /** Caps `max_tokens` of the request. */
  max_output_tokens: positiveInt.optional(),
  /** Removes extended-thinking parameters and thinking blocks. */
  strip_thinking: z.boolean().optional(),
  /** Serves the request with this model instead. */
  route_model: z.string().min(1).optional(),
});
export type DegradeParams = z.infer<typeof DegradeParams>;

export const ThrottleParams = z.strictObject({
  requests_per_minute: positiveInt.optional(),
  tokens_per_minute: positiveInt.optional(),
  /** What the throttle counts per; `key` unless said. */
  scope: LimitScope.optional(),
});
export type ThrottleParams = z.infer<typeof ThrottleParams>;

const message = z.string().min(1, 'a message must not be empty; remove it to use the default');

export const Defaults = z.strictObject({
  /** Customer-facing message per decision, used where a rule (or an enforcement action) gives none. */
  messages: z
    .strictObject({
      throttle: message.optional(),
      degrade: message.optional(),
      step_up: message.optional(),
      block: message.optional(),
    })
    .optional(),
  verify_url: httpUrl.optional(),
  degrade: DegradeParams.optional(),
  throttle: ThrottleParams.optional(),
});

export const Rule = z.strictObject({
  id: RuleId,
  /** For the policy's readers; never sent to customers. */
  description: z.string().optional(),
  enabled: z.boolean().optional(),
  when: z.unknown().optional(),
  decide: DecisionName,
  message: message.optional(),
  verify_url: httpUrl.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type Rule = z.infer<typeof Rule>;

export const Limit = z.strictObject({
  id: RuleId,
  description: z.string().optional(),
  enabled: z.boolean().optional(),
  when: z.unknown().optional(),
  scope: LimitScope,
  requests_per_minute: positiveInt.optional(),
  tokens_per_minute: positiveInt.optional(),
  monthly_tokens: positiveInt.optional(),
  /** Replaces the other limits of the same scope and kind instead of tightening them. */
  override: z.boolean().optional(),
});
export type Limit = z.infer<typeof Limit>;

const ListName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a list name is letters, digits and "_"');

/** Top level: rules and limits are checked one by one so a bad rule does not hide the next. */
export const PolicyFile = z.strictObject({
  format: z.literal(1, { error: 'format: this engine reads format 1; write "format: 1" or leave it out' }).optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  defaults: Defaults.optional(),
  lists: z.record(ListName, z.array(z.union([z.string(), z.number()])).min(1, 'a list needs at least one value')).optional(),
  rules: z.array(z.unknown()).optional(),
  limits: z.array(z.unknown()).optional(),
  /** Automatic enforcement on detection's cluster verdicts (`enforcement.ts`). */
  enforcement: z.unknown().optional(),
});

/** Every key the format knows, for "did you mean" hints. */
export const KNOWN_KEYS: readonly string[] = [
  ...Object.keys(PolicyFile.shape),
  ...Object.keys(Defaults.shape),
  ...Object.keys(Rule.shape),
  ...Object.keys(Limit.shape),
  ...Object.keys(DegradeParams.shape),
  ...Object.keys(ThrottleParams.shape),
  ...DECISIONS,
];

/**
 * The fields a policy condition can test: each with its type (which decides the operators it
 * takes and how its values are checked) and a precompiled accessor into `RequestContext`.
 */
import { DECISIONS, DECLARED_USES, ENDPOINTS, NETWORK_TYPES, VERIFICATION_LEVELS, type RequestContext } from '../core/index.js';

export type FieldType =
  | 'string'
  | 'country'
  | 'enum'
  | 'number'
  | 'boolean'
  /** An ordered enum (verification levels, decisions): `gte`/`lte` compare ranks. */
  | 'ordered'
  | 'string[]'
  | 'enum[]'
  /** A section that may be absent (`org`, `account`, `key`, `enforcement`): `exists` only. */
  | 'object';

export interface FieldDef {
  type: FieldType;
  /** Allowed values for `enum`, `enum[]` and `ordered` (in rank order for `ordered`). */
  values?: readonly string[];
  doc: string;
  get(ctx: RequestContext): unknown;
}

const ANONYMIZERS = ['vpn', 'tor', 'proxy'] as const;
const SCREENING = ['clear', 'hit', 'restricted_ownership', 'unscreened'] as const;

/** Every field a condition may name, by its dotted path. */
export const POLICY_FIELDS: Readonly<Record<string, FieldDef>> = {
  api: { type: 'enum', values: ['anthropic', 'openai'], doc: 'API dialect of the request', get: (c) => c.api },
  endpoint: { type: 'enum', values: ENDPOINTS, doc: 'endpoint called', get: (c) => c.endpoint },
  model: { type: 'string', doc: 'model requested', get: (c) => c.model },
  stream: { type: 'boolean', doc: 'streaming request', get: (c) => c.stream },
  end_user_id: { type: 'string', doc: 'end-user id the customer passed', get: (c) => c.end_user_id },

  'client.ip': { type: 'string', doc: 'client address', get: (c) => c.client.ip },
  'client.country': { type: 'country', doc: 'country of the client address', get: (c) => c.client.country },
  'client.asn': { type: 'number', doc: 'autonomous system of the client address', get: (c) => c.client.asn },
  'client.network_type': {
    type: 'enum',
    values: NETWORK_TYPES,
    doc: 'kind of network (hosting, residential, …)',
    get: (c) => c.client.network_type,
  },
  'client.anonymizers': {
    type: 'enum[]',
    values: ANONYMIZERS,
    doc: 'anonymizers seen on the address (vpn, tor, proxy)',
    get: (c) => c.client.anonymizers,
  },
  'client.labels': { type: 'string[]', doc: 'labels of custom networks', get: (c) => c.client.labels },

  org: { type: 'object', doc: 'the key resolved to an organisation', get: (c) => c.org },
  'org.id': { type: 'string', doc: 'organisation id', get: (c) => c.org?.id },
  'org.declared_country': { type: 'country', doc: 'country the org declared', get: (c) => c.org?.declared_country },
  'org.payment_country': { type: 'country', doc: 'country of the payment method', get: (c) => c.org?.payment_country },
  'org.declared_use': {
    type: 'enum',
    values: DECLARED_USES,
    doc: 'use the org declared',
    get: (c) => c.org?.declared_use,
  },
  'org.verification': {
    type: 'ordered',
    values: VERIFICATION_LEVELS,
    doc: 'verification level (none < email < phone < id < business)',
    get: (c) => c.org?.verification,
  },
  'org.screening': {
    type: 'enum',
    values: SCREENING,
    doc: 'screening status',
    get: (c) => c.org?.screening,
  },
  'org.screening_entities': {
    type: 'string[]',
    doc: 'watchlist entity ids or list ids the screening matched',
    get: (c) => c.org?.screening_entities,
  },

  account: { type: 'object', doc: 'the key resolved to an account', get: (c) => c.account },
  'account.id': { type: 'string', doc: 'account id', get: (c) => c.account?.id },
  'account.risk': { type: 'number', doc: 'current risk score, 0 … 1', get: (c) => c.account?.risk },
  'account.labels': { type: 'string[]', doc: 'detection labels on the account', get: (c) => c.account?.labels },
  'account.cluster_id': { type: 'string', doc: 'cluster the account belongs to', get: (c) => c.account?.cluster_id },
  'account.attributed_entity': {
    type: 'string',
    doc: 'watchlist entity the account is attributed to',
    get: (c) => c.account?.attributed_entity,
  },

  key: { type: 'object', doc: 'a key was resolved', get: (c) => c.key },
  'key.id': { type: 'string', doc: 'key id', get: (c) => c.key?.id },

  enforcement: { type: 'object', doc: 'an enforcement action is in force', get: (c) => c.enforcement },
  'enforcement.decision': {
    type: 'ordered',
    values: DECISIONS,
    doc: 'decision of the most severe action in force',
    get: (c) => c.enforcement?.decision,
  },
  'enforcement.action_id': { type: 'string', doc: 'id of that action', get: (c) => c.enforcement?.action_id },
};

/** Operators each field type takes. */
export const OPERATORS_BY_TYPE: Readonly<Record<FieldType, readonly string[]>> = {
  string: ['equals', 'not_equals', 'in', 'not_in', 'glob', 'not_glob', 'exists'],
  country: ['equals', 'not_equals', 'in', 'not_in', 'exists'],
  enum: ['equals', 'not_equals', 'in', 'not_in', 'exists'],
  number: ['equals', 'not_equals', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists'],
  boolean: ['equals', 'exists'],
  ordered: ['equals', 'not_equals', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists'],
  'string[]': ['contains', 'contains_any', 'contains_all', 'not_contains', 'glob', 'exists'],
  'enum[]': ['contains', 'contains_any', 'contains_all', 'not_contains', 'exists'],
  object: ['exists'],
};

export const ALL_OPERATORS = [
  'equals',
  'not_equals',
  'in',
  'not_in',
  'glob',
  'not_glob',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'contains',
  'contains_any',
  'contains_all',
  'not_contains',
] as const;
export type Operator = (typeof ALL_OPERATORS)[number];

/**
 * A builder of request contexts for tests, dry runs over partial records and benchmarks: a
 * plain request from a verified, clear org in a residential network, with overrides merged in.
 */
import type { RequestContext } from '../core/index.js';

export interface ContextOverrides {
  api?: RequestContext['api'];
  endpoint?: RequestContext['endpoint'];
  model?: string;
  stream?: boolean;
  end_user_id?: string;
  client?: Partial<RequestContext['client']>;
  /** `null` removes the org (no key resolved). */
  org?: Partial<NonNullable<RequestContext['org']>> | null;
  account?: Partial<NonNullable<RequestContext['account']>> | null;
  key?: RequestContext['key'] | null;
  enforcement?: RequestContext['enforcement'];
}

export function makeRequestContext(o: ContextOverrides = {}): RequestContext {
  const ctx: RequestContext = {
    api: o.api ?? 'anthropic',
    endpoint: o.endpoint ?? 'messages',
    model: o.model ?? 'claude-sonnet-4-5',
    stream: o.stream ?? false,
    client: { ip: '198.51.100.7', country: 'US', asn: 64496, network_type: 'residential', anonymizers: [], labels: [], ...o.client },
  };
  if (o.end_user_id !== undefined) ctx.end_user_id = o.end_user_id;
  if (o.org !== null) {
    ctx.org = { id: 'org_test', declared_country: 'US', payment_country: 'US', declared_use: 'internal', verification: 'business', screening: 'clear', screening_entities: [], ...o.org };
  }
  if (o.account !== null) ctx.account = { id: 'acc_test', risk: 0.05, labels: [], cluster_id: null, attributed_entity: null, ...o.account };
  if (o.key !== null) ctx.key = o.key ?? { id: 'key_test' };
  if (o.enforcement) ctx.enforcement = o.enforcement;
  return ctx;
}

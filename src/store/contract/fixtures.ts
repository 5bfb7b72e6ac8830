/**
 * Test data and helpers shared by the contract suites: unique ids, records with every field
 * filled, and a `waitFor` that polls a condition (for asynchronous deliveries).
 */
import { randomUUID } from 'node:crypto';
import type { AccountRecord, ApiKeyRecord, EnforcementAction, Org, UsageEvent } from '../../core/index.js';

export function uid(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

export function makeOrg(over: Partial<Org> = {}): Org {
  return {
    org_id: uid('org'),
    name: 'Fictional Widgets Ltd',
    aliases: ['FW', 'Fictional Widgets'],
    email_domain: 'fictional-widgets.example',
    declared_country: 'SG',
    payment_country: 'SG',
    declared_use: 'internal',
    verification: 'business',
    owners: [{ name: 'Ada Example', country: 'SG', share: 0.6 }],
    created_at: '2026-01-02T03:04:05.000Z',
    updated_at: '2026-01-02T03:04:05.000Z',
    screening: null,
    ...over,
  };
}

export function makeAccount(over: Partial<AccountRecord> = {}): AccountRecord {
  return {
    account_id: uid('acc'),
    org_id: uid('org'),
    status: 'active',
    created_at: '2026-01-02T03:04:05.000Z',
    org_name: 'Fictional Widgets Ltd',
    email: 'ada@fictional-widgets.example',
    email_domain: 'fictional-widgets.example',
    declared_country: 'SG',
    declared_use: 'research',
    verification: 'email',
    payment_fingerprint: 'pf_0123456789',
    payment_country: 'SG',
    signup_ip: '203.0.113.7',
    signup_user_agent: 'Mozilla/5.0 (Fictional)',
    device_fingerprint: 'df_abcdef',
    owners: [{ name: 'Ada Example', share: 1 }],
    ...over,
  };
}

export function makeKey(over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    key_id: uid('key'),
    account_id: uid('acc'),
    org_id: uid('org'),
    name: 'ci key',
    secret_hash: 'a'.repeat(64),
    prefix: 'wdn_k3x9',
    created_at: '2026-01-02T03:04:05.000Z',
    allowed_models: ['model-a', 'model-b'],
    ...over,
  };
}

export function makeEvent(over: Partial<UsageEvent> = {}): UsageEvent {
  return {
    event_id: uid('ev'),
    ts: '2026-03-01T10:00:00.000Z',
    account_id: uid('acc'),
    org_id: uid('org'),
    key_id: uid('key'),
    ip: '198.51.100.23',
    forwarded_for: '198.51.100.23, 10.0.0.1',
    user_agent: 'anthropic-sdk/1.0',
    end_user_id: 'eu-1',
    country: 'SG',
    asn: 64500,
    endpoint: 'messages',
    model: 'model-a',
    stream: true,
    status: 200,
    input_tokens: 120,
    output_tokens: 480,
    latency_ms: 812.5,
    aborted: false,
    decision: 'allow',
    decision_rule: 'default@3',
    turns: 3,
    tools: 0,
    system: 'You are a helpful assistant.',
    prompt: 'Explain photosynthesis.',
    features: { v: 1, len: 23, lang: 'en' },
    ...over,
  };
}

export function makeAction(over: Partial<EnforcementAction> = {}): EnforcementAction {
  return {
    action_id: uid('act'),
    subject: { kind: 'account', id: uid('acc') },
    decision: 'block',
    reason: 'hydra cluster member',
    author: 'analyst@example.test',
    created_at: '2026-03-01T00:00:00.000Z',
    params: { note: 'x', n: 1 },
    source: 'case:c1',
    ...over,
  };
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

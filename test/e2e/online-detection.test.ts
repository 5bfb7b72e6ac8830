import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.js';
import { startOnlineDetection } from '../../src/cli/online-detection.js';
import { createLogger } from '../../src/cli/log.js';
import { createScreener, openIpIntel } from '../../src/intel/index.js';
import { startHarness, type Harness } from './harness.js';

const COT_SYSTEM = 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.';
const cot = (i: number) => `A farmer has ${i} sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.`;
const CHAT = ['What is a good recipe for dinner tonight with chicken and rice?', 'Write a short, friendly email to my landlord about the broken heater.', 'How do I center a div in CSS?'];

// Online detection inside `warden serve`: the gateway's own usage events feed the engine, the
// risk it computes lands in the store, and the policy reads it on the next request.
describe('online detection in the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('scores linked accounts sending templated chain-of-thought sweeps above an ordinary customer', async () => {
    const org = await h.admin.call<{ org_id: string }>('POST', '/orgs', { name: 'Shell Trading Ltd', declared_country: 'SG', verification: 'email' });
    const linked: { key: string; id: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const acc = await h.admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, payment_fingerprint: 'pf_shared_card', device_fingerprint: 'df_shared_device', email_domain: 'mailbox.example' });
      const key = await h.admin.call<{ key: string }>('POST', '/keys', { account_id: acc.account_id });
      linked.push({ key: key.key, id: acc.account_id });
    }
    const dev = await h.customer();
    for (let round = 0; round < 60; round++) {
      await Promise.all(
        linked.map((a, i) =>
          new Anthropic({ apiKey: a.key, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': `47.74.0.${10 + i}` } }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 50, system: COT_SYSTEM, messages: [{ role: 'user', content: cot(round * 4 + i) }] }),
        ),
      );
      await new Anthropic({ apiKey: dev.key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user', content: CHAT[round % 3]! }] });
    }
    await h.detect();
    const risk = async (id: string) => (await h.admin.call<{ risk: { risk: number; labels: string[]; cluster_id?: string | null } | null }>('GET', `/accounts/${id}/export`)).risk;
    const linkedRisks = await Promise.all(linked.map((a) => risk(a.id)));
    const devRisk = await risk(dev.accountId);
    for (const r of linkedRisks) expect(r!.risk).toBeGreaterThan(devRisk?.risk ?? 0);
    expect(linkedRisks.every((r) => r!.labels.length > 0)).toBe(true);
    expect(new Set(linkedRisks.map((r) => r!.cluster_id)).size).toBe(1);
    expect(linkedRisks[0]!.cluster_id).toBeTruthy();
    expect(await h.detectedEvents()).toBeGreaterThanOrEqual(60);

    // The cluster became an alert and the alert a case, with the linked accounts in it.
    const cases = (await h.admin.call<{ cases: { case_id: string; accounts: string[]; clusters: string[] }[] }>('GET', '/cases')).cases;
    const c = cases.find((x) => linked.every((a) => x.accounts.includes(a.id)));
    expect(c, JSON.stringify({ cases, linkedRisks })).toBeTruthy();
    expect(c!.accounts).not.toContain(dev.accountId);
    expect(c!.clusters).toContain(linkedRisks[0]!.cluster_id);
    // The alert carries the cluster's indicators, so the case can be shared as STIX.
    const stix = await h.admin.call<{ objects: { type: string; pattern?: string }[] }>('GET', `/cases/${c!.case_id}/stix`);
    const patterns = stix.objects.filter((o) => o.type === 'indicator').map((o) => o.pattern!);
    expect(patterns.some((p) => p.startsWith('[x-warden-device:fingerprint_sha256'))).toBe(true);
    expect(patterns.some((p) => p.startsWith('[x-warden-payment-instrument:fingerprint_sha256'))).toBe(true);
    expect(patterns).toContain("[domain-name:value = 'mailbox.example']");
    // A second evaluation with nothing new raises no second case.
    await h.detect();
    expect((await h.admin.call<{ cases: unknown[] }>('GET', '/cases')).cases.length).toBe(cases.length);
  }, 120_000);
});

describe('online detection checkpoints', () => {
  it('resumes from its checkpoint and the events stored after it, neither forgetting nor double counting', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const deps = { store, intel: openIpIntel({ ipv6: false }), screener: createScreener({ sanctions: false }), log: createLogger('silent'), everyMs: 60_000, checkpointEveryMs: 60_000 };
    const t = Date.parse('2026-11-01T00:00:00Z');
    const ev = (i: number) => ({ event_id: `e${i}`, ts: new Date(t + i * 1000).toISOString(), account_id: 'acc_1', endpoint: 'messages' as const, status: 200, input_tokens: 10, output_tokens: 10 });
    await store.createOrg({ org_id: 'o1', name: 'O', aliases: [], verification: 'none', owners: [], created_at: new Date(t).toISOString(), updated_at: new Date(t).toISOString(), screening: null });
    await store.createAccount({ account_id: 'acc_1', org_id: 'o1', created_at: new Date(t).toISOString(), status: 'active' });
    const first = await startOnlineDetection(deps);
    for (let i = 0; i < 10; i++) {
      await store.appendEvents([ev(i)]);
      first.observe(ev(i));
    }
    await first.close(); // checkpoints
    for (let i = 10; i < 15; i++) await store.appendEvents([ev(i)]); // while it was down
    const second = await startOnlineDetection(deps);
    expect(second.stats().events).toBe(15);
    expect(second.stats().accounts).toBe(1);
    await second.close();
    await store.close();
  });
});

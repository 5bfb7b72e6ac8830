import Anthropic from '@anthropic-ai/sdk';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, Case, EnforcementAction } from '../../src/core/index.js';
import { readAudit } from '../../src/cases/index.js';
import { ROOT, startHarness, type Harness } from './harness.js';

// Automatic enforcement from the policy file: the demo's campaign (linked accounts sweeping
// chain-of-thought prompts) is blocked at the gateway by an `enforcement:` rule as soon as online
// detection evaluates it, through the analyst's own path; in dry run nothing is blocked and the
// case and the report say what would have been.

const SYSTEM = 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.';
const cot = (i: number) => `A farmer has ${i} sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.`;

/** The demo policy with its enforcement section replaced (the request rules stay as shipped). */
function policyWith(mode: 'enforce' | 'dry_run'): string {
  const demo = readFileSync(path.join(ROOT, 'policies/demo.yaml'), 'utf8');
  const start = demo.indexOf('\nenforcement:');
  const end = demo.indexOf('\nlimits:');
  expect(start).toBeGreaterThan(0);
  return `${demo.slice(0, start)}
enforcement:
  mode: ${mode}
  rules:
    - id: never-matches
      when: { risk_gte: 0.99, attribution_confidence_gte: 0.9 }
      then: { action: step_up }
    - id: campaign-block
      when: { risk_gte: 0.7, labels_any: [distillation, capability_probing], recommended_gte: step_up }
      then: { action: block, subject: cluster, expires_in: 30d, reason: linked accounts harvesting reasoning traces }
    - id: the-rest
      then: { action: open_case }
${demo.slice(end)}`;
}

/** Only the test's `tick()` evaluates, so "before" and "after" the evaluation are well defined. */
const MANUAL = { evaluate_every_ms: 3_600_000 };

interface World {
  keys: { id: string; key: string }[];
  bystander: { key: string; accountId: string };
}

/** Four accounts of one shell company (one card, one device) sweep CoT prompts; one ordinary customer. */
async function campaign(h: Harness): Promise<World> {
  const org = await h.admin.call<{ org_id: string }>('POST', '/orgs', { name: 'Harborline Trading Pte Ltd', declared_country: 'SG', verification: 'email' });
  const keys: World['keys'] = [];
  for (let i = 0; i < 4; i++) {
    const a = await h.admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, payment_fingerprint: 'pf_7c1e90aa', device_fingerprint: 'df_a03f11', email_domain: 'mailbox.example' });
    const k = await h.admin.call<{ key: string }>('POST', '/keys', { account_id: a.account_id });
    keys.push({ id: a.account_id, key: k.key });
  }
  const bystander = await h.customer();
  for (let round = 0; round < 60; round++) {
    await Promise.all(keys.map((a, i) => client(h, a.key, `47.74.0.${10 + i}`).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 50, system: SYSTEM, messages: [{ role: 'user', content: cot(round * 4 + i) }] })));
  }
  return { keys, bystander };
}

const client = (h: Harness, key: string, ip?: string) => new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0, ...(ip ? { defaultHeaders: { 'x-forwarded-for': ip } } : {}) });
const ask = (h: Harness, key: string) => client(h, key).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'hello' }] });
const caseOf = async (h: Harness, accounts: string[]) => {
  const cases = (await h.admin.call<{ cases: Case[] }>('GET', '/cases')).cases;
  return cases.find((c) => accounts.every((a) => c.accounts.includes(a)));
};
async function audit(h: Harness): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of readAudit(h.server.cases)) out.push(r);
  return out;
}

describe('automatic enforcement (mode: enforce)', () => {
  let h: Harness;
  let w: World;
  beforeAll(async () => {
    h = await startHarness({ policy: policyWith('enforce'), detection: MANUAL });
    w = await campaign(h);
  }, 120_000);
  afterAll(async () => h?.close());

  it('blocks the campaign at the gateway on the request after the evaluation, and only the campaign', async () => {
    // Before the evaluation the campaign is served (degraded at most).
    await expect(ask(h, w.keys[0]!.key)).resolves.toMatchObject({ type: 'message' });
    await h.detect();
    for (const k of w.keys) {
      const err = await ask(h, k.key).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
      expect((err as InstanceType<typeof Anthropic.PermissionDeniedError>).message).toContain('POST /v1/warden/appeals');
    }
    await expect(ask(h, w.bystander.key)).resolves.toMatchObject({ type: 'message' });
  });

  it('records the action on the case as the rule, audited, like an analyst action', async () => {
    const c = (await caseOf(h, w.keys.map((k) => k.id)))!;
    expect(c).toBeTruthy();
    expect(c.status).toBe('actioned');
    expect(c.actions).toHaveLength(1);
    const entry = c.timeline.find((t) => t.kind === 'action')!;
    expect(entry).toMatchObject({ by: 'auto:campaign-block', ref: c.actions[0] });
    expect(entry.detail).toContain(`block on cluster ${c.clusters[0]}`);
    const action: EnforcementAction = (await h.server.store.getAction(c.actions[0]!))!;
    expect(action).toMatchObject({ decision: 'block', author: 'auto:campaign-block', source: `case:${c.case_id}`, subject: { kind: 'cluster', id: c.clusters[0] }, reason: 'linked accounts harvesting reasoning traces' });
    const days = (Date.parse(action.expires_at!) - Date.parse(action.created_at)) / 86_400_000;
    expect(days).toBeCloseTo(30, 5);
    await expect.poll(async () => (await audit(h)).filter((r) => r.actor === 'auto:campaign-block').map((r) => r.type).sort()).toEqual(['action.put', 'case.action']);
  });

  it('does not act twice, and an analyst reversal sticks through later evaluations', async () => {
    await h.detect();
    const c = (await caseOf(h, w.keys.map((k) => k.id)))!;
    expect(c.actions).toHaveLength(1);
    await h.admin.call('POST', `/cases/${c.case_id}/reverse`, { action_id: c.actions[0], reason: 'false positive: approved evaluation' });
    await expect(ask(h, w.keys[0]!.key)).resolves.toMatchObject({ type: 'message' });
    await h.detect();
    expect((await h.admin.call<Case>('GET', `/cases/${c.case_id}`)).actions).toHaveLength(1);
    await expect(ask(h, w.keys[1]!.key)).resolves.toMatchObject({ type: 'message' });
  });

  it('lists the action in the enforcement report with its state', async () => {
    const report = await h.admin.call<{ mode: string; rules: { id: string }[]; entries: { rule: string; kind: string; state?: string }[] }>('GET', '/enforcement/automatic');
    expect(report.mode).toBe('enforce');
    expect(report.rules.map((r) => r.id)).toEqual(['never-matches', 'campaign-block', 'the-rest']);
    expect(report.entries).toMatchObject([{ rule: 'campaign-block', kind: 'action', state: 'reversed' }]);
  });
});

describe('automatic enforcement (mode: dry_run)', () => {
  let h: Harness;
  let w: World;
  beforeAll(async () => {
    h = await startHarness({ policy: policyWith('dry_run'), detection: MANUAL });
    w = await campaign(h);
  }, 120_000);
  afterAll(async () => h?.close());

  it('blocks nothing and records what it would have done on the case, in the audit log and the report', async () => {
    await h.detect();
    for (const k of w.keys) await expect(ask(h, k.key)).resolves.toMatchObject({ type: 'message' });
    const c = (await caseOf(h, w.keys.map((k) => k.id)))!;
    expect(c).toBeTruthy();
    expect(c.actions).toEqual([]);
    expect(c.status).toBe('open');
    const would = c.timeline.filter((t) => t.kind === 'would_act');
    expect(would).toHaveLength(1);
    expect(would[0]).toMatchObject({ by: 'auto:campaign-block', ref: `block:cluster:${c.clusters[0]}` });
    expect(would[0]!.detail).toMatch(/^would block cluster cl_\w+ until .+ \(rule campaign-block@\d+, dry run: nothing enforced\): linked accounts harvesting reasoning traces$/);
    expect(await h.server.store.listActiveActions(new Date().toISOString())).toEqual([]);
    await expect.poll(async () => (await audit(h)).filter((r) => r.type === 'case.would_act').map((r) => r.actor)).toEqual(['auto:campaign-block']);

    // Another evaluation records nothing new.
    await h.detect();
    expect((await h.admin.call<Case>('GET', `/cases/${c.case_id}`)).timeline.filter((t) => t.kind === 'would_act')).toHaveLength(1);

    const report = await h.admin.call<{ mode: string; entries: { rule: string; kind: string; case_id: string; detail: string }[] }>('GET', '/enforcement/automatic');
    expect(report.mode).toBe('dry_run');
    expect(report.entries).toMatchObject([{ rule: 'campaign-block', kind: 'would_act', case_id: c.case_id }]);
  });
});

import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case, EnforcementAction } from '../../src/core/index.js';
import { startHarness, type Harness } from './harness.js';

// The customer's side: a blocked customer appeals with its own key, the case reopens as
// `appealed` with the customer's words, and the analyst's reversal restores access.
describe('appeals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  const ask = (key: string) => new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'hello' }] });
  const appeal = (key: string | undefined, body: unknown) =>
    fetch(`${h.url}/v1/warden/appeals`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) }, body: JSON.stringify(body) });

  it('reopens the case as appealed with the customer reason, and the reversal restores access', async () => {
    const c = await h.customer();
    const { created } = await h.admin.call<{ created: string[] }>('POST', '/alerts', {
      alerts: [{ alert_id: 'al_appeal_1', detector: 'distillation', subjects: { accounts: [c.accountId] }, score: 0.9, labels: ['distillation'], evidence: [{ code: 'cot_sweep', detail: 'templated chain-of-thought prompts', weight: 0.5 }], created_at: new Date().toISOString() }],
    });
    const caseId = created[0]!;
    const acted = await h.admin.call<{ actions: EnforcementAction[] }>('POST', `/cases/${caseId}/act`, { action: 'block', reason: 'distillation', scope: 'accounts' });
    await expect(ask(c.key)).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);

    expect((await appeal(undefined, { reason: 'We are a university research lab.' })).status).toBe(401);
    const bad = await appeal(c.key, { reason: 'no' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/reason/);

    const r = await appeal(c.key, { reason: 'We are a university research lab running an approved evaluation.', contact: 'lab@uni.example' });
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ status: 'received', cases_reopened: 1 });
    const after = await h.admin.call<Case>('GET', `/cases/${caseId}`);
    expect(after.status).toBe('appealed');
    expect(after.notes.some((n) => n.text.includes('approved evaluation') && n.author === `customer:${c.accountId}`)).toBe(true);

    await h.admin.call('POST', `/cases/${caseId}/reverse`, { action_id: acted.actions[0]!.action_id, reason: 'appeal upheld: approved evaluation' });
    await expect(ask(c.key)).resolves.toMatchObject({ type: 'message' });

    await expect.poll(async () => (await h.server.cases.listAudit({ type: 'case.appeal' })).length).toBe(1);
  });
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/cases/index.js';
import { ROOT, startHarness, type Harness } from './harness.js';

const run = promisify(execFile);
const CLI = [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'src/cli/main.ts')];
const warden = (args: string[]) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, WARDEN_LOG_LEVEL: 'silent' } });

// The customer's side of a refusal: every refusal a customer can contest names the appeal
// endpoint in both API shapes, a step_up names where to verify, and a passed verification
// (recorded by an admin, or reported by the provider's signed webhook) lets the key through on
// its next request.

const SECRET = 'whsec_e2e_verification_0123456789';
const APPEAL = 'POST /v1/warden/appeals';
const VERIFY_URL = 'https://console.warden.example/verify'; // defaults.verify_url of the demo policy

describe('refusals, appeals and verification', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ verification: { webhook_secret: SECRET } });
  });
  afterAll(async () => h?.close());

  const anthropic = (key: string) => new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });
  const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
  const askA = (key: string) => anthropic(key).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'hello' }] });
  const askO = (key: string) => openai(key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
  const errorOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error & { status?: number });
  const act = (accountId: string, decision: string) => h.admin.call<{ action_id: string }>('POST', '/actions', { subject: { kind: 'account', id: accountId }, decision, reason: 'test' });

  it('names the appeal endpoint in block refusals, in the Anthropic and the OpenAI shape', async () => {
    const c = await h.customer();
    await act(c.accountId, 'block');
    const a = await errorOf(askA(c.key));
    expect(a).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(a!.message).toContain(APPEAL);
    const o = await errorOf(askO(c.key));
    expect(o).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(o!.message).toContain(APPEAL);
  });

  it('names where to verify and where to appeal in step_up refusals, in both shapes', async () => {
    const c = await h.customer();
    await act(c.accountId, 'step_up');
    for (const e of [await errorOf(askA(c.key)), await errorOf(askO(c.key))]) {
      expect(e!.status).toBe(403);
      expect(e!.message).toContain(VERIFY_URL);
      expect(e!.message).toContain(APPEAL);
    }
  });

  it('names the appeal endpoint when a throttle decided for the customer refuses, in both shapes', async () => {
    const c = await h.customer();
    await act(c.accountId, 'throttle'); // the demo policy's defaults.throttle: 10 requests a minute
    for (let i = 0; i < 10; i++) await askA(c.key);
    const a = await errorOf(askA(c.key));
    expect(a).toBeInstanceOf(Anthropic.RateLimitError);
    expect(a!.message).toContain(APPEAL);
    const o = await errorOf(askO(c.key));
    expect(o).toBeInstanceOf(OpenAI.RateLimitError);
    expect(o!.message).toContain(APPEAL);
  });

  it('lets the key through after an admin records a passed verification', async () => {
    const c = await h.customer();
    await act(c.accountId, 'step_up');
    await expect(askA(c.key)).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);
    const r = await h.admin.call<{ verification: { to: string }; lifted: { action_id: string; reversed_reason: string }[] }>('POST', `/accounts/${c.accountId}/verification`, { level: 'id', method: 'document', reference: 'chk_e2e_1' });
    expect(r.verification.to).toBe('id');
    expect(r.lifted).toHaveLength(1);
    expect(r.lifted[0]!.reversed_reason).toBe('verification passed');
    await expect(askA(c.key)).resolves.toMatchObject({ type: 'message' });
    await expect(askO(c.key)).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it("lets the key through after the provider's signed webhook reports the verification, once", async () => {
    const c = await h.customer();
    await act(c.accountId, 'step_up');
    await expect(askO(c.key)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    const body = JSON.stringify({ event_id: `evt_${c.accountId}`, type: 'verification.passed', account_id: c.accountId, level: 'business', method: 'kyb-provider', reference: 'kyb_e2e' });
    const send = (sig: string) => fetch(`${h.url}/v1/warden/verification/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'warden-signature': sig }, body });
    const forged = await send(signWebhook('not-the-shared-secret-123', Math.floor(Date.now() / 1000), body));
    expect(forged.status).toBe(401);
    await expect(askO(c.key)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    const ok = await send(signWebhook(SECRET, Math.floor(Date.now() / 1000), body));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'processed', lifted: 1 });
    await expect(askO(c.key)).resolves.toMatchObject({ object: 'chat.completion' });
    const replay = await send(signWebhook(SECRET, Math.floor(Date.now() / 1000), body));
    expect(await replay.json()).toMatchObject({ status: 'duplicate' });
  });

  it('lifts step_up from the command line (warden accounts verify), and reports automatic enforcement (warden policy enforcement-report)', async () => {
    const c = await h.customer();
    await act(c.accountId, 'step_up');
    await expect(askA(c.key)).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);
    const auth = ['--url', h.url, '--token', h.server.adminToken];
    const out = await warden(['accounts', 'verify', c.accountId, '--level', 'phone', '--method', 'sms', '--reference', 'otp_1', ...auth]);
    expect(JSON.parse(out.stdout)).toMatchObject({ verification: { to: 'phone' }, lifted: [{ reversed_reason: 'verification passed' }] });
    await expect(askA(c.key)).resolves.toMatchObject({ type: 'message' });
    const bad = await warden(['accounts', 'verify', c.accountId, '--level', 'passport', '--method', 'x', '--reference', 'y', ...auth]).then(() => null, (e: { stderr: string }) => e);
    expect(bad!.stderr).toMatch(/passport/);
    const report = await warden(['policy', 'enforcement-report', ...auth]);
    expect(report.stdout).toMatch(/^Automatic enforcement: mode dry_run \(nothing is enforced/);
    expect(report.stdout).toContain('rule distillation-cluster (line ');
  }, 180_000); // three CLI processes; each starts tsx, which takes seconds on a loaded machine
});

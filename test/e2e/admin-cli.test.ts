import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startHarness, waitForEvents, type Harness } from './harness.js';

const run = promisify(execFile);
const CLI = [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'src/cli/main.ts')];
const warden = (args: string[]) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, WARDEN_LOG_LEVEL: 'silent' } });

describe('admin API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ retention: { events_days: 30, raw_text_days: 7 } });
  });
  afterAll(async () => h?.close());

  it('refuses requests without the admin token', async () => {
    const r = await fetch(`${h.url}/admin/v1/orgs`);
    expect(r.status).toBe(401);
    const r2 = await fetch(`${h.url}/admin/v1/orgs`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } });
    expect(r2.status).toBe(401);
  });

  it('validates strictly and names the offending field', async () => {
    const post = (body: unknown) => fetch(`${h.url}/admin/v1/orgs`, { method: 'POST', headers: { authorization: `Bearer ${h.server.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await post({ name: 'X', declared_countri: 'DE' });
    expect(r.status).toBe(400);
    const j = (await r.json()) as { error: { message: string; issues: { path: string }[] } };
    expect(j.error.message).toMatch(/declared_countri/);
    const r2 = await post({ name: 'X', owners: [{ name: 'A', share: 2 }] });
    expect(((await r2.json()) as { error: { issues: { path: string }[] } }).error.issues[0]!.path).toBe('owners[0].share');
    const r3 = await post({ name: 'X', declared_country: 'germany' });
    expect(((await r3.json()) as { error: { issues: { path: string }[] } }).error.issues[0]!.path).toBe('declared_country');
  });

  it('shows a key once and never its secret or hash afterwards', async () => {
    const c = await h.customer();
    const listed = JSON.stringify(await h.admin.call('GET', `/keys?account_id=${c.accountId}`));
    expect(listed).not.toContain(c.key.slice(20));
    expect(listed).not.toContain('secret_hash');
    expect(listed).toContain(c.keyId);
  });

  it('rotates a key: both work during the overlap, the old one not after it', async () => {
    const c = await h.customer();
    const rotated = await h.admin.call<{ key: string; old_key_expires_at: string }>('POST', `/keys/${c.keyId}/rotate`, { overlap_seconds: 1 });
    const ask = (k: string) => new Anthropic({ apiKey: k, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    await expect(ask(c.key)).resolves.toBeTruthy();
    await expect(ask(rotated.key)).resolves.toBeTruthy();
    await new Promise((r) => setTimeout(r, Date.parse(rotated.old_key_expires_at) - Date.now() + 50));
    await expect(ask(c.key)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(ask(rotated.key)).resolves.toBeTruthy();
  });

  it('keeps raw prompt text only when retention for it is configured', async () => {
    const c = await h.customer();
    await new Anthropic({ apiKey: c.key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, system: 'You are terse.', messages: [{ role: 'user', content: 'retained prompt text' }] });
    const [ev] = await waitForEvents<Record<string, unknown>>(h, `account_id=${c.accountId}`, 1);
    expect(ev).toMatchObject({ prompt: 'retained prompt text', system: 'You are terse.' });
  });

  it('exports and then erases an account for a data-subject request', async () => {
    const c = await h.customer();
    await new Anthropic({ apiKey: c.key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    await waitForEvents(h, `account_id=${c.accountId}`, 1);
    const exported = await h.admin.call<{ account: { account_id: string }; events: unknown[]; keys: unknown[] }>('GET', `/accounts/${c.accountId}/export`);
    expect(exported.account.account_id).toBe(c.accountId);
    expect(exported.events.length).toBe(1);
    expect(exported.keys.length).toBe(1);
    await h.admin.call('DELETE', `/accounts/${c.accountId}`);
    await expect(new Anthropic({ apiKey: c.key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    expect((await h.admin.call<{ events: unknown[] }>('GET', `/events?account_id=${c.accountId}`)).events).toEqual([]);
    await expect(h.admin.call('GET', `/accounts/${c.accountId}/export`)).rejects.toThrow(/404/);
  });
});

describe('the warden CLI', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('lists every command with a line each', async () => {
    const { stdout } = await warden(['--help']);
    for (const cmd of ['serve', 'mock-upstream', 'demo', 'orgs', 'accounts', 'keys', 'actions', 'policy', 'intel', 'screen', 'simulate', 'eval', 'score']) expect(stdout).toMatch(new RegExp(`\\n\\s+${cmd}\\b.*\\S`));
  });

  it('creates an org, account and key, and a revoke through the server takes effect at once', async () => {
    const common = ['--url', h.url, '--token', h.server.adminToken];
    const org = JSON.parse((await warden(['orgs', 'create', '--name', 'Cli Test AG', '--country', 'CH', '--verification', 'business', ...common])).stdout);
    const acc = JSON.parse((await warden(['accounts', 'create', '--org', org.org_id, ...common])).stdout);
    const key = JSON.parse((await warden(['keys', 'create', '--account', acc.account_id, ...common])).stdout);
    const a = new Anthropic({ apiKey: key.key, baseURL: h.url, maxRetries: 0 });
    await expect(a.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).resolves.toBeTruthy();
    await warden(['keys', 'revoke', key.key_id, ...common]);
    await expect(a.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('says clearly when the server is unreachable', async () => {
    const err = (await warden(['orgs', 'list', '--url', 'http://127.0.0.1:9', '--token', 'x'.repeat(20)]).catch((e: unknown) => e)) as { stderr: string; code: number };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/Cannot reach the Warden server at http:\/\/127\.0\.0\.1:9/);
  });

  it('validates a policy file and names file, line and rule of each problem', async () => {
    const ok = await warden(['policy', 'validate', path.join(ROOT, 'policies/demo.yaml')]);
    expect(ok.stdout).toMatch(/valid/);
  });
});

/**
 * The console's HTTP API on a real server: console users created through the admin API, sign-in
 * with a cookie session, the overview, a case's graph and timeline, an analyst acting on a case
 * with the CSRF token (recorded as the author), and a viewer refused.
 */
import { Readable, Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUserCommands } from '../../src/cli/user-commands.js';
import { startHarness, type Harness } from './harness.js';

const USERS = {
  analyst: { username: 'ana', password: 'analyst-password-0001', role: 'analyst' },
  viewer: { username: 'vic', password: 'viewer-password-00001', role: 'viewer' },
  admin: { username: 'ada', password: 'admin-password-000001', role: 'admin' },
} as const;

interface Session {
  cookie: string;
  csrf: string;
}

describe('console API (end to end)', () => {
  let h: Harness;
  let caseId: string;
  let accounts: string[];

  const call = async (method: string, p: string, opts: { session?: Session; csrf?: string | null; body?: unknown; token?: boolean } = {}) => {
    const headers: Record<string, string> = {};
    if (opts.session) headers['cookie'] = opts.session.cookie;
    if (opts.session && opts.csrf !== null) headers['x-csrf-token'] = opts.csrf ?? opts.session.csrf;
    if (opts.token) headers['authorization'] = `Bearer ${h.server.adminToken}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${h.url}${p}`, { method, headers, redirect: 'manual', ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  const signIn = async (who: keyof typeof USERS): Promise<Session> => {
    const r = await call('POST', '/console/api/session', { body: { username: USERS[who].username, password: USERS[who].password } });
    expect(r.status).toBe(200);
    const cookie = r.headers.get('set-cookie')!;
    return { cookie: cookie.split(';')[0]!, csrf: r.json.csrf_token };
  };

  beforeAll(async () => {
    h = await startHarness();
    for (const u of Object.values(USERS)) expect((await call('POST', '/admin/v1/users', { token: true, body: u })).status).toBe(201);
    // The seed case in miniature: four accounts on one card and one device sweep chain-of-thought prompts.
    const org = await h.admin.call<{ org_id: string }>('POST', '/orgs', { name: 'Harborline Trading Pte Ltd', declared_country: 'SG', verification: 'email' });
    const keys: string[] = [];
    accounts = [];
    for (let i = 0; i < 4; i++) {
      const a = await h.admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, payment_fingerprint: 'pf_7c1e90aa', device_fingerprint: 'df_a03f11', email_domain: 'mailbox.example' });
      keys.push((await h.admin.call<{ key: string }>('POST', '/keys', { account_id: a.account_id })).key);
      accounts.push(a.account_id);
    }
    const system = 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.';
    const clients = keys.map((k, i) => new Anthropic({ apiKey: k, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': `47.74.0.${10 + i}` } }));
    for (let round = 0; round < 60; round++) {
      await Promise.all(clients.map((c, i) => c.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 20, system, messages: [{ role: 'user', content: `A farmer has ${round * 4 + i} sheep. How many after 3 weeks?\n\nLet's think step by step.` }] })));
    }
    await h.detect();
    const cases = (await h.admin.call<{ cases: { case_id: string; accounts: string[] }[] }>('GET', '/cases')).cases;
    const found = cases.find((c) => accounts.every((a) => c.accounts.includes(a)));
    expect(found, 'online detection opened a case for the four accounts').toBeDefined();
    caseId = found!.case_id;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('signs in with a secure cookie, reads the session, and refuses a wrong password without naming the cause', async () => {
    const r = await call('POST', '/console/api/session', { body: { username: 'ana', password: USERS.analyst.password } });
    expect(r.status).toBe(200);
    expect(r.json.user).toEqual({ username: 'ana', role: 'analyst' });
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^warden_session=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/); // plain http, secure_cookies: auto
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const s = { cookie: cookie.split(';')[0]!, csrf: r.json.csrf_token as string };
    const got = await call('GET', '/console/api/session', { session: s });
    expect(got.json).toMatchObject({ user: { username: 'ana', role: 'analyst' }, csrf_token: s.csrf });

    const wrong = await call('POST', '/console/api/session', { body: { username: 'ana', password: 'not-the-password' } });
    const nobody = await call('POST', '/console/api/session', { body: { username: 'nobody', password: 'not-the-password' } });
    expect(wrong.status).toBe(401);
    expect(nobody.status).toBe(401);
    expect(wrong.json).toEqual(nobody.json);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const audit = await h.server.cases.listAudit({ type: 'console.login_failed' });
    expect(audit.map((a) => a.data['username'])).toEqual(expect.arrayContaining(['ana', 'nobody']));
    expect((await h.server.cases.listAudit({ type: 'console.login', actor: 'ana' })).length).toBeGreaterThanOrEqual(1);
  });

  it('reads the overview with a session: traffic per minute, the open case, the cluster, health', async () => {
    const s = await signIn('viewer');
    const r = await call('GET', '/admin/v1/overview', { session: s });
    expect(r.status).toBe(200);
    expect(r.json.traffic.window_minutes).toBe(60);
    expect(r.json.traffic.buckets).toHaveLength(60);
    expect(r.json.traffic.totals.allowed).toBeGreaterThanOrEqual(240);
    expect(r.json.cases.open_total).toBeGreaterThanOrEqual(1);
    expect(r.json.cases.recent.map((c: { case_id: string }) => c.case_id)).toContain(caseId);
    expect(r.json.clusters.some((c: { case_id?: string; accounts: number }) => c.case_id === caseId && c.accounts === 4)).toBe(true);
    expect(r.json.health).toMatchObject({ status: 'ok', profile: h.profile, store: 'ok' });
  });

  it('draws the case graph: the four accounts and the card, device and e-mail domain they share', async () => {
    const s = await signIn('viewer');
    const r = await call('GET', `/admin/v1/cases/${caseId}/graph`, { session: s });
    expect(r.status).toBe(200);
    const accountNodes = r.json.nodes.filter((n: { kind: string }) => n.kind === 'account').map((n: { id: string }) => n.id);
    expect(accountNodes.sort()).toEqual([...accounts].sort());
    const kinds = r.json.nodes.filter((n: { kind: string }) => n.kind !== 'account').map((n: { kind: string }) => n.kind);
    expect(kinds).toEqual(expect.arrayContaining(['payment', 'device', 'email_domain']));
    const card = r.json.nodes.find((n: { kind: string }) => n.kind === 'payment').id;
    expect(r.json.edges.filter((e: { target: string }) => e.target === card).map((e: { source: string }) => e.source).sort()).toEqual([...accounts].sort());
    const timeline = await call('GET', `/admin/v1/cases/${caseId}/timeline`, { session: s });
    expect(timeline.json.buckets.reduce((n: number, b: { requests: number }) => n + b.requests, 0)).toBe(240);
    expect(timeline.json.entries.length).toBeGreaterThanOrEqual(1);
  });

  it('lets an analyst act on the case with the CSRF token, recording the username; refuses without it', async () => {
    const s = await signIn('analyst');
    const noCsrf = await call('POST', `/admin/v1/cases/${caseId}/act`, { session: s, csrf: null, body: { action: 'block', reason: 'linked accounts' } });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.json.error.type).toBe('csrf');
    const badCsrf = await call('POST', `/admin/v1/cases/${caseId}/act`, { session: s, csrf: 'x'.repeat(32), body: { action: 'block', reason: 'linked accounts' } });
    expect(badCsrf.status).toBe(403);
    const r = await call('POST', `/admin/v1/cases/${caseId}/act`, { session: s, body: { action: 'block', reason: 'linked accounts', author: 'someone-else' } });
    expect(r.status).toBe(201);
    expect(r.json.actions.every((a: { author: string }) => a.author === 'ana')).toBe(true);
    const rollback = await call('POST', '/admin/v1/policy/rollback', { session: s, body: { version: 1 } });
    expect(rollback.status).toBe(403);
    expect(rollback.json.error).toMatchObject({ type: 'forbidden' });
    expect(rollback.json.error.message).toMatch(/requires the admin role/);
  });

  it('refuses a viewer’s action with 403 and names the role needed', async () => {
    const s = await signIn('viewer');
    const r = await call('POST', `/admin/v1/cases/${caseId}/act`, { session: s, body: { action: 'block', reason: 'no' } });
    expect(r.status).toBe(403);
    expect(r.json.error.message).toMatch(/requires the analyst role/);
    expect((await call('GET', '/admin/v1/cases', { session: s })).status).toBe(200);
  });

  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const s = await signIn('admin');
    expect((await call('GET', '/admin/v1/users', { session: s })).json.users.map((u: { username: string }) => u.username)).toEqual(['ada', 'ana', 'vic']);
    expect((await call('DELETE', '/console/api/session', { session: s, csrf: null })).status).toBe(403);
    const out = await call('DELETE', '/console/api/session', { session: s });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/warden_session=;/);
    expect((await call('GET', '/admin/v1/overview', { session: s })).status).toBe(401);
    expect((await h.server.cases.listAudit({ type: 'console.logout', actor: 'ada' })).length).toBe(1);
  });

  it('manages users from the CLI: a generated password shown once, one from stdin, list, delete', async () => {
    const run = async (args: string[], stdin?: string) => {
      let text = '';
      const out = new Writable({ write: (c, _e, cb) => void ((text += String(c)), cb()) });
      const program = new Command().exitOverride();
      registerUserCommands(program, { client: () => h.admin, print: () => undefined, adminOptions: (c) => c.option('--url <url>').option('--token <token>'), out, ...(stdin !== undefined ? { stdin: Readable.from([stdin]) } : {}) });
      await program.parseAsync(['node', 'warden', ...args]);
      return text;
    };
    const created = await run(['users', 'create', 'gen', '--role', 'viewer']);
    const password = /Password \(shown once, store it now\): (\S+)/.exec(created)![1]!;
    expect(password).toHaveLength(20);
    expect((await call('POST', '/console/api/session', { body: { username: 'gen', password } })).status).toBe(200);
    const piped = await run(['users', 'create', 'piped', '--role', 'analyst', '--password-stdin'], 'piped-password-0001\n');
    expect(piped).toBe('Created console user piped (analyst).\n');
    expect((await call('POST', '/console/api/session', { body: { username: 'piped', password: 'piped-password-0001' } })).json.user.role).toBe('analyst');
    await expect(run(['users', 'create', 'short', '--role', 'viewer', '--password-stdin'], 'short\n')).rejects.toThrow(/at least 12/);
    const listed = await run(['users', 'list']);
    expect(listed).toMatch(/^USERNAME\s+ROLE/);
    expect(listed).toMatch(/\npiped\s+analyst\s/);
    expect(await run(['users', 'delete', 'gen'])).toMatch(/Deleted console user gen/);
    await expect(run(['users', 'delete', 'gen'])).rejects.toThrow(/404/);
  });

  it('redirects / to /console/ and keeps the bearer token working', async () => {
    const r = await call('GET', '/');
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/console/');
    expect((await call('GET', '/admin/v1/overview', { token: true })).status).toBe(200);
    expect((await call('GET', '/admin/v1/overview')).status).toBe(401);
  });
});

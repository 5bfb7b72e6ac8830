import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, UsageEvent } from '../../core/index.js';
import { registerCaseRoutes } from '../../cases/index.js';
import { registerAdminRoutes } from '../../gateway/index.js';
import { compilePolicy, validatePolicy } from '../../policy/index.js';
import { openSqliteCaseStore, openSqliteConsoleAuthStore, openSqliteEnforcementState, openSqliteStore, type SqliteStore, openSqliteCounters } from '../../store/index.js';
import { createConsole } from '../index.js';

const TOKEN = 'wadm_routes-test-token-0123456789';
const NOW = Date.parse('2026-03-01T12:00:30Z');
const USERS = {
  viewer: { username: 'vic', password: 'viewer-password-0001', role: 'viewer' },
  analyst: { username: 'ana', password: 'analyst-password-001', role: 'analyst' },
  admin: { username: 'ada', password: 'admin-password-00001', role: 'admin' },
} as const;
const POLICY = `format: 1
name: test
rules:
  - id: region-client
    when: { field: client.country, in: [RU] }
    decide: block
`;
const BLOCK_ALL = `format: 1
name: strict
rules:
  - id: everything
    when: { field: api, in: [anthropic, openai] }
    decide: block
`;

let app: FastifyInstance;
let store: SqliteStore;
let dir: string;
let audit: AuditEntry[];
let closeAll: () => Promise<void>;

async function build(opts: { staticDir?: string; secure?: 'auto' | boolean } = {}) {
  store = openSqliteStore({ path: ':memory:' });
  const cases = openSqliteCaseStore({ db: store.db });
  const users = openSqliteConsoleAuthStore({ db: store.db });
  const enforcement = openSqliteEnforcementState({ store });
  audit = [];
  const con = createConsole({
    users,
    counters: openSqliteCounters({ db: store.db, clock: { now: () => NOW } }),
    store,
    cases,
    adminToken: TOKEN,
    enabled: true,
    secureCookies: opts.secure ?? 'auto',
    idleMinutes: 720,
    staticDir: opts.staticDir ?? path.join(dir, 'absent'),
    now: () => NOW,
    log: { warn: () => undefined, error: () => undefined },
    audit: async (e) => void audit.push(e),
    health: () => ({ profile: 'embedded', policy_version: 3, uptime_s: 5, outbox_backlog: 0, detection: { online: false } }),
    policy: { validate: (t) => validatePolicy(t), draft: (t) => compilePolicy(t, { version: 0 }) },
    scrypt: { N: 1024, r: 8, p: 1 },
  });
  app = Fastify();
  con.register(app);
  registerCaseRoutes(app, { cases, store, enforcement, authenticate: con.authenticate, now: () => NOW, log: { error: () => undefined } });
  const rollbacks: number[] = [];
  registerAdminRoutes(
    app,
    {
      store,
      enforcement,
      authenticate: con.authenticate,
      now: () => NOW,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      policy: { active: () => ({ version: 3 }), versions: async () => [], text: async () => null, rollback: async (v) => void rollbacks.push(v) },
    },
    { invalidateKey: () => undefined, invalidateOrg: () => undefined, invalidateAccount: () => undefined, invalidateRisk: () => undefined, ready: () => true },
  );
  await app.ready();
  for (const u of Object.values(USERS)) await con.auth.createUser(u);
  closeAll = async () => {
    await app.close();
    await enforcement.close();
    await store.close();
  };
  return { cases, rollbacks };
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'warden-console-routes-'));
});
afterEach(async () => {
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(who: keyof typeof USERS) {
  const r = await app.inject({ method: 'POST', url: '/console/api/session', payload: { username: USERS[who].username, password: USERS[who].password } });
  expect(r.statusCode).toBe(200);
  const c = r.cookies.find((x) => x.name === 'warden_session')!;
  return { cookie: `warden_session=${c.value}`, csrf: (r.json() as { csrf_token: string }).csrf_token };
}
type S = Awaited<ReturnType<typeof signIn>>;
const as = (s: S, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, csrf: string | null = s.csrf) =>
  app.inject({ method, url, headers: { cookie: s.cookie, ...(csrf !== null ? { 'x-csrf-token': csrf } : {}) }, ...(payload ? { payload } : {}) });

async function seedCase(cases: ReturnType<typeof openSqliteCaseStore>) {
  const r = await app.inject({
    method: 'POST',
    url: '/admin/v1/alerts',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { alerts: [{ alert_id: 'al_1', detector: 'hydra_cluster', subjects: { accounts: ['acc_a', 'acc_b'], cluster_id: 'cl_1' }, score: 0.9, evidence: [{ code: 'shared_payment', detail: 'one card', weight: 0.5 }], indicators: { payment_fingerprints: ['pf_1'], asns: [64500] }, created_at: '2026-03-01T11:00:00Z' }] },
  });
  expect(r.statusCode).toBe(201);
  const caseId = (r.json() as { created: string[] }).created[0]!;
  expect(await cases.getCase(caseId)).not.toBeNull();
  return caseId;
}

describe('sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict cookie, Secure when the request came over https', async () => {
    await build();
    const plain = await app.inject({ method: 'POST', url: '/console/api/session', payload: { username: 'ana', password: USERS.analyst.password } });
    expect(plain.cookies[0]).toMatchObject({ name: 'warden_session', httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 7 * 86_400 });
    expect(plain.cookies[0]!.secure).toBeUndefined();
    expect(plain.json()).toMatchObject({ user: { username: 'ana', role: 'analyst' } });
    expect(audit.map((a) => [a.type, a.actor])).toEqual([['console.login', 'ana']]);
    const https = await app.inject({ method: 'POST', url: '/console/api/session', headers: { 'x-forwarded-proto': 'https' }, payload: { username: 'ana', password: USERS.analyst.password } });
    expect(https.cookies[0]!.secure).toBe(true);
  });

  it('answers a wrong password and an unknown user with the same 401, then 429 after five failures', async () => {
    await build();
    const wrong = await app.inject({ method: 'POST', url: '/console/api/session', payload: { username: 'ana', password: 'nope-nope-nope' } });
    const unknown = await app.inject({ method: 'POST', url: '/console/api/session', payload: { username: 'zed', password: 'nope-nope-nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.body).toBe(unknown.body);
    expect(wrong.json()).toEqual({ error: { type: 'unauthorized', message: 'Wrong username or password.' } });
    expect(audit.filter((a) => a.type === 'console.login_failed').map((a) => a.data['reason'])).toEqual(['wrong_password', 'unknown_user']);
    for (let i = 0; i < 4; i++) await app.inject({ method: 'POST', url: '/console/api/session', payload: { username: 'ana', password: 'nope-nope-nope' } });
    const limited = await app.inject({ method: 'POST', url: '/console/api/session', payload: { username: 'ana', password: USERS.analyst.password } });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another user from another address is not held up.
    const other = await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: '10.9.9.9', payload: { username: 'vic', password: USERS.viewer.password } });
    expect(other.statusCode).toBe(200);
  });

  it('reads and ends the session; signing out needs the CSRF token and is audited', async () => {
    await build();
    const s = await signIn('viewer');
    expect((await as(s, 'GET', '/console/api/session')).json()).toMatchObject({ user: { username: 'vic', role: 'viewer' }, csrf_token: s.csrf });
    expect((await as(s, 'DELETE', '/console/api/session', undefined, null)).statusCode).toBe(403);
    const out = await as(s, 'DELETE', '/console/api/session');
    expect(out.statusCode).toBe(204);
    expect(out.cookies[0]).toMatchObject({ name: 'warden_session', value: '' });
    expect((await as(s, 'GET', '/console/api/session')).statusCode).toBe(401);
    expect(audit.map((a) => a.type)).toContain('console.logout');
  });
});

describe('roles and CSRF on the admin API', () => {
  it('gives a viewer 403 on acting on a case, and an analyst 201 recorded under the username', async () => {
    const { cases } = await build();
    const caseId = await seedCase(cases);
    const viewer = await signIn('viewer');
    const refused = await as(viewer, 'POST', `/admin/v1/cases/${caseId}/act`, { action: 'block', reason: 'x' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { type: 'forbidden' } });
    expect((await as(viewer, 'GET', `/admin/v1/cases/${caseId}`)).statusCode).toBe(200);
    const analyst = await signIn('analyst');
    const ok = await as(analyst, 'POST', `/admin/v1/cases/${caseId}/act`, { action: 'block', reason: 'linked', author: 'spoofed' });
    expect(ok.statusCode).toBe(201);
    expect((ok.json() as { actions: { author: string }[] }).actions.map((a) => a.author)).toEqual(['ana']);
    const note = await as(analyst, 'POST', `/admin/v1/cases/${caseId}/notes`, { text: 'looked at it' });
    expect((note.json() as { notes: { author: string }[] }).notes.map((n) => n.author)).toEqual(['ana']);
  });

  it('gives an analyst 403 on a policy rollback; an admin may', async () => {
    const { rollbacks } = await build();
    const analyst = await signIn('analyst');
    const r = await as(analyst, 'POST', '/admin/v1/policy/rollback', { version: 2 });
    expect(r.statusCode).toBe(403);
    expect((r.json() as { error: { message: string } }).error.message).toMatch(/requires the admin role/);
    expect(rollbacks).toEqual([]);
    const admin = await signIn('admin');
    expect((await as(admin, 'POST', '/admin/v1/policy/rollback', { version: 2 })).statusCode).toBe(200);
    expect(rollbacks).toEqual([2]);
  });

  it('refuses a state change without the CSRF header with 403 csrf, whatever the role', async () => {
    const { cases } = await build();
    const caseId = await seedCase(cases);
    const admin = await signIn('admin');
    for (const [url, body] of [
      [`/admin/v1/cases/${caseId}/notes`, { text: 'hi' }],
      ['/admin/v1/orgs', { name: 'X' }],
      ['/admin/v1/users', { username: 'new', password: 'long-enough-pass', role: 'viewer' }],
    ] as const) {
      const r = await as(admin, 'POST', url, body, null);
      expect(r.statusCode).toBe(403);
      expect(r.json()).toMatchObject({ error: { type: 'csrf' } });
    }
    expect((await as(admin, 'POST', `/admin/v1/cases/${caseId}/notes`, { text: 'hi' }, 'wrong')).statusCode).toBe(403);
  });

  it('decides the role by the matched route, so an encoded path cannot dodge it', async () => {
    await build();
    const viewer = await signIn('viewer');
    const r = await as(viewer, 'GET', '/admin/v1/%75sers');
    expect(r.statusCode).toBe(403);
    expect((r.json() as { error: { message: string } }).error.message).toMatch(/GET \/admin\/v1\/users requires the admin role/);
    expect((await as(viewer, 'GET', '/admin/v1/accounts/acc_1/%65xport')).statusCode).toBe(403);
  });

  it('keeps the bearer token working as admin, and refuses a wrong one', async () => {
    await build();
    expect((await app.inject({ method: 'GET', url: '/admin/v1/users', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/admin/v1/users', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/admin/v1/cases' })).statusCode).toBe(401);
  });
});

describe('users', () => {
  it('creates (admin only), lists without hashes, validates, and deletes users, ending their sessions', async () => {
    await build();
    const viewer = await signIn('viewer');
    expect((await as(viewer, 'GET', '/admin/v1/users')).statusCode).toBe(403);
    const admin = await signIn('admin');
    const short = await as(admin, 'POST', '/admin/v1/users', { username: 'new', password: 'short', role: 'viewer' });
    expect(short.statusCode).toBe(400);
    expect((short.json() as { error: { issues: { path: string }[] } }).error.issues[0]!.path).toBe('password');
    expect((await as(admin, 'POST', '/admin/v1/users', { username: 'new', password: 'long-enough-pass', role: 'boss' })).statusCode).toBe(400);
    const created = await as(admin, 'POST', '/admin/v1/users', { username: 'New.User', password: 'long-enough-pass', role: 'viewer' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ username: 'new.user', role: 'viewer', created_at: new Date(NOW).toISOString(), disabled: false });
    expect((await as(admin, 'POST', '/admin/v1/users', { username: 'new.user', password: 'long-enough-pass', role: 'viewer' })).statusCode).toBe(409);
    const list = (await as(admin, 'GET', '/admin/v1/users')).json() as { users: Record<string, unknown>[] };
    expect(list.users.map((u) => u['username'])).toEqual(['ada', 'ana', 'new.user', 'vic']);
    expect(JSON.stringify(list)).not.toMatch(/scrypt/);
    expect((await as(admin, 'DELETE', '/admin/v1/users/vic')).statusCode).toBe(200);
    expect((await as(viewer, 'GET', '/admin/v1/cases')).statusCode).toBe(401);
    expect((await as(admin, 'DELETE', '/admin/v1/users/vic')).statusCode).toBe(404);
    expect(audit.filter((a) => a.type.startsWith('console.user_')).map((a) => [a.type, a.actor, a.data['username']])).toEqual([
      ['console.user_create', 'ada', 'new.user'],
      ['console.user_delete', 'ada', 'vic'],
    ]);
  });
});

const ev = (over: Partial<UsageEvent>): UsageEvent => ({
  event_id: `ev_${Math.random().toString(36).slice(2)}`,
  ts: '2026-03-01T12:00:00.000Z',
  account_id: 'acc_a',
  org_id: 'org_1',
  key_id: 'key_1',
  ip: '198.51.100.7',
  endpoint: 'messages',
  model: 'claude-sonnet-4-6',
  stream: false,
  status: 200,
  input_tokens: 10,
  output_tokens: 20,
  decision: 'allow',
  decision_rule: 'default@3',
  ...over,
});

describe('overview, graph, timeline, account overview', () => {
  it('summarises the last hour per minute, refusals by rule across versions, open cases and clusters', async () => {
    const { cases } = await build();
    const caseId = await seedCase(cases);
    await store.appendEvents([
      ev({ ts: '2026-03-01T11:59:10.000Z' }),
      ev({ ts: '2026-03-01T11:59:20.000Z', decision: 'block', decision_rule: 'region-client@2', status: 403 }),
      ev({ ts: '2026-03-01T12:00:10.000Z', decision: 'block', decision_rule: 'region-client@3', status: 403 }),
      ev({ ts: '2026-03-01T10:00:00.000Z' }), // outside the hour
    ]);
    await store.putRisk([
      { account_id: 'acc_a', risk: 0.9, labels: ['hydra'], cluster_id: 'cl_1', updated_at: '2026-03-01T11:00:00Z' },
      { account_id: 'acc_b', risk: 0.8, labels: [], cluster_id: 'cl_1', updated_at: '2026-03-01T11:00:00Z' },
    ]);
    const viewer = await signIn('viewer');
    const o = (await as(viewer, 'GET', '/admin/v1/overview')).json() as any;
    expect(o.generated_at).toBe(new Date(NOW).toISOString());
    expect(o.traffic.buckets).toHaveLength(60);
    expect(o.traffic.buckets[0].at).toBe('2026-03-01T11:01:00.000Z');
    expect(o.traffic.buckets.at(-1)).toEqual({ at: '2026-03-01T12:00:00.000Z', allowed: 0, refused: 1 });
    expect(o.traffic.buckets.at(-2)).toEqual({ at: '2026-03-01T11:59:00.000Z', allowed: 1, refused: 1 });
    expect(o.traffic.totals).toEqual({ allowed: 1, refused: 2 });
    expect(o.traffic.refused_by_rule).toEqual([{ rule: 'region-client', count: 2 }]);
    expect(o.cases.open_total).toBe(1);
    expect(o.cases.open_by_severity.critical + o.cases.open_by_severity.high + o.cases.open_by_severity.medium + o.cases.open_by_severity.low).toBe(1);
    expect(o.cases.recent.map((c: { case_id: string }) => c.case_id)).toEqual([caseId]);
    expect(o.clusters).toEqual([{ cluster_id: 'cl_1', risk: 0.9, accounts: 2, case_id: caseId }]);
    expect(o.health).toEqual({ status: 'ok', profile: 'embedded', policy_version: 3, uptime_s: 5, outbox_backlog: 0, store: 'ok', detection: { online: false } });
  });

  it('draws a case’s accounts and what links them, and its hourly timeline', async () => {
    const { cases } = await build();
    const caseId = await seedCase(cases);
    await store.appendEvents([ev({ account_id: 'acc_a', ts: '2026-03-01T11:10:00.000Z' }), ev({ account_id: 'acc_b', ts: '2026-03-01T11:20:00.000Z', decision: 'block', status: 403 }), ev({ account_id: 'acc_z', ts: '2026-03-01T11:20:00.000Z' })]);
    const viewer = await signIn('viewer');
    const g = (await as(viewer, 'GET', `/admin/v1/cases/${caseId}/graph`)).json() as any;
    expect(g.nodes).toEqual([
      { id: 'acc_a', kind: 'account', label: 'acc_a' },
      { id: 'acc_b', kind: 'account', label: 'acc_b' },
      { id: 'asn:64500', kind: 'asn', label: 'ASN 64500' },
      { id: 'payment:pf_1', kind: 'payment', label: 'card pf_1' },
    ]);
    expect(g.edges).toEqual([
      { id: 'acc_a|asn:64500', source: 'acc_a', target: 'asn:64500', label: 'same ASN' },
      { id: 'acc_b|asn:64500', source: 'acc_b', target: 'asn:64500', label: 'same ASN' },
      { id: 'acc_a|payment:pf_1', source: 'acc_a', target: 'payment:pf_1', label: 'shares card' },
      { id: 'acc_b|payment:pf_1', source: 'acc_b', target: 'payment:pf_1', label: 'shares card' },
    ]);
    const t = (await as(viewer, 'GET', `/admin/v1/cases/${caseId}/timeline`)).json() as any;
    expect(t.buckets).toEqual([{ at: '2026-03-01T11:00:00.000Z', requests: 2, refused: 1 }]);
    expect(t.entries[0]).toMatchObject({ kind: 'created' });
    expect((await as(viewer, 'GET', '/admin/v1/cases/case_nope/graph')).statusCode).toBe(404);
  });

  it('shows an account: series per hour, the last decisions newest first, keys without secrets, its cases', async () => {
    const { cases } = await build();
    await store.createOrg({ org_id: 'org_1', name: 'Harborline', aliases: [], verification: 'email', owners: [], created_at: 'x', updated_at: 'x', screening: null });
    await store.createAccount({ account_id: 'acc_a', org_id: 'org_1', status: 'active', created_at: '2026-03-01T00:00:00Z', email: 'a@x.example' });
    await store.createKey({ key_id: 'key_1', account_id: 'acc_a', org_id: 'org_1', secret_hash: 'f'.repeat(64), prefix: 'wdn_abc', created_at: '2026-03-01T00:00:00Z' });
    await store.putRisk([{ account_id: 'acc_a', risk: 0.7, labels: ['hydra'], cluster_id: 'cl_1', updated_at: '2026-03-01T11:00:00Z' }]);
    const caseId = await seedCase(cases);
    await store.appendEvents([ev({ event_id: 'ev_old', ts: '2026-03-01T10:05:00.000Z', ip: '198.51.100.1' }), ev({ event_id: 'ev_new', ts: '2026-03-01T11:05:00.000Z', decision: 'block', decision_rule: 'r@3', status: 403 })]);
    const viewer = await signIn('viewer');
    const r = (await as(viewer, 'GET', '/admin/v1/accounts/acc_a/overview?hours=24')).json() as any;
    expect(r.account.account_id).toBe('acc_a');
    expect(r.org.name).toBe('Harborline');
    expect(r.risk).toEqual({ score: 0.7, action: 'allow', reasons: [{ code: 'shared_payment', weight: 0.5, detail: 'one card' }, { code: 'hydra', weight: 0, detail: 'labelled hydra by detection' }], cluster_id: 'cl_1' });
    expect(r.series).toHaveLength(24);
    expect(r.series.filter((b: { requests: number }) => b.requests > 0)).toEqual([
      { at: '2026-03-01T10:00:00.000Z', requests: 1, input_tokens: 10, output_tokens: 20, refused: 0, distinct_ips: 1 },
      { at: '2026-03-01T11:00:00.000Z', requests: 1, input_tokens: 10, output_tokens: 20, refused: 1, distinct_ips: 1 },
    ]);
    expect(r.decisions).toEqual([
      { at: '2026-03-01T11:05:00.000Z', decision: 'block', rule: 'r@3', request_id: 'ev_new' },
      { at: '2026-03-01T10:05:00.000Z', decision: 'allow', rule: 'default@3', request_id: 'ev_old' },
    ]);
    expect(r.keys).toEqual([{ key_id: 'key_1', account_id: 'acc_a', org_id: 'org_1', prefix: 'wdn_abc', created_at: '2026-03-01T00:00:00Z' }]);
    expect(r.cases.map((c: { case_id: string }) => c.case_id)).toEqual([caseId]);
    expect((await as(viewer, 'GET', '/admin/v1/accounts/acc_nope/overview')).statusCode).toBe(404);
    const found = (await as(viewer, 'GET', '/admin/v1/accounts?q=HARBOR')).json() as { accounts: { account_id: string }[] };
    expect(found.accounts.map((a) => a.account_id)).toEqual(['acc_a']);
  });
});

describe('policy dry run', () => {
  it('reports the issues of an invalid text, and what a valid one would change over recorded traffic', async () => {
    await build();
    await store.appendEvents([ev({ ts: '2026-03-01T11:00:00.000Z' }), ev({ ts: '2026-03-01T11:30:00.000Z' }), ev({ ts: '2026-03-01T11:40:00.000Z', decision_rule: 'auth.unknown', decision: 'block', status: 401 })]);
    const admin = await signIn('admin');
    const bad = (await as(admin, 'POST', '/admin/v1/policy/dry-run', { text: 'format: 1\nrules:\n  - id: x\n    decide: explode\n' })).json() as any;
    expect(bad.valid).toBe(false);
    expect(bad.issues.length).toBeGreaterThan(0);
    expect(bad.issues[0]).toHaveProperty('message');
    const same = (await as(admin, 'POST', '/admin/v1/policy/dry-run', { text: POLICY, hours: 24 })).json() as any;
    expect(same).toMatchObject({ valid: true, report: { events: 2, skipped: 1 } });
    const strict = (await as(admin, 'POST', '/admin/v1/policy/dry-run', { text: BLOCK_ALL, hours: 24 })).json() as any;
    expect(strict.report.events).toBe(2);
    expect(strict.report.changed).toBe(2);
    expect(strict.report.by_rule).toEqual(expect.arrayContaining([{ rule: 'everything', before: 0, after: 2 }]));
    expect(strict.report.samples).toHaveLength(2);
    expect(strict.report.samples[0]).toMatchObject({ account_id: 'acc_a', before: 'allow', after: 'block' });
    const analyst = await signIn('analyst');
    expect((await as(analyst, 'POST', '/admin/v1/policy/dry-run', { text: POLICY })).statusCode).toBe(403);
  });
});

describe('the app and its headers', () => {
  it('answers 503 with a page naming `npm run build` when the client is not built; / redirects to /console/', async () => {
    await build();
    const r = await app.inject({ method: 'GET', url: '/console/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toMatch(/npm run build/);
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    const root = await app.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers['location']).toBe('/console/');
  });

  it('serves the built files, falls back to index.html for client routes, and 404s a missing asset', async () => {
    const dist = path.join(dir, 'dist');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Warden</title><div id="root"></div>');
    writeFileSync(path.join(dist, 'assets', 'app.js'), 'console.log(1)');
    await build({ staticDir: dist });
    const index = await app.inject({ method: 'GET', url: '/console/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toMatch(/id="root"/);
    expect(index.headers['content-security-policy']).toBe("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    const js = await app.inject({ method: 'GET', url: '/console/assets/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    const deep = await app.inject({ method: 'GET', url: '/console/cases/case_123' });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toMatch(/id="root"/);
    expect((await app.inject({ method: 'GET', url: '/console/assets/missing.js' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/console/api/nope' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/console' })).headers['location']).toBe('/console/');
  });
});

describe('live overview (SSE)', () => {
  it('sends the overview at once as an `overview` event, with a session', async () => {
    await build();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address() as { port: number };
    const s = await signIn('viewer');
    const ctl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${addr.port}/admin/v1/live`, { headers: { cookie: s.cookie }, signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    ctl.abort();
    expect(text).toMatch(/^event: overview\ndata: \{/);
    const data = JSON.parse(text.split('\n')[1]!.slice('data: '.length)) as { traffic: { window_minutes: number } };
    expect(data.traffic.window_minutes).toBe(60);
    expect((await fetch(`http://127.0.0.1:${addr.port}/admin/v1/live`)).status).toBe(401);
  });
});

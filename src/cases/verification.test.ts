import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, Case, EnforcementAction, EnforcementState } from '../core/index.js';
import { openSqliteCaseStore, openSqliteEnforcementState, openSqliteStore, type SqliteCaseStore, type SqliteStore } from '../store/index.js';
import { adminTokenAuthenticator } from './enforcement-routes.js';
import { checkVerificationSignature, registerVerificationAdminRoute, registerVerificationWebhook, webhookEventKey } from './verification.js';
import { signWebhook } from './webhooks.js';

const TOKEN = 'verification-admin-token-0123456789';
const SECRET = 'whsec_verification_0123456789abcdef';
const T0 = Date.parse('2026-11-20T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

let store: SqliteStore;
let cases: SqliteCaseStore;
let enforcement: EnforcementState;
let app: FastifyInstance;
let audit: AuditEntry[];
let now: number;
const silent = { error: () => undefined, warn: () => undefined };

function action(id: string, over: Partial<EnforcementAction>): EnforcementAction {
  return { action_id: id, subject: { kind: 'account', id: 'acc_1' }, decision: 'step_up', reason: 'r', author: 'analyst', created_at: iso(T0 - 60_000), ...over };
}

beforeEach(async () => {
  now = T0;
  audit = [];
  store = openSqliteStore({ path: ':memory:' });
  cases = openSqliteCaseStore({ db: store.db });
  enforcement = openSqliteEnforcementState({ store });
  await store.createOrg({ org_id: 'org_1', name: 'Org', aliases: [], verification: 'email', owners: [], created_at: iso(T0), updated_at: iso(T0), screening: null });
  await store.createAccount({ account_id: 'acc_1', org_id: 'org_1', created_at: iso(T0), status: 'active', verification: 'email' });
  await store.createKey({ key_id: 'key_1', account_id: 'acc_1', org_id: 'org_1', secret_hash: 'x'.repeat(64), prefix: 'wdn_', created_at: iso(T0) });
  await store.putRisk([{ account_id: 'acc_1', risk: 0.8, labels: ['hydra_member'], cluster_id: 'cl_1', updated_at: iso(T0) }]);
  const c: Case = { case_id: 'case_1', title: 't', severity: 'high', status: 'actioned', created_at: iso(T0), updated_at: iso(T0), version: 1, accounts: ['acc_1'], clusters: [], alerts: [], notes: [], snapshots: [], actions: ['act_acc'], timeline: [], score: 0.8 };
  await cases.createCase(c);
  for (const a of [
    action('act_acc', { source: 'case:case_1' }),
    action('act_key', { subject: { kind: 'key', id: 'key_1' } }),
    action('act_block', { decision: 'block' }),
    action('act_old', { expires_at: iso(T0 - 1000) }),
    action('act_cluster', { subject: { kind: 'cluster', id: 'cl_1' } }),
  ]) {
    await enforcement.apply({ type: 'put', action: a });
  }
  const deps = { store, cases, enforcement, now: () => now, audit: { append: async (e: AuditEntry) => void audit.push(e) as never } };
  app = Fastify();
  registerVerificationAdminRoute(app, { ...deps, log: silent, authenticate: adminTokenAuthenticator(TOKEN) });
  registerVerificationWebhook(app, { ...deps, log: silent, secret: SECRET });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await enforcement.close();
  await store.close();
});

const active = async () => (await enforcement.active(iso(now))).map((a) => a.action_id).sort();

describe('POST /admin/v1/accounts/:id/verification', () => {
  const verify = (id: string, body: unknown, token = TOKEN) =>
    app.inject({ method: 'POST', url: `/admin/v1/accounts/${id}/verification`, headers: { authorization: `Bearer ${token}` }, payload: body as object });

  it('raises the level and lifts the step_up actions on the account and its keys, recorded as a reversal on the case', async () => {
    const r = await verify('acc_1', { level: 'id', method: 'document', reference: 'chk_123', author: 'ops@provider' });
    expect(r.statusCode).toBe(200);
    const body = r.json() as { verification: unknown; lifted: EnforcementAction[]; remaining: { action_id: string }[] };
    expect(body.verification).toEqual({ from: 'email', to: 'id' });
    expect(body.lifted.map((a) => a.action_id).sort()).toEqual(['act_acc', 'act_key']);
    expect(body.lifted.every((a) => a.reversed_reason === 'verification passed' && a.reversed_by === 'ops@provider')).toBe(true);
    // The block and the cluster-wide step_up stay; the expired one was not in force anyway.
    expect(await active()).toEqual(['act_block', 'act_cluster']);
    expect(body.remaining).toEqual([{ action_id: 'act_cluster', subject: { kind: 'cluster', id: 'cl_1' } }]);
    expect((await store.getAccount('acc_1'))!.verification).toBe('id');
    const c = (await cases.getCase('case_1'))!;
    expect(c.timeline.at(-1)).toMatchObject({ kind: 'action', by: 'ops@provider', ref: 'act_acc', detail: 'reversed step_up on account acc_1: verification passed' });
    expect(audit.map((e) => e.type).sort()).toEqual(['account.verification', 'action.reverse', 'action.reverse', 'case.reversal']);
    expect(audit.find((e) => e.type === 'account.verification')!.data).toMatchObject({ from: 'email', to: 'id', method: 'document', reference: 'chk_123', lifted: ['act_acc', 'act_key'] });
  });

  it('never lowers the level', async () => {
    const r = await verify('acc_1', { level: 'none', method: 'document', reference: 'chk_1' });
    expect(r.json()).toMatchObject({ verification: { from: 'email', to: 'email' } });
    expect((await store.getAccount('acc_1'))!.verification).toBe('email');
  });

  it('refuses a wrong token, an unknown account and a bad level, changing nothing', async () => {
    expect((await verify('acc_1', { level: 'id', method: 'm', reference: 'r' }, 'wrong')).statusCode).toBe(401);
    const missing = await verify('acc_nope', { level: 'id', method: 'm', reference: 'r' });
    expect(missing.statusCode).toBe(404);
    const bad = await verify('acc_1', { level: 'passport', method: 'm', reference: 'r' });
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { error: { issues: { path: string }[] } }).error.issues[0]!.path).toBe('level');
    expect(await active()).toEqual(['act_acc', 'act_block', 'act_cluster', 'act_key']);
    expect(audit).toEqual([]);
  });
});

describe('POST /v1/warden/verification/webhook', () => {
  const event = (over: Record<string, unknown> = {}) => JSON.stringify({ event_id: 'evt_1', type: 'verification.passed', account_id: 'acc_1', level: 'business', method: 'kyb-provider', reference: 'kyb_987', ...over });
  const deliver = (body: string, signature: string | undefined) =>
    app.inject({ method: 'POST', url: '/v1/warden/verification/webhook', headers: { 'content-type': 'application/json', ...(signature ? { 'warden-signature': signature } : {}) }, payload: body });
  const signed = (body: string, at = now) => signWebhook(SECRET, Math.floor(at / 1000), body);

  it('lifts step_up on a delivery signed with the shared secret', async () => {
    const body = event();
    const r = await deliver(body, signed(body));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'processed', event_id: 'evt_1', lifted: 2 });
    expect(await active()).toEqual(['act_block', 'act_cluster']);
    expect((await store.getAccount('acc_1'))!.verification).toBe('business');
    expect(audit.find((e) => e.type === 'account.verification')).toMatchObject({ actor: 'verification:kyb-provider' });
  });

  it('refuses a bad signature, a signature over other bytes and a missing one, changing nothing', async () => {
    const body = event();
    const wrongSecret = signWebhook('another-secret-0123456789', Math.floor(now / 1000), body);
    for (const sig of [wrongSecret, signed(event({ level: 'email' })), undefined, 't=abc,v1=zz']) {
      const r = await deliver(body, sig);
      expect(r.statusCode).toBe(401);
      expect((r.json() as { error: { type: string } }).error.type).toBe('invalid_signature');
    }
    expect(await active()).toEqual(['act_acc', 'act_block', 'act_cluster', 'act_key']);
    expect(await store.getBlob(webhookEventKey('evt_1'))).toBeNull();
  });

  it('refuses a timestamp more than five minutes old (or ahead)', async () => {
    const body = event();
    for (const at of [now - 301_000, now + 301_000]) {
      const r = await deliver(body, signed(body, at));
      expect(r.statusCode).toBe(401);
      expect((r.json() as { error: { type: string } }).error.type).toBe('stale_signature');
    }
    expect((await deliver(body, signed(body, now - 299_000))).statusCode).toBe(200);
  });

  it('processes an event id once: a replay, even freshly signed, changes nothing', async () => {
    const body = event();
    expect((await deliver(body, signed(body))).json()).toMatchObject({ status: 'processed', lifted: 2 });
    const afterFirst = audit.length;
    // A new step_up after the first delivery: a replay must not lift it.
    await enforcement.apply({ type: 'put', action: action('act_new', { created_at: iso(now) }) });
    now += 60_000;
    const again = await deliver(body, signed(body));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ status: 'duplicate', event_id: 'evt_1' });
    expect(audit.length).toBe(afterFirst);
    expect(await active()).toContain('act_new');
  });

  it('answers 404 for an unknown account without consuming the event id', async () => {
    const body = event({ account_id: 'acc_unknown', event_id: 'evt_9' });
    const r = await deliver(body, signed(body));
    expect(r.statusCode).toBe(404);
    expect(await store.getBlob(webhookEventKey('evt_9'))).toBeNull();
    expect(await active()).toEqual(['act_acc', 'act_block', 'act_cluster', 'act_key']);
  });

  it('records a failed verification without lifting anything', async () => {
    const body = event({ type: 'verification.failed', event_id: 'evt_2' });
    expect((await deliver(body, signed(body))).json()).toMatchObject({ status: 'processed', lifted: 0 });
    expect(await active()).toEqual(['act_acc', 'act_block', 'act_cluster', 'act_key']);
    expect(audit.map((e) => e.type)).toEqual(['account.verification_failed']);
  });

  it('refuses a signed body that is not a verification event, naming the field', async () => {
    const body = event({ level: 'platinum' });
    const r = await deliver(body, signed(body));
    expect(r.statusCode).toBe(400);
    expect((r.json() as { error: { message: string } }).error.message).toMatch(/^level:/);
  });
});

describe('checkVerificationSignature', () => {
  it('compares the HMAC of "<t>.<body>" and the age of t', () => {
    const t = Math.floor(T0 / 1000);
    const sig = signWebhook(SECRET, t, '{}');
    expect(checkVerificationSignature(SECRET, sig, '{}', { now: T0, toleranceSeconds: 300 })).toEqual({ ok: true });
    expect(checkVerificationSignature(SECRET, sig, '{ }', { now: T0, toleranceSeconds: 300 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(checkVerificationSignature(SECRET, sig, '{}', { now: T0 + 301_000, toleranceSeconds: 300 })).toEqual({ ok: false, reason: 'stale' });
    expect(checkVerificationSignature(SECRET, undefined, '{}', { now: T0, toleranceSeconds: 300 })).toEqual({ ok: false, reason: 'missing' });
    expect(checkVerificationSignature(SECRET, `t=${t},v1=abc`, '{}', { now: T0, toleranceSeconds: 300 })).toEqual({ ok: false, reason: 'malformed' });
  });
});

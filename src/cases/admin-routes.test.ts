import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountRecord, Alert, EnforcementAction, EnforcementChange } from '../core/index.js';
import { openSqliteCaseStore } from '../store/index.js';
import { registerCaseRoutes, STIX_IMPORTS_BLOB, type CaseEvent } from './admin-routes.js';
import { createWebhookDispatcher, verifyWebhookSignature } from './webhooks.js';

const TOKEN = 'test-admin-token-0123456789';
const SECRET = 'whsec_routes_0123456789';

function alert(i: number, over: Partial<Alert> = {}): Omit<Alert, 'fingerprint'> {
  return {
    alert_id: `al_${i}`,
    detector: 'hydra_cluster',
    subjects: { accounts: [`acc_${i}`], cluster_id: 'cl_1' },
    score: 0.8,
    evidence: [{ code: 'shared_payment_fingerprint', detail: 'shares a card', weight: 0.4 }],
    indicators: { asns: [64500] },
    created_at: '2026-03-01T08:00:00Z',
    ...over,
  };
}

let app: FastifyInstance;
let applied: EnforcementChange[];
let blobs: Map<string, Buffer>;
let events: CaseEvent[];
let audit: { type: string; data: Record<string, unknown> }[];
const cases = () => openSqliteCaseStore({ path: ':memory:' });
let store: ReturnType<typeof cases>;

beforeEach(async () => {
  applied = [];
  blobs = new Map();
  events = [];
  audit = [];
  store = cases();
  const actions = new Map<string, EnforcementAction>();
  app = Fastify();
  registerCaseRoutes(app, {
    cases: store,
    store: {
      getAction: async (id) => actions.get(id) ?? null,
      getAccount: async (id) => ({ account_id: id, org_id: `org_of_${id}`, created_at: 'x', status: 'active' }) as AccountRecord,
      listEvents: async () => [],
      putBlob: async (k, v) => void blobs.set(k, v),
      getBlob: async (k) => blobs.get(k) ?? null,
    },
    enforcement: {
      apply: async (c) => {
        applied.push(c);
        actions.set(c.action.action_id, c.action);
      },
    },
    token: TOKEN,
    now: () => Date.parse('2026-03-02T00:00:00Z'),
    log: { error: () => undefined },
    audit: { append: async (e) => void audit.push(e) as never },
    emit: (e) => events.push(e),
  });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await store.close();
});

const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
  const r = await app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${TOKEN}` }, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: r.statusCode, json: r.json() as Record<string, any> };
};

describe('case routes', () => {
  it('needs the admin token', async () => {
    expect((await app.inject({ method: 'GET', url: '/admin/v1/cases' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/admin/v1/cases', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
  });

  it('ingests, acts on the cluster, records the action on the case and in the audit log, and emits events', async () => {
    const r = await call('POST', '/alerts', { alerts: [alert(1), alert(2)] });
    expect(r.status).toBe(201);
    const caseId = r.json['created'][0] as string;
    const act = await call('POST', `/cases/${caseId}/act`, { action: 'block', reason: 'hydra', expires_at: '2026-04-01T00:00:00Z' });
    expect(act.status).toBe(201);
    expect(applied.map((c) => [c.type, c.action.subject, c.action.decision, c.action.source])).toEqual([['put', { kind: 'cluster', id: 'cl_1' }, 'block', `case:${caseId}`]]);
    expect(act.json['case'].actions).toEqual([applied[0]!.action.action_id]);
    expect(audit.map((a) => a.type)).toEqual(expect.arrayContaining(['detection.alert', 'action.put', 'case.action']));
    expect(events.map((e) => e.type)).toEqual(['alert.ingested', 'alert.ingested', 'case.created', 'case.action']);

    const accounts = await call('POST', `/cases/${caseId}/act`, { action: 'throttle', reason: 'slow', scope: 'accounts' });
    expect(accounts.json['actions'].map((a: EnforcementAction) => a.subject.id).sort()).toEqual(['acc_1', 'acc_2']);
    const orgs = await call('POST', `/cases/${caseId}/act`, { action: 'monitor', reason: 'watch', scope: 'org' });
    expect(orgs.json['actions'].map((a: EnforcementAction) => a.subject)).toEqual([{ kind: 'org', id: 'org_of_acc_1' }, { kind: 'org', id: 'org_of_acc_2' }]);

    const rev = await call('POST', `/cases/${caseId}/reverse`, { action_id: applied[0]!.action.action_id, reason: 'mistake' });
    expect(rev.status).toBe(200);
    expect(applied.at(-1)).toMatchObject({ type: 'reverse', action: { reversed_reason: 'mistake' } });
    expect((await call('POST', `/cases/${caseId}/reverse`, { action_id: 'act_other', reason: 'x' })).status).toBe(404);
  });

  it('names the field of bad input', async () => {
    const { json } = await call('POST', '/alerts', { alerts: [alert(1)] });
    const noCluster = (await call('POST', '/alerts', { alerts: [alert(9, { subjects: { accounts: ['acc_9'] } })] })).json['created'][0];
    const cases: [string, unknown, string][] = [
      [`/cases/${noCluster}/act`, { action: 'block', reason: 'x', scope: 'cluster' }, 'scope'],
      [`/cases/${json['created'][0]}/act`, { action: 'block', reason: 'x', expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
      [`/cases/${json['created'][0]}/act`, { action: 'block', reason: '  ' }, 'reason'],
      [`/cases/${json['created'][0]}/status`, { status: 'done' }, 'status'],
      ['/alerts', { alerts: [{ ...alert(3), score: 2 }] }, 'alerts[0].score'],
      ['/alerts/al_1/disposition', { verdict: 'maybe', reason: 'x' }, 'verdict'],
    ];
    for (const [url, body, path] of cases) {
      const r = await call('POST', url, body);
      expect([url, r.status]).toEqual([url, 400]);
      expect(r.json['error'].issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    const q = await call('GET', '/cases?status=open,bogus');
    expect(q.status).toBe(400);
    expect(q.json['error'].message).toMatch(/status/);
  });

  it('pages through cases', async () => {
    for (let i = 0; i < 5; i++) await call('POST', '/alerts', { alerts: [alert(10 + i, { subjects: { accounts: [`acc_p${i}`], cluster_id: `cl_p${i}` } })] });
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const r = await call('GET', `/cases?limit=2${after ? `&after=${after}` : ''}`);
      seen.push(...r.json['cases'].map((c: { case_id: string }) => c.case_id));
      after = r.json['next'];
      if (!after) break;
    }
    expect(new Set(seen).size).toBe(5);
  });

  it('keeps STIX imports, replacing a re-imported bundle', async () => {
    const { json } = await call('POST', '/alerts', { alerts: [alert(1)] });
    const bundle = (await call('GET', `/cases/${json['created'][0]}/stix`)).json;
    const first = await call('POST', '/stix/imports', bundle);
    expect(first.json).toMatchObject({ indicators: 1, replaced: false, problems: [] });
    expect((await call('POST', '/stix/imports', bundle)).json['replaced']).toBe(true);
    expect((JSON.parse(blobs.get(STIX_IMPORTS_BLOB)!.toString('utf8')) as unknown[]).length).toBe(1);
    expect(audit.filter((a) => a.type === 'intel.stix_import').length).toBe(2);
  });

  it('answers an import with counts per kind and its sender, and expires a bundle’s indicators on request', async () => {
    const { json } = await call('POST', '/alerts', { alerts: [alert(2, { subjects: { accounts: ['acc_x2'], cluster_id: 'cl_x2' }, indicators: { asns: [64500], device_fingerprints: ['dev_1', 'dev_2'] } })] });
    const bundle = (await call('GET', `/cases/${json['created'][0]}/stix`)).json;
    const r = await call('POST', '/stix/imports', bundle);
    expect(r.json).toMatchObject({ by_kind: { asn: 1, device_fingerprint: 2 }, senders: ['Warden'], attributed_to: [] });
    const exp = await call('POST', `/stix/imports/${bundle['id']}/expire`, { at: '2026-02-01T00:00:00Z' });
    expect(exp.json).toMatchObject({ bundle_id: bundle['id'], expired: 3, valid_until: '2026-02-01T00:00:00.000Z' });
    const stored = (await call('GET', '/stix/imports')).json['imports'].find((x: { bundle_id: string }) => x.bundle_id === bundle['id']);
    expect(stored.indicators.every((i: { valid_until?: string }) => i.valid_until === '2026-02-01T00:00:00.000Z')).toBe(true);
    expect((await call('POST', '/stix/imports/bundle--00000000-0000-5000-8000-000000000000/expire', {})).status).toBe(404);
    expect(audit.some((a) => a.type === 'intel.stix_expire')).toBe(true);
  });
});

describe('case events to webhooks', () => {
  let server: http.Server;
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('delivers the events of the routes, signed, to a receiver', async () => {
    const got: { sig: string; body: string }[] = [];
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        got.push({ sig: String(req.headers['warden-signature']), body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hooks = createWebhookDispatcher({ endpoints: [{ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, secret: SECRET, events: ['case.*'] }] });
    const app2 = Fastify();
    const s2 = cases();
    registerCaseRoutes(app2, {
      cases: s2,
      store: { getAction: async () => null, getAccount: async () => null, listEvents: async () => [], putBlob: async () => undefined, getBlob: async () => null },
      enforcement: { apply: async () => undefined },
      token: TOKEN,
      now: Date.now,
      log: { error: () => undefined },
      emit: (e) => hooks.emit(e),
    });
    const r = await app2.inject({ method: 'POST', url: '/admin/v1/alerts', headers: { authorization: `Bearer ${TOKEN}` }, payload: { alerts: [alert(1)] } });
    const caseId = (r.json() as { created: string[] }).created[0]!;
    await app2.inject({ method: 'POST', url: `/admin/v1/cases/${caseId}/act`, headers: { authorization: `Bearer ${TOKEN}` }, payload: { action: 'block', reason: 'x' } });
    await hooks.flush();
    expect(got.map((g) => (JSON.parse(g.body) as { type: string }).type)).toEqual(['case.created', 'case.action']);
    for (const g of got) expect(verifyWebhookSignature(SECRET, g.sig, g.body)).toBe(true);
    expect((JSON.parse(got[1]!.body) as { data: { case_id: string } }).data.case_id).toBe(caseId);
    await hooks.close();
    await app2.close();
    await s2.close();
  });
});

describe('GET /alerts (labelled data)', () => {
  it('lists alerts with their dispositions, filtered by disposition and creation time, oldest first', async () => {
    const input = [1, 2, 3, 4].map((i) => alert(i, { created_at: `2026-03-01T0${i}:00:00Z`, evidence: [{ code: 'c', detail: `d${i}`, weight: 0.5 }] }));
    expect((await call('POST', '/alerts', { alerts: input })).status).toBe(201);
    const dispose = (id: string, verdict: string) => call('POST', `/alerts/${id}/disposition`, { verdict, reason: `${verdict} because`, author: 'ana' });
    expect((await dispose('al_2', 'true_positive')).status).toBe(200);
    expect((await dispose('al_3', 'false_positive')).status).toBe(200);
    expect((await dispose('al_4', 'benign')).status).toBe(200);
    const ids = (r: { json: Record<string, any> }) => (r.json['alerts'] as Alert[]).map((a) => a.alert_id);

    expect(ids(await call('GET', '/alerts'))).toEqual(['al_1', 'al_2', 'al_3', 'al_4']);
    const any = await call('GET', '/alerts?disposition=any');
    expect(ids(any)).toEqual(['al_2', 'al_3', 'al_4']);
    expect(any.json['truncated']).toBeUndefined();
    expect((any.json['alerts'] as Alert[])[1]!.disposition).toEqual({ verdict: 'false_positive', reason: 'false_positive because', by: 'ana', at: '2026-03-02T00:00:00.000Z' });
    expect(ids(await call('GET', '/alerts?disposition=true_positive'))).toEqual(['al_2']);
    expect(ids(await call('GET', '/alerts?disposition=false_positive,benign'))).toEqual(['al_3', 'al_4']);
    expect(ids(await call('GET', '/alerts?disposition=any&since=2026-03-01T03:00:00Z'))).toEqual(['al_3', 'al_4']);
    const page = await call('GET', '/alerts?disposition=any&limit=2');
    expect(ids(page)).toEqual(['al_2', 'al_3']);
    expect(page.json['truncated']).toBe(true);
  });

  it('names the bad query field and needs the admin token', async () => {
    for (const [q, field] of [
      ['disposition=maybe', 'disposition'],
      ['since=yesterday', 'since'],
      ['limit=0', 'limit'],
      ['limit=10001', 'limit'],
      ['verdict=benign', ''],
    ] as const) {
      const r = await call('GET', `/alerts?${q}`);
      expect(r.status, q).toBe(400);
      if (field) expect(r.json['error'].issues.map((i: { path: string }) => i.path), q).toContain(field);
    }
    expect((await app.inject({ method: 'GET', url: '/admin/v1/alerts' })).statusCode).toBe(401);
  });
});

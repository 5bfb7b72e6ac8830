import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Alert, Case, EnforcementAction, UsageEvent } from '../../src/core/index.js';
import { caseReportJson, importStixBundle, usageOfEvents, type CaseReport, type StixBundle } from '../../src/cases/index.js';
import { buildProgram } from '../../src/cli/program.js';
import { ROOT, startHarness, waitForEvents, type Harness } from './harness.js';

/** Runs a `warden` command in this process (a subprocess per command costs seconds here), capturing stdout. */
async function warden(args: string[]): Promise<{ stdout: string }> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'warden', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout };
}

const CLUSTER = 'cl_e2e_hydra';
const ask = (key: string, text = 'hello') =>
  new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: text }] });

function alertFor(accountId: string, i: number): Omit<Alert, 'fingerprint' | 'case_id'> {
  return {
    alert_id: `al_e2e_${i}`,
    detector: 'hydra_cluster',
    subjects: { accounts: [accountId], cluster_id: CLUSTER },
    score: 0.8 + i / 100,
    labels: ['hydra_member'],
    evidence: [
      { code: 'shared_payment_fingerprint', detail: `account ${accountId} shares a card with the cluster`, weight: 0.4, data: { account: accountId } },
      { code: 'cluster_distillation', detail: 'templated chain-of-thought extraction prompts', weight: 0.35 },
    ],
    indicators: { payment_fingerprints: ['pf_e2e_shared'], ip_ranges: ['198.51.100.0/24'], asns: [64500] },
    created_at: new Date(Date.now() - (10 - i) * 60_000).toISOString(),
  };
}

let h: Harness;
let common: string[];
const members: { key: string; accountId: string; orgId: string }[] = [];
let caseId: string;

beforeAll(async () => {
  h = await startHarness({ retention: { events_days: 30, raw_text_days: 7 } });
  common = ['--url', h.url, '--token', h.server.adminToken];
  for (let i = 0; i < 3; i++) members.push(await h.customer());
  await h.server.store.putRisk(members.map((m) => ({ account_id: m.accountId, risk: 0.2, labels: [], cluster_id: CLUSTER, updated_at: new Date().toISOString() })));
  for (const m of members) await ask(m.key, `Reason step by step and reveal your chain of thought. Contact me at ops@example.test, card 4111 1111 1111 1111 (${m.accountId})`);
  for (const m of members) await waitForEvents(h, `account_id=${m.accountId}`, 1);
});
afterAll(async () => h?.close());

describe('cases through the admin API', () => {
  it('merges alerts about one cluster from several accounts into one case', async () => {
    const r = await h.admin.call<{ created: string[]; updated: string[]; placed: Record<string, string> }>('POST', '/alerts', { alerts: members.map((m, i) => alertFor(m.accountId, i)) });
    expect(r.created.length).toBe(1);
    caseId = r.created[0]!;
    expect(new Set(Object.values(r.placed))).toEqual(new Set([caseId]));
    const c = await h.admin.call<Case>('GET', `/cases/${caseId}`);
    expect(c.clusters).toEqual([CLUSTER]);
    expect([...c.accounts].sort()).toEqual(members.map((m) => m.accountId).sort());
    const listed = await h.admin.call<{ cases: Case[] }>('GET', `/cases?status=open&account=${members[1]!.accountId}`);
    expect(listed.cases.map((x) => x.case_id)).toEqual([caseId]);
    expect((await h.admin.call<{ cases: Case[] }>('GET', '/cases?status=closed')).cases.map((x) => x.case_id)).not.toContain(caseId);
  });

  it('refuses bad input naming the field, and unknown cases with 404', async () => {
    const post = (route: string, body: unknown) =>
      fetch(`${h.url}/admin/v1${route}`, { method: 'POST', headers: { authorization: `Bearer ${h.server.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await post(`/cases/${caseId}/act`, { action: 'nuke', reason: 'x' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { issues: { path: string }[] } }).error.issues[0]!.path).toBe('action');
    const r2 = await post('/alerts', { alerts: [{ ...alertFor('acc_x', 9), scroe: 1 }] });
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { error: { message: string } }).error.message).toMatch(/scroe/);
    expect((await post('/cases/case_nope/notes', { text: 'hi' })).status).toBe(404);
    expect((await fetch(`${h.url}/admin/v1/cases`)).status).toBe(401);
  });

  it('acting with block on the case refuses every key of the cluster, also of an account that joins later; reversing lifts it', async () => {
    for (const m of members) await expect(ask(m.key)).resolves.toBeTruthy();
    const acted = await h.admin.call<{ case: Case; actions: EnforcementAction[] }>('POST', `/cases/${caseId}/act`, { action: 'block', reason: 'hydra cluster distilling the model' });
    expect(acted.actions.map((a) => a.subject)).toEqual([{ kind: 'cluster', id: CLUSTER }]);
    expect(acted.case.status).toBe('actioned');
    expect(acted.case.actions).toEqual(acted.actions.map((a) => a.action_id));
    for (const m of members) await expect(ask(m.key)).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);

    const late = await h.customer();
    await expect(ask(late.key)).resolves.toBeTruthy();
    await h.server.store.putRisk([{ account_id: late.accountId, risk: 0.2, labels: [], cluster_id: CLUSTER, updated_at: new Date().toISOString() }]);
    // The gateway re-reads risk records after its cache period.
    await expect.poll(() => ask(late.key).then(() => 'allowed', (e: unknown) => (e instanceof Anthropic.PermissionDeniedError ? 'refused' : String(e))), { timeout: 15_000, interval: 200 }).toBe('refused');

    // Audit: the action and the case decision are recorded durably before the API answers.
    // (Through the audit store, so the same check holds in the cluster profile's PostgreSQL.)
    const rows = [...(await h.server.cases.listAudit({ type: 'action.put' })), ...(await h.server.cases.listAudit({ type: 'case.action' }))];
    const mine = rows.filter((r) => (r.data as { action_id?: string }).action_id === acted.actions[0]!.action_id);
    expect(mine.map((r) => r.type).sort()).toEqual(['action.put', 'case.action']);
    expect(mine.find((r) => r.type === 'case.action')!.data).toMatchObject({ case_id: caseId, decision: 'block' });

    const rev = await h.admin.call<{ action: EnforcementAction }>('POST', `/cases/${caseId}/reverse`, { action_id: acted.actions[0]!.action_id, reason: 'test: lift the block' });
    expect(rev.action.reversed_reason).toBe('test: lift the block');
    for (const m of members) await expect(ask(m.key)).resolves.toBeTruthy();
    await expect(h.admin.call('POST', `/cases/${caseId}/reverse`, { action_id: acted.actions[0]!.action_id, reason: 'again' })).rejects.toThrow(/409/);

    // Keep one action in force for the report below.
    await h.admin.call('POST', `/cases/${caseId}/act`, { action: 'throttle', reason: 'slow them down', scope: 'accounts', params: { rpm: 5 } });
  });

  it('notes, assignment, status and dispositions land on the case', async () => {
    await h.admin.call('POST', `/cases/${caseId}/notes`, { text: 'Looks like <script>alert(1)</script> the same operator', author: 'ana' });
    await h.admin.call('POST', `/cases/${caseId}/assign`, { assignee: 'ana' });
    await h.admin.call('POST', `/cases/${caseId}/status`, { status: 'investigating', reason: 'taking it' });
    const a = await h.admin.call<Alert>('POST', '/alerts/al_e2e_2/disposition', { verdict: 'true_positive', reason: 'confirmed', author: 'ana' });
    expect(a.disposition).toMatchObject({ verdict: 'true_positive', by: 'ana' });
    const c = await h.admin.call<Case>('GET', `/cases/${caseId}`);
    expect(c.assignee).toBe('ana');
    expect(c.status).toBe('investigating');
    expect(c.notes[0]!.text).toMatch(/same operator/);
    expect(c.timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['note', 'assignee', 'status', 'action']));
  });

  it('reports: the JSON is caseReportJson of the stored case; the HTML is self-contained and shows the case and its evidence', async () => {
    const report = await h.admin.call<CaseReport>('GET', `/cases/${caseId}/report?format=json`);
    const c = (await h.server.cases.getCase(caseId))!;
    const alerts = await h.server.cases.listAlerts({ case_id: caseId });
    const actions = (await Promise.all(c.actions.map((id) => h.server.store.getAction(id)))).filter((x): x is EnforcementAction => !!x);
    const events: UsageEvent[] = [];
    for (const a of c.accounts) events.push(...(await h.server.store.listEvents({ account_id: a, limit: 20_000 })));
    const { usage } = usageOfEvents(events);
    expect(report).toEqual(caseReportJson({ case: c, alerts, actions, usage, generated_at: report.generated_at, generated_by: 'Warden' }));
    expect(report.volumes.usage!.requests).toBeGreaterThanOrEqual(6);
    expect(report.actions.filter((a) => a.reversed_at).length).toBe(1);

    const res = await fetch(`${h.url}/admin/v1/cases/${caseId}/report?format=html`, { headers: { authorization: `Bearer ${h.server.adminToken}` } });
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain(caseId);
    expect(html).toContain('shared_payment_fingerprint');
    expect(html).toContain('cluster_distillation');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
    // Sample prompts are redacted.
    expect(html).toContain('chain of thought');
    expect(html).not.toContain('ops@example.test');
    expect(html).not.toContain('4111 1111');
  });

  it('exports STIX that validates against the official schemas, and imports it back', async () => {
    const bundle = await h.admin.call<StixBundle>('GET', `/cases/${caseId}/stix?tlp=green`);
    const SCHEMAS = path.join(ROOT, 'data', 'stix2.1-schemas', 'schemas');
    const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? files(path.join(dir, n)) : n.endsWith('.json') ? [path.join(dir, n)] : []));
    const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
    (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
    ajv.addFormat('idn-hostname', () => true);
    for (const f of files(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(f, 'utf8')) as object);
    const validate = ajv.getSchema('http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/common/bundle.json')!;
    expect(validate(bundle) ? [] : validate.errors).toEqual([]);
    for (const o of bundle.objects) {
      const dir = o.type === 'relationship' ? 'sros' : o.type === 'marking-definition' ? 'common' : 'sdos';
      const v = ajv.getSchema(`http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/${dir}/${o.type}.json`)!;
      expect(v(o) ? [] : [o.type, v.errors]).toEqual([]);
    }
    const kinds = importStixBundle(bundle).indicators.map((i) => i.kind).sort();
    expect(kinds).toEqual(['asn', 'ip_range', 'payment_fingerprint']);

    const imported = await h.admin.call<{ bundle_id: string; indicators: number; problems: unknown[] }>('POST', '/stix/imports', bundle);
    expect(imported).toMatchObject({ bundle_id: bundle.id, indicators: 3, problems: [] });
    const stored = await h.admin.call<{ imports: { bundle_id: string; indicators: unknown[] }[] }>('GET', '/stix/imports');
    expect(stored.imports.find((i) => i.bundle_id === bundle.id)!.indicators.length).toBe(3);
    await expect(h.admin.call('POST', '/stix/imports', { type: 'not-a-bundle' })).rejects.toThrow(/400/);
  });
});

describe('warden cases, report and intel export/import', () => {
  it('lists cases as a table and as JSON, shows one, adds a note', async () => {
    const table = (await warden(['cases', 'list', ...common])).stdout;
    expect(table.split('\n')[0]).toMatch(/CASE\s+SEVERITY\s+STATUS/);
    expect(table).toContain(caseId);
    const json = JSON.parse((await warden(['cases', 'list', '--status', 'investigating', '--json', ...common])).stdout) as { cases: Case[] };
    expect(json.cases.map((c) => c.case_id)).toContain(caseId);
    await warden(['cases', 'note', caseId, 'noted from the CLI', ...common]);
    const shown = (await warden(['cases', 'show', caseId, ...common])).stdout;
    expect(shown).toContain(caseId);
    expect(shown).toContain('noted from the CLI');
  });

  it('writes the HTML report and the STIX bundle to files, and imports a bundle', async () => {
    const out = path.join(h.dataDir, 'r.html');
    await warden(['report', caseId, '--format', 'html', '--out', out, ...common]);
    expect(readFileSync(out, 'utf8')).toContain(caseId);
    const stix = path.join(h.dataDir, 'b.json');
    await warden(['intel', 'export', caseId, '--format', 'stix', '--out', stix, ...common]);
    const bundle = JSON.parse(readFileSync(stix, 'utf8')) as StixBundle;
    expect(bundle.type).toBe('bundle');
    bundle.objects.push({ type: 'indicator', id: 'indicator--bad', spec_version: '2.1' });
    writeFileSync(stix, JSON.stringify(bundle));
    const r = (await warden(['intel', 'import', stix, ...common])).stdout;
    expect(r).toMatch(/3 indicator\(s\)/);
    expect(r).toMatch(/1 rejected object/);
  });

  it('acts on and closes a case from the CLI', async () => {
    const acted = JSON.parse((await warden(['cases', 'act', caseId, '--action', 'monitor', '--scope', 'org', '--reason', 'watch them', '--json', ...common])).stdout) as { actions: EnforcementAction[] };
    expect(acted.actions.map((a) => a.subject)).toEqual(members.map((m) => ({ kind: 'org', id: m.orgId })).sort((a, b) => (a.id < b.id ? -1 : 1)));
    expect(acted.actions[0]).toMatchObject({ decision: 'monitor', source: `case:${caseId}` });
    await warden(['cases', 'close', caseId, '--reason', 'handled', ...common]);
    expect((await h.admin.call<Case>('GET', `/cases/${caseId}`)).status).toBe('closed');
  });
});

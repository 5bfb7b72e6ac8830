import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Alert, CaseStore } from '../core/index.js';
import { isWardenError } from '../core/index.js';
import { registerCaseRoutes } from '../cases/index.js';
import { openSqliteCaseStore } from '../store/index.js';
import type { AlertLabel } from './alert-commands.js';
import { buildProgram } from './program.js';

const TOKEN = 'alerts-cli-token-0123456789';
let app: FastifyInstance;
let store: CaseStore;
let url: string;
let dir: string;

/** Runs a `warden` command in this process against the test server, capturing stdout. */
async function warden(args: string[]): Promise<string> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'warden', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return stdout;
}

const alert = (i: number, accounts: string[], over: Partial<Alert> = {}): Omit<Alert, 'fingerprint'> => ({
  alert_id: `al_${i}`,
  detector: 'hydra_cluster',
  subjects: { accounts },
  score: 0.5 + i / 10,
  labels: [`label_${i}`],
  evidence: [{ code: 'shared_payment_fingerprint', detail: `evidence ${i}`, weight: 0.4 }],
  created_at: `2026-03-01T0${i}:00:00Z`,
  ...over,
});

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'warden-alerts-'));
  store = openSqliteCaseStore({ path: ':memory:' });
  app = Fastify();
  registerCaseRoutes(app, {
    cases: store,
    store: { getAction: async () => null, getAccount: async () => null, listEvents: async () => [], putBlob: async () => undefined, getBlob: async () => null },
    enforcement: { apply: async () => undefined },
    token: TOKEN,
    now: () => Date.parse('2026-03-02T00:00:00Z'),
    log: { error: () => undefined },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const post = (route: string, body: unknown) =>
    fetch(`${url}/admin/v1${route}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => {
      expect(r.status, route).toBeLessThan(300);
    });
  await post('/alerts', {
    alerts: [
      alert(1, ['acc_old'], { detector: 'distillation' }),
      alert(2, ['acc_1', 'acc_2'], { subjects: { accounts: ['acc_1', 'acc_2'], cluster_id: 'cl_a', entity: 'ent_x' } }),
      alert(3, ['acc_3']),
      alert(4, ['acc_2']),
      alert(5, ['acc_open']),
    ],
  });
  await post('/alerts/al_1/disposition', { verdict: 'benign', reason: 'a course', author: 'ana' });
  await post('/alerts/al_2/disposition', { verdict: 'true_positive', reason: 'shared card and templated prompts', author: 'ana' });
  await post('/alerts/al_3/disposition', { verdict: 'false_positive', reason: 'shared office network', author: 'bo' });
  await post('/alerts/al_4/disposition', { verdict: 'benign', reason: 'also a research account', author: 'bo' });
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('warden alerts export --labels', () => {
  it('writes one JSON line per (account, disposed alert), labelled malicious or benign', async () => {
    const out = path.join(dir, 'labels.jsonl');
    expect(await warden(['alerts', 'export', '--labels', '--url', url, '--token', TOKEN, '--out', out])).toBe('');
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as AlertLabel);
    expect(rows.map((r) => `${r.account_id}/${r.alert_id}/${r.label}`)).toEqual(['acc_old/al_1/benign', 'acc_1/al_2/malicious', 'acc_2/al_2/malicious', 'acc_3/al_3/benign', 'acc_2/al_4/benign']);
    expect(rows[1]).toEqual({
      account_id: 'acc_1',
      alert_id: 'al_2',
      cluster_id: 'cl_a',
      entity: 'ent_x',
      detector: 'hydra_cluster',
      score: 0.7,
      labels: ['label_2'],
      verdict: 'true_positive',
      label: 'malicious',
      reason: 'shared card and templated prompts',
      author: 'ana',
      decided_at: '2026-03-02T00:00:00.000Z',
    });
    expect(rows[3]).toMatchObject({ verdict: 'false_positive', label: 'benign', cluster_id: null, entity: null, author: 'bo' });
    // To stdout, and only alerts created since the given time.
    const since = (await warden(['alerts', 'export', '--labels', '--url', url, '--token', TOKEN, '--since', '2026-03-01T02:00:00Z'])).trimEnd().split('\n');
    expect(since.map((l) => (JSON.parse(l) as AlertLabel).alert_id)).toEqual(['al_2', 'al_2', 'al_3', 'al_4']);
  });

  it('writes a truth.json that `warden score` scores verdicts against', async () => {
    const truth = path.join(dir, 'truth.json');
    await warden(['alerts', 'export', '--labels', '--format', 'truth', '--since', '2026-03-01T02:00:00Z', '--url', url, '--token', TOKEN, '--out', truth]);
    const t = JSON.parse(readFileSync(truth, 'utf8')) as { accounts: Record<string, unknown> };
    // acc_2 was confirmed malicious on al_2; a later benign verdict on another alert does not undo that.
    expect(t.accounts).toEqual({
      acc_1: { group: 'campaign:cl_a', malicious: true, entity: 'ent_x', labels: ['label_2'] },
      acc_2: { group: 'campaign:cl_a', malicious: true, entity: 'ent_x', labels: ['label_2', 'label_4'] },
      acc_3: { group: 'benign:false_positive', malicious: false, entity: null, labels: ['label_3'] },
    });
    const v = (account_id: string, recommended_action: string, attributed_entity: string | null = null) => ({ account_id, risk: 0.9, labels: [], recommended_action, attributed_entity, reasons: [] });
    const verdicts = path.join(dir, 'verdicts.json');
    writeFileSync(verdicts, JSON.stringify({ accounts: [v('acc_1', 'block', 'ent_x'), v('acc_2', 'monitor'), v('acc_3', 'step_up')] }));
    const r = JSON.parse(await warden(['score', '--verdicts', verdicts, '--truth', truth, '--json'])) as Record<string, any>;
    expect(r).toMatchObject({ accounts: 3, malicious: 2, benign: 1, true_positives: 1, false_positives: 1, precision: 0.5, recall: 0.5 });
    expect(r['attribution']).toMatchObject({ correct: 1 });
  });

  it('says what is wrong with a bad --since or an unreachable server', async () => {
    const bad = await warden(['alerts', 'export', '--labels', '--url', url, '--token', TOKEN, '--since', 'yesterday']).catch((e: unknown) => e);
    expect(isWardenError(bad, 'VALIDATION')).toBe(true);
    expect((bad as Error).message).toMatch(/--since must be an RFC 3339 time/);
    const down = await warden(['alerts', 'export', '--labels', '--url', 'http://127.0.0.1:1', '--token', TOKEN]).catch((e: unknown) => e);
    expect(isWardenError(down, 'UNAVAILABLE')).toBe(true);
  });
});

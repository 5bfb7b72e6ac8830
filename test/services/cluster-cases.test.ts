/**
 * Two gateways of the cluster profile, one set of cases: a case opened at gateway B is worked
 * through gateway A (with `warden cases …`), the block it takes is refused at both gateways
 * within a second, and both gateways' audit chains are in PostgreSQL, verified together with
 * the installation's public key alone.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Alert, Case } from '../../src/core/index.js';
import { AUDIT_PUBLIC_KEY_FILE } from '../../src/cases/index.js';
import { buildProgram } from '../../src/cli/program.js';
import { dropCluster, ownCluster, startHarness, type Harness } from '../e2e/harness.js';

const POLICY = `
format: 1
name: cluster-cases-test
rules:
  - id: enforcement-block
    when: { field: enforcement.decision, equals: block }
    decide: block
    message: This account is suspended. Contact support to appeal.
`;

const cluster = ownCluster('cases');
const id = cluster.schema.slice(-12);
const CLUSTER_ID = `cl_two_gw_${id}`;
// One installation: one signing key, kept outside the database and shared by both gateways.
const keyDir = mkdtempSync(path.join(os.tmpdir(), 'warden-cluster-key-'));

async function warden(args: string[]): Promise<{ stdout: string; error: unknown }> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  let error: unknown = null;
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'warden', ...args]);
  } catch (e) {
    error = e;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, error };
}

describe('cluster profile: two gateways, one case', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    a = await startHarness({ policy: POLICY, cluster, audit: { key_dir: keyDir } });
    b = await startHarness({ policy: POLICY, cluster, audit: { key_dir: keyDir } });
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dropCluster(cluster);
    rmSync(keyDir, { recursive: true, force: true });
  });

  const ask = (h: Harness, key: string) =>
    new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });

  it('acts through gateway A on a case opened at gateway B, and both refuse the cluster’s keys within a second', async () => {
    const members = [await a.customer(), await b.customer()];
    await a.server.store.putRisk(members.map((m) => ({ account_id: m.accountId, risk: 0.3, labels: [], cluster_id: CLUSTER_ID, updated_at: new Date().toISOString() })));
    for (const m of members) for (const h of [a, b]) await ask(h, m.key);

    const alerts: Omit<Alert, 'fingerprint' | 'case_id'>[] = members.map((m, i) => ({
      alert_id: `al_two_gw_${id}_${i}`,
      detector: 'hydra_cluster',
      subjects: { accounts: [m.accountId], cluster_id: CLUSTER_ID },
      score: 0.9,
      evidence: [{ code: 'shared_payment_fingerprint', detail: 'one card on both accounts', weight: 0.5, data: { account: m.accountId } }],
      created_at: new Date().toISOString(),
    }));
    const ingested = await b.admin.call<{ created: string[] }>('POST', '/alerts', { alerts });
    expect(ingested.created.length).toBe(1);
    const caseId = ingested.created[0]!;

    // The analyst at gateway A sees the case B opened and works it with the CLI.
    const listed = await warden(['cases', 'list', '--url', a.url, '--token', a.server.adminToken, '--cluster', CLUSTER_ID, '--json']);
    expect(listed.error).toBeNull();
    expect((JSON.parse(listed.stdout) as { cases: Case[] }).cases.map((c) => c.case_id)).toEqual([caseId]);
    const noted = await warden(['cases', 'note', caseId, 'Same card on both accounts.', '--url', a.url, '--token', a.server.adminToken, '--author', 'ana']);
    expect(noted.error).toBeNull();
    const acted = await warden(['cases', 'act', caseId, '--action', 'block', '--reason', 'hydra cluster', '--url', a.url, '--token', a.server.adminToken, '--author', 'ana', '--json']);
    expect(acted.error).toBeNull();
    const t0 = Date.now();
    const { actions } = JSON.parse(acted.stdout) as { actions: { subject: { kind: string; id: string } }[] };
    expect(actions.map((x) => x.subject)).toEqual([{ kind: 'cluster', id: CLUSTER_ID }]);

    // Every member's key is refused at both gateways; record when each refusal was first seen.
    const refusedAfter = new Map<string, number>();
    while (refusedAfter.size < 4 && Date.now() - t0 < 5000) {
      await Promise.all(
        members.flatMap((m) =>
          [a, b].map(async (h, gi) => {
            const k = `${gi}:${m.accountId}`;
            if (refusedAfter.has(k)) return;
            const err = await ask(h, m.key).then(
              () => null,
              (e: unknown) => e,
            );
            if (err instanceof Anthropic.PermissionDeniedError) refusedAfter.set(k, Date.now() - t0);
          }),
        ),
      );
    }
    expect(refusedAfter.size).toBe(4);
    // The promise is one second from the analyst's action to every gateway's refusal.
    for (const ms of refusedAfter.values()) expect(ms).toBeLessThan(1000);

    // Gateway B reads the case as A left it.
    const atB = await b.admin.call<Case>('GET', `/cases/${caseId}`);
    expect(atB.status).toBe('actioned');
    expect(atB.notes.map((n) => n.text)).toEqual(['Same card on both accounts.']);
    expect(atB.actions.length).toBe(1);
    expect(atB.timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['created', 'alert', 'note', 'action']));
  });

  it('keeps each gateway’s audit chain in PostgreSQL; audit verify checks them all with the public key alone', async () => {
    const chains = [a, b].map((h) => h.server.cases).map(async (s) => (await s.auditHeads()).map((x) => x.chain));
    const heads = await chains[0]!;
    expect(await chains[1]!).toEqual(heads);
    // One chain per gateway process (derived from host and data_dir), none shared.
    const gwChains = heads.filter((c) => c.startsWith('gw-'));
    expect(gwChains.length).toBe(2);
    const audited = await a.server.cases.listAudit({ type: 'case.action' });
    expect(audited.length).toBe(1);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-cluster-verify-'));
    try {
      const config = path.join(dir, 'warden.yaml');
      writeFileSync(config, `profile: cluster\ndata_dir: ${JSON.stringify(dir)}\ncluster:\n  schema: ${cluster.schema}\n`);
      const r = await warden(['--config', config, 'audit', 'verify', '--public-key', path.join(keyDir, AUDIT_PUBLIC_KEY_FILE)]);
      expect(r.error).toBeNull();
      expect(r.stdout).toMatch(/^OK: \d+ records in 2 chain\(s\) from PostgreSQL schema /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

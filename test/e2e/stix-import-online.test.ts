import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportStixBundle } from '../../src/cases/index.js';
import { buildProgram } from '../../src/cli/program.js';
import { startHarness, type Harness } from './harness.js';

// `warden intel import` against a running server: the bundle is stored, online detection reloads
// it, and an account holding the sender's device is flagged with the imported evidence; expiring
// the bundle takes the evidence away again.
describe('imported STIX indicators in a running Warden', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness();
    dir = mkdtempSync(path.join(os.tmpdir(), 'warden-stix-import-'));
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads a bundle through the CLI, flags the account holding the shared device, lists and expires the indicators', async () => {
    const org = await h.admin.call<{ org_id: string }>('POST', '/orgs', { name: 'Quiet Harbor Trading Pte Ltd', declared_country: 'SG', verification: 'email' });
    const acc = await h.admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, device_fingerprint: 'df_operator_laptop' });
    const bystander = await h.admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, device_fingerprint: 'df_someone_else' });
    const bundle = exportStixBundle({
      provider: { name: 'Other Model Provider' },
      case: { case_id: 'case_peer_1', title: 'Shell cluster', created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-02T00:00:00Z', score: 0.95 },
      entity: { id: 'example-conglomerate', name: 'Example Conglomerate Group Holding Ltd' },
      indicators: { device_fingerprints: ['df_operator_laptop'], asns: [64500], ip_ranges: ['203.0.113.0/24'] },
    });
    const file = path.join(dir, 'bundle.json');
    writeFileSync(file, JSON.stringify({ ...bundle, objects: [...bundle.objects, { type: 'indicator', id: 'indicator--1b7c2f4e-0c1d-4d2e-9f3a-1a2b3c4d5e6f', spec_version: '2.1', pattern: 'rule x {}', pattern_type: 'yara', valid_from: '2026-11-01T00:00:00Z' }] }));
    // The warden command itself, in process (a subprocess costs half a minute of start-up on a loaded machine).
    const cli = async (args: string[]): Promise<{ stdout: string }> => {
      const out: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      });
      try {
        await buildProgram().parseAsync(['node', 'warden', ...args, '--url', h.url, '--token', h.server.adminToken]);
      } finally {
        spy.mockRestore();
      }
      return { stdout: out.join('') };
    };

    const imported = await cli(['intel', 'import', file]);
    expect(imported.stdout).toMatch(/Imported bundle--\S+: 3 indicator\(s\) \(1 ip_range, 1 asn, 1 device_fingerprint\), 2 identities, 1 rejected object/);
    expect(imported.stdout).toContain('from: Other Model Provider');
    expect(imported.stdout).toContain('attributed to: Example Conglomerate Group Holding Ltd');
    expect(imported.stdout).toMatch(/rejected objects\[\d+\] indicator--1b7c2f4e\S*: pattern_type "yara"/);

    await h.detect();
    const risk = async (id: string) => (await h.admin.call<{ risk: { risk: number; labels: string[] } | null }>('GET', `/accounts/${id}/export`)).risk;
    const flagged = await risk(acc.account_id);
    expect(flagged!.labels).toContain('imported_indicator');
    expect(flagged!.risk).toBeGreaterThanOrEqual(0.7);
    expect((await risk(bystander.account_id))?.labels ?? []).not.toContain('imported_indicator');

    const listed = await cli(['intel', 'indicators']);
    expect(listed.stdout).toMatch(/device_fingerprint\s+[0-9a-f]{21}…\s+0\.95\s+Other Model Provider\s+Example Conglomerate/);
    expect(listed.stdout).toContain('3 indicator(s) from 1 bundle(s).');

    const expired = await cli(['intel', 'indicators', '--expire', bundle.id]);
    expect(expired.stdout).toMatch(new RegExp(`Expired 3 indicator\\(s\\) of ${bundle.id}`));
    expect((await cli(['intel', 'indicators'])).stdout).toMatch(/No imported indicators in force \(1 bundle/);
    await h.detect();
    expect((await risk(acc.account_id))?.labels ?? []).not.toContain('imported_indicator');
  }, 120_000);
});

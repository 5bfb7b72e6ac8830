/**
 * The audit log in PostgreSQL (cluster profile): two writer processes' chains, then someone
 * with write access to the database changes, deletes or reorders a record. `warden audit
 * verify` with a cluster config and only the public key says which chain and record broke,
 * and says OK again once the row is put back.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUDIT_PUBLIC_KEY_FILE, createAuditLog, loadOrCreateAuditKey } from '../../src/cases/index.js';
import { buildProgram } from '../../src/cli/program.js';
import { isWardenError } from '../../src/core/index.js';
import { openPostgresCaseStore, type PostgresCaseStore } from '../../src/store/index.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `wt_audit_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-audit-tamper-'));
const pubOnly = path.join(dir, 'verifier', AUDIT_PUBLIC_KEY_FILE);
const configFile = path.join(dir, 'warden.yaml');
const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
const log = `"${schema}".audit_log`;

async function verify(): Promise<{ stdout: string; error: unknown }> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  let error: unknown = null;
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'warden', '--config', configFile, 'audit', 'verify', '--public-key', pubOnly]);
  } catch (e) {
    error = e;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, error };
}

async function row(chain: string, seq: number): Promise<Record<string, unknown>> {
  return (await admin.query(`SELECT * FROM ${log} WHERE chain = $1 AND seq = $2`, [chain, seq])).rows[0] as Record<string, unknown>;
}

describe('audit verify against PostgreSQL', () => {
  let store: PostgresCaseStore;
  beforeAll(async () => {
    const key = loadOrCreateAuditKey(path.join(dir, 'signer'));
    // The verifier gets the public key alone, in a directory without the private key.
    mkdirSync(path.dirname(pubOnly));
    copyFileSync(path.join(dir, 'signer', AUDIT_PUBLIC_KEY_FILE), pubOnly);
    writeFileSync(configFile, `profile: cluster\ndata_dir: ${JSON.stringify(path.join(dir, 'data'))}\ncluster:\n  postgres_url: ${PG_URL}\n  schema: ${schema}\n`);
    store = await openPostgresCaseStore({ connectionString: PG_URL, schema, maxConnections: 4 });
    // Two writer processes, each with its own chain, appending at the same time.
    const writers = ['gw-a', 'gw-b'].map((chain) => createAuditLog({ store, key, chain, maxBatch: 4 }));
    await Promise.all(
      writers.flatMap((w, i) =>
        Array.from({ length: 20 }, (_, n) =>
          w.append({ type: 'action.put', actor: `analyst-${i}@example.test`, subject: { kind: 'account', id: `acc_${n}` }, data: { n, reason: 'test' }, at: new Date(Date.UTC(2026, 2, 1, 0, 0, n)).toISOString() }),
        ),
      ),
    );
    for (const w of writers) await w.close();
  });
  afterAll(async () => {
    await store?.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies every chain with the public key alone', async () => {
    const r = await verify();
    expect(r.error).toBeNull();
    expect(r.stdout).toMatch(/^OK: 40 records in 2 chain\(s\) from PostgreSQL schema wt_audit_/);
    expect(r.stdout).toContain('gw-a (20), gw-b (20)');
  });

  it('names the chain and record whose content was changed', async () => {
    const before = await row('gw-b', 7);
    await admin.query(`UPDATE ${log} SET data = '{"n":6,"reason":"edited"}' WHERE chain = 'gw-b' AND seq = 7`);
    try {
      const r = await verify();
      expect(isWardenError(r.error, 'INPUT_INVALID')).toBe(true);
      expect((r.error as Error).message).toMatch(/in chain\(s\) gw-b;/);
      expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^chain gw-b seq 7: changed: the content does not match its hash/)]);
    } finally {
      await admin.query(`UPDATE ${log} SET data = $1 WHERE chain = 'gw-b' AND seq = 7`, [before['data']]);
    }
    expect((await verify()).error).toBeNull();
  });

  it('names the record that was deleted', async () => {
    const before = await row('gw-a', 5);
    await admin.query(`DELETE FROM ${log} WHERE chain = 'gw-a' AND seq = 5`);
    try {
      const r = await verify();
      expect(isWardenError(r.error, 'INPUT_INVALID')).toBe(true);
      expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^chain gw-a seq 5: removed: record 5 is missing/)]);
    } finally {
      const cols = Object.keys(before);
      await admin.query(`INSERT INTO ${log} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(before));
    }
    expect((await verify()).error).toBeNull();
  });

  it('names the record that was moved out of order', async () => {
    const [p3, p4] = [Number((await row('gw-b', 3))['pos']), Number((await row('gw-b', 4))['pos'])];
    const swap = async () => {
      await admin.query(`UPDATE ${log} SET pos = -pos WHERE pos IN ($1, $2)`, [p3, p4]);
      await admin.query(`UPDATE ${log} SET pos = CASE WHEN pos = -$1::bigint THEN $2::bigint ELSE $1::bigint END WHERE pos IN (-$1::bigint, -$2::bigint)`, [p3, p4]);
    };
    await swap();
    try {
      const r = await verify();
      expect(isWardenError(r.error, 'INPUT_INVALID')).toBe(true);
      expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^chain gw-b seq 4: reordered: record 4 is stored out of order after record 2 and before record 3/)]);
    } finally {
      await swap();
    }
    expect((await verify()).error).toBeNull();
  });
});

/**
 * `warden audit verify` on the embedded profile: the test edits a record inside the embedded
 * SQLite file (the cluster profile's tamper tests are test/services/audit-tamper.test.ts).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startHarness, type Harness } from './harness.js';

const run = promisify(execFile);
const CLI = [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'src/cli/main.ts')];

describe('warden audit verify (embedded)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('audits actions, reversals and policy refusals; verify needs only the public key and names a changed record', async () => {
    const c = await h.customer();
    const act = await h.admin.call<{ action_id: string }>('POST', '/actions', { subject: { kind: 'key', id: c.keyId }, decision: 'block', reason: 'audit test' });
    await new Anthropic({ apiKey: c.key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
    await h.admin.call('POST', `/actions/${act.action_id}/reverse`, { reason: 'done' });
    const env = { ...process.env, WARDEN_DATA_DIR: h.dataDir, WARDEN_LOG_LEVEL: 'silent' };
    const verify = () => run(process.execPath, [...CLI, 'audit', 'verify'], { cwd: ROOT, env });
    // The refusal is written in a batch off the request path: wait until it is there.
    const db = new Database(`${h.dataDir}/warden.db`);
    let victim: { chain: string; seq: number };
    try {
      await expect.poll(() => (db.prepare("SELECT count(*) n FROM audit_log WHERE type = 'policy.refusal'").get() as { n: number }).n, { timeout: 10_000 }).toBeGreaterThan(0);
      const types = (db.prepare('SELECT type FROM audit_log ORDER BY pos').all() as { type: string }[]).map((r) => r.type);
      expect(types).toEqual(expect.arrayContaining(['policy.activate', 'action.put', 'policy.refusal', 'action.reverse']));
      expect((await verify()).stdout).toMatch(/^OK: \d+ records/);
      victim = db.prepare("SELECT chain, seq FROM audit_log WHERE type = 'action.put' ORDER BY pos DESC LIMIT 1").get() as { chain: string; seq: number };
      db.prepare("UPDATE audit_log SET data = json_set(data, '$.reason', 'edited') WHERE chain = ? AND seq = ?").run(victim.chain, victim.seq);
    } finally {
      db.close();
    }
    const err = (await verify().catch((e: unknown) => e)) as { stdout: string; code: number };
    expect(err.code).toBe(2);
    expect(err.stdout).toContain(`seq ${victim.seq}: changed`);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { caseStoreContract, makeAuditRecords, makeCase } from '../contract/case-store.contract.js';
import { openSqliteCaseStore } from './case-store.js';
import { openSqliteStore } from './state-store.js';

caseStoreContract('SQLite (:memory:)', async () => openSqliteCaseStore({ path: ':memory:' }));

describe('SqliteCaseStore on a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cases-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps cases and audit records across reopen', async () => {
    const path = join(dir, 'cases.db');
    const s = openSqliteCaseStore({ path });
    const c = makeCase();
    await s.createCase(c);
    const recs = makeAuditRecords('w-1', 1, 2);
    await s.appendAudit(recs);
    await s.close();
    const again = openSqliteCaseStore({ path });
    expect(await again.getCase(c.case_id)).toEqual(c);
    expect((await again.listAudit()).map(({ pos: _p, ...r }) => r)).toEqual(recs);
    await again.close();
  });

  it('shares the state store’s database and leaves it open on close', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const cases = openSqliteCaseStore({ db: store.db });
    await cases.createCase(makeCase());
    await cases.close();
    expect(store.db.prepare('SELECT count(*) FROM cases').pluck().get()).toBe(1);
    await store.close();
  });

  it('refuses writes after close, saying to reopen', async () => {
    const s = openSqliteCaseStore({ path: ':memory:' });
    await s.close();
    await expect(s.createCase(makeCase())).rejects.toThrow(/closed/);
    await expect(s.appendAudit(makeAuditRecords('w', 1, 1))).rejects.toThrow(/closed/);
  });
});

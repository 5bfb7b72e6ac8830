import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleAuthStoreContract } from '../contract/console-auth-store.contract.js';
import { openSqliteConsoleAuthStore } from './console-auth-store.js';
import { openSqliteStore } from './state-store.js';

consoleAuthStoreContract('SQLite (:memory:)', async () => openSqliteConsoleAuthStore({ path: ':memory:' }));

describe('SqliteConsoleAuthStore on the state store’s file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-console-auth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('shares the database with the state store and keeps users across reopen', async () => {
    const path = join(dir, 'warden.db');
    const state = openSqliteStore({ path });
    const auth = openSqliteConsoleAuthStore({ db: state.db });
    await auth.createUser({ username: 'ana', role: 'analyst', password_hash: 'scrypt$h', created_at: '2026-03-01T00:00:00.000Z', disabled: false });
    await auth.close();
    await state.close();
    const again = openSqliteStore({ path });
    const auth2 = openSqliteConsoleAuthStore({ db: again.db });
    expect((await auth2.getUser('ana'))?.role).toBe('analyst');
    const versions = again.db.prepare("SELECT component, version FROM schema_version WHERE component IN ('console', 'store') ORDER BY component").all();
    expect(versions).toEqual([
      { component: 'console', version: 1 },
      { component: 'store', version: 1 },
    ]);
    await auth2.close();
    await again.close();
  });
});

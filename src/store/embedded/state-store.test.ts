import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stateStoreContract } from '../contract/state-store.contract.js';
import { makeAccount, makeEvent } from '../contract/fixtures.js';
import { openSqliteStore, STORE_MIGRATIONS } from './state-store.js';
import { migrate, openDatabase } from './sqlite.js';

stateStoreContract('SQLite (:memory:)', async () => openSqliteStore({ path: ':memory:' }));

describe('SqliteStore on a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses WAL with synchronous NORMAL and keeps data across reopen', async () => {
    const path = join(dir, 'a', 'state.db');
    const store = openSqliteStore({ path });
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    const acc = makeAccount();
    await store.createAccount(acc);
    await store.appendEvents([makeEvent({ account_id: acc.account_id })]);
    await store.close();
    const again = openSqliteStore({ path });
    expect(await again.getAccount(acc.account_id)).toEqual(acc);
    expect(await again.countEvents({ account_id: acc.account_id })).toBe(1);
    await again.deleteAccount(acc.account_id);
    await again.close();
    // The tombstone set is rebuilt on open: a late event for the erased account is refused.
    const third = openSqliteStore({ path });
    expect(await third.appendEvents([makeEvent({ account_id: acc.account_id })])).toBe(0);
    await third.close();
  });

  it('records the schema version and refuses a database from a newer Warden', () => {
    const db = openDatabase({ path: ':memory:' });
    expect(migrate(db, 'store', STORE_MIGRATIONS)).toBe(STORE_MIGRATIONS.length);
    expect(migrate(db, 'store', STORE_MIGRATIONS)).toBe(STORE_MIGRATIONS.length);
    db.prepare("UPDATE schema_version SET version = 99 WHERE component = 'store'").run();
    expect(() => migrate(db, 'store', STORE_MIGRATIONS)).toThrow(/newer than this Warden/);
    db.close();
  });

  it('applies only the migrations a database has not seen', () => {
    const db = openDatabase({ path: ':memory:' });
    const ran: number[] = [];
    const m = (version: number) => ({ version, description: `m${version}`, up: () => void ran.push(version) });
    migrate(db, 'demo', [m(1)]);
    migrate(db, 'demo', [m(1), m(2), m(3)]);
    expect(ran).toEqual([1, 2, 3]);
    expect(() => migrate(db, 'demo', [m(1), m(3)])).toThrow(/expected 2/);
    db.close();
  });

  it('rejects an event with an unparseable time, naming it, and stores none of the batch', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const good = makeEvent();
    const bad = makeEvent({ ts: 'yesterday' });
    await expect(store.appendEvents([good, bad])).rejects.toThrow(new RegExp(`event ${bad.event_id} ts`));
    expect(await store.countEvents()).toBe(0);
    await store.close();
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnforcementChange } from '../../core/index.js';
import { enforcementStateContract } from '../contract/enforcement-state.contract.js';
import { makeAction, uid } from '../contract/fixtures.js';
import { openSqliteEnforcementState } from './enforcement-state.js';
import { openSqliteStore } from './state-store.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-enf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

enforcementStateContract('SQLite file', async () => {
  const path = join(dir, `${uid('enf')}.db`);
  return {
    state: openSqliteEnforcementState({ path, pollMs: 50 }),
    peer: async () => openSqliteEnforcementState({ path, pollMs: 50 }),
  };
});

describe('SqliteEnforcementState', () => {
  it('calls watchers before apply settles (no polling in-process)', async () => {
    const state = openSqliteEnforcementState({ path: ':memory:', pollMs: 60_000 });
    const seen: EnforcementChange[] = [];
    state.watch((c) => seen.push(c));
    await state.apply({ type: 'put', action: makeAction() });
    expect(seen.length).toBe(1);
    await state.close();
  });

  it('stores actions in the state store’s actions table', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const state = openSqliteEnforcementState({ store });
    const a = makeAction();
    await state.apply({ type: 'put', action: a });
    expect(await store.getAction(a.action_id)).toEqual(a);
    await store.putAction({ ...a, reversed_at: '2026-03-02T00:00:00.000Z' });
    expect(await state.active('2026-03-10T00:00:00.000Z')).toEqual([]);
    await state.close();
    // The shared database stays open for the store.
    expect(await store.getAction(a.action_id)).not.toBeNull();
    await store.close();
  });

  it('refuses an action whose created_at is not a time, naming the field', async () => {
    const state = openSqliteEnforcementState({ path: ':memory:' });
    await expect(state.apply({ type: 'put', action: makeAction({ created_at: 'soon' }) })).rejects.toThrow(/action.created_at/);
    await state.close();
  });
});

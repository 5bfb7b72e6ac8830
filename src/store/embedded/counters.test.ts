import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countersContract } from '../contract/counters.contract.js';
import { createMemoryCounters, openSqliteCounters } from './counters.js';
import { openDatabase } from './sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-counters-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

countersContract('memory', async () => ({ counters: createMemoryCounters() }), { durable: false });
countersContract(
  'SQLite write-behind',
  async () => {
    const path = join(dir, `c${n++}.db`);
    const counters = openSqliteCounters({ path });
    return {
      counters,
      restart: async () => {
        await counters.close();
        return openSqliteCounters({ path });
      },
    };
  },
  { durable: true },
);

function fakeClock(start: number) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('embedded counters', () => {
  it('forgets periods once they have ended', async () => {
    const clock = fakeClock(1_000_000);
    const c = createMemoryCounters({ clock });
    const minute = (i: number) => ({ id: String(i), endsAt: (i + 1) * 60_000 });
    const cur = Math.floor(clock.t / 60_000);
    await c.take('a', minute(cur), 1, 10);
    await c.take('b', minute(cur), 1, 10);
    await c.take('a', minute(cur + 1), 1, 10);
    expect(c.size()).toBe(3);
    clock.t = (cur + 1) * 60_000;
    expect(c.size()).toBe(1);
    expect(await c.peek('a', minute(cur))).toBe(0);
    expect(await c.peek('a', minute(cur + 1))).toBe(1);
    await c.close();
  });

  it('writes increments behind: nothing in the table before a flush, all of it after', async () => {
    const db = openDatabase({ path: ':memory:' });
    const c = openSqliteCounters({ db, flushMs: 60_000 });
    const p = { id: '2026-11', endsAt: Date.now() + 86_400_000 };
    for (let i = 0; i < 50; i++) await c.take('acct', p, 2, 1000);
    await c.add('acct', p, 5);
    const stored = () => (db.prepare('SELECT count FROM counters WHERE key = ?').get('acct') as { count: number } | undefined)?.count;
    expect(stored()).toBeUndefined();
    c.flush();
    expect(stored()).toBe(105);
    await c.add('acct', p, 1);
    await c.close();
    expect(stored()).toBe(106);
    db.close();
  });

  it('converges on the sum when two processes share a file', async () => {
    const path = join(dir, 'shared.db');
    const a = openSqliteCounters({ path, flushMs: 60_000 });
    const b = openSqliteCounters({ path, flushMs: 60_000 });
    const p = { id: '2026-11', endsAt: Date.now() + 86_400_000 };
    await a.add('org', p, 10);
    await b.add('org', p, 7);
    a.flush();
    b.flush();
    expect(await b.peek('org', p)).toBe(17);
    await a.add('org', p, 1);
    a.flush();
    expect(await a.peek('org', p)).toBe(18);
    await a.close();
    await b.close();
    const c = openSqliteCounters({ path });
    expect(await c.peek('org', p)).toBe(18);
    await c.close();
  });

  it('does not reload periods that ended while it was closed', async () => {
    const path = join(dir, 'ended.db');
    const clock = fakeClock(10_000);
    const a = openSqliteCounters({ path, clock });
    await a.add('k', { id: 'old', endsAt: 20_000 }, 3);
    await a.add('k', { id: 'new', endsAt: 90_000 }, 4);
    await a.close();
    clock.t = 30_000;
    const b = openSqliteCounters({ path, clock });
    expect(b.size()).toBe(1);
    expect(await b.peek('k', { id: 'new', endsAt: 90_000 })).toBe(4);
    await b.close();
  });

  it('refuses negative or non-finite amounts with a message naming the field', async () => {
    const c = createMemoryCounters();
    const p = { id: 'x', endsAt: Date.now() + 1000 };
    await expect(c.take('k', p, -1, 10)).rejects.toThrow(/cost/);
    await expect(c.add('k', p, Number.NaN)).rejects.toThrow(/amount/);
    await c.close();
    await expect(c.take('k', p, 1, 10)).rejects.toThrow(/closed/);
  });
});

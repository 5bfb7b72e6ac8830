/**
 * The `DetectionStateStore` contract: leases with fencing epochs, a live-worker list, and batch
 * commits that are all-or-nothing and idempotent by event id. The factory returns a fresh, empty
 * store (its own file or schema).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isWardenError, type AccountFeatureRow, type DetectionBatch, type DetectionStateStore } from '../../core/index.js';

const T0 = 1_800_000_000_000;

function batch(partition: number, seq: number, ids: string[], rows: (fresh: readonly string[]) => AccountFeatureRow[]): DetectionBatch {
  return { partition, seq, events: ids.map((event_id, i) => ({ event_id, ts_ms: T0 + i })), apply: rows, now: T0 };
}
const row = (account_id: string, partition: number, events: number): AccountFeatureRow => ({
  account_id,
  partition,
  events,
  state: new Uint8Array([events & 255, 1, 2, 3]),
  updated_ms: T0 + events,
});

export function detectionStateContract(name: string, open: () => Promise<DetectionStateStore>): void {
  describe(`DetectionStateStore contract: ${name}`, () => {
    const opened: DetectionStateStore[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      while (opened.length) await opened.pop()!.close();
    });

    it('gives a lease to one owner until it expires, then to another with a higher epoch', async () => {
      const s = await fresh();
      const a = await s.acquire('p0', 'w1', T0, 1000);
      expect(a).toMatchObject({ name: 'p0', owner: 'w1', expiresMs: T0 + 1000 });
      expect(await s.acquire('p0', 'w2', T0 + 500, 1000)).toBeNull();
      const b = await s.acquire('p0', 'w2', T0 + 1001, 1000);
      expect(b?.owner).toBe('w2');
      expect(b!.epoch).toBeGreaterThan(a!.epoch);
      // The first owner's lease is gone: renewing it fails.
      expect(await s.renew(a!, T0 + 1002, 1000)).toBeNull();
      expect((await s.leases(T0 + 1002)).map((l) => [l.name, l.owner])).toEqual([['p0', 'w2']]);
    });

    it('renews a held lease and frees it on release', async () => {
      const s = await fresh();
      const a = (await s.acquire('leader', 'w1', T0, 1000))!;
      const r = await s.renew(a, T0 + 900, 1000);
      expect(r?.expiresMs).toBe(T0 + 1900);
      expect(await s.acquire('leader', 'w2', T0 + 1500, 1000)).toBeNull();
      await s.release(r!);
      expect((await s.acquire('leader', 'w2', T0 + 1500, 1000))?.owner).toBe('w2');
    });

    it('commits states, counted ids and the position together, and counts an event id once', async () => {
      const s = await fresh();
      const l = (await s.acquire('p1', 'w1', T0, 60_000))!;
      const seen: (readonly string[])[] = [];
      const r1 = await s.commit(l, batch(1, 10, ['e1', 'e2', 'e2'], (f) => (seen.push(f), [row('acc_a', 1, f.length)])));
      expect(r1).toEqual({ fresh: 2, accounts: 1 });
      const r2 = await s.commit(l, batch(1, 12, ['e2', 'e3'], (f) => (seen.push(f), [row('acc_a', 1, 3)])));
      expect(r2.fresh).toBe(1);
      expect(seen).toEqual([['e1', 'e2'], ['e3']]);
      expect((await s.positions()).get(1)).toBe(12);
      const states = await s.partitionStates(1);
      expect(states.map((x) => [x.account_id, x.events, [...x.state]])).toEqual([['acc_a', 3, [3, 1, 2, 3]]]);
      expect((await s.statesSince(T0 + 3)).map((x) => x.account_id)).toEqual(['acc_a']);
      expect(await s.statesSince(T0 + 4)).toEqual([]);
    });

    it('refuses a commit under a lost lease and writes nothing', async () => {
      const s = await fresh();
      const old = (await s.acquire('p0', 'w1', T0, 1000))!;
      await s.acquire('p0', 'w2', T0 + 2000, 1000);
      let applied = false;
      const err = await s.commit(old, batch(0, 5, ['x1'], () => ((applied = true), [row('acc_b', 0, 1)]))).catch((e: unknown) => e);
      expect(isWardenError(err) && err.code).toBe('CONFLICT');
      expect(applied).toBe(false);
      expect((await s.positions()).get(0)).toBeUndefined();
      expect(await s.partitionStates(0)).toEqual([]);
    });

    it('rolls the whole batch back when apply throws, so its ids count later', async () => {
      const s = await fresh();
      const l = (await s.acquire('p0', 'w1', T0, 60_000))!;
      await expect(
        s.commit(
          l,
          batch(0, 3, ['y1'], () => {
            throw new Error('boom');
          }),
        ),
      ).rejects.toThrow('boom');
      expect((await s.positions()).get(0)).toBeUndefined();
      const r = await s.commit(l, batch(0, 3, ['y1'], (f) => [row('acc_c', 0, f.length)]));
      expect(r.fresh).toBe(1);
    });

    it('never moves a position backwards', async () => {
      const s = await fresh();
      const l = (await s.acquire('p2', 'w1', T0, 60_000))!;
      await s.commit(l, batch(2, 20, ['z1'], () => []));
      await s.commit(l, batch(2, 15, ['z2'], () => []));
      expect((await s.positions()).get(2)).toBe(20);
    });

    it('lists live workers and forgets those that stopped beating or left', async () => {
      const s = await fresh();
      expect(await s.heartbeat('w2', T0, 1000)).toEqual(['w2']);
      expect(await s.heartbeat('w1', T0 + 100, 1000)).toEqual(['w1', 'w2']);
      expect(await s.heartbeat('w1', T0 + 1050, 1000)).toEqual(['w1']);
      await s.leave('w1');
      expect(await s.heartbeat('w3', T0 + 1060, 1000)).toEqual(['w3']);
    });

    it('forgets the state of erased accounts', async () => {
      const s = await fresh();
      const l = (await s.acquire('p0', 'w1', T0, 60_000))!;
      await s.commit(l, batch(0, 1, ['f1', 'f2'], () => [row('acc_x', 0, 1), row('acc_y', 0, 1)]));
      expect(await s.forgetAccounts(['acc_x', 'acc_none'])).toBe(1);
      expect(await s.forgetAccounts([])).toBe(0);
      expect((await s.partitionStates(0)).map((r) => r.account_id)).toEqual(['acc_y']);
    });

    it('prunes counted ids by event time', async () => {
      const s = await fresh();
      const l = (await s.acquire('p0', 'w1', T0, 60_000))!;
      await s.commit(l, batch(0, 1, ['a1', 'a2', 'a3'], () => []));
      expect(await s.pruneCounted(T0 + 2)).toBe(2);
      // A pruned id counts again (the window is the operator's choice); a kept one does not.
      const r = await s.commit(l, batch(0, 2, ['a1', 'a3'], () => []));
      expect(r.fresh).toBe(1);
    });

    it('rejects a lease without an owner with a validation error', async () => {
      const s = await fresh();
      const err = await s.acquire('p0', '', T0, 1000).catch((e: unknown) => e);
      expect(isWardenError(err) && err.code).toBe('VALIDATION');
    });
  });
}

/**
 * The `Counters` contract (rate limits and budgets). The factory returns fresh counters; when
 * the implementation is durable it also gives `restart`, which closes them and opens the same
 * state again (a monthly budget must survive a restart).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Counters, Period } from '../../core/index.js';
import { uid } from './fixtures.js';

export interface CountersFixture {
  counters: Counters;
  /** Capability: closes `counters` and reopens the same durable state. Absent for in-memory counters. */
  restart?: () => Promise<Counters>;
}

const far = Date.now() + 3_600_000;
const period = (id: string, endsAt = far): Period => ({ id, endsAt });

export interface CountersCapabilities {
  /** Counts survive a restart; the fixture then provides `restart`. */
  durable: boolean;
}

export function countersContract(name: string, open: () => Promise<CountersFixture>, caps: CountersCapabilities): void {
  describe(`Counters contract: ${name}`, () => {
    const toClose: Counters[] = [];
    const fresh = async () => {
      const f = await open();
      toClose.push(f.counters);
      return f;
    };
    afterEach(async () => {
      while (toClose.length) await toClose.pop()!.close();
    });

    it('takes up to the limit and refuses the take that would pass it, unchanged', async () => {
      const { counters: c } = await fresh();
      const k = uid('k');
      const p = period('m1');
      expect(await c.take(k, p, 3, 10)).toEqual({ ok: true, total: 3 });
      expect(await c.take(k, p, 7, 10)).toEqual({ ok: true, total: 10 });
      expect(await c.take(k, p, 1, 10)).toEqual({ ok: false, total: 10 });
      expect(await c.peek(k, p)).toBe(10);
      expect(await c.take(k, p, 0, 10)).toEqual({ ok: true, total: 10 });
    });

    it('never passes the limit under many concurrent takes', async () => {
      const { counters: c } = await fresh();
      const k = uid('k');
      const p = period('m1');
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => c.take(k, p, 1 + (i % 3), 200)));
      const granted = results.filter((r) => r.ok).length;
      const grantedCost = results.reduce((s, r, i) => s + (r.ok ? 1 + (i % 3) : 0), 0);
      expect(granted).toBeGreaterThan(0);
      expect(grantedCost).toBeLessThanOrEqual(200);
      expect(await c.peek(k, p)).toBe(grantedCost);
      // Capacity left over can only be smaller than the smallest refused cost.
      const refusedCosts = results.map((r, i) => (r.ok ? Infinity : 1 + (i % 3)));
      expect(200 - grantedCost).toBeLessThan(Math.min(...refusedCosts));
    });

    it('adds unconditionally (even past a limit) and returns the new total', async () => {
      const { counters: c } = await fresh();
      const k = uid('tokens');
      const p = period('2026-11');
      expect(await c.add(k, p, 500)).toBe(500);
      expect(await c.add(k, p, 700)).toBe(1200);
      expect(await c.take(k, p, 1, 1000)).toEqual({ ok: false, total: 1200 });
      expect(await c.peek(k, p)).toBe(1200);
    });

    it('keeps keys and periods apart: a new period starts from zero', async () => {
      const { counters: c } = await fresh();
      const k = uid('k');
      const other = uid('k');
      const minute1 = period('29000001');
      const minute2 = period('29000002');
      await c.take(k, minute1, 5, 5);
      expect((await c.take(k, minute1, 1, 5)).ok).toBe(false);
      expect(await c.take(k, minute2, 1, 5)).toEqual({ ok: true, total: 1 });
      expect(await c.take(other, minute1, 2, 5)).toEqual({ ok: true, total: 2 });
      expect(await c.peek(k, minute1)).toBe(5);
      expect(await c.peek(uid('k'), minute1)).toBe(0);
    });

    it('counts fractional amounts exactly enough for budgets in currency', async () => {
      const { counters: c } = await fresh();
      const k = uid('usd');
      const p = period('2026-11');
      await c.add(k, p, 0.25);
      await c.add(k, p, 0.5);
      expect(await c.peek(k, p)).toBeCloseTo(0.75, 10);
    });

    if (caps.durable) {
      it('keeps counts across a restart', async () => {
        const f = await fresh();
        if (!f.restart) throw new Error('durable counters must give restart() in their fixture');
        const k = uid('budget');
        const p = period('2026-11');
        await f.counters.add(k, p, 1234);
        await f.counters.take(k, p, 6, 2000);
        toClose.pop();
        const again = await f.restart();
        toClose.push(again);
        expect(await again.peek(k, p)).toBe(1240);
        expect(await again.take(k, p, 800, 2000)).toEqual({ ok: false, total: 1240 });
      });
    }
  });
}

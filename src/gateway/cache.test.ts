import { describe, expect, it } from 'vitest';
import { createReadThroughCache } from './cache.js';

describe('read-through cache', () => {
  it('loads once, serves fresh entries without loading, and reads stale ones again before use', async () => {
    let t = 0;
    let loads = 0;
    let value = 'v1';
    const c = createReadThroughCache<string>(async () => (loads++, value), { ttlMs: 100, max: 10, now: () => t });
    expect(await c.get('a')).toBe('v1');
    expect(await c.get('a')).toBe('v1');
    expect(loads).toBe(1);
    value = 'v2';
    t = 150;
    expect(await c.get('a')).toBe('v2'); // a change made elsewhere applies within the ttl
    expect(loads).toBe(2);
  });

  it('keeps serving the last known value while the store cannot answer', async () => {
    let t = 0;
    let down = false;
    const errors: unknown[] = [];
    const c = createReadThroughCache<string>(async () => {
      if (down) throw new Error('store down');
      return 'v1';
    }, { ttlMs: 100, max: 10, now: () => t, onError: (e) => errors.push(e) });
    expect(await c.get('a')).toBe('v1');
    down = true;
    t = 500;
    expect(await c.get('a')).toBe('v1');
    expect(errors.length).toBe(1);
    await expect(c.get('never-seen')).rejects.toThrow('store down');
  });

  it('expireAll makes every entry stale at once, still the fallback while the store cannot answer', async () => {
    let down = false;
    let value = 'v1';
    let loads = 0;
    const c = createReadThroughCache<string>(async () => {
      loads++;
      if (down) throw new Error('store down');
      return value;
    }, { ttlMs: 60_000, max: 10, now: () => 0, onError: () => undefined });
    expect([await c.get('a'), await c.get('b')]).toEqual(['v1', 'v1']);
    value = 'v2';
    expect(await c.get('a')).toBe('v1'); // fresh: no read
    c.expireAll();
    expect(await c.get('a')).toBe('v2');
    expect(await c.get('a')).toBe('v2');
    expect(loads).toBe(3); // a read again once, then fresh again
    down = true;
    c.expireAll();
    expect(await c.get('b')).toBe('v1'); // stale, the store down: the last known value
  });

  it('coalesces concurrent loads and forgets invalidated entries', async () => {
    let loads = 0;
    const c = createReadThroughCache<number>(async () => ++loads, { ttlMs: 1000, max: 10, now: () => 0 });
    const [a, b] = await Promise.all([c.get('k'), c.get('k')]);
    expect([a, b, loads]).toEqual([1, 1, 1]);
    c.invalidate('k');
    expect(await c.get('k')).toBe(2);
  });
  it('caches null (unknown ids) and evicts the oldest entry past max', async () => {
    let loads = 0;
    const c = createReadThroughCache<number>(async (id) => (loads++, id === 'x' ? null : 1), { ttlMs: 1000, max: 2, now: () => 0 });
    expect(await c.get('x')).toBeNull();
    expect(await c.get('x')).toBeNull();
    expect(loads).toBe(1);
    await c.get('y');
    await c.get('z');
    expect(c.peek('x')).toBeUndefined();
  });

  it('fresh() returns only what get() would return without a read', async () => {
    let t = 0;
    let loads = 0;
    const c = createReadThroughCache<string | null>(async (id) => (loads++, id === 'gone' ? null : `v${loads}`), { ttlMs: 100, max: 10, now: () => t });
    expect(c.fresh('a')).toBeUndefined(); // never loaded
    expect(await c.get('a')).toBe('v1');
    expect(c.fresh('a')).toBe('v1');
    expect(await c.get('gone')).toBeNull();
    expect(c.fresh('gone')).toBeNull(); // a known miss is fresh too
    t = 101;
    expect(c.fresh('a')).toBeUndefined(); // past its time: get() must read again
    expect(c.peek('a')).toBe('v1');
    expect(await c.get('a')).toBe('v3');
    expect(c.fresh('a')).toBe('v3');
    c.expireAll();
    expect(c.fresh('a')).toBeUndefined();
    c.set('b', 'x');
    expect(c.fresh('b')).toBe('x');
    c.invalidate('b');
    expect(c.fresh('b')).toBeUndefined();
    expect(loads).toBe(3);
  });
});

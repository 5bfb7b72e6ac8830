import { describe, expect, it } from 'vitest';
import { cappedAdd, cappedFind, cappedFrom, cappedGet, cappedKey, cappedSize, cappedTop, cappedTotal, distinctAdd, distinctCount, distinctHas, distinctIsSketch, entropy, hash32, Interner, newDistinct, type CappedCounts, type Distinct } from './sketches.js';

describe('distinct counter', () => {
  it('counts exactly while small', () => {
    let d = newDistinct();
    expect(distinctCount(d)).toBe(0);
    for (const v of ['a', 'b', 'a', 'c', 'b']) d = distinctAdd(d, v);
    expect(distinctCount(d)).toBe(3);
    expect(distinctIsSketch(d)).toBe(false);
  });

  it('switches to a HyperLogLog of bounded size and stays within 30% on 20,000 values', () => {
    let d = newDistinct();
    for (let i = 0; i < 20_000; i++) d = distinctAdd(d, `10.${i >> 8}.${i & 255}.1`);
    expect(distinctIsSketch(d)).toBe(true);
    expect((d as Uint8Array).length).toBe(64);
    const est = distinctCount(d);
    expect(Math.abs(est - 20_000) / 20_000).toBeLessThan(0.3);
  });

  it('holds one value as its hash, then exact arrays, and reads states saved as arrays', () => {
    let d = distinctAdd(newDistinct(), 'a');
    expect(typeof d).toBe('number');
    expect(distinctAdd(d, 'a')).toBe(d);
    expect(distinctHas(d, 'a')).toBe(true);
    expect(distinctHas(d, 'b')).toBe(false);
    const one = d;
    d = distinctAdd(d, 'b');
    expect(Array.isArray(d)).toBe(true);
    expect(one).not.toBe(d);
    expect(distinctCount(d)).toBe(2);
    expect(distinctHas(d, 'b')).toBe(true);
    // A checkpoint written before single values were kept as numbers holds [hash].
    let saved: Distinct = [hash32('a') & 0x3fffffff];
    expect(distinctHas(saved, 'a')).toBe(true);
    saved = distinctAdd(saved, 'a');
    expect(distinctCount(saved)).toBe(1);
    for (let i = 0; i < 16; i++) saved = distinctAdd(saved, `v${i}`);
    expect(distinctIsSketch(saved)).toBe(true);
    expect(distinctCount(saved)).toBeGreaterThan(12);
  });

  it('estimates mid-range cardinalities near the truth (linear counting)', () => {
    let d = newDistinct();
    for (let i = 0; i < 40; i++) d = distinctAdd(d, `v${i}`);
    expect(distinctCount(d)).toBeGreaterThan(28);
    expect(distinctCount(d)).toBeLessThan(55);
  });
});

describe('capped counts', () => {
  it('keeps at most cap keys and lumps the rest', () => {
    let c: CappedCounts | null = null;
    expect(cappedTotal(c)).toBe(0);
    for (const k of ['x', 'x', 'y', 'z', 'w', 'x']) c = cappedAdd(c, k, 2);
    expect(cappedSize(c!)).toBe(2);
    expect([cappedKey(c!, 0), cappedKey(c!, 1)]).toEqual(['x', 'y']);
    expect(cappedGet(c, 'x')).toBe(3);
    expect(cappedGet(c, 'z')).toBe(0);
    expect(c![0]).toBe(2);
    expect(cappedTotal(c)).toBe(6);
    expect(cappedTop(c)).toEqual({ key: 'x', count: 3 });
    // One flat array, exactly as long as what it holds.
    expect(c).toEqual([2, 'x', 3, 'y', 1]);
  });

  it('reads maps saved by older checkpoints as { keys, counts, other }', () => {
    const old = { keys: ['en', 'zh'], counts: [7, 2], other: 1 };
    const m = cappedFrom(old)!;
    expect(m).toEqual([1, 'en', 7, 'zh', 2]);
    expect(cappedTotal(m)).toBe(10);
    expect(cappedFrom(m)).toBe(m);
    expect(cappedFrom(null)).toBeNull();
    expect(cappedFind(cappedAdd(m, 'ru', 8), 'ru')).toBe(2);
  });
});

describe('entropy', () => {
  it('is 0 for one category and log2(n) for a uniform spread', () => {
    expect(entropy([5, 0, 0])).toBe(0);
    expect(entropy([1, 1, 1, 1])).toBeCloseTo(2);
  });
});

describe('interner', () => {
  // Which copy comes back is not observable from JavaScript (strings compare by value); what
  // can be checked is that the value never changes, below and past the cap.
  it('returns the value it was given, below and past its cap', () => {
    const i = new Interner(2);
    const a1 = ['ab', 'c'].join('');
    const a2 = ['a', 'bc'].join('');
    expect(i.get(a1)).toBe(a1);
    expect(i.get(a2)).toBe(a1);
    i.get('x');
    const y = ['y', 'y'].join('');
    expect(i.get(y)).toBe(y);
    expect(i.get(a2)).toBe(a1);
  });
});

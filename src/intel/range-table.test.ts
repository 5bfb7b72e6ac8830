import { describe, expect, it } from 'vitest';
import { buildV4, buildV6 } from './range-table.js';

describe('range tables', () => {
  it('finds the range holding an address and misses the gaps', () => {
    const t = buildV4([
      { s: 10, e: 19, v: 1 },
      { s: 30, e: 39, v: 2 },
    ]);
    expect(t.get(10)).toBe(1);
    expect(t.get(19)).toBe(1);
    expect(t.get(20)).toBe(-1);
    expect(t.get(35)).toBe(2);
    expect(t.get(40)).toBe(-1);
    expect(t.get(0)).toBe(-1);
  });
  it('lets a nested, more specific range win over its enclosing one', () => {
    const t = buildV4([
      { s: 0, e: 99, v: 1 },
      { s: 40, e: 49, v: 2 },
      { s: 45, e: 45, v: 3 },
    ]);
    expect([0, 39, 40, 44, 45, 46, 49, 50, 99, 100].map((x) => t.get(x))).toEqual([1, 1, 2, 2, 3, 2, 2, 1, 1, -1]);
  });
  it('searches IPv6 ranges by four 32-bit words', () => {
    const t = buildV6([
      { s: 1n << 100n, e: (1n << 100n) + 255n, v: 7 },
      { s: (1n << 100n) + 16n, e: (1n << 100n) + 31n, v: 8 },
    ]);
    const w = (x: bigint): Uint32Array =>
      Uint32Array.from([Number((x >> 96n) & 0xffffffffn), Number((x >> 64n) & 0xffffffffn), Number((x >> 32n) & 0xffffffffn), Number(x & 0xffffffffn)]);
    expect(t.get(w((1n << 100n) + 3n))).toBe(7);
    expect(t.get(w((1n << 100n) + 20n))).toBe(8);
    expect(t.get(w((1n << 100n) + 256n))).toBe(-1);
    expect(t.get(w(5n))).toBe(-1);
  });
});

/**
 * Bounded-memory counters for streaming features: a distinct counter that keeps exact values
 * while it is small and turns into a HyperLogLog when it grows, and a capped frequency map.
 * Both are plain data (typed arrays, arrays, numbers) so a checkpoint can serialise them.
 */

import { hash32 } from '../core/index.js';

/** 32-bit FNV-1a of a string, then a murmur3 finaliser (good enough spread for HLL). */
export { hash32 };

/** Exact up to this many distinct values, then a HyperLogLog. */
const SMALL = 16;
/** HyperLogLog precision: 2^6 = 64 one-byte registers, about 13% standard error. */
const P = 6;
const M = 1 << P;
const ALPHA = 0.709;
/** 2^-r for every register value (r ≤ 32 - P + 1). */
const POW2_NEG = Float64Array.from({ length: 34 }, (_, r) => 2 ** -r);

/**
 * A distinct counter: `null` until the first value (most accounts never fill most counters, and
 * an empty one should cost nothing); the 30-bit hash itself while it holds one value (most
 * counters of most accounts: one country, one key, one client); an array of hashes while it has
 * at most SMALL values; then a HyperLogLog (`Uint8Array` of registers). Arrays are replaced by
 * exact-size copies as they grow (`concat`), never grown in place: `push` leaves room for 16
 * more elements, which a million accounts' counters would pay for in gigabytes.
 */
export type Distinct = number | number[] | Uint8Array | null;

export function newDistinct(): Distinct {
  return null;
}

function hllAdd(regs: Uint8Array, h: number): void {
  const idx = h >>> (32 - P);
  const w = (h << P) >>> 0;
  const rho = w === 0 ? 32 - P + 1 : Math.clz32(w) + 1;
  if (rho > regs[idx]!) regs[idx] = rho;
}

function remix(x: number): number {
  let h = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Adds a value and returns the counter (a new object when it is created or turns into a HyperLogLog). */
export function distinctAdd(d: Distinct, value: string): Distinct {
  // 30 bits kept in the exact phase: small integers are stored unboxed.
  const k = hash32(value) & 0x3fffffff;
  if (d === null) return k;
  if (typeof d === 'number') return d === k ? d : [d, k];
  if (Array.isArray(d)) {
    if (d.includes(k)) return d;
    if (d.length < SMALL) return d.concat(k);
    const regs = new Uint8Array(M);
    for (const x of d) hllAdd(regs, remix(x));
    hllAdd(regs, remix(k));
    return regs;
  }
  hllAdd(d as Uint8Array, remix(k));
  return d;
}

/** True when the counter is still exact and holds the value. */
export function distinctHas(d: Distinct, value: string): boolean {
  const k = hash32(value) & 0x3fffffff;
  return typeof d === 'number' ? d === k : Array.isArray(d) && d.includes(k);
}

/** True once the counter has turned into a HyperLogLog. */
export function distinctIsSketch(d: Distinct): boolean {
  return d instanceof Uint8Array;
}

/** Estimated number of distinct values added. */
export function distinctCount(d: Distinct): number {
  if (d === null) return 0;
  if (typeof d === 'number') return 1;
  if (Array.isArray(d)) return d.length;
  const regs = d as Uint8Array;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < M; i++) {
    sum += POW2_NEG[regs[i]!]!;
    if (regs[i] === 0) zeros++;
  }
  const e = (ALPHA * M * M) / sum;
  if (e <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros));
  return Math.round(e);
}

/**
 * A frequency map that keeps at most `cap` keys: a new key past the cap is counted only in
 * `other` (heavy keys arrive early in practice and stay; the tail is what gets lumped). One flat
 * array, `[other, key0, count0, key1, count1, …]`, replaced by an exact-size copy when a key is
 * added: an object with a key array and a count array was three heap objects and about 90 bytes
 * more per map, and an account keeps three of them.
 */
export type CappedCounts = (string | number)[];

/** A map with one key counted `by` times. */
export function newCapped(key: string, by = 1): CappedCounts {
  return [0, key, by];
}

/** Number of keys held (not counting `other`). */
export function cappedSize(m: CappedCounts): number {
  return (m.length - 1) >> 1;
}
export function cappedKey(m: CappedCounts, slot: number): string {
  return m[1 + 2 * slot] as string;
}
export function cappedCount(m: CappedCounts, slot: number): number {
  return m[2 + 2 * slot] as number;
}
/** The slot of a key, or -1. */
export function cappedFind(m: CappedCounts, key: string): number {
  for (let i = 1; i < m.length; i += 2) if (m[i] === key) return (i - 1) >> 1;
  return -1;
}
/** Adds to a slot's count (-1: to `other`) and returns the slot's new count (0 for `other`). */
export function cappedBump(m: CappedCounts, slot: number, by = 1): number {
  if (slot < 0) {
    (m[0] as number) += by;
    return 0;
  }
  return ((m[2 + 2 * slot] as number) += by);
}

/**
 * Adds to a key's count and returns the map: the same array, or an exact-size copy when the key
 * is new (callers keep the result); created on first use (`null` costs nothing).
 */
export function cappedAdd(c: CappedCounts | null, key: string, cap: number, by = 1): CappedCounts {
  if (c === null) return newCapped(key, by);
  const i = cappedFind(c, key);
  if (i >= 0) c[2 + 2 * i] = (c[2 + 2 * i] as number) + by;
  else if (cappedSize(c) < cap) return c.concat(key, by);
  else c[0] = (c[0] as number) + by;
  return c;
}

export function cappedTotal(c: CappedCounts | null): number {
  if (!c) return 0;
  let s = c[0] as number;
  for (let i = 2; i < c.length; i += 2) s += c[i] as number;
  return s;
}

/** The count of a key (0 when absent). */
export function cappedGet(c: CappedCounts | null, key: string): number {
  if (!c) return 0;
  const i = cappedFind(c, key);
  return i >= 0 ? cappedCount(c, i) : 0;
}

/** The most frequent key and its count (the first of equals). */
export function cappedTop(c: CappedCounts | null): { key: string | null; count: number } {
  if (!c) return { key: null, count: 0 };
  let best = -1;
  for (let i = 0; i < cappedSize(c); i++) if (best < 0 || cappedCount(c, i) > cappedCount(c, best)) best = i;
  return best < 0 ? { key: null, count: 0 } : { key: cappedKey(c, best), count: cappedCount(c, best) };
}

/**
 * A map as an older checkpoint stored it (`{ keys, counts, other }`) or as it is now; anything
 * else is null.
 */
export function cappedFrom(x: unknown): CappedCounts | null {
  if (Array.isArray(x)) return x as CappedCounts;
  if (x && typeof x === 'object' && Array.isArray((x as { keys?: unknown }).keys)) {
    const o = x as { keys: string[]; counts: number[]; other?: number };
    const m: CappedCounts = [o.other ?? 0];
    for (let i = 0; i < o.keys.length; i++) m.push(o.keys[i]!, o.counts[i] ?? 0);
    return m;
  }
  return null;
}

/** Shannon entropy (bits) of a count vector (or of `length` counts from `offset`). */
export function entropy(counts: ArrayLike<number>, offset = 0, length = counts.length - offset): number {
  const end = offset + length;
  let n = 0;
  for (let i = offset; i < end; i++) n += counts[i]!;
  if (n === 0) return 0;
  let h = 0;
  for (let i = offset; i < end; i++) {
    const c = counts[i]!;
    if (c > 0) h -= (c / n) * Math.log2(c / n);
  }
  return h;
}

/**
 * One shared copy of strings that repeat across many accounts (user agents, countries, e-mail
 * domains): every parsed record brings its own copy, and an account keeps some of them for the
 * whole run. Bounded: past `cap` distinct values a string is returned as it is.
 */
export class Interner {
  private readonly m = new Map<string, string>();
  constructor(private readonly cap = 8192) {}

  get(s: string): string {
    const v = this.m.get(s);
    if (v !== undefined) return v;
    if (this.m.size < this.cap) this.m.set(s, s);
    return s;
  }
}

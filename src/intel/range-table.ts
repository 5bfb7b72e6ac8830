/**
 * Sorted, non-overlapping address ranges in typed arrays, searched by binary search.
 * IPv4 keys are numbers; IPv6 keys are four 32-bit words (no BigInt on the lookup path).
 * Inputs may nest (the country database has more specific ranges inside wider ones): building
 * flattens them so that the most specific range wins.
 */
import { bigIntToWords } from './ip-address.js';

export interface RangeV4 {
  s: number;
  e: number;
  v: number;
}
export interface RangeV6 {
  s: bigint;
  e: bigint;
  v: number;
}

export class RangeTableV4 {
  /**
   * `buckets[p]` = how many ranges start below `p << 16`: a lookup first narrows the binary
   * search to the ranges starting in its own /16 (a few cache lines instead of ~19 misses).
   */
  private readonly buckets: Uint32Array;
  constructor(
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    readonly values: Int32Array,
  ) {
    const b = new Uint32Array(65537);
    let i = 0;
    for (let p = 0; p <= 65536; p++) {
      const bound = p * 65536;
      while (i < starts.length && starts[i]! < bound) i++;
      b[p] = i;
    }
    this.buckets = b;
  }
  get size(): number {
    return this.starts.length;
  }
  /** Index of the range holding `ip`, or -1. */
  find(ip: number): number {
    const starts = this.starts;
    const p = ip >>> 16;
    let lo = this.buckets[p]!;
    let hi = this.buckets[p + 1]! - 1;
    let ans = lo - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= ip) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans >= 0 && this.ends[ans]! >= ip ? ans : -1;
  }
  /** Value at the range holding `ip`, or `missing`. */
  get(ip: number, missing = -1): number {
    const i = this.find(ip);
    return i < 0 ? missing : this.values[i]!;
  }
  bytes(): number {
    return this.starts.byteLength + this.ends.byteLength + this.values.byteLength + this.buckets.byteLength;
  }
}

export class RangeTableV6 {
  constructor(
    /** Four words per range. */
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    readonly values: Int32Array,
  ) {}
  get size(): number {
    return this.values.length;
  }
  find(w: Uint32Array): number {
    const starts = this.starts;
    let lo = 0;
    let hi = this.values.length - 1;
    let ans = -1;
    const w0 = w[0]!;
    const w1 = w[1]!;
    const w2 = w[2]!;
    const w3 = w[3]!;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const o = mid * 4;
      const a0 = starts[o]!;
      let le: boolean;
      if (a0 !== w0) le = a0 < w0;
      else if (starts[o + 1] !== w1) le = starts[o + 1]! < w1;
      else if (starts[o + 2] !== w2) le = starts[o + 2]! < w2;
      else le = starts[o + 3]! <= w3;
      if (le) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (ans < 0) return -1;
    const ends = this.ends;
    const o = ans * 4;
    if (ends[o] !== w0) return ends[o]! > w0 ? ans : -1;
    if (ends[o + 1] !== w1) return ends[o + 1]! > w1 ? ans : -1;
    if (ends[o + 2] !== w2) return ends[o + 2]! > w2 ? ans : -1;
    return ends[o + 3]! >= w3 ? ans : -1;
  }
  get(w: Uint32Array, missing = -1): number {
    const i = this.find(w);
    return i < 0 ? missing : this.values[i]!;
  }
  startOf(i: number): bigint {
    const o = i * 4;
    const a = this.starts;
    return (BigInt(a[o]!) << 96n) | (BigInt(a[o + 1]!) << 64n) | (BigInt(a[o + 2]!) << 32n) | BigInt(a[o + 3]!);
  }
  endOf(i: number): bigint {
    const o = i * 4;
    const a = this.ends;
    return (BigInt(a[o]!) << 96n) | (BigInt(a[o + 1]!) << 64n) | (BigInt(a[o + 2]!) << 32n) | BigInt(a[o + 3]!);
  }
  bytes(): number {
    return this.starts.byteLength + this.ends.byteLength + this.values.byteLength;
  }
}

/**
 * Turns ranges (any order, possibly nested) into sorted non-overlapping ones; inside a nested
 * range the inner (more specific) value wins. A range that partly overlaps the one before it is
 * clipped to its enclosing range (rare in the databases).
 */
function flatten<K extends number | bigint>(input: { s: K; e: K; v: number }[], one: K): { s: K; e: K; v: number }[] {
  const add = (a: K, b: K): K => ((a as number) + (b as number)) as K;
  const sub = (a: K, b: K): K => ((a as number) - (b as number)) as K;
  let inOrder = true;
  for (let i = 1; i < input.length; i++) {
    if (input[i]!.s <= input[i - 1]!.e) {
      inOrder = false;
      break;
    }
  }
  if (inOrder) return input;
  const rs = input.slice().sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.e > b.e ? -1 : a.e < b.e ? 1 : 0));
  let sorted = true;
  for (let i = 1; i < rs.length; i++) {
    if (rs[i]!.s <= rs[i - 1]!.e) {
      sorted = false;
      break;
    }
  }
  if (sorted) return rs;
  const out: { s: K; e: K; v: number }[] = [];
  const stack: { s: K; e: K; v: number }[] = [];
  let cur = one;
  const emit = (s: K, e: K, v: number): void => {
    if (s <= e) out.push({ s, e, v });
  };
  for (const r0 of rs) {
    const r = { ...r0 };
    while (stack.length > 0 && stack[stack.length - 1]!.e < r.s) {
      const t = stack.pop()!;
      emit(cur, t.e, t.v);
      cur = add(t.e, one);
    }
    const top = stack[stack.length - 1];
    if (top) {
      emit(cur, sub(r.s, one), top.v);
      if (r.e > top.e) r.e = top.e;
    }
    cur = r.s;
    stack.push(r);
  }
  while (stack.length > 0) {
    const t = stack.pop()!;
    emit(cur, t.e, t.v);
    cur = add(t.e, one);
  }
  return out;
}

export function buildV4(ranges: RangeV4[]): RangeTableV4 {
  const flat = flatten(ranges, 1);
  const n = flat.length;
  const starts = new Uint32Array(n);
  const ends = new Uint32Array(n);
  const values = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = flat[i]!;
    starts[i] = r.s;
    ends[i] = r.e;
    values[i] = r.v;
  }
  return new RangeTableV4(starts, ends, values);
}

export function buildV6(ranges: RangeV6[]): RangeTableV6 {
  const flat = flatten(ranges, 1n);
  const n = flat.length;
  const starts = new Uint32Array(n * 4);
  const ends = new Uint32Array(n * 4);
  const values = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = flat[i]!;
    bigIntToWords(r.s, starts, i * 4);
    bigIntToWords(r.e, ends, i * 4);
    values[i] = r.v;
  }
  return new RangeTableV6(starts, ends, values);
}

/**
 * Deterministic randomness for the simulator: every draw comes from pure-rand's
 * xoroshiro128+ seeded from the scenario seed and a label, so a world is a function of its seed.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

import { hash32 } from '../core/index.js';

export { hash32 };

export class Rng {
  private readonly g: RandomGenerator;
  constructor(seed: number) {
    this.g = xoroshiro128plus(seed | 0);
  }
  /** An independent stream for `labels` under `seed` (same inputs, same stream). */
  static derive(seed: number, ...labels: (string | number)[]): Rng {
    return new Rng(hash32(labels.join('\u0000'), seed >>> 0));
  }
  /** An independent child stream named `label`, drawn from this one. */
  fork(label: string | number): Rng {
    return new Rng(hash32(String(label), this.u32()));
  }
  u32(): number {
    return this.g.next() >>> 0;
  }
  /** Uniform in [0, 1), 53 bits. */
  float(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  range(min: number, max: number): number {
    return min + this.float() * (max - min);
  }
  intRange(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  /** Uniform in [min, max), rounded to two decimals (an ownership share as declared). */
  share(min: number, max: number): number {
    return Math.round(this.range(min, max) * 100) / 100;
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.float() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.float();
    const v = this.float();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Log-normal whose median is `median`. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(this.normal(0, sigma));
  }
  /** `k` distinct items (all of them when k ≥ length), in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const a = items.slice();
    const n = Math.min(k, a.length);
    for (let i = 0; i < n; i++) {
      const j = i + this.int(a.length - i);
      const t = a[i] as T;
      a[i] = a[j] as T;
      a[j] = t;
    }
    return a.slice(0, n);
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
}

const B32 = 'abcdefghijkmnpqrstuvwxyz23456789';
const B32_CODES = Array.from(B32, (c) => c.charCodeAt(0));
/**
 * Opaque identifiers for every record of a world, all drawn from one stream so an id says
 * nothing about which population or campaign its record belongs to.
 */
export class IdGen {
  private readonly rng: Rng;
  private readonly seen = new Set<string>();
  constructor(seed: number) {
    this.rng = Rng.derive(seed, 'ids');
  }
  /**
   * A new id. Ids under `prefix` are checked for uniqueness when `unique` (accounts, orgs,
   * keys); fingerprints and end-user ids skip the check (60+ random bits, and memory matters
   * at a million accounts).
   */
  next(prefix: string, chars = 12, unique = prefix === 'acc_' || prefix === 'org_' || prefix === 'key_'): string {
    for (;;) {
      const codes: number[] = [];
      for (let i = 0; i < prefix.length; i++) codes.push(prefix.charCodeAt(i));
      let x = 0;
      for (let i = 0; i < chars; i++) {
        if (i % 6 === 0) x = this.rng.u32();
        codes.push(B32_CODES[x & 31]!);
        x >>>= 5;
      }
      // One flat string (appending characters one by one would keep a rope of small nodes).
      const s = String.fromCharCode(...codes);
      if (!unique) return s;
      if (!this.seen.has(s)) {
        this.seen.add(s);
        return s;
      }
    }
  }
}

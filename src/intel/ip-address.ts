/**
 * Allocation-free IPv4/IPv6 parsing for the lookup hot path, and CIDR helpers for list loading.
 * IPv4 is an unsigned 32-bit number; IPv6 is four unsigned 32-bit words, most significant first.
 */
import { WardenError } from '../core/index.js';

/** Parses dotted-quad IPv4; returns -1 when malformed (no exceptions on the hot path). */
export function parseIPv4(s: string, from = 0, to = s.length): number {
  let acc = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // A leading zero followed by more digits is ambiguous (octal in some parsers): refuse it.
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      acc = acc * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + part;
}

/**
 * Parses IPv6 (with `::`, an optional embedded IPv4 tail, and no zone id) into `out`
 * (four 32-bit words). Returns false when malformed.
 */
export function parseIPv6(s: string, out: Uint32Array): boolean {
  const n = s.length;
  if (n < 2 || n > 45) return false;
  const groups = new Array<number>(8);
  let count = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      out[0] = out[1] = out[2] = out[3] = 0;
      return true;
    }
  }
  while (i < n) {
    if (count >= 8) return false;
    let j = i;
    let v = 0;
    while (j < n) {
      const c = s.charCodeAt(j);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = v * 16 + d;
      j++;
      if (j - i > 4) return false;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // Embedded IPv4 in the last 32 bits.
      if (count > 6) return false;
      const v4 = parseIPv4(s, i, n);
      if (v4 < 0) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = n;
      break;
    }
    if (j === i) return false;
    groups[count++] = v;
    if (j === n) {
      i = n;
      break;
    }
    if (s.charCodeAt(j) !== 58) return false;
    if (j + 1 < n && s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === n) return false;
    }
  }
  if (gap < 0 && count !== 8) return false;
  if (gap >= 0 && count > 7) return false;
  const full = [0, 0, 0, 0, 0, 0, 0, 0];
  if (gap < 0) for (let k = 0; k < 8; k++) full[k] = groups[k]!;
  else {
    for (let k = 0; k < gap; k++) full[k] = groups[k]!;
    const tail = count - gap;
    for (let k = 0; k < tail; k++) full[8 - tail + k] = groups[gap + k]!;
  }
  out[0] = ((full[0]! << 16) | full[1]!) >>> 0;
  out[1] = ((full[2]! << 16) | full[3]!) >>> 0;
  out[2] = ((full[4]! << 16) | full[5]!) >>> 0;
  out[3] = ((full[6]! << 16) | full[7]!) >>> 0;
  return true;
}

export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text form (lower case, longest zero run compressed). */
export function formatIPv6(w: ArrayLike<number>): string {
  const g: number[] = [];
  for (let k = 0; k < 4; k++) {
    g.push((w[k]! >>> 16) & 0xffff, w[k]! & 0xffff);
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestLen = e - k;
      bestStart = k;
    }
    k = e;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function wordsToBigInt(w: ArrayLike<number>): bigint {
  return (BigInt(w[0]!) << 96n) | (BigInt(w[1]!) << 64n) | (BigInt(w[2]!) << 32n) | BigInt(w[3]!);
}

export function bigIntToWords(x: bigint, out: Uint32Array = new Uint32Array(4), at = 0): Uint32Array {
  out[at] = Number((x >> 96n) & 0xffffffffn);
  out[at + 1] = Number((x >> 64n) & 0xffffffffn);
  out[at + 2] = Number((x >> 32n) & 0xffffffffn);
  out[at + 3] = Number(x & 0xffffffffn);
  return out;
}

export type ParsedCidr = { v: 4; start: number; end: number } | { v: 6; start: bigint; end: bigint };

/** Parses `a.b.c.d/len`, `x::/len` or a bare address (a /32 or /128); null when malformed. */
export function parseCidr(text: string): ParsedCidr | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const lenText = slash < 0 ? null : s.slice(slash + 1);
  if (lenText !== null && !/^\d{1,3}$/.test(lenText)) return null;
  const v4 = parseIPv4(addr);
  if (v4 >= 0) {
    const len = lenText === null ? 32 : Number(lenText);
    if (len > 32) return null;
    const size = 2 ** (32 - len);
    const start = v4 - (v4 % size);
    return { v: 4, start, end: start + size - 1 };
  }
  const w = new Uint32Array(4);
  if (!parseIPv6(addr, w)) return null;
  const len = lenText === null ? 128 : Number(lenText);
  if (len > 128) return null;
  const x = wordsToBigInt(w);
  const hostBits = BigInt(128 - len);
  const mask = (1n << hostBits) - 1n;
  const start = x & ~mask & ((1n << 128n) - 1n);
  return { v: 6, start, end: start | mask };
}

/** Throws INPUT_INVALID with a message that says what a valid address looks like. */
export function invalidIp(ip: unknown): WardenError {
  const shown = typeof ip === 'string' ? JSON.stringify(ip.length > 60 ? `${ip.slice(0, 60)}…` : ip) : String(ip);
  return new WardenError(
    'INPUT_INVALID',
    `not an IP address: ${shown}. Give an IPv4 address such as 192.0.2.1 or an IPv6 address such as 2001:db8::1 (no port, no zone id).`,
  );
}

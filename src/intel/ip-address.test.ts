import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6, parseCidr, parseIPv4, parseIPv6 } from './ip-address.js';

describe('parseIPv4', () => {
  it('parses dotted quads to unsigned numbers', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(4294967295);
    expect(parseIPv4('47.74.0.1')).toBe(47 * 2 ** 24 + 74 * 2 ** 16 + 1);
  });
  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '01.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4'])('refuses %j', (s) => {
    expect(parseIPv4(s)).toBe(-1);
  });
  it('round-trips through formatIPv4', () => {
    for (const s of ['1.2.3.4', '203.0.113.255', '10.0.0.1']) expect(formatIPv4(parseIPv4(s))).toBe(s);
  });
});

describe('parseIPv6', () => {
  const w = new Uint32Array(4);
  it('parses compressed, full and IPv4-tailed forms', () => {
    expect(parseIPv6('2001:db8::1', w)).toBe(true);
    expect([...w]).toEqual([0x20010db8, 0, 0, 1]);
    expect(parseIPv6('::', w)).toBe(true);
    expect([...w]).toEqual([0, 0, 0, 0]);
    expect(parseIPv6('::ffff:1.2.3.4', w)).toBe(true);
    expect([...w]).toEqual([0, 0, 0xffff, 0x01020304]);
    expect(parseIPv6('2001:0DB8:0000:0000:0000:0000:0000:0001', w)).toBe(true);
    expect([...w]).toEqual([0x20010db8, 0, 0, 1]);
    expect(parseIPv6('fe80::', w)).toBe(true);
    expect([...w]).toEqual([0xfe800000, 0, 0, 0]);
  });
  it.each([':', ':::', '2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '12345::', '2001:db8:::1', 'g::1', '1:2:3:4:5:6:7', '2001:db8::1%eth0', '1:'])(
    'refuses %j',
    (s) => {
      expect(parseIPv6(s, w)).toBe(false);
    },
  );
  it('formats in RFC 5952 form', () => {
    parseIPv6('2001:0db8:0:0:1:0:0:1', w);
    expect(formatIPv6(w)).toBe('2001:db8::1:0:0:1');
    parseIPv6('::1', w);
    expect(formatIPv6(w)).toBe('::1');
  });
});

describe('parseCidr', () => {
  it('aligns the start to the prefix', () => {
    expect(parseCidr('203.0.113.77/24')).toEqual({ v: 4, start: parseIPv4('203.0.113.0'), end: parseIPv4('203.0.113.255') });
    expect(parseCidr('198.51.100.7')).toEqual({ v: 4, start: parseIPv4('198.51.100.7'), end: parseIPv4('198.51.100.7') });
    const v6 = parseCidr('2001:db8::/32');
    expect(v6?.v).toBe(6);
    if (v6?.v === 6) expect(v6.end - v6.start).toBe((1n << 96n) - 1n);
  });
  it('refuses bad prefixes', () => {
    expect(parseCidr('1.2.3.4/33')).toBeNull();
    expect(parseCidr('1.2.3.4/x')).toBeNull();
    expect(parseCidr('2001:db8::/129')).toBeNull();
    expect(parseCidr('nonsense')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-ip.js';

describe('client address', () => {
  const trusted = new Set(['10.1.1.1', '127.0.0.1']);
  it('uses the socket address when the peer is not a trusted proxy', () => {
    expect(clientAddress('198.51.100.7', '203.0.113.9', trusted)).toBe('198.51.100.7');
  });
  it('believes X-Forwarded-For only from trusted proxies, right-most untrusted hop first', () => {
    expect(clientAddress('127.0.0.1', '203.0.113.9', trusted)).toBe('203.0.113.9');
    expect(clientAddress('127.0.0.1', '1.2.3.4, 203.0.113.9, 10.1.1.1', trusted)).toBe('203.0.113.9');
  });
  it('stops at a malformed hop', () => {
    expect(clientAddress('127.0.0.1', 'garbage', trusted)).toBe('127.0.0.1');
  });
  it('unmaps IPv4-mapped IPv6 socket addresses', () => {
    expect(clientAddress('::ffff:198.51.100.7', undefined, trusted)).toBe('198.51.100.7');
  });
});

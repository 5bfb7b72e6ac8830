import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../cases/index.js';
import { WardenConfig } from './config.js';
import { auditChainId } from './serve.js';

const config = (over: Record<string, unknown>) =>
  WardenConfig.parse({ gateway: { upstreams: { anthropic: { url: 'http://127.0.0.1:1' }, openai: { url: 'http://127.0.0.1:1' } } }, ...over });

describe('auditChainId', () => {
  it('uses audit.chain when set, and `gateway` in the embedded profile', () => {
    expect(auditChainId(config({ audit: { chain: 'gw-1' } }))).toBe('gw-1');
    expect(auditChainId(config({ profile: 'cluster', audit: { chain: 'gw-1' } }))).toBe('gw-1');
    expect(auditChainId(config({ data_dir: '/var/lib/warden' }))).toBe('gateway');
  });

  it('gives each cluster process a chain of its own, stable for its data_dir', () => {
    const a = auditChainId(config({ profile: 'cluster', data_dir: '/var/lib/warden/gw-1' }));
    const again = auditChainId(config({ profile: 'cluster', data_dir: '/var/lib/warden/gw-1/' }));
    const b = auditChainId(config({ profile: 'cluster', data_dir: '/var/lib/warden/gw-2' }));
    const worker = auditChainId(config({ profile: 'cluster', data_dir: '/var/lib/warden/gw-1' }), 'worker');
    expect(a).toMatch(/^gw-[A-Za-z0-9.-]+-[0-9a-f]{8}$/);
    expect(again).toBe(a);
    expect(new Set([a, b, worker]).size).toBe(3);
    // A name the audit log accepts.
    expect(() => createAuditLog({ store: {} as never, key: {} as never, chain: a })).not.toThrow();
  });
});

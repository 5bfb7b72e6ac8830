import { describe, expect, it } from 'vitest';
import { hashSecret, issueKey, keyUnusable, parseKey, presentedKey, secretMatches } from './keys.js';

describe('Warden keys', () => {
  it('issues keys that parse back to their id and match their stored hash only', () => {
    const a = issueKey();
    const b = issueKey();
    expect(a.key).not.toBe(b.key);
    const p = parseKey(a.key)!;
    expect(p.keyId).toBe(a.keyId);
    expect(secretMatches(p.secret, a.secretHash)).toBe(true);
    expect(secretMatches(p.secret, b.secretHash)).toBe(false);
    expect(a.secretHash).toBe(hashSecret(p.secret));
    expect(a.secretHash).not.toContain(p.secret);
    expect(a.prefix.length).toBeLessThan(a.key.length / 2);
  });

  it('rejects strings not shaped like a key', () => {
    for (const s of ['', 'sk-ant-123', 'wdn_short_x', `wdn_${'a'.repeat(12)}_${'b'.repeat(42)}`, `wdn_${'a'.repeat(12)}_${'b'.repeat(43)}\n`]) expect(parseKey(s)).toBeNull();
  });

  it('treats a wrong-length stored hash as no match instead of throwing', () => {
    expect(secretMatches('x', 'abcd')).toBe(false);
  });

  it('reads x-api-key first, then a Bearer token', () => {
    expect(presentedKey({ 'x-api-key': ' k1 ', authorization: 'Bearer k2' })).toBe('k1');
    expect(presentedKey({ authorization: 'bearer k2' })).toBe('k2');
    expect(presentedKey({ authorization: 'Basic abc' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });

  it('says why a key is unusable', () => {
    const base = { key_id: 'k', account_id: 'a', org_id: 'o', secret_hash: '', prefix: '', created_at: '2026-01-01T00:00:00Z' };
    const now = Date.parse('2026-06-01T00:00:00Z');
    expect(keyUnusable(base, now)).toBeNull();
    expect(keyUnusable({ ...base, revoked_at: '2026-05-01T00:00:00Z' }, now)).toBe('revoked');
    expect(keyUnusable({ ...base, expires_at: '2026-05-31T23:59:59Z' }, now)).toBe('expired');
    expect(keyUnusable({ ...base, expires_at: '2026-06-02T00:00:00Z' }, now)).toBeNull();
  });
});

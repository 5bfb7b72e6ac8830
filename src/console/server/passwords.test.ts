import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';

describe('console passwords (scrypt)', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('salts each hash, so one password gives two hashes that both verify', async () => {
    const a = await hashPassword('same-password-123');
    const b = await hashPassword('same-password-123');
    expect(a).not.toBe(b);
    expect(await verifyPassword('same-password-123', a)).toBe(true);
    expect(await verifyPassword('same-password-123', b)).toBe(true);
  });

  it('reads the parameters from the hash and refuses malformed or absurd ones', async () => {
    const cheap = await hashPassword('pw-with-cheap-params', { N: 1024, r: 8, p: 1 });
    expect(await verifyPassword('pw-with-cheap-params', cheap)).toBe(true);
    expect(await verifyPassword('x', 'plain-text-password')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1024$8$1$c2FsdHNhbHQ$short')).toBe(false);
    expect(await verifyPassword('x', cheap.replace('$1024$', `$${2 ** 24}$`))).toBe(false);
  });

  it('generates passwords of the asked length from an unambiguous alphabet', () => {
    const p = generatePassword();
    expect(p).toHaveLength(20);
    expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]+$/);
    expect(generatePassword()).not.toBe(p);
    expect(generatePassword(32)).toHaveLength(32);
  });
});

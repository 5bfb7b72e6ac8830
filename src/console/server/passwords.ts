/**
 * Console passwords: scrypt (node:crypto) with a random 16-byte salt per user, stored as
 * `scrypt$N$r$p$<salt>$<hash>` (base64url), verified in constant time. The parameters travel
 * with the hash, so raising them later leaves old hashes verifiable.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

/**
 * N = 2^15, r = 8, p = 1: 32 MiB and tens of milliseconds per hash. OWASP's cheat sheet lists
 * N = 2^17 (128 MiB); 2^15 keeps a burst of sign-ins from exhausting a small gateway host.
 */
export const SCRYPT_PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LEN = 32;
/** Passwords shorter than this are refused when a user is created. */
export const MIN_PASSWORD_LENGTH = 12;

export async function hashPassword(password: string, params: { N: number; r: number; p: number } = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { ...params, maxmem: 256 * params.N * params.r });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length !== KEY_LEN || salt.length < 8) return false;
  const key = await scrypt(password, salt, KEY_LEN, { N, r, p, maxmem: 256 * N * r });
  return timingSafeEqual(key, expected);
}

/** A hash of a random password with the same parameters: verified against when the user does not exist, so both cases take as long. */
const dummies = new Map<string, Promise<string>>();
export function dummyHash(params: { N: number; r: number; p: number } = SCRYPT_PARAMS): Promise<string> {
  const key = `${params.N}/${params.r}/${params.p}`;
  let d = dummies.get(key);
  if (!d) dummies.set(key, (d = hashPassword(randomBytes(16).toString('base64url'), params)));
  return d;
}

/** A random password of 20 characters from an unambiguous alphabet (about 115 bits). */
export function generatePassword(length = 20): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const out: string[] = [];
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // Rejection sampling: no bias towards the first characters of the alphabet.
      if (b < 256 - (256 % alphabet.length) && out.length < length) out.push(alphabet[b % alphabet.length]!);
    }
  }
  return out.join('');
}

/**
 * Warden's own API keys: `wdn_<key id>_<secret>`. The key id is public (it names the key in
 * logs, events and the admin API); the secret is 32 random bytes, stored only as its SHA-256
 * and compared in constant time. A high-entropy secret needs no slow hash: nobody can guess it,
 * and a leaked table of hashes reveals no key.
 */
import * as crypto from 'node:crypto';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord } from '../core/index.js';

const KEY_RE = /^wdn_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface IssuedKey {
  /** The whole key, shown once to the customer and never stored. */
  key: string;
  keyId: string;
  secretHash: string;
  prefix: string;
}

/** A random id of `n` characters from [a-z0-9]. */
export function randomId(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ID_ALPHABET[bytes[i]! % ID_ALPHABET.length];
  return s;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function issueKey(): IssuedKey {
  const keyId = randomId(12);
  const secret = randomBytes(32).toString('base64url');
  const key = `wdn_${keyId}_${secret}`;
  return { key, keyId, secretHash: hashSecret(secret), prefix: key.slice(0, 20) };
}

/** Splits a presented key into id and secret, or null when it is not shaped like a Warden key. */
export function parseKey(presented: string): { keyId: string; secret: string } | null {
  const m = KEY_RE.exec(presented);
  return m ? { keyId: m[1]!, secret: m[2]! } : null;
}

/** One-shot SHA-256 (`crypto.hash`, Node ≥ 20.12: about a third cheaper than a Hash object), else the Hash object. */
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'buffer') => Buffer }).hash;
const sha256 = oneShot ? (s: string): Buffer => oneShot('sha256', s, 'buffer') : (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time check of a presented secret against the stored hash. */
export function secretMatches(secret: string, storedHashHex: string): boolean {
  const a = sha256(secret);
  const b = Buffer.from(storedHashHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export type KeyCheck =
  | { ok: true; key: ApiKeyRecord }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' };

/** Why a key is not usable at `now`, or null when it is. */
export function keyUnusable(key: ApiKeyRecord, now: number): 'revoked' | 'expired' | null {
  if (key.revoked_at && Date.parse(key.revoked_at) <= now) return 'revoked';
  if (key.expires_at && Date.parse(key.expires_at) <= now) return 'expired';
  return null;
}

/** Reads the key from `x-api-key` or `Authorization: Bearer …`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x) return x.trim();
  const auth = headers['authorization'];
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (m) return m[1]!.trim();
  }
  return undefined;
}

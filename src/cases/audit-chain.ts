/**
 * The audit chain: canonical JSON, sealing (hash + Ed25519 signature), verification with the
 * public key only, the installation's key pair on disk, and JSONL export. The format is in
 * docs/audit.md; nothing here touches a database.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AuditChainHead,
  AuditEntry,
  AuditProblem,
  AuditRecord,
  AuditVerifyResult,
} from '../core/index.js';
import { ConfigError, ValidationError } from '../core/index.js';

export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_PRIVATE_KEY_FILE = 'audit-ed25519.key';
export const AUDIT_PUBLIC_KEY_FILE = 'audit-ed25519.pub';

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined` object
 * members left out (as JSON.stringify does). Refuses what JSON cannot carry faithfully
 * (non-finite numbers, bigints, functions, `undefined` in arrays), naming the path.
 */
export function canonicalJson(value: unknown, path = '(root)'): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw invalid(path, `a finite number, got ${String(value)}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value
          .map((v, i) => {
            if (v === undefined) throw invalid(`${path}[${i}]`, 'a JSON value, got undefined');
            return canonicalJson(v, `${path}[${i}]`);
          })
          .join(',')}]`;
      }
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k], `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw invalid(path, `a JSON value, got ${typeof value}`);
  }
}

function invalid(path: string, what: string): ValidationError {
  const message = `expected ${what}`;
  return new ValidationError(`${path}: ${message}. Audit data must be plain JSON.`, [{ path, message }]);
}

/** The fields a record's hash covers, in canonical JSON. */
export function auditHashInput(r: Omit<AuditRecord, 'hash' | 'sig'>): string {
  const { v, chain, seq, prev, key_id, type, actor, subject, data, at } = r;
  return canonicalJson({ v, chain, seq, prev, key_id, type, actor, subject, data, at });
}

export function auditHash(r: Omit<AuditRecord, 'hash' | 'sig'>): string {
  return createHash('sha256').update(auditHashInput(r), 'utf8').digest('hex');
}

/** First 16 hex digits of the SHA-256 of the public key's SPKI DER. */
export function auditKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** Checks an entry and returns a plain-JSON copy (what is hashed is exactly what is stored). */
export function normalizeAuditEntry(entry: AuditEntry): AuditEntry {
  const issues: { path: string; message: string }[] = [];
  if (typeof entry?.type !== 'string' || entry.type === '') issues.push({ path: 'type', message: 'a non-empty string such as "action.put"' });
  if (typeof entry?.actor !== 'string' || entry.actor === '') issues.push({ path: 'actor', message: 'a non-empty string naming who decided' });
  if (typeof entry?.at !== 'string' || Number.isNaN(Date.parse(entry.at))) issues.push({ path: 'at', message: 'an RFC 3339 time' });
  if (entry?.data === null || typeof entry?.data !== 'object' || Array.isArray(entry.data)) issues.push({ path: 'data', message: 'a JSON object' });
  if (entry?.subject !== undefined && (typeof entry.subject?.kind !== 'string' || typeof entry.subject?.id !== 'string')) {
    issues.push({ path: 'subject', message: 'a { kind, id } subject' });
  }
  if (issues.length > 0) {
    throw new ValidationError(`Audit entry: ${issues.map((i) => `${i.path}: expected ${i.message}`).join('; ')}.`, issues);
  }
  const copy = JSON.parse(canonicalJson({ type: entry.type, actor: entry.actor, subject: entry.subject, data: entry.data, at: entry.at })) as AuditEntry;
  return copy;
}

/** Seals an entry as record `seq` of `chain` after `prev`. */
export function sealAuditRecord(entry: AuditEntry, chain: string, seq: number, prev: string, key: AuditSigningKey): AuditRecord {
  const e = normalizeAuditEntry(entry);
  const body: Omit<AuditRecord, 'hash' | 'sig'> = {
    v: 1,
    chain,
    seq,
    prev,
    key_id: key.keyId,
    type: e.type,
    actor: e.actor,
    ...(e.subject ? { subject: e.subject } : {}),
    data: e.data,
    at: e.at,
  };
  const hash = auditHash(body);
  const sig = sign(null, Buffer.from(hash, 'hex'), key.privateKey).toString('base64');
  return { ...body, hash, sig };
}

export type AuditPublicKeyInput = KeyObject | string;

/** A public key from a KeyObject or a PEM text. */
export function auditPublicKey(input: AuditPublicKeyInput): KeyObject {
  if (typeof input !== 'string') {
    return input.type === 'private' ? createPublicKey(input) : input;
  }
  try {
    const k = createPublicKey(input);
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`an ${k.asymmetricKeyType} key`);
    return k;
  } catch (err) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `Audit public key: expected an Ed25519 public key in PEM ("-----BEGIN PUBLIC KEY-----"), ${(err as Error).message}. Use the ${AUDIT_PUBLIC_KEY_FILE} file of the installation.`,
      { cause: err },
    );
  }
}

/**
 * Checks records (in storage order) against one or more public keys (several after a key
 * rotation), chain by chain. Finds: a record whose content no longer matches its hash
 * (`changed`), a hash not signed by a known key (`bad_signature`), missing sequence numbers
 * (`removed`), records out of order (`reordered`), and two different records with one seq or
 * a valid record that does not follow its predecessor (`forked`). `heads`, when given (saved
 * earlier from `auditHeads`), also catches records removed from the end of a chain.
 */
export function verifyAuditChain(
  records: Iterable<AuditRecord>,
  publicKeys: AuditPublicKeyInput | readonly AuditPublicKeyInput[],
  opts: { heads?: readonly AuditChainHead[] } = {},
): AuditVerifyResult {
  const v = createAuditVerifier(publicKeys, opts);
  for (const r of records) v.add(r);
  return v.finish();
}

export interface AuditVerifier {
  /** Checks one record; records must come in storage order (the order of the export). */
  add(record: AuditRecord): void;
  finish(): AuditVerifyResult;
}

interface ChainState {
  /** seq → hash as stored (first occurrence). */
  seen: Map<number, string>;
  /** seq → [hash, prev] of records that passed hash and signature. */
  valid: Map<number, [string, string]>;
  /** Seqs in storage order, first occurrence only. */
  order: number[];
  maxSeq: number;
}

/**
 * The same checks as `verifyAuditChain`, one record at a time, for exports too large to hold:
 * it keeps per record only its seq and two hashes.
 */
export function createAuditVerifier(
  publicKeys: AuditPublicKeyInput | readonly AuditPublicKeyInput[],
  opts: { heads?: readonly AuditChainHead[] } = {},
): AuditVerifier {
  const keys = new Map<string, KeyObject>();
  for (const k of Array.isArray(publicKeys) ? publicKeys : [publicKeys]) {
    const key = auditPublicKey(k as AuditPublicKeyInput);
    keys.set(auditKeyId(key), key);
  }
  const problems: AuditProblem[] = [];
  const states = new Map<string, ChainState>();
  let checked = 0;
  return {
    add(r) {
      checked++;
      const chain = typeof r?.chain === 'string' ? r.chain : '(none)';
      let st = states.get(chain);
      if (!st) states.set(chain, (st = { seen: new Map(), valid: new Map(), order: [], maxSeq: 0 }));
      const seq = Number.isInteger(r?.seq) && r.seq > 0 ? r.seq : NaN;
      if (Number.isNaN(seq)) {
        problems.push({ chain, seq: 0, kind: 'changed', detail: `a record has seq ${JSON.stringify(r?.seq)}, not a positive integer` });
        return;
      }
      const bad = checkRecord(r, keys);
      if (bad) problems.push({ chain, seq, ...bad });
      const earlier = st.seen.get(seq);
      if (earlier !== undefined) {
        problems.push({
          chain,
          seq,
          kind: 'forked',
          detail: earlier === r.hash ? `record ${seq} appears twice` : `two different records have seq ${seq} (hashes ${earlier.slice(0, 12)}… and ${String(r.hash).slice(0, 12)}…)`,
        });
        return;
      }
      st.seen.set(seq, String(r.hash));
      st.order.push(seq);
      st.maxSeq = Math.max(st.maxSeq, seq);
      if (!bad) st.valid.set(seq, [r.hash, r.prev]);
    },
    finish() {
      const out = [...problems];
      const chains: AuditChainHead[] = [];
      for (const [chain, st] of states) {
        // The fewest records that, moved back into place, restore the order: those outside the
        // longest increasing run of seqs (one swap of two neighbours reports one record).
        const inOrder = longestIncreasing(st.order);
        st.order.forEach((seq, i) => {
          if (inOrder.has(i)) return;
          const before = st.order[i - 1];
          const after = st.order[i + 1];
          out.push({
            chain,
            seq,
            kind: 'reordered',
            detail: `record ${seq} is stored out of order${before !== undefined ? ` after record ${before}` : ''}${after !== undefined ? `${before !== undefined ? ' and' : ''} before record ${after}` : ''}`,
          });
        });
        for (let s = 1; s <= st.maxSeq; s++) {
          if (st.seen.has(s)) continue;
          let end = s;
          while (end + 1 <= st.maxSeq && !st.seen.has(end + 1)) end++;
          out.push({
            chain,
            seq: s,
            kind: 'removed',
            detail: end === s ? `record ${s} is missing (the chain goes from ${s - 1} to ${s + 1})` : `records ${s}..${end} are missing`,
          });
          s = end;
        }
        // Links: a sound record must follow its predecessor; compared only when that one is
        // sound too (otherwise it is already reported).
        for (const [seq, [, prev]] of st.valid) {
          const expected = seq === 1 ? GENESIS_HASH : st.valid.get(seq - 1)?.[0];
          if (expected === undefined || prev === expected) continue;
          out.push({
            chain,
            seq,
            kind: seq === 1 ? 'changed' : 'forked',
            detail:
              seq === 1
                ? `the first record's prev is ${String(prev).slice(0, 12)}…, not the genesis hash`
                : `record ${seq} follows a record with hash ${String(prev).slice(0, 12)}…, but the stored record ${seq - 1} has hash ${expected.slice(0, 12)}…`,
          });
        }
        chains.push({ chain, seq: st.maxSeq, hash: st.seen.get(st.maxSeq) ?? '' });
      }
      for (const h of opts.heads ?? []) {
        const st = states.get(h.chain);
        const seq = st?.maxSeq ?? 0;
        if (seq < h.seq) {
          out.push({
            chain: h.chain,
            seq: seq + 1,
            kind: 'removed',
            detail: `the chain ends at record ${seq}, but a saved head says it reached ${h.seq}: records ${seq + 1}..${h.seq} are missing`,
          });
        } else {
          const at = st?.seen.get(h.seq);
          if (at !== undefined && at !== h.hash) {
            out.push({ chain: h.chain, seq: h.seq, kind: 'forked', detail: `record ${h.seq} has hash ${at.slice(0, 12)}…, but the saved head has ${h.hash.slice(0, 12)}…` });
          }
        }
      }
      out.sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.seq - b.seq));
      chains.sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
      return { ok: out.length === 0, checked, chains, problems: out };
    },
  };
}

/** Indexes of one longest strictly increasing subsequence (patience sorting, O(n log n)). */
function longestIncreasing(xs: readonly number[]): Set<number> {
  const tails: number[] = []; // index into xs of the smallest tail of each run length
  const prevIdx: number[] = new Array<number>(xs.length).fill(-1);
  xs.forEach((x, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[tails[mid]!]! < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prevIdx[i] = tails[lo - 1]!;
    tails[lo] = i;
  });
  const out = new Set<number>();
  for (let i = tails.length ? tails[tails.length - 1]! : -1; i >= 0; i = prevIdx[i]!) out.add(i);
  return out;
}

function checkRecord(r: AuditRecord, keys: Map<string, KeyObject>): { kind: AuditProblem['kind']; detail: string } | null {
  let hash: string;
  try {
    hash = auditHash(r);
  } catch (err) {
    return { kind: 'changed', detail: `the record cannot be hashed: ${(err as Error).message}` };
  }
  if (hash !== r.hash) {
    return { kind: 'changed', detail: `the content does not match its hash (stored ${String(r.hash).slice(0, 12)}…, computed ${hash.slice(0, 12)}…)` };
  }
  const key = keys.get(r.key_id);
  if (!key) return { kind: 'bad_signature', detail: `signed with key ${r.key_id}, which is not among the public keys given` };
  let good = false;
  try {
    good = typeof r.sig === 'string' && verify(null, Buffer.from(hash, 'hex'), key, Buffer.from(r.sig, 'base64'));
  } catch {
    good = false;
  }
  return good ? null : { kind: 'bad_signature', detail: `the signature does not verify with key ${r.key_id}` };
}

// ---------------------------------------------------------------------------------------------
// Keys on disk

/**
 * Loads the installation's audit key pair from `dir`, creating it on first use: the private
 * key in `audit-ed25519.key` (PKCS#8 PEM, mode 0600) and the public key in
 * `audit-ed25519.pub` (SPKI PEM). Keep `dir` outside the database's folder and backups, so
 * whoever can change the database cannot also sign. A private key readable by group or others
 * is refused.
 */
export function loadOrCreateAuditKey(dir: string): AuditSigningKey & { publicKeyPem: string; created: boolean } {
  const privPath = join(dir, AUDIT_PRIVATE_KEY_FILE);
  const pubPath = join(dir, AUDIT_PUBLIC_KEY_FILE);
  let created = false;
  if (!existsSync(privPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(privPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    chmodSync(privPath, 0o600);
    writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
    created = true;
  }
  if (process.platform !== 'win32') {
    const mode = statSync(privPath).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `The audit private key ${privPath} is readable by others (mode ${mode.toString(8)}). Run: chmod 600 ${privPath}`,
      );
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(privPath, 'utf8'));
  } catch (err) {
    throw new ConfigError('CONFIG_INVALID', `Cannot read the audit private key ${privPath}: ${(err as Error).message}. Restore it from backup or move it away to create a new key.`, { cause: err });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError('CONFIG_INVALID', `The audit key ${privPath} is ${privateKey.asymmetricKeyType}, not Ed25519. Move it away to create a new key.`);
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (!existsSync(pubPath)) writeFileSync(pubPath, publicKeyPem, { mode: 0o644 });
  else if (auditKeyId(auditPublicKey(readFileSync(pubPath, 'utf8'))) !== auditKeyId(publicKey)) {
    throw new ConfigError('CONFIG_INVALID', `${pubPath} does not match the private key ${privPath}. Delete ${pubPath}; it is rewritten from the private key.`);
  }
  return { privateKey, publicKey, publicKeyPem, keyId: auditKeyId(publicKey), created };
}

// ---------------------------------------------------------------------------------------------
// JSONL

/** One record per line, fields in canonical order, for offline verification. */
export function auditRecordsToJsonl(records: Iterable<AuditRecord>): string {
  let out = '';
  for (const r of records) {
    const { v, chain, seq, prev, key_id, type, actor, subject, data, at, hash, sig } = r;
    out += `${canonicalJson({ v, chain, seq, prev, key_id, type, actor, subject, data, at, hash, sig })}\n`;
  }
  return out;
}

/** Parses an export; a line that is not a JSON object is reported with its number, not dropped silently. */
export function parseAuditJsonl(text: string): { records: AuditRecord[]; problems: { line: number; message: string }[] } {
  const records: AuditRecord[] = [];
  const problems: { line: number; message: string }[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const r = JSON.parse(line) as unknown;
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error('not a JSON object');
      records.push(r as AuditRecord);
    } catch (err) {
      problems.push({ line: i + 1, message: (err as Error).message });
    }
  });
  return { records, problems };
}

import { generateKeyPairSync, sign } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditRecord, AuditStore } from '../core/index.js';
import { isWardenError } from '../core/index.js';
import { openSqliteCaseStore, type SqliteCaseStore } from '../store/index.js';
import {
  AUDIT_PRIVATE_KEY_FILE,
  AUDIT_PUBLIC_KEY_FILE,
  auditHash,
  auditKeyId,
  auditRecordsToJsonl,
  canonicalJson,
  createAuditVerifier,
  loadOrCreateAuditKey,
  parseAuditJsonl,
  sealAuditRecord,
  verifyAuditChain,
  type AuditSigningKey,
} from './audit-chain.js';
import { createAuditLog, readAudit } from './audit-log.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function newKey(): AuditSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: auditKeyId(publicKey) };
}

function entry(i: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    type: i % 3 === 0 ? 'action.put' : 'policy.refusal',
    actor: i % 3 === 0 ? 'analyst@example.test' : 'policy:default@3',
    subject: { kind: 'account', id: `acc_${i}` },
    data: { i, decision: 'block', reasons: [{ code: 'hydra', weight: 0.4 }] },
    at: new Date(Date.UTC(2026, 2, 1, 0, 0, i)).toISOString(),
    ...over,
  };
}

/** A store with `n` records written by one audit log, and the key that signed them. */
async function filled(n: number, chain = 'w-test'): Promise<{ store: SqliteCaseStore; key: AuditSigningKey; records: AuditRecord[] }> {
  const store = openSqliteCaseStore({ path: ':memory:' });
  const key = newKey();
  const log = createAuditLog({ store, key, chain });
  await Promise.all(Array.from({ length: n }, (_, i) => log.append(entry(i + 1))));
  await log.close();
  return { store, key, records: await store.listAudit() };
}

const pem = (k: AuditSigningKey) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 'x' }], c: undefined } })).toBe('{"a":{"d":[1,{"y":"x","z":1}]},"b":1}');
  });
  it('refuses values JSON cannot carry, naming the path', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(/\(root\)\.a\[1\]/);
    expect(() => canonicalJson({ a: 10n })).toThrow(/bigint/);
  });
});

describe('audit chain verification', () => {
  it('verifies an untouched chain with the public key alone (PEM)', async () => {
    const { store, key, records } = await filled(20);
    const result = verifyAuditChain(records, pem(key));
    expect(result).toMatchObject({ ok: true, checked: 20, problems: [] });
    expect(result.chains).toEqual([{ chain: 'w-test', seq: 20, hash: records[19]!.hash }]);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(records[1]!.prev).toBe(records[0]!.hash);
    await store.close();
  });

  it('finds a record whose data was changed in the database, at its seq', async () => {
    const { store, key } = await filled(10);
    store.db.prepare(`UPDATE audit_log SET data = json_set(data, '$.decision', 'allow') WHERE seq = 4`).run();
    const r = verifyAuditChain(await store.listAudit(), key.publicKey);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.chain, p.seq, p.kind])).toEqual([['w-test', 4, 'changed']]);
    await store.close();
  });

  it('finds a changed actor or time too, not only data', async () => {
    const { store, key } = await filled(5);
    store.db.prepare(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2`).run();
    store.db.prepare(`UPDATE audit_log SET at = '2026-03-01T00:00:59.000Z' WHERE seq = 5`).run();
    const r = verifyAuditChain(await store.listAudit(), key.publicKey);
    expect(r.problems.map((p) => [p.seq, p.kind])).toEqual([
      [2, 'changed'],
      [5, 'changed'],
    ]);
    await store.close();
  });

  it('finds a deleted record, at its seq', async () => {
    const { store, key } = await filled(10);
    store.db.prepare('DELETE FROM audit_log WHERE seq = 6').run();
    const r = verifyAuditChain(await store.listAudit(), key.publicKey);
    expect(r.problems.map((p) => [p.chain, p.seq, p.kind])).toEqual([['w-test', 6, 'removed']]);
    expect(r.problems[0]!.detail).toMatch(/record 6 is missing/);
    await store.close();
  });

  it('finds two swapped records and names the one out of place', async () => {
    const { store, key } = await filled(10);
    // Swap every column of the rows holding seq 3 and seq 4 (their storage positions stay).
    const rows = store.db.prepare('SELECT * FROM audit_log WHERE seq IN (3, 4) ORDER BY seq').all() as Record<string, unknown>[];
    const cols = Object.keys(rows[0]!).filter((c) => c !== 'pos');
    const upd = store.db.prepare(`UPDATE audit_log SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE pos = @pos`);
    store.db.transaction(() => {
      store.db.prepare('UPDATE audit_log SET seq = -seq WHERE seq IN (3, 4)').run();
      upd.run({ ...rows[1], pos: rows[0]!.pos });
      upd.run({ ...rows[0], pos: rows[1]!.pos });
    })();
    const r = verifyAuditChain(await store.listAudit(), key.publicKey);
    // One of the two is out of place; the longest ordered run keeps 1, 2, 3, 5, … and names 4.
    expect(r.problems.map((p) => [p.seq, p.kind])).toEqual([[4, 'reordered']]);
    expect(r.problems[0]!.detail).toBe('record 4 is stored out of order after record 2 and before record 3');
    await store.close();
  });

  it('finds swapped lines in a JSONL export', async () => {
    const { store, key, records } = await filled(6);
    const lines = auditRecordsToJsonl(records).trimEnd().split('\n');
    [lines[1], lines[4]] = [lines[4]!, lines[1]!];
    const r = verifyAuditChain(parseAuditJsonl(lines.join('\n')).records, key.publicKey);
    expect(r.problems.map((p) => [p.seq, p.kind])).toEqual([
      [2, 'reordered'],
      [5, 'reordered'],
    ]);
    await store.close();
  });

  it('finds a record re-sealed with another key, even under the real key id', async () => {
    const { store, key, records } = await filled(8);
    const mallory = newKey();
    const target = records[4]!;
    // Forged with Mallory's own key id: the key is unknown.
    const forged = sealAuditRecord({ ...target, data: { ...target.data, decision: 'allow' } }, target.chain, target.seq, target.prev, mallory);
    const r1 = verifyAuditChain([...records.slice(0, 4), forged, ...records.slice(5)], key.publicKey);
    expect(r1.problems.map((p) => [p.seq, p.kind])).toEqual([[5, 'bad_signature']]);
    expect(r1.problems[0]!.detail).toMatch(/not among the public keys/);
    // Forged claiming the real key id: the signature does not verify.
    const claimed = { ...forged, key_id: key.keyId };
    claimed.hash = auditHash(claimed);
    claimed.sig = sign(null, Buffer.from(claimed.hash, 'hex'), mallory.privateKey).toString('base64');
    const r2 = verifyAuditChain([...records.slice(0, 4), claimed, ...records.slice(5)], key.publicKey);
    expect(r2.problems.map((p) => [p.seq, p.kind])).toEqual([[5, 'bad_signature']]);
    // The whole chain re-sealed by Mallory: every record fails, and the real key verifies nothing.
    const r3 = verifyAuditChain(records, mallory.publicKey);
    expect(r3.problems.every((p) => p.kind === 'bad_signature')).toBe(true);
    expect(r3.problems.length).toBe(8);
    await store.close();
  });

  it('finds a fork: two different signed records with one seq', async () => {
    const { store, key, records } = await filled(4);
    const other = sealAuditRecord(entry(99), 'w-test', 3, records[1]!.hash, key);
    const r = verifyAuditChain([...records, other], key.publicKey);
    expect(r.problems.map((p) => [p.seq, p.kind])).toEqual([[3, 'forked']]);
    await store.close();
  });

  it('finds records cut from the end of a chain against a saved head', async () => {
    const { store, key } = await filled(6);
    const heads = await store.auditHeads();
    store.db.prepare('DELETE FROM audit_log WHERE seq >= 5').run();
    const records = await store.listAudit();
    expect(verifyAuditChain(records, key.publicKey).ok).toBe(true); // without the head, a cut tail looks like a short chain
    const r = verifyAuditChain(records, key.publicKey, { heads });
    expect(r.problems.map((p) => [p.seq, p.kind])).toEqual([[5, 'removed']]);
    await store.close();
  });

  it('accepts several keys (after a rotation) and checks each chain separately', async () => {
    const store = openSqliteCaseStore({ path: ':memory:' });
    const k1 = newKey();
    const k2 = newKey();
    const a = createAuditLog({ store, key: k1, chain: 'gw-1' });
    const b = createAuditLog({ store, key: k2, chain: 'gw-2' });
    await Promise.all([a.append(entry(1)), b.append(entry(2)), a.append(entry(3)), b.append(entry(4))]);
    const records = await store.listAudit();
    const r = verifyAuditChain(records, [pem(k1), pem(k2)]);
    expect(r.ok).toBe(true);
    expect(r.chains.map((c) => [c.chain, c.seq])).toEqual([
      ['gw-1', 2],
      ['gw-2', 2],
    ]);
    expect(verifyAuditChain(records, k1.publicKey).problems.map((p) => [p.chain, p.kind])).toEqual([
      ['gw-2', 'bad_signature'],
      ['gw-2', 'bad_signature'],
    ]);
    await store.close();
  });
});

describe('createAuditLog', () => {
  it('seals appends in batches, in append order, resolving each with its record', async () => {
    const inner = openSqliteCaseStore({ path: ':memory:' });
    const batches: number[] = [];
    const store: AuditStore = {
      appendAudit: (rs) => {
        batches.push(rs.length);
        return inner.appendAudit(rs);
      },
      listAudit: (q) => inner.listAudit(q),
      auditHead: (c) => inner.auditHead(c),
      auditHeads: () => inner.auditHeads(),
    };
    const log = createAuditLog({ store, key: newKey(), chain: 'w-batch', maxBatch: 64 });
    const sealed = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(entry(i))));
    expect(sealed.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(sealed.map((r) => r.data.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(batches.reduce((x, y) => x + y, 0)).toBe(200);
    expect(Math.max(...batches)).toBeLessThanOrEqual(64);
    expect(batches.length).toBeLessThan(20);
    await log.close();
    await inner.close();
  });

  it('refuses appends beyond maxQueue instead of growing without bound', async () => {
    const store = openSqliteCaseStore({ path: ':memory:' });
    const log = createAuditLog({ store, key: newKey(), maxQueue: 3 });
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => log.append(entry(i))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/maxQueue/);
    await log.close();
    await store.close();
  });

  it('continues its chain when a writer reopens it', async () => {
    const store = openSqliteCaseStore({ path: ':memory:' });
    const key = newKey();
    const first = createAuditLog({ store, key, chain: 'gw-1' });
    await first.append(entry(1));
    await first.close();
    const second = createAuditLog({ store, key, chain: 'gw-1' });
    const r = await second.append(entry(2));
    expect(r.seq).toBe(2);
    expect(verifyAuditChain(await store.listAudit(), key.publicKey).ok).toBe(true);
    await second.close();
    await store.close();
  });

  it('rejects a failed batch and continues the chain without a gap', async () => {
    const inner = openSqliteCaseStore({ path: ':memory:' });
    let fail = true;
    const store: AuditStore = {
      appendAudit: (rs) => (fail ? Promise.reject(new Error('disk full')) : inner.appendAudit(rs)),
      listAudit: (q) => inner.listAudit(q),
      auditHead: (c) => inner.auditHead(c),
      auditHeads: () => inner.auditHeads(),
    };
    const key = newKey();
    const log = createAuditLog({ store, key, chain: 'w-fail' });
    await expect(log.append(entry(1))).rejects.toThrow(/disk full/);
    fail = false;
    expect((await log.append(entry(2))).seq).toBe(1);
    expect((await log.append(entry(3))).seq).toBe(2);
    expect(verifyAuditChain(await inner.listAudit(), key.publicKey).ok).toBe(true);
    await log.close();
    await inner.close();
  });

  it('rejects the appends when the chain head cannot be read, and recovers', async () => {
    const inner = openSqliteCaseStore({ path: ':memory:' });
    let down = true;
    const store: AuditStore = {
      appendAudit: (rs) => inner.appendAudit(rs),
      listAudit: (q) => inner.listAudit(q),
      auditHead: (c) => (down ? Promise.reject(new Error('database unreachable')) : inner.auditHead(c)),
      auditHeads: () => inner.auditHeads(),
    };
    const log = createAuditLog({ store, key: newKey() });
    await expect(log.append(entry(1))).rejects.toThrow(/unreachable/);
    down = false;
    expect((await log.append(entry(2))).seq).toBe(1);
    await log.close();
    await inner.close();
  });

  it('refuses a second writer on the same chain instead of forking it', async () => {
    const store = openSqliteCaseStore({ path: ':memory:' });
    const key = newKey();
    const a = createAuditLog({ store, key, chain: 'same' });
    const b = createAuditLog({ store, key, chain: 'same' });
    await a.append(entry(1));
    await b.append(entry(2)).catch(() => undefined); // b read the head after a wrote: fine
    await a.append(entry(3)).then(
      () => expect.unreachable('a reused a seq that b wrote'),
      (err: unknown) => expect(isWardenError(err, 'CONFLICT')).toBe(true),
    );
    expect(verifyAuditChain(await store.listAudit(), key.publicKey).ok).toBe(true);
    await store.close();
  });

  it('refuses entries that are not plain JSON or lack fields, naming them', async () => {
    const store = openSqliteCaseStore({ path: ':memory:' });
    const log = createAuditLog({ store, key: newKey() });
    await expect(log.append({ ...entry(1), actor: '' })).rejects.toThrow(/actor/);
    await expect(log.append({ ...entry(1), at: 'yesterday' })).rejects.toThrow(/at: expected an RFC 3339 time/);
    await expect(log.append({ ...entry(1), data: { n: Number.POSITIVE_INFINITY } })).rejects.toThrow(/data\.n/);
    await log.close();
    await expect(log.append(entry(1))).rejects.toThrow(/closed/);
    await store.close();
  });

  it('streams a large log page by page into the incremental verifier, with the same result', async () => {
    const { store, key } = await filled(12);
    store.db.prepare('DELETE FROM audit_log WHERE seq = 7').run();
    const v = createAuditVerifier(key.publicKey);
    let n = 0;
    for await (const r of readAudit(store, {}, 5)) {
      v.add(r);
      n++;
    }
    expect(n).toBe(11);
    expect(v.finish()).toEqual(verifyAuditChain(await store.listAudit(), key.publicKey));
    expect(v.finish().problems.map((p) => [p.seq, p.kind])).toEqual([[7, 'removed']]);
    await store.close();
  });

  it('round-trips through JSONL and verifies offline', async () => {
    const { store, key, records } = await filled(5);
    const text = auditRecordsToJsonl(records);
    const parsed = parseAuditJsonl(`${text}not json\n`);
    expect(parsed.problems).toEqual([{ line: 6, message: expect.any(String) }]);
    expect(verifyAuditChain(parsed.records, pem(key)).ok).toBe(true);
    await store.close();
  });
});

describe('loadOrCreateAuditKey', () => {
  it('creates a private key readable only by the owner and a public key, and reloads the same pair', () => {
    const keyDir = join(dir, 'keys-a');
    const k = loadOrCreateAuditKey(keyDir);
    expect(k.created).toBe(true);
    expect(statSync(join(keyDir, AUDIT_PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(keyDir, AUDIT_PUBLIC_KEY_FILE), 'utf8')).toBe(k.publicKeyPem);
    const again = loadOrCreateAuditKey(keyDir);
    expect(again.created).toBe(false);
    expect(again.keyId).toBe(k.keyId);
    const rec = sealAuditRecord(entry(1), 'c', 1, '0'.repeat(64), again);
    expect(verifyAuditChain([rec], readFileSync(join(keyDir, AUDIT_PUBLIC_KEY_FILE), 'utf8')).ok).toBe(true);
  });

  it('refuses a private key others can read, saying how to fix it', () => {
    const keyDir = join(dir, 'keys-b');
    loadOrCreateAuditKey(keyDir);
    chmodSync(join(keyDir, AUDIT_PRIVATE_KEY_FILE), 0o644);
    expect(() => loadOrCreateAuditKey(keyDir)).toThrow(/chmod 600/);
  });
});

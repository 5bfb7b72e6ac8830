import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../../core/index.js';
import { caseStoreContract, makeAlert, makeAuditRecords, makeCase } from '../contract/case-store.contract.js';
import { uid } from '../contract/fixtures.js';
import { migratePostgres } from './migrations.js';
import { openPostgresCaseStore } from './postgres-case-store.js';
import { services, unreachable } from './services.js';

const admin = new pg.Pool({ connectionString: services.postgresUrl, max: 2 });
const schemas: string[] = [];
const newSchema = () => {
  const name = `warden_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  schemas.push(name);
  return name;
};
afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});

caseStoreContract('PostgreSQL', async () =>
  openPostgresCaseStore({ connectionString: services.postgresUrl, schema: newSchema(), maxConnections: 3 }),
);

describe('PostgresCaseStore shared by several processes', () => {
  const pair = async () => {
    const schema = newSchema();
    const a = await openPostgresCaseStore({ connectionString: services.postgresUrl, schema, maxConnections: 3 });
    const b = await openPostgresCaseStore({ connectionString: services.postgresUrl, schema, maxConnections: 3 });
    return { a, b, close: async () => (await a.close(), await b.close()) };
  };

  it('sees a case created by one in the other, and loses no concurrent change from either', async () => {
    const { a, b, close } = await pair();
    try {
      const c = makeCase();
      await a.createCase(c);
      const al = makeAlert();
      await b.putAlert(al);
      const at = '2026-03-02T00:00:00.000Z';
      const notes = Array.from({ length: 10 }, (_, i) => ({ note_id: uid('n'), author: `p${i % 2}`, text: `n${i}`, at }));
      await Promise.all([
        ...notes.map((n, i) => (i % 2 ? a : b).addNote(c.case_id, n)),
        a.linkAlert(c.case_id, al.alert_id, 'system', at),
        b.recordDisposition(al.alert_id, { verdict: 'false_positive', reason: 'office NAT', by: 'ana', at }),
      ]);
      const seenByA = (await a.getCase(c.case_id))!;
      expect(await b.getCase(c.case_id)).toEqual(seenByA);
      expect(seenByA.notes.length).toBe(10);
      expect(seenByA.alerts).toEqual([al.alert_id]);
      expect((await a.getAlert(al.alert_id))!.disposition?.verdict).toBe('false_positive');
      expect(await b.isSuppressed(al.fingerprint!)).not.toBeNull();
    } finally {
      await close();
    }
  });

  it('refuses a second writer on a chain another process writes, and keeps each process’s chain apart', async () => {
    const { a, b, close } = await pair();
    try {
      await a.appendAudit(makeAuditRecords('gw-a', 1, 3));
      await b.appendAudit(makeAuditRecords('gw-b', 1, 2));
      const err = await b.appendAudit(makeAuditRecords('gw-a', 3, 2)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isWardenError(err, 'CONFLICT')).toBe(true);
      expect((err as Error).message).toMatch(/two writers use the same chain id/);
      expect(await b.auditHead('gw-a')).toMatchObject({ seq: 3 });
      expect((await a.auditHeads()).map((h) => [h.chain, h.seq])).toEqual([
        ['gw-a', 3],
        ['gw-b', 2],
      ]);
    } finally {
      await close();
    }
  });

  it('group-commits the batches queued while one is written; a conflicting batch fails alone', async () => {
    const schema = newSchema();
    const s = await openPostgresCaseStore({ connectionString: services.postgresUrl, schema, maxConnections: 2 });
    try {
      await s.appendAudit(makeAuditRecords('dup', 1, 1));
      const results = await Promise.allSettled([
        s.appendAudit(makeAuditRecords('x', 1, 2)),
        s.appendAudit(makeAuditRecords('y', 1, 2)),
        s.appendAudit(makeAuditRecords('dup', 1, 1)),
        s.appendAudit(makeAuditRecords('z', 1, 2)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((await s.listAudit()).map((r) => `${r.chain}:${r.seq}`)).toEqual(['dup:1', 'x:1', 'x:2', 'y:1', 'y:2', 'z:1', 'z:2']);
    } finally {
      await s.close();
    }
  });

  it('retries an audit write while PostgreSQL is unreachable, and counts a commit whose answer was lost as written', async () => {
    const schema = newSchema();
    const real = new pg.Pool({ connectionString: services.postgresUrl, max: 2 });
    await migratePostgres(real, { schema });
    const netError = (m: string) => Object.assign(new Error(m), { code: 'ECONNRESET' });
    let refuseConnects = 0;
    let loseCommits = 0;
    // The real pool, but its next connects fail and its next COMMITs commit and then lose the answer.
    const flaky = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'connect') return Reflect.get(target, prop, receiver);
        return (cb?: unknown) => {
          // pool.query connects with a callback: leave that path alone.
          if (typeof cb === 'function') return (target.connect as (f: unknown) => void)(cb);
          return flakyConnect();
        };
        async function flakyConnect() {
          if (refuseConnects > 0) {
            refuseConnects--;
            throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
          }
          const client = await target.connect();
          return new Proxy(client, {
            get(c, p2, r2) {
              if (p2 !== 'query') return Reflect.get(c, p2, r2);
              return async (...args: unknown[]) => {
                const res = await (c.query as (...a: unknown[]) => Promise<unknown>)(...args);
                if (args[0] === 'COMMIT' && loseCommits > 0) {
                  loseCommits--;
                  throw netError('Connection terminated unexpectedly');
                }
                return res;
              };
            },
          });
        }
      },
    });
    const s = await openPostgresCaseStore({ pool: flaky, schema, migrate: false });
    try {
      refuseConnects = 2;
      await s.appendAudit(makeAuditRecords('gw-r', 1, 3));
      loseCommits = 1;
      await s.appendAudit(makeAuditRecords('gw-r', 4, 2));
      expect((await s.listAudit()).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
      // Past the retry window, the appends reject saying where PostgreSQL was.
      const quick = await openPostgresCaseStore({ pool: flaky, schema, migrate: false, auditRetryMs: 300 });
      refuseConnects = 1000;
      const err = await quick.appendAudit(makeAuditRecords('gw-q', 1, 1)).then(
        () => null,
        (e: unknown) => e,
      );
      refuseConnects = 0;
      await quick.close();
      expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toContain('127.0.0.1:5432');
    } finally {
      await s.close();
      await real.end();
    }
  });

  it('fails with the URL it tried when PostgreSQL is unreachable', async () => {
    const err = await openPostgresCaseStore({ connectionString: unreachable.postgresUrl, connectTimeoutMs: 2000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1');
  });
});

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../../core/index.js';
import { detectionStateContract } from '../contract/detection-state.contract.js';
import { openPostgresDetectionState } from './detection-state.js';
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

detectionStateContract('PostgreSQL', async () =>
  openPostgresDetectionState({ connectionString: services.postgresUrl, schema: newSchema(), maxConnections: 2 }),
);

describe('PostgresDetectionState', () => {
  it('gives one of two racing owners the lease', async () => {
    const schema = newSchema();
    const a = await openPostgresDetectionState({ connectionString: services.postgresUrl, schema, maxConnections: 2 });
    const b = await openPostgresDetectionState({ connectionString: services.postgresUrl, schema, maxConnections: 2 });
    const now = Date.now();
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).acquire('p0', `w${i}`, now, 60_000)));
    expect(got.filter((l) => l !== null).length).toBe(1);
    await a.close();
    await b.close();
  });

  it('ends a commit left idle mid-transaction (a stopped worker), so its lease row is not held', async () => {
    const schema = newSchema();
    const a = await openPostgresDetectionState({ connectionString: services.postgresUrl, schema, maxConnections: 2, idleInTransactionTimeoutMs: 300 });
    const b = await openPostgresDetectionState({ connectionString: services.postgresUrl, schema, maxConnections: 2 });
    const t0 = Date.now();
    const la = (await a.acquire('p0', 'wa', t0, 100))!;
    const err = await a
      .commit(la, {
        partition: 0,
        seq: 1,
        events: [{ event_id: 'stalled', ts_ms: t0 }],
        now: t0,
        apply: () => {
          // The client does nothing for a second while holding the lease row (as under SIGSTOP).
          const until = Date.now() + 1000;
          while (Date.now() < until) {
            /* busy: the session is idle in transaction */
          }
          return [];
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    // The row is free: another owner takes the expired lease at once, and nothing was written.
    const lb = await b.acquire('p0', 'wb', Date.now(), 60_000);
    expect(lb?.owner).toBe('wb');
    expect((await b.positions()).get(0)).toBeUndefined();
    expect((await b.commit(lb!, { partition: 0, seq: 1, events: [{ event_id: 'stalled', ts_ms: t0 }], now: t0, apply: (f) => (expect(f).toEqual(['stalled']), []) })).fresh).toBe(1);
    await a.close();
    await b.close();
  });

  it('fails at open with the URL it tried when PostgreSQL is unreachable', async () => {
    const err = await openPostgresDetectionState({ connectionString: unreachable.postgresUrl, connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1');
  });
});

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../../core/index.js';
import { makeAccount, makeEvent } from '../contract/fixtures.js';
import { stateStoreContract } from '../contract/state-store.contract.js';
import { migratePostgres, PG_STORE_MIGRATIONS } from './migrations.js';
import { openPostgresStore } from './postgres-store.js';
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

stateStoreContract('PostgreSQL', async () =>
  openPostgresStore({ connectionString: services.postgresUrl, schema: newSchema(), maxConnections: 2 }),
);

describe('PostgresStore', () => {
  it('records each component’s version in schema_version and migrates once', async () => {
    const schema = newSchema();
    const pool = new pg.Pool({ connectionString: services.postgresUrl, max: 4 });
    try {
      // Several processes starting at once: the advisory lock runs each migration once.
      const results = await Promise.all([1, 2, 3].map(() => migratePostgres(pool, { schema })));
      expect(results).toEqual([1, 2, 3].map(() => ({ store: PG_STORE_MIGRATIONS.length, enforcement: 1, console: 1 })));
      const rows = (await pool.query(`SELECT component, version FROM "${schema}".schema_version ORDER BY component`)).rows;
      expect(rows).toEqual([
        { component: 'console', version: 1 },
        { component: 'enforcement', version: 1 },
        { component: 'store', version: PG_STORE_MIGRATIONS.length },
      ]);
    } finally {
      await pool.end();
    }
  });

  it('refuses a schema newer than the code, saying so', async () => {
    const schema = newSchema();
    const pool = new pg.Pool({ connectionString: services.postgresUrl, max: 2 });
    try {
      await migratePostgres(pool, { schema });
      await pool.query(`UPDATE "${schema}".schema_version SET version = 99 WHERE component = 'store'`);
      const err = await openPostgresStore({ pool, schema }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isWardenError(err, 'CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(/version 99, newer than this Warden/);
    } finally {
      await pool.end();
    }
  });

  it('shares one database between processes: a tombstone written by one refuses late events in another', async () => {
    const schema = newSchema();
    const a = await openPostgresStore({ connectionString: services.postgresUrl, schema, maxConnections: 2 });
    const b = await openPostgresStore({ connectionString: services.postgresUrl, schema, maxConnections: 2 });
    try {
      const acc = makeAccount();
      await a.createAccount(acc);
      await a.deleteAccount(acc.account_id);
      expect(await b.appendEvents([makeEvent({ account_id: acc.account_id }), makeEvent()])).toBe(1);
      expect(await b.countEvents({ account_id: acc.account_id })).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('stores a large batch in chunks and skips the ids it already has', async () => {
    const schema = newSchema();
    const store = await openPostgresStore({ connectionString: services.postgresUrl, schema, eventBatchRows: 300 });
    try {
      const acc = makeAccount().account_id;
      const events = Array.from({ length: 1000 }, (_, i) =>
        makeEvent({ account_id: acc, ts: new Date(Date.UTC(2026, 2, 1) + i * 1000).toISOString() }),
      );
      expect(await store.appendEvents(events.slice(0, 600))).toBe(600);
      expect(await store.appendEvents(events)).toBe(400);
      expect(await store.countEvents({ account_id: acc })).toBe(1000);
      const listed = await store.listEvents({ account_id: acc, limit: 3 });
      expect(listed).toEqual(events.slice(0, 3));
    } finally {
      await store.close();
    }
  });

  it('fails with the URL it tried when PostgreSQL is unreachable', async () => {
    const err = await openPostgresStore({ connectionString: unreachable.postgresUrl, connectTimeoutMs: 2000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1');
  });
});

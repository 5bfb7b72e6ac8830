import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { consoleAuthStoreContract } from '../contract/console-auth-store.contract.js';
import { openPostgresConsoleAuthStore } from './postgres-console-auth-store.js';
import { services } from './services.js';

const admin = new pg.Pool({ connectionString: services.postgresUrl, max: 2 });
const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});

consoleAuthStoreContract('PostgreSQL', async () => {
  const schema = `warden_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  schemas.push(schema);
  return openPostgresConsoleAuthStore({ connectionString: services.postgresUrl, schema, maxConnections: 2 });
});

/**
 * The versioned schema of the PostgreSQL adapters, one ordered list per component (`store`,
 * `enforcement`), applied by `migratePostgres` (`warden migrate`) and recorded in
 * `schema_version`. To change a table, append a migration; never edit one that has shipped.
 * The tables mirror the embedded SQLite schema (the same column lists), with JSONB for nested
 * values, BIGINT epoch-ms columns for time ranges and `COLLATE "C"` text so ids and times sort
 * byte-wise as in SQLite.
 */
import type pg from 'pg';
import type { ColumnKind, ColumnSpec } from '../embedded/columns.js';
import {
  ACCOUNT_COLUMNS,
  ACTION_COLUMNS,
  EVENT_COLUMNS,
  KEY_COLUMNS,
  ORG_COLUMNS,
  RISK_COLUMNS,
} from '../embedded/state-store.js';
import { checkSchemaName, migrateComponent, unavailable, type PgMigration } from './pg.js';

const PG_TYPE: Record<ColumnKind, string> = {
  text: 'TEXT COLLATE "C"',
  int: 'BIGINT',
  real: 'DOUBLE PRECISION',
  bool: 'BOOLEAN',
  json: 'JSONB',
};
/** The array type `unnest` takes for each kind (JSON goes as text and is cast per row). */
export const PG_ARRAY: Record<ColumnKind, string> = { text: 'text[]', int: 'bigint[]', real: 'float8[]', bool: 'boolean[]', json: 'text[]' };

function defs(spec: ColumnSpec, overrides: Record<string, string> = {}): string {
  return spec.map(([n, k]) => `${n} ${overrides[n] ?? PG_TYPE[k]}`).join(',\n  ');
}

export const PG_STORE_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'orgs, accounts, keys, events, policy versions, actions, risk, blobs',
    sql: (s) => `
CREATE TABLE ${s}.orgs (
  ${defs(ORG_COLUMNS, { org_id: 'TEXT COLLATE "C" PRIMARY KEY', name: 'TEXT NOT NULL' })}
);
CREATE TABLE ${s}.accounts (
  ${defs(ACCOUNT_COLUMNS, { account_id: 'TEXT COLLATE "C" PRIMARY KEY', status: "TEXT NOT NULL DEFAULT 'active'" })}
);
CREATE INDEX accounts_org ON ${s}.accounts (org_id, account_id);
CREATE INDEX accounts_deleted ON ${s}.accounts (account_id) WHERE status = 'deleted';
CREATE TABLE ${s}.api_keys (
  ${defs(KEY_COLUMNS, { key_id: 'TEXT COLLATE "C" PRIMARY KEY', account_id: 'TEXT COLLATE "C" NOT NULL', secret_hash: 'TEXT NOT NULL' })}
);
CREATE INDEX api_keys_account ON ${s}.api_keys (account_id);
CREATE INDEX api_keys_org ON ${s}.api_keys (org_id);
CREATE TABLE ${s}.events (
  ${defs(EVENT_COLUMNS, { event_id: 'TEXT COLLATE "C" PRIMARY KEY', ts: 'TEXT NOT NULL' })},
  ts_ms BIGINT NOT NULL
);
CREATE INDEX events_account_ts ON ${s}.events (account_id, ts_ms);
CREATE INDEX events_org_ts ON ${s}.events (org_id, ts_ms);
CREATE INDEX events_ts ON ${s}.events (ts_ms);
CREATE TABLE ${s}.policy_versions (
  version INTEGER PRIMARY KEY,
  text TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  source TEXT NOT NULL,
  active BOOLEAN NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX policy_versions_one_active ON ${s}.policy_versions (active) WHERE active;
CREATE TABLE ${s}.actions (
  ${defs(ACTION_COLUMNS, { action_id: 'TEXT COLLATE "C" PRIMARY KEY' })},
  created_ms BIGINT NOT NULL,
  expires_ms BIGINT
);
CREATE INDEX actions_subject ON ${s}.actions (subject_kind, subject_id, created_ms);
CREATE INDEX actions_in_force ON ${s}.actions (expires_ms) WHERE reversed_at IS NULL;
CREATE TABLE ${s}.risk (
  ${defs(RISK_COLUMNS, { account_id: 'TEXT COLLATE "C" PRIMARY KEY' })}
);
CREATE TABLE ${s}.blobs (
  key TEXT COLLATE "C" PRIMARY KEY,
  value BYTEA NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
`,
  },
];

export const PG_ENFORCEMENT_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'enforcement change log',
    sql: (s) => `
CREATE TABLE ${s}.enforcement_changes (
  seq BIGSERIAL PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('put', 'reverse')),
  action JSONB NOT NULL,
  origin TEXT NOT NULL,
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX enforcement_changes_at ON ${s}.enforcement_changes (at);
`,
  },
];

/**
 * Applies every pending migration of the PostgreSQL adapters (store, enforcement change log)
 * in `schema` (default `public`), creating the schema if needed. Safe to run from several
 * processes at once (an advisory lock serialises them). Returns each component's version.
 */
export async function migratePostgres(pool: pg.Pool, opts: { schema?: string } = {}): Promise<Record<string, number>> {
  const schema = checkSchemaName(opts.schema ?? 'public');
  try {
    return {
      store: await migrateComponent(pool, schema, 'store', PG_STORE_MIGRATIONS),
      enforcement: await migrateComponent(pool, schema, 'enforcement', PG_ENFORCEMENT_MIGRATIONS),
    };
  } catch (err) {
    unavailable(err, pool);
  }
}

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
  {
    version: 2,
    description: 'cases, alerts, suppressions, audit log (the case store; docs/cases.md, docs/audit.md)',
    // Documents and audit data are JSON (not JSONB): kept as written, so any string the
    // embedded store keeps (a NUL escape included, which JSONB refuses) is kept here too.
    sql: (s) => `
CREATE TABLE ${s}.cases (
  case_id TEXT COLLATE "C" PRIMARY KEY,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  assignee TEXT COLLATE "C",
  entity TEXT COLLATE "C",
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  version INTEGER NOT NULL,
  doc JSON NOT NULL
);
CREATE INDEX cases_by_update ON ${s}.cases (updated_ms DESC, case_id);
CREATE TABLE ${s}.case_subjects (
  kind TEXT NOT NULL CHECK (kind IN ('account', 'cluster', 'entity')),
  value TEXT COLLATE "C" NOT NULL,
  case_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.cases (case_id) ON DELETE CASCADE,
  PRIMARY KEY (kind, value, case_id)
);
CREATE INDEX case_subjects_by_case ON ${s}.case_subjects (case_id);
CREATE TABLE ${s}.alerts (
  alert_id TEXT COLLATE "C" PRIMARY KEY,
  case_id TEXT COLLATE "C",
  detector TEXT NOT NULL,
  cluster_id TEXT COLLATE "C",
  entity TEXT COLLATE "C",
  fingerprint TEXT COLLATE "C",
  verdict TEXT,
  created_ms BIGINT NOT NULL,
  doc JSON NOT NULL
);
CREATE INDEX alerts_by_case ON ${s}.alerts (case_id, created_ms);
CREATE INDEX alerts_by_cluster ON ${s}.alerts (cluster_id);
CREATE INDEX alerts_by_entity ON ${s}.alerts (entity);
CREATE INDEX alerts_by_time ON ${s}.alerts (created_ms, alert_id);
CREATE TABLE ${s}.alert_accounts (
  account_id TEXT COLLATE "C" NOT NULL,
  alert_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.alerts (alert_id) ON DELETE CASCADE,
  PRIMARY KEY (account_id, alert_id)
);
CREATE TABLE ${s}.alert_suppressions (
  fingerprint TEXT COLLATE "C" PRIMARY KEY,
  alert_id TEXT COLLATE "C" NOT NULL,
  disposition JSON NOT NULL
);
CREATE TABLE ${s}.audit_log (
  pos BIGSERIAL PRIMARY KEY,
  chain TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  prev TEXT NOT NULL,
  key_id TEXT NOT NULL,
  type TEXT COLLATE "C" NOT NULL,
  actor TEXT COLLATE "C" NOT NULL,
  subject_kind TEXT,
  subject_id TEXT COLLATE "C",
  data JSON NOT NULL,
  at TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  hash TEXT NOT NULL,
  sig TEXT NOT NULL,
  UNIQUE (chain, seq)
);
CREATE INDEX audit_by_time ON ${s}.audit_log (at_ms);
CREATE INDEX audit_by_subject ON ${s}.audit_log (subject_kind, subject_id);
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

export const PG_CONSOLE_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'console users and sessions',
    sql: (s) => `
CREATE TABLE ${s}.console_users (
  username TEXT COLLATE "C" PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE ${s}.console_sessions (
  session_hash TEXT COLLATE "C" PRIMARY KEY,
  username TEXT COLLATE "C" NOT NULL REFERENCES ${s}.console_users (username) ON DELETE CASCADE,
  role TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  expires_ms BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON ${s}.console_sessions (username);
CREATE INDEX console_sessions_expiry ON ${s}.console_sessions (expires_ms);
`,
  },
];

/**
 * Applies every pending migration of the PostgreSQL adapters (store, enforcement change log, console users and sessions)
 * in `schema` (default `public`), creating the schema if needed. Safe to run from several
 * processes at once (an advisory lock serialises them). Returns each component's version.
 */
export async function migratePostgres(pool: pg.Pool, opts: { schema?: string } = {}): Promise<Record<string, number>> {
  const schema = checkSchemaName(opts.schema ?? 'public');
  try {
    return {
      store: await migrateComponent(pool, schema, 'store', PG_STORE_MIGRATIONS),
      enforcement: await migrateComponent(pool, schema, 'enforcement', PG_ENFORCEMENT_MIGRATIONS),
      console: await migrateComponent(pool, schema, 'console', PG_CONSOLE_MIGRATIONS),
    };
  } catch (err) {
    unavailable(err, pool);
  }
}

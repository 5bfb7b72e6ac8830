/**
 * @module store
 * The embedded implementations of the ports in `src/core/ports.ts`, all in SQLite and needing
 * no service: the state store (`openSqliteStore`), the durable event bus with in-process
 * delivery (`openSqliteBus`), rate-limit and budget counters (`createMemoryCounters`,
 * `openSqliteCounters`), the enforcement state pushed to gateways
 * (`openSqliteEnforcementState`), and the gateway's local durable outbox (`openOutbox`,
 * used by both profiles). The scaled-out adapters (PostgreSQL, Redis, NATS JetStream) live
 * in `scaled/`, load their client libraries only when opened, and pass the same contract suites
 * in `contract/`. Durability guarantees
 * and the schema are described in docs/store.md.
 */
export { openDatabase, migrate, GroupCommit } from './embedded/sqlite.js';
export type { SqliteDatabase, SqliteOpenOptions, SqliteSynchronous, Migration } from './embedded/sqlite.js';
export { openSqliteStore, STORE_MIGRATIONS } from './embedded/state-store.js';
export type { SqliteStore, SqliteStoreOptions } from './embedded/state-store.js';
export { openSqliteBus, BUS_MIGRATIONS } from './embedded/bus.js';
export type { SqliteBus, SqliteBusOptions, ParkedMessage } from './embedded/bus.js';
export { createMemoryCounters, openSqliteCounters, COUNTER_MIGRATIONS } from './embedded/counters.js';
export type { MemoryCounters, MemoryCountersOptions, SqliteCounters, SqliteCountersOptions } from './embedded/counters.js';
export { openSqliteEnforcementState, ENFORCEMENT_MIGRATIONS } from './embedded/enforcement-state.js';
export type { SqliteEnforcementStateOptions } from './embedded/enforcement-state.js';
export { openOutbox, OUTBOX_MIGRATIONS } from './embedded/outbox.js';
export type { Outbox, OutboxOptions, RelayOptions } from './embedded/outbox.js';
// Scaled-out adapters (PostgreSQL, Redis, NATS JetStream); see docs/scale-out.md.
export { openPostgresStore } from './scaled/postgres-store.js';
export type { PostgresStore, PostgresStoreOptions } from './scaled/postgres-store.js';
export { migratePostgres, PG_STORE_MIGRATIONS, PG_ENFORCEMENT_MIGRATIONS, PG_CONSOLE_MIGRATIONS } from './scaled/migrations.js';
export type { PgMigration } from './scaled/pg.js';
export { openRedisCounters } from './scaled/redis-counters.js';
export type { RedisCountersOptions } from './scaled/redis-counters.js';
export { openClusterEnforcementState } from './scaled/redis-enforcement-state.js';
export type { ClusterEnforcementStateOptions } from './scaled/redis-enforcement-state.js';
export { openNatsBus, partitionOf } from './scaled/nats-bus.js';
export type { NatsBus, NatsBusOptions, NatsDelivery, ParkedNatsMessage } from './scaled/nats-bus.js';
// Cases, alerts and the audit log (embedded); see docs/cases.md and docs/audit.md.
export { openSqliteCaseStore, CASE_MIGRATIONS } from './embedded/case-store.js';
export type { SqliteCaseStore, SqliteCaseStoreOptions } from './embedded/case-store.js';
// Detection workers' state (leases, positions, per-account features); see docs/scale-out.md.
export { openSqliteDetectionState, DETECTION_STATE_MIGRATIONS } from './embedded/detection-state.js';
export type { SqliteDetectionStateOptions } from './embedded/detection-state.js';
export { openPostgresDetectionState, PG_DETECTION_MIGRATIONS } from './scaled/detection-state.js';
export type { PostgresDetectionStateOptions } from './scaled/detection-state.js';
export { openPostgresCaseStore } from './scaled/postgres-case-store.js';
export type { PostgresCaseStore, PostgresCaseStoreOptions } from './scaled/postgres-case-store.js';
// Console users and sessions (embedded in the state store's file; scaled in PostgreSQL); see docs/console.md.
export { openSqliteConsoleAuthStore, CONSOLE_MIGRATIONS } from './embedded/console-auth-store.js';
export type { SqliteConsoleAuthStoreOptions } from './embedded/console-auth-store.js';
export { openPostgresConsoleAuthStore } from './scaled/postgres-console-auth-store.js';
export type { PostgresConsoleAuthStoreOptions } from './scaled/postgres-console-auth-store.js';

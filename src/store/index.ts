/**
 * @module store
 * The embedded implementations of the ports in `src/core/ports.ts`, all in SQLite and needing
 * no service: the state store (`openSqliteStore`), the durable event bus with in-process
 * delivery (`openSqliteBus`), rate-limit and budget counters (`createMemoryCounters`,
 * `openSqliteCounters`), the enforcement state pushed to gateways
 * (`openSqliteEnforcementState`), and the gateway's local durable outbox (`openOutbox`,
 * used by both profiles). The scaled-out adapters (PostgreSQL, Redis, NATS JetStream) will
 * live in `scaled/` and pass the same contract suites in `contract/`. Durability guarantees
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

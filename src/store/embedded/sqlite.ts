/**
 * Shared SQLite plumbing for the embedded adapters: opening a database with the durability
 * settings every adapter relies on, versioned migrations per component, and group commit.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, UnavailableError, ValidationError } from '../../core/index.js';

export type SqliteDatabase = Database.Database;

/**
 * `NORMAL` (the default): in WAL mode a committed transaction has reached the OS, so it
 * survives the process being killed, but the last transactions can be lost on power loss.
 * `FULL`: every commit is fsynced, so it survives power loss too, at the cost of one fsync
 * per transaction (group commit keeps that to one per event-loop turn).
 */
export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface SqliteOpenOptions {
  /** A file path, or `':memory:'` for a private in-memory database (tests). */
  path: string;
  synchronous?: SqliteSynchronous;
  /** How long a writer waits for another connection's lock before failing. */
  busyTimeoutMs?: number;
  /** Hold the file's lock for as long as it is open: no other process may use it. */
  exclusive?: boolean;
}

/** Opens (creating its folder if needed) a database in WAL mode with the given durability. */
export function openDatabase(opts: SqliteOpenOptions): SqliteDatabase {
  if (typeof opts.path !== 'string' || opts.path === '') {
    throw new ConfigError(
      'CONFIG_INVALID',
      `SQLite path: expected a file path or ":memory:", got ${JSON.stringify(opts.path)}. Set the store path in warden.yaml.`,
    );
  }
  const sync = opts.synchronous ?? 'NORMAL';
  if (sync !== 'NORMAL' && sync !== 'FULL') {
    throw new ConfigError('CONFIG_INVALID', `SQLite synchronous: expected "NORMAL" or "FULL", got "${String(sync)}".`);
  }
  const memory = opts.path === ':memory:';
  let db: SqliteDatabase;
  try {
    if (!memory) mkdirSync(dirname(resolve(opts.path)), { recursive: true });
    db = new Database(opts.path);
  } catch (err) {
    throw new UnavailableError(
      `Cannot open SQLite database at ${opts.path}: ${(err as Error).message}. Check that the folder exists and is writable.`,
      { cause: err },
    );
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    if (opts.exclusive) db.pragma('locking_mode = EXCLUSIVE');
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync}`);
    db.pragma('foreign_keys = ON');
    // Take the lock now (an exclusive database is locked by its first write).
    if (opts.exclusive) db.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new UnavailableError(
        `The SQLite database ${opts.path} is locked by another process${opts.exclusive ? ' and this one needs it alone' : ''}. Stop the other process or use another path.`,
        { cause: err },
      );
    }
    throw err;
  }
  return db;
}

/** One schema change: `up` runs inside the migration's transaction. */
export interface Migration {
  version: number;
  description: string;
  up(db: SqliteDatabase): void;
}

/**
 * Brings `component`'s tables to the newest version in `migrations` (ordered, versions 1..n).
 * Each component (store, bus, counters, …) has its own row in `schema_version`, so components
 * can share one file or live in separate ones. A database newer than this code is refused.
 */
export function migrate(db: SqliteDatabase, component: string, migrations: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  )`);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${component} migration #${i} has version ${m.version}; expected ${i + 1}`);
  });
  const run = db.transaction(() => {
    const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(component) as
      | { version: number }
      | undefined;
    const current = row?.version ?? 0;
    if (current > migrations.length) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `The ${component} schema in ${db.name} is version ${current}, newer than this Warden (${migrations.length}). Upgrade Warden or use another database file.`,
      );
    }
    for (const m of migrations.slice(current)) m.up(db);
    if (current < migrations.length) {
      db.prepare(
        `INSERT INTO schema_version (component, version, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(component) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      ).run(component, migrations.length, new Date().toISOString());
    }
    return migrations.length;
  });
  // IMMEDIATE: two processes opening the same file at once must not both run a migration.
  return run.immediate();
}

interface QueuedWrite {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: writes queued in the same event-loop turn run in one transaction in a
 * `setImmediate`, and each promise resolves only after that transaction committed. If the
 * shared transaction fails, each write is retried in its own transaction so one bad write
 * cannot fail the others.
 */
export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private closed = false;

  /** Built once: better-sqlite3 compiles a new wrapper on every `db.transaction(fn)` call. */
  private readonly commitAll: (batch: QueuedWrite[], results: unknown[]) => void;

  constructor(private readonly db: SqliteDatabase, private readonly what: string) {
    this.commitAll = db.transaction((batch: QueuedWrite[], results: unknown[]) => {
      for (const w of batch) results.push(w.run());
    });
  }

  enqueue<R>(run: () => R): Promise<R> {
    if (this.closed) {
      return Promise.reject(new UnavailableError(`The ${this.what} is closed; open it again before writing.`));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Commits everything queued now (synchronously). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const results: unknown[] = [];
    try {
      this.commitAll(batch, results);
    } catch {
      for (const w of batch) {
        try {
          w.resolve(this.db.transaction(w.run)());
        } catch (err) {
          w.reject(err);
        }
      }
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
  }

  /** Flushes what is queued and refuses later writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}

/** Epoch ms of an RFC 3339 time, for range queries that must not depend on the offset's spelling. */
export function timeMs(iso: string, field: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    const message = `expected an RFC 3339 time such as 2026-03-01T00:00:00Z, got "${String(iso)}"`;
    throw new ValidationError(`${field}: ${message}.`, [{ path: field, message }]);
  }
  return ms;
}

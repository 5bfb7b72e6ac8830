/**
 * `createAuditLog`: the `AuditLog` over any `AuditStore`. Appends are queued and sealed in
 * batches off the request path: everything appended in one event-loop turn (up to `maxBatch`)
 * is chained, signed and written in one `appendAudit` call; one batch is in flight at a time so
 * the chain is written in order. A failed write rejects that batch's appends and leaves the
 * chain head where it was, so the next batch continues the chain without a gap.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord, AuditStore } from '../core/index.js';
import { ConfigError, UnavailableError } from '../core/index.js';
import { GENESIS_HASH, normalizeAuditEntry, sealAuditRecord, type AuditSigningKey } from './audit-chain.js';

export interface AuditLogOptions {
  store: AuditStore;
  key: AuditSigningKey;
  /**
   * This writer's chain id; each writer process needs its own (two writers on one chain are
   * refused by the store). A writer reopening its own chain continues it. Default: a new
   * random id per process start.
   */
  chain?: string;
  /** Most records sealed into one write. Default 500. */
  maxBatch?: number;
  /**
   * Most records waiting to be written; beyond it `append` rejects with `UnavailableError`
   * rather than growing memory without bound (signing costs ~0.1 ms a record). Default 100 000.
   */
  maxQueue?: number;
}

interface Pending {
  entry: AuditEntry;
  resolve: (r: AuditRecord) => void;
  reject: (e: unknown) => void;
}

export function createAuditLog(opts: AuditLogOptions): AuditLog {
  const chain = opts.chain ?? `w-${randomUUID()}`;
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(chain)) {
    throw new ConfigError('CONFIG_INVALID', `audit.chain: expected 1-128 letters, digits or . _ : -, got ${JSON.stringify(chain)}.`);
  }
  const maxBatch = opts.maxBatch ?? 500;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new ConfigError('CONFIG_INVALID', `audit.maxBatch: expected a positive integer, got ${maxBatch}.`);
  }
  const maxQueue = opts.maxQueue ?? 100_000;
  if (!Number.isInteger(maxQueue) || maxQueue < 1) {
    throw new ConfigError('CONFIG_INVALID', `audit.maxQueue: expected a positive integer, got ${maxQueue}.`);
  }
  const { store, key } = opts;
  let queue: Pending[] = [];
  let head: { seq: number; hash: string } | null = null;
  let inFlight: Promise<void> | null = null;
  let scheduled = false;
  let closed = false;

  /** Never rejects: every failure (reading the head, sealing, writing) rejects the batch's appends. */
  async function writeBatch(batch: Pending[]): Promise<void> {
    const sealed: AuditRecord[] = [];
    let seq = 0;
    let hash = GENESIS_HASH;
    try {
      if (!head) {
        const h = await store.auditHead(chain);
        head = h ? { seq: h.seq, hash: h.hash } : { seq: 0, hash: GENESIS_HASH };
      }
      ({ seq, hash } = head);
      for (const p of batch) {
        const r = sealAuditRecord(p.entry, chain, seq + 1, hash, key);
        sealed.push(r);
        seq = r.seq;
        hash = r.hash;
      }
      await store.appendAudit(sealed);
    } catch (err) {
      head = null; // re-read: the store is the truth about what was written
      for (const p of batch) p.reject(err);
      return;
    }
    head = { seq, hash };
    batch.forEach((p, i) => p.resolve(sealed[i]!));
  }

  function pump(): Promise<void> {
    if (inFlight) return inFlight;
    if (queue.length === 0) return Promise.resolve();
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    inFlight = writeBatch(batch).finally(() => {
      inFlight = null;
      if (queue.length > 0) void pump();
    });
    return inFlight;
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void pump();
    });
  }

  return {
    chain,
    append(entry) {
      if (closed) return Promise.reject(new UnavailableError('The audit log is closed; open it again before appending.'));
      if (queue.length >= maxQueue) {
        return Promise.reject(
          new UnavailableError(`The audit log of chain ${chain} has ${queue.length} records waiting to be written (audit.maxQueue); the store is too slow or failing. Check the database, or raise audit.maxQueue.`),
        );
      }
      let e: AuditEntry;
      try {
        e = normalizeAuditEntry(entry);
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise<AuditRecord>((resolve, reject) => {
        queue.push({ entry: e, resolve, reject });
        schedule();
      });
    },
    list(query) {
      return store.listAudit(query);
    },
    async flush() {
      while (queue.length > 0 || inFlight) await pump();
    },
    async close() {
      closed = true;
      while (queue.length > 0 || inFlight) await pump();
    },
  };
}

/**
 * Every record matching `query`, in storage order, read `pageSize` at a time (for exports and
 * `createAuditVerifier` on logs too large to load at once).
 */
export async function* readAudit(
  store: Pick<AuditStore, 'listAudit'>,
  query: Omit<AuditQuery, 'after_pos' | 'limit'> = {},
  pageSize = 5000,
): AsyncGenerator<AuditRecord & { pos: number }> {
  let after: number | undefined;
  for (;;) {
    const page = await store.listAudit({ ...query, limit: pageSize, ...(after !== undefined ? { after_pos: after } : {}) });
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.pos;
  }
}

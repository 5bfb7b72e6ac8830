/**
 * The port of the scaled-out detection workers' state (`warden worker`, docs/scale-out.md):
 * per-partition leases with a fencing epoch, the stream position each partition has committed,
 * the per-account feature state, and the event ids already counted. A worker commits a batch's
 * account states, its counted event ids and the partition's new position in one transaction,
 * so a redelivered or republished event changes nothing and a crash loses nothing.
 */

/** A lease on a named resource (`p0`, `p1`, …, `leader`) held by one worker until `expiresMs`. */
export interface DetectionLease {
  readonly name: string;
  readonly owner: string;
  /** Incremented at every acquisition: a commit made under an older epoch is refused (fencing). */
  readonly epoch: number;
  readonly expiresMs: number;
}

/** One account's feature state as a worker committed it. */
export interface AccountFeatureRow {
  account_id: string;
  partition: number;
  /** Events counted into the state (the state's request count). */
  events: number;
  /** The engine's serialized per-account state (opaque to the store). */
  state: Uint8Array;
  /** When it was committed (epoch ms). */
  updated_ms: number;
}

export interface CountedEvent {
  event_id: string;
  /** Event time (epoch ms), for pruning the counted ids. */
  ts_ms: number;
}

export interface DetectionBatch {
  partition: number;
  /** The partition's stream position after this batch (last stream sequence it covers). */
  seq: number;
  /** Every event id of the batch, whether or not it turns out to be new. */
  events: readonly CountedEvent[];
  /**
   * Called inside the transaction with the ids never counted before (in the order given);
   * returns the account states to write. It must be synchronous and may throw to abort.
   */
  apply(fresh: readonly string[]): AccountFeatureRow[];
  /** Commit time (epoch ms). */
  now: number;
}

export interface DetectionCommitResult {
  /** Events counted by this batch (not counted before). */
  fresh: number;
  /** Accounts whose state was written. */
  accounts: number;
}

export interface DetectionStateStore {
  /**
   * Takes the lease `name` for `owner` when it is free, expired or already `owner`'s, with a new
   * epoch; null when another owner holds it.
   */
  acquire(name: string, owner: string, now: number, ttlMs: number): Promise<DetectionLease | null>;
  /** Extends a lease; null when it was lost (taken by another owner after it expired, or released). */
  renew(lease: DetectionLease, now: number, ttlMs: number): Promise<DetectionLease | null>;
  /** Gives a lease up (a no-op when it was lost already). */
  release(lease: DetectionLease): Promise<void>;
  /** Who holds which lease now (expired ones left out). */
  leases(now: number): Promise<DetectionLease[]>;
  /** Records that `owner` is alive until `now + ttlMs`; returns the owners alive now, sorted. */
  heartbeat(owner: string, now: number, ttlMs: number): Promise<string[]>;
  /** Removes `owner` from the live workers (clean shutdown). */
  leave(owner: string): Promise<void>;
  /**
   * Commits a batch in one transaction: the lease must still be `lease` (same owner and epoch),
   * the new ids are recorded, `apply` computes the states, the states and `seq` are written.
   * Rejects with a `CONFLICT` error when the lease was lost; nothing is written then.
   */
  commit(lease: DetectionLease, batch: DetectionBatch): Promise<DetectionCommitResult>;
  /** Committed stream positions by partition (0 for a partition never committed). */
  positions(): Promise<Map<number, number>>;
  /** Account states of one partition (a worker restoring what it owns). */
  partitionStates(partition: number): Promise<AccountFeatureRow[]>;
  /** Account states committed at or after `sinceMs` (the evaluation leader's incremental load). */
  statesSince(sinceMs: number): Promise<AccountFeatureRow[]>;
  /** Deletes the feature state of these accounts (erased accounts); returns how many rows went. */
  forgetAccounts(accountIds: readonly string[]): Promise<number>;
  /** Forgets counted event ids older than `beforeMs` (event time); returns how many. */
  pruneCounted(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

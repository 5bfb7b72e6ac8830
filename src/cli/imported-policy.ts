/**
 * The gateway's view of imported indicators (other providers' STIX bundles, kept by
 * `POST /stix/imports` in the state store): a matcher rebuilt when the stored imports change,
 * and the active policy wrapped so each request's context carries the indicators it matches
 * (`ctx.indicators`, read by the `indicator_match` condition). Without imports the policy is
 * passed through untouched, so the request path pays nothing.
 */
import { createIndicatorMatcher, type CompiledPolicy, type StateStore } from '../core/index.js';
import { sharedIndicatorsOf, STIX_IMPORTS_BLOB, type StixImportRecord } from '../cases/index.js';

export interface ImportedIndicatorPolicy {
  /** The active policy, wrapped with the imported indicators when there are any. */
  policy(): CompiledPolicy;
  /** Re-reads the stored imports now. */
  refresh(): Promise<void>;
  close(): void;
}

export function startImportedIndicatorPolicy(opts: {
  store: Pick<StateStore, 'getBlob'>;
  current: () => CompiledPolicy;
  now?: () => number;
  /** How often the stored imports are re-read (and expiries applied). Default 5 s. */
  everyMs?: number;
  log: { warn(obj: object, msg: string): void };
}): ImportedIndicatorPolicy {
  const now = opts.now ?? Date.now;
  type Matcher = ReturnType<typeof createIndicatorMatcher>;
  let matcher = null as Matcher | null;
  let cache: { inner: CompiledPolicy; m: Matcher; wrapped: CompiledPolicy } | null = null;
  const refresh = async () => {
    try {
      const blob = await opts.store.getBlob(STIX_IMPORTS_BLOB);
      const records = blob ? (JSON.parse(blob.toString('utf8')) as StixImportRecord[]) : [];
      const m = createIndicatorMatcher(records.flatMap((r) => sharedIndicatorsOf(r)), now());
      matcher = m.size > 0 ? m : null;
    } catch (e) {
      opts.log.warn({ err: String(e) }, 'imported indicators unreadable; the policy keeps the previous ones');
    }
  };
  const timer = setInterval(() => void refresh(), opts.everyMs ?? 5000);
  timer.unref();
  void refresh();
  return {
    policy() {
      const inner = opts.current();
      const m = matcher;
      if (!m) return inner;
      if (cache && cache.inner === inner && cache.m === m) return cache.wrapped;
      const wrapped: CompiledPolicy = {
        version: inner.version,
        decide(ctx) {
          const hits = m.hits(ctx.client.ip, ctx.client.asn, ctx.account?.labels);
          if (hits.length) ctx.indicators = hits;
          return inner.decide(ctx);
        },
      };
      cache = { inner, m, wrapped };
      return wrapped;
    },
    refresh,
    close: () => clearInterval(timer),
  };
}

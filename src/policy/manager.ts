/**
 * The policy in force: loaded from a file, kept as numbered versions, reloaded without a
 * restart when the file changes, rolled back on demand. A file that fails validation leaves the
 * previous version active and reports every problem.
 */
import { watch as fsWatch, watchFile, unwatchFile, type FSWatcher, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError, NotFoundError, systemClock, type Clock, type PolicyVersionRecord } from '../core/index.js';
import { compilePolicy, formatPolicyIssues, PolicyError, validatePolicy, type LoadedPolicy, type PolicyIssue } from './compile.js';
import { dryRun, type DryRunOptions, type DryRunReport, type DryRunSample } from './dry-run.js';
import type { PolicyVersionStore } from './memory-store.js';

/** Pino-compatible; a pino logger can be passed as it is. */
export interface PolicyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type PolicyEvent =
  | { type: 'activated'; version: number; source: string; reason: 'start' | 'reload' | 'apply' | 'rollback' | 'follow' }
  | { type: 'rejected'; source: string; issues: PolicyIssue[]; kept_version: number | null }
  | { type: 'read_failed'; source: string; error: Error };

export type ReloadResult =
  | { status: 'activated'; policy: LoadedPolicy }
  | { status: 'unchanged'; policy: LoadedPolicy }
  | { status: 'rejected'; issues: PolicyIssue[]; policy: LoadedPolicy | null };

export interface PolicyManagerOptions {
  /** The policy file. Without it the store's active version is used and only `apply` changes it. */
  file?: string;
  store: PolicyVersionStore;
  /**
   * `auto` (default): fs.watch on the file's folder (editors replace files by rename), falling
   * back to polling if the platform refuses; `poll`: stat polling only; `off`: reload by hand.
   */
  watch?: 'auto' | 'poll' | 'off';
  /** Quiet time after the last file event before reloading; 150 ms unless said. */
  debounceMs?: number;
  /** Stat interval when polling; 1000 ms unless said. */
  pollIntervalMs?: number;
  /**
   * Follow the store's active version, checked this often (ms): a version applied or rolled back
   * by another process sharing the store (the cluster profile's gateways and workers) becomes
   * active here too. Off unless said.
   */
  followStoreEveryMs?: number;
}

export interface PolicyManagerDeps {
  clock?: Clock;
  logger?: PolicyLogger;
  /** Called on every activation and every rejected file. */
  onEvent?: (event: PolicyEvent) => void;
}

export interface PolicyManager {
  /** Loads the file (or the store's active version); throws `POLICY_INVALID` if the file is invalid. */
  start(): Promise<LoadedPolicy>;
  /** The active policy; synchronous, for the hot path. Throws before `start`. */
  current(): LoadedPolicy;
  /** Reads the file again; an invalid file keeps the active version. */
  reload(): Promise<ReloadResult>;
  /** Validates, saves and activates a text (an edit from the console); throws `POLICY_INVALID`. */
  apply(text: string, source: string): Promise<LoadedPolicy>;
  /** Activates a stored version. The file is not rewritten: its next change is loaded as usual. */
  rollback(version: number): Promise<LoadedPolicy>;
  /** Activates the store's active version if another process changed it; true when it did. */
  follow(): Promise<boolean>;
  versions(): Promise<PolicyVersionRecord[]>;
  /** Problems in a text, without saving it. */
  validate(text: string, file?: string): PolicyIssue[];
  /** Compiles a text as a draft (version 0) for a dry run; throws `POLICY_INVALID`. */
  draft(text: string, file?: string): LoadedPolicy;
  /** A dry run of `candidate` (a policy or a text) against the active policy. */
  dryRun(candidate: LoadedPolicy | string, samples: Iterable<DryRunSample>, options?: DryRunOptions): DryRunReport;
  /** Stops watching. */
  close(): Promise<void>;
}

const noopLogger: PolicyLogger = { info() {}, warn() {}, error() {} };

export function createPolicyManager(options: PolicyManagerOptions, deps: PolicyManagerDeps = {}): PolicyManager {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? noopLogger;
  const file = options.file === undefined ? undefined : resolve(options.file);
  const displayName = options.file;
  const store = options.store;
  const debounceMs = options.debounceMs ?? 150;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;

  let active: LoadedPolicy | null = null;
  let lastFileText: string | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  let watcher: FSWatcher | null = null;
  let polling = false;
  const onStat = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size || curr.ino !== prev.ino) schedule();
  };
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const emit = (e: PolicyEvent): void => {
    try {
      deps.onEvent?.(e);
    } catch (err) {
      logger.error({ err }, 'policy event listener threw');
    }
  };
  const nowIso = (): string => new Date(clock.now()).toISOString();
  /** One change at a time: reloads, applies and rollbacks never interleave. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  async function activate(text: string, source: string, reason: 'start' | 'reload' | 'apply', fileName: string): Promise<LoadedPolicy> {
    // Validate before saving so an invalid text never becomes a version.
    const issues = validatePolicy(text, fileName);
    if (issues.length) {
      const kept = active ? `; version ${active.version} stays active` : '';
      throw new PolicyError(`${fileName} has ${issues.length} problem(s)${kept}. Fix and save again:\n${formatPolicyIssues(issues)}`, issues);
    }
    const rec = await store.savePolicyVersion(text, source, nowIso());
    const policy = compilePolicy(text, { version: rec.version, file: fileName });
    await store.setActivePolicyVersion(rec.version);
    active = policy;
    logger.info({ version: rec.version, source, rules: policy.rules.length, limits: policy.limits.length }, `policy version ${rec.version} active`);
    if (policy.warnings.length) logger.warn({ version: rec.version, warnings: policy.warnings }, `policy version ${rec.version}:\n${formatPolicyIssues(policy.warnings)}`);
    emit({ type: 'activated', version: rec.version, source, reason });
    return policy;
  }

  async function readPolicyFile(): Promise<string> {
    if (!file) throw new ConfigError('CONFIG_INVALID', 'no policy file configured; set policy.file in warden.yaml');
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `cannot read policy file ${displayName}: ${(err as Error).message}. Check policy.file in warden.yaml (policies/default.yaml is a starting point)`,
        { cause: err },
      );
    }
  }

  async function doReload(): Promise<ReloadResult> {
    const source = `file:${displayName}`;
    let text: string;
    try {
      text = await readPolicyFile();
    } catch (err) {
      // A file mid-rename or briefly missing: keep what is active, try again on the next event.
      logger.warn({ err, file: displayName }, 'policy file unreadable; active policy kept');
      emit({ type: 'read_failed', source, error: err as Error });
      return { status: 'rejected', issues: [], policy: active };
    }
    if (active && text === lastFileText) return { status: 'unchanged', policy: active };
    try {
      const policy = await activate(text, source, 'reload', displayName!);
      lastFileText = text;
      return { status: 'activated', policy };
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      logger.warn({ file: displayName, issues: err.issues, kept_version: active?.version ?? null }, err.message);
      emit({ type: 'rejected', source, issues: err.issues, kept_version: active?.version ?? null });
      return { status: 'rejected', issues: err.issues, policy: active };
    }
  }

  /** The store's active version, when it is not the one active here (another process changed it). */
  async function doFollow(): Promise<boolean> {
    if (!active) return false;
    const version = await store.activePolicyVersion();
    if (version === null || version === active.version) return false;
    const rec = await store.getPolicyVersion(version);
    if (!rec) return false;
    active = compilePolicy(rec.text, { version: rec.version, file: `version ${rec.version}` });
    logger.info({ version, source: rec.source }, `policy version ${version} active (changed by another process)`);
    emit({ type: 'activated', version, source: rec.source, reason: 'follow' });
    return true;
  }
  let followTimer: NodeJS.Timeout | null = null;
  function startFollowing(): void {
    if (!options.followStoreEveryMs || followTimer || closed) return;
    followTimer = setInterval(() => void serial(doFollow).catch((err) => logger.warn({ err }, 'policy: reading the store\'s active version failed; retrying')), options.followStoreEveryMs);
    followTimer.unref?.();
  }

  function current(): LoadedPolicy {
    if (!active) throw new ConfigError('CONFIG_INVALID', 'the policy manager has not started; call start() first');
    return active;
  }

  function schedule(): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void serial(doReload).catch((err) => logger.error({ err }, 'policy reload failed'));
    }, debounceMs);
    timer.unref?.();
  }

  function startPolling(): void {
    if (!file || polling) return;
    polling = true;
    watchFile(file, { interval: pollIntervalMs, persistent: false }, onStat);
  }

  function startWatching(): void {
    if (!file || options.watch === 'off') return;
    if (options.watch === 'poll') return startPolling();
    const name = basename(file);
    try {
      watcher = fsWatch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) schedule();
      });
      watcher.on('error', (err) => {
        logger.warn({ err }, 'policy file watch failed; polling instead');
        watcher?.close();
        watcher = null;
        startPolling();
      });
    } catch (err) {
      logger.warn({ err }, 'policy file watch unavailable; polling instead');
      startPolling();
    }
  }

  return {
    start: () =>
      serial(async () => {
        if (active) return active;
        if (file) {
          const text = await readPolicyFile();
          const policy = await activate(text, `file:${displayName}`, 'start', displayName!);
          lastFileText = text;
          startWatching();
          startFollowing();
          return policy;
        }
        const versions = await store.listPolicyVersions();
        const rec = versions.find((v) => v.active);
        if (!rec) throw new ConfigError('CONFIG_INVALID', 'no policy file configured and no active policy version stored; set policy.file in warden.yaml');
        active = compilePolicy(rec.text, { version: rec.version, file: `version ${rec.version}` });
        emit({ type: 'activated', version: rec.version, source: rec.source, reason: 'start' });
        startFollowing();
        return active;
      }),

    current,

    reload: () => serial(doReload),

    apply: (text, source) =>
      serial(async () => {
        try {
          return await activate(text, source, 'apply', source);
        } catch (err) {
          if (err instanceof PolicyError) emit({ type: 'rejected', source, issues: err.issues, kept_version: active?.version ?? null });
          throw err;
        }
      }),

    rollback: (version) =>
      serial(async () => {
        const rec = await store.getPolicyVersion(version);
        if (!rec) throw new NotFoundError(`policy version ${version} does not exist; list versions with \`warden policy versions\``);
        const policy = compilePolicy(rec.text, { version: rec.version, file: `version ${rec.version}` });
        await store.setActivePolicyVersion(rec.version);
        active = policy;
        logger.info({ version }, `policy rolled back to version ${version}`);
        emit({ type: 'activated', version, source: rec.source, reason: 'rollback' });
        return policy;
      }),

    follow: () => serial(doFollow),

    versions: () => store.listPolicyVersions(),

    validate: (text, name = 'draft.yaml') => validatePolicy(text, name),

    draft: (text, name = 'draft.yaml') => compilePolicy(text, { version: 0, file: name }),

    dryRun(candidate, samples, dryRunOptions) {
      const cand = typeof candidate === 'string' ? compilePolicy(candidate, { version: 0, file: 'draft.yaml' }) : candidate;
      return dryRun(cand, samples, current(), dryRunOptions);
    },

    async close() {
      closed = true;
      if (followTimer) clearInterval(followTimer);
      followTimer = null;
      if (timer) clearTimeout(timer);
      timer = null;
      watcher?.close();
      watcher = null;
      if (polling && file) unwatchFile(file, onStat);
      polling = false;
      await chain;
    },
  };
}


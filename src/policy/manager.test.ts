import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWardenError } from '../core/index.js';
import { createPolicyManager, type PolicyEvent, type PolicyManager, type PolicyManagerOptions } from './manager.js';
import { createMemoryPolicyStore, type PolicyVersionStore } from './memory-store.js';
import { makeRequestContext as ctx } from './testing.js';

const policyBlocking = (country: string): string => `rules:
  - id: block-${country.toLowerCase()}
    when: { field: client.country, equals: ${country} }
    decide: block
`;
const INVALID = `rules:
  - id: broken
    when: { field: client.country, eq: CN }
    decide: block
`;

let dir: string;
let file: string;
let store: PolicyVersionStore;
let manager: PolicyManager | undefined;
let events: PolicyEvent[];
let waiters: { pred: (e: PolicyEvent) => boolean; resolve: (e: PolicyEvent) => void }[];

/** Resolves with the next event matching `pred` (fails the test after 10 s without one). */
function nextEvent(pred: (e: PolicyEvent) => boolean): Promise<PolicyEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no matching policy event; saw ${JSON.stringify(events.map((e) => e.type))}`)), 10_000);
    waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
  });
}

function open(opts: Partial<PolicyManagerOptions> = {}): PolicyManager {
  manager = createPolicyManager(
    { file, store, debounceMs: 20, pollIntervalMs: 50, ...opts },
    {
      onEvent: (e) => {
        events.push(e);
        for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
      },
    },
  );
  return manager;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-policy-'));
  file = join(dir, 'policy.yaml');
  store = createMemoryPolicyStore();
  events = [];
  waiters = [];
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  await rm(dir, { recursive: true, force: true });
});

const activated = (version: number) => (e: PolicyEvent) => e.type === 'activated' && e.version === version;

describe('PolicyManager', () => {
  it('loads the file at start, saves it as version 1 and makes it active', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off' });
    const p = await m.start();
    expect(p.version).toBe(1);
    expect(m.current().decide(ctx({ client: { country: 'CN' } })).rule).toBe('block-cn@1');
    const versions = await store.listPolicyVersions();
    expect(versions.map((v) => [v.version, v.active, v.source])).toEqual([[1, true, `file:${file}`]]);
  });

  it('reloads without a restart when the file changes', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open();
    await m.start();
    const done = nextEvent(activated(2));
    await writeFile(file, policyBlocking('RU'));
    await done;
    expect(m.current().version).toBe(2);
    expect(m.current().decide(ctx({ client: { country: 'RU' } })).decision).toBe('block');
    expect(m.current().decide(ctx({ client: { country: 'CN' } })).decision).toBe('allow');
  });

  it('reloads a file an editor replaces by rename', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open();
    await m.start();
    const done = nextEvent(activated(2));
    await writeFile(join(dir, '.policy.yaml.swp'), policyBlocking('IR'));
    await rename(join(dir, '.policy.yaml.swp'), file);
    await done;
    expect(m.current().decide(ctx({ client: { country: 'IR' } })).rule).toBe('block-ir@2');
  });

  it('reloads by polling when asked to', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'poll' });
    await m.start();
    const done = nextEvent(activated(2));
    await writeFile(file, `${policyBlocking('KP')}# a longer file so the size changes too\n`);
    await done;
    expect(m.current().decide(ctx({ client: { country: 'KP' } })).decision).toBe('block');
  });

  it('keeps the previous version active when the new file is invalid, and reports why', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open();
    await m.start();
    const rejected = nextEvent((e) => e.type === 'rejected');
    await writeFile(file, INVALID);
    const e = await rejected;
    expect(e.type === 'rejected' && e.kept_version).toBe(1);
    expect(e.type === 'rejected' && e.issues[0]).toMatchObject({ line: 3, rule: 'rule "broken"' });
    expect(m.current().version).toBe(1);
    expect(m.current().decide(ctx({ client: { country: 'CN' } })).decision).toBe('block');
    expect((await store.listPolicyVersions()).map((v) => v.version)).toEqual([1]);
    expect((await m.reload()).status).toBe('rejected');

    // Fixing the file afterwards is picked up as usual.
    const fixed = nextEvent(activated(2));
    await writeFile(file, policyBlocking('SY'));
    await fixed;
    expect(m.current().decide(ctx({ client: { country: 'SY' } })).decision).toBe('block');
  });

  it('keeps the active version when the file is emptied', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off' });
    await m.start();
    await writeFile(file, '');
    const r = await m.reload();
    expect(r.status).toBe('rejected');
    expect(m.current().decide(ctx({ client: { country: 'CN' } })).decision).toBe('block');
  });

  it('does not save an unchanged file again', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off' });
    await m.start();
    const r = await m.reload();
    expect(r.status).toBe('unchanged');
    expect(await store.listPolicyVersions()).toHaveLength(1);
  });

  it('rolls back to an earlier version and keeps it until the file changes', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off' });
    await m.start();
    await writeFile(file, policyBlocking('RU'));
    expect((await m.reload()).status).toBe('activated');
    expect(m.current().version).toBe(2);

    const p = await m.rollback(1);
    expect(p.version).toBe(1);
    expect(m.current().decide(ctx({ client: { country: 'CN' } })).rule).toBe('block-cn@1');
    expect((await store.listPolicyVersions()).find((v) => v.active)?.version).toBe(1);
    expect((await m.reload()).status).toBe('unchanged');
    expect(m.current().version).toBe(1);
    expect(events.some((e) => e.type === 'activated' && e.reason === 'rollback')).toBe(true);
  });

  it('refuses to roll back to a version that does not exist', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off' });
    await m.start();
    await expect(m.rollback(42)).rejects.toSatisfy((e) => isWardenError(e, 'NOT_FOUND'));
    expect(m.current().version).toBe(1);
  });

  it('fails at start when the file is invalid, naming file and line', async () => {
    await writeFile(file, INVALID);
    const m = open({ watch: 'off' });
    await expect(m.start()).rejects.toSatisfy((e) => isWardenError(e, 'POLICY_INVALID') && (e as Error).message.includes(`${file}:3: rule "broken"`));
    expect(() => m.current()).toThrow(/start/);
  });

  it('fails at start when the file is missing, saying what to set', async () => {
    const m = open({ watch: 'off' });
    await expect(m.start()).rejects.toSatisfy((e) => isWardenError(e, 'CONFIG_INVALID') && (e as Error).message.includes('policy.file'));
  });

  it('starts from the store when no file is configured', async () => {
    const rec = await store.savePolicyVersion(policyBlocking('CU'), 'console:alice', new Date().toISOString());
    await store.setActivePolicyVersion(rec.version);
    const m = open({ file: undefined });
    const p = await m.start();
    expect(p.decide(ctx({ client: { country: 'CU' } })).rule).toBe(`block-cu@${rec.version}`);
  });

  it('follows a version another process activates in the shared store, and audits nothing of its own for it', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off', followStoreEveryMs: 50 });
    await m.start();
    expect(await m.follow()).toBe(false);
    // Another gateway (same store) applies a version, then rolls back to the first.
    const other = createPolicyManager({ store });
    await other.start();
    await other.apply(policyBlocking('RU'), 'console:alice');
    const e = await nextEvent((x) => x.type === 'activated' && x.reason === 'follow');
    expect(e).toMatchObject({ version: 2, source: 'console:alice' });
    expect(m.current().decide(ctx({ client: { country: 'RU' } })).rule).toBe('block-ru@2');
    await other.rollback(1);
    await nextEvent((x) => x.type === 'activated' && x.reason === 'follow' && x.version === 1);
    expect(m.current().version).toBe(1);
    await other.close();
  });

  it('does not follow the store unless asked', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off' });
    await m.start();
    const other = createPolicyManager({ store });
    await other.start();
    await other.apply(policyBlocking('RU'), 'console:alice');
    await new Promise((r) => setTimeout(r, 200));
    expect(m.current().version).toBe(1);
    // Asked by hand, it does.
    expect(await m.follow()).toBe(true);
    expect(m.current().version).toBe(2);
    await other.close();
  });

  it('applies a text from the console, and refuses an invalid one without changing the active policy', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off' });
    await m.start();
    const p = await m.apply(policyBlocking('RU'), 'console:alice');
    expect(p.version).toBe(2);
    await expect(m.apply(INVALID, 'console:bob')).rejects.toSatisfy((e) => isWardenError(e, 'POLICY_INVALID'));
    expect(m.current().version).toBe(2);
    expect((await m.versions()).map((v) => v.source)).toEqual([`file:${file}`, 'console:alice']);
  });

  it('dry-runs a draft text against the active policy', async () => {
    await writeFile(file, policyBlocking('CN'));
    const m = open({ watch: 'off' });
    await m.start();
    const report = m.dryRun(policyBlocking('RU'), [ctx({ client: { country: 'CN' } }), ctx({ client: { country: 'RU' } }), ctx()]);
    expect(report.total).toBe(3);
    expect(report.changed_decisions).toBe(2);
    expect(report.baseline.version).toBe(1);
    expect(report.candidate.version).toBe(0);
  });
});

/**
 * Detection workers (`warden worker`) on this machine's PostgreSQL and NATS JetStream: two
 * workers split the usage stream's partitions, and every event is counted exactly once in the
 * committed per-account feature state, republished events included.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/index.js';
import { startDetectionWorker, type DetectionWorker } from '../../src/cli/detection-worker.js';
import { createLogger } from '../../src/cli/log.js';
import { openNatsBus, openPostgresDetectionState, openPostgresStore, type NatsBus, type PostgresStore } from '../../src/store/index.js';
import type { CaseStore, DetectionStateStore } from '../../src/core/index.js';
import { openSqliteCaseStore } from '../../src/store/index.js';
import { campaignEvents, committedTotals, countByAccount, dropCluster, SERVICES, uniqueCluster, usageEvents, waitFor } from './worker-fixtures.js';

const cluster = uniqueCluster('wk', 4);
const log = createLogger('silent');

interface Member {
  worker: DetectionWorker;
  close(): Promise<void>;
}

async function member(name: string, extra: { lead?: boolean; cases?: CaseStore } = {}): Promise<Member> {
  const store = await openPostgresStore({ connectionString: SERVICES.postgresUrl, schema: cluster.schema, maxConnections: 3 });
  const state: DetectionStateStore = await openPostgresDetectionState({ pool: store.pool, schema: cluster.schema });
  const bus = await openNatsBus<UsageEvent>({
    servers: SERVICES.natsServers,
    stream: cluster.stream,
    subjectPrefix: cluster.subject_prefix,
    partitions: cluster.partitions,
    partitionKey: (e) => e.account_id ?? '',
  });
  const worker = await startDetectionWorker({
    id: name,
    bus,
    state,
    store,
    log,
    partitions: 'auto',
    group: 'detect',
    batchSize: 64,
    lingerMs: 20,
    leaseTtlMs: 1500,
    evaluateEveryMs: 3_600_000,
    lead: extra.lead ?? false,
    ...(extra.cases ? { cases: extra.cases } : {}),
    countedRetentionMs: 7 * 86_400_000,
  });
  return {
    worker,
    async close() {
      await worker.close();
      await bus.close();
      await state.close();
      await store.close();
    },
  };
}

describe('detection workers on PostgreSQL and JetStream', () => {
  let pool: pg.Pool;
  let publisher: NatsBus<UsageEvent>;
  let store: PostgresStore;
  const members: Member[] = [];

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: SERVICES.postgresUrl, max: 2 });
    store = await openPostgresStore({ connectionString: SERVICES.postgresUrl, schema: cluster.schema, maxConnections: 2 });
    publisher = await openNatsBus<UsageEvent>({
      servers: SERVICES.natsServers,
      stream: cluster.stream,
      subjectPrefix: cluster.subject_prefix,
      partitions: cluster.partitions,
      partitionKey: (e) => e.account_id ?? '',
    });
  });
  afterAll(async () => {
    for (const m of members) await m.close().catch(() => undefined);
    await publisher?.close();
    await store?.close();
    await pool?.end();
    await dropCluster(cluster);
  });

  it('splits the partitions between two workers and counts every event once, republished ones included', async () => {
    members.push(await member('w-a'));
    members.push(await member('w-b'));
    const [a, b] = members.map((m) => m.worker) as [DetectionWorker, DetectionWorker];
    // Balanced: each live worker ends up with half of the four partitions, none held twice.
    await waitFor('two partitions each', async () => a.owned().length === 2 && b.owned().length === 2, 30_000);
    expect(new Set([...a.owned(), ...b.owned()])).toEqual(new Set([0, 1, 2, 3]));

    const events = usageEvents('t1', 40, 25);
    await Promise.all(events.map((e) => publisher.publish(e, e.event_id)));
    // An outbox replaying after the dedup window publishes an event again under a new message
    // id: a new stream sequence, the same event id. It must not count twice.
    const replayed = events.filter((_, i) => i % 7 === 0);
    await Promise.all(replayed.map((e) => publisher.publish(e, `${e.event_id}:replay`)));

    const expected = countByAccount(events);
    const totals = await waitFor(
      'every published event committed',
      async () => {
        const s = await a.status();
        if (s.partitions.some((p) => p.committed < p.last)) return null;
        return committedTotals(pool, cluster.schema);
      },
      60_000,
    );
    const got = new Map([...totals].filter(([k]) => k.startsWith('t1_')));
    expect(got).toEqual(expected);
    // Both workers did part of the work.
    const committedBy = async (w: DetectionWorker) => Number((await w.registry.getSingleMetricAsString('warden_worker_batches_committed_total')).match(/ (\d+)$/m)?.[1] ?? 0);
    expect(await committedBy(a)).toBeGreaterThan(0);
    expect(await committedBy(b)).toBeGreaterThan(0);
  });

  it('hands a leaving worker’s partitions to the other, which resumes at the committed position', async () => {
    const [a, b] = members.map((m) => m.worker) as [DetectionWorker, DetectionWorker];
    await members[1]!.close();
    members.splice(1, 1);
    await waitFor('all partitions at the remaining worker', async () => a.owned().length === 4, 30_000);
    void b;
    const events = usageEvents('t2', 20, 10);
    await Promise.all(events.map((e) => publisher.publish(e, e.event_id)));
    const totals = await waitFor(
      'every event committed',
      async () => {
        const s = await a.status();
        if (s.partitions.some((p) => p.committed < p.last)) return null;
        return committedTotals(pool, cluster.schema);
      },
      60_000,
    );
    expect(new Map([...totals].filter(([k]) => k.startsWith('t2_')))).toEqual(countByAccount(events));
    // The first test's totals did not move: nothing was counted again after the handover.
    expect(new Map([...totals].filter(([k]) => k.startsWith('t1_')))).toEqual(countByAccount(usageEvents('t1', 40, 25)));
  });

  it('the evaluation leader links a campaign across partitions into risk and a case', async () => {
    const cases = openSqliteCaseStore({ path: ':memory:' });
    const leader = await member('w-lead', { lead: true, cases });
    members.push(leader);
    await waitFor('a leader', async () => leader.worker.isLeader(), 30_000);
    const org = { org_id: `org_camp_${cluster.schema}`, name: 'Harborline Trading Pte Ltd', declared_country: 'SG', verification: 'email', owners: [], created_at: new Date().toISOString() };
    await store.createOrg(org as never);
    const ids = [0, 1, 2, 3].map((i) => `camp_${cluster.schema}_${i}`);
    for (const id of ids) {
      await store.createAccount({ account_id: id, org_id: org.org_id, status: 'active', created_at: new Date(Date.now() - 3_600_000).toISOString(), payment_fingerprint: 'pf_7c1e90aa', device_fingerprint: 'df_a03f11', email_domain: 'mailbox.example' } as never);
    }
    const events = campaignEvents(ids, 60);
    await Promise.all(events.map((e) => publisher.publish(e, e.event_id)));
    await waitFor('the campaign committed', async () => {
      const t = await committedTotals(pool, cluster.schema);
      return ids.every((id) => t.get(id) === 60);
    });
    const r = await leader.worker.evaluate();
    expect(r).not.toBeNull();
    const risks = await Promise.all(ids.map((id) => store.getRisk(id)));
    for (const x of risks) expect(x?.risk ?? 0).toBeGreaterThanOrEqual(0.7);
    // One cluster holds all four accounts, and a case was opened for it.
    expect(new Set(risks.map((x) => x?.cluster_id)).size).toBe(1);
    const open = await cases.listCases({});
    expect(open.some((c) => ids.every((id) => c.accounts.includes(id)))).toBe(true);
    // Erasure reaches the committed features at the next evaluation.
    await store.deleteAccount(ids[0]!);
    await leader.worker.evaluate();
    const after = await committedTotals(pool, cluster.schema);
    expect(after.has(ids[0]!)).toBe(false);
    expect(after.get(ids[1]!)).toBe(60);
    await cases.close();
  });
});

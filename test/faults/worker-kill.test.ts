/**
 * A detection worker killed with SIGKILL in the middle of the stream (a real `warden worker`
 * child process) and restarted: no usage event is lost and none is counted twice, compared
 * per account with what was published.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/index.js';
import { openNatsBus, type NatsBus } from '../../src/store/index.js';
import {
  committedTotals,
  countByAccount,
  dropCluster,
  SERVICES,
  spawnWorker,
  stopChild,
  uniqueCluster,
  usageEvents,
  waitFor,
  writeWorkerConfig,
  type WorkerChild,
} from '../services/worker-fixtures.js';

const cluster = uniqueCluster('wkill', 4);

async function positions(pool: pg.Pool): Promise<Map<number, number>> {
  const r = await pool.query<{ partition: number; seq: string }>(`SELECT partition, seq FROM ${cluster.schema}.detection_positions`).catch(() => ({ rows: [] }));
  return new Map(r.rows.map((x) => [x.partition, Number(x.seq)]));
}

describe('a detection worker killed mid-stream', () => {
  let dir: string;
  let configFile: string;
  let pool: pg.Pool;
  let publisher: NatsBus<UsageEvent>;
  const children: WorkerChild[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'warden-worker-kill-'));
    // Small batches and a short lease so the kill lands between commits and a takeover is quick.
    configFile = writeWorkerConfig(dir, cluster, { batch_size: 16, linger_ms: 5, lease_ttl_ms: 2000, evaluate_every_ms: 60_000, lead: false });
    pool = new pg.Pool({ connectionString: SERVICES.postgresUrl, max: 2 });
    publisher = await openNatsBus<UsageEvent>({
      servers: SERVICES.natsServers,
      stream: cluster.stream,
      subjectPrefix: cluster.subject_prefix,
      partitions: cluster.partitions,
      partitionKey: (e) => e.account_id ?? '',
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of children) await stopChild(c.child, 'SIGKILL');
    await publisher?.close();
    await pool?.end();
    await dropCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('loses no event and counts none twice after SIGKILL and a restart', async () => {
    children.push(await spawnWorker(configFile, 'kill-a'));
    children.push(await spawnWorker(configFile, 'kill-b'));
    const events = usageEvents('k', 60, 40); // 2400 events
    const half = events.length / 2;
    // Publish in a steady stream in the background; kill one worker while it is consuming.
    let published = 0;
    const publishing = (async () => {
      for (let i = 0; i < events.length; i += 40) {
        await Promise.all(events.slice(i, i + 40).map((e) => publisher.publish(e, e.event_id)));
        published = i + 40;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor('a third of the stream committed', async () => {
      const p = await positions(pool);
      return p.size > 0 && published >= half / 2;
    });
    const victim = children[0]!;
    const killedAt = await positions(pool);
    victim.child.kill('SIGKILL');
    await new Promise<void>((r) => (victim.child.exitCode !== null || victim.child.signalCode !== null ? r() : victim.child.once('exit', () => r())));
    expect(victim.child.signalCode).toBe('SIGKILL');
    await publishing;
    // Restarted under the same name: it takes its partitions back (a new epoch fences the dead one).
    children.push(await spawnWorker(configFile, 'kill-a'));

    const totals = await waitFor(
      'every published event committed',
      async () => {
        const res = await fetch(`${children[2]!.metricsUrl}/status`);
        if (!res.ok) return null;
        const s = (await res.json()) as { partitions: { committed: number; last: number }[] };
        if (s.partitions.some((p) => p.committed < p.last)) return null;
        return committedTotals(pool, cluster.schema);
      },
      120_000,
      500,
    );
    expect(totals).toEqual(countByAccount(events));
    // The kill happened mid-stream: something was committed before it and more after it.
    const after = await positions(pool);
    expect([...killedAt.values()].reduce((a, b) => a + b, 0)).toBeLessThan([...after.values()].reduce((a, b) => a + b, 0));
  }, 240_000);
});

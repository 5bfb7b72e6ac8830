import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EnforcementChange, EnforcementState } from '../../core/index.js';
import { isWardenError } from '../../core/index.js';
import { enforcementStateContract } from '../contract/enforcement-state.contract.js';
import { makeAction, waitFor } from '../contract/fixtures.js';
import { openPostgresStore } from './postgres-store.js';
import { openClusterEnforcementState, type ClusterEnforcementStateOptions } from './redis-enforcement-state.js';
import { services, unreachable } from './services.js';

const admin = new pg.Pool({ connectionString: services.postgresUrl, max: 2 });
const schemas: string[] = [];
const newSchema = () => {
  const name = `warden_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  schemas.push(name);
  return name;
};
afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});

const open = (schema: string, o: Partial<ClusterEnforcementStateOptions> = {}) =>
  openClusterEnforcementState({ pg: services.postgresUrl, schema, redisUrl: services.redisUrl, ...o });

enforcementStateContract('PostgreSQL + Redis', async () => {
  const schema = newSchema();
  const state = await open(schema);
  return { state, peer: () => open(schema) };
});

describe('ClusterEnforcementState', () => {
  let opened: EnforcementState[] = [];
  afterEach(async () => {
    for (const s of opened.reverse()) await s.close();
    opened = [];
  });
  const track = async (p: Promise<EnforcementState>) => {
    const s = await p;
    opened.push(s);
    return s;
  };

  it('catches up from the change log after its Redis connection drops, missing nothing', async () => {
    const schema = newSchema();
    const state = await track(open(schema));
    // Only the reconnection's catch-up can deliver: no periodic read, and a slow reconnect.
    const peer = await track(open(schema, { reconcileMs: 600_000, redis: { minReconnectDelayMs: 500 } }));
    const seen: EnforcementChange[] = [];
    peer.watch((c) => seen.push(c));
    const redis = new Redis(services.redisUrl);
    try {
      // This schema's two subscribers; the peer opened last, so its client id is the higher.
      const ids = ((await redis.client('LIST')) as string)
        .split('\n')
        .filter((l) => l.includes(` name=warden-enforcement-${schema}-`))
        .map((l) => Number(/(?:^| )id=(\d+)/.exec(l)![1]));
      expect(ids.length).toBe(2);
      const before = (await redis.pubsub('NUMSUB', `warden:enforcement:${schema}`)) as [string, number];
      expect(before[1]).toBe(2);
      await redis.client('KILL', 'ID', String(Math.max(...ids)));
      const during = (await redis.pubsub('NUMSUB', `warden:enforcement:${schema}`)) as [string, number];
      expect(during[1]).toBe(1);
      const a = makeAction();
      await state.apply({ type: 'put', action: a });
      await waitFor(() => seen.length === 1, 'the change after the reconnection', 5000);
      expect(seen).toEqual([{ type: 'put', action: a }]);
      // And live delivery resumes on the new subscription.
      const b = makeAction();
      await state.apply({ type: 'put', action: b });
      await waitFor(() => seen.length === 2, 'a live change after the reconnection', 3000);
      expect(seen[1]).toEqual({ type: 'put', action: b });
    } finally {
      redis.disconnect();
    }
  });

  it('shares the actions table with the PostgreSQL state store', async () => {
    const schema = newSchema();
    const state = await track(open(schema));
    const store = await openPostgresStore({ connectionString: services.postgresUrl, schema, maxConnections: 2 });
    try {
      const a = makeAction();
      await state.apply({ type: 'put', action: a });
      expect(await store.getAction(a.action_id)).toEqual(a);
      const b = makeAction({ created_at: '2026-03-02T00:00:00.000Z' });
      await store.putAction(b);
      expect((await state.active('2026-03-10T00:00:00.000Z')).map((x) => x.action_id)).toEqual([a.action_id, b.action_id]);
    } finally {
      await store.close();
    }
  });

  it('fails with the URL it tried when Redis is unreachable', async () => {
    const err = await open(newSchema(), { redisUrl: unreachable.redisUrl, redis: { connectTimeoutMs: 1000 } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('redis://127.0.0.1:1');
  });

  it('fails with the URL it tried when PostgreSQL is unreachable', async () => {
    const err = await openClusterEnforcementState({ pg: unreachable.postgresUrl, redisUrl: services.redisUrl }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1');
  });
});

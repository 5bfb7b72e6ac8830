import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../../core/index.js';
import { countersContract } from '../contract/counters.contract.js';
import { uid } from '../contract/fixtures.js';
import { openRedisCounters } from './redis-counters.js';
import { services, unreachable } from './services.js';

const prefix = `warden:test:${randomUUID().slice(0, 8)}`;
afterAll(async () => {
  const r = new Redis(services.redisUrl);
  const keys = await r.keys(`${prefix}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
});

countersContract(
  'Redis',
  async () => {
    const counters = await openRedisCounters({ url: services.redisUrl, prefix });
    return {
      counters,
      restart: async () => {
        await counters.close();
        return openRedisCounters({ url: services.redisUrl, prefix });
      },
    };
  },
  { durable: true },
);

describe('RedisCounters', () => {
  it('is exact when two processes take from one limit at once', async () => {
    const run = promisify(execFile);
    const worker = fileURLToPath(new URL('./__fixtures__/take-worker.ts', import.meta.url));
    const key = uid('shared');
    const start = () => run(process.execPath, ['--import', 'tsx', worker, services.redisUrl, prefix, key, '300', '400']);
    const [a, b] = await Promise.all([start(), start()]);
    const granted = [a, b].map((r) => (JSON.parse(r.stdout) as { granted: number }).granted);
    expect(granted[0]! + granted[1]!).toBe(400);
    expect(Math.min(...granted)).toBeGreaterThan(0);
    const counters = await openRedisCounters({ url: services.redisUrl, prefix });
    expect(await counters.peek(key, { id: 'shared', endsAt: Date.now() + 600_000 })).toBe(400);
    await counters.close();
  });

  it('lets a counter expire after its period ends plus the grace', async () => {
    const counters = await openRedisCounters({ url: services.redisUrl, prefix, graceMs: 100 });
    const r = new Redis(services.redisUrl);
    try {
      const key = uid('k');
      const period = { id: 'p', endsAt: Date.now() + 200 };
      await counters.take(key, period, 1, 10);
      const ttl = await r.pttl(`${prefix}:{${key}}:p`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
    } finally {
      r.disconnect();
      await counters.close();
    }
  });

  it('fails with the URL it tried when Redis is unreachable', async () => {
    const err = await openRedisCounters({ url: unreachable.redisUrl, connectTimeoutMs: 1000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('redis://127.0.0.1:1');
  });
});

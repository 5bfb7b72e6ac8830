/**
 * Two gateway processes' worth of Warden (the cluster profile) on this machine's PostgreSQL,
 * Redis and NATS JetStream: they share one rate limit exactly, an action taken at one reaches
 * the other within a second, and both gateways' usage events reach PostgreSQL.
 */
import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropCluster, ownCluster, startHarness, waitForEvents, type Harness } from '../e2e/harness.js';

const POLICY = `
format: 1
name: cluster-test
rules:
  - id: enforcement-block
    when: { field: enforcement.decision, equals: block }
    decide: block
    message: This account is suspended. Contact support to appeal.
limits:
  - id: key-shared
    scope: key
    requests_per_minute: 20
`;

const cluster = ownCluster('gw');

describe('cluster profile: two gateways on PostgreSQL, Redis and NATS', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    a = await startHarness({ policy: POLICY, cluster });
    b = await startHarness({ policy: POLICY, cluster });
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dropCluster(cluster);
  });

  const ask = (h: Harness, key: string) =>
    new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });

  it('shares one rate limit exactly between the two gateways', async () => {
    const c = await a.customer();
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => ask(i % 2 ? a : b, c.key)));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const limited = results.filter((r) => r.status === 'rejected' && r.reason instanceof Anthropic.RateLimitError).length;
    expect(ok).toBe(20);
    expect(limited).toBe(20);
  });

  it('refuses a blocked key at the other gateway within a second', async () => {
    const c = await a.customer();
    await ask(b, c.key);
    const t0 = Date.now();
    await a.admin.call('POST', '/actions', { subject: { kind: 'key', id: c.keyId }, decision: 'block', reason: 'cluster test' });
    let refusedAt = 0;
    while (Date.now() - t0 < 5000) {
      const err = await ask(b, c.key).then(
        () => null,
        (e: unknown) => e,
      );
      if (err instanceof Anthropic.PermissionDeniedError) {
        refusedAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(refusedAt).toBeGreaterThan(0);
    // The promise is one second; the margin is for a loaded CI machine (figures: docs/benchmarks.md).
    expect(refusedAt - t0).toBeLessThan(2500);
  });

  it('puts a policy applied (and rolled back) at one gateway in force at the other within a second', async () => {
    const c = await a.customer();
    await ask(b, c.key);
    const before = (await b.admin.call<{ version: number }>('GET', '/policy')).version;
    const text = POLICY.replace('limits:', `  - id: no-sonnet-here
    when: { field: model, glob: "claude-sonnet-*" }
    decide: block
    message: Not on this deployment.
limits:`);
    /** Milliseconds from `t0` until `h`'s active policy version is `v` (Infinity after 5 s). */
    const activeAfter = async (h: Harness, v: number, t0: number) => {
      while (Date.now() - t0 < 5000) {
        if ((await h.admin.call<{ version: number }>('GET', '/policy')).version === v) return Date.now() - t0;
        await new Promise((r) => setTimeout(r, 20));
      }
      return Infinity;
    };
    const t0 = Date.now();
    const { version } = await a.admin.call<{ version: number }>('POST', '/policy', { text, reason: 'cluster test' });
    expect(version).toBeGreaterThan(before);
    // follow_every_ms is 1 s; the margin is for a loaded CI machine.
    expect(await activeAfter(b, version, t0)).toBeLessThan(2500);
    await expect(ask(b, c.key)).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);
    // Rolled back at B: in force at A, which serves the key again.
    const t1 = Date.now();
    await b.admin.call('POST', '/policy/rollback', { version: before });
    expect(await activeAfter(a, before, t1)).toBeLessThan(2500);
    await expect(ask(a, c.key)).resolves.toMatchObject({ type: 'message' });
  });

  it("stores both gateways' usage events in PostgreSQL through JetStream", async () => {
    const c = await a.customer();
    await ask(a, c.key);
    await ask(b, c.key);
    const events = await waitForEvents<{ event_id: string }>(a, `account_id=${c.accountId}`, 2, 20_000);
    expect(events.length).toBe(2);
    const viaB = await waitForEvents<{ event_id: string }>(b, `account_id=${c.accountId}`, 2, 20_000);
    expect(new Set(viaB.map((e) => e.event_id))).toEqual(new Set(events.map((e) => e.event_id)));
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { busContract, type TestMessage } from '../contract/bus.contract.js';
import { sleep, uid, waitFor } from '../contract/fixtures.js';
import { openSqliteBus, type SqliteBus, type SqliteBusOptions } from './bus.js';
import { openDatabase } from './sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-bus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fast = { errorDelayMs: 20, pollMs: 50 } satisfies Partial<SqliteBusOptions>;

busContract(
  'SQLite file',
  async () => {
    const path = join(dir, `${uid('bus')}.db`);
    const bus = openSqliteBus<TestMessage>({ path, topic: 'usage', ...fast });
    return {
      bus,
      reopen: async () => {
        await bus.close();
        return openSqliteBus<TestMessage>({ path, topic: 'usage', ...fast });
      },
      parked: (b, group) => (b as SqliteBus<TestMessage>).parked(group),
    };
  },
  { inspectParked: true },
);

describe('SqliteBus', () => {
  let opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const x of opened.reverse()) await x.close();
    opened = [];
  });
  const bus = (o: Partial<SqliteBusOptions> & { path: string }) => {
    const b = openSqliteBus<TestMessage>({ topic: 'usage', ...fast, ...o });
    opened.push(b);
    return b;
  };

  it('keeps topics apart in one file', async () => {
    const path = join(dir, `${uid('bus')}.db`);
    const a = bus({ path, topic: 'a' });
    const b = bus({ path, topic: 'b' });
    const id = uid('m');
    await a.publish({ n: 1, text: 'a' }, id);
    await b.publish({ n: 2, text: 'b' }, id);
    const got: number[] = [];
    opened.push(
      b.consume('g', async (d) => {
        got.push(d.data.n);
        await d.ack();
      }),
    );
    await waitFor(() => got.length === 1, 'the b message');
    await sleep(50);
    expect(got).toEqual([2]);
  });

  it('wakes a consumer in another bus instance of the same process on publish', async () => {
    const path = join(dir, `${uid('bus')}.db`);
    const pub = bus({ path, pollMs: 60_000 });
    const sub = bus({ path, pollMs: 60_000 });
    const got: number[] = [];
    sub.consume('g', async (d) => {
      got.push(d.data.n);
      await d.ack();
    });
    await sleep(20);
    await pub.publish({ n: 1, text: 'x' }, uid('m'));
    await waitFor(() => got.length === 1, 'a delivery without polling');
  });

  it('delivers a publish at once to its own consumers, without waiting for a poll', async () => {
    const b = bus({ path: ':memory:', pollMs: 60_000 });
    const got: number[] = [];
    b.consume('g', async (d) => {
      got.push(d.data.n);
      await d.ack();
    });
    await sleep(20);
    await b.publish({ n: 1, text: 'x' }, uid('m'));
    await waitFor(() => got.length === 1, 'a delivery without polling', 2000);
  });

  it('parks a message after maxAttempts with the last error as its reason', async () => {
    const b = bus({ path: ':memory:', maxAttempts: 3 });
    const attempts: number[] = [];
    b.consume('g', async (d) => {
      attempts.push(d.attempt);
      throw new Error(`boom ${d.attempt}`);
    });
    await b.publish({ n: 1, text: 'x' }, 'poison');
    await waitFor(async () => (await b.parked('g')).length === 1, 'the message to be parked');
    expect(attempts).toEqual([1, 2, 3]);
    const [p] = await b.parked('g');
    expect(p).toMatchObject({ id: 'poison', attempt: 3, data: { n: 1, text: 'x' } });
    expect(p?.reason).toMatch(/gave up after 3 attempts: boom 3/);
  });

  it('redelivers a delivery whose lease (ackWaitMs) ran out', async () => {
    const b = bus({ path: ':memory:', ackWaitMs: 100 });
    const seen: number[] = [];
    b.consume('g', async (d) => {
      seen.push(d.attempt);
      if (d.attempt === 2) await d.ack();
    });
    await b.publish({ n: 1, text: 'x' }, uid('m'));
    await waitFor(() => seen.length === 2, 'a redelivery after the lease');
    expect(seen).toEqual([1, 2]);
  });

  it('compacts: drops payloads every group acked, keeps unacked and parked ones, still de-duplicates', async () => {
    const db = openDatabase({ path: ':memory:' });
    const b = bus({ path: ':memory:', db, compactEveryMs: 0 });
    const ids = [uid('m'), uid('m'), uid('m'), uid('m')];
    for (const [i, id] of ids.entries()) await b.publish({ n: i, text: 'x' }, id);
    const fastGroup: number[] = [];
    b.consume('fast', async (d) => {
      fastGroup.push(d.data.n);
      if (d.data.n === 3) await d.term('poison');
      else await d.ack();
    });
    const slow: number[] = [];
    b.consume('slow', async (d) => {
      slow.push(d.data.n);
      if (d.data.n < 2) await d.ack();
    });
    await waitFor(() => fastGroup.length === 4 && slow.length === 3, 'both groups');
    await sleep(20);
    // slow acked 0 and 1, holds 2 and has not read 3: only 0 and 1 are done everywhere.
    expect(await b.compact()).toBe(2);
    const payloads = db.prepare('SELECT msg_id, data IS NOT NULL AS has FROM bus_messages ORDER BY seq').all();
    expect(payloads).toEqual(ids.map((id, i) => ({ msg_id: id, has: i < 2 ? 0 : 1 })));
    await b.publish({ n: 100, text: 'dup' }, ids[0]!);
    expect((db.prepare('SELECT count(*) AS n FROM bus_messages').get() as { n: number }).n).toBe(4);
    await b.deleteGroup('slow');
    expect(await b.compact()).toBe(1);
    expect((await b.parked('fast')).map((p) => p.data.n)).toEqual([3]);
  });

  it('deletes compacted rows once the de-duplication window has passed', async () => {
    const clock = { t: 1_000_000, now: () => clock.t };
    const db = openDatabase({ path: ':memory:' });
    const b = bus({ path: ':memory:', db, compactEveryMs: 0, dedupWindowMs: 1000, clock });
    const got: number[] = [];
    b.consume('g', async (d) => {
      got.push(d.data.n);
      await d.ack();
    });
    await b.publish({ n: 1, text: 'x' }, 'id-1');
    await waitFor(() => got.length === 1, 'the delivery');
    await sleep(20);
    await b.compact();
    expect((db.prepare('SELECT count(*) AS n FROM bus_messages').get() as { n: number }).n).toBe(1);
    clock.t += 2000;
    await b.compact();
    expect((db.prepare('SELECT count(*) AS n FROM bus_messages').get() as { n: number }).n).toBe(0);
  });

  it('refuses an empty topic, message id or batch with a message that names it', async () => {
    expect(() => openSqliteBus({ path: ':memory:', topic: '' })).toThrow(/bus.topic/);
    const b = bus({ path: ':memory:' });
    await expect(b.publish({ n: 1, text: '' }, '')).rejects.toThrow(/message id/);
    expect(() => b.consume('g', async () => {}, { batch: 0 })).toThrow(/batch/);
  });
});

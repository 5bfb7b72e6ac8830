import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isWardenError } from '../../core/index.js';
import { busContract, type TestMessage } from '../contract/bus.contract.js';
import { sleep, uid, waitFor } from '../contract/fixtures.js';
import { openNatsBus, partitionOf, type NatsBus, type NatsBusOptions, type NatsDelivery } from './nats-bus.js';
import { services, unreachable } from './services.js';

// Short timings: the suite waits for redeliveries after nak, a thrown handler and a lease.
const fast = { ackWaitMs: 2000, errorDelayMs: 20 } satisfies Partial<NatsBusOptions<TestMessage>>;
const streams = new Set<string>();
const fresh = () => {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  streams.add(`warden_test_${id}`);
  return { stream: `warden_test_${id}`, subjectPrefix: `warden_test.${id}` };
};
afterAll(async () => {
  const nc = await connect({ servers: services.natsServers });
  const jsm = await jetstreamManager(nc);
  for (const s of streams) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});

busContract(
  'NATS JetStream',
  async () => {
    const names = fresh();
    const bus = await openNatsBus<TestMessage>({ servers: services.natsServers, ...names, ...fast });
    return {
      bus,
      reopen: async () => {
        await bus.close();
        return openNatsBus<TestMessage>({ servers: services.natsServers, ...names, ...fast });
      },
      parked: (b, group) => (b as NatsBus<TestMessage>).parked(group),
    };
  },
  { inspectParked: true },
);

describe('NatsBus', () => {
  let opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const x of opened.reverse()) await x.close();
    opened = [];
  });
  const open = async (o: Partial<NatsBusOptions<TestMessage>> = {}) => {
    const b = await openNatsBus<TestMessage>({ servers: services.natsServers, ...fresh(), ...fast, ...o });
    opened.push(b);
    return b;
  };

  it('creates a stream per topic with the retention limits and de-duplication window asked for', async () => {
    const bus = await open({ maxAgeMs: 3_600_000, maxBytes: 10_000_000, dedupWindowMs: 60_000 });
    const nc = await connect({ servers: services.natsServers });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(bus.stream);
      expect(info.config).toMatchObject({
        max_age: 3_600_000 * 1e6,
        max_bytes: 10_000_000,
        duplicate_window: 60_000 * 1e6,
        retention: 'limits',
        storage: 'file',
      });
    } finally {
      await nc.close();
    }
  });

  it('spreads messages over partitions by key and gives each partition its own durable consumer', async () => {
    const names = fresh();
    const bus = await open({ ...names, partitions: 4, partitionKey: (m) => `acct-${m.n % 8}` });
    const got: { n: number }[] = [];
    for (let i = 0; i < 32; i++) await bus.publish({ n: i, text: 'x' }, uid('m'));
    const group = uid('g');
    opened.push(
      bus.consume(group, async (d) => {
        got.push(d.data);
        await d.ack();
      }),
    );
    await waitFor(() => got.length === 32, 'all 32 messages from 4 partitions');
    // Messages with one key keep their order (they share a partition).
    for (let k = 0; k < 8; k++) {
      const ofKey = got.filter((m) => m.n % 8 === k).map((m) => m.n);
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }
    const nc = await connect({ servers: services.natsServers });
    try {
      const jsm = await jetstreamManager(nc);
      const names4 = (await jsm.consumers.list(bus.stream).next()).map((c) => [c.name, c.config.filter_subject]).sort();
      expect(names4).toEqual([0, 1, 2, 3].map((p) => [`${group}_p${p}`, `${names.subjectPrefix}.${p}`]));
      const used = new Set(Array.from({ length: 8 }, (_, k) => partitionOf(`acct-${k}`, 4)));
      for (let p = 0; p < 4; p++) {
        const info = await jsm.consumers.info(bus.stream, `${group}_p${p}`);
        expect(info.delivered.stream_seq > 0).toBe(used.has(p));
      }
    } finally {
      await nc.close();
    }
  });

  it('lets a worker consume only its own partition', async () => {
    const bus = await open({ partitions: 2, partitionKey: (m) => String(m.n) });
    const group = uid('g');
    const got: number[] = [];
    opened.push(
      bus.consumePartition(group, 1, async (d) => {
        got.push(d.data.n);
        await d.ack();
      }),
    );
    const ns = Array.from({ length: 10 }, (_, i) => i);
    for (const n of ns) await bus.publish({ n, text: 'x' }, uid('m'));
    const mine = ns.filter((n) => partitionOf(String(n), 2) === 1);
    await waitFor(() => got.length === mine.length, 'partition 1’s messages');
    await sleep(100);
    expect(got).toEqual(mine);
  });

  it('parks a message after maxAttempts failures, with the last error as its reason', async () => {
    const bus = await open({ maxAttempts: 2 });
    const group = uid('g');
    const attempts: number[] = [];
    opened.push(
      bus.consume(group, async (d) => {
        attempts.push(d.attempt);
        throw new Error('downstream refused');
      }),
    );
    const id = uid('m');
    await bus.publish({ n: 1, text: 'x' }, id);
    await waitFor(async () => (await bus.parked(group)).length === 1, 'the message to be parked');
    expect(attempts).toEqual([1, 2]);
    expect(await bus.parked(group)).toEqual([
      expect.objectContaining({ id, reason: 'handler failed 2 times: downstream refused', data: { n: 1, text: 'x' } }),
    ]);
  });

  it('restarts a partition’s consumer after a given stream sequence, dropping what the old one held', async () => {
    const bus = await open({ partitions: 2, partitionKey: (m) => String(m.n) });
    const group = uid('g');
    const ns = Array.from({ length: 12 }, (_, i) => i).filter((n) => partitionOf(String(n), 2) === 0);
    for (const n of ns) await bus.publish({ n, text: 'x' }, uid('m'));
    expect(await bus.groupPending(group)).toBeNull();
    // A first consumer takes every message and settles none (a worker that died before its commit).
    const held: { n: number; seq: number }[] = [];
    const first = bus.consumePartition(group, 0, async (d) => void held.push({ n: d.data.n, seq: d.seq }), { batch: 100 });
    await waitFor(() => held.length === ns.length, 'the first deliveries');
    await first.close();
    expect(held.map((h) => h.n)).toEqual(ns);
    expect(await bus.lastSeq(0)).toBe(held[held.length - 1]!.seq);
    expect(await bus.groupPending(group)).toBe(ns.length);
    // Resume after the third message's sequence: the rest arrive at once, in order, no redelivery wait.
    const after = held[2]!.seq;
    const got: number[] = [];
    opened.push(
      bus.consumePartition(
        group,
        0,
        async (d) => {
          got.push(d.data.n);
          await d.ack();
        },
        { batch: 100, startAfterSeq: after },
      ),
    );
    await waitFor(() => got.length === ns.length - 3, 'the deliveries after the position');
    expect(got).toEqual(ns.slice(3));
    await waitFor(async () => (await bus.groupPending(group)) === 0, 'nothing pending');
  });

  it('acks a batch with one confirmed round trip: every delivery of it is recorded when it resolves, no other', async () => {
    const bus = await open({ partitions: 2, partitionKey: (m) => String(m.n) });
    const group = uid('g');
    const n = 600;
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, (_, k) => bus.publish({ n: i + k, text: 'x' }, uid('m'))));
    const held: NatsDelivery<TestMessage>[] = [];
    // Both partitions' consumers: the batch's acks go to two consumers, confirmed per consumer.
    opened.push(bus.consume(group, async (d) => void held.push(d as NatsDelivery<TestMessage>), { batch: n }));
    await waitFor(() => held.length === n, 'every delivery held unsettled');
    expect(await bus.groupPending(group)).toBe(n);
    // All but the 50 highest sequences of partition 0's subject, in the order received.
    const p0 = held.filter((d) => partitionOf(String(d.data.n), 2) === 0).sort((a, b) => a.seq - b.seq);
    const keep = new Set(p0.slice(-50));
    const batch = held.filter((d) => !keep.has(d));
    // Read right after it resolves, on another connection (not queued behind the acks on the
    // bus's own): the unconfirmed acks were handled before the confirmed one was answered.
    const nc = await connect({ servers: services.natsServers });
    opened.push({ close: () => nc.close() });
    const jsm = await jetstreamManager(nc);
    const ackPending = async () => {
      let t = 0;
      for (const p of [0, 1]) t += (await jsm.consumers.info(bus.stream, `${group}_p${p}`)).num_ack_pending;
      return t;
    };
    await bus.ackBatch(batch);
    expect(await ackPending()).toBe(50);
    expect(await bus.groupPending(group)).toBe(50);
    // Settled once: acking the same deliveries again sends nothing, and a nak of one is ignored.
    await bus.ackBatch(batch);
    await batch[0]!.nak();
    expect(await bus.groupPending(group)).toBe(50);
    // The 50 left out are still the consumer's to settle (explicit acks: nothing acked them).
    await sleep(200);
    expect(await bus.groupPending(group)).toBe(50);
    await bus.ackBatch([...keep]);
    expect(await bus.groupPending(group)).toBe(0);
    await expect(bus.ackBatch([{ ...held[0]! }])).rejects.toThrow(/not handed out by this bus/);
  });

  it('fails with the address it tried when NATS is unreachable', async () => {
    const err = await openNatsBus({ servers: unreachable.natsServers, stream: 'x', subjectPrefix: 'x', connectTimeoutMs: 1000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1');
  });
});

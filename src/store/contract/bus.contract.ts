/**
 * The `EventBus` contract. The factory returns a fresh bus on its own topic (or stream) and a
 * way to reopen the same durable bus, as a restarted process would. Implementations should
 * configure short redelivery timings for the test (an `errorDelayMs`/ack wait of well under a
 * second), since the suite waits for redeliveries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer, Delivery, EventBus } from '../../core/index.js';
import { sleep, uid, waitFor } from './fixtures.js';

export interface TestMessage {
  n: number;
  text: string;
}

export interface BusFixture {
  bus: EventBus<TestMessage>;
  /** Closes `bus` (as a stopping process would) and opens the same durable bus again. */
  reopen(): Promise<EventBus<TestMessage>>;
  /** With `caps.inspectParked`: the messages `group` parked, with their reasons. */
  parked?(bus: EventBus<TestMessage>, group: string): Promise<{ id: string; reason: string }[]>;
}

export interface BusCapabilities {
  /** The implementation can list parked messages with their reasons (`fixture.parked`). */
  inspectParked: boolean;
}

const msg = (n: number): TestMessage => ({ n, text: `message ${n} ✓` });

/** Collects deliveries; `auto` decides what each one gets (nothing: held unsettled). */
function collector(auto?: (d: Delivery<TestMessage>, all: Delivery<TestMessage>[]) => Promise<void> | void) {
  const got: Delivery<TestMessage>[] = [];
  return {
    got,
    handle: async (d: Delivery<TestMessage>) => {
      got.push(d);
      if (auto) await auto(d, got);
    },
    ns: () => got.map((d) => d.data.n),
  };
}

export function busContract(name: string, open: () => Promise<BusFixture>, caps: BusCapabilities): void {
  describe(`EventBus contract: ${name}`, () => {
    let toClose: { close(): Promise<void> }[] = [];
    const track = <X extends { close(): Promise<void> }>(x: X): X => {
      toClose.push(x);
      return x;
    };
    const fresh = async () => {
      const f = await open();
      track(f.bus);
      return f;
    };
    afterEach(async () => {
      const list = toClose.reverse();
      toClose = [];
      for (const x of list) await x.close();
    });

    it('delivers each message once, in publish order, with its id, data and attempt 1', async () => {
      const { bus } = await fresh();
      const c = collector((d) => d.ack());
      const ids = Array.from({ length: 20 }, () => uid('m'));
      for (const [i, id] of ids.entries()) await bus.publish(msg(i), id);
      const consumer = track(bus.consume(uid('g'), c.handle));
      await waitFor(() => c.got.length >= 20, '20 deliveries');
      expect(c.ns()).toEqual(ids.map((_, i) => i));
      expect(c.got.map((d) => d.id)).toEqual(ids);
      expect(c.got.every((d) => d.attempt === 1)).toBe(true);
      expect(c.got[3]?.data).toEqual(msg(3));
      await waitFor(async () => (await consumer.pending()) === 0, 'pending to reach 0');
    });

    it('delivers messages published while consuming', async () => {
      const { bus } = await fresh();
      const c = collector((d) => d.ack());
      track(bus.consume(uid('g'), c.handle));
      for (let i = 0; i < 5; i++) await bus.publish(msg(i), uid('m'));
      await waitFor(() => c.got.length >= 5, '5 deliveries');
      expect(c.ns()).toEqual([0, 1, 2, 3, 4]);
    });

    it('treats a repeated id as a no-op', async () => {
      const { bus } = await fresh();
      const id = uid('m');
      await bus.publish(msg(1), id);
      await bus.publish(msg(2), id);
      await Promise.all([bus.publish(msg(3), id), bus.publish(msg(4), id)]);
      await bus.publish(msg(5), uid('m'));
      const c = collector((d) => d.ack());
      track(bus.consume(uid('g'), c.handle));
      await waitFor(() => c.ns().includes(5), 'the sentinel message');
      expect(c.ns()).toEqual([1, 5]);
    });

    it('never redelivers an acked message to the group', async () => {
      const { bus } = await fresh();
      const c = collector((d) => d.ack());
      const consumer = track(bus.consume(uid('g'), c.handle));
      await bus.publish(msg(1), uid('m'));
      await waitFor(() => c.got.length === 1, 'the first delivery');
      await sleep(50);
      await bus.publish(msg(2), uid('m'));
      await waitFor(() => c.ns().includes(2), 'the sentinel message');
      expect(c.ns()).toEqual([1, 2]);
      await waitFor(async () => (await consumer.pending()) === 0, 'pending to reach 0');
    });

    it('redelivers after nak with the attempt counted up, and not before the delay', async () => {
      const { bus } = await fresh();
      const times: number[] = [];
      const c = collector(async (d) => {
        times.push(Date.now());
        if (d.attempt === 1) await d.nak(0);
        else if (d.attempt === 2) await d.nak(250);
        else await d.ack();
      });
      const consumer = track(bus.consume(uid('g'), c.handle));
      const id = uid('m');
      await bus.publish(msg(7), id);
      await waitFor(() => c.got.length >= 3, 'three attempts');
      expect(c.got.map((d) => d.attempt)).toEqual([1, 2, 3]);
      expect(c.got.every((d) => d.id === id && d.data.n === 7)).toBe(true);
      // Timer granularity allows a little slack, but not a redelivery ahead of the delay.
      expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(200);
      await waitFor(async () => (await consumer.pending()) === 0, 'pending to reach 0');
    });

    it('redelivers a message whose handler threw', async () => {
      const { bus } = await fresh();
      const c = collector(async (d) => {
        if (d.attempt === 1) throw new Error('store unavailable');
        await d.ack();
      });
      track(bus.consume(uid('g'), c.handle));
      await bus.publish(msg(1), uid('m'));
      await waitFor(() => c.got.length >= 2, 'a redelivery after the handler threw');
      expect(c.got.map((d) => [d.data.n, d.attempt])).toEqual([
        [1, 1],
        [1, 2],
      ]);
    });

    it('parks a termed message: not redelivered, not pending', async () => {
      const { bus } = await fresh();
      const group = uid('g');
      const c = collector(async (d) => {
        if (d.data.n === 1) await d.term('schema mismatch: field n');
        else await d.ack();
      });
      const consumer = track(bus.consume(group, c.handle));
      await bus.publish(msg(1), uid('m'));
      await waitFor(() => c.got.length === 1, 'the poison message');
      await sleep(50);
      await bus.publish(msg(2), uid('m'));
      await waitFor(() => c.ns().includes(2), 'the sentinel message');
      expect(c.ns()).toEqual([1, 2]);
      await waitFor(async () => (await consumer.pending()) === 0, 'pending to reach 0');
    });

    if (caps.inspectParked) {
      it('keeps a parked message with its reason', async () => {
        const fx = await fresh();
        const group = uid('g');
        const poison = uid('m');
        const c = collector((d) => d.term(`bad payload ${d.data.n}`));
        track(fx.bus.consume(group, c.handle));
        await fx.bus.publish(msg(9), poison);
        await waitFor(() => c.got.length === 1, 'the poison message');
        await waitFor(async () => (await fx.parked!(fx.bus, group)).length === 1, 'the message to be parked');
        expect(await fx.parked!(fx.bus, group)).toEqual([expect.objectContaining({ id: poison, reason: 'bad payload 9' })]);
      });
    }

    it('gives every group every message', async () => {
      const { bus } = await fresh();
      const a = collector((d) => d.ack());
      const b = collector((d) => d.ack());
      track(bus.consume(uid('ga'), a.handle));
      track(bus.consume(uid('gb'), b.handle));
      for (let i = 0; i < 10; i++) await bus.publish(msg(i), uid('m'));
      await waitFor(() => a.got.length >= 10 && b.got.length >= 10, 'both groups to get 10');
      expect(a.ns()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(b.ns()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('shares a group’s messages between its consumers, each message to one of them', async () => {
      const { bus } = await fresh();
      const group = uid('g');
      const slowAck = async (d: Delivery<TestMessage>) => {
        await sleep(2);
        await d.ack();
      };
      const a = collector(slowAck);
      const b = collector(slowAck);
      track(bus.consume(group, a.handle, { batch: 2 }));
      track(bus.consume(group, b.handle, { batch: 2 }));
      for (let i = 0; i < 40; i++) await bus.publish(msg(i), uid('m'));
      await waitFor(() => a.got.length + b.got.length >= 40, 'all 40 messages between the two consumers');
      await sleep(50);
      const all = [...a.ns(), ...b.ns()].sort((x, y) => x - y);
      expect(all).toEqual(Array.from({ length: 40 }, (_, i) => i));
    });

    it('lets a group that starts late read messages published before it existed', async () => {
      const { bus } = await fresh();
      for (let i = 0; i < 3; i++) await bus.publish(msg(i), uid('m'));
      const c = collector((d) => d.ack());
      track(bus.consume(uid('late'), c.handle));
      await waitFor(() => c.got.length >= 3, 'the earlier messages');
      expect(c.ns()).toEqual([0, 1, 2]);
    });

    it('counts pending as published and not yet acked (naked included, termed not)', async () => {
      const { bus } = await fresh();
      const c = collector();
      const consumer = track(bus.consume(uid('g'), c.handle, { batch: 10 }));
      for (let i = 0; i < 5; i++) await bus.publish(msg(i), uid('m'));
      await waitFor(() => c.got.length === 5, '5 deliveries held');
      expect(await consumer.pending()).toBe(5);
      await c.got[0]!.ack();
      expect(await consumer.pending()).toBe(4);
      await c.got[1]!.term('poison');
      expect(await consumer.pending()).toBe(3);
      await c.got[2]!.nak(60_000);
      expect(await consumer.pending()).toBe(3);
      await c.got[3]!.ack();
      await c.got[4]!.ack();
      expect(await consumer.pending()).toBe(1);
    });

    it('holds at most `batch` unsettled deliveries per consumer', async () => {
      const { bus } = await fresh();
      const c = collector();
      track(bus.consume(uid('g'), c.handle, { batch: 3 }));
      for (let i = 0; i < 6; i++) await bus.publish(msg(i), uid('m'));
      await waitFor(() => c.got.length === 3, '3 deliveries');
      await sleep(100);
      expect(c.ns()).toEqual([0, 1, 2]);
      await c.got[1]!.ack();
      await waitFor(() => c.got.length === 4, 'a fourth delivery once a slot is free');
      expect(c.ns()).toEqual([0, 1, 2, 3]);
    });

    it('stops delivering to a closed consumer; the group continues with another', async () => {
      const { bus } = await fresh();
      const group = uid('g');
      const first = collector((d) => d.ack());
      const c1 = bus.consume(group, first.handle);
      await bus.publish(msg(1), uid('m'));
      await waitFor(() => first.got.length === 1, 'the first delivery');
      await c1.close();
      await bus.publish(msg(2), uid('m'));
      const second = collector((d) => d.ack());
      track(bus.consume(group, second.handle));
      await waitFor(() => second.got.length === 1, 'the second consumer’s delivery');
      expect(second.ns()).toEqual([2]);
      expect(first.ns()).toEqual([1]);
    });

    it('lets a delivery held when its consumer closed still be acked', async () => {
      const { bus } = await fresh();
      const group = uid('g');
      const c = collector();
      const consumer = bus.consume(group, c.handle);
      await bus.publish(msg(1), uid('m'));
      await waitFor(() => c.got.length === 1, 'the delivery');
      await consumer.close();
      await c.got[0]!.ack();
      const next = collector((d) => d.ack());
      const successor = track(bus.consume(group, next.handle));
      await bus.publish(msg(2), uid('m'));
      await waitFor(() => next.ns().includes(2), 'the sentinel message');
      expect(next.ns()).toEqual([2]);
      await waitFor(async () => (await successor.pending()) === 0, 'pending to reach 0');
    });

    it('resumes after a restart from the group’s cursor: acked messages are not redelivered', async () => {
      const f = await fresh();
      const group = uid('g');
      const c = collector(async (d, all) => {
        if (all.length <= 3) await d.ack();
      });
      const consumer: Consumer = f.bus.consume(group, c.handle);
      for (let i = 1; i <= 5; i++) await f.bus.publish(msg(i), uid('m'));
      await waitFor(() => c.got.length === 4, 'three acked and one held');
      expect(c.ns()).toEqual([1, 2, 3, 4]);
      await consumer.close();
      toClose = toClose.filter((x) => x !== f.bus);
      const bus2 = track(await f.reopen());
      const after = collector((d) => d.ack());
      const consumer2 = track(bus2.consume(group, after.handle));
      await waitFor(() => after.got.length >= 2, 'the held and the unread message after the restart');
      await sleep(50);
      // Which comes first is the implementation's choice (a lease may still have to run out).
      expect(after.got.map((d) => [d.data.n, d.attempt]).sort((x, y) => x[0]! - y[0]!)).toEqual([
        [4, 2],
        [5, 1],
      ]);
      await waitFor(async () => (await consumer2.pending()) === 0, 'pending to reach 0');
      // A message published again under an id it already has is still a no-op after the restart.
      await bus2.publish(msg(99), c.got[0]!.id);
      await bus2.publish(msg(6), uid('m'));
      await waitFor(() => after.ns().includes(6), 'the sentinel message');
      expect(after.ns().sort((x, y) => x - y)).toEqual([4, 5, 6]);
    });
  });
}

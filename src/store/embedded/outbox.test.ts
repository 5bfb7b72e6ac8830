import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../core/index.js';
import { makeEvent, uid, waitFor } from '../contract/fixtures.js';
import { openOutbox } from './outbox.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-outbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = () => join(dir, `${uid('outbox')}.db`);

describe('outbox', () => {
  it('commits the appends of one turn together and counts them in the backlog', async () => {
    const outbox = openOutbox({ path: file() });
    const evs = Array.from({ length: 25 }, () => makeEvent());
    const pending = evs.map((e) => outbox.append(e));
    // Nothing is committed before the turn ends.
    expect(outbox.backlog()).toBe(0);
    await Promise.all(pending);
    expect(outbox.backlog()).toBe(25);
    await outbox.close();
  });

  it('relays events in append order and empties the backlog', async () => {
    const outbox = openOutbox({ path: file() });
    const relayed: UsageEvent[] = [];
    const batches: number[] = [];
    outbox.startRelay(
      async (evs) => {
        batches.push(evs.length);
        relayed.push(...evs);
      },
      { batchSize: 7 },
    );
    const evs = Array.from({ length: 30 }, (_, i) => makeEvent({ input_tokens: i }));
    for (const e of evs.slice(0, 10)) await outbox.append(e);
    await Promise.all(evs.slice(10).map((e) => outbox.append(e)));
    await waitFor(() => relayed.length === 30 && outbox.backlog() === 0, 'all 30 relayed');
    expect(relayed).toEqual(evs);
    expect(Math.max(...batches)).toBeLessThanOrEqual(7);
    await outbox.close();
  });

  it('retries a failing publish with backoff, losing and reordering nothing', async () => {
    const outbox = openOutbox({ path: file() });
    const evs = Array.from({ length: 12 }, (_, i) => makeEvent({ input_tokens: i }));
    await Promise.all(evs.map((e) => outbox.append(e)));
    const published: string[] = [];
    const errors: number[] = [];
    let calls = 0;
    outbox.startRelay(
      async (batch) => {
        calls++;
        // Fails on calls 1, 2 and 4; call 4 fails after "publishing" (the ack was lost).
        if (calls === 1 || calls === 2) throw new Error('bus unreachable');
        published.push(...batch.map((e) => e.event_id));
        if (calls === 4) throw new Error('ack lost');
      },
      { batchSize: 5, minBackoffMs: 5, maxBackoffMs: 20, onError: (_e, n) => errors.push(n) },
    );
    await waitFor(() => outbox.backlog() === 0, 'the backlog to drain');
    expect(errors).toEqual([1, 2, 1]);
    // At least once: every event, first occurrences in order; only the lost-ack batch repeats.
    const firsts = [...new Set(published)];
    expect(firsts).toEqual(evs.map((e) => e.event_id));
    expect(published.length).toBe(12 + 5);
    await outbox.close();
  });

  it('relays after a restart what was not relayed before it', async () => {
    const path = file();
    const first = openOutbox({ path });
    const evs = Array.from({ length: 8 }, () => makeEvent());
    await Promise.all(evs.map((e) => first.append(e)));
    let fail = true;
    const seen: string[] = [];
    first.startRelay(
      async (batch) => {
        if (fail) throw new Error('down');
        seen.push(...batch.map((e) => e.event_id));
      },
      { minBackoffMs: 10_000 },
    );
    await first.close();
    expect(seen).toEqual([]);
    fail = false;
    const second = openOutbox({ path });
    expect(second.backlog()).toBe(8);
    const relayed: string[] = [];
    second.startRelay(async (batch) => void relayed.push(...batch.map((e) => e.event_id)));
    await waitFor(() => relayed.length === 8, 'the relay after restart');
    expect(relayed).toEqual(evs.map((e) => e.event_id));
    await second.close();
  });

  it('makes a final drain attempt on close and flushes appends not yet committed', async () => {
    const path = file();
    const outbox = openOutbox({ path });
    const relayed: string[] = [];
    outbox.startRelay(async (batch) => void relayed.push(...batch.map((e) => e.event_id)), { minBackoffMs: 10_000 });
    const e = makeEvent();
    const appended = outbox.append(e);
    await outbox.close();
    await appended;
    expect(relayed).toEqual([e.event_id]);
    const again = openOutbox({ path });
    expect(again.backlog()).toBe(0);
    await again.close();
    await expect(outbox.append(makeEvent())).rejects.toThrow(/closed/);
  });

  it('refuses a second opener of the same file and an in-memory path', async () => {
    const path = file();
    const outbox = openOutbox({ path });
    await outbox.append(makeEvent());
    expect(() => openOutbox({ path, busyTimeoutMs: 10 })).toThrow(/locked by another process and this one needs it alone/);
    expect(() => openOutbox({ path: ':memory:' })).toThrow(/must be a file/);
    expect(() => outbox.startRelay(async () => {}, { batchSize: 0 })).toThrow(/batchSize/);
    outbox.startRelay(async () => {});
    expect(() => outbox.startRelay(async () => {})).toThrow(/already running/);
    await outbox.close();
  });
});

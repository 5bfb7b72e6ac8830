/**
 * Crash tests: a child process does durable work, SIGKILLs itself, and the parent checks
 * what survived by reopening the same files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../core/index.js';
import { waitFor } from '../contract/fixtures.js';
import { openSqliteBus } from './bus.js';
import { openSqliteCounters } from './counters.js';
import { openOutbox } from './outbox.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, '__fixtures__', 'crash-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'warden-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runChild(...args: string[]): Promise<{ lines: string[]; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('close', (_code, signal) => resolve({ lines: out.split('\n').filter(Boolean), signal, stderr: err }));
  });
}

describe.concurrent('across processes', () => {
  it('delivers what another process published, and shares a group with another process without duplicates', async () => {
    const path = join(dir, 'multi.db');
    const bus = openSqliteBus<{ n: number }>({ path, topic: 'usage', pollMs: 20 });
    const mine: number[] = [];
    bus.consume(
      'shared',
      async (d) => {
        mine.push(d.data.n);
        await d.ack();
      },
      { batch: 4 },
    );
    const [other] = await Promise.all([runChild('consume', path, '1000'), runChild('publish', path, '300')]);
    expect(other.stderr).toBe('');
    await waitFor(async () => mine.length + other.lines.length >= 300, 'all 300 between the two processes');
    const all = [...mine, ...other.lines.map(Number)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await bus.close();
  });
});

describe.concurrent('after SIGKILL', () => {
  it('the outbox has every event whose append had resolved', async () => {
    const path = join(dir, 'outbox.db');
    const { lines, signal, stderr } = await runChild('outbox', path, '37');
    expect(stderr).toBe('');
    expect(signal).toBe('SIGKILL');
    expect(lines.length).toBe(37);
    const outbox = openOutbox({ path });
    expect(outbox.backlog()).toBe(37);
    const relayed: UsageEvent[] = [];
    outbox.startRelay(async (evs) => void relayed.push(...evs));
    await waitFor(() => outbox.backlog() === 0, 'the relay to drain');
    const ids = new Set(relayed.map((e) => e.event_id));
    for (const id of lines) expect(ids.has(id), `${id} survived`).toBe(true);
    await outbox.close();
  });

  it('the bus redelivers the message a dead process held, at once (not after the ack wait)', async () => {
    const path = join(dir, 'bus.db');
    const { lines, signal } = await runChild('bus', path);
    expect(signal).toBe('SIGKILL');
    expect(lines).toEqual(['held']);
    const bus = openSqliteBus<{ n: number }>({ path, topic: 'usage', ackWaitMs: 600_000 });
    const got: [number, number][] = [];
    const c = bus.consume('detect', async (d) => {
      got.push([d.data.n, d.attempt]);
      await d.ack();
    });
    await waitFor(() => got.length === 1, 'the redelivery', 5000);
    expect(got).toEqual([[1, 2]]);
    await waitFor(async () => (await c.pending()) === 0, 'pending to reach 0');
    await bus.close();
  });

  it('the counters lose at most the increments since the last flush', async () => {
    const path = join(dir, 'counters.db');
    const { lines, signal } = await runChild('counters', path, '250');
    expect(signal).toBe('SIGKILL');
    expect(lines).toEqual(['flushed']);
    const counters = openSqliteCounters({ path });
    const total = await counters.peek('budget', { id: '2026-11', endsAt: Date.now() + 86_400_000 });
    // The child flushed after 250 increments and died before the next flush (600 s away).
    expect(total).toBe(250);
    await counters.close();
  });
});

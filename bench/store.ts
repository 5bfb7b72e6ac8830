/**
 * Embedded store benchmarks, each against a baseline measured side by side in the same run
 * (this machine is shared and noisy: read the ratios, not the absolute numbers).
 *   npx tsx bench/store.ts
 * 1. counters.take (memory and SQLite write-behind) vs a bare Map increment;
 *    also a write-through variant (one SQLite transaction per take) to show why it is not used.
 * 2. outbox.append with group commit (64 appends per turn) vs one transaction per append.
 * 3. bus publish → consume → ack throughput, with and without group commit of acks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryCounters, openDatabase, openOutbox, openSqliteBus, openSqliteCounters } from '../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
const ns = (t0: bigint, n: number) => Number(process.hrtime.bigint() - t0) / n;
const fmt = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} µs` : `${x.toFixed(0)} ns`);

async function counters(): Promise<void> {
  const N = 300_000;
  const period = { id: '2026-11', endsAt: Date.now() + 86_400_000 };
  const keys = Array.from({ length: 1000 }, (_, i) => `acct_${i}`);

  const map = new Map<string, number>();
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const k = keys[i % 1000]!;
    const v = (map.get(k) ?? 0) + 1;
    if (v <= 1e9) map.set(k, v);
  }
  const base = ns(t0, N);

  const mem = createMemoryCounters();
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await mem.take(keys[i % 1000]!, period, 1, 1e9);
  const memNs = ns(t0, N);

  const sq = openSqliteCounters({ path: join(dir, 'counters.db') });
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await sq.take(keys[i % 1000]!, period, 1, 1e9);
  const sqNs = ns(t0, N);
  await sq.close();

  const db = openDatabase({ path: join(dir, 'wt.db') });
  db.exec('CREATE TABLE c (key TEXT PRIMARY KEY, n INTEGER)');
  const up = db.prepare('INSERT INTO c VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1 RETURNING n');
  const M = 20_000;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < M; i++) up.get(keys[i % 1000]!);
  const wtNs = ns(t0, M);
  db.close();

  console.log('counters.take per call');
  console.log(`  baseline Map increment        ${fmt(base)}`);
  console.log(`  memory counters               ${fmt(memNs)}  (${(memNs / base).toFixed(1)}× baseline)`);
  console.log(`  SQLite write-behind (100 ms)  ${fmt(sqNs)}  (${(sqNs / base).toFixed(1)}× baseline)`);
  console.log(`  SQLite write-through          ${fmt(wtNs)}  (${(wtNs / base).toFixed(1)}× baseline, ${(wtNs / sqNs).toFixed(0)}× write-behind)`);
}

async function outbox(): Promise<void> {
  const N = 20_000;
  const ev = (i: number) => ({ event_id: `ev_${i}`, ts: '2026-03-01T00:00:00Z', account_id: 'acc_1', input_tokens: i, model: 'model-a' });

  const db = openDatabase({ path: join(dir, 'single.db') });
  db.exec('CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT, data TEXT, appended_at INTEGER)');
  const ins = db.prepare('INSERT INTO outbox (event_id, data, appended_at) VALUES (?, ?, ?)');
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) ins.run(`ev_${i}`, JSON.stringify(ev(i)), Date.now());
  const single = ns(t0, N);
  db.close();

  const ob = openOutbox({ path: join(dir, 'outbox.db') });
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += 64) await Promise.all(Array.from({ length: 64 }, (_, j) => ob.append(ev(i + j))));
  const grouped = ns(t0, N);
  t0 = process.hrtime.bigint();
  const M = 2000;
  for (let i = 0; i < M; i++) await ob.append(ev(N + i));
  const lone = ns(t0, M);
  await ob.close();

  console.log('outbox.append per event (synchronous = NORMAL)');
  console.log(`  baseline: one transaction per append  ${fmt(single)}`);
  console.log(`  group commit, 64 appends per turn     ${fmt(grouped)}  (${(grouped / single).toFixed(2)}× baseline)`);
  console.log(`  one append per turn (latency)         ${fmt(lone)}  (${(lone / single).toFixed(2)}× baseline)`);
}

async function bus(): Promise<void> {
  const N = 10_000;
  const run = async (batch: number) => {
    const b = openSqliteBus<{ i: number }>({ path: join(dir, `bus-${batch}.db`), topic: 'usage' });
    let got = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const t0 = process.hrtime.bigint();
    b.consume(
      'detect',
      async (d) => {
        await d.ack();
        if (++got === N) done();
      },
      { batch },
    );
    for (let i = 0; i < N; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => b.publish({ i: i + j }, `m${i + j}`)));
    await finished;
    const per = ns(t0, N);
    await b.close();
    return per;
  };
  const one = await run(1);
  const many = await run(64);
  console.log('bus publish + deliver + ack per message');
  console.log(`  batch 1 (baseline)  ${fmt(one)}`);
  console.log(`  batch 64            ${fmt(many)}  (${(many / one).toFixed(2)}× baseline)`);
}

await counters();
await outbox();
await bus();
rmSync(dir, { recursive: true, force: true });

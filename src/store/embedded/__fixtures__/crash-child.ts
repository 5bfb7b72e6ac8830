/**
 * A process the crash tests run and SIGKILL (it kills itself at a chosen point, so the moment
 * is exact). Each step it completes is written synchronously to stdout before the next.
 *   outbox <path> <n>      append n events (several per turn), print each id once awaited, die
 *   bus <path>             publish one message, hold its delivery unacked, print "held", die
 *   counters <path> <n>    add 1 n times and flush, add 1 n more times without flushing, die
 *   publish <path> <n>     publish n messages and exit normally (not a crash: another process)
 *   consume <path> <ms>    consume group "shared" for ms, ack all, print each n, exit normally
 */
import { writeSync } from 'node:fs';
import { openSqliteBus } from '../bus.js';
import { openSqliteCounters } from '../counters.js';
import { openOutbox } from '../outbox.js';

const [mode, path, nText] = process.argv.slice(2);
const n = Number(nText ?? '0');
const say = (line: string) => writeSync(1, `${line}\n`);
const die = () => process.kill(process.pid, 'SIGKILL');

if (!path) throw new Error('usage: crash-child <mode> <path> [n]');

if (mode === 'outbox') {
  const outbox = openOutbox({ path });
  let done = 0;
  const one = async (i: number) => {
    const id = `ev_${i}`;
    await outbox.append({ event_id: id, ts: new Date().toISOString(), account_id: 'acc_crash', input_tokens: i });
    say(id);
    if (++done === n) die();
  };
  // Four appends per turn, as concurrent requests would make them.
  for (let i = 0; i < n; i += 4) {
    await Promise.all([i, i + 1, i + 2, i + 3].filter((j) => j < n).map(one));
  }
} else if (mode === 'bus') {
  const bus = openSqliteBus<{ n: number }>({ path, topic: 'usage', ackWaitMs: 600_000 });
  bus.consume('detect', async () => {
    say('held');
    die();
  });
  await bus.publish({ n: 1 }, 'msg-1');
} else if (mode === 'counters') {
  const counters = openSqliteCounters({ path, flushMs: 600_000 });
  const p = { id: '2026-11', endsAt: Date.now() + 86_400_000 };
  for (let i = 0; i < n; i++) await counters.add('budget', p, 1);
  counters.flush();
  say('flushed');
  for (let i = 0; i < n; i++) await counters.add('budget', p, 1);
  die();
} else if (mode === 'publish') {
  const bus = openSqliteBus<{ n: number }>({ path, topic: 'usage' });
  for (let i = 0; i < n; i++) await bus.publish({ n: i }, `pub-${i}`);
  await bus.close();
} else if (mode === 'consume') {
  const bus = openSqliteBus<{ n: number }>({ path, topic: 'usage', pollMs: 20 });
  bus.consume(
    'shared',
    async (d) => {
      say(String(d.data.n));
      await d.ack();
    },
    { batch: 4 },
  );
  setTimeout(() => void bus.close(), n);
} else {
  throw new Error(`unknown mode ${mode}`);
}

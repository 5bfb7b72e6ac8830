/**
 * A separate process taking from a shared Redis limit, for the "two processes sharing one
 * limit" test: `node --import tsx take-worker.ts <url> <prefix> <key> <takes> <limit>` prints
 * the number of takes granted.
 */
import { openRedisCounters } from '../redis-counters.js';

const [url, prefix, key, takes, limit] = process.argv.slice(2);
const counters = await openRedisCounters({ url: url!, prefix: prefix! });
const period = { id: 'shared', endsAt: Date.now() + 600_000 };
const results = await Promise.all(Array.from({ length: Number(takes) }, () => counters.take(key!, period, 1, Number(limit))));
await counters.close();
process.stdout.write(`${JSON.stringify({ granted: results.filter((r) => r.ok).length })}\n`);

/**
 * The simulated model upstream as its own process for the gateway benchmark (the same server as
 * `warden mock-upstream`, started without the CLI so the benchmark needs only src/gateway).
 *   node --import tsx bench/lib/upstream-main.ts --port 8788 --latency-ms 0
 */
import { parseArgs } from 'node:util';
import { startMockUpstream } from '../../src/gateway/index.js';

const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' }, 'latency-ms': { type: 'string', default: '0' } } });
const up = await startMockUpstream({ host: values.host, port: Number(values.port), latencyMs: Number(values['latency-ms']) });
process.stdout.write(`simulated upstream listening on ${up.url}\n`);
process.on('SIGTERM', () => void up.close().then(() => process.exit(0)));

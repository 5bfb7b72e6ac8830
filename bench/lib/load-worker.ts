/**
 * The load generator, in its own process (forked by gateway-bench.ts, commands over IPC) so its
 * CPU is never charged to a measured process. Two kinds of run:
 * - `load`: autocannon at a fixed concurrency for a duration; latencies are taken from its
 *   per-response event (autocannon's own histogram rounds to whole milliseconds);
 * - `ttfb`: sequential streaming requests, alternating the targets request by request, timing
 *   the first body chunk and the end of the response.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { quantile } from './stats.js';

export interface LoadCommand {
  kind: 'load';
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  /** Keep the response times (false for warm-ups). */
  record: boolean;
}

export interface LoadResult {
  /** Responses completed (any status). */
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  wallMs: number;
  /** Response times of 2xx responses, ms (exact, from every response). */
  latency: { p50: number; p90: number; p99: number; mean: number; max: number };
  statusCodes: Record<string, number>;
}

export interface TtfbCommand {
  kind: 'ttfb';
  targets: { name: string; url: string }[];
  body: string;
  headers: Record<string, string>;
  /** Measured requests per target, after `warmup` unmeasured ones. */
  n: number;
  warmup: number;
}

export interface TtfbResult {
  byTarget: Record<string, { ttfbMs: number[]; totalMs: number[]; non2xx: number; bytes: number }>;
}

type Command = (LoadCommand | TtfbCommand) & { id: number };

function runLoad(c: LoadCommand): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let completed = 0;
    const t0 = performance.now();
    const inst = autocannon(
      { url: c.url, method: 'POST', headers: c.headers, body: c.body, connections: c.connections, pipelining: 1, duration: c.durationS, timeout: 10 },
      (err, r) => {
        if (err) return reject(err);
        const statusCodes: Record<string, number> = {};
        for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[k] = v.count;
        resolve({ completed, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, wallMs: performance.now() - t0, latency: summarize(latencies), statusCodes });
      },
    );
    inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      completed++;
      if (c.record && status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

function summarize(v: number[]): LoadResult['latency'] {
  let sum = 0;
  let max = 0;
  for (const x of v) {
    sum += x;
    if (x > max) max = x;
  }
  return { p50: quantile(v, 0.5), p90: quantile(v, 0.9), p99: quantile(v, 0.99), mean: v.length ? sum / v.length : Number.NaN, max };
}

function oneStream(agent: http.Agent, url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; ttfbMs: number; totalMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let ttfb = -1;
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        if (ttfb < 0) ttfb = performance.now() - t0;
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ttfbMs: ttfb, totalMs: performance.now() - t0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function runTtfb(c: TtfbCommand): Promise<TtfbResult> {
  const byTarget: TtfbResult['byTarget'] = {};
  const agents = new Map(c.targets.map((t) => [t.name, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
  for (const t of c.targets) byTarget[t.name] = { ttfbMs: [], totalMs: [], non2xx: 0, bytes: 0 };
  for (let i = 0; i < c.warmup + c.n; i++) {
    // Rotate which target goes first so none always follows the same neighbour.
    for (let j = 0; j < c.targets.length; j++) {
      const t = c.targets[(i + j) % c.targets.length]!;
      const r = await oneStream(agents.get(t.name)!, new URL(t.url), c.body, c.headers);
      if (i < c.warmup) continue;
      const s = byTarget[t.name]!;
      if (r.status < 200 || r.status >= 300) s.non2xx++;
      else {
        s.ttfbMs.push(r.ttfbMs);
        s.totalMs.push(r.totalMs);
        s.bytes += r.bytes;
      }
    }
  }
  for (const a of agents.values()) a.destroy();
  return { byTarget };
}

process.on('message', (m: Command) => {
  const work = m.kind === 'load' ? runLoad(m) : runTtfb(m);
  work.then(
    (result) => process.send!({ id: m.id, ok: true, result }),
    (e: unknown) => process.send!({ id: m.id, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));

/**
 * Shared by the worker tests (test/services/worker.test.ts, test/faults/worker-kill.test.ts):
 * unique names on this machine's services, usage events for a set of accounts, and the per-account
 * totals the workers committed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { extractFeatures, type UsageEvent } from '../../src/core/index.js';

export const SERVICES = { postgresUrl: 'postgres://postgres@127.0.0.1:5432/test', redisUrl: 'redis://127.0.0.1:6379', natsServers: '127.0.0.1:4222' } as const;

export function uniqueCluster(tag: string, partitions = 4) {
  const id = randomUUID().slice(0, 8);
  return {
    postgres_url: SERVICES.postgresUrl,
    redis_url: SERVICES.redisUrl,
    nats_servers: SERVICES.natsServers,
    schema: `${tag}_${id}`,
    redis_prefix: `${tag}:${id}`,
    stream: `${tag.toUpperCase()}_${id}`,
    subject_prefix: `${tag}.${id}`,
    partitions,
  };
}

/** `perAccount` events for each of `accounts` accounts, interleaved, in time order per account. */
export function usageEvents(prefix: string, accounts: number, perAccount: number, t0 = Date.parse('2026-11-01T00:00:00Z')): UsageEvent[] {
  const out: UsageEvent[] = [];
  for (let i = 0; i < perAccount; i++) {
    for (let a = 0; a < accounts; a++) {
      out.push({
        event_id: `${prefix}_ev_${a}_${i}`,
        ts: new Date(t0 + i * 60_000 + a).toISOString(),
        account_id: `${prefix}_acc_${a}`,
        key_id: `${prefix}_key_${a}`,
        ip: `203.0.113.${a % 250}`,
        user_agent: 'anthropic-sdk/1.0',
        endpoint: 'messages',
        model: 'model-a',
        stream: false,
        status: 200,
        input_tokens: 10,
        output_tokens: 20,
        latency_ms: 5,
        aborted: false,
        decision: 'allow',
        decision_rule: 'default@1',
        turns: 1,
        tools: 0,
      } as UsageEvent);
    }
  }
  return out;
}

export function countByAccount(events: readonly UsageEvent[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) m.set(e.account_id!, (m.get(e.account_id!) ?? 0) + 1);
  return m;
}

/** The `events` column of every committed account state (what the workers counted). */
export async function committedTotals(pool: pg.Pool, schema: string): Promise<Map<string, number>> {
  const r = await pool.query<{ account_id: string; events: string }>(`SELECT account_id, events FROM ${schema}.detection_accounts`).catch((e: unknown) => {
    if ((e as { code?: string }).code === '42P01') return { rows: [] };
    throw e;
  });
  return new Map(r.rows.map((x) => [x.account_id, Number(x.events)]));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

export async function dropCluster(c: { schema: string; stream: string }): Promise<void> {
  const pool = new pg.Pool({ connectionString: SERVICES.postgresUrl, max: 1 });
  await pool.query(`DROP SCHEMA IF EXISTS ${c.schema} CASCADE`).catch(() => undefined);
  await pool.end();
  const nc = await connect({ servers: SERVICES.natsServers });
  await (await jetstreamManager(nc)).streams.delete(c.stream).catch(() => undefined);
  await nc.close();
}

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A config file for the cluster profile and its workers (YAML is a superset of JSON). */
export function writeWorkerConfig(dir: string, cluster: ReturnType<typeof uniqueCluster>, worker: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, `worker-${randomUUID().slice(0, 6)}.yaml`);
  writeFileSync(
    file,
    JSON.stringify({
      profile: 'cluster',
      data_dir: path.join(dir, 'state'),
      cluster,
      worker: { metrics_listen: '127.0.0.1:0', ...worker },
      log: { level: 'warn' },
      ...extra,
    }),
  );
  return file;
}

export interface WorkerChild {
  child: ChildProcess;
  metricsUrl: string;
  stderr(): string;
}

/** `warden worker` as a real child process (the CLI from source, as `bin/warden.js` runs it once built). */
export async function spawnWorker(configFile: string, id: string, args: string[] = [], timeoutMs = 60_000): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), '--config', configFile, 'worker', '--id', id, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-20_000)));
  const metricsUrl = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`worker ${id} not ready after ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const onData = () => {
      const m = /metrics on (http:\/\/[^\s]+)\/metrics/.exec(err);
      if (m) {
        clearTimeout(t);
        child.stderr!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code, sig) => {
      clearTimeout(t);
      reject(new Error(`worker ${id} exited (${code ?? sig}) before it was ready:\n${err}`));
    });
  });
  return { child, metricsUrl, stderr: () => err };
}

export async function stopChild(c: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill(signal);
  await done;
}

const COT_SYSTEM = 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.';

/**
 * The demo's seed case as usage events (src/cli/demo.ts sends it through the SDKs): accounts
 * sharing one card and one device send templated chain-of-thought sweeps from one hosting
 * network, with the prompt features the gateway would attach.
 */
export function campaignEvents(accounts: string[], rounds: number, t0 = Date.now() - rounds * 1000): UsageEvent[] {
  const out: UsageEvent[] = [];
  for (let r = 0; r < rounds; r++) {
    accounts.forEach((acc, i) => {
      const prompt = `A farmer has ${r * 4 + i} sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.`;
      out.push({
        event_id: `${acc}_c${r}`,
        ts: new Date(t0 + r * 1000 + i).toISOString(),
        account_id: acc,
        key_id: `${acc}_key`,
        ip: `47.74.0.${10 + i}`,
        user_agent: 'anthropic-sdk/1.0',
        endpoint: 'messages',
        model: 'claude-sonnet-4-6',
        stream: false,
        status: 200,
        input_tokens: 60,
        output_tokens: 50,
        latency_ms: 20,
        aborted: false,
        decision: 'allow',
        decision_rule: 'default@1',
        turns: 1,
        tools: 0,
        features: extractFeatures({ system: COT_SYSTEM, lastUser: prompt, turns: 1, tools: 0 }) as unknown as UsageEvent['features'],
      } as UsageEvent);
    });
  }
  return out;
}

/**
 * `warden demo --profile cluster` (`npm run demo:cluster`): the scale-out demo on this machine's
 * PostgreSQL, Redis and NATS JetStream. Two gateways and two detection workers run as child
 * processes (`warden serve --profile cluster`, `warden worker`) on a fresh schema and stream;
 * the demo's seed case (a shell company's accounts linked by one card and one device, sweeping
 * chain-of-thought prompts from a hosting network) is sent through both gateways with the
 * official SDK; the workers count the events per partition, the leader links the accounts into
 * a cluster, writes their risk and opens a case; an analyst's block on the case is refused at the
 * other gateway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream } from '../gateway/index.js';
import { DEMO_NETWORKS, PACKAGE_ROOT } from './demo.js';

export interface ClusterDemoOptions {
  once: boolean;
  out: NodeJS.WritableStream;
  /** Services (default: the cluster profile's defaults, this machine). */
  postgresUrl?: string;
  redisUrl?: string;
  natsServers?: string;
  /** Rounds of the campaign (4 requests each). */
  rounds?: number;
}

export interface ClusterDemoResult {
  gateways: string[];
  workers: string[];
  accounts: string[];
  /** Accounts whose risk the leader wrote at or above 0.7. */
  flagged: string[];
  caseId: string | null;
  /** HTTP status of a campaign request at the second gateway after the block. */
  afterBlockStatus: number | null;
}

interface Child {
  proc: ChildProcess;
  url: string;
  log(): string;
}

/** The same `warden` this process runs: from source through tsx in a checkout, or the build. */
function wardenArgs(): string[] {
  const self = fileURLToPath(import.meta.url);
  return self.endsWith('.ts') ? ['--import', 'tsx', path.join(path.dirname(self), 'main.ts')] : [path.join(PACKAGE_ROOT, 'bin/warden.js')];
}

function startChild(args: string[], ready: RegExp, spawned: ChildProcess[], timeoutMs = 300_000): Promise<Child> {
  const proc = spawn(process.execPath, [...wardenArgs(), ...args], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  spawned.push(proc);
  let err = '';
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-20_000)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`warden ${args.join(' ')}: not ready after ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const onData = () => {
      const m = ready.exec(err);
      if (!m) return;
      clearTimeout(t);
      proc.stderr!.off('data', onData);
      resolve({ proc, url: m[1]!, log: () => err });
    };
    proc.stderr!.on('data', onData);
    proc.once('exit', (code, sig) => {
      clearTimeout(t);
      reject(new Error(`warden ${args.join(' ')} exited (${code ?? sig}) before it was ready:\n${err}`));
    });
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(t);
}

export async function runClusterDemo(opts: ClusterDemoOptions): Promise<ClusterDemoResult> {
  const say = (s = '') => opts.out.write(`${s}\n`);
  const id = randomUUID().slice(0, 8);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-demo-cluster-'));
  const token = `wadm_demo_${randomUUID().replaceAll('-', '')}`;
  const cluster = {
    postgres_url: opts.postgresUrl ?? 'postgres://postgres@127.0.0.1:5432/test',
    redis_url: opts.redisUrl ?? 'redis://127.0.0.1:6379',
    nats_servers: opts.natsServers ?? '127.0.0.1:4222',
    schema: `demo_${id}`,
    redis_prefix: `demo:${id}`,
    stream: `DEMO_${id}`,
    subject_prefix: `demo.${id}`,
    partitions: 4,
  };
  const upstream = await startMockUpstream({ host: '127.0.0.1', port: 0, latencyMs: 20 });
  const gwDir = (n: number) => path.join(dir, `gw-${n}`);
  const common = {
    profile: 'cluster',
    cluster,
    policy: { file: path.join(PACKAGE_ROOT, 'policies/demo.yaml') },
    intel: { custom_networks: DEMO_NETWORKS },
    watchlist: path.join(PACKAGE_ROOT, 'watchlists/demo.yaml'),
    admin: { token },
    log: { level: 'warn' },
  };
  const file = (name: string, cfg: Record<string, unknown>) => {
    const f = path.join(dir, `${name}.yaml`);
    writeFileSync(f, JSON.stringify({ ...common, ...cfg }), { mode: 0o600 }); // YAML is a superset of JSON
    return f;
  };
  const gatewayConfig = (n: number) =>
    file(`gw-${n}`, {
      data_dir: gwDir(n),
      gateway: { listen: '127.0.0.1:0', upstreams: { anthropic: { url: upstream.url }, openai: { url: upstream.url } }, trusted_proxies: ['127.0.0.1', '::1'] },
      audit: { chain: `gw-${n}` },
    });
  const workerConfig = file('worker', {
    data_dir: path.join(dir, 'workers'),
    worker: { metrics_listen: '127.0.0.1:0', evaluate_every_ms: 2000, lease_ttl_ms: 5000 },
  });

  const children: Child[] = [];
  const spawned: ChildProcess[] = [];
  const result: ClusterDemoResult = { gateways: [], workers: [], accounts: [], flagged: [], caseId: null, afterBlockStatus: null };
  const cleanup = async () => {
    for (const p of spawned.reverse()) await stop(p);
    await upstream.close();
    await dropDemoServices(cluster).catch((e: unknown) => say(`(cleanup: ${String(e)})`));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    say(`Warden scale-out demo: schema ${cluster.schema}, stream ${cluster.stream} (4 partitions) on PostgreSQL, Redis and NATS JetStream.`);
    say('1. Starting two gateways and two detection workers as child processes (each loads the IP intelligence first)…');
    const gwReady = /Warden gateway on (http:\/\/\S+) /;
    const wkReady = /metrics on (http:\/\/\S+)\/metrics/;
    // The first gateway creates the schema; the others start after it.
    children.push(await startChild(['--config', gatewayConfig(1), 'serve'], gwReady, spawned));
    const rest = await Promise.allSettled([
      startChild(['--config', gatewayConfig(2), 'serve'], gwReady, spawned),
      startChild(['--config', workerConfig, 'worker', '--id', `demo-w1-${id}`], wkReady, spawned),
      startChild(['--config', workerConfig, 'worker', '--id', `demo-w2-${id}`], wkReady, spawned),
    ]);
    for (const r of rest) if (r.status === 'rejected') throw r.reason;
    children.push(...rest.map((r) => (r as PromiseFulfilledResult<Child>).value));
    const [gw1, gw2, w1, w2] = children as [Child, Child, Child, Child];
    result.gateways = [gw1.url, gw2.url];
    result.workers = [w1.url, w2.url];
    say(`   gateways ${gw1.url} and ${gw2.url}; worker metrics ${w1.url}/metrics and ${w2.url}/metrics`);

    const admin = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${gw1.url}/admin/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`admin ${method} ${p}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const org = await admin<{ org_id: string }>('POST', '/orgs', { name: 'Harborline Trading Pte Ltd', declared_country: 'SG', verification: 'email', email_domain: 'harborline-trading.example' });
    const accounts: { id: string; key: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await admin<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, payment_fingerprint: 'pf_7c1e90aa', device_fingerprint: 'df_a03f11', email_domain: 'mailbox.example' });
      const k = await admin<{ key: string }>('POST', '/keys', { account_id: a.account_id });
      accounts.push({ id: a.account_id, key: k.key });
    }
    result.accounts = accounts.map((a) => a.id);
    const rounds = opts.rounds ?? 60;
    say(`2. A shell company opens ${accounts.length} accounts (one card, one device) and sweeps chain-of-thought prompts from a hosting network, half through each gateway (${rounds * 4} requests)…`);
    const client = (gw: Child, i: number) => new Anthropic({ apiKey: accounts[i]!.key, baseURL: gw.url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': `47.74.0.${10 + i}` } });
    const system = 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.';
    let refusedDuring = 0;
    for (let round = 0; round < rounds; round++) {
      await Promise.all(
        accounts.map((_, i) =>
          client(round % 2 === 0 ? gw1 : gw2, i)
            .messages.create({ model: 'claude-sonnet-4-6', max_tokens: 50, system, messages: [{ role: 'user', content: `A farmer has ${round * 4 + i} sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.` }] })
            .catch(() => void refusedDuring++),
        ),
      );
    }
    say(`   ${rounds * 4 - refusedDuring} answered, ${refusedDuring} refused as detection caught up (risk applies at the gateways on the next request).`);

    say('3. The workers count each event once per partition; the leader links the accounts, writes their risk and opens a case…');
    const until = Date.now() + 120_000;
    let found: { case_id: string; severity: string; title: string; clusters: string[] } | undefined;
    while (Date.now() < until && !found) {
      const cases = (await admin<{ cases: { case_id: string; title: string; severity: string; accounts: string[]; clusters: string[] }[] }>('GET', '/cases')).cases;
      found = cases.find((c) => accounts.every((a) => c.accounts.includes(a.id)));
      if (!found) await new Promise((r) => setTimeout(r, 500));
    }
    const status = (await (await fetch(`${w1.url}/status`)).json()) as { partitions: { partition: number; committed: number; last: number }[]; leader: boolean };
    say(`   partitions (committed / last stream sequence): ${status.partitions.map((p) => `p${p.partition} ${p.committed}/${p.last}`).join(', ')}`);
    // The risk the leader wrote (the gateways read it from PostgreSQL within a second).
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: cluster.postgres_url, max: 1 });
    const rows = await pool
      .query<{ account_id: string; risk: number }>(`SELECT account_id, risk FROM "${cluster.schema}".risk WHERE account_id = ANY($1)`, [accounts.map((a) => a.id)])
      .finally(() => pool.end());
    const riskOf = new Map(rows.rows.map((r) => [r.account_id, Number(r.risk)]));
    const risks = accounts.map((a) => (riskOf.has(a.id) ? { risk: riskOf.get(a.id)! } : null));
    result.flagged = accounts.filter((_, i) => (risks[i]?.risk ?? 0) >= 0.7).map((a) => a.id);
    say(`   risk: ${accounts.map((a, i) => `${a.id} ${risks[i]?.risk ?? '—'}`).join(', ')}`);
    if (!found) {
      say('4. No case was opened for them within two minutes (see the workers\' logs).');
      for (const c of children) say(c.log().slice(-2000));
    } else {
      result.caseId = found.case_id;
      say(`4. The leader linked them into cluster ${found.clusters.join(', ')} and opened case ${found.case_id} (${found.severity}): "${found.title}"`);
      await admin('POST', `/cases/${found.case_id}/act`, { action: 'block', reason: 'Linked accounts harvesting chain-of-thought traces (demo analyst decision).' });
      try {
        await client(gw2, 0).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'One more?' }] });
        result.afterBlockStatus = 200;
      } catch (e) {
        result.afterBlockStatus = (e as { status?: number }).status ?? 0;
      }
      say(`5. An analyst blocks the case at the first gateway; the next request at the second gateway → ${result.afterBlockStatus}${result.afterBlockStatus === 403 ? ' (refused)' : ''}.`);
    }
    if (opts.once) return result;
    say('\nServing until Ctrl-C (the services keep the demo schema and stream until then).');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    return result;
  } finally {
    await cleanup();
  }
}

/** Drops the demo's schema and stream (the Redis keys expire by themselves). */
async function dropDemoServices(c: { postgres_url: string; schema: string; nats_servers: string; stream: string }): Promise<void> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: c.postgres_url, max: 1 });
  pool.on('error', () => undefined);
  await pool.query(`DROP SCHEMA IF EXISTS "${c.schema}" CASCADE`).finally(() => pool.end());
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: c.nats_servers });
  await (await jetstreamManager(nc)).streams.delete(c.stream).catch(() => undefined);
  await nc.close();
}

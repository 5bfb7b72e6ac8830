/**
 * The durability promise: a response whose last byte reached the client has its usage event,
 * even when the gateway is SIGKILLed right after. A real `warden serve` child process is
 * killed at random moments under concurrent streaming and non-streaming load, restarted each
 * time, and every completed response's request id must be among the stored events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream } from '../../src/gateway/index.js';
import { ROOT } from './harness.js';

const ROUNDS = 5;
const CONCURRENCY = 16;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`warden serve exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`warden serve not ready at ${url} after ${timeoutMs} ms`);
}

describe('durability under SIGKILL', () => {
  let dataDir: string;
  let upstream: Awaited<ReturnType<typeof startMockUpstream>>;
  let url: string;
  let configFile: string;
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async () => {
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    await waitReady(url, child);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'warden-kill-'));
    upstream = await startMockUpstream({ host: '127.0.0.1', port: 0, latencyMs: 5, tokensPerSecond: 2000 });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    configFile = path.join(dataDir, 'warden.yaml');
    writeFileSync(
      configFile,
      [
        `data_dir: ${JSON.stringify(path.join(dataDir, 'state'))}`,
        'gateway:',
        `  listen: 127.0.0.1:${port}`,
        '  upstreams:',
        `    anthropic: { url: ${JSON.stringify(upstream.url)} }`,
        `    openai: { url: ${JSON.stringify(upstream.url)} }`,
        `policy: { file: ${JSON.stringify(path.join(ROOT, 'policies/default.yaml'))} }`,
        'log: { level: warn }',
      ].join('\n'),
    );
    await start();
  }, 60_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await upstream?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(`loses no completed response's event across ${ROUNDS} kills`, async () => {
    const token = readFileSync(path.join(dataDir, 'state', 'admin-token'), 'utf8').trim();
    const admin = async (method: string, route: string, body?: unknown) => {
      const r = await fetch(`${url}/admin/v1${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (!r.ok) throw new Error(`${route}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<any>;
    };
    const org = await admin('POST', '/orgs', { name: 'Durable Co', declared_country: 'DE', verification: 'business' });
    const acc = await admin('POST', '/accounts', { org_id: org.org_id });
    const key = (await admin('POST', '/keys', { account_id: acc.account_id })).key as string;

    const completed = new Set<string>();
    let attempted = 0;
    const one = async (i: number): Promise<void> => {
      const kind = i % 4;
      const stream = kind >= 2;
      const isAnthropic = kind % 2 === 0;
      const body = isAnthropic
        ? { model: 'claude-sonnet-4-6', max_tokens: 60, stream, messages: [{ role: 'user', content: `request ${i}: explain idempotency` }] }
        : { model: 'gpt-4o-mini', stream, max_tokens: 60, messages: [{ role: 'user', content: `request ${i}: explain idempotency` }] };
      attempted++;
      const res = await fetch(`${url}${isAnthropic ? '/v1/messages' : '/v1/chat/completions'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(isAnthropic ? { 'x-api-key': key } : { authorization: `Bearer ${key}` }) },
        body: JSON.stringify(body),
      });
      const id = res.headers.get(isAnthropic ? 'request-id' : 'x-request-id');
      await res.arrayBuffer(); // throws if the connection dies before the last byte
      if (res.status === 200 && id) completed.add(id);
    };

    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      let n = round * 1_000_000;
      const workers = Array.from({ length: CONCURRENCY }, async () => {
        while (!stop) {
          try {
            await one(n++);
          } catch {
            if (stop) return;
          }
        }
      });
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
      child!.kill('SIGKILL');
      await new Promise<void>((r) => child!.once('exit', () => r()));
      stop = true;
      await Promise.all(workers);
      await start();
    }
    expect(completed.size).toBeGreaterThan(ROUNDS * 20);

    // After the last restart the outbox relays what it held; then every completed id must be stored.
    const stored = new Set<string>();
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const events = (await admin('GET', `/events?account_id=${acc.account_id}&limit=10000`)).events as { event_id: string }[];
      stored.clear();
      for (const e of events) stored.add(e.event_id);
      if ([...completed].every((id) => stored.has(id))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const missing = [...completed].filter((id) => !stored.has(id));
    expect(missing, `${missing.length} of ${completed.size} completed responses have no event (attempted ${attempted}); server stderr: ${stderr}`).toEqual([]);
  }, 240_000);

  it('drains an in-flight stream on SIGTERM, then exits 0 with its event stored', async () => {
    const token = readFileSync(path.join(dataDir, 'state', 'admin-token'), 'utf8').trim();
    const admin = async (method: string, route: string, body?: unknown) => {
      const r = await fetch(`${url}/admin/v1${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (!r.ok) throw new Error(`${route}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<any>;
    };
    const org = await admin('POST', '/orgs', { name: 'Drain Co', declared_country: 'DE', verification: 'business' });
    const acc = await admin('POST', '/accounts', { org_id: org.org_id });
    const key = (await admin('POST', '/keys', { account_id: acc.account_id })).key as string;
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 1500, stream: true, messages: [{ role: 'user', content: 'a long answer please' }] }),
    });
    const id = res.headers.get('request-id')!;
    const reader = res.body!.getReader();
    await reader.read();
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child!.kill('SIGTERM');
    let text = '';
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    expect(text).toContain('message_stop');
    expect(await exited).toBe(0);
    await start();
    let ev: { event_id: string; output_tokens?: number } | undefined;
    for (let i = 0; i < 200 && !ev; i++) {
      const events = (await admin('GET', `/events?account_id=${acc.account_id}`)).events as { event_id: string; output_tokens?: number }[];
      ev = events.find((e) => e.event_id === id);
      if (!ev) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ev?.output_tokens).toBeGreaterThan(0);
  }, 60_000);
});

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { tempDir, removeTempDirs } from './test-world.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageEvent } from '../core/index.js';
import { fixtureSampler } from './fixture-sampler.js';
import { replayWorld } from './replay.js';
import { loadScenario, parseScenario } from './scenario.js';
import { simulate } from './simulate.js';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
let dir: string;
let events: UsageEvent[];

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const body = JSON.parse(data || '{}') as Record<string, unknown>;
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/messages') {
        res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: body['model'], content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }));
      } else if (req.url === '/v1/chat/completions') {
        res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: body['model'], choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const d = loadScenario('demo');
  const s = parseScenario({ ...d, days: 1, campaigns: d.campaigns.filter((c) => c.start_day < 1) });
  dir = tempDir('warden-replay-');
  const r = await simulate(s, dir, { sampler: fixtureSampler() });
  events = readFileSync(r.files.events, 'utf8').split('\n').filter(Boolean).map((l) => UsageEvent.parse(JSON.parse(l)));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('replayWorld', () => {
  it('sends each event of an account with a key through the official SDKs, paced at the rate', async () => {
    // The busiest account on each API.
    const busiest = (endpoint: string) => {
      const n = new Map<string, number>();
      for (const e of events) if (e.endpoint === endpoint) n.set(e.account_id!, (n.get(e.account_id!) ?? 0) + 1);
      const id = [...n].sort((a, b) => b[1] - a[1])[0]![0];
      return events.find((e) => e.account_id === id)!;
    };
    const anth = busiest('messages');
    const oai = busiest('chat.completions');
    const keys = new Map([
      [anth.account_id!, 'sk-ant-test-1'],
      [oai.account_id!, 'sk-oai-test-2'],
    ]);
    const mine = events.filter((e) => keys.has(e.account_id!)).slice(0, 12);
    let clock = 0;
    let slept = 0;
    const r = await replayWorld({
      dir,
      baseUrl,
      keys,
      rate: 50,
      limit: 12,
      concurrency: 1,
      now: () => clock,
      sleep: async (ms) => {
        slept += ms;
        clock += ms;
      },
    });
    expect(r.sent).toBe(12);
    expect(r.ok).toBe(12);
    expect(r.skipped_no_key).toBeGreaterThan(0);
    // Request n leaves n/rate seconds after the first (the fake clock only moves when paced).
    expect(slept).toBeCloseTo((11 * 1000) / 50, 5);
    const got = seen.slice(-12);
    got.forEach((g, i) => {
      const e = mine[i]!;
      expect(g.path).toBe(e.endpoint === 'chat.completions' ? '/v1/chat/completions' : '/v1/messages');
      expect(g.headers['x-forwarded-for']).toBe(e.ip);
      if (e.endpoint === 'chat.completions') {
        expect(g.headers['authorization']).toBe('Bearer sk-oai-test-2');
        expect((g.body['messages'] as { content: string }[]).at(-1)!.content).toBe(e.prompt);
        if (e.end_user_id) expect(g.body['user']).toBe(e.end_user_id);
      } else {
        // The Anthropic SDK sends the key as x-api-key (older releases) or as a bearer token.
        expect([g.headers['x-api-key'], g.headers['authorization']]).toContainEqual(expect.stringContaining('sk-ant-test-1'));
        expect((g.body['messages'] as { content: string }[])[0]!.content).toBe(e.prompt);
        if (e.end_user_id) expect(g.body['metadata']).toEqual({ user_id: e.end_user_id });
      }
    });
  });

  it('counts refusals by status instead of failing', async () => {
    const e = events[0]!;
    const r = await replayWorld({ dir, baseUrl: `${baseUrl}/nowhere`, keys: new Map([[e.account_id!, 'k']]), rate: 1000, limit: 2 });
    expect(r.sent).toBe(2);
    expect(r.ok).toBe(0);
    expect(r.statuses['404']).toBe(2);
  });

  it('refuses a non-positive rate with a message that says the fix', async () => {
    await expect(replayWorld({ dir, baseUrl, keys: new Map(), rate: 0 })).rejects.toThrow(/positive number of requests per second/);
  });
});

afterAll(() => removeTempDirs());

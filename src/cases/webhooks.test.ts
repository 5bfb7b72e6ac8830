import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isWardenError } from '../core/index.js';
import { createWebhookDispatcher, signWebhook, verifyWebhookSignature, type WebhookDispatcher } from './webhooks.js';

const SECRET = 'whsec_test_0123456789abcdef';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local receiver answering each request with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = [], opts: { hangMs?: number } = {}) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      const status = statuses.shift() ?? 200;
      const answer = () => res.writeHead(status, status === 429 ? { 'retry-after': '0' } : {}).end(status === 200 ? 'ok' : 'nope');
      if (opts.hangMs) setTimeout(answer, opts.hangMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});
function track<T extends { close(): Promise<void> }>(x: T): T {
  opened.push(x);
  return x;
}

describe('webhook signatures', () => {
  it('verifies its own signature and refuses a changed body, another secret or an old timestamp', () => {
    const body = JSON.stringify({ type: 'case.action', n: 1 });
    const t = 1_800_000_000;
    const sig = signWebhook(SECRET, t, body);
    expect(sig).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, sig, body, { now: t * 1000 })).toBe(true);
    expect(verifyWebhookSignature(SECRET, sig, body.replace('1', '2'), { now: t * 1000 })).toBe(false);
    expect(verifyWebhookSignature(`${SECRET}x`, sig, body, { now: t * 1000 })).toBe(false);
    expect(verifyWebhookSignature(SECRET, sig, body, { now: (t + 301) * 1000 })).toBe(false);
    expect(verifyWebhookSignature(SECRET, undefined, body)).toBe(false);
    expect(verifyWebhookSignature(SECRET, 't=abc,v1=zz', body)).toBe(false);
  });
});

describe('webhook delivery', () => {
  it('delivers signed events a receiver can verify, in order, without blocking emit', async () => {
    const r = track(await receiver());
    const d: WebhookDispatcher = track(createWebhookDispatcher({ endpoints: [{ url: r.url, secret: SECRET }] }));
    for (let i = 0; i < 5; i++) d.emit({ type: 'alert.ingested', at: '2026-03-01T00:00:00Z', data: { i } });
    // emit only queues: nothing can have arrived synchronously.
    expect(r.got.length).toBe(0);
    await d.flush();
    expect(r.got.map((g) => (JSON.parse(g.body) as { data: { i: number } }).data.i)).toEqual([0, 1, 2, 3, 4]);
    for (const g of r.got) {
      expect(verifyWebhookSignature(SECRET, g.headers['warden-signature'] as string, g.body)).toBe(true);
      expect(g.headers['warden-event-type']).toBe('alert.ingested');
      expect(g.headers['warden-event-id']).toBe((JSON.parse(g.body) as { id: string }).id);
    }
    expect(d.stats()).toMatchObject({ delivered: 5, failed: 0, retries: 0, queued: 0 });
  });

  it('retries after a 500 and a 429 with backoff, then delivers the same event', async () => {
    const r = track(await receiver([500, 429]));
    const d = track(createWebhookDispatcher({ endpoints: [{ url: r.url, secret: SECRET }], baseDelayMs: 5, maxDelayMs: 20 }));
    d.emit({ type: 'case.action', at: '2026-03-01T00:00:00Z', data: { case_id: 'case_1' } });
    await d.flush();
    expect(r.got.length).toBe(3);
    expect(new Set(r.got.map((g) => g.headers['warden-event-id'])).size).toBe(1);
    for (const g of r.got) expect(verifyWebhookSignature(SECRET, g.headers['warden-signature'] as string, g.body)).toBe(true);
    expect(d.stats()).toMatchObject({ delivered: 1, retries: 2, failed: 0 });
  });

  it('gives up after maxAttempts, and at once on a 400; the next event still goes', async () => {
    const r = track(await receiver([500, 500, 500, 400]));
    const d = track(createWebhookDispatcher({ endpoints: [{ url: r.url, secret: SECRET }], baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 }));
    d.emit({ type: 'a', at: 'x', data: { n: 1 } });
    d.emit({ type: 'b', at: 'x', data: { n: 2 } });
    d.emit({ type: 'c', at: 'x', data: { n: 3 } });
    await d.flush();
    expect(r.got.map((g) => g.headers['warden-event-type'])).toEqual(['a', 'a', 'a', 'b', 'c']);
    expect(d.stats()).toMatchObject({ delivered: 1, failed: 2, retries: 2 });
  });

  it('retries a receiver that cannot be reached', async () => {
    const r = await receiver();
    await r.close(); // nothing listens on the port now
    const d = track(createWebhookDispatcher({ endpoints: [{ url: r.url, secret: SECRET }], baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 }));
    d.emit({ type: 'a', at: 'x', data: {} });
    await d.flush();
    expect(d.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 1 });
  });

  it('keeps a bounded queue: a full queue drops the oldest waiting event and counts it', async () => {
    const r = track(await receiver([], { hangMs: 30 }));
    const d = track(createWebhookDispatcher({ endpoints: [{ url: r.url, secret: SECRET }], maxQueue: 3 }));
    for (let i = 0; i < 6; i++) d.emit({ type: 'e', at: 'x', data: { i } });
    expect(d.stats().queued).toBe(3);
    await d.flush();
    const sent = r.got.map((g) => (JSON.parse(g.body) as { data: { i: number } }).data.i);
    expect(sent).toEqual([0, 4, 5]);
    expect(d.stats()).toMatchObject({ delivered: 3, dropped: 3 });
  });

  it('sends each endpoint only the events it asked for', async () => {
    const a = track(await receiver());
    const b = track(await receiver());
    const d = track(createWebhookDispatcher({ endpoints: [{ url: a.url, secret: SECRET, events: ['case.*'] }, { url: b.url, secret: SECRET, events: ['alert.ingested'] }] }));
    d.emit({ type: 'case.action', at: 'x', data: {} });
    d.emit({ type: 'alert.ingested', at: 'x', data: {} });
    d.emit({ type: 'case.status', at: 'x', data: {} });
    await d.flush();
    expect(a.got.map((g) => g.headers['warden-event-type'])).toEqual(['case.action', 'case.status']);
    expect(b.got.map((g) => g.headers['warden-event-type'])).toEqual(['alert.ingested']);
  });

  it('refuses a bad endpoint at construction, naming the field', () => {
    try {
      createWebhookDispatcher({ endpoints: [{ url: 'ftp://x.example', secret: 'short' }] });
      expect.unreachable('accepted a bad endpoint');
    } catch (e) {
      expect(isWardenError(e, 'CONFIG_INVALID')).toBe(true);
      expect((e as Error).message).toMatch(/endpoints\[0\]: url: .*secret: at least 16/);
    }
  });

  it('close cancels waiting retries and counts what was queued', async () => {
    const r = track(await receiver([500, 500, 500]));
    const d = createWebhookDispatcher({ endpoints: [{ url: r.url, secret: SECRET }], baseDelayMs: 60_000, maxDelayMs: 60_000 });
    d.emit({ type: 'a', at: 'x', data: {} });
    d.emit({ type: 'b', at: 'x', data: {} });
    await expect.poll(() => d.stats().retries).toBe(1);
    await d.close();
    expect(d.stats()).toMatchObject({ delivered: 0, failed: 1, dropped: 1, queued: 0 });
    d.emit({ type: 'c', at: 'x', data: {} });
    expect(d.stats().queued).toBe(0);
  });
});

import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BodyError, readBody } from './proxy.js';

/** A real server whose handler hands each request's readBody outcome to the test. */
async function serverWith(max: number) {
  const outcomes: Promise<{ raw: Buffer; json: unknown }>[] = [];
  const server = http.createServer((req, res) => {
    const p = readBody(req, max, req.headers['content-type']);
    outcomes.push(p);
    p.then(
      () => res.end('ok'),
      (e: unknown) => {
        if (!res.destroyed) res.writeHead(e instanceof BodyError && e.kind === 'request_too_large' ? 413 : 400).end(String((e as Error).message));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, port, outcomes };
}

/** Sends a raw HTTP/1.1 request, body in the given pieces, and returns the response text. */
function rawRequest(port: number, head: string, pieces: string[], opts: { closeAfter?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.write(head);
    let i = 0;
    const next = () => {
      if (i < pieces.length) {
        s.write(pieces[i++]!);
        setTimeout(next, 10);
      } else if (opts.closeAfter) s.destroy();
      else setTimeout(() => s.end(), 200);
    };
    next();
  });
}

let close: (() => void) | undefined;
afterEach(() => close?.());

describe('readBody', () => {
  it('joins a body that arrives in several chunks and parses it', async () => {
    const { server, port, outcomes } = await serverWith(1000);
    close = () => server.close();
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(200) }] });
    const res = await rawRequest(port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, [body.slice(0, 50), body.slice(50, 120), body.slice(120)]);
    expect(res).toMatch(/^HTTP\/1.1 200/);
    const r = await outcomes[0]!;
    expect(r.raw.toString('utf8')).toBe(body);
    expect(r.json).toEqual(JSON.parse(body));
  });

  it('refuses a chunked body once it passes the limit, without a content-length to go by', async () => {
    const { server, port, outcomes } = await serverWith(100);
    close = () => server.close();
    const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
    const res = await rawRequest(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', [chunk(`{"a":"${'x'.repeat(60)}`), chunk(`${'y'.repeat(60)}"}`), '0\r\n\r\n']);
    expect(res).toMatch(/^HTTP\/1.1 413/);
    await expect(outcomes[0]!).rejects.toMatchObject({ kind: 'request_too_large' });
  });

  it('rejects (does not hang) when the client goes away in the middle of the body', async () => {
    const { server, port, outcomes } = await serverWith(1000);
    close = () => server.close();
    await rawRequest(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n', ['{"model":'], { closeAfter: true });
    await expect(outcomes[0]!).rejects.toThrow();
    await expect(outcomes[0]!).rejects.not.toBeInstanceOf(BodyError);
  });

  it('refuses a wrong content type, invalid UTF-8, invalid JSON and a non-object', async () => {
    const { server, port, outcomes } = await serverWith(1000);
    close = () => server.close();
    const send = (type: string, body: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-type': type, 'content-length': body.length } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(await send('text/plain', Buffer.from('{}'))).toBe(400);
    expect(await send('application/json', Buffer.from([0x7b, 0xff, 0x7d]))).toBe(400);
    expect(await send('application/json; charset=utf-8', Buffer.from('{"a":'))).toBe(400);
    expect(await send('application/json', Buffer.from('[1,2]'))).toBe(400);
    const kinds = await Promise.all(outcomes.map((p) => p.then(() => 'ok', (e: BodyError) => e.message)));
    expect(kinds[0]).toMatch(/Content-Type must be application\/json/);
    expect(kinds[1]).toMatch(/not valid UTF-8/);
    expect(kinds[2]).toMatch(/not valid JSON/);
    expect(kinds[3]).toMatch(/must be a JSON object/);
  });
});

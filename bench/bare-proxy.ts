/**
 * The Node floor for the gateway benchmark: a bare node:http proxy that only forwards to the
 * upstream, parses the request and response JSON (SSE events when streaming) and keeps a usage
 * record per key in memory. No auth, no policy, no limits, no durable events: whatever Warden
 * costs beyond this is the price of its work, not of Node's HTTP stack.
 *
 *   node bench/bare-proxy.ts --port 8790 --upstream http://127.0.0.1:8788   (via tsx)
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' }, upstream: { type: 'string' } } });
if (!values.upstream) throw new Error('bare-proxy: pass --upstream http://host:port (the simulated model upstream).');
const up = new URL(values.upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const usage = new Map<string, { requests: number; input_tokens: number; output_tokens: number; model: string }>();
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

function record(key: string, model: string, u: { input_tokens?: number; output_tokens?: number } | undefined): void {
  const r = usage.get(key) ?? { requests: 0, input_tokens: 0, output_tokens: 0, model };
  r.requests += 1;
  r.input_tokens += u?.input_tokens ?? 0;
  r.output_tokens += u?.output_tokens ?? 0;
  usage.set(key, r);
}

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    let body: { model?: string; stream?: boolean };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"type":"error","error":{"type":"invalid_request_error","message":"Body is not JSON."}}');
      return;
    }
    const key = String(req.headers['x-api-key'] ?? 'anonymous');
    const headers: http.OutgoingHttpHeaders = { 'content-length': raw.length };
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && v !== undefined) headers[k] = v;
    const ureq = http.request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers, agent }, (ures) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(ures.headers)) if (!HOP.has(k) && v !== undefined) out[k] = v;
      if (body.stream) {
        res.writeHead(ures.statusCode ?? 502, out);
        // Relay each chunk at once; read the usage out of the SSE events as they pass.
        let pending = '';
        const u = { input_tokens: 0, output_tokens: 0 };
        ures.on('data', (c: Buffer) => {
          res.write(c);
          pending += c.toString('utf8');
          let i: number;
          while ((i = pending.indexOf('\n\n')) >= 0) {
            const event = pending.slice(0, i);
            pending = pending.slice(i + 2);
            const d = event.indexOf('data: ');
            if (d < 0) continue;
            const ev = JSON.parse(event.slice(d + 6)) as { message?: { usage?: typeof u }; usage?: typeof u };
            const eu = ev.message?.usage ?? ev.usage;
            if (eu?.input_tokens) u.input_tokens = eu.input_tokens;
            if (eu?.output_tokens) u.output_tokens = eu.output_tokens;
          }
        });
        ures.on('end', () => (record(key, body.model ?? '', u), res.end()));
      } else {
        const parts: Buffer[] = [];
        ures.on('data', (c: Buffer) => parts.push(c));
        ures.on('end', () => {
          const text = Buffer.concat(parts);
          record(key, body.model ?? '', (JSON.parse(text.toString('utf8')) as { usage?: { input_tokens?: number; output_tokens?: number } }).usage);
          res.writeHead(ures.statusCode ?? 502, { ...out, 'content-length': text.length }).end(text);
        });
      }
    });
    ureq.on('error', (e) => res.headersSent ? res.destroy(e) : res.writeHead(502).end(String(e)));
    ureq.end(raw);
  });
});
server.listen(Number(values.port), values.host, () => {
  const a = server.address() as { port: number };
  process.stdout.write(`bare proxy listening on http://${values.host}:${a.port}\n`);
});
process.on('SIGTERM', () => (process.stderr.write(`bare proxy: ${usage.size} keys metered\n`), process.exit(0)));

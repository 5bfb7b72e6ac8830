/**
 * `warden simulate --replay URL`: sends a world's requests through a running gateway with the
 * official SDKs, at a controlled rate, in the world's order. The client address of each event
 * is sent as `X-Forwarded-For` (a gateway configured to trust the replaying host uses it).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ConfigError, type UsageEvent } from '../core/index.js';
import { readWorld } from './evaluate.js';

export interface ReplayOptions {
  /** A world directory written by `simulate`. */
  dir: string;
  /** Gateway base URL, e.g. http://127.0.0.1:8787. */
  baseUrl: string;
  /** API key of each account; events of accounts without one are skipped and counted. */
  keys: Map<string, string>;
  /** Requests per second (wall clock). */
  rate: number;
  /** Stop after this many requests. */
  limit?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Output tokens to ask for (the upstream's answer length is not part of the replay). */
  maxTokens?: number;
  onProgress?: (p: ReplayResult) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface ReplayResult {
  sent: number;
  ok: number;
  skipped_no_key: number;
  skipped_no_prompt: number;
  /** Responses by HTTP status (errors from the SDKs included; 0 = network error). */
  statuses: Record<string, number>;
}

function statusOf(e: unknown): number {
  const s = (e as { status?: unknown }).status;
  return typeof s === 'number' ? s : 0;
}

export async function replayWorld(o: ReplayOptions): Promise<ReplayResult> {
  if (!(o.rate > 0)) throw new ConfigError('CONFIG_INVALID', `replay rate must be a positive number of requests per second, got ${o.rate}`);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? (() => performance.now());
  const base = o.baseUrl.replace(/\/+$/, '');
  const world = await readWorld(o.dir);
  const res: ReplayResult = { sent: 0, ok: 0, skipped_no_key: 0, skipped_no_prompt: 0, statuses: {} };
  const anthropic = new Map<string, Anthropic>();
  const openai = new Map<string, OpenAI>();
  const inFlight = new Set<Promise<void>>();
  const limit = o.concurrency ?? 8;
  const t0 = now();

  const send = async (e: UsageEvent, key: string): Promise<void> => {
    const headers: Record<string, string> = e.ip ? { 'x-forwarded-for': e.ip } : {};
    if (e.user_agent) headers['user-agent'] = e.user_agent;
    const text = e.prompt ?? '';
    try {
      if (e.endpoint === 'chat.completions') {
        let c = openai.get(key);
        if (!c) openai.set(key, (c = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 })));
        await c.chat.completions.create(
          {
            model: e.model ?? 'gpt-4.1-mini',
            max_tokens: o.maxTokens ?? 64,
            messages: [...(e.system ? [{ role: 'system' as const, content: e.system }] : []), { role: 'user' as const, content: text }],
            ...(e.end_user_id ? { user: e.end_user_id } : {}),
          },
          { headers },
        );
      } else {
        let c = anthropic.get(key);
        if (!c) anthropic.set(key, (c = new Anthropic({ apiKey: key, baseURL: base, maxRetries: 0 })));
        await c.messages.create(
          {
            model: e.model ?? 'claude-haiku-4-5',
            max_tokens: o.maxTokens ?? 64,
            ...(e.system ? { system: e.system } : {}),
            messages: [{ role: 'user', content: text }],
            ...(e.end_user_id ? { metadata: { user_id: e.end_user_id } } : {}),
          },
          { headers },
        );
      }
      res.ok++;
      res.statuses['200'] = (res.statuses['200'] ?? 0) + 1;
    } catch (err) {
      const s = String(statusOf(err));
      res.statuses[s] = (res.statuses[s] ?? 0) + 1;
    }
  };

  for await (const e of world.events()) {
    if (o.limit !== undefined && res.sent >= o.limit) break;
    const key = e.account_id ? o.keys.get(e.account_id) : undefined;
    if (!key) {
      res.skipped_no_key++;
      continue;
    }
    if (!e.prompt) {
      res.skipped_no_prompt++;
      continue;
    }
    // Pace: request n leaves no earlier than n / rate seconds after the start.
    const due = t0 + (res.sent * 1000) / o.rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= limit) await Promise.race(inFlight);
    res.sent++;
    const p = send(e, key).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (res.sent % 100 === 0) o.onProgress?.({ ...res });
  }
  await Promise.all(inFlight);
  o.onProgress?.({ ...res });
  return res;
}

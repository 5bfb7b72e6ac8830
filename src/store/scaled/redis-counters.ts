/**
 * `RedisCounters`: rate limits and budgets shared by every gateway process. Each (key, period)
 * is one Redis string holding the total; `take` is a Lua script (check and increment in one
 * atomic step on the server), so processes sharing a limit never pass it together. Each key
 * expires at its period's end plus `graceMs`, so ended periods cost no memory.
 *
 * Amounts are added with `INCRBYFLOAT` (fractional budgets in currency work); totals come back
 * as the server's decimal string, never through Lua numbers, which would round them.
 */
import type { Clock, Counters, Period } from '../../core/index.js';
import { ConfigError, UnavailableError, systemClock } from '../../core/index.js';
import { openRedis, redisUnavailable, type RedisConnectOptions } from './redis.js';

// KEYS[1] counter; ARGV: cost, limit ('' = none: add unconditionally), expire-at epoch ms.
// Returns { granted (1/0), total as a string }.
const TAKE = `
local cur = redis.call('GET', KEYS[1])
local cost = tonumber(ARGV[1])
if ARGV[2] ~= '' and (tonumber(cur or '0') + cost) > tonumber(ARGV[2]) then
  return { 0, cur or '0' }
end
local total = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return { 1, total }
`;

export interface RedisCountersOptions extends RedisConnectOptions {
  /** Prefix of every counter key. Default `warden:ctr`. */
  prefix?: string;
  /** How long a counter outlives its period's end. Default 60 s. */
  graceMs?: number;
  clock?: Clock;
}

type TakeReply = [number, string];

/** Opens counters on Redis; fails at once with the URL when the server cannot be reached. */
export async function openRedisCounters(opts: RedisCountersOptions): Promise<Counters> {
  const prefix = opts.prefix ?? 'warden:ctr';
  const graceMs = opts.graceMs ?? 60_000;
  if (!(graceMs >= 0)) throw new ConfigError('CONFIG_INVALID', `counters.graceMs: expected a number ≥ 0, got ${graceMs}.`);
  const clock = opts.clock ?? systemClock;
  // Counters sit on every request: while Redis is away a command must fail at once (the gateway
  // then fails open or closed as configured), not queue until the server is back.
  const redis = await openRedis({ offlineQueue: false, commandTimeoutMs: 250, ...opts }, 'counters');
  redis.defineCommand('wardenTake', { numberOfKeys: 1, lua: TAKE });
  const take = (redis as unknown as { wardenTake(k: string, ...a: (string | number)[]): Promise<TakeReply> }).wardenTake.bind(
    redis,
  );
  let closed = false;

  const check = (period: Period, n: number, field: string) => {
    if (closed) throw new UnavailableError('The counters are closed; open them again.');
    if (!Number.isFinite(n) || n < 0) {
      throw new ConfigError('CONFIG_INVALID', `Counters ${field}: expected a finite number ≥ 0, got ${n}.`);
    }
    if (typeof period?.id !== 'string' || !Number.isFinite(period.endsAt)) {
      throw new ConfigError('CONFIG_INVALID', 'Counters period: expected { id: string, endsAt: epoch ms }.');
    }
  };
  // `{…}` is a hash tag: a key's counters stay in one slot on Redis Cluster.
  const keyOf = (key: string, period: Period) => `${prefix}:{${key}}:${period.id}`;
  const expireAt = (period: Period) => Math.max(period.endsAt, clock.now()) + graceMs;

  const call = async (key: string, period: Period, cost: number, limit: string): Promise<TakeReply> => {
    try {
      return await take(keyOf(key, period), String(cost), limit, String(Math.ceil(expireAt(period))));
    } catch (err) {
      redisUnavailable(err, opts.url, 'counters');
    }
  };

  return {
    async take(key, period, cost, limit) {
      check(period, cost, 'cost');
      if (!Number.isFinite(limit)) throw new ConfigError('CONFIG_INVALID', `Counters limit: expected a finite number, got ${limit}.`);
      const [ok, total] = await call(key, period, cost, String(limit));
      return { ok: ok === 1, total: Number(total) };
    },
    async add(key, period, amount) {
      check(period, amount, 'amount');
      return Number((await call(key, period, amount, ''))[1]);
    },
    async peek(key, period) {
      check(period, 0, 'peek');
      try {
        return Number((await redis.get(keyOf(key, period))) ?? 0);
      } catch (err) {
        redisUnavailable(err, opts.url, 'counters');
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

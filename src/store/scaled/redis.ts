/**
 * Shared Redis plumbing: clients that fail fast at open with the URL they tried, reconnect on
 * their own afterwards (ioredis resubscribes channels after a reconnect), and never crash the
 * process on a connection error event.
 */
import type { Redis } from 'ioredis';
import { ConfigError, UnavailableError } from '../../core/index.js';

export type RedisClient = Redis;

export interface RedisConnectOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** How long opening waits for the server. Default 5 s. */
  connectTimeoutMs?: number;
  /** First pause before reconnecting after the connection drops (doubling after). Default 50 ms. */
  minReconnectDelayMs?: number;
  /** Longest pause between reconnection attempts once opened. Default 2 s. */
  maxReconnectDelayMs?: number;
  /**
   * Queue commands while disconnected until the connection is back (default true). Hot-path
   * clients turn it off so a command fails at once and the caller can fail open or closed.
   */
  offlineQueue?: boolean;
  /** A command not answered in this long fails (default: no limit). */
  commandTimeoutMs?: number;
}

export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Opens a client and waits until it is ready; an unreachable server fails with its URL. */
export async function openRedis(opts: RedisConnectOptions, what: string, connectionName?: string): Promise<Redis> {
  if (typeof opts.url !== 'string' || !/^rediss?:\/\//.test(opts.url)) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${what}: expected a Redis URL such as redis://127.0.0.1:6379, got ${JSON.stringify(opts.url)}.`,
    );
  }
  const maxDelay = opts.maxReconnectDelayMs ?? 2000;
  const minDelay = opts.minReconnectDelayMs ?? 50;
  // Loaded on first open, so processes of the embedded profile never load the client.
  const { Redis: RedisClass } = await import('ioredis');
  const client = new RedisClass(opts.url, {
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    // A command sent while the server is away fails after this many reconnection attempts
    // instead of waiting forever; callers see an error they can act on.
    maxRetriesPerRequest: opts.offlineQueue === false ? 0 : 3,
    enableOfflineQueue: opts.offlineQueue !== false,
    ...(opts.commandTimeoutMs ? { commandTimeout: opts.commandTimeoutMs } : {}),
    retryStrategy: (n: number) => Math.min(minDelay * 2 ** Math.min(n - 1, 10), maxDelay),
    ...(connectionName ? { connectionName } : {}),
  });
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    const why = lastError?.message ?? (err as Error).message;
    throw new UnavailableError(
      `Cannot reach Redis at ${redactRedisUrl(opts.url)} (${what}): ${why}. Check that the server runs and the URL is right.`,
      { cause: lastError ?? err },
    );
  }
  return client;
}

/** Wraps a failed command as an `UnavailableError` naming the server. */
export function redisUnavailable(err: unknown, url: string, what: string): never {
  if (err instanceof UnavailableError || err instanceof ConfigError) throw err;
  throw new UnavailableError(`Redis at ${redactRedisUrl(url)} failed (${what}): ${(err as Error).message}.`, { cause: err });
}

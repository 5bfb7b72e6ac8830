/**
 * The CLI's client of a running server's admin API: state changes go through the server so
 * they take effect at once (a revoked key is refused on its next request).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WardenError } from '../core/index.js';
import type { WardenConfig } from './config.js';

export interface AdminClient {
  url: string;
  call<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
}

export function adminTokenFile(config: WardenConfig): string {
  return path.join(config.data_dir, 'admin-token');
}

export function createAdminClient(config: WardenConfig, opts: { url?: string; token?: string }): AdminClient {
  const url = (opts.url ?? `http://${config.gateway.listen}`).replace(/\/$/, '');
  let token = opts.token ?? config.admin.token;
  if (!token) {
    const f = adminTokenFile(config);
    if (existsSync(f)) token = readFileSync(f, 'utf8').trim();
  }
  return {
    url,
    async call<T>(method: string, route: string, body?: unknown): Promise<T> {
      if (!token) {
        throw new WardenError('UNAUTHORIZED', `No admin token: pass --token, set WARDEN_ADMIN_TOKEN, or run from the directory whose ${adminTokenFile(config)} the server wrote.`);
      }
      let res: Response;
      try {
        res = await fetch(`${url}/admin/v1${route}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (e) {
        throw new WardenError('UNAVAILABLE', `Cannot reach the Warden server at ${url} (${(e as Error).cause ? String((e as { cause: Error }).cause.message) : (e as Error).message}). Start it with \`warden serve\` or pass --url.`);
      }
      const text = await res.text();
      let json: unknown = undefined;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      if (!res.ok) {
        const err = (json as { error?: { message?: string; type?: string } })?.error;
        const code = res.status === 404 ? 'NOT_FOUND' : res.status === 401 ? 'UNAUTHORIZED' : res.status === 409 ? 'CONFLICT' : res.status === 400 ? 'VALIDATION' : 'INTERNAL';
        throw new WardenError(code, `${method} ${route} → ${res.status}: ${err?.message ?? (text.slice(0, 300) || res.statusText)}`);
      }
      return json as T;
    },
  };
}

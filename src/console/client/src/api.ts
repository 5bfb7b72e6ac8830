/**
 * The console's only way to the server: fetch with the session cookie, the CSRF header on every
 * non-GET, and errors a person can act on. A 401 anywhere means the session ended; the app
 * listens for it and shows the sign-in page with a sentence saying so.
 */
import type { Session } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly issues?: { path?: string; message: string }[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrf = '';
const expiredListeners = new Set<() => void>();

export function setCsrf(token: string): void {
  csrf = token;
}
export function onSessionExpired(fn: () => void): () => void {
  expiredListeners.add(fn);
  return () => expiredListeners.delete(fn);
}

/** What to tell a person, by status, when the server sent no usable message. */
function fallbackMessage(status: number): string {
  if (status === 401) return 'Session expired — sign in again.';
  if (status === 403) return 'Your role does not allow this. Ask an admin for the analyst or admin role.';
  if (status === 404) return 'Not found. It may have been deleted, or the server is older than this console.';
  if (status === 429) return 'Too many attempts. Wait a minute and try again.';
  if (status >= 500) return 'The server failed. Try again; if it keeps failing, check the server log.';
  return `Request failed (HTTP ${status}).`;
}

export async function request<T>(method: string, path: string, body?: unknown, opts: { quiet401?: boolean; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrf;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the Warden server. Check that it is running and your network connection, then retry.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = (data as { error?: { type?: string; message?: string; issues?: { path?: string; message: string }[] } } | undefined)?.error;
    if (res.status === 401 && !opts.quiet401) for (const fn of expiredListeners) fn();
    const message = res.status === 401 && !opts.quiet401 ? 'Session expired — sign in again.' : err?.message || fallbackMessage(res.status);
    throw new ApiError(res.status, err?.type ?? 'http', message, err?.issues);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal ? { signal } : {}),
  post: <T>(path: string, body: unknown) => request<T>('POST', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
};

export const A = '/admin/v1';

export async function currentSession(): Promise<Session | null> {
  try {
    const s = await request<Session>('GET', '/console/api/session', undefined, { quiet401: true });
    setCsrf(s.csrf_token);
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signIn(username: string, password: string): Promise<Session> {
  const s = await request<Session>('POST', '/console/api/session', { username, password }, { quiet401: true });
  setCsrf(s.csrf_token);
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await request<void>('DELETE', '/console/api/session', undefined, { quiet401: true });
  } finally {
    setCsrf('');
  }
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

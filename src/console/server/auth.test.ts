import { describe, expect, it } from 'vitest';
import { createMemoryCounters, openSqliteConsoleAuthStore } from '../../store/index.js';
import { createConsoleAuth, createLoginLimiter, SESSION_COOKIE, SESSION_MAX_MS, sha256Hex } from './auth.js';

const TOKEN = 'wadm_test-token-0123456789';

function setup(idleMinutes = 30) {
  let t = Date.parse('2026-03-01T00:00:00Z');
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) };
  const store = openSqliteConsoleAuthStore({ path: ':memory:' });
  // Cheap scrypt parameters: the cost is a setting; passwords.test.ts checks the default.
  const auth = createConsoleAuth({ store, adminToken: TOKEN, idleMinutes, now: clock.now, scrypt: { N: 1024, r: 8, p: 1 } });
  return { auth, store, clock };
}
const cookie = (id: string) => `other=1; ${SESSION_COOKIE}=${id}`;

describe('console sessions', () => {
  it('signs in, keeps only the SHA-256 of the session id, and authenticates the cookie as the user', async () => {
    const { auth, store } = setup();
    await auth.createUser({ username: 'ana', password: 'analyst-password-1', role: 'analyst' });
    const r = await auth.signIn('ana', 'analyst-password-1');
    if ('failed' in r) throw new Error(r.failed);
    expect(r.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.getSession(r.sessionId)).toBeNull();
    expect(await store.getSession(sha256Hex(r.sessionId))).toMatchObject({ username: 'ana', role: 'analyst' });
    expect(await auth.authenticate({ headers: { cookie: cookie(r.sessionId) } })).toEqual({ actor: 'ana', role: 'analyst', via: 'session', csrf_token: r.session.csrf_token });
    expect(await auth.authenticate({ headers: { cookie: cookie(`${r.sessionId}x`) } })).toBeNull();
  });

  it('answers a wrong password and an unknown user alike, and refuses a disabled user', async () => {
    const { auth, store } = setup();
    await auth.createUser({ username: 'ana', password: 'analyst-password-1', role: 'analyst' });
    expect(await auth.signIn('ana', 'wrong-password-1')).toEqual({ failed: 'wrong_password' });
    expect(await auth.signIn('nobody', 'wrong-password-1')).toEqual({ failed: 'unknown_user' });
    await store.updateUser('ana', { disabled: true });
    expect(await auth.signIn('ana', 'analyst-password-1')).toEqual({ failed: 'disabled' });
  });

  it('ends a session after the idle period, and an active session after the maximum lifetime', async () => {
    const { auth, clock } = setup(30);
    await auth.createUser({ username: 'vic', password: 'viewer-password-1', role: 'viewer' });
    const r = await auth.signIn('vic', 'viewer-password-1');
    if ('failed' in r) throw new Error(r.failed);
    const h = { headers: { cookie: cookie(r.sessionId) } };
    clock.advance(29 * 60_000);
    expect(await auth.authenticate(h)).not.toBeNull(); // touched: idle time starts again
    clock.advance(29 * 60_000);
    expect(await auth.authenticate(h)).not.toBeNull();
    clock.advance(30 * 60_000 + 1);
    expect(await auth.authenticate(h)).toBeNull();

    const again = await auth.signIn('vic', 'viewer-password-1');
    if ('failed' in again) throw new Error(again.failed);
    const h2 = { headers: { cookie: cookie(again.sessionId) } };
    for (let t = 0; t < SESSION_MAX_MS - 20 * 60_000; t += 20 * 60_000) {
      clock.advance(20 * 60_000);
      expect(await auth.authenticate(h2)).not.toBeNull();
    }
    clock.advance(40 * 60_000);
    expect(await auth.authenticate(h2)).toBeNull();
  });

  it('accepts the bearer token as admin, and a wrong bearer token is refused even beside a valid cookie', async () => {
    const { auth } = setup();
    await auth.createUser({ username: 'ana', password: 'analyst-password-1', role: 'analyst' });
    const r = await auth.signIn('ana', 'analyst-password-1');
    if ('failed' in r) throw new Error(r.failed);
    expect(await auth.authenticate({ headers: { authorization: `Bearer ${TOKEN}` } })).toEqual({ actor: 'admin', role: 'admin', via: 'token' });
    expect(await auth.authenticate({ headers: { authorization: `Bearer ${TOKEN}x`, cookie: cookie(r.sessionId) } })).toBeNull();
    expect(await auth.authenticate({ headers: {} })).toBeNull();
  });

  it('signs out by deleting the session', async () => {
    const { auth } = setup();
    await auth.createUser({ username: 'ana', password: 'analyst-password-1', role: 'analyst' });
    const r = await auth.signIn('ana', 'analyst-password-1');
    if ('failed' in r) throw new Error(r.failed);
    expect((await auth.signOut(cookie(r.sessionId)))?.username).toBe('ana');
    expect(await auth.authenticate({ headers: { cookie: cookie(r.sessionId) } })).toBeNull();
  });

  it('validates new users: name pattern, password length, no duplicates; never lists hashes', async () => {
    const { auth } = setup();
    await expect(auth.createUser({ username: 'Bad Name', password: 'long-enough-password', role: 'viewer' })).rejects.toThrow(/username/);
    await expect(auth.createUser({ username: 'ok', password: 'short', role: 'viewer' })).rejects.toThrow(/password: at least 12/);
    await auth.createUser({ username: 'ok', password: 'long-enough-password', role: 'viewer' });
    await expect(auth.createUser({ username: 'ok', password: 'long-enough-password', role: 'admin' })).rejects.toThrow(/exists already/);
    expect(await auth.listUsers()).toEqual([{ username: 'ok', role: 'viewer', created_at: '2026-03-01T00:00:00.000Z', disabled: false }]);
    await auth.deleteUser('ok');
    await expect(auth.deleteUser('ok')).rejects.toThrow(/No console user/);
  });
});

describe('login limiter', () => {
  it('blocks a username after 5 failures and an address after 20, until the window ends', async () => {
    let t = 0;
    const l = createLoginLimiter({ counters: createMemoryCounters({ clock: { now: () => t } }), now: () => t, windowMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      expect(await l.blockedFor('ana', '10.0.0.1')).toBe(0);
      await l.failed('ana', '10.0.0.1');
    }
    expect(await l.blockedFor('ana', '10.0.0.2')).toBe(60);
    expect(await l.blockedFor('bob', '10.0.0.1')).toBe(0);
    for (let i = 0; i < 15; i++) await l.failed(`u${i}`, '10.0.0.1');
    expect(await l.blockedFor('carol', '10.0.0.1')).toBeGreaterThan(0);
    t = 60_001;
    expect(await l.blockedFor('ana', '10.0.0.1')).toBe(0);
  });

  it('clears a username’s count on success', async () => {
    const l = createLoginLimiter({ counters: createMemoryCounters({ clock: { now: () => 0 } }), now: () => 0 });
    for (let i = 0; i < 4; i++) await l.failed('ana', '10.0.0.1');
    await l.succeeded('ana');
    await l.failed('ana', '10.0.0.1');
    expect(await l.blockedFor('ana', '10.0.0.1')).toBe(0);
    for (let i = 0; i < 4; i++) await l.failed('ana', '10.0.0.1');
    expect(await l.blockedFor('ana', '10.0.0.1')).toBeGreaterThan(0);
  });

  it('shares its counts between gateways that share the counters', async () => {
    const shared = createMemoryCounters({ clock: { now: () => 0 } });
    const a = createLoginLimiter({ counters: shared, now: () => 0 });
    const b = createLoginLimiter({ counters: shared, now: () => 0 });
    for (let i = 0; i < 3; i++) await a.failed('ana', '10.0.0.1');
    for (let i = 0; i < 2; i++) await b.failed('ana', '10.0.0.2');
    expect(await a.blockedFor('ana', '10.0.0.3')).toBeGreaterThan(0);
    expect(await b.blockedFor('ana', '10.0.0.3')).toBeGreaterThan(0);
  });
});

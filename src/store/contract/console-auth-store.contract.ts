/**
 * The `ConsoleAuthStore` contract: users and sessions of the analyst console. Every
 * implementation (SQLite, PostgreSQL) registers these tests with a factory giving a fresh store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsoleAuthStore, ConsoleSession, ConsoleUser } from '../../core/index.js';
import { isWardenError } from '../../core/index.js';
import { uid } from './fixtures.js';

const user = (over: Partial<ConsoleUser> = {}): ConsoleUser => ({
  username: uid('user'),
  role: 'analyst',
  password_hash: 'scrypt$16384$8$1$c2FsdA$aGFzaA',
  created_at: '2026-03-01T00:00:00.000Z',
  disabled: false,
  ...over,
});
const session = (username: string, over: Partial<ConsoleSession> = {}): ConsoleSession => ({
  session_hash: uid('sh'),
  username,
  role: 'analyst',
  csrf_token: uid('csrf'),
  created_at: '2026-03-01T00:00:00.000Z',
  last_seen_at: '2026-03-01T00:00:00.000Z',
  expires_at: '2026-03-01T12:00:00.000Z',
  ...over,
});

export function consoleAuthStoreContract(name: string, open: () => Promise<ConsoleAuthStore>): void {
  describe(`ConsoleAuthStore contract: ${name}`, () => {
    const opened: ConsoleAuthStore[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      while (opened.length) await opened.pop()!.close();
    });

    it('creates, reads, lists, updates and deletes users; a taken name is a conflict', async () => {
      const store = await fresh();
      const a = user({ username: `b-${uid('u')}` });
      const b = user({ username: `a-${uid('u')}`, role: 'viewer', disabled: true });
      await store.createUser(a);
      await store.createUser(b);
      expect(await store.getUser(a.username)).toEqual(a);
      expect(await store.getUser('nobody-here')).toBeNull();
      const listed = (await store.listUsers()).filter((u) => u.username === a.username || u.username === b.username);
      expect(listed).toEqual([b, a]);
      const err = await store.createUser({ ...a, role: 'admin' }).catch((e: unknown) => e);
      expect(isWardenError(err, 'CONFLICT')).toBe(true);
      expect(await store.updateUser(a.username, { role: 'admin', disabled: true })).toEqual({ ...a, role: 'admin', disabled: true });
      expect(await store.getUser(a.username)).toEqual({ ...a, role: 'admin', disabled: true });
      expect(await store.updateUser(a.username, { password_hash: 'scrypt$x' })).toMatchObject({ password_hash: 'scrypt$x', role: 'admin' });
      const missing = await store.updateUser('nobody-here', { role: 'admin' }).catch((e: unknown) => e);
      expect(isWardenError(missing, 'NOT_FOUND')).toBe(true);
      expect(await store.deleteUser(a.username)).toBe(true);
      expect(await store.deleteUser(a.username)).toBe(false);
      expect(await store.getUser(a.username)).toBeNull();
    });

    it('keeps sessions by hash, touches, deletes and expires them', async () => {
      const store = await fresh();
      const u = user();
      await store.createUser(u);
      const s1 = session(u.username);
      const s2 = session(u.username, { expires_at: '2026-03-01T01:00:00.000Z' });
      await store.createSession(s1);
      await store.createSession(s2);
      expect(await store.getSession(s1.session_hash)).toEqual(s1);
      expect(await store.getSession('0'.repeat(64))).toBeNull();
      await store.touchSession(s1.session_hash, '2026-03-01T05:00:00.000Z', '2026-03-01T17:00:00.000Z');
      expect(await store.getSession(s1.session_hash)).toEqual({ ...s1, last_seen_at: '2026-03-01T05:00:00.000Z', expires_at: '2026-03-01T17:00:00.000Z' });
      // At or before now: gone; later: kept.
      expect(await store.deleteExpiredSessions('2026-03-01T01:00:00.000Z')).toBe(1);
      expect(await store.getSession(s2.session_hash)).toBeNull();
      expect(await store.getSession(s1.session_hash)).not.toBeNull();
      expect(await store.deleteSession(s1.session_hash)).toBe(true);
      expect(await store.deleteSession(s1.session_hash)).toBe(false);
    });

    it('deletes every session of a user, and of a deleted user', async () => {
      const store = await fresh();
      const u = user();
      const other = user();
      await store.createUser(u);
      await store.createUser(other);
      const mine = [session(u.username), session(u.username)];
      const theirs = session(other.username);
      for (const s of [...mine, theirs]) await store.createSession(s);
      expect(await store.deleteSessionsOf(u.username)).toBe(2);
      expect(await store.getSession(theirs.session_hash)).toEqual(theirs);
      await store.createSession(mine[0]!);
      await store.deleteUser(u.username);
      expect(await store.getSession(mine[0]!.session_hash)).toBeNull();
    });

    it('refuses a session for an unknown user or with a hash already used', async () => {
      const store = await fresh();
      const e1 = await store.createSession(session(uid('ghost'))).catch((e: unknown) => e);
      expect(isWardenError(e1, 'CONFLICT')).toBe(true);
      const u = user();
      await store.createUser(u);
      const s = session(u.username);
      await store.createSession(s);
      const e2 = await store.createSession({ ...s, csrf_token: 'other' }).catch((e: unknown) => e);
      expect(isWardenError(e2, 'CONFLICT')).toBe(true);
    });
  });
}

/**
 * The console on the cluster profile: users and sessions live in PostgreSQL, so a user created
 * through one gateway signs in at the other, and a session made at one gateway works (and ends)
 * at both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropCluster, ownCluster, startHarness, type Harness } from '../e2e/harness.js';

const cluster = ownCluster('console');

describe('console on the cluster profile', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    a = await startHarness({ cluster });
    b = await startHarness({ cluster });
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dropCluster(cluster);
  });

  it('signs in at one gateway a user created at the other, and shares the session', async () => {
    const created = await fetch(`${a.url}/admin/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ana', password: 'analyst-password-0001', role: 'analyst' }),
    });
    expect(created.status).toBe(201);
    const signIn = await fetch(`${b.url}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ana', password: 'analyst-password-0001' }) });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const { csrf_token } = (await signIn.json()) as { csrf_token: string };
    const atA = await fetch(`${a.url}/admin/v1/overview`, { headers: { cookie } });
    expect(atA.status).toBe(200);
    expect(((await atA.json()) as { health: { profile: string } }).health.profile).toBe('cluster');
    const out = await fetch(`${a.url}/console/api/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf_token } });
    expect(out.status).toBe(204);
    expect((await fetch(`${b.url}/admin/v1/overview`, { headers: { cookie } })).status).toBe(401);
  });
  it('counts failed sign-ins across the gateways: spreading guesses over them does not multiply the allowance', async () => {
    // The limiter's windows are aligned to the clock (15 min): a run that straddles a boundary
    // is repeated with a new username rather than read wrongly.
    const window = () => Math.floor(Date.now() / (15 * 60_000));
    for (let round = 0; ; round++) {
      const username = `guessed${round}`;
      const attempt = (h: Harness, password: string) =>
        fetch(`${h.url}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      const created = await fetch(`${a.url}/admin/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.server.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'the-right-password-01', role: 'viewer' }),
      });
      expect(created.status).toBe(201);
      const w0 = window();
      // Five wrong guesses, alternating gateways (the limit is five per username per window).
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await attempt(i % 2 ? a : b, `wrong-guess-${i}-xxxxx`)).status);
      // Both gateways now refuse even the right password until the window ends.
      const after = [];
      for (const h of [a, b]) {
        const r = await attempt(h, 'the-right-password-01');
        after.push([r.status, Number(r.headers.get('retry-after')) > 0]);
      }
      if (window() !== w0 && round < 2) continue;
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
      expect(after).toEqual([
        [429, true],
        [429, true],
      ]);
      break;
    }
  });
});

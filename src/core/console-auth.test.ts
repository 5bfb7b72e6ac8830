import { describe, expect, it } from 'vitest';
import { admitAdmin, constantTimeEqual, cookieValue, requiredAdminRole, roleAtLeast, type AdminPrincipal } from './console-auth.js';

const session = (role: AdminPrincipal['role']): AdminPrincipal => ({ actor: `${role}-user`, role, via: 'session', csrf_token: 'csrf-token-123' });
const token: AdminPrincipal = { actor: 'admin', role: 'admin', via: 'token' };

describe('requiredAdminRole', () => {
  it.each([
    ['GET', '/admin/v1/cases', 'viewer'],
    ['GET', '/admin/v1/overview?x=1', 'viewer'],
    ['GET', '/admin/v1/policy', 'viewer'],
    ['GET', '/admin/v1/cases/c1/stix?tlp=green', 'viewer'],
    ['GET', '/admin/v1/accounts/acc_1/export', 'admin'],
    ['GET', '/admin/v1/users', 'admin'],
    ['POST', '/admin/v1/cases/c1/act', 'analyst'],
    ['POST', '/admin/v1/cases/c1/notes', 'analyst'],
    ['POST', '/admin/v1/alerts/al_1/disposition', 'analyst'],
    ['POST', '/admin/v1/actions', 'analyst'],
    ['POST', '/admin/v1/actions/act_1/reverse', 'analyst'],
    ['POST', '/admin/v1/policy/rollback', 'admin'],
    ['POST', '/admin/v1/policy/dry-run', 'admin'],
    ['POST', '/admin/v1/keys', 'admin'],
    ['POST', '/admin/v1/orgs', 'admin'],
    ['DELETE', '/admin/v1/accounts/acc_1', 'admin'],
    ['POST', '/admin/v1/users', 'admin'],
    ['DELETE', '/admin/v1/users/ana', 'admin'],
    ['POST', '/admin/v1/stix/imports', 'admin'],
    ['POST', '/admin/v1/casesx', 'admin'],
  ] as const)('%s %s needs %s', (method, path, role) => {
    expect(requiredAdminRole(method, path)).toBe(role);
  });
});

describe('admitAdmin', () => {
  it('refuses a missing principal with 401', () => {
    expect(admitAdmin(null, 'GET', '/admin/v1/cases', undefined)).toMatchObject({ ok: false, status: 401, error: { type: 'unauthorized' } });
  });

  it('refuses a viewer acting on a case with 403 naming the analyst role', () => {
    const r = admitAdmin(session('viewer'), 'POST', '/admin/v1/cases/c1/act', 'csrf-token-123');
    expect(r).toMatchObject({ ok: false, status: 403, error: { type: 'forbidden' } });
    expect(!r.ok && r.error.message).toMatch(/requires the analyst role; viewer-user has the viewer role/);
    expect(admitAdmin(session('viewer'), 'GET', '/admin/v1/cases/c1', undefined).ok).toBe(true);
  });

  it('refuses an analyst rolling back the policy, and admits the analyst on a case', () => {
    expect(admitAdmin(session('analyst'), 'POST', '/admin/v1/policy/rollback', 'csrf-token-123')).toMatchObject({ ok: false, status: 403, error: { type: 'forbidden' } });
    expect(admitAdmin(session('analyst'), 'POST', '/admin/v1/cases/c1/act', 'csrf-token-123').ok).toBe(true);
    expect(admitAdmin(session('admin'), 'POST', '/admin/v1/policy/rollback', 'csrf-token-123').ok).toBe(true);
  });

  it('needs the session’s CSRF token on every non-GET request, before the role check', () => {
    for (const given of [undefined, '', 'csrf-token-124', 'csrf-token-12', ['csrf-token-123']]) {
      expect(admitAdmin(session('admin'), 'POST', '/admin/v1/cases/c1/act', given)).toMatchObject({ ok: false, status: 403, error: { type: 'csrf' } });
    }
    expect(admitAdmin(session('viewer'), 'DELETE', '/admin/v1/users/x', undefined)).toMatchObject({ error: { type: 'csrf' } });
    expect(admitAdmin(session('viewer'), 'GET', '/admin/v1/cases', undefined).ok).toBe(true);
  });

  it('needs no CSRF token with the bearer token (not sent by browsers on their own)', () => {
    expect(admitAdmin(token, 'POST', '/admin/v1/policy/rollback', undefined).ok).toBe(true);
  });
});

describe('helpers', () => {
  it('orders roles', () => {
    expect(roleAtLeast('admin', 'analyst')).toBe(true);
    expect(roleAtLeast('analyst', 'analyst')).toBe(true);
    expect(roleAtLeast('viewer', 'analyst')).toBe(false);
  });

  it('compares strings exactly', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcabc')).toBe(false);
    expect(constantTimeEqual('', 'a')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('reads one cookie from a header', () => {
    expect(cookieValue('a=1; warden_session=abc%2Dd; b=2', 'warden_session')).toBe('abc-d');
    expect(cookieValue('xwarden_session=1', 'warden_session')).toBeUndefined();
    expect(cookieValue(undefined, 'warden_session')).toBeUndefined();
  });
});

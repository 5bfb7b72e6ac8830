/**
 * The `StateStore` contract: every implementation (SQLite, PostgreSQL) registers these tests
 * with a factory that returns a fresh, empty store for each test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StateStore } from '../../core/index.js';
import { isWardenError } from '../../core/index.js';
import { makeAccount, makeAction, makeEvent, makeKey, makeOrg, uid } from './fixtures.js';

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected a rejection with code ${code}`).not.toBeNull();
  expect(isWardenError(err) ? err.code : err).toBe(code);
}

export function stateStoreContract(name: string, open: () => Promise<StateStore>): void {
  describe(`StateStore contract: ${name}`, () => {
    const opened: StateStore[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      while (opened.length) await opened.pop()!.close();
    });

    describe('orgs', () => {
      it('round-trips an org with nested fields and returns copies', async () => {
        const store = await fresh();
        const org = makeOrg({
          screening: {
            status: 'hit',
            hits: [
              {
                entity_id: 'wl:example',
                entity_name: 'Example Group',
                list: 'watchlist',
                kind: 'competitor',
                score: 0.93,
                explanation: 'name ~ alias',
                matched_on: 'alias',
              },
            ],
            screened_at: '2026-01-02T03:04:05.000Z',
            lists_version: 'v1',
          },
        });
        await store.createOrg(org);
        const got = await store.getOrg(org.org_id);
        expect(got).toEqual(org);
        got!.aliases.push('mutated');
        got!.owners[0]!.share = 0;
        expect(await store.getOrg(org.org_id)).toEqual(org);
        expect(await store.getOrg(uid('org'))).toBeNull();
      });

      it('refuses a second org with the same id and updates an existing one', async () => {
        const store = await fresh();
        const org = makeOrg();
        await store.createOrg(org);
        await expectCode(store.createOrg({ ...org, name: 'Other' }), 'CONFLICT');
        const changed = { ...org, name: 'Renamed Widgets', declared_use: 'reseller' as const, updated_at: '2026-02-01T00:00:00.000Z' };
        await store.updateOrg(changed);
        expect(await store.getOrg(org.org_id)).toEqual(changed);
        await expectCode(store.updateOrg(makeOrg()), 'NOT_FOUND');
      });

      it('lists orgs in id order with keyset pagination', async () => {
        const store = await fresh();
        const base = uid('org');
        const ids = ['c', 'a', 'b', 'd'].map((s) => `${base}_${s}`);
        for (const id of ids) await store.createOrg(makeOrg({ org_id: id }));
        const page1 = await store.listOrgs({ limit: 2 });
        expect(page1.map((o) => o.org_id)).toEqual([`${base}_a`, `${base}_b`]);
        const page2 = await store.listOrgs({ limit: 2, after: page1[1]!.org_id });
        expect(page2.map((o) => o.org_id)).toEqual([`${base}_c`, `${base}_d`]);
        expect((await store.listOrgs()).length).toBe(4);
      });
    });

    describe('accounts', () => {
      it('round-trips accounts, lists them by org, and refuses duplicates', async () => {
        const store = await fresh();
        const orgId = uid('org');
        const a = makeAccount({ org_id: orgId, account_id: `${orgId}_1` });
        const b = makeAccount({ org_id: orgId, account_id: `${orgId}_2`, owners: undefined, email: undefined });
        const other = makeAccount();
        for (const x of [b, other, a]) await store.createAccount(x);
        expect(await store.getAccount(a.account_id)).toEqual(a);
        expect(await store.getAccount(b.account_id)).toEqual(b);
        expect((await store.listAccounts({ orgId })).map((x) => x.account_id)).toEqual([a.account_id, b.account_id]);
        expect((await store.listAccounts({ orgId, after: a.account_id })).map((x) => x.account_id)).toEqual([b.account_id]);
        expect((await store.listAccounts({ limit: 2 })).length).toBe(2);
        await expectCode(store.createAccount({ ...a }), 'CONFLICT');
        await store.updateAccount({ ...a, verification: 'id' });
        expect((await store.getAccount(a.account_id))?.verification).toBe('id');
        await expectCode(store.updateAccount(makeAccount()), 'NOT_FOUND');
      });

      it('erases an account: events, personal fields and key secrets go, a tombstone stays', async () => {
        const store = await fresh();
        const acc = makeAccount();
        const keep = makeAccount();
        await store.createAccount(acc);
        await store.createAccount(keep);
        const key = makeKey({ account_id: acc.account_id, org_id: acc.org_id });
        await store.createKey(key);
        await store.appendEvents([
          makeEvent({ account_id: acc.account_id }),
          makeEvent({ account_id: acc.account_id }),
          makeEvent({ account_id: keep.account_id }),
        ]);
        await store.putRisk([{ account_id: acc.account_id, risk: 0.9, labels: ['hydra_member'], updated_at: '2026-03-01T00:00:00.000Z' }]);

        await store.deleteAccount(acc.account_id);

        const tomb = await store.getAccount(acc.account_id);
        expect(tomb).toEqual({ account_id: acc.account_id, org_id: acc.org_id, created_at: acc.created_at, status: 'deleted' });
        expect(await store.countEvents({ account_id: acc.account_id })).toBe(0);
        expect(await store.countEvents({ account_id: keep.account_id })).toBe(1);
        const k = await store.getKey(key.key_id);
        expect(k?.secret_hash).not.toBe(key.secret_hash);
        expect(k?.revoked_at).toBeTypeOf('string');
        expect(await store.getRisk(acc.account_id)).toBeNull();
        await expectCode(store.createAccount({ ...acc }), 'CONFLICT');
        await expectCode(store.updateAccount({ ...acc }), 'CONFLICT');
        // Events relayed after the erasure (at-least-once delivery) are not stored again.
        expect(await store.appendEvents([makeEvent({ account_id: acc.account_id })])).toBe(0);
        expect(await store.countEvents({ account_id: acc.account_id })).toBe(0);
        await expectCode(store.deleteAccount(uid('acc')), 'NOT_FOUND');
      });

      it('erases the events of an account it has no record of, leaving a tombstone', async () => {
        const store = await fresh();
        const accountId = uid('acc');
        await store.appendEvents([makeEvent({ account_id: accountId }), makeEvent({ account_id: accountId })]);
        await store.deleteAccount(accountId);
        expect(await store.countEvents({ account_id: accountId })).toBe(0);
        expect((await store.getAccount(accountId))?.status).toBe('deleted');
        expect(await store.appendEvents([makeEvent({ account_id: accountId })])).toBe(0);
      });
    });

    describe('keys', () => {
      it('round-trips keys, lists them by account and org, and refuses duplicates', async () => {
        const store = await fresh();
        const accountId = uid('acc');
        const orgId = uid('org');
        const k1 = makeKey({ account_id: accountId, org_id: orgId, created_at: '2026-01-01T00:00:00.000Z' });
        const k2 = makeKey({
          account_id: accountId,
          org_id: orgId,
          created_at: '2026-01-02T00:00:00.000Z',
          allowed_models: undefined,
          name: undefined,
          rotated_from: k1.key_id,
        });
        const k3 = makeKey({ org_id: orgId });
        for (const k of [k2, k1, k3]) await store.createKey(k);
        expect(await store.getKey(k2.key_id)).toEqual(k2);
        expect(await store.listKeys({ accountId })).toEqual([k1, k2]);
        expect((await store.listKeys({ orgId })).map((k) => k.key_id).sort()).toEqual([k1.key_id, k2.key_id, k3.key_id].sort());
        await expectCode(store.createKey({ ...k1 }), 'CONFLICT');
        expect(await store.getKey(uid('key'))).toBeNull();
      });

      it('patches only the given key fields and records last use in one batch', async () => {
        const store = await fresh();
        const k = makeKey();
        const other = makeKey();
        await store.createKey(k);
        await store.createKey(other);
        await store.updateKey(k.key_id, { expires_at: '2027-01-01T00:00:00.000Z' });
        await store.updateKey(k.key_id, { revoked_at: '2026-06-01T00:00:00.000Z' });
        expect(await store.getKey(k.key_id)).toEqual({
          ...k,
          expires_at: '2027-01-01T00:00:00.000Z',
          revoked_at: '2026-06-01T00:00:00.000Z',
        });
        await store.touchKeys(
          new Map([
            [k.key_id, '2026-03-01T10:00:00.000Z'],
            [other.key_id, '2026-03-01T11:00:00.000Z'],
          ]),
        );
        expect((await store.getKey(k.key_id))?.last_used_at).toBe('2026-03-01T10:00:00.000Z');
        expect((await store.getKey(other.key_id))?.last_used_at).toBe('2026-03-01T11:00:00.000Z');
        // A late batch from another gateway does not move last use backwards.
        await store.touchKeys(new Map([[other.key_id, '2026-03-01T09:00:00.000Z']]));
        expect((await store.getKey(other.key_id))?.last_used_at).toBe('2026-03-01T11:00:00.000Z');
        await expectCode(store.updateKey(uid('key'), { revoked_at: '2026-06-01T00:00:00.000Z' }), 'NOT_FOUND');
      });
    });

    describe('events', () => {
      it('round-trips every field of an event', async () => {
        const store = await fresh();
        const e = makeEvent();
        const bare = makeEvent({ account_id: e.account_id, ts: '2026-03-01T11:00:00.000Z' });
        for (const f of ['ip', 'stream', 'aborted', 'features', 'prompt', 'system', 'asn', 'latency_ms'] as const) delete bare[f];
        expect(await store.appendEvents([e, bare])).toBe(2);
        expect(await store.listEvents({ account_id: e.account_id })).toEqual([e, bare]);
      });

      it('skips event ids already stored, within and across batches', async () => {
        const store = await fresh();
        const accountId = uid('acc');
        const a = makeEvent({ account_id: accountId });
        const b = makeEvent({ account_id: accountId });
        expect(await store.appendEvents([a, b, { ...a }])).toBe(2);
        expect(await store.appendEvents([a, b])).toBe(0);
        const c = makeEvent({ account_id: accountId });
        expect(await store.appendEvents([b, c])).toBe(1);
        expect(await store.countEvents({ account_id: accountId })).toBe(3);
        expect(await store.appendEvents([])).toBe(0);
      });

      it('filters by account, org and time (inclusive since, exclusive until) in time order', async () => {
        const store = await fresh();
        const acc = uid('acc');
        const org = uid('org');
        const at = (h: number) => `2026-03-01T${String(h).padStart(2, '0')}:00:00.000Z`;
        const evs = [5, 1, 3, 2, 4].map((h) => makeEvent({ account_id: acc, org_id: org, ts: at(h) }));
        const otherOrg = makeEvent({ account_id: acc, ts: at(3) });
        await store.appendEvents([...evs, otherOrg]);
        const hours = (list: { ts: string }[]) => list.map((e) => Number(e.ts.slice(11, 13)));
        expect(hours(await store.listEvents({ org_id: org }))).toEqual([1, 2, 3, 4, 5]);
        expect(hours(await store.listEvents({ org_id: org, since: at(2), until: at(4) }))).toEqual([2, 3]);
        expect(hours(await store.listEvents({ org_id: org, limit: 2 }))).toEqual([1, 2]);
        expect(await store.countEvents({ account_id: acc })).toBe(6);
        expect(await store.countEvents({ account_id: acc, since: at(3) })).toBe(4);
        expect(await store.countEvents({ org_id: org, until: at(3) })).toBe(2);
        expect(await store.countEvents()).toBe(6);
      });

      it('compares times by instant, not by spelling (offsets)', async () => {
        const store = await fresh();
        const acc = uid('acc');
        // 10:00+02:00 is 08:00Z: before 09:00Z although its text sorts after it.
        const e = makeEvent({ account_id: acc, ts: '2026-03-01T10:00:00+02:00' });
        await store.appendEvents([e]);
        expect(await store.countEvents({ account_id: acc, until: '2026-03-01T09:00:00Z' })).toBe(1);
        expect(await store.countEvents({ account_id: acc, since: '2026-03-01T08:30:00Z' })).toBe(0);
        expect((await store.listEvents({ account_id: acc }))[0]?.ts).toBe('2026-03-01T10:00:00+02:00');
      });

      it('deletes events older than the retention bound and keeps newer ones', async () => {
        const store = await fresh();
        const acc = uid('acc');
        const old1 = makeEvent({ account_id: acc, ts: '2026-01-01T00:00:00.000Z' });
        const old2 = makeEvent({ account_id: acc, ts: '2026-01-31T23:59:59.999Z' });
        const edge = makeEvent({ account_id: acc, ts: '2026-02-01T00:00:00.000Z' });
        const recent = makeEvent({ account_id: acc, ts: '2026-03-01T00:00:00.000Z' });
        await store.appendEvents([old1, old2, edge, recent]);
        expect(await store.deleteEventsBefore('2026-02-01T00:00:00.000Z')).toBe(2);
        expect((await store.listEvents({ account_id: acc })).map((e) => e.event_id)).toEqual([edge.event_id, recent.event_id]);
        expect(await store.deleteEventsBefore('2026-02-01T00:00:00.000Z')).toBe(0);
      });

      it('scrubs prompt and system text from old events and keeps everything else', async () => {
        const store = await fresh();
        const acc = uid('acc');
        const old = makeEvent({ account_id: acc, ts: '2026-01-01T00:00:00.000Z' });
        const oldNoText = makeEvent({ account_id: acc, ts: '2026-01-02T00:00:00.000Z', prompt: undefined, system: undefined });
        const recent = makeEvent({ account_id: acc, ts: '2026-03-01T00:00:00.000Z' });
        await store.appendEvents([old, oldNoText, recent]);
        expect(await store.scrubRawTextBefore('2026-02-01T00:00:00.000Z')).toBe(1);
        const [a, b, c] = await store.listEvents({ account_id: acc });
        const { prompt: _p, system: _s, ...oldWithoutText } = old;
        expect(a).toEqual(oldWithoutText);
        expect(b).toEqual(oldNoText);
        expect(c).toEqual(recent);
        expect(await store.scrubRawTextBefore('2026-02-01T00:00:00.000Z')).toBe(0);
      });
    });

    describe('policy versions', () => {
      it('numbers versions, skips an unchanged text, and keeps exactly one active', async () => {
        const store = await fresh();
        const v1 = await store.savePolicyVersion('rules: []\n', 'file:policy.yaml', '2026-03-01T00:00:00.000Z');
        expect(v1).toMatchObject({ version: 1, text: 'rules: []\n', source: 'file:policy.yaml', active: false });
        expect(v1.sha256).toMatch(/^[0-9a-f]{64}$/);
        const again = await store.savePolicyVersion('rules: []\n', 'file:policy.yaml', '2026-03-01T01:00:00.000Z');
        expect(again).toEqual(v1);
        const v2 = await store.savePolicyVersion('rules: [a]\n', 'console', '2026-03-01T02:00:00.000Z');
        expect(v2.version).toBe(2);
        expect(v2.sha256).not.toBe(v1.sha256);

        expect(await store.activePolicyVersion()).toBeNull();
        await store.setActivePolicyVersion(1);
        expect(await store.activePolicyVersion()).toBe(1);
        expect((await store.listPolicyVersions()).map((v) => [v.version, v.active])).toEqual([
          [1, true],
          [2, false],
        ]);
        await store.setActivePolicyVersion(2);
        expect((await store.getPolicyVersion(1))?.active).toBe(false);
        expect(await store.getPolicyVersion(2)).toEqual({ ...v2, active: true });
        expect(await store.getPolicyVersion(99)).toBeNull();
        await expectCode(store.setActivePolicyVersion(99), 'NOT_FOUND');
        expect((await store.getPolicyVersion(2))?.active).toBe(true);
        // Going back to an earlier text makes a new version (it differs from the latest).
        expect((await store.savePolicyVersion('rules: []\n', 'console', '2026-03-01T03:00:00.000Z')).version).toBe(3);
      });
    });

    describe('actions', () => {
      it('round-trips actions and lists those in force at a time', async () => {
        const store = await fresh();
        const now = '2026-03-10T00:00:00.000Z';
        const permanent = makeAction({ created_at: '2026-03-01T00:00:00.000Z' });
        const future = makeAction({ created_at: '2026-03-02T00:00:00.000Z', expires_at: '2026-03-11T00:00:00.000Z' });
        const expired = makeAction({ created_at: '2026-03-03T00:00:00.000Z', expires_at: '2026-03-09T00:00:00.000Z' });
        const expiresNow = makeAction({ created_at: '2026-03-04T00:00:00.000Z', expires_at: now });
        const reversed = makeAction({
          created_at: '2026-03-05T00:00:00.000Z',
          reversed_at: '2026-03-06T00:00:00.000Z',
          reversed_by: 'lead@example.test',
          reversed_reason: 'false positive',
        });
        for (const a of [reversed, expired, future, permanent, expiresNow]) await store.putAction(a);
        expect(await store.getAction(reversed.action_id)).toEqual(reversed);
        expect(await store.getAction(uid('act'))).toBeNull();
        expect((await store.listActiveActions(now)).map((a) => a.action_id)).toEqual([permanent.action_id, future.action_id]);
        expect((await store.listActiveActions('2026-03-08T00:00:00.000Z')).map((a) => a.action_id)).toEqual([
          permanent.action_id,
          future.action_id,
          expired.action_id,
          expiresNow.action_id,
        ]);
        // Reversing is a put of the same id with the reversal fields.
        await store.putAction({ ...permanent, reversed_at: now, reversed_by: 'x', reversed_reason: 'appeal' });
        expect((await store.listActiveActions(now)).map((a) => a.action_id)).toEqual([future.action_id]);
      });

      it('lists a subject’s actions newest first, with a limit', async () => {
        const store = await fresh();
        const subject = { kind: 'org' as const, id: uid('org') };
        const a1 = makeAction({ subject, created_at: '2026-03-01T00:00:00.000Z' });
        const a2 = makeAction({ subject, created_at: '2026-03-02T00:00:00.000Z', decision: 'throttle', params: undefined });
        const a3 = makeAction({ subject, created_at: '2026-03-03T00:00:00.000Z' });
        const other = makeAction({ subject: { kind: 'account', id: subject.id } });
        for (const a of [a2, other, a3, a1]) await store.putAction(a);
        expect(await store.listActions({ subject })).toEqual([a3, a2, a1]);
        expect((await store.listActions({ subject, limit: 2 })).map((a) => a.action_id)).toEqual([a3.action_id, a2.action_id]);
        expect((await store.listActions()).length).toBe(4);
      });
    });

    describe('risk and blobs', () => {
      it('upserts risk and keeps null distinct from absent', async () => {
        const store = await fresh();
        const id = uid('acc');
        const r1 = { account_id: id, risk: 0.4, labels: ['key_sharing'], cluster_id: null, updated_at: '2026-03-01T00:00:00.000Z' };
        const other = { account_id: uid('acc'), risk: 0.1, labels: [], updated_at: '2026-03-01T00:00:00.000Z' };
        await store.putRisk([r1, other]);
        expect(await store.getRisk(id)).toEqual(r1);
        expect(await store.getRisk(other.account_id)).toEqual(other);
        const r2 = { ...r1, risk: 0.95, labels: ['hydra_member'], cluster_id: 'cl_7', attributed_entity: 'example-conglomerate' };
        await store.putRisk([r2]);
        expect(await store.getRisk(id)).toEqual(r2);
        expect(await store.getRisk(uid('acc'))).toBeNull();
      });

      it('stores blobs byte for byte and returns copies', async () => {
        const store = await fresh();
        const bytes = Buffer.from([0, 1, 2, 255, 254, 0, 10]);
        await store.putBlob('detect/checkpoint', bytes);
        const got = await store.getBlob('detect/checkpoint');
        expect(got?.equals(bytes)).toBe(true);
        got![0] = 99;
        expect((await store.getBlob('detect/checkpoint'))?.[0]).toBe(0);
        await store.putBlob('detect/checkpoint', Buffer.from('v2'));
        expect((await store.getBlob('detect/checkpoint'))?.toString()).toBe('v2');
        expect(await store.getBlob('missing')).toBeNull();
      });
    });

    describe('console aggregates', () => {
      it('counts events per minute and hour by decision, tokens and distinct IPs, oldest first', async () => {
        const store = await fresh();
        const a = uid('acc');
        const b = uid('acc');
        await store.appendEvents([
          makeEvent({ account_id: a, ts: '2026-03-01T10:00:05.000Z', ip: '198.51.100.1', input_tokens: 10, output_tokens: 1 }),
          makeEvent({ account_id: a, ts: '2026-03-01T10:00:59.999Z', ip: '198.51.100.2', input_tokens: 20, output_tokens: 2 }),
          makeEvent({ account_id: a, ts: '2026-03-01T10:02:00.000Z', ip: '198.51.100.1', decision: 'block', decision_rule: 'region@2', status: 403, input_tokens: 5, output_tokens: 0 }),
          makeEvent({ account_id: b, ts: '2026-03-01T10:02:30.000Z', ip: '198.51.100.9', decision: 'throttle', decision_rule: 'rpm@2', status: 429 }),
          // A throttle decision that still answered is not a refusal.
          makeEvent({ account_id: b, ts: '2026-03-01T10:02:40.000Z', ip: '198.51.100.9', decision: 'throttle', decision_rule: 'rpm@2', status: 200 }),
          makeEvent({ account_id: b, ts: '2026-03-01T11:30:00.000Z', ip: '198.51.100.9' }),
        ]);
        const minutes = await store.eventBuckets({ since: '2026-03-01T10:00:00Z', until: '2026-03-01T11:00:00Z', bucket: 'minute' });
        expect(minutes).toEqual([
          { at: '2026-03-01T10:00:00.000Z', requests: 2, refused: 0, input_tokens: 30, output_tokens: 3, distinct_ips: 2 },
          { at: '2026-03-01T10:02:00.000Z', requests: 3, refused: 2, input_tokens: 245, output_tokens: 960, distinct_ips: 2 },
        ]);
        const hours = await store.eventBuckets({ since: '2026-03-01T00:00:00Z', until: '2026-03-02T00:00:00Z', bucket: 'hour', account_ids: [a] });
        expect(hours).toEqual([{ at: '2026-03-01T10:00:00.000Z', requests: 3, refused: 1, input_tokens: 35, output_tokens: 3, distinct_ips: 2 }]);
        expect(await store.eventBuckets({ since: '2026-03-01T00:00:00Z', until: '2026-03-02T00:00:00Z', bucket: 'hour', account_ids: [] })).toEqual([]);
        expect(await store.refusalsByRule({ since: '2026-03-01T00:00:00Z', until: '2026-03-02T00:00:00Z' })).toEqual([
          { rule: 'region@2', count: 1 },
          { rule: 'rpm@2', count: 1 },
        ]);
      });

      it('lists events newest first when asked', async () => {
        const store = await fresh();
        const a = uid('acc');
        const evs = [1, 2, 3].map((i) => makeEvent({ account_id: a, ts: `2026-03-01T10:00:0${i}.000Z` }));
        await store.appendEvents(evs);
        expect((await store.listEvents({ account_id: a, newest_first: true, limit: 2 })).map((e) => e.event_id)).toEqual([evs[2]!.event_id, evs[1]!.event_id]);
      });

      it('finds accounts by a substring of id, org id, email or org name, case-insensitively', async () => {
        const store = await fresh();
        const org = makeOrg({ name: 'Quokka Holdings' });
        await store.createOrg(org);
        const a = makeAccount({ org_id: org.org_id, email: 'Mallory@Example.test', org_name: undefined });
        const b = makeAccount({ email: 'bob@other.test', org_name: 'Other 100%_Co' });
        await store.createAccount(a);
        await store.createAccount(b);
        expect((await store.listAccounts({ search: 'mallory' })).map((x) => x.account_id)).toEqual([a.account_id]);
        expect((await store.listAccounts({ search: 'QUOKKA' })).map((x) => x.account_id)).toEqual([a.account_id]);
        expect((await store.listAccounts({ search: b.account_id.slice(4, 12) })).map((x) => x.account_id)).toEqual([b.account_id]);
        expect((await store.listAccounts({ search: '100%_' })).map((x) => x.account_id)).toEqual([b.account_id]);
        // LIKE wildcards in the text are literal.
        expect(await store.listAccounts({ search: '%' + 'zz' })).toEqual([]);
        expect((await store.listAccounts({ search: 'test', orgId: org.org_id })).map((x) => x.account_id)).toEqual([a.account_id]);
      });

      it('summarises risk records by cluster, riskiest first', async () => {
        const store = await fresh();
        const c1 = uid('cl');
        const c2 = uid('cl');
        const r = (account_id: string, risk: number, cluster_id: string | null, entity?: string) => ({ account_id, risk, labels: [], cluster_id, ...(entity ? { attributed_entity: entity } : {}), updated_at: '2026-03-01T00:00:00.000Z' });
        await store.putRisk([r(uid('acc'), 0.4, c1), r(uid('acc'), 0.9, c1, 'wl:x'), r(uid('acc'), 0.6, c2), r(uid('acc'), 0.99, null)]);
        expect(await store.riskClusters({ limit: 10 })).toEqual([
          { cluster_id: c1, risk: 0.9, accounts: 2, entity: 'wl:x' },
          { cluster_id: c2, risk: 0.6, accounts: 1 },
        ]);
        expect(await store.riskClusters({ limit: 1 })).toHaveLength(1);
      });
    });
  });
}

/**
 * The admin REST API (`/admin/v1/…`): orgs, accounts, keys, policy versions, enforcement
 * actions, events. Every request goes through the injected `AdminAuthenticator` (the Bearer
 * admin token, or a console session) and `admitAdmin` (role per route, CSRF for sessions);
 * strict JSON validation whose errors name the field.
 * The CLI's state-changing commands call this API so a change (a revoke) takes effect at once.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  admitAdmin,
  httpErrorReply,
  DECISIONS,
  DECLARED_USES,
  Owner,
  StrictAccount,
  VERIFICATION_LEVELS,
  WardenError,
  formatIssuePath,
} from '../core/index.js';
import type {
  AdminAuthenticator,
  AdminPrincipal,
  AuditEntry,
  AccountRecord,
  ApiKeyRecord,
  EnforcementAction,
  EnforcementState,
  Org,
  Screener,
  ScreeningQuery,
  StateStore,
  UsageEvent,
} from '../core/index.js';
import { issueKey, randomId } from './keys.js';
import { compileGlob } from '../policy/index.js';
import type { GatewayInternals, Logger } from './server.js';

export interface AdminDeps {
  store: StateStore;
  enforcement: EnforcementState;
  screener?: Screener;
  /** The admin token; compared in constant time. Used when no `authenticate` is given. */
  token?: string;
  /** Who is calling (token or console session); the composition root injects the console's. */
  authenticate?: AdminAuthenticator;
  now: () => number;
  log: Logger;
  /** Told of each account created (online detection registers it). */
  onAccount?: (account: AccountRecord, org: Org) => void;
  /** Records a decision in the audit log; resolves once it is durable. */
  audit?: (entry: AuditEntry) => Promise<unknown>;
  policy: {
    active(): { version: number };
    versions(): Promise<{ version: number; created_at: string; source: string; active: boolean; sha256: string }[]>;
    text(version: number): Promise<string | null>;
    rollback(version: number): Promise<void>;
    /** Validates, saves and activates an edited text; throws `POLICY_INVALID` with its problems. */
    apply?(text: string, source: string): Promise<{ version: number }>;
  };
}

const country = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code in upper case');
const OrgInput = z.strictObject({
  org_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - (at most 64)').optional(),
  name: z.string().trim().min(1).max(500),
  aliases: z.array(z.string().min(1).max(500)).max(50).default([]),
  email_domain: z.string().max(253).optional(),
  declared_country: country.optional(),
  payment_country: country.optional(),
  declared_use: z.enum(DECLARED_USES).optional(),
  verification: z.enum(VERIFICATION_LEVELS).default('none'),
  owners: z.array(Owner).max(100).default([]),
});
const OrgPatch = OrgInput.omit({ org_id: true }).partial();
const AccountInput = StrictAccount.omit({ account_id: true, created_at: true, org_id: true }).extend({
  account_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/).optional(),
  org_id: z.string().min(1),
});
const KeyInput = z.strictObject({
  account_id: z.string().min(1),
  name: z.string().max(200).optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  allowed_models: z
    .array(
      z.string().min(1).superRefine((g, ctx) => {
        const r = compileGlob(g);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.problem });
      }),
    )
    .max(100)
    .optional(),
});
const RotateInput = z.strictObject({ overlap_seconds: z.number().int().min(0).max(30 * 86400).default(86400) });
const ActionInput = z.strictObject({
  subject: z.strictObject({ kind: z.enum(['key', 'account', 'org', 'cluster', 'end_user']), id: z.string().min(1) }),
  decision: z.enum(DECISIONS),
  reason: z.string().trim().min(1).max(2000),
  author: z.string().min(1).max(200).default('admin'),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  source: z.string().max(200).optional(),
});
const ReverseInput = z.strictObject({ reason: z.string().trim().min(1).max(2000), author: z.string().min(1).max(200).default('admin') });
const RollbackInput = z.strictObject({ version: z.number().int().positive() });
const ApplyPolicyInput = z.strictObject({ text: z.string().min(1).max(1_000_000), reason: z.string().trim().min(1).max(2000) });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message }));
  const e = new WardenError('VALIDATION', issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  (e as WardenError & { issues?: unknown }).issues = issues;
  throw e;
}


/** An authenticator that knows only the Bearer admin token (constant-time comparison of SHA-256 digests). */
export function bearerTokenAuthenticator(token: string): AdminAuthenticator {
  const tokenHash = createHash('sha256').update(token).digest();
  return async ({ headers }) => {
    const h = headers['authorization'];
    const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h) : null;
    const given = createHash('sha256').update(m?.[1] ?? '').digest();
    return m && timingSafeEqual(given, tokenHash) ? { actor: 'admin', role: 'admin', via: 'token' } : null;
  };
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps, gw: GatewayInternals): void {
  if (!deps.authenticate && !deps.token) throw new WardenError('CONFIG_INVALID', 'registerAdminRoutes: give an authenticator or the admin token.');
  const authenticate = deps.authenticate ?? bearerTokenAuthenticator(deps.token!);
  const principals = new WeakMap<FastifyRequest, AdminPrincipal>();
  const actorOf = (req: FastifyRequest) => principals.get(req)?.actor ?? 'admin';
  /** A console session records its user; the token keeps the author the caller names. */
  const authorOf = (req: FastifyRequest, given: string) => (principals.get(req)?.via === 'session' ? actorOf(req) : given);
  const iso = () => new Date(deps.now()).toISOString();
  const audit = async (type: string, actor: string, subject: AuditEntry['subject'] | undefined, data: Record<string, unknown>) => {
    if (deps.audit) await deps.audit({ type, actor, ...(subject ? { subject } : {}), data, at: iso() });
  };

  app.register(async (admin) => {
    admin.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const verdict = admitAdmin(await authenticate({ headers: req.headers }), req.method, req.routeOptions.url ?? req.url, req.headers['x-csrf-token']);
      if (!verdict.ok) return reply.code(verdict.status).send({ error: verdict.error });
      principals.set(req, verdict.principal);
    });
    admin.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const r = httpErrorReply(err, deps.log, 'admin request');
      return reply.code(r.status).send(r.body);
    });

    const queryOf = (o: Org): ScreeningQuery => ({
      name: o.name,
      aliases: o.aliases,
      ...(o.email_domain ? { domains: [o.email_domain] } : {}),
      owners: o.owners,
      ...(o.declared_country ? { country: o.declared_country } : {}),
    });
    /** Screens an org; owners that are orgs here count through their own owners (the 50% rule). */
    const screen = async (org: Org): Promise<Org> => {
      if (!deps.screener) return org;
      const known = new Map<string, ScreeningQuery>();
      let frontier = org.owners.map((o) => o.org_id).filter((id): id is string => !!id);
      while (frontier.length && known.size < 200) {
        const next: string[] = [];
        for (const id of frontier) {
          if (known.has(id) || id === org.org_id) continue;
          const o = await deps.store.getOrg(id);
          if (!o) continue;
          known.set(id, queryOf(o));
          for (const ow of o.owners) if (ow.org_id) next.push(ow.org_id);
        }
        frontier = next;
      }
      return { ...org, screening: deps.screener.screen(queryOf(org), { resolveOrg: (id) => known.get(id) }) };
    };
    const mustOrg = async (id: string) => {
      const o = await deps.store.getOrg(id);
      if (!o) throw new WardenError('NOT_FOUND', `No org "${id}".`);
      return o;
    };
    const mustAccount = async (id: string) => {
      const a = await deps.store.getAccount(id);
      if (!a || a.status === 'deleted') throw new WardenError('NOT_FOUND', `No account "${id}".`);
      return a;
    };
    const mustKey = async (id: string) => {
      const k = await deps.store.getKey(id);
      if (!k) throw new WardenError('NOT_FOUND', `No key "${id}".`);
      return k;
    };
    const publicKey = ({ secret_hash: _h, ...k }: ApiKeyRecord) => k;

    // Orgs
    admin.post('/orgs', async (req, reply) => {
      const input = parse(OrgInput, req.body);
      const at = iso();
      const org_id = input.org_id ?? `org_${randomId(12)}`;
      if (await deps.store.getOrg(org_id)) throw new WardenError('CONFLICT', `Org "${org_id}" exists already.`);
      const { org_id: _ignored, ...rest } = input;
      const org = await screen({ ...rest, org_id, created_at: at, updated_at: at, screening: null });
      await deps.store.createOrg(org);
      return reply.code(201).send(org);
    });
    admin.get('/orgs', async (req) => {
      const q = req.query as { limit?: string; after?: string };
      return { orgs: await deps.store.listOrgs({ limit: Math.min(Number(q.limit ?? 100), 1000), ...(q.after ? { after: q.after } : {}) }) };
    });
    admin.get('/orgs/:id', async (req) => mustOrg((req.params as { id: string }).id));
    admin.patch('/orgs/:id', async (req) => {
      const id = (req.params as { id: string }).id;
      const patch = parse(OrgPatch, req.body);
      const org = await screen({ ...(await mustOrg(id)), ...stripUndefined(patch), updated_at: iso() });
      await deps.store.updateOrg(org);
      gw.invalidateOrg(id);
      return org;
    });

    // Accounts
    admin.post('/accounts', async (req, reply) => {
      const input = parse(AccountInput, req.body);
      const org = await mustOrg(input.org_id);
      const account_id = input.account_id ?? `acc_${randomId(12)}`;
      if (await deps.store.getAccount(account_id)) throw new WardenError('CONFLICT', `Account "${account_id}" exists already.`);
      const account: AccountRecord = { ...stripUndefined(input), account_id, org_id: org.org_id, created_at: iso(), status: 'active' };
      await deps.store.createAccount(account);
      deps.onAccount?.(account, org);
      return reply.code(201).send(account);
    });
    admin.get('/accounts', async (req) => {
      const q = req.query as { org_id?: string; limit?: string; after?: string; q?: string };
      if (q.q !== undefined && q.q.length > 200) throw new WardenError('VALIDATION', 'q: at most 200 characters.');
      return {
        accounts: await deps.store.listAccounts({
          ...(q.org_id ? { orgId: q.org_id } : {}),
          limit: Math.min(Number(q.limit ?? 100), 1000),
          ...(q.after ? { after: q.after } : {}),
          ...(q.q ? { search: q.q } : {}),
        }),
      };
    });
    admin.get('/accounts/:id', async (req) => mustAccount((req.params as { id: string }).id));
    /** Data-subject access: everything Warden holds on the account. */
    admin.get('/accounts/:id/export', async (req) => {
      const id = (req.params as { id: string }).id;
      const account = await mustAccount(id);
      const org = await deps.store.getOrg(account.org_id);
      const keys = (await deps.store.listKeys({ accountId: id })).map(publicKey);
      const events: UsageEvent[] = await deps.store.listEvents({ account_id: id, limit: 1_000_000 });
      const actions = await deps.store.listActions({ subject: { kind: 'account', id } });
      const risk = await deps.store.getRisk(id);
      return { exported_at: iso(), account, org, keys, events, actions, risk };
    });
    /** Data-subject erasure. */
    admin.delete('/accounts/:id', async (req) => {
      const id = (req.params as { id: string }).id;
      await mustAccount(id);
      const keys = await deps.store.listKeys({ accountId: id });
      await deps.store.deleteAccount(id);
      await audit('account.erase', actorOf(req), { kind: 'account', id }, { keys_revoked: keys.length });
      for (const k of keys) gw.invalidateKey(k.key_id);
      gw.invalidateAccount(id);
      gw.invalidateRisk(id);
      return { deleted: id, keys_revoked: keys.length };
    });

    // Keys
    admin.post('/keys', async (req, reply) => {
      const input = parse(KeyInput, req.body);
      const account = await mustAccount(input.account_id);
      const issued = issueKey();
      const record: ApiKeyRecord = {
        key_id: issued.keyId,
        account_id: account.account_id,
        org_id: account.org_id,
        secret_hash: issued.secretHash,
        prefix: issued.prefix,
        created_at: iso(),
        ...(input.name ? { name: input.name } : {}),
        ...(input.expires_at ? { expires_at: input.expires_at } : {}),
        ...(input.allowed_models ? { allowed_models: input.allowed_models } : {}),
      };
      await deps.store.createKey(record);
      // Screening runs when a key is issued, so a changed list catches an old org.
      const org = await deps.store.getOrg(account.org_id);
      if (org && deps.screener) {
        await deps.store.updateOrg(await screen({ ...org, updated_at: iso() }));
        gw.invalidateOrg(org.org_id);
      }
      gw.invalidateKey(issued.keyId);
      return reply.code(201).send({ ...publicKey(record), key: issued.key, note: 'The key is shown once: store it now.' });
    });
    admin.get('/keys', async (req) => {
      const q = req.query as { account_id?: string; org_id?: string };
      const keys = await deps.store.listKeys({ ...(q.account_id ? { accountId: q.account_id } : {}), ...(q.org_id ? { orgId: q.org_id } : {}) });
      return { keys: keys.map(publicKey) };
    });
    admin.get('/keys/:id', async (req) => publicKey(await mustKey((req.params as { id: string }).id)));
    admin.post('/keys/:id/revoke', async (req) => {
      const id = (req.params as { id: string }).id;
      const key = await mustKey(id);
      if (!key.revoked_at) {
        await deps.store.updateKey(id, { revoked_at: iso() });
        await audit('key.revoke', actorOf(req), { kind: 'key', id }, { account_id: key.account_id, org_id: key.org_id });
      }
      gw.invalidateKey(id);
      return publicKey((await deps.store.getKey(id))!);
    });
    admin.post('/keys/:id/rotate', async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const { overlap_seconds } = parse(RotateInput, req.body);
      const old = await mustKey(id);
      if (old.revoked_at) throw new WardenError('CONFLICT', `Key "${id}" is revoked; create a new key instead.`);
      const issued = issueKey();
      const record: ApiKeyRecord = {
        key_id: issued.keyId,
        account_id: old.account_id,
        org_id: old.org_id,
        secret_hash: issued.secretHash,
        prefix: issued.prefix,
        created_at: iso(),
        rotated_from: old.key_id,
        ...(old.name ? { name: old.name } : {}),
        ...(old.allowed_models ? { allowed_models: old.allowed_models } : {}),
      };
      await deps.store.createKey(record);
      const overlapEnd = new Date(deps.now() + overlap_seconds * 1000).toISOString();
      if (!old.expires_at || old.expires_at > overlapEnd) await deps.store.updateKey(id, { expires_at: overlapEnd });
      await audit('key.rotate', actorOf(req), { kind: 'key', id }, { new_key_id: issued.keyId, old_key_expires_at: overlapEnd });
      gw.invalidateKey(id);
      gw.invalidateKey(issued.keyId);
      return reply.code(201).send({ ...publicKey(record), key: issued.key, old_key_expires_at: overlapEnd, note: 'The key is shown once: store it now.' });
    });

    // Policy
    admin.get('/policy', async () => {
      const v = deps.policy.active().version;
      return { version: v, text: await deps.policy.text(v) };
    });
    admin.get('/policy/versions', async () => ({ versions: await deps.policy.versions() }));
    admin.post('/policy/rollback', async (req) => {
      const { version } = parse(RollbackInput, req.body);
      await deps.policy.rollback(version);
      await audit('policy.rollback', actorOf(req), undefined, { version });
      return { version: deps.policy.active().version };
    });
    // An edited policy from the console, after its dry run: saved as a new version and active at
    // once. The file on disk is not rewritten; its next change is loaded as usual.
    admin.post('/policy', async (req, reply) => {
      const apply = deps.policy.apply;
      if (!apply) throw new WardenError('UNAVAILABLE', 'This server cannot apply a policy text; edit the policy file instead.');
      const { text, reason } = parse(ApplyPolicyInput, req.body);
      const actor = actorOf(req);
      const { version } = await apply(text, `admin:${actor}`);
      await audit('policy.apply', actor, undefined, { version, reason });
      return reply.code(201).send({ version });
    });

    // Enforcement actions
    admin.post('/actions', async (req, reply) => {
      const input = parse(ActionInput, req.body);
      input.author = authorOf(req, input.author);
      const action: EnforcementAction = { action_id: `act_${randomId(14)}`, created_at: iso(), ...stripUndefined(input) };
      await deps.enforcement.apply({ type: 'put', action });
      await audit('action.put', action.author, action.subject, { action_id: action.action_id, decision: action.decision, reason: action.reason, expires_at: action.expires_at ?? null, source: action.source ?? null });
      return reply.code(201).send(action);
    });
    admin.get('/actions', async (req) => {
      const q = req.query as { active?: string };
      return { actions: q.active === 'false' ? await deps.store.listActions({ limit: 1000 }) : await deps.enforcement.active(iso()) };
    });
    admin.post('/actions/:id/reverse', async (req) => {
      const id = (req.params as { id: string }).id;
      const input = parse(ReverseInput, req.body);
      input.author = authorOf(req, input.author);
      const action = await deps.store.getAction(id);
      if (!action) throw new WardenError('NOT_FOUND', `No action "${id}".`);
      if (action.reversed_at) throw new WardenError('CONFLICT', `Action "${id}" was reversed already.`);
      const reversed: EnforcementAction = { ...action, reversed_at: iso(), reversed_by: input.author, reversed_reason: input.reason };
      await deps.enforcement.apply({ type: 'reverse', action: reversed });
      await audit('action.reverse', input.author, action.subject, { action_id: id, reason: input.reason, decision: action.decision });
      return reversed;
    });

    // Events
    admin.get('/events', async (req) => {
      const q = req.query as { account_id?: string; since?: string; until?: string; limit?: string };
      return {
        events: await deps.store.listEvents({
          ...(q.account_id ? { account_id: q.account_id } : {}),
          ...(q.since ? { since: q.since } : {}),
          ...(q.until ? { until: q.until } : {}),
          limit: Math.min(Number(q.limit ?? 100), 10_000),
        }),
      };
    });
  }, { prefix: '/admin/v1' });
}

function stripUndefined<T extends object>(o: T): T {
  const out = {} as T;
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

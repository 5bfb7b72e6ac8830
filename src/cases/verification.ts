/**
 * Verification lifts `step_up`: when an account passes verification (an admin records it, or a
 * verification provider's signed webhook reports it), its verification level is raised and every
 * `step_up` action in force on the account or its keys is reversed with the reason
 * "verification passed": through `EnforcementState.apply` (every gateway lets the key through on
 * its next request), audited, and recorded on the case the action came from.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { httpErrorReply, NotFoundError, VERIFICATION_LEVELS, ValidationError, WardenError, formatIssuePath, verificationRank } from '../core/index.js';
import type { AdminAuthenticator, AuditLog, CaseStore, EnforcementAction, EnforcementState, StateStore, Subject, VerificationLevel } from '../core/index.js';
import { recordCaseReversal } from './case-ops.js';
import { adminGuard } from './enforcement-routes.js';

export const VERIFICATION_PASSED = 'verification passed';

export interface VerificationDeps {
  store: Pick<StateStore, 'getAccount' | 'updateAccount' | 'listActions' | 'listKeys' | 'getRisk'>;
  cases: CaseStore;
  enforcement: Pick<EnforcementState, 'apply'>;
  audit?: Pick<AuditLog, 'append'>;
  now: () => number;
}

export interface VerificationInput {
  level: VerificationLevel;
  /** How it was verified: `document`, `business_registry`, a provider's name… */
  method: string;
  /** The provider's or reviewer's reference for the check (never a document number). */
  reference: string;
  /** Who records it: an admin, or `verification:<provider>` for the webhook. */
  by: string;
}

export interface VerificationResult {
  account_id: string;
  verification: { from: VerificationLevel; to: VerificationLevel };
  /** step_up actions reversed. */
  lifted: EnforcementAction[];
  /**
   * step_up actions still in force on the account's org or cluster: they cover other accounts
   * too, so one account's verification does not lift them (an analyst decides).
   */
  remaining: { action_id: string; subject: Subject }[];
}

const inForce = (a: EnforcementAction, now: number) => !a.reversed_at && (!a.expires_at || Date.parse(a.expires_at) > now);

/** Records a passed verification and lifts the account's step_up actions. */
export async function recordVerification(deps: VerificationDeps, accountId: string, input: VerificationInput): Promise<VerificationResult> {
  const account = await deps.store.getAccount(accountId);
  if (!account || account.status === 'deleted') throw new NotFoundError(`No account "${accountId}". Check the id (GET /admin/v1/accounts).`);
  const now = deps.now();
  const at = new Date(now).toISOString();
  const from: VerificationLevel = account.verification ?? 'none';
  // Verification only ever rises here; lowering it is an account update.
  const to: VerificationLevel = verificationRank(input.level) > verificationRank(from) ? input.level : from;
  if (to !== from) await deps.store.updateAccount({ ...account, verification: to });

  const subjects: Subject[] = [{ kind: 'account', id: accountId }, ...(await deps.store.listKeys({ accountId })).map((k) => ({ kind: 'key' as const, id: k.key_id }))];
  const lifted: EnforcementAction[] = [];
  for (const subject of subjects) {
    for (const a of await deps.store.listActions({ subject, limit: 1000 })) {
      if (a.decision !== 'step_up' || !inForce(a, now)) continue;
      const reversed: EnforcementAction = { ...a, reversed_at: at, reversed_by: input.by, reversed_reason: VERIFICATION_PASSED };
      await deps.enforcement.apply({ type: 'reverse', action: reversed });
      await deps.audit?.append({ type: 'action.reverse', actor: input.by, subject: a.subject, data: { action_id: a.action_id, reason: VERIFICATION_PASSED, decision: a.decision }, at });
      const caseId = a.source?.startsWith('case:') ? a.source.slice(5) : undefined;
      if (caseId && (await deps.cases.getCase(caseId))) {
        await recordCaseReversal(deps.cases, caseId, reversed, { by: input.by, at, ...(deps.audit ? { audit: deps.audit } : {}) });
      }
      lifted.push(reversed);
    }
  }

  const wider: Subject[] = [{ kind: 'org', id: account.org_id }];
  const risk = await deps.store.getRisk(accountId);
  if (risk?.cluster_id) wider.push({ kind: 'cluster', id: risk.cluster_id });
  const remaining: VerificationResult['remaining'] = [];
  for (const subject of wider) {
    for (const a of await deps.store.listActions({ subject, limit: 1000 })) if (a.decision === 'step_up' && inForce(a, now)) remaining.push({ action_id: a.action_id, subject });
  }

  await deps.audit?.append({
    type: 'account.verification',
    actor: input.by,
    subject: { kind: 'account', id: accountId },
    data: { from, to, requested: input.level, method: input.method, reference: input.reference, lifted: lifted.map((a) => a.action_id), remaining: remaining.map((r) => r.action_id) },
    at,
  });
  return { account_id: accountId, verification: { from, to }, lifted, remaining };
}

// ---------------------------------------------------------------------------------------------
// The provider's webhook signature

/** The header a verification provider signs with: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const VERIFICATION_SIGNATURE_HEADER = 'warden-signature';

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * Checks `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (the scheme Warden's
 * own outgoing webhooks use): `t` within `toleranceSeconds` of now, the HMAC compared in
 * constant time.
 */
export function checkVerificationSignature(secret: string, header: string | undefined, body: string, opts: { now: number; toleranceSeconds: number }): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  const parts = new Map(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return { ok: false, reason: 'malformed' };
  if (Math.abs(Math.floor(opts.now / 1000) - t) > opts.toleranceSeconds) return { ok: false, reason: 'stale' };
  const want = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(want, Buffer.from(v1, 'hex')) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

// ---------------------------------------------------------------------------------------------
// Routes

const text = (max: number) => z.string().trim().min(1).max(max);
const AdminVerificationInput = z.strictObject({
  level: z.enum(VERIFICATION_LEVELS),
  method: text(100),
  reference: text(200),
  author: text(200).default('admin'),
});
export const VerificationWebhookEvent = z.strictObject({
  /** The provider's event id; an id seen before is not processed again. */
  event_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits and _ . : - (at most 128)'),
  type: z.enum(['verification.passed', 'verification.failed']),
  account_id: text(128),
  level: z.enum(VERIFICATION_LEVELS),
  method: text(100),
  reference: text(200),
});


function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message }));
  throw new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

function errorHandler(log: { error(obj: object, msg: string): void }) {
  return (err: Error & { statusCode?: number }, _req: FastifyRequest, reply: FastifyReply) => {
    const r = httpErrorReply(err, log, 'verification request');
    return reply.code(r.status).send(r.body);
  };
}

export interface VerificationRoutesDeps extends VerificationDeps {
  /** The admin API's authenticator (admin token or console session); the route needs role admin. */
  authenticate: AdminAuthenticator;
  log: { error(obj: object, msg: string): void; info?(obj: object, msg: string): void };
}

/** `POST /admin/v1/accounts/:id/verification` `{ level, method, reference, author? }`. */
export function registerVerificationAdminRoute(app: FastifyInstance, deps: VerificationRoutesDeps): void {
  const guard = adminGuard(deps.authenticate);
  app.register(async (admin) => {
    admin.setErrorHandler(errorHandler(deps.log));
    admin.post('/admin/v1/accounts/:id/verification', async (req, reply) => {
      const principal = await guard(req, reply);
      if (!principal) return reply;
      const input = parse(AdminVerificationInput, req.body);
      // A console session records its user; the token keeps the author the caller names.
      const by = principal.via === 'session' ? principal.actor : input.author;
      return recordVerification(deps, (req.params as { id: string }).id, { level: input.level, method: input.method, reference: input.reference, by });
    });
  });
}

export interface VerificationWebhookDeps extends VerificationDeps {
  store: VerificationDeps['store'] & Pick<StateStore, 'getBlob' | 'putBlob'>;
  /** The secret shared with the provider (`verification.webhook_secret`). */
  secret: string;
  /** How far `t` may be from now. Default 300 s. */
  toleranceSeconds?: number;
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Blob key marking a processed provider event (replay protection). */
export const webhookEventKey = (eventId: string) => `verification:webhook:${eventId}`;

/**
 * `POST /v1/warden/verification/webhook`: a verification provider reports a check, signed with
 * the shared secret. Unsigned, badly signed or stale deliveries are refused (401); an event id
 * seen before is answered `duplicate` and not processed again; an unknown account is a 404
 * (the event is not consumed, so a retry after the account exists works).
 */
export function registerVerificationWebhook(app: FastifyInstance, deps: VerificationWebhookDeps): void {
  if (deps.secret.length < 16) throw new WardenError('CONFIG_INVALID', 'verification.webhook_secret: at least 16 characters; generate one with `openssl rand -hex 32`.');
  const tolerance = deps.toleranceSeconds ?? 300;
  // One event at a time, so two deliveries of the same id cannot both pass the replay check.
  let chain: Promise<unknown> = Promise.resolve();
  app.register(async (hook) => {
    // The signature covers the raw bytes: keep them (this parser is local to this plugin).
    hook.removeContentTypeParser('application/json');
    hook.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      (req as FastifyRequest & { rawBody?: string }).rawBody = body as string;
      try {
        done(null, body === '' ? {} : JSON.parse(body as string));
      } catch {
        done(Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400 }), undefined);
      }
    });
    hook.setErrorHandler(errorHandler(deps.log));
    hook.post('/v1/warden/verification/webhook', async (req, reply) => {
      const raw = (req as FastifyRequest & { rawBody?: string }).rawBody ?? '';
      const header = req.headers[VERIFICATION_SIGNATURE_HEADER];
      const check = checkVerificationSignature(deps.secret, Array.isArray(header) ? header[0] : header, raw, { now: deps.now(), toleranceSeconds: tolerance });
      if (!check.ok) {
        deps.log.warn({ reason: check.reason }, 'verification webhook refused');
        const message =
          check.reason === 'stale'
            ? `The signature timestamp is more than ${tolerance} seconds from now; sign each delivery when sending it.`
            : `Send ${VERIFICATION_SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the shared secret>.`;
        return reply.code(401).send({ error: { type: check.reason === 'stale' ? 'stale_signature' : 'invalid_signature', message } });
      }
      const event = parse(VerificationWebhookEvent, req.body);
      const run = chain.then(async () => {
        if (await deps.store.getBlob(webhookEventKey(event.event_id))) return { status: 'duplicate' as const, event_id: event.event_id };
        const by = `verification:${event.method}`;
        let lifted = 0;
        if (event.type === 'verification.passed') {
          const r = await recordVerification(deps, event.account_id, { level: event.level, method: event.method, reference: event.reference, by });
          lifted = r.lifted.length;
        } else {
          if (!(await deps.store.getAccount(event.account_id))) throw new NotFoundError(`No account "${event.account_id}".`);
          await deps.audit?.append({ type: 'account.verification_failed', actor: by, subject: { kind: 'account', id: event.account_id }, data: { level: event.level, method: event.method, reference: event.reference, event_id: event.event_id }, at: new Date(deps.now()).toISOString() });
        }
        await deps.store.putBlob(webhookEventKey(event.event_id), Buffer.from(JSON.stringify({ at: new Date(deps.now()).toISOString(), type: event.type, account_id: event.account_id })));
        return { status: 'processed' as const, event_id: event.event_id, lifted };
      });
      chain = run.catch(() => undefined);
      return reply.code(200).send(await run);
    });
  });
}

/**
 * The customer's side of enforcement: an appeal filed with the customer's own Warden key
 * (`POST /v1/warden/appeals`). It reopens every case about the key's account or its cluster as
 * `appealed`, with the customer's words as a note, in the audit log and to the webhooks.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditLog, CaseStore, StateStore } from '../core/index.js';
import { setCaseStatus } from '../cases/index.js';
import { keyUnusable, parseKey, presentedKey, secretMatches } from '../gateway/index.js';
import { randomBytes } from 'node:crypto';

const AppealInput = z.strictObject({
  reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(5000),
  contact: z.string().trim().max(320).optional(),
});

export function registerAppealRoute(
  app: FastifyInstance,
  deps: { store: StateStore; cases: CaseStore; audit: Pick<AuditLog, 'append'>; emit?: (e: { type: string; at: string; data: Record<string, unknown> }) => void; now: () => number },
): void {
  app.post('/v1/warden/appeals', async (req, reply) => {
    const err = (status: number, type: string, message: string) => reply.code(status).send({ type: 'error', error: { type, message } });
    const presented = presentedKey(req.headers);
    const parsed = presented ? parseKey(presented) : null;
    const key = parsed ? await deps.store.getKey(parsed.keyId) : null;
    // A blocked key may appeal; a revoked, expired or unknown one may not.
    if (!parsed || !key || !secretMatches(parsed.secret, key.secret_hash) || keyUnusable(key, deps.now())) {
      return err(401, 'authentication_error', 'Send your Warden API key (x-api-key or Authorization: Bearer) to file an appeal.');
    }
    const input = AppealInput.safeParse(req.body ?? {});
    if (!input.success) {
      return err(400, 'invalid_request_error', input.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
    }
    const at = new Date(deps.now()).toISOString();
    const appealId = `apl_${randomBytes(8).toString('hex')}`;
    const risk = await deps.store.getRisk(key.account_id);
    const byAccount = await deps.cases.listCases({ account_id: key.account_id, limit: 100 });
    const byCluster = risk?.cluster_id ? await deps.cases.listCases({ cluster_id: risk.cluster_id, limit: 100 }) : [];
    const open = [...new Map([...byAccount, ...byCluster].map((c) => [c.case_id, c])).values()].filter((c) => c.status !== 'closed');
    for (const c of open) {
      await deps.cases.addNote(c.case_id, { note_id: `${appealId}_${c.case_id}`, author: `customer:${key.account_id}`, text: `Appeal ${appealId}: ${input.data.reason}${input.data.contact ? ` (contact: ${input.data.contact})` : ''}`, at });
      await setCaseStatus(deps.cases, c.case_id, 'appealed', { by: `customer:${key.account_id}`, at, audit: deps.audit, reason: `appeal ${appealId}` });
    }
    await deps.audit.append({ type: 'case.appeal', actor: `customer:${key.account_id}`, subject: { kind: 'account', id: key.account_id }, data: { appeal_id: appealId, cases: open.map((c) => c.case_id), key_id: key.key_id }, at });
    deps.emit?.({ type: 'case.appeal', at, data: { appeal_id: appealId, account_id: key.account_id, cases: open.map((c) => c.case_id) } });
    return reply.code(202).send({
      appeal_id: appealId,
      status: 'received',
      cases_reopened: open.length,
      message: open.length ? 'Your appeal was received and the decision will be reviewed. You will be contacted.' : 'Your appeal was received; there is no open enforcement case on this account, so support will review it.',
    });
  });
}

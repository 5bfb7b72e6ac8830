/**
 * The cases admin API under `/admin/v1`: list and read cases, notes, assignment, status,
 * actions taken for a case (enforcement actions on its clusters, accounts or orgs), reversals,
 * alert intake and dispositions, evidence reports (JSON, HTML) and STIX export and import.
 * The same injected `AdminAuthenticator` as the rest of the admin API (the Bearer admin token,
 * compared in constant time, or a console session) with `admitAdmin`'s role per route and CSRF
 * check; a session's username is the author of what it does. Strict validation whose errors
 * name the field. Registered by the composition root (`warden serve`)
 * through the gateway's `routes` hook; this part never imports the gateway.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  admitAdmin,
  httpErrorReply,
  ALERT_VERDICTS,
  CASE_SEVERITIES,
  CASE_STATUSES,
  NotFoundError,
  ValidationError,
  WardenError,
  formatIssuePath,
} from '../core/index.js';
import type {
  AdminAuthenticator,
  AdminPrincipal,
  Alert,
  AuditLog,
  Case,
  CaseQuery,
  CaseStore,
  EnforcementAction,
  EnforcementState,
  StateStore,
  UsageEvent,
} from '../core/index.js';
import { ingestAlerts } from './ingest.js';
import { assignCase, disposeAlert, recordCaseReversal, setCaseStatus } from './case-ops.js';
import { actForCase } from './act.js';
import { caseReportJson, type CaseReport, type CaseUsageVolumes } from './report.js';
import { collectCaseIndicators, exportStixBundle, importStixBundle, type ImportedIdentity, type ImportedIndicator, type StixImportProblem, type Tlp } from './stix.js';
import { redactPrompt, renderCaseReportHtml, type ReportExtras } from './report-html.js';

/** Where imported STIX indicators are kept (a JSON `StixImportRecord[]` in the state store). */
export const STIX_IMPORTS_BLOB = 'stix:imports';

export interface StixImportRecord {
  bundle_id: string;
  imported_at: string;
  imported_by: string;
  indicators: ImportedIndicator[];
  identities: ImportedIdentity[];
  problems: StixImportProblem[];
}

/** A case or alert event for outside listeners (webhooks). Never awaited by the routes. */
export interface CaseEvent {
  type: 'alert.ingested' | 'case.created' | 'case.updated' | 'case.action' | 'case.reversal' | 'case.status' | 'alert.disposition';
  at: string;
  data: Record<string, unknown>;
}

export interface CaseRoutesDeps {
  cases: CaseStore;
  store: Pick<StateStore, 'getAction' | 'getAccount' | 'listEvents' | 'putBlob' | 'getBlob'>;
  enforcement: Pick<EnforcementState, 'apply'>;
  /** The admin token; compared in constant time. Used when no `authenticate` is given. */
  token?: string;
  /** Who is calling (token or console session); the composition root injects the console's. */
  authenticate?: AdminAuthenticator;
  now: () => number;
  log: { error(obj: object, msg: string): void };
  /** Where decisions are recorded; each route resolves after its records are durable. */
  audit?: Pick<AuditLog, 'append'>;
  /** The provider's name in reports and STIX bundles. Default `Warden`. */
  provider?: string;
  /** Called with each case event (webhook delivery); must not block. */
  emit?: (event: CaseEvent) => void;
  /** Per-account cap on events read for a report's volumes and timeline. Default 20 000. */
  reportEventLimit?: number;
}

// ---------------------------------------------------------------------------------------------
// Input schemas

const id = z.string().regex(/^[A-Za-z0-9_.:@-]{1,128}$/, 'letters, digits and _ . : @ - (at most 128)');
const author = z.string().trim().min(1).max(200).default('admin');
const reason = z.string().trim().min(1).max(2000);
const isoTime = z.iso.datetime({ offset: true });

const EvidenceInput = z.strictObject({
  code: z.string().min(1).max(200),
  detail: z.string().max(5000),
  weight: z.number().min(0).max(1),
  data: z.record(z.string(), z.unknown()).optional(),
});
const IndicatorsInput = z.strictObject({
  ip_ranges: z.array(z.string().min(1).max(64)).max(10_000).optional(),
  asns: z.array(z.number().int().nonnegative()).max(10_000).optional(),
  payment_fingerprints: z.array(z.string().min(1).max(512)).max(10_000).optional(),
  device_fingerprints: z.array(z.string().min(1).max(512)).max(10_000).optional(),
  email_domains: z.array(z.string().min(1).max(253)).max(10_000).optional(),
  prompt_fingerprints: z.array(z.string().min(1).max(512)).max(10_000).optional(),
});
const AlertInput = z.strictObject({
  alert_id: id,
  detector: z.string().min(1).max(200),
  subjects: z.strictObject({
    accounts: z.array(id).max(100_000),
    cluster_id: id.optional(),
    entity: id.optional(),
    end_user_ids: z.array(z.string().min(1).max(256)).max(100_000).optional(),
  }),
  score: z.number().min(0).max(1),
  labels: z.array(z.string().min(1).max(200)).max(100).optional(),
  evidence: z.array(EvidenceInput).max(1000),
  indicators: IndicatorsInput.optional(),
  created_at: isoTime,
});
const AlertsInput = z.strictObject({ alerts: z.array(AlertInput).min(1).max(10_000), actor: z.string().min(1).max(200).optional() });
const NoteInput = z.strictObject({ text: z.string().trim().min(1).max(20_000), author });
const AssignInput = z.strictObject({ assignee: z.string().trim().min(1).max(200).nullable(), author });
const StatusInput = z.strictObject({ status: z.enum(CASE_STATUSES), reason: reason.optional(), author });
export const CASE_ACTION_KINDS = ['block', 'throttle', 'step_up', 'degrade', 'monitor'] as const;
const ActInput = z.strictObject({
  action: z.enum(CASE_ACTION_KINDS),
  reason,
  scope: z.enum(['cluster', 'accounts', 'org']).optional(),
  expires_at: isoTime.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  author,
});
const ReverseInput = z.strictObject({ action_id: z.string().min(1).max(200), reason, author });
const DispositionInput = z.strictObject({ verdict: z.enum(ALERT_VERDICTS), reason, author });
const csv = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values)));
const ListQuery = z.strictObject({
  status: csv(CASE_STATUSES).optional(),
  severity: csv(CASE_SEVERITIES).optional(),
  entity: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  cluster: z.string().min(1).optional(),
  assignee: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.string().min(1).optional(),
});
const AlertListQuery = z.strictObject({
  /** `any` (disposed alerts), or verdicts comma-separated; without it every alert, open or not. */
  disposition: z
    .string()
    .transform((s) => (s.trim() === 'any' ? 'any' : s.split(',').map((x) => x.trim()).filter(Boolean)))
    .pipe(z.union([z.literal('any'), z.array(z.enum(ALERT_VERDICTS)).min(1, 'any, or verdicts comma-separated')]))
    .optional(),
  since: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
const ReportQuery = z.strictObject({ format: z.enum(['json', 'html']).default('json') });
const StixExpireInput = z.strictObject({ at: isoTime.optional() });
const StixQuery = z.strictObject({ tlp: z.enum(['white', 'green', 'amber', 'red']).default('amber') });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message }));
  throw new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}


// ---------------------------------------------------------------------------------------------
// Report inputs from usage events

/** Volumes, requests per hour and a few redacted prompts of the given accounts' events. */
export function usageOfEvents(events: readonly UsageEvent[], samples = 6): { usage: CaseUsageVolumes; extras: ReportExtras } {
  const by: NonNullable<CaseUsageVolumes['by_account']> = {};
  const hours = new Map<string, number>();
  let since: string | undefined;
  let until: string | undefined;
  const usage: CaseUsageVolumes = { requests: 0, input_tokens: 0, output_tokens: 0 };
  const prompts: ReportExtras['samples'] = [];
  const sorted = [...events].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.event_id < b.event_id ? -1 : 1));
  for (const e of sorted) {
    const acc = e.account_id ?? '(none)';
    const row = (by[acc] ??= { requests: 0, input_tokens: 0, output_tokens: 0 });
    row.requests++;
    row.input_tokens += e.input_tokens ?? 0;
    row.output_tokens += e.output_tokens ?? 0;
    usage.requests++;
    usage.input_tokens += e.input_tokens ?? 0;
    usage.output_tokens += e.output_tokens ?? 0;
    since = since === undefined || e.ts < since ? e.ts : since;
    until = until === undefined || e.ts > until ? e.ts : until;
    const hour = `${new Date(e.ts).toISOString().slice(0, 13)}:00:00Z`;
    hours.set(hour, (hours.get(hour) ?? 0) + 1);
    if (e.prompt && prompts!.length < samples && !prompts!.some((p) => p.account_id === acc)) {
      prompts!.push({ account_id: acc, at: e.ts, text: redactPrompt(e.prompt) });
    }
  }
  if (since) usage.since = since;
  if (until) usage.until = until;
  if (Object.keys(by).length) usage.by_account = by;
  const hourly = [...hours.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([hour, requests]) => ({ hour, requests }));
  return { usage, extras: { hourly, samples: prompts } };
}

// ---------------------------------------------------------------------------------------------
// Routes

export function registerCaseRoutes(app: FastifyInstance, deps: CaseRoutesDeps): void {
  if (!deps.authenticate && !deps.token) throw new WardenError('CONFIG_INVALID', 'registerCaseRoutes: give an authenticator or the admin token.');
  const authenticate: AdminAuthenticator =
    deps.authenticate ??
    (() => {
      const tokenHash = createHash('sha256').update(deps.token!).digest();
      return async ({ headers }) => {
        const h = headers['authorization'];
        const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h) : null;
        const given = createHash('sha256').update(m?.[1] ?? '').digest();
        return m && timingSafeEqual(given, tokenHash) ? { actor: 'admin', role: 'admin', via: 'token' } : null;
      };
    })();
  const principals = new WeakMap<FastifyRequest, AdminPrincipal>();
  const actorOf = (req: FastifyRequest) => principals.get(req)?.actor ?? 'admin';
  /** A console session records its user as the author; the token keeps the author the caller names. */
  const authorOf = (req: FastifyRequest, given: string) => (principals.get(req)?.via === 'session' ? actorOf(req) : given);
  const iso = () => new Date(deps.now()).toISOString();
  const emit = (type: CaseEvent['type'], data: Record<string, unknown>) => {
    if (!deps.emit) return;
    try {
      deps.emit({ type, at: iso(), data });
    } catch (err) {
      deps.log.error({ err: String(err), type }, 'case event listener failed');
    }
  };
  const ctx = (by: string) => ({ by, at: iso(), ...(deps.audit ? { audit: deps.audit } : {}) });
  const mustCase = async (caseId: string): Promise<Case> => {
    const c = await deps.cases.getCase(caseId);
    if (!c) throw new NotFoundError(`No case "${caseId}". List cases with GET /admin/v1/cases.`);
    return c;
  };
  let importChain: Promise<unknown> = Promise.resolve();

  const reportOf = async (caseId: string): Promise<{ report: CaseReport; extras: ReportExtras; alerts: Alert[] }> => {
    const c = await mustCase(caseId);
    const alerts = await deps.cases.listAlerts({ case_id: caseId, limit: 100_000 });
    const actions = (await Promise.all(c.actions.map((a) => deps.store.getAction(a)))).filter((a): a is EnforcementAction => !!a);
    const limit = deps.reportEventLimit ?? 20_000;
    const events: UsageEvent[] = [];
    for (const account_id of c.accounts.slice(0, 500)) events.push(...(await deps.store.listEvents({ account_id, limit })));
    const { usage, extras } = usageOfEvents(events);
    const report = caseReportJson({
      case: c,
      alerts,
      actions,
      ...(usage.requests > 0 ? { usage } : {}),
      generated_at: iso(),
      generated_by: deps.provider ?? 'Warden',
    });
    return { report, extras: { ...extras, alerts }, alerts };
  };

  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
        const verdict = admitAdmin(await authenticate({ headers: req.headers }), req.method, req.routeOptions.url ?? req.url, req.headers['x-csrf-token']);
        if (!verdict.ok) return reply.code(verdict.status).send({ error: verdict.error });
        principals.set(req, verdict.principal);
      });
      admin.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
        const r = httpErrorReply(err, deps.log, 'cases admin request');
        return reply.code(r.status).send(r.body);
      });

      // Cases
      admin.get('/cases', async (req) => {
        const q = parse(ListQuery, req.query);
        const query: CaseQuery = { limit: q.limit };
        if (q.status) query.status = q.status;
        if (q.severity) query.severity = q.severity;
        if (q.entity) query.entity = q.entity;
        if (q.account) query.account_id = q.account;
        if (q.cluster) query.cluster_id = q.cluster;
        if (q.assignee) query.assignee = q.assignee;
        if (q.after) query.after = q.after;
        const cases = await deps.cases.listCases(query);
        return { cases, ...(cases.length === q.limit ? { next: cases[cases.length - 1]!.case_id } : {}) };
      });
      admin.get('/cases/:id', async (req) => {
        const c = await mustCase((req.params as { id: string }).id);
        return { ...c, alert_records: await deps.cases.listAlerts({ case_id: c.case_id, limit: 10_000 }) };
      });
      admin.post('/cases/:id/notes', async (req, reply) => {
        const caseId = (req.params as { id: string }).id;
        const input = parse(NoteInput, req.body);
        input.author = authorOf(req, input.author);
        await mustCase(caseId);
        const at = iso();
        const note = { note_id: `note_${randomUUID().replaceAll('-', '').slice(0, 20)}`, author: input.author, text: input.text, at };
        const c = await deps.cases.addNote(caseId, note);
        await deps.audit?.append({ type: 'case.note', actor: input.author, data: { case_id: caseId, note_id: note.note_id }, at });
        emit('case.updated', { case_id: caseId, change: 'note', note_id: note.note_id });
        return reply.code(201).send(c);
      });
      admin.post('/cases/:id/assign', async (req) => {
        const caseId = (req.params as { id: string }).id;
        const input = parse(AssignInput, req.body);
        input.author = authorOf(req, input.author);
        const c = await assignCase(deps.cases, caseId, input.assignee ?? undefined, ctx(input.author));
        emit('case.updated', { case_id: caseId, change: 'assignee', assignee: input.assignee });
        return c;
      });
      admin.post('/cases/:id/status', async (req) => {
        const caseId = (req.params as { id: string }).id;
        const input = parse(StatusInput, req.body);
        input.author = authorOf(req, input.author);
        const before = await mustCase(caseId);
        const c = await setCaseStatus(deps.cases, caseId, input.status, { ...ctx(input.author), ...(input.reason ? { reason: input.reason } : {}) });
        if (before.status !== c.status) emit('case.status', { case_id: caseId, from: before.status, to: c.status, reason: input.reason ?? null });
        return c;
      });

      // Actions for a case
      admin.post('/cases/:id/act', async (req, reply) => {
        const caseId = (req.params as { id: string }).id;
        const input = parse(ActInput, req.body);
        input.author = authorOf(req, input.author);
        // The same path automatic enforcement rules take (act.ts).
        const { actions } = await actForCase({ cases: deps.cases, store: deps.store, enforcement: deps.enforcement, now: deps.now, ...(deps.audit ? { audit: deps.audit } : {}) }, caseId, {
          action: input.action,
          reason: input.reason,
          author: input.author,
          ...(input.scope ? { scope: input.scope } : {}),
          ...(input.expires_at ? { expires_at: input.expires_at } : {}),
          ...(input.params ? { params: input.params } : {}),
        });
        for (const action of actions) emit('case.action', { case_id: caseId, action_id: action.action_id, decision: action.decision, subject: action.subject, reason: action.reason });
        return reply.code(201).send({ case: await mustCase(caseId), actions });
      });
      admin.post('/cases/:id/reverse', async (req) => {
        const caseId = (req.params as { id: string }).id;
        const input = parse(ReverseInput, req.body);
        input.author = authorOf(req, input.author);
        const c = await mustCase(caseId);
        if (!c.actions.includes(input.action_id)) throw new NotFoundError(`Case ${caseId} has no action "${input.action_id}"; its actions: ${c.actions.join(', ') || 'none'}.`);
        const action = await deps.store.getAction(input.action_id);
        if (!action) throw new NotFoundError(`Action "${input.action_id}" is not in the store.`);
        if (action.reversed_at) throw new WardenError('CONFLICT', `Action "${input.action_id}" was reversed already (${action.reversed_at}).`);
        const reversed: EnforcementAction = { ...action, reversed_at: iso(), reversed_by: input.author, reversed_reason: input.reason };
        await deps.enforcement.apply({ type: 'reverse', action: reversed });
        await deps.audit?.append({ type: 'action.reverse', actor: input.author, subject: action.subject, data: { action_id: action.action_id, reason: input.reason, decision: action.decision }, at: reversed.reversed_at! });
        const saved = await recordCaseReversal(deps.cases, caseId, reversed, ctx(input.author));
        emit('case.reversal', { case_id: caseId, action_id: action.action_id, reason: input.reason });
        return { case: saved, action: reversed };
      });

      // Alerts
      admin.post('/alerts', async (req, reply) => {
        const input = parse(AlertsInput, req.body);
        const alerts = input.alerts.map((a) => stripUndefined(a) as Alert);
        const result = await ingestAlerts(deps.cases, alerts, { actor: principals.get(req)?.via === 'session' ? actorOf(req) : (input.actor ?? 'admin'), now: iso, ...(deps.audit ? { audit: deps.audit } : {}) });
        for (const [alert_id, case_id] of Object.entries(result.placed)) emit('alert.ingested', { alert_id, case_id });
        for (const case_id of result.created) emit('case.created', { case_id });
        for (const case_id of result.updated) emit('case.updated', { case_id, change: 'alerts' });
        return reply.code(201).send(result);
      });
      // Alerts with their dispositions (labelled data for evaluation), oldest first.
      admin.get('/alerts', async (req) => {
        const q = parse(AlertListQuery, req.query);
        const alerts = await deps.cases.listAlerts({ limit: q.limit, ...(q.disposition ? { disposition: q.disposition } : {}), ...(q.since ? { since: q.since } : {}) });
        return { alerts, ...(alerts.length === q.limit ? { truncated: true } : {}) };
      });
      admin.get('/alerts/:id', async (req) => {
        const alertId = (req.params as { id: string }).id;
        const a = await deps.cases.getAlert(alertId);
        if (!a) throw new NotFoundError(`No alert "${alertId}".`);
        return a;
      });
      admin.post('/alerts/:id/disposition', async (req) => {
        const alertId = (req.params as { id: string }).id;
        const input = parse(DispositionInput, req.body);
        input.author = authorOf(req, input.author);
        if (!(await deps.cases.getAlert(alertId))) throw new NotFoundError(`No alert "${alertId}".`);
        const a = await disposeAlert(deps.cases, alertId, { verdict: input.verdict, reason: input.reason, by: input.author, at: iso() }, deps.audit ? { audit: deps.audit } : {});
        emit('alert.disposition', { alert_id: alertId, case_id: a.case_id ?? null, verdict: input.verdict });
        return a;
      });

      // Reports and sharing
      admin.get('/cases/:id/report', async (req, reply) => {
        const caseId = (req.params as { id: string }).id;
        const { format } = parse(ReportQuery, req.query);
        const { report, extras } = await reportOf(caseId);
        if (format === 'html') return reply.type('text/html; charset=utf-8').send(renderCaseReportHtml(report, extras));
        return report;
      });
      admin.get('/cases/:id/stix', async (req) => {
        const caseId = (req.params as { id: string }).id;
        const { tlp } = parse(StixQuery, req.query);
        const c = await mustCase(caseId);
        const alerts = await deps.cases.listAlerts({ case_id: caseId, limit: 100_000 });
        const summary = caseReportJson({ case: c, alerts, generated_at: iso() }).summary;
        return exportStixBundle({
          provider: { name: deps.provider ?? 'Warden' },
          case: { case_id: c.case_id, title: c.title, created_at: c.created_at, updated_at: c.updated_at, summary, score: c.score },
          ...(c.entity ? { entity: { id: c.entity, name: c.entity } } : {}),
          indicators: collectCaseIndicators(alerts),
          tlp: tlp as Tlp,
        });
      });
      admin.post('/stix/imports', async (req, reply) => {
        const result = importStixBundle(req.body);
        const record: StixImportRecord = { bundle_id: result.bundle_id, imported_at: iso(), imported_by: actorOf(req), indicators: result.indicators, identities: result.identities, problems: result.problems };
        // Read-modify-write of one blob: serialized within the process.
        const run = importChain.then(async () => {
          const prev = await deps.store.getBlob(STIX_IMPORTS_BLOB);
          const list = prev ? (JSON.parse(prev.toString('utf8')) as StixImportRecord[]) : [];
          const next = [...list.filter((r) => r.bundle_id !== record.bundle_id), record];
          await deps.store.putBlob(STIX_IMPORTS_BLOB, Buffer.from(JSON.stringify(next)));
          return list.some((r) => r.bundle_id === record.bundle_id);
        });
        importChain = run.catch(() => undefined);
        const replaced = await run;
        await deps.audit?.append({ type: 'intel.stix_import', actor: actorOf(req), data: { bundle_id: result.bundle_id, indicators: result.indicators.length, identities: result.identities.length, problems: result.problems.length, replaced }, at: record.imported_at });
        const byKind: Record<string, number> = {};
        for (const i of result.indicators) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
        return reply.code(201).send({
          bundle_id: result.bundle_id,
          indicators: result.indicators.length,
          identities: result.identities.length,
          by_kind: byKind,
          senders: result.identities.filter((i) => i.producer).map((i) => i.name),
          attributed_to: result.identities.filter((i) => !i.producer).map((i) => i.name),
          problems: result.problems,
          replaced,
        });
      });
      // Expiring a bundle keeps its record (for the audit trail) and ends its indicators' validity:
      // detection and the gateway drop indicators past valid_until.
      admin.post('/stix/imports/:bundle/expire', async (req) => {
        const bundleId = (req.params as { bundle: string }).bundle;
        const { at } = parse(StixExpireInput, req.body);
        const when = at ? new Date(at).toISOString() : iso();
        const run = importChain.then(async () => {
          const prev = await deps.store.getBlob(STIX_IMPORTS_BLOB);
          const list = prev ? (JSON.parse(prev.toString('utf8')) as StixImportRecord[]) : [];
          const rec = list.find((r) => r.bundle_id === bundleId);
          if (!rec) throw new NotFoundError(`No imported bundle "${bundleId}". \`warden intel indicators\` lists them.`);
          let changed = 0;
          for (const i of rec.indicators) {
            if (i.valid_until && i.valid_until <= when) continue;
            i.valid_until = when;
            changed++;
          }
          await deps.store.putBlob(STIX_IMPORTS_BLOB, Buffer.from(JSON.stringify(list)));
          return changed;
        });
        importChain = run.catch(() => undefined);
        const expired = await run;
        await deps.audit?.append({ type: 'intel.stix_expire', actor: actorOf(req), data: { bundle_id: bundleId, expired, valid_until: when }, at: iso() });
        return { bundle_id: bundleId, expired, valid_until: when };
      });
      admin.get('/stix/imports', async () => {
        const prev = await deps.store.getBlob(STIX_IMPORTS_BLOB);
        return { imports: prev ? (JSON.parse(prev.toString('utf8')) as StixImportRecord[]) : [] };
      });
    },
    { prefix: '/admin/v1' },
  );
}

function stripUndefined<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

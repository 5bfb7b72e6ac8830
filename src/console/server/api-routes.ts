/**
 * The admin API routes the console adds under `/admin/v1`: the overview (and its live SSE
 * stream), a case's linkage graph and hourly timeline, an account's overview, a policy dry run
 * over recorded traffic, and console users. Guarded like every admin route: the injected
 * authenticator, then `admitAdmin` (role per route, CSRF for cookie sessions).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { admitAdmin, httpErrorReply, CASE_STATUSES, CONSOLE_ROLES, NotFoundError, ValidationError, WardenError, formatIssuePath } from '../../core/index.js';
import type {
  AccountRecord,
  AccountRisk,
  AdminAuthenticator,
  AdminPrincipal,
  AuditEntry,
  Case,
  CaseSeverity,
  CaseStore,
  CompiledPolicy,
  Decision,
  EnforcementAction,
  EventBucket,
  IpIntel,
  Org,
  RequestContext,
  StateStore,
  UsageEvent,
} from '../../core/index.js';
import { dryRun, ruleId, type DryRunSample } from '../../policy/index.js';
import type { ConsoleAuth } from './auth.js';
import { caseGraph } from './graph.js';

export interface ConsoleHealth {
  profile: string;
  policy_version: number;
  uptime_s: number;
  outbox_backlog: number;
  detection: { online: boolean; last_evaluated_at?: string };
}

/** What the dry run needs of the policy part: the active policy, and a compiler for drafts. */
export interface DryRunPolicy {
  /** Problems in a text (empty when valid). */
  validate(text: string): { path?: string; line?: number; rule?: string; message: string }[];
  /** A compiled draft of a valid text. */
  draft(text: string): CompiledPolicy;
}

export interface ConsoleApiDeps {
  authenticate: AdminAuthenticator;
  auth: ConsoleAuth;
  store: StateStore;
  cases: CaseStore;
  now: () => number;
  log: { error(obj: object, msg: string): void };
  audit?: (entry: AuditEntry) => Promise<unknown>;
  health: () => ConsoleHealth;
  policy?: DryRunPolicy;
  /** Network facts for the dry run's request contexts (country, ASN, network type). */
  intel?: IpIntel;
  /** True once the server drains: live streams end so shutdown is not held up. */
  draining?: () => boolean;
  /** Live overview period. Default 2000 ms. */
  liveEveryMs?: number;
  /** Keep-alive comment period. Default 15 000 ms. */
  pingEveryMs?: number;
}

const OPEN_STATUSES = CASE_STATUSES.filter((s) => s !== 'closed');
const HOUR = 3_600_000;
const MINUTE = 60_000;

const UserInput = z.strictObject({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(12, 'at least 12 characters').max(1024),
  role: z.enum(CONSOLE_ROLES),
});
const DryRunInput = z.strictObject({ text: z.string().min(1).max(1_000_000), hours: z.number().positive().max(24 * 31).default(24) });
const AccountsQuery = z.strictObject({ hours: z.coerce.number().int().min(1).max(24 * 31).default(168) });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message }));
  throw new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

/** Fills the empty buckets of `[since, since + n·width)` with zeros. */
export function fillBuckets(buckets: readonly EventBucket[], since: number, n: number, width: number): EventBucket[] {
  const by = new Map(buckets.map((b) => [Date.parse(b.at), b]));
  return Array.from({ length: n }, (_, i) => {
    const at = since + i * width;
    return by.get(at) ?? { at: new Date(at).toISOString(), requests: 0, refused: 0, input_tokens: 0, output_tokens: 0, distinct_ips: 0 };
  });
}

export function registerConsoleApiRoutes(app: FastifyInstance, deps: ConsoleApiDeps): void {
  const iso = () => new Date(deps.now()).toISOString();
  const principals = new WeakMap<FastifyRequest, AdminPrincipal>();
  const actorOf = (req: FastifyRequest) => principals.get(req)?.actor ?? 'admin';

  /** Cases not closed, newest first, up to 10 000 (pages of 1000). */
  const openCases = async (): Promise<Case[]> => {
    const out: Case[] = [];
    for (;;) {
      const page = await deps.cases.listCases({ status: [...OPEN_STATUSES], limit: 1000, ...(out.length ? { after: out[out.length - 1]!.case_id } : {}) });
      out.push(...page);
      if (page.length < 1000 || out.length >= 10_000) return out;
    }
  };

  const overview = async () => {
    const now = deps.now();
    const until = Math.floor(now / MINUTE) * MINUTE + MINUTE;
    const since = until - 60 * MINUTE;
    const range = { since: new Date(since).toISOString(), until: new Date(until).toISOString() };
    let storeOk = true;
    const guard = async <T>(p: Promise<T>, fallback: T): Promise<T> => {
      try {
        return await p;
      } catch (err) {
        storeOk = false;
        deps.log.error({ err: String(err) }, 'overview: a store read failed');
        return fallback;
      }
    };
    const [minutes, refusals, open, risky] = await Promise.all([
      guard(deps.store.eventBuckets({ ...range, bucket: 'minute' }), []),
      guard(deps.store.refusalsByRule(range), []),
      guard(openCases(), [] as Case[]),
      guard(deps.store.riskClusters({ limit: 10 }), []),
    ]);
    const buckets = fillBuckets(minutes, since, 60, MINUTE).map((b) => ({ at: b.at, allowed: b.requests - b.refused, refused: b.refused }));
    const byRule = new Map<string, number>();
    for (const r of refusals) byRule.set(ruleId(r.rule), (byRule.get(ruleId(r.rule)) ?? 0) + r.count);
    const bySeverity: Record<CaseSeverity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
    for (const c of open) bySeverity[c.severity]++;
    const caseOfCluster = new Map<string, string>();
    for (const c of open) for (const cl of c.clusters) if (!caseOfCluster.has(cl)) caseOfCluster.set(cl, c.case_id);
    const clusters = await Promise.all(
      risky.map(async (cl) => {
        let caseId = caseOfCluster.get(cl.cluster_id);
        if (!caseId) caseId = (await guard(deps.cases.listCases({ cluster_id: cl.cluster_id, limit: 1 }), []))[0]?.case_id;
        const actions = await guard(deps.store.listActions({ subject: { kind: 'cluster', id: cl.cluster_id }, limit: 1 }), []);
        const inForce = actions.find((a) => !a.reversed_at && (!a.expires_at || Date.parse(a.expires_at) > now));
        return {
          cluster_id: cl.cluster_id,
          risk: cl.risk,
          accounts: cl.accounts,
          ...(cl.entity ? { entity: cl.entity } : {}),
          ...(inForce ? { recommended_action: inForce.decision } : {}),
          ...(caseId ? { case_id: caseId } : {}),
        };
      }),
    );
    // A cheap read proves the store answers even when there is nothing to aggregate.
    await guard(deps.store.getBlob('console:health'), null);
    const h = deps.health();
    return {
      generated_at: new Date(now).toISOString(),
      traffic: {
        window_minutes: 60,
        buckets,
        totals: { allowed: buckets.reduce((n, b) => n + b.allowed, 0), refused: buckets.reduce((n, b) => n + b.refused, 0) },
        refused_by_rule: [...byRule.entries()].map(([rule, count]) => ({ rule, count })).sort((a, b) => b.count - a.count || (a.rule < b.rule ? -1 : 1)),
      },
      cases: { open_by_severity: bySeverity, open_total: open.length, recent: open.slice(0, 5) },
      clusters,
      health: {
        status: storeOk ? ('ok' as const) : ('degraded' as const),
        profile: h.profile,
        policy_version: h.policy_version,
        uptime_s: h.uptime_s,
        outbox_backlog: h.outbox_backlog,
        store: storeOk ? ('ok' as const) : ('error' as const),
        detection: h.detection,
      },
    };
  };

  const mustCase = async (id: string) => {
    const c = await deps.cases.getCase(id);
    if (!c) throw new NotFoundError(`No case "${id}". List cases with GET /admin/v1/cases.`);
    return c;
  };

  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
        const verdict = admitAdmin(await deps.authenticate({ headers: req.headers }), req.method, req.routeOptions.url ?? req.url, req.headers['x-csrf-token']);
        if (!verdict.ok) return reply.code(verdict.status).send({ error: verdict.error });
        principals.set(req, verdict.principal);
      });
      admin.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
        const r = httpErrorReply(err, deps.log, 'console admin request');
        return reply.code(r.status).send(r.body);
      });

      admin.get('/overview', async () => overview());

      admin.get('/live', async (req, reply) => {
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' });
        let closed = false;
        let sending = false;
        const send = async () => {
          if (closed || sending) return;
          sending = true;
          try {
            const data = JSON.stringify(await overview());
            if (!closed) res.write(`event: overview\ndata: ${data}\n\n`);
          } catch (err) {
            deps.log.error({ err: String(err) }, 'live overview failed');
          } finally {
            sending = false;
          }
        };
        const timers = [
          setInterval(() => void send(), deps.liveEveryMs ?? 2000),
          setInterval(() => {
            if (!closed) res.write(': ping\n\n');
          }, deps.pingEveryMs ?? 15_000),
          setInterval(() => {
            if (deps.draining?.()) stop();
          }, 250),
        ];
        const stop = () => {
          if (closed) return;
          closed = true;
          for (const t of timers) clearInterval(t);
          res.end();
        };
        req.raw.on('close', stop);
        res.on('close', stop);
        res.on('error', stop);
        await send();
      });

      admin.get('/cases/:id/graph', async (req) => {
        const c = await mustCase((req.params as { id: string }).id);
        const alerts = await deps.cases.listAlerts({ case_id: c.case_id, limit: 10_000 });
        const ids = [...new Set([...c.accounts, ...alerts.flatMap((a) => a.subjects.accounts)])].slice(0, 500);
        const accounts = new Map<string, AccountRecord>();
        const risk = new Map<string, AccountRisk>();
        await Promise.all(
          ids.map(async (id) => {
            const [a, r] = await Promise.all([deps.store.getAccount(id), deps.store.getRisk(id)]);
            if (a) accounts.set(id, a);
            if (r) risk.set(id, r);
          }),
        );
        const g = caseGraph({ case: c, alerts, accounts, risk });
        return { nodes: g.nodes, edges: g.edges, ...(g.omitted ? { omitted: g.omitted } : {}) };
      });

      admin.get('/cases/:id/timeline', async (req) => {
        const c = await mustCase((req.params as { id: string }).id);
        const now = deps.now();
        const until = Math.floor(now / HOUR) * HOUR + HOUR;
        // From a week before the case opened, at most 30 days of hours.
        const since = Math.max(Math.floor((Date.parse(c.created_at) - 7 * 24 * HOUR) / HOUR) * HOUR, until - 30 * 24 * HOUR);
        const buckets = c.accounts.length
          ? await deps.store.eventBuckets({ since: new Date(since).toISOString(), until: new Date(until).toISOString(), bucket: 'hour', account_ids: c.accounts.slice(0, 1000) })
          : [];
        return { buckets: buckets.map((b) => ({ at: b.at, requests: b.requests, refused: b.refused })), entries: c.timeline };
      });

      admin.get('/accounts/:id/overview', async (req) => {
        const id = (req.params as { id: string }).id;
        const { hours } = parse(AccountsQuery, req.query);
        const account = await deps.store.getAccount(id);
        if (!account || account.status === 'deleted') throw new NotFoundError(`No account "${id}".`);
        const now = deps.now();
        const until = Math.floor(now / HOUR) * HOUR + HOUR;
        const since = until - hours * HOUR;
        const [org, risk, buckets, keys, recent, cases, alerts] = await Promise.all([
          deps.store.getOrg(account.org_id),
          deps.store.getRisk(id),
          deps.store.eventBuckets({ since: new Date(since).toISOString(), until: new Date(until).toISOString(), bucket: 'hour', account_ids: [id] }),
          deps.store.listKeys({ accountId: id }),
          deps.store.listEvents({ account_id: id, newest_first: true, limit: 50 }),
          deps.cases.listCases({ account_id: id, limit: 100 }),
          deps.cases.listAlerts({ account_id: id, limit: 200 }),
        ]);
        const subjects = [{ kind: 'account' as const, id }, { kind: 'org' as const, id: account.org_id }, ...(risk?.cluster_id ? [{ kind: 'cluster' as const, id: risk.cluster_id }] : [])];
        const actions: EnforcementAction[] = (await Promise.all(subjects.map((subject) => deps.store.listActions({ subject, limit: 100 })))).flat();
        actions.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
        const inForce = actions.filter((a) => !a.reversed_at && (!a.expires_at || Date.parse(a.expires_at) > now));
        const strongest = inForce.reduce<Decision>((d, a) => (DECISION_ORDER.indexOf(a.decision) > DECISION_ORDER.indexOf(d) ? a.decision : d), 'allow');
        const reasons = new Map<string, { code: string; weight: number; detail: string }>();
        for (const al of alerts) {
          if (al.disposition?.verdict === 'false_positive' || al.disposition?.verdict === 'benign') continue;
          for (const e of al.evidence) {
            const prev = reasons.get(e.code);
            if (!prev || e.weight > prev.weight) reasons.set(e.code, { code: e.code, weight: e.weight, detail: e.detail });
          }
        }
        for (const l of risk?.labels ?? []) if (!reasons.has(l)) reasons.set(l, { code: l, weight: 0, detail: `labelled ${l} by detection` });
        return {
          account,
          ...(org ? { org } : {}),
          ...(risk
            ? {
                risk: {
                  score: risk.risk,
                  action: strongest,
                  reasons: [...reasons.values()].sort((a, b) => b.weight - a.weight || (a.code < b.code ? -1 : 1)),
                  ...(risk.cluster_id ? { cluster_id: risk.cluster_id } : {}),
                },
              }
            : {}),
          series: fillBuckets(buckets, since, hours, HOUR).map((b) => ({ at: b.at, requests: b.requests, input_tokens: b.input_tokens, output_tokens: b.output_tokens, refused: b.refused, distinct_ips: b.distinct_ips })),
          screening: (org as Org | null)?.screening?.hits ?? [],
          keys: keys.map(({ secret_hash: _h, ...k }) => k),
          actions,
          decisions: recent.map((e) => ({ at: e.ts, decision: e.decision ?? 'allow', ...(e.decision_rule ? { rule: e.decision_rule } : {}), request_id: e.event_id })),
          cases,
        };
      });

      admin.post('/policy/dry-run', async (req) => {
        const input = parse(DryRunInput, req.body);
        if (!deps.policy) throw new WardenError('UNAVAILABLE', 'This server has no policy manager to dry-run against.');
        const problems = deps.policy.validate(input.text);
        if (problems.length) return { valid: false, issues: problems };
        const draft = deps.policy.draft(input.text);
        const until = deps.now();
        const since = until - input.hours * HOUR;
        const events = await deps.store.listEvents({ since: new Date(since).toISOString(), until: new Date(until).toISOString(), limit: 50_000 });
        const contexts = await requestContexts(events, deps.store, deps.intel);
        const samples: DryRunSample[] = contexts.map((x) => ({ ctx: x.ctx, previous: x.previous }));
        const report = dryRun(draft, samples, undefined, { maxExamples: 0 });
        const rules = new Set([...Object.keys(report.baseline.rules), ...Object.keys(report.candidate.rules)]);
        const changed: { request_id: string; account_id: string; before: string; after: string }[] = [];
        for (const x of contexts) {
          if (changed.length >= 20) break;
          const after = draft.decide(x.ctx);
          if (after.decision !== x.previous.decision) changed.push({ request_id: x.event.event_id, account_id: x.event.account_id ?? '', before: x.previous.decision, after: after.decision });
        }
        await deps.audit?.({ type: 'policy.dry_run', actor: actorOf(req), data: { hours: input.hours, events: report.total, changed: report.changed_decisions }, at: iso() });
        return {
          valid: true,
          report: {
            events: report.total,
            changed: report.changed_decisions,
            skipped: events.length - contexts.length,
            by_rule: [...rules].sort().map((rule) => ({ rule, before: report.baseline.rules[rule] ?? 0, after: report.candidate.rules[rule] ?? 0 })),
            transitions: report.transitions,
            samples: changed,
          },
        };
      });

      // Users
      admin.get('/users', async () => ({ users: await deps.auth.listUsers() }));
      admin.post('/users', async (req, reply) => {
        const input = parse(UserInput, req.body);
        const user = await deps.auth.createUser({ username: input.username.toLowerCase(), password: input.password, role: input.role });
        await deps.audit?.({ type: 'console.user_create', actor: actorOf(req), data: { username: user.username, role: user.role }, at: iso() });
        const { password_hash: _h, ...rest } = user;
        return reply.code(201).send(rest);
      });
      admin.delete('/users/:username', async (req) => {
        const username = (req.params as { username: string }).username;
        await deps.auth.deleteUser(username);
        await deps.audit?.({ type: 'console.user_delete', actor: actorOf(req), data: { username }, at: iso() });
        return { deleted: username };
      });
    },
    { prefix: '/admin/v1' },
  );
}

const DECISION_ORDER: readonly Decision[] = ['allow', 'monitor', 'throttle', 'degrade', 'step_up', 'block'];

/**
 * The request contexts of recorded events, for a dry run: org and risk as stored now, network
 * facts from the intel part, the recorded decision as the baseline. Events without an account
 * or refused before a key was known (`auth.*`) are skipped: no policy decided them.
 */
async function requestContexts(events: readonly UsageEvent[], store: StateStore, intel: IpIntel | undefined) {
  const orgs = new Map<string, Promise<Org | null>>();
  const risks = new Map<string, Promise<AccountRisk | null>>();
  const out: { event: UsageEvent; ctx: RequestContext; previous: { decision: Decision; rule: string } }[] = [];
  for (const e of events) {
    if (!e.account_id || !e.decision || !e.decision_rule || e.decision_rule.startsWith('auth.')) continue;
    const orgId = e.org_id;
    if (orgId && !orgs.has(orgId)) orgs.set(orgId, store.getOrg(orgId));
    if (!risks.has(e.account_id)) risks.set(e.account_id, store.getRisk(e.account_id));
    const org = orgId ? await orgs.get(orgId)! : null;
    const risk = await risks.get(e.account_id)!;
    let info: ReturnType<IpIntel['lookup']> | undefined;
    try {
      info = e.ip && intel ? intel.lookup(e.ip) : undefined;
    } catch {
      info = undefined;
    }
    const endpoint = e.endpoint ?? 'messages';
    const ctx: RequestContext = {
      api: endpoint === 'messages' || endpoint === 'count_tokens' ? 'anthropic' : 'openai',
      endpoint,
      ...(e.model ? { model: e.model } : {}),
      stream: e.stream ?? false,
      ...(e.end_user_id ? { end_user_id: e.end_user_id } : {}),
      client: {
        ...(e.ip ? { ip: e.ip } : {}),
        ...((e.country ?? info?.country) ? { country: (e.country ?? info?.country)! } : {}),
        ...((e.asn ?? info?.asn) !== undefined ? { asn: (e.asn ?? info?.asn)! } : {}),
        network_type: info?.network_type ?? 'unknown',
        anonymizers: info?.anonymizers ?? [],
        labels: info?.labels ?? [],
      },
      ...(org
        ? {
            org: {
              id: org.org_id,
              ...(org.declared_country ? { declared_country: org.declared_country } : {}),
              ...(org.payment_country ? { payment_country: org.payment_country } : {}),
              ...(org.declared_use ? { declared_use: org.declared_use } : {}),
              verification: org.verification,
              screening: org.screening?.status ?? 'unscreened',
              screening_entities: org.screening?.hits.map((h) => h.entity_id) ?? [],
            },
          }
        : {}),
      account: { id: e.account_id, risk: risk?.risk ?? 0, labels: risk?.labels ?? [], cluster_id: risk?.cluster_id ?? null, attributed_entity: risk?.attributed_entity ?? null },
      ...(e.key_id ? { key: { id: e.key_id } } : {}),
    };
    out.push({ event: e, ctx, previous: { decision: e.decision, rule: e.decision_rule } });
  }
  return out;
}

/**
 * `warden cases …` and `warden report`: working cases through the running server's admin API
 * (list, show, act, note, assign, close) and evidence reports as JSON, HTML or PDF (PDF through
 * headless Chromium when installed).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Option, type Command } from 'commander';
import { WardenError } from '../core/index.js';
import type { Case, EnforcementAction } from '../core/index.js';
import { adminTokenFile, createAdminClient, type AdminClient } from './admin-client.js';
import type { WardenConfig } from './config.js';

export interface CaseCommandContext {
  config: () => WardenConfig;
  client: (opts: { url?: string; token?: string }) => AdminClient;
  print: (v: unknown) => void;
  adminOptions: (c: Command) => Command;
}

const enc = encodeURIComponent;
const who = () => process.env['USER'] ?? 'cli';

function pad(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n);
}

/** Cases as a fixed-width table, one line each. */
export function formatCaseTable(cases: readonly Case[]): string {
  if (!cases.length) return 'No cases match.';
  const idW = Math.max(4, ...cases.map((c) => c.case_id.length));
  const head = `${pad('CASE', idW)}  ${pad('SEVERITY', 8)}  ${pad('STATUS', 13)}  ${'ACCTS'.padStart(5)}  ${'SCORE'.padStart(5)}  ${pad('ASSIGNEE', 10)}  ${pad('UPDATED', 16)}  TITLE`;
  const rows = cases.map(
    (c) =>
      `${pad(c.case_id, idW)}  ${pad(c.severity, 8)}  ${pad(c.status, 13)}  ${String(c.accounts.length).padStart(5)}  ${c.score.toFixed(2).padStart(5)}  ${pad(c.assignee ?? '-', 10)}  ${pad(c.updated_at.slice(0, 16).replace('T', ' '), 16)}  ${pad(c.title, 70)}`,
  );
  return [head, ...rows].join('\n');
}

/** One case, readable: header, subjects, alerts, actions, notes, timeline. */
export function formatCase(c: Case & { alert_records?: { alert_id: string; detector: string; score: number; disposition?: { verdict: string } }[] }): string {
  const lines = [
    `${c.case_id}  ${c.title}`,
    `  severity ${c.severity} · status ${c.status} · score ${c.score.toFixed(2)} · assignee ${c.assignee ?? '-'} · opened ${c.created_at} · updated ${c.updated_at}`,
    `  clusters: ${c.clusters.join(', ') || '-'}${c.entity ? ` · entity: ${c.entity}` : ''}`,
    `  accounts (${c.accounts.length}): ${c.accounts.slice(0, 20).join(', ')}${c.accounts.length > 20 ? ` … and ${c.accounts.length - 20} more` : ''}`,
    '',
    `Alerts (${c.alerts.length}):`,
    ...(c.alert_records ?? []).map((a) => `  ${a.alert_id}  ${a.detector}  score ${a.score.toFixed(2)}  ${a.disposition?.verdict ?? 'open'}`),
    '',
    `Actions (${c.actions.length}): ${c.actions.join(', ') || '-'}`,
  ];
  if (c.notes.length) lines.push('', 'Notes:', ...c.notes.map((n) => `  ${n.at}  ${n.author}: ${n.text}`));
  lines.push('', 'Timeline:', ...c.timeline.map((t) => `  ${t.at}  ${t.kind.padEnd(11)} ${t.by}: ${t.detail}`));
  return lines.join('\n');
}

/** Where headless Chromium is looked for: `WARDEN_CHROMIUM`, then the usual Debian paths. */
export const chromiumCandidates = (): (string | undefined)[] => [process.env['WARDEN_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The first candidate that exists, or undefined. */
export function findChromium(candidates: readonly (string | undefined)[] = chromiumCandidates()): string | undefined {
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** Prints an HTML page to PDF with headless Chromium. */
export async function htmlToPdf(html: string, out: string, opts: { candidates?: readonly (string | undefined)[] } = {}): Promise<void> {
  const chromium = findChromium(opts.candidates);
  if (!chromium) {
    throw new WardenError('UNAVAILABLE', `PDF output needs headless Chromium (looked for ${(opts.candidates ?? chromiumCandidates()).filter(Boolean).join(', ')}): install it (Debian/Ubuntu: apt-get install chromium) or set WARDEN_CHROMIUM to its path; or use --format html and print the page from a browser.`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-report-'));
  try {
    const file = path.join(dir, 'report.html');
    writeFileSync(file, html);
    await promisify(execFile)(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-pdf-header-footer', `--print-to-pdf=${path.resolve(out)}`, pathToFileURL(file).href], { timeout: 120_000 });
    if (!existsSync(out)) throw new WardenError('INTERNAL', `Chromium (${chromium}) ran but wrote no ${out}.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function registerCaseCommands(program: Command, ctx: CaseCommandContext): void {
  const { client, print, adminOptions } = ctx;
  const cases = program.command('cases').description('cases: alerts merged per cluster or entity, worked by analysts (through the running server)');

  adminOptions(cases.command('list').description('list cases, newest update first (a table; --json for JSON)'))
    .option('--status <list>', 'only these statuses, comma-separated (open,investigating,actioned,closed,appealed)')
    .option('--severity <list>', 'only these severities, comma-separated (low,medium,high,critical)')
    .option('--account <id>', 'only cases holding this account')
    .option('--cluster <id>', 'only cases holding this cluster')
    .option('--entity <id>', 'only cases attributed to this entity')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const q = new URLSearchParams();
      for (const k of ['status', 'severity', 'account', 'cluster', 'entity', 'limit'] as const) if (o[k]) q.set(k, String(o[k]));
      const r = await client(o).call<{ cases: Case[]; next?: string }>('GET', `/cases?${q}`);
      if (o.json) print(r);
      else process.stdout.write(`${formatCaseTable(r.cases)}\n${r.next ? `(more: --limit or filter; next page after ${r.next})\n` : ''}`);
    });

  adminOptions(cases.command('show').description('show a case: subjects, alerts, actions, notes, timeline').argument('<case_id>').option('--json', 'print JSON')).action(async (id: string, o) => {
    const c = await client(o).call<Case>('GET', `/cases/${enc(id)}`);
    if (o.json) print(c);
    else process.stdout.write(`${formatCase(c)}\n`);
  });

  adminOptions(cases.command('act').description("take an enforcement action for a case (on its cluster by default)").argument('<case_id>'))
    .addOption(new Option('--action <action>', 'what to do').choices(['block', 'throttle', 'step_up', 'degrade', 'monitor']).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why (recorded, shown in the report)')
    .addOption(new Option('--scope <scope>', 'on the case’s cluster(s), each account, or each account’s org (default: cluster when the case has one)').choices(['cluster', 'accounts', 'org']))
    .option('--expires-at <time>', 'RFC 3339 expiry')
    .option('--author <name>', 'who decided', who())
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const r = await client(o).call<{ case: Case; actions: EnforcementAction[] }>('POST', `/cases/${enc(id)}/act`, {
        action: o.action,
        reason: o.reason,
        author: o.author,
        ...(o.scope ? { scope: o.scope } : {}),
        ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
      });
      if (o.json) print(r);
      else for (const a of r.actions) process.stdout.write(`${a.action_id}: ${a.decision} on ${a.subject.kind} ${a.subject.id} (case ${id} is now ${r.case.status})\n`);
    });

  adminOptions(cases.command('reverse').description('reverse an action taken for a case').argument('<case_id>').requiredOption('--action-id <id>', 'the action').requiredOption('--reason <text>', 'why').option('--author <name>', 'who', who())).action(
    async (id: string, o) => print(await client(o).call('POST', `/cases/${enc(id)}/reverse`, { action_id: o.actionId, reason: o.reason, author: o.author })),
  );

  adminOptions(cases.command('note').description('add a note to a case').argument('<case_id>').argument('<text>').option('--author <name>', 'who', who())).action(async (id: string, text: string, o) => {
    const c = await client(o).call<Case>('POST', `/cases/${enc(id)}/notes`, { text, author: o.author });
    process.stdout.write(`Note added to ${c.case_id} (${c.notes.length} note(s)).\n`);
  });

  adminOptions(cases.command('assign').description('assign a case (--none to unassign)').argument('<case_id>').argument('[assignee]').option('--none', 'unassign').option('--author <name>', 'who', who())).action(
    async (id: string, assignee: string | undefined, o) => {
      if (!assignee && !o.none) throw new WardenError('VALIDATION', 'Give an assignee, or --none to unassign.');
      const c = await client(o).call<Case>('POST', `/cases/${enc(id)}/assign`, { assignee: o.none ? null : assignee, author: o.author });
      process.stdout.write(`${c.case_id} assigned to ${c.assignee ?? 'nobody'}.\n`);
    },
  );

  adminOptions(cases.command('status').description('set a case’s status').argument('<case_id>'))
    .addOption(new Option('--to <status>', 'the new status').choices(['open', 'investigating', 'actioned', 'closed', 'appealed']).makeOptionMandatory())
    .option('--reason <text>', 'why')
    .option('--author <name>', 'who', who())
    .action(async (id: string, o) => {
      const c = await client(o).call<Case>('POST', `/cases/${enc(id)}/status`, { status: o.to, author: o.author, ...(o.reason ? { reason: o.reason } : {}) });
      process.stdout.write(`${c.case_id} is ${c.status}.\n`);
    });

  adminOptions(cases.command('close').description('close a case (keeps a snapshot of the evidence it was closed on)').argument('<case_id>').requiredOption('--reason <text>', 'why').option('--author <name>', 'who', who())).action(
    async (id: string, o) => {
      const c = await client(o).call<Case>('POST', `/cases/${enc(id)}/status`, { status: 'closed', reason: o.reason, author: o.author });
      process.stdout.write(`${c.case_id} is ${c.status}.\n`);
    },
  );

  adminOptions(program.command('report').description('the evidence report of a case, as JSON, self-contained HTML, or PDF (headless Chromium)').argument('<case_id>'))
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'html', 'pdf']).default('html'))
    .option('--out <file>', 'write to this file (default: stdout; for pdf: <case_id>.pdf)')
    .action(async (id: string, o) => {
      const c = client(o);
      if (o.format === 'json') {
        const report = await c.call('GET', `/cases/${enc(id)}/report?format=json`);
        if (o.out) writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
        else print(report);
      } else {
        // The admin client parses JSON; the HTML page comes through a plain fetch with the same credentials.
        const html = await fetchText(ctx.config(), o, `/cases/${enc(id)}/report?format=html`);
        if (o.format === 'html') {
          if (o.out) writeFileSync(o.out, html);
          else process.stdout.write(html);
        } else {
          const out = o.out ?? `${id}.pdf`;
          await htmlToPdf(html, out);
          o.out = out;
        }
      }
      if (o.out) process.stderr.write(`Wrote ${o.out}\n`);
    });
}

/**
 * GET a non-JSON admin route (the HTML report) with the URL and token the admin client would
 * use; errors come back as JSON and are reported like the client's.
 */
async function fetchText(config: WardenConfig, opts: { url?: string; token?: string }, route: string): Promise<string> {
  const c = createAdminClient(config, opts);
  let token = opts.token ?? config.admin.token;
  if (!token && existsSync(adminTokenFile(config))) token = readFileSync(adminTokenFile(config), 'utf8').trim();
  if (!token) return String(await c.call('GET', route)); // the client raises its no-token error
  let res: Response;
  try {
    res = await fetch(`${c.url}/admin/v1${route}`, { headers: { authorization: `Bearer ${token}` } });
  } catch {
    return String(await c.call('GET', route)); // the client raises its unreachable error
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message;
    } catch {
      /* not JSON */
    }
    throw new WardenError(res.status === 404 ? 'NOT_FOUND' : res.status === 401 ? 'UNAUTHORIZED' : 'INTERNAL', `GET ${route} → ${res.status}: ${message}`);
  }
  return text;
}

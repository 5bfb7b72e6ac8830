/**
 * `warden alerts export --labels`: analysts' dispositions as labelled data for evaluation,
 * read through the running server's admin API (`GET /admin/v1/alerts?disposition=any`). As
 * JSON lines, one per (account, alert), or (`--format truth`) as a truth.json that
 * `warden score` reads.
 */
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { WardenError } from '../core/index.js';
import type { Alert, AlertVerdict, Truth } from '../core/index.js';
import type { AdminClient } from './admin-client.js';

export interface AlertCommandContext {
  client: (opts: { url?: string; token?: string }) => AdminClient;
  adminOptions: (c: Command) => Command;
}

/** One labelled (account, alert) pair. */
export interface AlertLabel {
  account_id: string;
  alert_id: string;
  cluster_id: string | null;
  entity: string | null;
  detector: string;
  score: number;
  labels: string[];
  verdict: AlertVerdict;
  /** `malicious` for a true positive, `benign` for a false positive or a benign verdict. */
  label: 'malicious' | 'benign';
  reason: string;
  author: string;
  decided_at: string;
}

/** The most alerts one export reads; more is refused rather than silently cut. */
export const EXPORT_LIMIT = 10_000;

/** Every disposed alert as one row per account it names, in the order given. */
export function labelRows(alerts: readonly Alert[]): AlertLabel[] {
  const rows: AlertLabel[] = [];
  for (const a of alerts) {
    const d = a.disposition;
    if (!d) continue;
    for (const account_id of a.subjects.accounts) {
      rows.push({
        account_id,
        alert_id: a.alert_id,
        cluster_id: a.subjects.cluster_id ?? null,
        entity: a.subjects.entity ?? null,
        detector: a.detector,
        score: a.score,
        labels: a.labels ?? [],
        verdict: d.verdict,
        label: d.verdict === 'true_positive' ? 'malicious' : 'benign',
        reason: d.reason,
        author: d.by,
        decided_at: d.at,
      });
    }
  }
  return rows;
}

/**
 * The rows as a truth.json for `warden score`. An account confirmed malicious by any alert is
 * malicious (group `campaign:<cluster, else detector>`, entity of its latest true positive);
 * otherwise benign (group `benign:<verdict>`, entity null). Labels are the union of its alerts'.
 */
export function labelTruth(rows: readonly AlertLabel[]): Truth {
  const accounts: Truth['accounts'] = {};
  const sorted = [...rows].sort((a, b) => (a.decided_at < b.decided_at ? -1 : a.decided_at > b.decided_at ? 1 : 0));
  for (const r of sorted) {
    const prev = accounts[r.account_id];
    const labels = [...new Set([...(prev?.labels ?? []), ...r.labels])].sort();
    if (r.label === 'malicious') {
      accounts[r.account_id] = { group: `campaign:${r.cluster_id ?? r.detector}`, malicious: true, entity: r.entity, labels };
    } else if (!prev?.malicious) {
      accounts[r.account_id] = { group: `benign:${r.verdict}`, malicious: false, entity: null, labels };
    } else {
      prev.labels = labels;
    }
  }
  return { accounts };
}

/** Reads the disposed alerts from the server and renders them (JSON lines or truth.json). */
export async function exportAlertLabels(client: AdminClient, opts: { since?: string; format?: 'jsonl' | 'truth' }): Promise<{ text: string; rows: number; alerts: number }> {
  const q = new URLSearchParams({ disposition: 'any', limit: String(EXPORT_LIMIT) });
  if (opts.since) q.set('since', opts.since);
  const r = await client.call<{ alerts: Alert[]; truncated?: boolean }>('GET', `/alerts?${q}`);
  if (r.truncated) {
    throw new WardenError('VALIDATION', `More than ${EXPORT_LIMIT - 1} disposed alerts match; export in slices with --since (alerts are listed oldest first, the last one here was created at ${r.alerts.at(-1)?.created_at}).`);
  }
  const rows = labelRows(r.alerts);
  const text = opts.format === 'truth' ? `${JSON.stringify(labelTruth(rows), null, 2)}\n` : rows.map((x) => `${JSON.stringify(x)}\n`).join('');
  return { text, rows: rows.length, alerts: r.alerts.length };
}

export function registerAlertCommands(program: Command, ctx: AlertCommandContext): void {
  const alerts = program.command('alerts').description('alerts and their analyst dispositions (through the running server)');
  ctx
    .adminOptions(alerts.command('export').description('export disposed alerts as labelled data: one JSON line per (account, alert), or a truth.json for `warden score`'))
    .requiredOption('--labels', 'export the labels (analyst dispositions); the only export so far')
    .option('--out <file>', 'write here instead of stdout')
    .option('--since <time>', 'only alerts created at or after this RFC 3339 time')
    .addOption(new Option('--format <format>', 'jsonl: one line per (account, alert); truth: truth.json as `warden score --truth` reads').choices(['jsonl', 'truth']).default('jsonl'))
    .action(async (o: { url?: string; token?: string; out?: string; since?: string; format: 'jsonl' | 'truth' }) => {
      if (o.since && Number.isNaN(Date.parse(o.since))) throw new WardenError('VALIDATION', `--since must be an RFC 3339 time such as 2026-03-01T00:00:00Z, got "${o.since}".`);
      const r = await exportAlertLabels(ctx.client(o), { format: o.format, ...(o.since ? { since: o.since } : {}) });
      if (o.out) {
        writeFileSync(o.out, r.text);
        process.stderr.write(`${r.rows} labelled (account, alert) rows from ${r.alerts} disposed alerts written to ${o.out}.\n`);
      } else process.stdout.write(r.text);
    });
}

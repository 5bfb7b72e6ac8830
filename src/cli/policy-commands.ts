/**
 * `warden policy …`: validate a file locally; show, list versions and roll back on the server.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WardenError } from '../core/index.js';
import { formatPolicyIssues, validatePolicy } from '../policy/index.js';
import type { AdminClient } from './admin-client.js';
import type { WardenConfig } from './config.js';

export interface CommandContext {
  config: () => WardenConfig;
  client: (o: { url?: string; token?: string }) => AdminClient;
  print: (v: unknown) => void;
  adminOptions: (c: Command) => Command;
}

export function registerPolicyCommands(program: Command, ctx: CommandContext): void {
  const policy = program.command('policy').description('the declarative policy');
  policy
    .command('validate')
    .description('check a policy file; every problem with its file, line and rule')
    .argument('[file]', 'policy file (default: policy.file from the config)')
    .action((file: string | undefined) => {
      const f = file ?? ctx.config().policy.file;
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch (e) {
        throw new WardenError('NOT_FOUND', `Cannot read ${f}: ${(e as Error).message}`);
      }
      const issues = validatePolicy(text, f);
      if (issues.length) {
        process.stderr.write(`${formatPolicyIssues(issues)}\n`);
        throw new WardenError('POLICY_INVALID', `${f}: ${issues.length} problem${issues.length === 1 ? '' : 's'}.`);
      }
      process.stdout.write(`${f}: valid.\n`);
    });
  ctx.adminOptions(policy.command('show').description('the active policy on the running server')).action(async (o) => {
    const r = await ctx.client(o).call<{ version: number; text: string }>('GET', '/policy');
    process.stdout.write(`# version ${r.version}\n${r.text}`);
  });
  ctx.adminOptions(policy.command('versions').description('every version the server has kept')).action(async (o) => ctx.print(await ctx.client(o).call('GET', '/policy/versions')));
  ctx.adminOptions(
    policy
      .command('enforcement-report')
      .description('what the enforcement: rules did to clusters, or in dry_run would have done')
      .option('--since <time>', 'only entries at or after this RFC 3339 time')
      .option('--json', 'print JSON'),
  ).action(async (o) => {
    const r = await ctx.client(o).call<EnforcementReport>('GET', `/enforcement/automatic${o.since ? `?since=${encodeURIComponent(o.since)}` : ''}`);
    if (o.json) return ctx.print(r);
    process.stdout.write(formatEnforcementReport(r));
  });
  ctx.adminOptions(policy.command('rollback').description('make an earlier version active again').argument('<version>')).action(async (v: string, o) =>
    ctx.print(await ctx.client(o).call('POST', '/policy/rollback', { version: Number(v) })),
  );
}

export interface EnforcementReport {
  mode: 'enforce' | 'dry_run';
  rules: { id: string; action: string; subject?: string; expires_in?: string; enabled: boolean; line: number }[];
  entries: { at: string; case_id: string; rule: string; kind: 'would_act' | 'action'; detail: string; ref?: string; state?: string }[];
}

/** The report as text: the mode, the rules, then one line per action taken or would-be action. */
export function formatEnforcementReport(r: EnforcementReport): string {
  const lines = [`Automatic enforcement: mode ${r.mode}${r.mode === 'dry_run' ? ' (nothing is enforced; below is what would have been)' : ''}`, ''];
  if (!r.rules.length) lines.push('No enforcement rules in the active policy (add an "enforcement:" section, docs/policy.md).');
  for (const x of r.rules) lines.push(`  rule ${x.id} (line ${x.line}): ${x.action}${x.subject ? ` ${x.subject}` : ''}${x.expires_in ? ` for ${x.expires_in}` : ''}${x.enabled ? '' : ' [disabled]'}`);
  lines.push('');
  if (!r.entries.length) lines.push('Nothing done or recorded yet.');
  for (const e of r.entries) lines.push(`${e.at}  ${e.case_id}  ${e.kind === 'would_act' ? 'WOULD' : `ACTED${e.state ? ` (${e.state})` : ''}`}  ${e.rule}: ${e.detail}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The `warden` command line: every command with a line of help each.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { WardenError, isWardenError } from '../core/index.js';
import { startMockUpstream } from '../gateway/index.js';
import { migratePostgres, openPostgresStore } from '../store/index.js';
import { loadConfig, type WardenConfig } from './config.js';
import { createAdminClient } from './admin-client.js';
import { serve } from './serve.js';
import { runDemo } from './demo.js';
import { registerIntelCommands } from './intel-commands.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerSimCommands } from './sim-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerAnalyzeCommand } from './analyze-command.js';
import { registerCaseCommands } from './case-commands.js';
import { registerAlertCommands } from './alert-commands.js';
import { registerUserCommands } from './user-commands.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('warden')
    .description('Warden: control who uses your model API and how.')
    .version(pkg.version)
    .option('-c, --config <file>', 'config file (default: ./warden.yaml if present; env WARDEN_CONFIG)')
    .showHelpAfterError('(run `warden --help` for usage)')
    .configureHelp({ sortSubcommands: false });

  const config = (): WardenConfig => loadConfig(program.opts<{ config?: string }>().config, process.env).config;
  const adminOptions = (c: Command) =>
    c.option('--url <url>', 'the running server (default: http://<gateway.listen>)').option('--token <token>', 'admin token (default: WARDEN_ADMIN_TOKEN or <data_dir>/admin-token)');
  const client = (opts: { url?: string; token?: string }) => createAdminClient(config(), opts);
  const print = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

  program
    .command('serve')
    .description('run the enforcing gateway (and its admin API) until SIGTERM or Ctrl-C')
    .addOption(new Option('--profile <profile>', 'embedded (SQLite, no services) or cluster').choices(['embedded', 'cluster']))
    .option('--listen <host:port>', 'address to listen on (overrides gateway.listen)')
    .action(async (o: { profile?: 'embedded' | 'cluster'; listen?: string }) => {
      const c = config();
      if (o.profile) c.profile = o.profile;
      if (o.listen) c.gateway.listen = o.listen;
      const server = await serve(c);
      process.stderr.write(`Warden gateway on ${server.gateway.url} (admin token in ${c.admin.token ? 'config' : `${c.data_dir}/admin-token`}). Ctrl-C to stop.\n`);
      if (c.console.enabled) process.stderr.write(`Analyst console: ${server.gateway.url}/console/ (add a user: warden users create NAME --role analyst).\n`);
      onSignals(() => server.close());
    });

  program
    .command('worker')
    .description('run a detection worker of the cluster profile: consumes usage-stream partitions, commits per-account features, evaluates when leader')
    .option('--partitions <list>', 'partitions to own, e.g. 0,1 (default worker.partitions: auto)')
    .option('--id <name>', 'this worker\'s name in leases (default worker.id or <hostname>-<pid>)')
    .option('--metrics-listen <host:port>', 'Prometheus metrics address (overrides worker.metrics_listen)')
    .action(async (o: { partitions?: string; id?: string; metricsListen?: string }) => {
      const c = config();
      if (o.partitions) {
        const list = o.partitions.split(',').map((x) => Number(x.trim()));
        if (list.some((n) => !Number.isInteger(n) || n < 0)) throw new WardenError('CONFIG_INVALID', `--partitions: expected a comma-separated list of partition numbers, got "${o.partitions}".`);
        c.worker.partitions = list;
      }
      if (o.id) c.worker.id = o.id;
      if (o.metricsListen) c.worker.metrics_listen = o.metricsListen;
      const { runWorker } = await import('./worker.js');
      const w = await runWorker(c);
      process.stderr.write(`Warden worker ${w.worker.id}: metrics on ${w.metricsUrl}/metrics. Ctrl-C to stop.\n`);
      onSignals(() => w.close());
    });

  program
    .command('migrate')
    .description('create or upgrade the PostgreSQL schema of the cluster profile (cluster.postgres_url, cluster.schema)')
    .action(async () => {
      const c = config().cluster;
      const store = await openPostgresStore({ connectionString: c.postgres_url, schema: c.schema, migrate: false });
      try {
        const versions = await migratePostgres(store.pool, { schema: c.schema });
        process.stdout.write(`PostgreSQL schema "${c.schema}" at ${c.postgres_url.replace(/\/\/[^@]*@/, '//…@')}: ${Object.entries(versions).map(([k, v]) => `${k} v${v}`).join(', ')}\n`);
      } finally {
        await store.close();
      }
    });

  program
    .command('mock-upstream')
    .description('run the simulated model upstream (answers the Anthropic and OpenAI APIs)')
    .option('--host <host>', 'host', '127.0.0.1')
    .option('--port <port>', 'port', '8788')
    .option('--latency-ms <ms>', 'added latency before the first byte', '0')
    .option('--tokens-per-second <n>', 'streaming speed (0 = as fast as possible)', '0')
    .action(async (o: { host: string; port: string; latencyMs: string; tokensPerSecond: string }) => {
      const up = await startMockUpstream({ host: o.host, port: Number(o.port), latencyMs: Number(o.latencyMs), tokensPerSecond: Number(o.tokensPerSecond) });
      process.stderr.write(`Simulated model upstream on ${up.url}. Ctrl-C to stop.\n`);
      onSignals(() => up.close());
    });

  program
    .command('demo')
    .description('the end-to-end demo on the embedded default: upstream, gateway, traffic through the official SDKs')
    .option('--once', 'run the demo and exit (instead of serving until Ctrl-C)')
    .option('--port <port>', 'gateway port', '8787')
    .option('--data-dir <dir>', 'where the demo keeps its state (default: a fresh temporary directory)')
    .addOption(new Option('--profile <profile>', 'embedded (default) or cluster: two gateways and two detection workers on this machine\'s PostgreSQL, Redis and NATS').choices(['embedded', 'cluster']))
    .action(async (o: { once?: boolean; port: string; dataDir?: string; profile?: string }) => {
      if (o.profile === 'cluster') {
        const { runClusterDemo } = await import('./demo-cluster.js');
        const c = config().cluster;
        await runClusterDemo({ once: !!o.once, out: process.stdout, postgresUrl: c.postgres_url, redisUrl: c.redis_url, natsServers: c.nats_servers });
        return;
      }
      await runDemo({ once: !!o.once, port: Number(o.port), ...(o.dataDir ? { dataDir: o.dataDir } : {}), out: process.stdout });
    });

  const orgs = program.command('orgs').description('organizations (through the running server)');
  adminOptions(orgs.command('create').description('create an org (screened at once)'))
    .requiredOption('--name <name>', 'legal or display name (any script)')
    .option('--org-id <id>', 'id (default: generated)')
    .option('--alias <alias...>', 'other names')
    .option('--domain <domain>', 'email domain')
    .option('--country <cc>', 'declared country (ISO alpha-2)')
    .option('--payment-country <cc>', 'payment country')
    .addOption(new Option('--use <use>', 'declared use').choices(['consumer', 'internal', 'research', 'reseller', 'evaluation', 'unknown']))
    .addOption(new Option('--verification <level>', 'verification passed').choices(['none', 'email', 'phone', 'id', 'business']))
    .action(async (o) => {
      print(
        await client(o).call('POST', '/orgs', {
          name: o.name,
          ...(o.orgId ? { org_id: o.orgId } : {}),
          ...(o.alias ? { aliases: o.alias } : {}),
          ...(o.domain ? { email_domain: o.domain } : {}),
          ...(o.country ? { declared_country: o.country } : {}),
          ...(o.paymentCountry ? { payment_country: o.paymentCountry } : {}),
          ...(o.use ? { declared_use: o.use } : {}),
          ...(o.verification ? { verification: o.verification } : {}),
        }),
      );
    });
  adminOptions(orgs.command('list').description('list orgs')).action(async (o) => print(await client(o).call('GET', '/orgs')));
  adminOptions(orgs.command('show').description('show an org with its screening result').argument('<id>')).action(async (id: string, o) => print(await client(o).call('GET', `/orgs/${encodeURIComponent(id)}`)));

  const accounts = program.command('accounts').description('accounts (through the running server)');
  adminOptions(accounts.command('create').description('create an account in an org'))
    .requiredOption('--org <id>', 'org id')
    .option('--account-id <id>', 'id (default: generated)')
    .option('--email <email>', 'signup email')
    .action(async (o) => {
      print(
        await client(o).call('POST', '/accounts', {
          org_id: o.org,
          ...(o.accountId ? { account_id: o.accountId } : {}),
          ...(o.email ? { email: o.email, email_domain: String(o.email).split('@')[1] } : {}),
        }),
      );
    });
  adminOptions(accounts.command('list').description('list accounts').option('--org <id>', 'only this org')).action(async (o) =>
    print(await client(o).call('GET', `/accounts${o.org ? `?org_id=${encodeURIComponent(o.org)}` : ''}`)),
  );
  adminOptions(accounts.command('export').description('data-subject access: everything held on an account, as JSON').argument('<id>').option('--out <file>', 'write to a file instead of stdout')).action(
    async (id: string, o) => {
      const data = await client(o).call('GET', `/accounts/${encodeURIComponent(id)}/export`);
      if (o.out) {
        writeFileSync(o.out, JSON.stringify(data, null, 2));
        process.stderr.write(`Wrote ${o.out}\n`);
      } else print(data);
    },
  );
  adminOptions(accounts.command('delete').description('data-subject erasure: delete an account, its events and keys').argument('<id>').option('--yes', 'confirm')).action(async (id: string, o) => {
    if (!o.yes) throw new WardenError('VALIDATION', `This erases account ${id}'s events and keys for good. Re-run with --yes to confirm.`);
    print(await client(o).call('DELETE', `/accounts/${encodeURIComponent(id)}`));
  });
  adminOptions(accounts.command('verify').description("record a passed verification: raises the account's level and lifts step_up on it and its keys").argument('<id>'))
    .addOption(new Option('--level <level>', 'verification level reached').choices(['email', 'phone', 'id', 'business']).makeOptionMandatory())
    .requiredOption('--method <method>', 'how it was verified, e.g. document, business_registry, a provider name')
    .requiredOption('--reference <ref>', "the check's reference at the provider or in your records")
    .action(async (id: string, o) => print(await client(o).call('POST', `/accounts/${encodeURIComponent(id)}/verification`, { level: o.level, method: o.method, reference: o.reference })));

  const keys = program.command('keys').description('API keys (through the running server)');
  adminOptions(keys.command('create').description('issue a key for an account (shown once)'))
    .requiredOption('--account <id>', 'account id')
    .option('--name <name>', 'a label')
    .option('--expires-at <time>', 'RFC 3339 expiry')
    .option('--models <list>', 'comma-separated models or globs this key may use (claude-haiku-*)')
    .action(async (o) => {
      print(
        await client(o).call('POST', '/keys', {
          account_id: o.account,
          ...(o.name ? { name: o.name } : {}),
          ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
          ...(o.models ? { allowed_models: String(o.models).split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        }),
      );
    });
  adminOptions(keys.command('list').description('list keys (never their secrets)').option('--account <id>', 'only this account')).action(async (o) =>
    print(await client(o).call('GET', `/keys${o.account ? `?account_id=${encodeURIComponent(o.account)}` : ''}`)),
  );
  adminOptions(keys.command('revoke').description('revoke a key; its next request is refused').argument('<key_id>')).action(async (id: string, o) => print(await client(o).call('POST', `/keys/${encodeURIComponent(id)}/revoke`)));
  adminOptions(keys.command('rotate').description('issue a replacement key; the old one keeps working for the overlap').argument('<key_id>').option('--overlap <seconds>', 'overlap window in seconds', '86400')).action(
    async (id: string, o) => print(await client(o).call('POST', `/keys/${encodeURIComponent(id)}/rotate`, { overlap_seconds: Number(o.overlap) })),
  );

  const actions = program.command('actions').description('enforcement actions (through the running server)');
  adminOptions(actions.command('create').description('act on a key, account, org, cluster or end user'))
    .requiredOption('--subject <kind:id>', 'e.g. key:abc123, account:acc_1, org:org_1, cluster:cl_7')
    .addOption(new Option('--decision <decision>', 'what to do').choices(['monitor', 'throttle', 'degrade', 'step_up', 'block']).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why (recorded)')
    .option('--expires-at <time>', 'RFC 3339 expiry')
    .option('--author <name>', 'who decided', process.env['USER'] ?? 'cli')
    .action(async (o) => {
      const i = String(o.subject).indexOf(':');
      if (i < 1) throw new WardenError('VALIDATION', `--subject must be kind:id, got "${o.subject}".`);
      print(
        await client(o).call('POST', '/actions', {
          subject: { kind: o.subject.slice(0, i), id: o.subject.slice(i + 1) },
          decision: o.decision,
          reason: o.reason,
          author: o.author,
          ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
        }),
      );
    });
  adminOptions(actions.command('list').description('actions in force')).action(async (o) => print(await client(o).call('GET', '/actions')));
  adminOptions(actions.command('reverse').description('reverse an action').argument('<action_id>').requiredOption('--reason <text>', 'why').option('--author <name>', 'who', process.env['USER'] ?? 'cli')).action(
    async (id: string, o) => print(await client(o).call('POST', `/actions/${encodeURIComponent(id)}/reverse`, { reason: o.reason, author: o.author })),
  );

  registerPolicyCommands(program, { config, client, print, adminOptions });
  registerIntelCommands(program, { config, print });
  registerSimCommands(program, { config, print });
  registerAuditCommands(program, { config });
  registerAnalyzeCommand(program, { config });
  registerCaseCommands(program, { config, client, print, adminOptions });
  registerAlertCommands(program, { client, adminOptions });
  registerUserCommands(program, { client, print, adminOptions });
  return program;
}

function onSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) {
      process.stderr.write(`${sig} again: exiting now.\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${sig}: draining in-flight requests…\n`);
    close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`error while stopping: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (isWardenError(e)) {
      process.stderr.write(`warden: ${e.message}\n`);
      process.exitCode = e.code === 'NOT_FOUND' ? 3 : 2;
      return;
    }
    throw e;
  }
}


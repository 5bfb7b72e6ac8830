/**
 * `warden simulate`, `warden eval`, `warden score`: worlds with ground truth, and the scores
 * of detectors (the baselines until the detection engine lands) on them.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { WardenError } from '../core/index.js';
import { openIpIntel } from '../intel/index.js';
import {
  evaluate,
  formatEvalTable,
  formatScoreTable,
  listScenarios,
  loadScenario,
  loadSuite,
  replayWorld,
  scoreFiles,
  simulate,
  type EvalScenario,
  type ReplayResult,
} from '../sim/index.js';
import type { WardenConfig } from './config.js';
import { createAdminClient } from './admin-client.js';
import { formatRoundTrip, runRoundTrip } from './roundtrip.js';
import { progressBar } from './progress.js';

export interface SimCommandContext {
  config: () => WardenConfig;
  print: (v: unknown) => void;
}

const progressOf = (label: string) => progressBar(label, '{accounts} accounts | {events} events | {phase}', { accounts: 0, events: 0, phase: '' });

const samplerFor = (c: WardenConfig) => openIpIntel({ customNetworks: c.intel.custom_networks, ...(c.intel.data_dir ? { dataDir: c.intel.data_dir } : {}) });

export function registerSimCommands(program: Command, ctx: SimCommandContext): void {
  program
    .command('simulate')
    .description('write a simulated world (accounts, events, truth) from a scenario, or replay one through a gateway')
    .option('--scenario <name|file>', `a shipped scenario (${safeList()}) or a YAML file`)
    .option('--out <dir>', 'where to write accounts.jsonl, events.jsonl, truth.json, watchlist.yaml')
    .option('--gzip', 'write .jsonl.gz')
    .option('--replay <url>', 'replay the world in --out through a running gateway with the official SDKs')
    .option('--rate <rps>', 'replay rate, requests per second', '20')
    .option('--limit <n>', 'replay at most this many requests')
    .option('--token <token>', 'admin token of the gateway (replay creates orgs, accounts and keys through it)')
    .action(async (o: { scenario?: string; out?: string; gzip?: boolean; replay?: string; rate: string; limit?: string; token?: string }) => {
      if (!o.out) throw new WardenError('VALIDATION', '--out DIR is required: where the world is written (or read from, with --replay).');
      if (o.replay) {
        await replay(ctx.config(), o.out, o.replay, Number(o.rate), o.limit ? Number(o.limit) : undefined, o.token);
        return;
      }
      if (!o.scenario) throw new WardenError('VALIDATION', `--scenario is required: one of ${safeList()} or a YAML file.`);
      const scenario = loadScenario(o.scenario);
      const bar = progressOf(`simulate ${o.scenario}`);
      const t0 = Date.now();
      const result = await simulate(scenario, o.out, {
        sampler: samplerFor(ctx.config()),
        ...(o.gzip ? { gzip: true } : {}),
        onProgress: (p) => bar.update(p.fraction, { accounts: p.accounts, events: p.events, phase: p.phase }),
      });
      bar.stop();
      process.stdout.write(`Wrote ${result.accounts} accounts and ${result.events} events (${(result.bytes / 1e6).toFixed(1)} MB) to ${result.dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      for (const [group, n] of Object.entries(result.groups)) process.stdout.write(`  ${group.padEnd(36)} ${String(n.accounts).padStart(8)} accounts ${String(n.events).padStart(10)} events\n`);
    });

  program
    .command('eval')
    .description('simulate, analyze and score: recall, precision, false positives, attribution, time to detect, beside the baselines')
    .option('--scenario <name|file>', 'one scenario')
    .option('--suite <name>', 'a shipped suite (hard): every scenario in it, training and held-out')
    .option('--split <split>', 'with --suite: only train or heldout')
    .option('--out <dir>', 'where worlds and reports go', '.warden/eval')
    .action(async (o: { scenario?: string; suite?: string; split?: string; out: string }) => {
      let scenarios: EvalScenario[];
      if (o.suite) scenarios = loadSuite(o.suite).filter((s) => !o.split || s.split === o.split);
      else if (o.scenario) scenarios = [{ name: o.scenario, scenario: loadScenario(o.scenario) }];
      else throw new WardenError('VALIDATION', 'Give --scenario NAME|FILE or --suite NAME.');
      const bar = progressOf('eval');
      const intel = samplerFor(ctx.config());
      const report = await evaluate(scenarios, {
        sampler: intel,
        intel,
        outDir: o.out,
        onProgress: (p) => bar.update(p.fraction, { accounts: p.accounts, events: p.events, phase: `${p.scenario} ${p.step}${p.analyzer ? ` ${p.analyzer}` : ''}` }),
      });
      bar.stop();
      mkdirSync(o.out, { recursive: true });
      const file = path.join(o.out, 'eval.json');
      writeFileSync(file, JSON.stringify(report, null, 2));
      process.stdout.write(`${formatEvalTable(report)}\nJSON: ${file}\n`);
    });

  program
    .command('sim')
    .description('simulator experiments across worlds (see `warden sim roundtrip --help`)')
    .command('roundtrip')
    .description('STIX round trip: world A → case → STIX bundle → imported into world B (another seed); recall of the actor through the imported indicators and the false positives they cause')
    .option('--scenario <name|file>', 'a scenario whose intermediary campaign names an `actor`', 'sharing')
    .option('--seed-a <n>', 'seed of the exporting world', '1')
    .option('--seed-b <n>', 'seed of the importing world', '2')
    .option('--out <dir>', 'keep the worlds here (default: a temporary directory, removed)')
    .option('--bundle <file>', 'also write the exported STIX bundle to this file')
    .option('--json', 'print the report as JSON')
    .action(async (o: { scenario: string; seedA: string; seedB: string; out?: string; bundle?: string; json?: boolean }) => {
      const seed = (v: string, flag: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new WardenError('VALIDATION', `${flag}: expected a whole number from 0 to 4294967295, got "${v}".`);
        return n;
      };
      const seedA = seed(o.seedA, '--seed-a');
      const seedB = seed(o.seedB, '--seed-b');
      if (seedA === seedB) throw new WardenError('VALIDATION', '--seed-a and --seed-b must differ: the round trip needs two different worlds.');
      const scenario = loadScenario(o.scenario);
      const c = ctx.config();
      const intel = openIpIntel({ customNetworks: [...c.intel.custom_networks, ...scenario.custom_networks], ...(c.intel.data_dir ? { dataDir: c.intel.data_dir } : {}), watchlist: scenario.watchlist });
      const { bundle_json, ...report } = await runRoundTrip({ scenario, seedA, seedB, intel, ...(o.out ? { outDir: o.out } : {}), onProgress: (step) => process.stderr.write(`${step}\n`) });
      if (o.bundle) writeFileSync(o.bundle, `${JSON.stringify(bundle_json, null, 2)}\n`);
      if (o.json) ctx.print(report);
      else process.stdout.write(`${formatRoundTrip({ ...report, bundle_json })}\n`);
    });

  program
    .command('score')
    .description('score any verdicts.json against any truth.json (interchange.md scoring rules)')
    .requiredOption('--verdicts <file>', 'verdicts.json')
    .requiredOption('--truth <file>', 'truth.json')
    .option('--json', 'print JSON')
    .action(async (o: { verdicts: string; truth: string; json?: boolean }) => {
      for (const f of [o.verdicts, o.truth]) if (!existsSync(f)) throw new WardenError('NOT_FOUND', `${f} does not exist.`);
      const r = await scoreFiles(o.verdicts, o.truth);
      if (o.json) ctx.print(r);
      else process.stdout.write(`${formatScoreTable(r, `${o.verdicts} against ${o.truth}`)}\n`);
    });
}

function safeList(): string {
  try {
    return listScenarios().join(', ');
  } catch {
    return 'demo';
  }
}

/** Replays a world through a gateway: one org, account and key per simulated account. */
export async function replay(config: WardenConfig, dir: string, url: string, rate: number, limit: number | undefined, token: string | undefined, out: NodeJS.WritableStream = process.stdout): Promise<ReplayResult> {
  const admin = createAdminClient(config, { url, ...(token ? { token } : {}) });
  const accountsFile = ['accounts.jsonl', 'accounts.jsonl.gz'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (!accountsFile || accountsFile.endsWith('.gz')) throw new WardenError('NOT_FOUND', `${dir} has no accounts.jsonl; write a world there with \`warden simulate --scenario NAME --out ${dir}\` first.`);
  const keys = new Map<string, string>();
  const orgs = new Map<string, string>();
  for (const line of readFileSync(accountsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const a = JSON.parse(line) as Record<string, unknown>;
    const simOrg = String(a['org_id'] ?? a['account_id']);
    let orgId = orgs.get(simOrg);
    if (!orgId) {
      const org = await admin.call<{ org_id: string }>('POST', '/orgs', {
        name: String(a['org_name'] ?? simOrg),
        ...(a['declared_country'] ? { declared_country: a['declared_country'] } : {}),
        ...(a['payment_country'] ? { payment_country: a['payment_country'] } : {}),
        ...(a['declared_use'] ? { declared_use: a['declared_use'] } : {}),
        ...(a['verification'] ? { verification: a['verification'] } : {}),
        ...(a['email_domain'] ? { email_domain: a['email_domain'] } : {}),
      });
      orgId = org.org_id;
      orgs.set(simOrg, orgId);
    }
    const acc = await admin.call<{ account_id: string }>('POST', '/accounts', { org_id: orgId });
    const key = await admin.call<{ key: string }>('POST', '/keys', { account_id: acc.account_id });
    keys.set(String(a['account_id']), key.key);
  }
  process.stderr.write(`Created ${orgs.size} orgs and ${keys.size} accounts with keys on ${url}; replaying at ${rate} requests/s…\n`);
  const r = await replayWorld({ dir, baseUrl: url, keys, rate, ...(limit ? { limit } : {}) });
  out.write(`${JSON.stringify(r, null, 2)}\n`);
  return r;
}

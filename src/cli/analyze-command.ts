/**
 * `warden analyze`: the batch path of detection over any logs in the interchange format (an
 * integrity team's own exports), writing verdicts.json as a stream.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ValidationError, WardenError } from '../core/index.js';
import { loadWatchlist } from '../intel/index.js';
import { analyzeInWorker, DEFAULT_MAX_HEAP_MB } from './analyze-worker.js';
import { progressBar } from './progress.js';
import type { WardenConfig } from './config.js';

/** What each phase is doing, as the bar shows it (the bar's percentage is the phase's own). */
const PHASES = { accounts: '1/4 reading accounts', events: '2/4 reading events', clusters: '3/4 linking and scoring', write: '4/4 writing verdicts' } as const;

export function registerAnalyzeCommand(program: Command, ctx: { config: () => WardenConfig }): void {
  program
    .command('analyze')
    .description('detect hydra clusters, resellers, distillation and evasion in exported logs; writes verdicts.json')
    .requiredOption('--accounts <file>', 'accounts.jsonl (or .jsonl.gz)')
    .requiredOption('--events <file>', 'events.jsonl (or .jsonl.gz)')
    .option('--watchlist <file>', 'prohibited and restricted parties (YAML or JSON); default: the config\'s watchlist')
    .requiredOption('--out <dir>', 'where verdicts.json is written')
    .option('--previous <verdicts.json>', "an earlier run's verdicts: clusters keep their ids")
    .option('--strict', 'stop at the first malformed line instead of skipping it')
    .option('--max-heap <MB>', 'heap limit of the analysis in MiB (about 2.5 KB per account and 0.5–1 GB besides: the default fits a million accounts and keeps the process under 4 GB; raise it for more)', String(DEFAULT_MAX_HEAP_MB))
    .action(async (o: { accounts: string; events: string; watchlist?: string; out: string; previous?: string; strict?: boolean; maxHeap: string }) => {
      for (const f of [o.accounts, o.events, o.previous].filter((x): x is string => !!x)) {
        if (!existsSync(f)) throw new WardenError('NOT_FOUND', `${f} does not exist.`);
      }
      const maxHeapMb = Number(o.maxHeap);
      if (!Number.isInteger(maxHeapMb) || maxHeapMb < 256) throw new ValidationError(`--max-heap ${o.maxHeap}: give a whole number of megabytes, 256 or more.`);
      const c = ctx.config();
      const watchlistFile = o.watchlist ?? c.watchlist;
      const watchlist = watchlistFile ? loadWatchlist(watchlistFile) : undefined;
      let issues = 0;
      const bar = progressBar('analyze', '{phase} | {accounts} accounts | {events} events | {skipped} skipped', { phase: PHASES.accounts, accounts: 0, events: 0, skipped: 0 });
      const result = await analyzeInWorker(
        {
          accountsFile: o.accounts,
          eventsFile: o.events,
          outDir: o.out,
          intel: { custom_networks: c.intel.custom_networks, ...(c.intel.data_dir ? { data_dir: c.intel.data_dir } : {}) },
          ...(watchlist ? { watchlist } : {}),
          ...(o.previous ? { previousVerdictsFile: o.previous } : {}),
          ...(o.strict ? { strict: true } : {}),
        },
        { maxHeapMb },
        {
          issue: (i) => {
            if (++issues <= 20) process.stderr.write(`${i.file}:${i.line}: ${i.message} (skipped)\n`);
            else if (issues === 21) process.stderr.write('… more malformed lines; the summary counts them all\n');
          },
          progress: (p) => bar.update(p.fraction, { phase: PHASES[p.phase], accounts: p.accounts, events: p.events, skipped: p.skipped }),
        },
      ).finally(() => bar.stop());
      const s = result.summary;
      process.stdout.write(
        `Wrote ${result.verdictsFile} in ${result.seconds.toFixed(1)} s: ${s.accounts} accounts, ${s.events} events, ${result.flagged} flagged, ${result.clusters} clusters, ${s.skipped_lines} malformed lines skipped.\n`,
      );
      if (s.degraded_detectors.length) process.stdout.write(`Degraded (the logs lack what they need): ${s.degraded_detectors.join('; ')}\n`);
    });
}

/**
 * The detection engine on the hard suite beside the two baselines: simulate → analyze → score
 * with the simulator's own `evaluate()`. Tune on `--split train`; report `--split heldout`.
 *
 *   node --import tsx bench/detection-eval.ts --split heldout [--out .warden/eval-detection]
 *
 * `--seeds 7111-7150` runs instead the first training world's configuration with each of those
 * seeds (training data, for tuning: three seeds do not show a population's tail; a seed of a
 * held-out world is refused, and so is any seed from 9000 up: that range is for held-out runs).
 *
 * `--heldout-seeds 9401-9440` runs the first held-out world's configuration with each of those
 * seeds (from 9000 up, none a suite world's): fresh held-out worlds, to report how often each
 * target is met rather than one world's draw. Run them once, after tuning; never tune on them.
 *
 * Add `--warden-only` to skip the baselines. Over more than one world a summary of the targets
 * follows the tables (worlds meeting each one, pooled benign false positives).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { wardenAnalyzer } from '../src/detection/index.js';
import { openIpIntel } from '../src/intel/index.js';
import { baselines, evaluate, formatEvalTable, formatTargetSummary, loadSuite } from '../src/sim/index.js';

const { values } = parseArgs({
  options: {
    split: { type: 'string', default: 'heldout' },
    suite: { type: 'string', default: 'hard' },
    only: { type: 'string' },
    out: { type: 'string', default: '.warden/eval-detection' },
    seeds: { type: 'string' },
    'heldout-seeds': { type: 'string' },
    'warden-only': { type: 'boolean', default: false },
  },
});
const suite = loadSuite(values.suite!);
/** Seeds from here up are held-out seeds: `--seeds` (training) never uses them. */
const HELDOUT_SEED_FLOOR = 9000;
if (values.seeds && values['heldout-seeds']) throw new Error('--seeds (training) and --heldout-seeds: one at a time');
const scenarios = values.seeds
  ? extraSeeds(values.seeds, 'train')
  : values['heldout-seeds']
    ? extraSeeds(values['heldout-seeds'], 'heldout')
    : suite.filter((s) => s.split === values.split && (!values.only || s.name.includes(values.only)));
// The analyzer sees the same networks the world was built with (the scenarios' fictional ranges too).
const customNetworks = scenarios.flatMap((s) => s.scenario.custom_networks);
const watchlist = scenarios[0]?.scenario.watchlist;
const intel = openIpIntel({ customNetworks, ...(watchlist ? { watchlist: { restricted_countries: watchlist.restricted_countries, entities: watchlist.entities } } : {}) });
const t0 = Date.now();
const report = await evaluate(scenarios, {
  sampler: intel,
  outDir: values.out!,
  analyzers: [...(values['warden-only'] ? [] : baselines()), wardenAnalyzer({ intel })],
  onProgress: (p) => process.stderr.write(`\r${p.scenario} ${p.step}${p.analyzer ? ` ${p.analyzer}` : ''} ${Math.round(100 * p.fraction)}%   `),
});
process.stderr.write('\n');
mkdirSync(values.out!, { recursive: true });
const tag = values.seeds ? `seeds-${values.seeds}` : values['heldout-seeds'] ? `heldout-seeds-${values['heldout-seeds']}` : values.split;
writeFileSync(join(values.out!, `eval-${tag}.json`), JSON.stringify(report, null, 2));
const summary = report.runs.length > 1 ? `\n\n${formatTargetSummary(report, 'warden')}` : '';
process.stdout.write(`${formatEvalTable(report)}${summary}\n\n${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

/**
 * The suite's first world of a split with other seeds (`LO-HI`). Training seeds stay below
 * 9000 and held-out seeds from 9000 up, so the two never meet; no suite world's seed is reused.
 */
function extraSeeds(range: string, split: 'train' | 'heldout'): typeof suite {
  const flag = split === 'train' ? '--seeds' : '--heldout-seeds';
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!m) throw new Error(`${flag}: expected LO-HI (e.g. ${split === 'train' ? '7111-7150' : '9401-9440'}), got ${range}`);
  const lo = Number(m[1]);
  const hi = Number(m[2] ?? m[1]);
  if (hi < lo) throw new Error(`${flag}: ${range} is an empty range (LO must not exceed HI)`);
  if (split === 'train' && hi >= HELDOUT_SEED_FLOOR) throw new Error(`--seeds: training seeds stay below ${HELDOUT_SEED_FLOOR} (seeds from there up are held out)`);
  if (split === 'heldout' && lo < HELDOUT_SEED_FLOOR) throw new Error(`--heldout-seeds: held-out seeds are ${HELDOUT_SEED_FLOOR} and up`);
  const base = suite.find((s) => s.split === split);
  if (!base) throw new Error(`suite ${values.suite} has no ${split} world`);
  const used = new Set(suite.map((s) => s.scenario.seed));
  const out: typeof suite = [];
  for (let seed = lo; seed <= hi; seed++) {
    if (used.has(seed)) throw new Error(`${flag}: ${seed} is the seed of a suite world`);
    out.push({ name: `${base.name}-seed${seed}`, split, scenario: { ...base.scenario, name: `${base.scenario.name}-seed${seed}`, seed } });
  }
  return out;
}

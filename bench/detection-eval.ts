/**
 * The detection engine on the hard suite beside the two baselines: simulate → analyze → score
 * with the simulator's own `evaluate()`. Tune on `--split train`; report `--split heldout`.
 *
 *   node --import tsx bench/detection-eval.ts --split heldout [--out .warden/eval-detection]
 *
 * `--seeds 7111-7150` runs instead the first training world's configuration with each of those
 * seeds (training data, for tuning: three seeds do not show a population's tail; a seed of a
 * held-out world is refused). Add `--warden-only` to skip the baselines.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { wardenAnalyzer } from '../src/detection/index.js';
import { openIpIntel } from '../src/intel/index.js';
import { baselines, evaluate, formatEvalTable, loadSuite } from '../src/sim/index.js';

const { values } = parseArgs({
  options: {
    split: { type: 'string', default: 'heldout' },
    suite: { type: 'string', default: 'hard' },
    only: { type: 'string' },
    out: { type: 'string', default: '.warden/eval-detection' },
    seeds: { type: 'string' },
    'warden-only': { type: 'boolean', default: false },
  },
});
const suite = loadSuite(values.suite!);
const scenarios = values.seeds ? extraTrainingSeeds(values.seeds) : suite.filter((s) => s.split === values.split && (!values.only || s.name.includes(values.only)));
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
writeFileSync(join(values.out!, `eval-${values.seeds ? `seeds-${values.seeds}` : values.split}.json`), JSON.stringify(report, null, 2));
process.stdout.write(`${formatEvalTable(report)}\n\n${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

/** The suite's first training world with other seeds (`LO-HI`); never a held-out world's seed. */
function extraTrainingSeeds(range: string): typeof suite {
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!m) throw new Error(`--seeds: expected LO-HI (e.g. 7111-7150), got ${range}`);
  const lo = Number(m[1]);
  const hi = Number(m[2] ?? m[1]);
  if (hi < lo) throw new Error(`--seeds: ${range} is an empty range (LO must not exceed HI)`);
  const base = suite.find((s) => s.split === 'train');
  if (!base) throw new Error(`suite ${values.suite} has no training world`);
  const heldout = new Set(suite.filter((s) => s.split === 'heldout').map((s) => s.scenario.seed));
  const out: typeof suite = [];
  for (let seed = lo; seed <= hi; seed++) {
    if (heldout.has(seed)) throw new Error(`--seeds: ${seed} is a held-out world's seed`);
    out.push({ name: `${base.name}-seed${seed}`, split: 'train', scenario: { ...base.scenario, name: `${base.scenario.name}-seed${seed}`, seed } });
  }
  return out;
}

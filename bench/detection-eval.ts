/**
 * The detection engine on the hard suite beside the two baselines: simulate → analyze → score
 * with the simulator's own `evaluate()`. Tune on `--split train`; report `--split heldout`.
 *
 *   node --import tsx bench/detection-eval.ts --split heldout [--out .warden/eval-detection]
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
  },
});
const scenarios = loadSuite(values.suite!).filter((s) => s.split === values.split && (!values.only || s.name.includes(values.only)));
// The analyzer sees the same networks the world was built with (the scenarios' fictional ranges too).
const customNetworks = scenarios.flatMap((s) => s.scenario.custom_networks);
const watchlist = scenarios[0]?.scenario.watchlist;
const intel = openIpIntel({ customNetworks, ...(watchlist ? { watchlist: { restricted_countries: watchlist.restricted_countries, entities: watchlist.entities } } : {}) });
const t0 = Date.now();
const report = await evaluate(scenarios, {
  sampler: intel,
  outDir: values.out!,
  analyzers: [...baselines(), wardenAnalyzer({ intel })],
  onProgress: (p) => process.stderr.write(`\r${p.scenario} ${p.step}${p.analyzer ? ` ${p.analyzer}` : ''} ${Math.round(100 * p.fraction)}%   `),
});
process.stderr.write('\n');
mkdirSync(values.out!, { recursive: true });
writeFileSync(join(values.out!, `eval-${values.split}.json`), JSON.stringify(report, null, 2));
process.stdout.write(`${formatEvalTable(report)}\n\n${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

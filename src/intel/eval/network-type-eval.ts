/**
 * Per-class precision and recall of the network-type classification on the hand-labelled ASNs in
 * data/intel/asn-labels.csv (labels come from knowledge of each operator, not from the rules).
 *
 *   npx tsx src/intel/eval/network-type-eval.ts [--confusions]
 *
 * Two classifiers are scored: the name rules alone (`classifyAsOrg` on the AS organisation name),
 * and what `lookup` uses for a whole AS (the X4BNet datacenter ASN list first, then the rules).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NETWORK_TYPES, type NetworkType } from '../../core/index.js';
import { classifyAsOrg, openIpIntel } from '../index.js';
import { parseCsv } from '../sanctions-lists.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const rows = parseCsv(readFileSync(join(ROOT, 'data/intel/asn-labels.csv'), 'utf8')).slice(1);
const all = rows.map((r) => ({ asn: Number(r[0]), org: r[1]!, label: r[2] as NetworkType, heldOut: /held out/.test(r[3] ?? '') }));
const intel = openIpIntel({ ipv6: false });

function score(name: string, labelled: typeof all, predict: (asn: number, org: string) => NetworkType): void {
  console.log(`\n== ${name} (${labelled.length} ASNs)`);
  console.log('  class        labelled  predicted  precision  recall');
  const confusions: string[] = [];
  let correct = 0;
  for (const cls of NETWORK_TYPES) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const l of labelled) {
      const p = predict(l.asn, l.org);
      if (cls === NETWORK_TYPES[0] && p === l.label) correct++;
      if (p === cls && l.label === cls) tp++;
      else if (p === cls) fp++;
      else if (l.label === cls) fn++;
      if (cls === NETWORK_TYPES[0] && p !== l.label) confusions.push(`  AS${l.asn} ${l.org}: labelled ${l.label}, predicted ${p}`);
    }
    const n = tp + fn;
    if (n === 0 && tp + fp === 0) continue;
    const prec = tp + fp ? (tp / (tp + fp)).toFixed(2) : '  - ';
    const rec = n ? (tp / n).toFixed(2) : '  - ';
    console.log(`  ${cls.padEnd(12)} ${String(n).padStart(8)}  ${String(tp + fp).padStart(9)}  ${prec.padStart(9)}  ${rec.padStart(6)}`);
  }
  console.log(`  accuracy ${(correct / labelled.length).toFixed(3)}`);
  if (process.argv.includes('--confusions')) console.log(confusions.join('\n'));
}

for (const [set, labelled] of [
  ['held-out set (labelled after the rules were frozen)', all.filter((l) => l.heldOut)],
  ['development set (the rules were revised on it: optimistic)', all.filter((l) => !l.heldOut)],
] as const) {
  score(`${set}: AS-name rules alone`, labelled, (_asn, org) => classifyAsOrg(org).type);
  score(`${set}: datacenter ASN list, then rules (as lookup does for a whole AS)`, labelled, (asn) => intel.asnInfo(asn)?.network_type ?? 'unknown');
}

/**
 * Screening quality on data/intel/screening-eval-pairs.jsonl (built by build-pairs.ts):
 * recall over true pairs and false-positive rate over hard non-matches, at the default threshold.
 *
 *   npx tsx src/intel/eval/screening-eval.ts [--threshold 0.85] [--misses 10]
 *
 * A true pair counts as found when the screener returns the target entity among its hits for the
 * query; a false pair counts as a false positive when it does. Two runs:
 *   shipped    the lists as shipped (a real alias is in the index, so alias pairs test that the
 *              alias reaches the index intact through the same normalisation)
 *   held-out   every alias that a pair queries is removed from the index first, so the alias must
 *              be linked to its entity through the primary name and the entity's other names: the
 *              harder, more honest number for aliases
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScreener, DEFAULT_THRESHOLD, loadSanctionsLists, type LoadedLists, type OpenedScreener } from '../index.js';

interface Pair {
  id: string;
  query: string;
  target_id: string;
  target_name: string;
  label: boolean;
  kind: string;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const threshold = Number(arg('--threshold', String(DEFAULT_THRESHOLD)));
const showMisses = Number(arg('--misses', '10'));

const pairs: Pair[] = readFileSync(join(ROOT, 'data/intel/screening-eval-pairs.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Pair);

interface Outcome {
  byKind: Map<string, { n: number; positive: number }>;
  misses: Pair[];
  falsePositives: Pair[];
  times: number[];
}

function run(screener: OpenedScreener, subset: Pair[]): Outcome {
  const byKind = new Map<string, { n: number; positive: number }>();
  const misses: Pair[] = [];
  const falsePositives: Pair[] = [];
  const times: number[] = [];
  for (const p of subset) {
    const t = performance.now();
    const hits = screener.matchName(p.query, threshold);
    times.push(performance.now() - t);
    const found = hits.some((h) => h.entity.id === p.target_id);
    const k = byKind.get(p.kind) ?? { n: 0, positive: 0 };
    k.n++;
    if (found) k.positive++;
    byKind.set(p.kind, k);
    if (p.label && !found) misses.push(p);
    if (!p.label && found) falsePositives.push(p);
  }
  return { byKind, misses, falsePositives, times };
}

function report(title: string, o: Outcome): void {
  let tp = 0;
  let pos = 0;
  let fp = 0;
  let neg = 0;
  console.log(`\n== ${title} (threshold ${threshold})`);
  for (const [kind, v] of [...o.byKind].sort()) {
    const isTrue = !kind.startsWith('neg');
    if (isTrue) {
      tp += v.positive;
      pos += v.n;
    } else {
      fp += v.positive;
      neg += v.n;
    }
    console.log(`  ${kind.padEnd(38)} ${String(v.n).padStart(4)} pairs  ${isTrue ? 'recall' : 'FP rate'} ${(v.positive / v.n).toFixed(4)}`);
  }
  if (pos) console.log(`  recall ${(tp / pos).toFixed(4)} (${tp}/${pos})`);
  if (neg) console.log(`  false-positive rate ${(fp / neg).toFixed(4)} (${fp}/${neg})`);
  const sorted = o.times.slice().sort((a, b) => a - b);
  console.log(`  matchName median ${(sorted[Math.floor(sorted.length / 2)]! * 1000).toFixed(0)} µs, p99 ${(sorted[Math.floor(sorted.length * 0.99)]! * 1000).toFixed(0)} µs`);
  for (const m of o.misses.slice(0, showMisses)) console.log(`  miss  [${m.kind}] "${m.query}" → ${m.target_id} "${m.target_name}"`);
  for (const m of o.falsePositives.slice(0, showMisses)) console.log(`  false [${m.kind}] "${m.query}" → ${m.target_id} "${m.target_name}"`);
}

const lists = loadSanctionsLists();
const shipped = createScreener({ lists, threshold });
console.log(`${pairs.length} pairs: ${pairs.filter((p) => p.label).length} true, ${pairs.filter((p) => !p.label).length} false`);
report('shipped lists', run(shipped, pairs));

// Held-out: remove the queried aliases from their entities.
const drop = new Map<string, Set<string>>();
for (const p of pairs) if (p.kind === 'alias') drop.set(p.target_id, (drop.get(p.target_id) ?? new Set()).add(p.query));
const heldLists: LoadedLists = {
  ...lists,
  entities: lists.entities.map((e) => (drop.has(e.id) ? { ...e, aliases: e.aliases.filter((a) => !drop.get(e.id)!.has(a)) } : e)),
};
const held = createScreener({ lists: heldLists, threshold });
report('held-out aliases (alias pairs only)', run(held, pairs.filter((p) => p.kind === 'alias')));

/**
 * Cost of `extractFeatures` per request, against baselines measured side by side in the same
 * run: lowercasing + splitting the text on whitespace, and JSON.stringify of the input.
 * Prompts are built from the real samples in data/prompts-sample (1 KB, 20 KB and 1 MB).
 *
 *   npx tsx bench/features-bench.ts
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractFeatures, type FeatureInput } from '../src/core/features.js';

const dir = fileURLToPath(new URL('../data/prompts-sample/', import.meta.url));
const texts = (file: string): string[] =>
  readFileSync(dir + file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text);

const pool = [
  ...texts('oasst.jsonl'),
  ...texts('awesome-chatgpt-prompts.jsonl'),
  ...texts('arena-hard.jsonl'),
  ...texts('gsm8k.jsonl'),
  ...texts('human-eval.jsonl'),
];

/** Concatenates sample prompts (from a rotating start, so each input differs) up to `size` chars. */
function build(size: number, start: number): string {
  let s = '';
  for (let i = start; s.length < size; i++) s += `${pool[i % pool.length]}\n\n`;
  return s.slice(0, size);
}

/**
 * Microseconds per call of each function over `inputs`. Rounds interleave the functions so load
 * from other processes hits them alike; the best round is reported (the machine is shared and
 * noisy, and the minimum is the least disturbed estimate), with the median beside it.
 */
function measure(inputs: FeatureInput[], fns: ((x: FeatureInput) => unknown)[], rounds: number): { best: number; median: number }[] {
  const per = fns.map(() => [] as number[]);
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, k) => {
      const t0 = process.hrtime.bigint();
      for (const x of inputs) if (fn(x) !== undefined) sink++;
      per[k]!.push(Number(process.hrtime.bigint() - t0) / 1000 / inputs.length);
    });
  }
  if (sink < 0) console.log(sink);
  return per.map((xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { best: s[0]!, median: s[Math.floor(s.length / 2)]! };
  });
}

const baselineSplit = (x: FeatureInput): unknown => (x.lastUser ?? '').toLowerCase().split(/\s+/).length;
const baselineJson = (x: FeatureInput): unknown => JSON.stringify(x).length;

const system = 'You are a helpful assistant. Answer concisely and cite sources where you can.';
console.log('µs per request, best round (median in brackets); ratios use the best rounds');
console.log('size    extract            split            json             extract/split  extract/json  JSON bytes');
for (const [label, size, count, rounds] of [
  ['1 KB', 1024, 200, 40],
  ['20 KB', 20 * 1024, 40, 30],
  ['1 MB', 1024 * 1024, 4, 8],
] as const) {
  const inputs: FeatureInput[] = [];
  for (let i = 0; i < count; i++) inputs.push({ system, lastUser: build(size, i * 7), turns: 3, tools: 0 });
  // warm-up so every function is optimized before timing
  for (let w = 0; w < 3; w++) for (const x of inputs) {
    extractFeatures(x);
    baselineSplit(x);
    baselineJson(x);
  }
  const [ext, split, json] = measure(inputs, [extractFeatures, baselineSplit, baselineJson], rounds) as [
    { best: number; median: number },
    { best: number; median: number },
    { best: number; median: number },
  ];
  const bytes = JSON.stringify(extractFeatures(inputs[0]!)).length;
  const cell = (m: { best: number; median: number }): string => `${m.best.toFixed(1)} (${m.median.toFixed(1)})`.padEnd(17);
  console.log(
    `${label.padEnd(7)} ${cell(ext)}${cell(split)}${cell(json)}${(ext.best / split.best).toFixed(2).padStart(13)} ${(ext.best / json.best).toFixed(2).padStart(13)} ${String(bytes).padStart(11)}`,
  );
}

/**
 * Intelligence benchmark: IP lookup latency against baselines measured side by side in the same
 * run (a plain Map lookup by address string: the floor; a linear scan over the ranges: what the
 * binary search replaces), screening latency against a scan of every listed name, start-up times
 * and memory.
 *
 *   npx tsx bench/intel-bench.ts            (add --expose-gc via NODE_OPTIONS for exact heap figures)
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScreener, jaroWinkler, loadSanctionsLists, normalizeName, openIpIntel } from '../src/intel/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const gc = (globalThis as { gc?: () => void }).gc;
const mem = (): { heap: number; ab: number; rss: number } => {
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, ab: m.arrayBuffers, rss: m.rss };
};
const mb = (x: number): string => `${(x / 1e6).toFixed(1)} MB`;
const quantile = (xs: number[], q: number): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
};

// Deterministic addresses: half spread over the whole IPv4 space, half inside announced ranges.
let seed = 42;
const rnd = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

console.log(`node ${process.version}, ${gc ? 'gc exposed' : 'gc not exposed (heap figures include garbage)'}`);

// --- IP intelligence ---
const m0 = mem();
let t = performance.now();
const intel = openIpIntel({ customNetworks: [{ label: 'bench:doc', cidrs: ['203.0.113.0/24'], asns: [64500] }] });
const ipLoadMs = performance.now() - t;
const m1 = mem();
const st = intel.stats();
console.log(`\nIP intelligence: loaded in ${ipLoadMs.toFixed(0)} ms`);
console.log(`  ranges: ${Object.entries(st.ranges).map(([k, v]) => `${k} ${v}`).join(', ')}; ${st.asns} ASNs`);
console.log(`  typed arrays ${mb(st.tableBytes)}; heap +${mb(m1.heap - m0.heap)}, array buffers +${mb(m1.ab - m0.ab)}, rss +${mb(m1.rss - m0.rss)}`);

const ips: string[] = [];
for (let i = 0; i < 20_000; i++) {
  ips.push(`${1 + Math.floor(rnd() * 222)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`);
}
for (let i = 0; i < 2_000; i++) {
  ips.push(`2${Math.floor(rnd() * 0x10).toString(16)}0${Math.floor(rnd() * 0x10).toString(16)}:${Math.floor(rnd() * 0xffff).toString(16)}::${Math.floor(rnd() * 0xffff).toString(16)}`);
}
const v6 = ips.slice(20_000);
const v4 = ips.slice(0, 20_000);

// Baseline 1: a Map from address string to a prepared answer (no parsing, no search).
const prepared = new Map(ips.map((ip) => [ip, intel.lookup(ip)]));
// Baseline 2: a linear scan over the IPv4 ASN ranges (what the binary search replaces).
const asnCsv = readFileSync(join(ROOT, 'node_modules/@ip-location-db/asn/asn-ipv4-num.csv'), 'utf8').split('\n');
const scanStarts = new Float64Array(asnCsv.length);
const scanEnds = new Float64Array(asnCsv.length);
asnCsv.forEach((l, i) => {
  const [a, b] = l.split(',');
  scanStarts[i] = Number(a);
  scanEnds[i] = Number(b);
});
const toNum = (ip: string): number => ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
const linear = (ip: string): number => {
  const x = toNum(ip);
  for (let i = 0; i < scanStarts.length; i++) if (scanStarts[i]! <= x && x <= scanEnds[i]!) return i;
  return -1;
};

/** Per-lookup ns: median and p99 over batches of `batch` calls (timer overhead amortised). */
function timeBatches(list: string[], fn: (ip: string) => unknown, batch: number, rounds: number): { median: number; p99: number } {
  const per: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i + batch <= list.length; i += batch) {
      const s = process.hrtime.bigint();
      for (let k = i; k < i + batch; k++) if (fn(list[k]!)) sink++;
      per.push(Number(process.hrtime.bigint() - s) / batch);
    }
  }
  if (sink < 0) console.log(sink);
  return { median: quantile(per, 0.5), p99: quantile(per, 0.99) };
}

for (let i = 0; i < 3; i++) for (const ip of ips) intel.lookup(ip); // warm-up
const look = timeBatches(v4, (ip) => intel.lookup(ip), 16, 5);
const look6 = timeBatches(v6, (ip) => intel.lookup(ip), 16, 20);
const map = timeBatches(v4, (ip) => prepared.get(ip), 16, 5);
const scan = timeBatches(v4.slice(0, 320), linear, 16, 1);
console.log('\n  per lookup (batches of 16)            median ns   p99 ns');
console.log(`  lookup() IPv4                         ${look.median.toFixed(0).padStart(9)}  ${look.p99.toFixed(0).padStart(7)}`);
console.log(`  lookup() IPv6                         ${look6.median.toFixed(0).padStart(9)}  ${look6.p99.toFixed(0).padStart(7)}`);
console.log(`  baseline: Map.get(prepared answer)    ${map.median.toFixed(0).padStart(9)}  ${map.p99.toFixed(0).padStart(7)}`);
console.log(`  baseline: linear scan of ASN ranges   ${scan.median.toFixed(0).padStart(9)}  ${scan.p99.toFixed(0).padStart(7)}`);
console.log(`  ratios: lookup/Map ${(look.median / map.median).toFixed(1)}x; linear scan/lookup ${(scan.median / look.median).toFixed(0)}x`);

// --- Screening ---
t = performance.now();
const lists = loadSanctionsLists();
const listsMs = performance.now() - t;
t = performance.now();
const screener = createScreener({ lists });
const indexMs = performance.now() - t;
const m2 = mem();
const ss = screener.stats();
console.log(`\nScreening: lists read in ${listsMs.toFixed(0)} ms, index built in ${indexMs.toFixed(0)} ms (${ss.entities} entities, ${ss.names} names, ${ss.tokens} tokens); heap now ${mb(m2.heap)}`);

const queries = readFileSync(join(ROOT, 'data/intel/screening-eval-pairs.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { query: string }).query);
for (const q of queries) screener.screen({ name: q }); // warm-up
const screenTimes: number[] = [];
for (let r = 0; r < 3; r++) {
  for (const q of queries) {
    const s = process.hrtime.bigint();
    screener.screen({ name: q });
    screenTimes.push(Number(process.hrtime.bigint() - s) / 1000);
  }
}
// Baseline: compare the normalised query with every listed name by Jaro-Winkler (a scan).
const allNames = lists.entities.flatMap((e) => [e.name, ...e.aliases]).map((n) => normalizeName(n).compact);
const scanTimes: number[] = [];
for (const q of queries.slice(0, 40)) {
  const s = process.hrtime.bigint();
  const c = normalizeName(q).compact;
  let best = 0;
  for (const n of allNames) best = Math.max(best, jaroWinkler(c, n));
  scanTimes.push(Number(process.hrtime.bigint() - s) / 1000);
}
const sm = quantile(screenTimes, 0.5);
const bm = quantile(scanTimes, 0.5);
console.log('  per screening (one name, full lists)   median µs   p99 µs');
console.log(`  screen()                                ${sm.toFixed(0).padStart(8)}  ${quantile(screenTimes, 0.99).toFixed(0).padStart(7)}`);
console.log(`  baseline: Jaro-Winkler scan of names    ${bm.toFixed(0).padStart(8)}  ${quantile(scanTimes, 0.99).toFixed(0).padStart(7)}`);
console.log(`  ratio: scan/screen ${(bm / sm).toFixed(0)}x`);

/**
 * Builds the labelled screening evaluation set, data/intel/screening-eval-pairs.jsonl, from the
 * raw list files and real AS organisation names. It shares no code with the matcher on purpose
 * (its own CSV reader, tokeniser and perturbations), so the matcher cannot grade its own homework.
 *
 *   npx tsx src/intel/eval/build-pairs.ts
 *
 * Each line: { id, query, target_id, target_name, label, kind, source }. `label: true` means the
 * query names the target entity; `kind` says how the pair was made:
 *   alias             a real alias of the entity from the list itself (alt.csv, cons_alt.csv, CSL alt_names)
 *   perturb:<how>     the entity's primary name changed the way people change names: suffix, typo,
 *                     reorder, abbreviation, case/punctuation/diacritics, Cyrillic transliteration
 *   neg:list-entry    the primary name of a different list entry that shares a word with the target
 *   neg:real-company  a real AS organisation name (ip-location-db) that shares a word with the target
 * Hard negatives where one name's distinctive words contain the other's are dropped: those are
 * usually the same group (a subsidiary, a branch), which a screener should flag.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUT = join(ROOT, 'data', 'intel', 'screening-eval-pairs.jsonl');

// --- deterministic randomness (mulberry32) ---
let seed = 20261126;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (n: number): number => Math.floor(rand() * n);
const choice = <T>(a: T[]): T => a[randInt(a.length)]!;
function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randInt(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

// --- a plain CSV reader (quotes, doubled quotes) ---
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        f += '"';
        i++;
      } else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(f);
      f = '';
    } else if (c === '\n') {
      row.push(f.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      f = '';
    } else f += c;
  }
  if (f || row.length) rows.push([...row, f]);
  return rows;
}
const clean = (s: string | undefined): string => {
  const t = (s ?? '').trim();
  return t === '-0-' ? '' : t;
};

interface Entry {
  id: string;
  name: string;
  aliases: string[];
  individual: boolean;
  programs: string;
  source: string;
}

function ofac(prim: string, alt: string, prefix: string, source: string): Entry[] {
  const m = new Map<string, Entry>();
  for (const r of csvRows(readFileSync(join(ROOT, prim), 'utf8'))) {
    const type = clean(r[2]).toLowerCase();
    if (!clean(r[0]) || !clean(r[1]) || type === 'vessel' || type === 'aircraft') continue;
    m.set(clean(r[0]), { id: `${prefix}:${clean(r[0])}`, name: clean(r[1]), aliases: [], individual: type === 'individual', programs: clean(r[3]), source });
  }
  for (const r of csvRows(readFileSync(join(ROOT, alt), 'utf8'))) {
    const e = m.get(clean(r[0]));
    if (e && clean(r[3])) e.aliases.push(clean(r[3]));
  }
  return [...m.values()];
}

function csl(): Entry[] {
  const rows = csvRows(gunzipSync(readFileSync(join(ROOT, 'data/sanctions/us-csl/consolidated.csv.gz'))).toString('utf8'));
  const h = rows[0]!;
  const at = (r: string[], n: string): string => r[h.indexOf(n)] ?? '';
  const keep = /Entity List|Denied Persons|Unverified List|Military End User|ITAR Debarred|Nonproliferation/;
  const out: Entry[] = [];
  rows.slice(1).forEach((r, k) => {
    if (!keep.test(at(r, 'source')) || !at(r, 'name').trim()) return;
    out.push({
      id: `us-csl:${(at(r, '_id') || String(k + 1)).slice(0, 16)}`,
      name: at(r, 'name').trim(),
      aliases: at(r, 'alt_names')
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean),
      individual: at(r, 'type').toLowerCase() === 'individual',
      programs: at(r, 'source'),
      source: 'us-csl',
    });
  });
  return out;
}

// --- the builder's own, deliberately simple, word handling ---
const LEGALISH = new Set(
  'ltd limited inc co corp corporation company llc plc gmbh ag sa jsc ojsc cjsc pjsc ooo oao zao llp pte pvt bv nv srl spa the of and de'.split(' '),
);
const words = (s: string): string[] =>
  s
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
const significant = (s: string): string[] => words(s).filter((w) => !LEGALISH.has(w) && w.length > 1);
const flat = (s: string): string => significant(s).join(' ');

// Perturbations.
const SUFFIXES = ['Ltd', 'Limited', 'LLC', 'Inc.', 'Co., Ltd.', 'GmbH', 'S.A.', 'JSC', 'Corporation', 'PLC', 'Pte. Ltd.'];
function perturbSuffix(name: string): string {
  const stripped = name.replace(/[,\s]+(LTD|LIMITED|LLC|INC|CO|CORP|CORPORATION|COMPANY|PLC|GMBH|JSC|S\.?A\.?|LLP)\.?$/i, '').trim();
  return `${stripped} ${choice(SUFFIXES)}`;
}
function perturbTypo(name: string): string | null {
  const ws = name.split(' ');
  const idx = ws.map((w, i) => [w, i] as const).filter(([w]) => /^[A-Za-z]{6,}$/.test(w));
  if (idx.length === 0) return null;
  const [w, i] = choice(idx);
  const p = 1 + randInt(w.length - 2);
  const kind = randInt(3);
  let t: string;
  if (kind === 0) t = w.slice(0, p) + w.slice(p + 1);
  else if (kind === 1) t = w.slice(0, p) + w[p + 1] + w[p] + w.slice(p + 2);
  else {
    const letters = 'aeiourstnl';
    t = w.slice(0, p) + choice([...letters].filter((c) => c.toLowerCase() !== w[p]!.toLowerCase())) + w.slice(p + 1);
  }
  ws[i] = t;
  return ws.join(' ');
}
function perturbReorder(name: string): string | null {
  const ws = name.replace(/[,.]/g, '').split(/\s+/).filter(Boolean);
  if (ws.length < 2 || ws.length > 5) return null;
  return [...ws.slice(1), ws[0]].join(' ');
}
const ABBR: [RegExp, string][] = [
  [/\bINTERNATIONAL\b/i, 'Intl'],
  [/\bTECHNOLOGY\b/i, 'Tech'],
  [/\bCORPORATION\b/i, 'Corp'],
  [/\bMANUFACTURING\b/i, 'Mfg'],
  [/\bCOMPANY\b/i, 'Co'],
  [/\bLIMITED\b/i, 'Ltd'],
  [/\bHOLDINGS?\b/i, 'Hldgs'],
  [/\bNATIONAL\b/i, 'Natl'],
  [/\bUNIVERSITY\b/i, 'Univ'],
  [/\bINSTITUTE\b/i, 'Inst'],
];
function perturbAbbrev(name: string): string | null {
  const opts = ABBR.filter(([re]) => re.test(name));
  if (opts.length === 0) return null;
  let out = name;
  for (const [re, to] of opts) out = out.replace(re, to);
  return out;
}
function perturbCase(name: string): string {
  const accents: Record<string, string> = { a: 'á', e: 'é', i: 'í', o: 'ö', u: 'ü', c: 'ç', n: 'ñ' };
  return name
    .toLowerCase()
    .replace(/[.,]/g, '')
    .replace(/[aeioucn]/g, (c) => (rand() < 0.3 ? accents[c]! : c));
}
const CYR: [string, string][] = [
  ['shch', 'щ'],
  ['kh', 'х'],
  ['zh', 'ж'],
  ['ts', 'ц'],
  ['ch', 'ч'],
  ['sh', 'ш'],
  ['yu', 'ю'],
  ['ya', 'я'],
  ['a', 'а'],
  ['b', 'б'],
  ['v', 'в'],
  ['g', 'г'],
  ['d', 'д'],
  ['e', 'е'],
  ['z', 'з'],
  ['i', 'и'],
  ['y', 'й'],
  ['k', 'к'],
  ['l', 'л'],
  ['m', 'м'],
  ['n', 'н'],
  ['o', 'о'],
  ['p', 'п'],
  ['r', 'р'],
  ['s', 'с'],
  ['t', 'т'],
  ['u', 'у'],
  ['f', 'ф'],
];
function toCyrillic(name: string): string {
  let s = name.toLowerCase();
  let out = '';
  while (s.length > 0) {
    const m = CYR.find(([lat]) => s.startsWith(lat));
    if (m) {
      out += m[1];
      s = s.slice(m[0].length);
    } else {
      out += s[0];
      s = s.slice(1);
    }
  }
  return out.toUpperCase();
}

interface Pair {
  id: string;
  query: string;
  target_id: string;
  target_name: string;
  label: boolean;
  kind: string;
  source: string;
}

function main(): void {
  const entries = [
    ...ofac('data/sanctions/ofac-sdn/sdn.csv', 'data/sanctions/ofac-sdn/alt.csv', 'ofac-sdn', 'OFAC SDN 2021'),
    ...ofac('data/sanctions/ofac-cons/cons_prim.csv', 'data/sanctions/ofac-cons/cons_alt.csv', 'ofac-cons', 'OFAC Consolidated 2025'),
    ...csl(),
  ];
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  const add = (p: Omit<Pair, 'id'>): void => {
    const key = `${p.query}\u0000${p.target_id}`;
    if (seen.has(key) || !p.query.trim()) return;
    seen.add(key);
    pairs.push({ id: `p${String(pairs.length + 1).padStart(4, '0')}`, ...p });
  };

  // 1. Real aliases (the list's own), differing from the primary name beyond case and punctuation.
  const withAliases = shuffle(entries.filter((e) => e.aliases.some((a) => flat(a) !== flat(e.name) && significant(a).length > 0)));
  const orgs = withAliases.filter((e) => !e.individual);
  const people = withAliases.filter((e) => e.individual);
  for (const e of [...orgs.slice(0, 480), ...people.slice(0, 140)]) {
    const a = choice(e.aliases.filter((x) => flat(x) !== flat(e.name) && significant(x).length > 0));
    add({ query: a, target_id: e.id, target_name: e.name, label: true, kind: 'alias', source: `${e.source} alias list` });
  }

  // 2. Perturbations of primary names (organisations).
  const orgEntries = shuffle(entries.filter((e) => !e.individual && significant(e.name).length >= 1));
  const russian = orgEntries.filter((e) => /UKRAINE|RUSSIA|CYBER|Entity List/i.test(e.programs) && /^[A-Za-z0-9 ,.\-"']+$/.test(e.name));
  const kinds: [string, (n: string) => string | null][] = [
    ['perturb:suffix', perturbSuffix],
    ['perturb:typo', perturbTypo],
    ['perturb:reorder', perturbReorder],
    ['perturb:abbreviation', perturbAbbrev],
    ['perturb:case-punctuation-diacritics', perturbCase],
  ];
  let k = 0;
  for (const [kind, fn] of kinds) {
    let made = 0;
    for (; k < orgEntries.length && made < 90; k++) {
      const e = orgEntries[k]!;
      const q = fn(e.name);
      if (!q || q === e.name) continue;
      add({ query: q, target_id: e.id, target_name: e.name, label: true, kind, source: `${e.source} primary name` });
      made++;
    }
  }
  for (const e of shuffle(russian).slice(0, 60)) {
    add({ query: toCyrillic(e.name), target_id: e.id, target_name: e.name, label: true, kind: 'perturb:cyrillic', source: `${e.source} primary name` });
  }

  // Helpers for hard negatives: word index over primary names and aliases.
  const allNames = (e: Entry): string[] => [e.name, ...e.aliases];
  const sigSet = (s: string): Set<string> => new Set(significant(s));
  const contains = (a: Set<string>, b: Set<string>): boolean => [...b].every((w) => a.has(w));
  const related = (q: string, e: Entry): boolean =>
    allNames(e).some((n) => {
      const A = sigSet(q);
      const B = sigSet(n);
      return A.size === 0 || B.size === 0 || contains(A, B) || contains(B, A) || flat(q) === flat(n);
    });
  const byWord = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.individual) continue;
    for (const w of new Set(significant(e.name))) {
      if (w.length < 4) continue;
      const l = byWord.get(w);
      if (l) l.push(e);
      else byWord.set(w, [e]);
    }
  }

  // 3. Distinct real list entries sharing a word.
  let negList = 0;
  for (const a of shuffle(entries.filter((e) => !e.individual))) {
    if (negList >= 520) break;
    const ws = significant(a.name).filter((w) => w.length >= 4 && (byWord.get(w)?.length ?? 0) > 1);
    if (ws.length === 0) continue;
    const cands = (byWord.get(choice(ws)) ?? []).filter((b) => b.id !== a.id && !related(a.name, b) && !allNames(a).some((n) => related(n, b)));
    if (cands.length === 0) continue;
    const b = choice(cands);
    add({ query: a.name, target_id: b.id, target_name: b.name, label: false, kind: 'neg:list-entry', source: `${a.source} entry vs ${b.source} entry` });
    negList++;
  }

  // 4. Real companies (AS organisation names) sharing a word with a list entry.
  const req = createRequire(import.meta.url);
  const asnCsv = readFileSync(join(dirname(req.resolve('@ip-location-db/asn/package.json')), 'asn-ipv4.csv'), 'utf8');
  const orgNames = new Set<string>();
  for (const line of asnCsv.split('\n')) {
    const m = /^[^,]*,[^,]*,\d+,(.*)$/.exec(line);
    if (m) orgNames.add(m[1]!.replace(/^"|"$/g, '').replace(/""/g, '"'));
  }
  let negCo = 0;
  for (const org of shuffle([...orgNames])) {
    if (negCo >= 420) break;
    const ws = significant(org).filter((w) => w.length >= 4 && byWord.has(w));
    if (ws.length === 0) continue;
    const cands = (byWord.get(choice(ws)) ?? []).filter((b) => !related(org, b));
    if (cands.length === 0) continue;
    const b = choice(cands);
    add({ query: org, target_id: b.id, target_name: b.name, label: false, kind: 'neg:real-company', source: `AS organisation name (@ip-location-db/asn) vs ${b.source} entry` });
    negCo++;
  }

  writeFileSync(OUT, `${pairs.map((p) => JSON.stringify(p)).join('\n')}\n`);
  const count = (f: (p: Pair) => boolean): number => pairs.filter(f).length;
  console.log(`wrote ${pairs.length} pairs to ${OUT}`);
  console.log(`  true: ${count((p) => p.label)} (aliases ${count((p) => p.kind === 'alias')}, perturbations ${count((p) => p.kind.startsWith('perturb'))})`);
  console.log(`  false: ${count((p) => !p.label)} (list entries ${count((p) => p.kind === 'neg:list-entry')}, real companies ${count((p) => p.kind === 'neg:real-company')})`);
}

main();

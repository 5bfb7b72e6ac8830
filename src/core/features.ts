/**
 * Prompt features: a small, versioned, privacy-preserving summary of a request's content.
 * The gateway writes it on every usage event instead of raw text; the batch path computes the
 * same object from an event's `prompt` and `system`; the simulator uses it to describe traffic.
 * Each key is documented in docs/features.md (what it is, how it is computed, what it reveals).
 *
 * Pure and bounded: no I/O, and at most `SCAN_HEAD + SCAN_TAIL` characters of each text are
 * scanned, so a 1 MB prompt costs about what a 36 KB one does.
 */
import { z } from 'zod';
import {
  CHAT_WORDS,
  CJK_COT,
  CYRILLIC_WORDS,
  GREETING_TEXTS,
  GREETINGS,
  IMPERATIVE_VERBS,
  PHRASES,
  SCAFFOLD,
  STOPWORDS,
  TASK_CUES,
  TASKS,
  type Family,
  type Task,
} from './features-lexicon.js';
import { Brk, fmix32, Hash64, hex32, popcount32, Tk, tokenize, wordHash, WordFlags, Zone, type Tokens } from './features-text.js';

export { TASKS, type Task } from './features-lexicon.js';

// Local copies of imported constants: hot loops read these instead of module bindings.
const { Num: K_NUM, Proper: K_PROPER, Ident: K_IDENT, Url: K_URL, Email: K_EMAIL, Word: K_WORD, Cjk: K_CJK } = Tk;
const { Text: Z_TEXT, Quote: Z_QUOTE, Code: Z_CODE } = Zone;
const B_NONE = Brk.None;
const B_LINE = Brk.Line;
const wh = wordHash;
const mix = fmix32;

/** Characters scanned from the start of each text. */
export const SCAN_HEAD = 32 * 1024;
/** Characters scanned from the end of a text longer than `SCAN_HEAD + SCAN_TAIL`. */
export const SCAN_TAIL = 4 * 1024;
/** Tokens fed to the SimHash: the first `SIM_HEAD` and the last `SIM_TAIL`. */
const SIM_HEAD = 1024;
const SIM_TAIL = 256;
/** At most this many marker ids are reported in `marks`. */
export const MAX_MARKS = 10;

const hex16 = z.string().regex(/^[0-9a-f]{16}$/, '16 lowercase hex digits');
const score = z.number().min(0).max(1);
const count = z.number().int().nonnegative();

/** Version 1 of the prompt features written on `UsageEvent.features`. */
export const PromptFeaturesV1 = z.object({
  v: z.literal(1),
  in_chars: count,
  sys_chars: count,
  turns: count,
  tools: count,
  est_tokens: count,
  trunc: z.boolean(),
  sys_hash: hex16.nullable(),
  sys_tpl: hex16.nullable(),
  tools_hash: hex16.nullable(),
  tpl: hex16.nullable(),
  tpl_framed: z.boolean(),
  simhash: hex16.nullable(),
  lang: z.string().regex(/^(?:[a-z]{2}|und)$/),
  script: z.enum(['Latn', 'Hani', 'Jpan', 'Kore', 'Cyrl', 'Arab', 'Hebr', 'Grek', 'Deva', 'Thai', 'Zyyy']),
  cot: score,
  code: score,
  tool_trace: score,
  bench: score,
  probe: score,
  marks: z.array(z.string().regex(/^[a-z]+:[a-z_]+$/)).max(MAX_MARKS),
  task: z.enum(TASKS),
  task_conf: score,
  words: count,
  lines: count,
  digit_frac: score,
  qmark: z.boolean(),
  imperative: z.boolean(),
});
export type PromptFeaturesV1 = z.infer<typeof PromptFeaturesV1>;

export interface FeatureInput {
  /** System prompt text (Anthropic `system`, or the OpenAI system/developer messages joined). */
  system?: string;
  /** Text of the last user message (text parts joined with newlines). */
  lastUser?: string;
  /** Number of messages in the request. */
  turns: number;
  /** Number of tool definitions in the request. */
  tools: number;
  /** Names of the tool definitions, when known; hashed into `tools_hash`, never stored. */
  toolNames?: string[];
  /** Requested model. Accepted so callers pass the whole request shape; not used by v1. */
  model?: string;
}

/** Cuts a text to its first `SCAN_HEAD` and last `SCAN_TAIL` characters. */
export function capText(s: string): { text: string; truncated: boolean } {
  if (s.length <= SCAN_HEAD + SCAN_TAIL) return { text: s, truncated: false };
  return { text: `${s.slice(0, SCAN_HEAD)}\n${s.slice(s.length - SCAN_TAIL)}`, truncated: true };
}

// ---------------------------------------------------------------------------------------------
// Vocabulary lookups

const EN_STOP = new Set(STOPWORDS['en']);

/** Language bits per stopword, for the Latin-script vote. */
const LATIN_LANGS = Object.keys(STOPWORDS);

/**
 * One lexicon for every word list, so each token costs one map lookup (done by the tokenizer);
 * later stages test bits. Bits 8..15 are the Latin languages' stopword bits, in LATIN_LANGS order.
 */
const F_STOP = 1;
const F_SCAF = 2;
const F_COMMON = 4;
const F_PHRASE = 8;
const F_TASK = 16;
const F_LANG_SHIFT = 8;
const F_UK = 1 << 16;
const F_RU = 1 << 17;
const F_CHAT = 1 << 18;
const F_IMP = 1 << 19;
/** Word hash → flag bits. */
const LEX = new WordFlags();
const addFlag = (w: string, f: number): void => {
  const h = wh(w);
  LEX.set(h, LEX.get(h) | f);
};
for (const w of EN_STOP) addFlag(w, F_STOP | F_COMMON);
for (const w of SCAFFOLD) addFlag(w, F_SCAF | F_COMMON);
for (const w of IMPERATIVE_VERBS) addFlag(w, F_COMMON | F_IMP);
for (const w of CHAT_WORDS) addFlag(w, F_COMMON | F_CHAT);

/** Marker phrases keyed by the hash of their first word; each sequence as word hashes. */
const PHRASE_H = new Map<number, { id: string; seq: number[] }[]>();
for (const [first, list] of PHRASES) {
  PHRASE_H.set(
    wh(first),
    list.map((p) => ({ id: p.id, seq: p.seq.map(wh) })),
  );
  addFlag(first, F_PHRASE);
}
const GREETING_H = new Map<number, string>(Object.entries(GREETINGS).map(([w, l]) => [wh(w), l]));
const H = {
  please: wh('please'),
  can: wh('can'),
  could: wh('could'),
  you: wh('you'),
  write: wh('write'),
  compose: wh('compose'),
  draft: wh('draft'),
  translate: wh('translate'),
  summarize: wh('summarize'),
  summarise: wh('summarise'),
  extract: wh('extract'),
};
LATIN_LANGS.forEach((lang, bit) => {
  for (const w of STOPWORDS[lang]!) addFlag(w, 1 << (F_LANG_SHIFT + bit));
});
for (const w of CYRILLIC_WORDS.uk) addFlag(w, F_UK);
for (const w of CYRILLIC_WORDS.ru) addFlag(w, F_RU);

// ---------------------------------------------------------------------------------------------
// Template fingerprint

// Placeholder codes fed to the template hash instead of slot fillers.
const P_NUM = 0x23000001;
const P_PROPER = 0x23000002;
const P_IDENT = 0x23000003;
const P_URL = 0x23000004;
const P_EMAIL = 0x23000005;
const P_QUOTE = 0x23000006;
const P_CODE = 0x23000007;
const P_SLOT = 0x23000008;

/** Feeds tokens [a, b) to the hash; slot fillers enter as placeholders, a quotation or code span as one. */
function feedRange(h: Hash64, t: Tokens, a: number, b: number): void {
  let lastZone = -1;
  for (let i = a; i < b; i++) {
    const z = t.zone[i]!;
    if (z !== Z_TEXT) {
      if (z !== lastZone) h.word(z === Z_QUOTE ? P_QUOTE : P_CODE);
      lastZone = z;
      continue;
    }
    lastZone = z;
    switch (t.kind[i]) {
      case K_NUM:
        h.word(P_NUM);
        break;
      case K_PROPER:
        h.word(P_PROPER);
        break;
      case K_IDENT:
        h.word(P_IDENT);
        break;
      case K_URL:
        h.word(P_URL);
        break;
      case K_EMAIL:
        h.word(P_EMAIL);
        break;
      default:
        h.word(t.hash[i]!);
    }
  }
}

/**
 * Slot-likeness of each token, doubled to stay integral: content +2, scaffold −3, stopword 0,
 * Han/kana +1. Computed once per text.
 */
function lexScores(t: Tokens): Int8Array {
  const out = new Int8Array(t.n);
  for (let i = 0; i < t.n; i++) {
    const k = t.kind[i];
    if (k === K_WORD) {
      const f = t.flags[i]!;
      out[i] = f & F_SCAF ? -3 : f & F_STOP ? 0 : 2;
    } else out[i] = k === K_CJK ? 1 : 2;
  }
  return out;
}

/**
 * Template fingerprint (docs/features.md, "tpl"). The tokens are cut into segments at sentence
 * ends, `label:` colons, line breaks and the edges of quotations and code. Each segment is
 * scored with `lexScores` (content +2, scaffold −3, stopword 0), a quotation or code span +4,
 * a short `Label:` −4. Segments scoring above zero, or holding four content words, are slot
 * content, and so is a run of short labels or option letters between two of them; each run of
 * slot segments becomes one `#slot`. The other segments are the frame, hashed token by token
 * (numbers, names, identifiers, URLs, e-mails as placeholders). Where a frame segment touches
 * a slot, its content-heavy edge (the last answer option glued to "Let's think first.") moves
 * into the slot. A prompt with no frame, or nothing but frame, is hashed whole: it is its own
 * template.
 */
function templateFingerprint(t: Tokens): { tpl: string | null; framed: boolean } {
  if (t.n === 0) return { tpl: null, framed: false };
  const lex = lexScores(t);
  const starts: number[] = [];
  const scores: number[] = [];
  let segScore = 0;
  let segContent = 0;
  let segStart = 0;
  let lastZone = -1;
  for (let i = 0; i <= t.n; i++) {
    const z = i < t.n ? t.zone[i]! : -1;
    if (i === t.n || (i > 0 && (t.brk[i] !== B_NONE || z !== t.zone[i - 1]))) {
      const end = i;
      if (end > segStart) {
        // A short label ("Question:", "Q:", "My question is:") is frame by construction.
        if (end - segStart <= 3 && t.colonAfter[end - 1] === 1 && t.zone[end - 1] === Z_TEXT) segScore -= 4;
        starts.push(segStart);
        // Four content words make a segment slot content even amid scaffold words
        // ("Which of the following would most likely provide examples of mitotic cell divisions").
        scores.push(segContent >= 4 ? Math.max(segScore, 1) : segScore);
      }
      if (i === t.n) break;
      segStart = i;
      segScore = 0;
      segContent = 0;
      lastZone = -1;
    }
    if (z !== Z_TEXT) {
      if (z !== lastZone) segScore += 4;
      lastZone = z;
      continue;
    }
    lastZone = z;
    segScore += lex[i]!;
    if (lex[i] === 2) segContent++;
  }
  const m = starts.length;
  starts.push(t.n); // sentinel: segment j ends at starts[j + 1]
  const isSlot = scores.map((x) => x > 0);
  // A short frame run between two slot runs belongs to the slot: labels ("Options:") and
  // segments of at most two tokens (an option letter, "I only"), four tokens in all.
  for (let j = 1; j < m; j++) {
    if (isSlot[j] || !isSlot[j - 1]) continue;
    let k = j;
    let short = true;
    while (k < m && !isSlot[k]) {
      const len = starts[k + 1]! - starts[k]!;
      if (len > 2 && !(len <= 3 && t.colonAfter[starts[k + 1]! - 1] === 1)) short = false;
      k++;
    }
    if (k < m && short && starts[k]! - starts[j]! <= 4) for (let x = j; x < k; x++) isSlot[x] = true;
    j = k;
  }
  let slots = 0;
  for (const b of isSlot) if (b) slots++;
  if (slots === 0 || slots === m) {
    const h = new Hash64();
    feedRange(h, t, 0, t.n);
    return { tpl: h.hex(), framed: false };
  }
  // Frame range of each frame segment after moving content-heavy edges into adjacent slots.
  const h = new Hash64();
  let frameTokens = 0;
  let inSlot = false;
  for (let j = 0; j < m; j++) {
    if (isSlot[j]) {
      if (!inSlot) h.word(P_SLOT);
      inSlot = true;
      continue;
    }
    let a = starts[j]!;
    let b = starts[j + 1]!;
    if (j > 0 && isSlot[j - 1] && t.zone[a] === Z_TEXT) {
      let sum = 0;
      let bestSum = 0;
      let cut = a;
      for (let i = a; i < b; i++) {
        sum += lex[i]!;
        if (sum > bestSum) {
          bestSum = sum;
          cut = i + 1;
        }
      }
      a = cut;
    }
    if (j + 1 < m && isSlot[j + 1] && a < b && t.zone[b - 1] === Z_TEXT) {
      let sum = 0;
      let bestSum = 0;
      let cut = b;
      for (let i = b - 1; i >= a; i--) {
        sum += lex[i]!;
        if (sum > bestSum) {
          bestSum = sum;
          cut = i;
        }
      }
      b = cut;
    }
    if (a > starts[j]! && !inSlot) h.word(P_SLOT);
    if (a < b) {
      feedRange(h, t, a, b);
      frameTokens += b - a;
      inSlot = false;
    }
    if (b < starts[j + 1]! && !inSlot) {
      h.word(P_SLOT);
      inSlot = true;
    }
  }
  if (frameTokens === 0) {
    const w = new Hash64();
    feedRange(w, t, 0, t.n);
    return { tpl: w.hex(), framed: false };
  }
  return { tpl: h.hex(), framed: true };
}

/** Hash of a text normalized by case and whitespace only (exact-match identity). */
function exactHash(s: string): string {
  return new Hash64().str(s.trim().replace(/\s+/g, ' ').toLowerCase()).hex();
}

// ---------------------------------------------------------------------------------------------
// SimHash

/**
 * 64-bit SimHash over word 3-gram shingles of the lowercased tokens (unigrams for texts of
 * fewer than three tokens). Near-duplicates differ in few bits; unrelated texts in about 32.
 */
function simhash(t: Tokens): string | null {
  const n = t.n;
  if (n === 0) return null;
  // Bit-sliced counters: plane p holds bit p of the 32 per-position counts of each half, so an
  // add costs a short carry chain instead of 64 increments.
  SIM_LO.fill(0);
  SIM_HI.fill(0);
  const hs = t.hash;
  const long = n > SIM_HEAD + SIM_TAIL;
  let shingles = 0;
  if (n < 3) {
    for (let j = 0; j < n; j++) {
      const a = mix(hs[j]!);
      simAdd(a, mix(a ^ 0x9e3779b9));
      shingles++;
    }
  } else {
    // 3-gram shingles over the first SIM_HEAD and the last SIM_TAIL tokens
    const runs = long ? [0, SIM_HEAD, n - SIM_TAIL, n] : [0, n];
    for (let r = 0; r < runs.length; r += 2) {
      const end = runs[r + 1]!;
      for (let j = runs[r]!; j + 2 < end; j++) {
        const x = Math.imul(hs[j]!, 0x9e3779b1) ^ Math.imul(hs[j + 1]! ^ 0x85ebca6b, 0xc2b2ae35) ^ hs[j + 2]!;
        const a = mix(x);
        simAdd(a, mix(a ^ 0x27d4eb2f ^ hs[j + 2]!));
        shingles++;
      }
    }
  }
  const half = shingles >>> 1;
  return hex32(simMajority(SIM_HI, half)) + hex32(simMajority(SIM_LO, half));
}

const SIM_PLANES = 16;
const SIM_LO = new Int32Array(SIM_PLANES);
const SIM_HI = new Int32Array(SIM_PLANES);
function simAdd(a: number, b: number): void {
  let carry = a | 0;
  for (let p = 0; carry !== 0; p++) {
    const c = SIM_LO[p]! & carry;
    SIM_LO[p]! ^= carry;
    carry = c;
  }
  carry = b | 0;
  for (let p = 0; carry !== 0; p++) {
    const c = SIM_HI[p]! & carry;
    SIM_HI[p]! ^= carry;
    carry = c;
  }
}
/** Bit-parallel comparison: bit i set where counter i (over the planes) exceeds `threshold`. */
function simMajority(planes: Int32Array, threshold: number): number {
  let gt = 0;
  let eq = -1;
  for (let p = SIM_PLANES - 1; p >= 0; p--) {
    const tb = (threshold >>> p) & 1 ? -1 : 0;
    const pl = planes[p]!;
    gt |= eq & pl & ~tb;
    eq &= ~(pl ^ tb);
  }
  return gt >>> 0;
}

/** Number of differing bits between two 16-hex-digit hashes (SimHash distance, 0..64). */
export function hamming(a: string, b: string): number {
  const ah = Number.parseInt(a.slice(0, 8), 16);
  const al = Number.parseInt(a.slice(8, 16), 16);
  const bh = Number.parseInt(b.slice(0, 8), 16);
  const bl = Number.parseInt(b.slice(8, 16), 16);
  if (!Number.isFinite(ah + al + bh + bl)) return 64;
  return popcount32((ah ^ bh) >>> 0) + popcount32((al ^ bl) >>> 0);
}

// ---------------------------------------------------------------------------------------------
// Language and script

type Script = PromptFeaturesV1['script'];

function hintOf(s: Tokens['script'], lang: string): number {
  return s.hints[lang] ?? 0;
}

function detectLang(t: Tokens): { lang: string; script: Script } {
  const s = t.script;
  // CJK characters carry about a word each; Latin letters about a fifth of one.
  const cands: [Script, number][] = [
    ['Latn', s.latin / 5],
    ['Hani', s.han],
    ['Jpan', s.kana * 2],
    ['Kore', s.hangul / 2],
    ['Cyrl', s.cyrillic / 5],
    ['Arab', s.arabic / 4],
    ['Hebr', s.hebrew / 4],
    ['Grek', s.greek / 5],
    ['Deva', s.devanagari / 4],
    ['Thai', s.thai / 4],
  ];
  let script: Script = 'Zyyy';
  let best = 0;
  for (const [name, v] of cands) {
    if (v > best) {
      best = v;
      script = name;
    }
  }
  if (script === 'Hani' && s.kana > 0) script = 'Jpan';
  switch (script) {
    case 'Hani':
      return { lang: 'zh', script };
    case 'Jpan':
      return { lang: 'ja', script };
    case 'Kore':
      return { lang: 'ko', script };
    case 'Cyrl': {
      let uk = hintOf(s, 'uk') * 2;
      let ru = hintOf(s, 'ru') * 2;
      for (let i = 0; i < t.n && i < 400; i++) {
        const f = t.flags[i]!;
        if (f & F_UK) uk++;
        if (f & F_RU) ru++;
      }
      return { lang: uk > ru ? 'uk' : 'ru', script };
    }
    case 'Arab':
      return { lang: hintOf(s, 'fa') > 0 ? 'fa' : 'ar', script };
    case 'Hebr':
      return { lang: 'he', script };
    case 'Grek':
      return { lang: 'el', script };
    case 'Deva':
      return { lang: 'hi', script };
    case 'Thai':
      return { lang: 'th', script };
    case 'Zyyy':
      return { lang: 'und', script };
    case 'Latn':
      break;
  }
  const votes = new Array<number>(LATIN_LANGS.length).fill(0);
  let seen = 0;
  let only = 0;
  for (let i = 0; i < t.n && seen < 400; i++) {
    // Quoted text counts (JSON-shaped prompts are all quotes); code does not.
    if (t.zone[i] === Z_CODE || (t.kind[i] !== K_WORD && t.kind[i] !== K_PROPER)) continue;
    seen++;
    only = t.hash[i]!;
    const bits = (t.flags[i]! >>> F_LANG_SHIFT) & 0xff;
    if (bits === 0) continue;
    for (let b = 0; b < LATIN_LANGS.length; b++) if (bits & (1 << b)) votes[b]! += 1;
  }
  // Letters typical of one language add to its vote; Turkish and Polish have no stopword list
  // here and are named by their letters alone.
  const bonus: Record<string, number> = {
    es: hintOf(s, 'es') * 2,
    de: hintOf(s, 'de'),
    fr: hintOf(s, 'fr'),
    pt: hintOf(s, 'pt') * 2,
    vi: hintOf(s, 'vi'),
  };
  let lang = 'und';
  let top = 0;
  for (let b = 0; b < LATIN_LANGS.length; b++) {
    const l = LATIN_LANGS[b]!;
    const v = votes[b]! + (bonus[l] ?? 0);
    if (v > top) {
      top = v;
      lang = l;
    }
  }
  for (const l of ['tr', 'pl']) {
    const v = hintOf(s, l);
    if (v >= 2 && v > top) {
      top = v;
      lang = l;
    }
  }
  if (seen <= 2) {
    const g = GREETING_H.get(only);
    if (g) return { lang: g, script };
  }
  return { lang: top >= 1 ? lang : 'und', script };
}

// ---------------------------------------------------------------------------------------------
// Markers

/** Weight of each marker id in its family's score: score = 1 − Π(1 − w). */
const MARK_WEIGHT: Record<string, number> = {
  'cot:step': 0.6,
  'cot:think': 0.5,
  'cot:reasoning': 0.5,
  'cot:chain': 0.6,
  'cot:work': 0.5,
  'cot:cjk': 0.6,
  'cot:tag': 0.6,
  'code:fence': 0.7,
  'code:inline': 0.2,
  'code:syntax': 0.5,
  'code:kw': 0.5,
  'code:lang': 0.3,
  'code:decl': 0.6,
  'code:ask': 0.5,
  'code:doctest': 0.6,
  'tool:defs': 0.6,
  'tool:names': 0.2,
  'tool:json': 0.6,
  'tool:react': 0.7,
  'tool:ask': 0.4,
  'tool:tags': 0.6,
  'bench:mc': 0.6,
  'bench:mc_phrase': 0.4,
  'bench:labels': 0.4,
  'bench:final': 0.3,
  'bench:word_problem': 0.4,
  'bench:doctest': 0.6,
  'bench:fewshot': 0.5,
  'probe:ignore': 0.8,
  'probe:persona': 0.6,
  'probe:policy': 0.3,
  'probe:fiction': 0.3,
  'probe:harm': 0.3,
  'probe:gibberish': 0.4,
};
const MARK_IDS = Object.keys(MARK_WEIGHT);
const FAMILY_OF: Record<string, Family> = {};
for (const id of Object.keys(MARK_WEIGHT)) FAMILY_OF[id] = id.slice(0, id.indexOf(':')) as Family;

/** Matches the marker phrases over word tokens; returns hit counts per marker id. */
function matchPhrases(t: Tokens, hits: Map<string, number>): void {
  const n = t.n;
  for (let i = 0; i < n; i++) {
    if ((t.flags[i]! & F_PHRASE) === 0) continue;
    const cands = PHRASE_H.get(t.hash[i]!);
    if (cands === undefined) continue;
    for (const p of cands) {
      const seq = p.seq;
      if (i + seq.length > n) continue;
      let ok = true;
      for (let j = 1; j < seq.length; j++) {
        if (t.hash[i + j] !== seq[j]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      // "which of the following" and the like are weaker than real option labels.
      const id = p.id === 'bench:mc' ? 'bench:mc_phrase' : p.id;
      hits.set(id, (hits.get(id) ?? 0) + 1);
      break;
    }
  }
}

const TOOL_JSON_KEYS = ['"arguments"', '"tool_calls"', '"function_call"', '"parameters"', '"tool_use"', '"tool_result"', '"input_schema"', '"tool_call_id"'];
const TOOL_TAGS = ['<tool_call', '<function_call', '<tool_use', '<tool_result', '<invoke', '<function_results', '<functions>', '<tools>'];
/** ReAct labels (`Thought:` 1, `Action:` 2, `Observation:` 4) by word hash. */
const REACT_LABELS = new Map<number, number>([
  [wh('thought'), 1],
  [wh('action'), 2],
  [wh('observation'), 4],
]);
const QA_LABELS = new Set(['question', 'answer', 'q', 'a', 'choices', 'options', 'solution'].map(wh));
const QUESTION_LABELS = new Set(['question', 'q'].map(wh));

/**
 * Adversarial-suffix check (GCG-style token salad): among the last 24 whitespace-separated
 * chunks, the share that mix letters with two or more of `[]{}<>\|~^#$*@=+` and backticks, switch case
 * mid-word, or glue a punctuation run to letters. Plain words in brackets or quotes do not count.
 */
function gibberishTail(s: string): boolean {
  const tail = s.slice(-400);
  let symbols = 0;
  for (let i = 0; i < tail.length; i++) {
    const c = tail.charCodeAt(i);
    if (c === 91 || c === 93 || c === 123 || c === 125 || c === 60 || c === 62 || c === 36 || c === 42 || c === 92 || c === 124 || c === 126 || c === 94 || c === 35 || c === 64 || c === 61 || c === 43 || c === 96) symbols++;
  }
  if (symbols < 3) return false;
  // Template variables (`${name}`, `{name}`) and markdown emphasis are not salad.
  const chunks = s
    .slice(-400)
    .replace(/\$?\{[^{}\s]*\}|\*\*|__/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .slice(-24);
  if (chunks.length < 10) return false;
  let odd = 0;
  for (const c of chunks) {
    if (!/\p{L}/u.test(c) || /^[(["']*[\p{L}\d'-]+[)\]"']*[,.;:!?]?$/u.test(c)) continue;
    const symbols = (c.match(/[[\]{}<>\\|~^#$*@=+`]/g) ?? []).length;
    const camel = /\p{Ll}\p{Lu}/u.test(c) && !/[=(]/.test(c); // camelCase outside code calls
    if (symbols >= 2 || camel || /^[!?.[\]<>$#{}~^-]{2,}\p{L}|\p{L}[!?.,;:'"-]{3,}./u.test(c)) odd++;
  }
  return odd >= 3 && odd / chunks.length >= 0.12;
}

const CODE_DECL =
  /^[ \t]*(?:def [A-Za-z_]\w*\s*\(|class [A-Z]\w*[:(\s{]|import [\w.{*]|from [\w.]+ import |function \w+\s*\(|#include\s*[<"]|(?:public|private) (?:static |final )*(?:class|void|int|String)\b|package [\w.]+;|fn \w+\s*\(|func \w+\s*\(|(?:SELECT|INSERT INTO|CREATE TABLE|UPDATE) [\w*]|const \w+\s*=|let \w+\s*=|var \w+\s*=)/m;

const DECL_WORDS = new Set(
  ['def', 'class', 'import', 'from', 'function', 'include', 'public', 'private', 'package', 'fn', 'func', 'select', 'insert', 'create', 'update', 'const', 'let', 'var'].map(wh),
);
function declCandidate(t: Tokens): boolean {
  for (let i = 0; i < t.n; i++) if ((i === 0 || t.brk[i] === B_LINE) && DECL_WORDS.has(t.hash[i]!)) return true;
  return false;
}

function bump(hits: Map<string, number>, id: string): void {
  hits.set(id, (hits.get(id) ?? 0) + 1);
}

interface Marks {
  scores: Record<Family, number>;
  ids: string[];
  hits: Map<string, number>;
}

/** The markers a system prompt contributes: elicitation and tool markers, not content markers. */
function systemHits(sys: Tokens): Map<string, number> {
  const sysHits = new Map<string, number>();
  matchPhrases(sys, sysHits);
  for (const id of [...sysHits.keys()]) {
    const fam = FAMILY_OF[id] ?? (id.slice(0, id.indexOf(':')) as Family);
    if (!(fam === 'cot' || fam === 'tool' || id === 'probe:ignore' || id === 'probe:persona')) sysHits.delete(id);
  }
  return sysHits;
}

/** ReAct label bits (`Thought:` 1, `Action:` 2, `Observation:` 4) of the labels that open a line. */
function reactBits(t: Tokens): number {
  let react = 0;
  for (let i = 0; i < t.n; i++) {
    if (t.colonAfter[i] !== 1 || (i > 0 && t.brk[i] === B_NONE)) continue;
    react |= REACT_LABELS.get(t.hash[i]!) ?? 0;
  }
  return react;
}

function collectMarks(user: Tokens, userText: string, sp: SystemPart | null, input: FeatureInput): Marks {
  const hits = new Map<string, number>();
  matchPhrases(user, hits);
  const sys = sp ? sp.tokens : null;
  const sysText = sp ? sp.text : '';
  if (sp) for (const [id, c] of sp.hits) hits.set(id, (hits.get(id) ?? 0) + c);
  // Substring checks run only where the tokenizer saw the characters they need.
  const uAngles = user.angles > 0;
  const sAngles = sys !== null && sys.angles > 0;
  const uBraces = user.braces > 0;
  const sBraces = sys !== null && sys.braces > 0;
  const uCjk = user.script.han + user.script.kana + user.script.hangul > 0;
  const sCjk = sys !== null && sys.script.han + sys.script.kana + sys.script.hangul > 0;
  const t = user;
  // chain of thought: tags and CJK phrasing
  if ((uAngles && userText.includes('<think')) || (sAngles && sysText.includes('<think'))) bump(hits, 'cot:tag');
  if (uCjk || sCjk) {
    for (const m of CJK_COT) if ((uCjk && userText.includes(m)) || (sCjk && sysText.includes(m))) bump(hits, 'cot:cjk');
  }
  // code
  if (t.fences >= 1) bump(hits, 'code:fence');
  if (t.inlineCode >= 1) bump(hits, 'code:inline');
  const dense = t.codeSyms >= 12 && t.codeSyms / Math.max(1, t.letters) > 0.04;
  if (dense) bump(hits, 'code:syntax');
  const kw = hits.get('code:kw') ?? 0;
  hits.delete('code:kw');
  if (kw >= 3 || (kw >= 1 && (dense || t.fences > 0))) hits.set('code:kw', kw);
  // A line that opens like source code: a definition, an import, an include, a SQL statement.
  // The regex runs only when such a keyword starts a line.
  if (declCandidate(t) && CODE_DECL.test(userText.length > 8192 ? userText.slice(0, 8192) : userText)) bump(hits, 'code:decl');
  const doctest =
    t.codeSyms >= 3 && userText.includes('>>>') && (userText.includes('"""') || userText.includes("'''")) && /\bdef\s+\w+\s*\(/.test(userText);
  if (doctest) {
    bump(hits, 'code:doctest');
    bump(hits, 'bench:doctest');
  }
  // tool use and agent traces
  if (input.tools > 0) bump(hits, 'tool:defs');
  if (input.toolNames && input.toolNames.length > 0) bump(hits, 'tool:names');
  if (uBraces || sBraces) {
    const inJson = (needle: string): boolean => (uBraces && userText.includes(needle)) || (sBraces && sysText.includes(needle));
    let jsonKeys = 0;
    for (const key of TOOL_JSON_KEYS) if (inJson(key)) jsonKeys++;
    if (jsonKeys >= 1 && (inJson('"name"') || inJson('"type"'))) bump(hits, 'tool:json');
  }
  if (uAngles || sAngles) {
    for (const tag of TOOL_TAGS) if ((uAngles && userText.includes(tag)) || (sAngles && sysText.includes(tag))) bump(hits, 'tool:tags');
  }
  let react = 0;
  let qaLabels = 0;
  let questionLabels = 0;
  for (let i = 0; i < t.n; i++) {
    if (t.colonAfter[i] !== 1 || (i > 0 && t.brk[i] === B_NONE)) continue;
    const w = t.hash[i]!;
    react |= REACT_LABELS.get(w) ?? 0;
    if (QA_LABELS.has(w)) qaLabels++;
    if (QUESTION_LABELS.has(w)) questionLabels++;
  }
  if (sp) react |= sp.react;
  const reactPhrase = hits.has('tool:react');
  hits.delete('tool:react');
  if (popcount32(react) >= 2 || reactPhrase) bump(hits, 'tool:react');
  // benchmark scaffolds
  if (t.optionLetters >= 3) bump(hits, 'bench:mc');
  if (qaLabels >= 1) bump(hits, 'bench:labels');
  if (questionLabels >= 2) bump(hits, 'bench:fewshot');
  const wp = hits.get('bench:word_problem') ?? 0;
  hits.delete('bench:word_problem');
  if (wp > 0 && t.nums >= 2) hits.set('bench:word_problem', wp);
  // probing
  const looksLikeCode = dense || t.fences > 0 || hits.has('code:decl') || hits.has('code:doctest') || hits.has('code:kw');
  // Token salad carries symbols; without three of them anywhere there is nothing to look at.
  if (!looksLikeCode && t.codeSyms >= 3 && gibberishTail(userText)) bump(hits, 'probe:gibberish');

  const scores: Record<Family, number> = { cot: 0, code: 0, tool: 0, bench: 0, probe: 0 };
  const keep: Record<Family, number> = { cot: 1, code: 1, tool: 1, bench: 1, probe: 1 };
  const ids: string[] = [];
  for (const id of MARK_IDS) {
    if (!hits.has(id)) continue;
    const fam = FAMILY_OF[id]!;
    keep[fam] *= 1 - MARK_WEIGHT[id]!;
    ids.push(id);
  }
  for (const f of Object.keys(scores) as Family[]) scores[f] = round2(1 - keep[f]);
  return { scores, ids: ids.slice(0, MAX_MARKS), hits };
}

// ---------------------------------------------------------------------------------------------
// Task

/** Task cues keyed by the hash of their first word; `key` identifies the cue. */
const TASK_PHRASES = new Map<number, { task: Task; weight: number; seq: number[]; key: number }[]>();
let cueKey = 0;
for (const [task, weight, cues] of TASK_CUES) {
  for (const cue of cues) {
    const words = cue.split(/[\s\-.,]+/).filter(Boolean);
    const seq = words.map(wh);
    const first = seq[0]!;
    let arr = TASK_PHRASES.get(first);
    if (!arr) {
      arr = [];
      TASK_PHRASES.set(first, arr);
    }
    arr.push({ task, weight, seq, key: cueKey++ });
    addFlag(words[0]!, F_TASK);
  }
}
for (const arr of TASK_PHRASES.values()) arr.sort((a, b) => b.seq.length - a.seq.length);

function classifyTask(t: Tokens, userText: string, marks: Marks, words: number): { task: Task; conf: number } {
  const sc: Record<Task, number> = {
    math: 0,
    code: 0,
    reasoning: 0,
    writing: 0,
    translation: 0,
    'qa-knowledge': 0,
    roleplay: 0,
    extraction: 0,
    summarization: 0,
    chat: 0,
    other: 0,
  };
  // Each cue counts once per prompt, and each category at most three cues.
  const seen = new Set<number>();
  const perTask: Partial<Record<Task, number>> = {};
  // The request itself is near the start; a long pasted text adds little but cost.
  const limit = Math.min(t.n, 1500);
  for (let i = 0; i < limit; i++) {
    if (t.zone[i] === Z_CODE || (t.flags[i]! & F_TASK) === 0) continue;
    const cands = TASK_PHRASES.get(t.hash[i]!);
    if (cands === undefined) continue;
    for (const c of cands) {
      if (i + c.seq.length > t.n) continue;
      let ok = true;
      for (let j = 1; j < c.seq.length; j++) {
        if (t.hash[i + j] !== c.seq[j]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      const key = c.key;
      if (!seen.has(key) && (perTask[c.task] ?? 0) < 3) {
        seen.add(key);
        perTask[c.task] = (perTask[c.task] ?? 0) + 1;
        // Cues near the start (the request itself) weigh more than cues deep in a pasted text.
        sc[c.task] += c.weight * (i < 40 ? 1.5 : 1);
      }
      break;
    }
  }
  const nums = t.nums;
  const ops = nums < 2 ? 0 : (userText.slice(0, 4096).match(/\d\s*[-+*/×÷=^]\s*\d/g) ?? []).length;
  if (nums >= 2) sc.math += 1 + Math.min(2, ops);
  if (marks.hits.has('bench:word_problem')) sc.math += 2;
  sc.code += marks.scores.code * 8;
  if (marks.hits.has('bench:mc')) sc['qa-knowledge'] += 2;
  if (t.qmarks > 0) sc['qa-knowledge'] += 1;
  sc.reasoning += marks.scores.cot;
  const first = firstWord(t);
  if (first === H.write || first === H.compose || first === H.draft) sc.writing += 2;
  if (first === H.translate) sc.translation += 3;
  if (first === H.summarize || first === H.summarise) sc.summarization += 3;
  if (first === H.extract) sc.extraction += 3;
  if (words > 25) sc.chat /= 3;
  else if (words <= 4 && sc.chat === 0 && t.n > 0 && (t.flags[0]! & F_CHAT) !== 0) sc.chat += 2;
  if (words > 0 && words <= 4 && GREETING_TEXTS.has(userText.trim().toLowerCase().replace(/[!.?,\s]+$/u, '').split(/\s+/)[0] ?? '')) sc.chat += 3;
  let best: Task = 'other';
  let b1 = 0;
  let b2 = 0;
  for (const task of TASKS) {
    const v = sc[task];
    if (v > b1) {
      b2 = b1;
      b1 = v;
      best = task;
    } else if (v > b2) b2 = v;
  }
  if (b1 < 1.5) return { task: 'other', conf: round2(words === 0 ? 0 : 0.3) };
  return { task: best, conf: round2(b1 / (b1 + b2 + 1)) };
}

/** Hash of the first word after "please", "can", "could", "you" (0 if none). */
function firstWord(t: Tokens): number {
  for (let i = 0; i < t.n && i < 4; i++) {
    if (t.zone[i] !== Z_TEXT) continue;
    const w = t.hash[i]!;
    if (w === H.please || w === H.can || w === H.could || w === H.you) continue;
    return t.kind[i] === K_WORD || t.kind[i] === K_PROPER ? w : 0;
  }
  return 0;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// System prompts

/** Everything the features take from a system prompt alone; immutable once built. */
interface SystemPart {
  /** The scanned text (`capText`). */
  text: string;
  truncated: boolean;
  tokens: Tokens;
  tpl: string | null;
  hash: string;
  estTokens: number;
  /** Marker hits the system prompt contributes (`systemHits`). */
  hits: ReadonlyMap<string, number>;
  react: number;
}

/**
 * A client sends the same system prompt with every request, so its part of the features is
 * kept, keyed by the text, up to `SYSTEM_CACHE_CHARS` characters of system prompts in all
 * (then the cache starts over). The features are the same with or without it.
 */
const SYSTEM_CACHE_CHARS = 1 << 20;
const systemCache = new Map<string, SystemPart>();
let systemCacheChars = 0;

function systemPart(raw: string): SystemPart {
  const hit = systemCache.get(raw);
  if (hit !== undefined) return hit;
  const c = capText(raw);
  const tokens = tokenize(c.text, LEX, F_COMMON);
  const part: SystemPart = {
    text: c.text,
    truncated: c.truncated,
    tokens,
    tpl: templateFingerprint(tokens).tpl,
    hash: exactHash(c.text),
    estTokens: estimateTokens(tokens, c.text.length, raw.length),
    hits: systemHits(tokens),
    react: reactBits(tokens),
  };
  if (raw.length <= SYSTEM_CACHE_CHARS) {
    if (systemCacheChars + raw.length > SYSTEM_CACHE_CHARS) {
      systemCache.clear();
      systemCacheChars = 0;
    }
    systemCache.set(raw, part);
    systemCacheChars += raw.length;
  }
  return part;
}

// ---------------------------------------------------------------------------------------------

/**
 * Computes the prompt features of one request. Deterministic and pure; never throws on any
 * string (lone surrogates included). Cost is bounded by `SCAN_HEAD + SCAN_TAIL` per text.
 */
export function extractFeatures(input: FeatureInput): PromptFeaturesV1 {
  const userRaw = input.lastUser ?? '';
  const sysRaw = input.system ?? '';
  const u = capText(userRaw);
  // The system part first: it may tokenize (its tokens are kept, copied). The user's tokens
  // are used only within this call and nothing is tokenized after them, so they stay views of
  // the tokenizer's scratch space instead of seven fresh typed arrays per request.
  const sp = sysRaw.length > 0 ? systemPart(sysRaw) : null;
  const sys = sp ? sp.tokens : null;
  const user = tokenize(u.text, LEX, F_COMMON, false);

  const tplU = templateFingerprint(user);
  const marks = collectMarks(user, u.text, sp, input);

  const words = wordCount(user);
  const { lang, script } = detectLang(user.n > 0 ? user : (sys ?? user));
  const { task, conf } = classifyTask(user, u.text, marks, words);

  let toolsHash: string | null = null;
  if (input.toolNames && input.toolNames.length > 0) {
    const h = new Hash64();
    for (const name of [...input.toolNames].sort()) h.str(name);
    toolsHash = h.hex();
  }


  return {
    v: 1,
    in_chars: userRaw.length,
    sys_chars: sysRaw.length,
    turns: clampCount(input.turns),
    tools: clampCount(input.tools),
    est_tokens: estimateTokens(user, u.text.length, userRaw.length) + (sp ? sp.estTokens : 0),
    trunc: u.truncated || (sp !== null && sp.truncated),
    sys_hash: sp ? sp.hash : null,
    sys_tpl: sp ? sp.tpl : null,
    tools_hash: toolsHash,
    tpl: tplU.tpl,
    tpl_framed: tplU.framed,
    simhash: simhash(user),
    lang,
    script,
    cot: marks.scores.cot,
    code: marks.scores.code,
    tool_trace: marks.scores.tool,
    bench: marks.scores.bench,
    probe: marks.scores.probe,
    marks: marks.ids,
    task,
    task_conf: conf,
    words,
    lines: user.lines,
    digit_frac: round2(user.digits / Math.max(1, user.digits + user.letters)),
    qmark: user.qmarks > 0,
    imperative: startsImperative(user),
  };
}

/** The prompt opens with an imperative verb ("Write…", "Please list…"). */
function startsImperative(t: Tokens): boolean {
  for (let i = 0; i < t.n && i < 3; i++) {
    if (t.zone[i] !== Z_TEXT) return false;
    if (t.hash[i] === H.please) continue;
    return (t.flags[i]! & F_IMP) !== 0 && t.kind[i] === K_WORD;
  }
  return false;
}

function clampCount(x: number): number {
  return Number.isFinite(x) && x > 0 ? Math.floor(x) : 0;
}

function wordCount(t: Tokens): number {
  let w = 0;
  for (let i = 0; i < t.n; i++) if (t.kind[i] !== K_NUM) w++;
  return w;
}

/**
 * Rough token count for mixed text: ~1.1 tokens per Han/kana character, ~1 per 2.5 other
 * non-ASCII letters, ~1 per 4 remaining characters. Scaled up when the text was truncated.
 */
function estimateTokens(t: Tokens, scanned: number, full: number): number {
  if (scanned === 0) return 0;
  const rest = Math.max(0, scanned - t.cjkChars - t.otherChars);
  const est = t.cjkChars * 1.1 + t.otherChars / 2.5 + rest / 4;
  return Math.max(1, Math.round((est * full) / scanned));
}

/**
 * Low-level text machinery for prompt features: a single-pass tokenizer that records what
 * `extractFeatures` needs (normalized tokens, segment boundaries, script counts, structural
 * markers) and fast non-cryptographic hashes. Pure functions; no I/O.
 */

/** Token kinds. Placeholders stand for slot fillers in the template fingerprint. */
export const Tk = {
  Word: 0,
  Num: 1,
  /** A capitalised word inside a sentence that is not common vocabulary (a name). */
  Proper: 2,
  /** snake_case, camelCase, letters mixed with digits, or a word longer than 24 characters. */
  Ident: 3,
  Url: 4,
  Email: 5,
  /** One Han or kana character (those scripts are not space-delimited). */
  Cjk: 6,
} as const;

/** Where a token stands: plain text, inside a quotation, inside a fenced or inline code span. */
export const Zone = { Text: 0, Quote: 1, Code: 2 } as const;

/** Boundary strength recorded before a token. */
export const Brk = {
  None: 0,
  /** `.` `?` `!` `;` followed by space, or `。` `？` `！`. */
  Sentence: 1,
  /** `:` or `：` followed by space or line end (a label such as `Question:`). */
  Colon: 2,
  Line: 3,
} as const;

export interface Tokens {
  n: number;
  /** `wordHash` of each token's lowercased text (the token itself is never kept as a string). */
  hash: Int32Array;
  kind: Uint8Array;
  zone: Uint8Array;
  /** Boundary before token i (see `Brk`). */
  brk: Uint8Array;
  /** 1 where token i is directly followed by `:` (label such as `Action:`). */
  colonAfter: Uint8Array;
  /** 1 where the token was written with a leading capital. */
  cap: Uint8Array;
  /** Lexicon flags of each word token (0 for unknown words and non-words). */
  flags: Int32Array;
  /** Counts by script over letters (Latin, Han, kana, Hangul, Cyrillic, …). */
  script: ScriptCounts;
  digits: number;
  /** Number tokens. */
  nums: number;
  letters: number;
  /** Characters of `{}[];=<>|&$#\` (not parentheses, which prose and option labels use): code density. */
  codeSyms: number;
  /** Counts of `<` and `{`: gates for the tag and JSON checks. */
  angles: number;
  braces: number;
  fences: number;
  inlineCode: number;
  lines: number;
  qmarks: number;
  /** Distinct multiple-choice option letters seen as `A)`, `(B)`, `C.` at a line start or `(d)` inline. */
  optionLetters: number;
  /** Characters by class, for the token estimate. */
  cjkChars: number;
  otherChars: number;
}

export interface ScriptCounts {
  latin: number;
  han: number;
  kana: number;
  hangul: number;
  cyrillic: number;
  arabic: number;
  hebrew: number;
  greek: number;
  devanagari: number;
  thai: number;
  other: number;
  /** Letters typical of one language inside a script (ß ñ ç ё і ...), by tag. */
  hints: Record<string, number>;
}

/** Latin and Cyrillic letters that point at one language; the key is the language tag. */
const LETTER_HINTS: Record<number, string> = {};
for (const [lang, chars] of [
  ['es', 'ñ¿¡'],
  ['de', 'ßäöü'],
  ['fr', 'çèêëîïœûù'],
  ['pt', 'ãõ'],
  ['vi', 'ăơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ'],
  ['tr', 'ğışİ'],
  ['pl', 'ąćęłńśźż'],
  ['uk', 'іїєґ'],
  ['ru', 'ыэъё'],
  ['fa', 'پچژگ'],
] as const) {
  for (const ch of chars) LETTER_HINTS[ch.charCodeAt(0)] = lang;
}

const Cc = { Sep: 0, Lower: 1, Upper: 2, Digit: 3 } as const;
// ASCII classes in one table so the hot loop does a single load per character.
const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c >= 97 && c <= 122) ASCII[c] = Cc.Lower;
  else if (c >= 65 && c <= 90) ASCII[c] = Cc.Upper;
  else if (c >= 48 && c <= 57) ASCII[c] = Cc.Digit;
  else ASCII[c] = Cc.Sep;
}
const CODE_SYMS = new Uint8Array(128);
for (const ch of '{}[];=<>|&$#\\') CODE_SYMS[ch.charCodeAt(0)] = 1;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10 || c === 12 || c === 11 || c === 0xa0 || c === 0x3000;
}

/** Letter-like non-ASCII code unit: counted into a script and kept inside a word. */
function scriptOf(c: number, sc: ScriptCounts): 'word' | 'cjk' | 'sep' {
  if (c < 0x0250) {
    if (c >= 0xc0 && c !== 0xd7 && c !== 0xf7) {
      sc.latin++;
      return 'word';
    }
    return 'sep';
  }
  if (c >= 0x0300 && c <= 0x036f) return 'word'; // combining marks
  if (c >= 0x0370 && c <= 0x03ff) {
    sc.greek++;
    return 'word';
  }
  if (c >= 0x0400 && c <= 0x052f) {
    sc.cyrillic++;
    return 'word';
  }
  if (c >= 0x0590 && c <= 0x05ff) {
    sc.hebrew++;
    return 'word';
  }
  if (c >= 0x0600 && c <= 0x06ff) {
    if (c >= 0x0660 && c <= 0x0669) return 'word';
    sc.arabic++;
    return 'word';
  }
  if (c >= 0x0900 && c <= 0x097f) {
    sc.devanagari++;
    return 'word';
  }
  if (c >= 0x0e00 && c <= 0x0e7f) {
    sc.thai++;
    return 'word';
  }
  if (c >= 0x1e00 && c <= 0x1eff) {
    sc.latin++;
    return 'word';
  }
  if (c >= 0x2000 && c <= 0x2bff) return 'sep'; // punctuation, symbols, arrows, math
  if (c >= 0x3040 && c <= 0x30ff) {
    if (c === 0x30fc || (c >= 0x3041 && c <= 0x3096) || (c >= 0x30a1 && c <= 0x30fa)) {
      sc.kana++;
      return 'cjk';
    }
    return 'sep';
  }
  if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff)) {
    sc.han++;
    return 'cjk';
  }
  if (c >= 0xac00 && c <= 0xd7af) {
    sc.hangul++;
    return 'word';
  }
  if (c >= 0x3000 && c <= 0x303f) return 'sep'; // CJK punctuation
  if (c >= 0xd800 && c <= 0xdfff) return 'sep'; // astral (emoji) or a lone surrogate
  if (c >= 0xff00 && c <= 0xffef) return 'sep'; // full-width forms
  sc.other++;
  return 'word';
}

const OPEN_QUOTES: Record<number, number> = {
  34: 34, // "…"
  0x201c: 0x201d, // “…”
  0xab: 0xbb, // «…»
  0x300c: 0x300d, // 「…」
  0x300e: 0x300f, // 『…』
};
/** A quotation is treated as a slot only if it closes on the same line within this many chars. */
const MAX_QUOTE = 400;

/** Scratch buffers reused across calls (the tokenizer is synchronous); results are copied out. */
const scratch = {
  hash: new Int32Array(4096),
  kind: new Uint8Array(4096),
  zone: new Uint8Array(4096),
  brk: new Uint8Array(4096),
  colonAfter: new Uint8Array(4096),
  cap: new Uint8Array(4096),
  flags: new Int32Array(4096),
};
function ensureScratch(size: number): void {
  if (scratch.kind.length >= size) return;
  const n = Math.max(size, scratch.kind.length * 2);
  scratch.hash = new Int32Array(n);
  scratch.kind = new Uint8Array(n);
  scratch.zone = new Uint8Array(n);
  scratch.brk = new Uint8Array(n);
  scratch.colonAfter = new Uint8Array(n);
  scratch.cap = new Uint8Array(n);
  scratch.flags = new Int32Array(n);
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * The hash the tokenizer gives a word: 32-bit FNV-1a over the lowercased UTF-16 code units,
 * with the curly apostrophe ’ read as '. Build lexicon keys with this.
 */
export function wordHash(w: string): number {
  const lw = w.toLowerCase();
  let h = FNV_OFFSET;
  for (let i = 0; i < lw.length; i++) {
    const c = lw.charCodeAt(i);
    h = Math.imul(h ^ (c === 0x2019 ? 39 : c), FNV_PRIME);
  }
  return h;
}
const H_HTTP = wordHash('http');
const H_HTTPS = wordHash('https');
const H_FTP = wordHash('ftp');
const H_WWW = wordHash('www');

function hashRange(s: string, lowerAll: string, aligned: boolean, a: number, b: number): number {
  if (!aligned) return wordHash(s.slice(a, b));
  let h = FNV_OFFSET;
  for (let j = a; j < b; j++) {
    const c = lowerAll.charCodeAt(j);
    h = Math.imul(h ^ (c === 0x2019 ? 39 : c), FNV_PRIME);
  }
  return h;
}

/** True when a quotation opened at i closes with `close` on the same line within MAX_QUOTE. */
function closesOnLine(s: string, i: number, close: number): boolean {
  const end = Math.min(s.length, i + MAX_QUOTE);
  for (let j = i + 1; j < end; j++) {
    const d = s.charCodeAt(j);
    if (d === close) return j > i + 1;
    if (d === 10) return false;
  }
  return false;
}

/**
 * Word hash → flag bits, for the tokenizer's per-word lookup: an open-addressing table on typed
 * arrays. A `Map` lookup costs a few times more per token (its hashing and bucket chains) and is
 * the largest single cost of tokenizing. Absent words read as 0, like `map.get(h) ?? 0`.
 */
export class WordFlags {
  private keys = new Int32Array(64);
  private vals = new Int32Array(64);
  private used = new Uint8Array(64);
  private mask = 63;
  size = 0;

  /** The flags of a word hash (a 32-bit integer, as `wordHash` returns), 0 when absent. */
  get(h: number): number {
    const k = h | 0;
    const mask = this.mask;
    let i = (k ^ (k >>> 15)) & mask;
    for (;;) {
      if (this.used[i] === 0) return 0;
      if (this.keys[i] === k) return this.vals[i]!;
      i = (i + 1) & mask;
    }
  }

  set(h: number, flags: number): this {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const k = h | 0;
    const mask = this.mask;
    let i = (k ^ (k >>> 15)) & mask;
    while (this.used[i] !== 0 && this.keys[i] !== k) i = (i + 1) & mask;
    if (this.used[i] === 0) {
      this.used[i] = 1;
      this.keys[i] = k;
      this.size++;
    }
    this.vals[i] = flags | 0;
    return this;
  }

  private grow(): void {
    const { keys, vals, used } = this;
    const cap = (this.mask + 1) * 2;
    this.keys = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i] !== 0) this.set(keys[i]!, vals[i]!);
  }
}

/**
 * Tokenizes `s` in one pass. Words are not materialized as strings: each token is its 32-bit
 * `wordHash`, which keeps the tokenizer free of per-token allocation. Marks numbers, names,
 * identifiers, URLs, e-mail addresses, code and quotations, and records boundaries for
 * segmenting. Never throws: lone surrogates and any other code unit are separators.
 * `lexicon` maps word hashes to flag bits (kept per token in `flags`); a capitalised word
 * inside a sentence whose flags lack `commonBit` is taken for a name. With `keep` false the
 * token arrays are views of the tokenizer's scratch space: no allocation, but they are
 * overwritten by the next call, so use them before tokenizing anything else.
 */
export function tokenize(s: string, lexicon: WordFlags, commonBit: number, keep = true): Tokens {
  const len = s.length;
  ensureScratch(len + 1); // a token takes at least one code unit
  const hash = scratch.hash;
  const kind = scratch.kind;
  const zone = scratch.zone;
  const brk = scratch.brk;
  const colonAfter = scratch.colonAfter;
  const capital = scratch.cap;
  const flags = scratch.flags;
  colonAfter.fill(0, 0, len + 1);
  // Lowercase once (natively). A few characters change length when lowercased (İ); then the
  // hash lowercases word by word instead.
  const lowerAll = s.toLowerCase();
  const aligned = lowerAll.length === len;
  const script: ScriptCounts = {
    latin: 0,
    han: 0,
    kana: 0,
    hangul: 0,
    cyrillic: 0,
    arabic: 0,
    hebrew: 0,
    greek: 0,
    devanagari: 0,
    thai: 0,
    other: 0,
    hints: {},
  };
  let n = 0;
  let digits = 0;
  let letters = 0;
  let codeSyms = 0;
  let fences = 0;
  let inlineCode = 0;
  let lines = len > 0 ? 1 : 0;
  let qmarks = 0;
  let cjkChars = 0;
  let otherChars = 0;
  let optionMask = 0;
  let angles = 0;
  let braces = 0;
  let nums = 0;
  let pending: number = Brk.Line; // the first token starts a line
  let curZone: number = Zone.Text;
  let quoteClose = -1; // closing quote character while inside a quotation
  let inFence = false;
  let inInline = false;
  let lineStart = true; // only whitespace (or list bullets) since the last newline

  let i = 0;
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      const cls = ASCII[c]!;
      if (cls === Cc.Lower || cls === Cc.Upper) {
        // A word: letters, digits, underscores, apostrophes between letters, non-ASCII letters.
        const start = i;
        let upper = cls === Cc.Upper ? 1 : 0;
        let hasDigit = false;
        let hasUnderscore = false;
        let nonAscii = false;
        let innerUpper = false;
        let prevLower = cls === Cc.Lower;
        // FNV-1a of the lowercased word, computed during the scan (see wordHash).
        let h = Math.imul(FNV_OFFSET ^ (c | 32), FNV_PRIME);
        i++;
        while (i < len) {
          const d = s.charCodeAt(i);
          if (d < 128) {
            const dc = ASCII[d]!;
            if (dc === Cc.Lower) prevLower = true;
            else if (dc === Cc.Upper) {
              if (prevLower) innerUpper = true;
              upper++;
              prevLower = false;
            } else if (dc === Cc.Digit) hasDigit = true;
            else if (d === 95) hasUnderscore = true;
            else if (!(d === 39 && i + 1 < len && s.charCodeAt(i + 1) < 128 && ASCII[s.charCodeAt(i + 1)] !== Cc.Sep)) break;
            h = Math.imul(h ^ (dc === Cc.Upper ? d | 32 : d), FNV_PRIME);
          } else if (d === 0x2019) {
            if (!(i + 1 < len && s.charCodeAt(i + 1) < 128 && ASCII[s.charCodeAt(i + 1)] === Cc.Lower)) break;
            h = Math.imul(h ^ 39, FNV_PRIME);
          } else {
            if (scriptOf(d, script) !== 'word') break;
            nonAscii = true;
            const hint = LETTER_HINTS[d] ?? LETTER_HINTS[d + 32];
            if (hint) script.hints[hint] = (script.hints[hint] ?? 0) + 1;
            h = Math.imul(h ^ (aligned ? lowerAll.charCodeAt(i) : d), FNV_PRIME);
          }
          i++;
        }
        const wlen = i - start;
        letters += wlen;
        script.latin += wlen;
        // Non-ASCII letters whose lowercase form differs in length: hash the word properly.
        if (nonAscii && !aligned) h = wordHash(s.slice(start, i));
        // URL (scheme:// or www.) and e-mail (word@word) become one placeholder token.
        let special: number = -1;
        if ((h === H_HTTP || h === H_HTTPS || h === H_FTP) && s.startsWith('://', i)) special = Tk.Url;
        else if (h === H_WWW && s.charCodeAt(i) === 46) special = Tk.Url;
        else if (s.charCodeAt(i) === 64 && i + 1 < len && ASCII[s.charCodeAt(i + 1) & 127]! !== Cc.Sep) special = Tk.Email;
        if (special >= 0) {
          while (i < len && !isSpace(s.charCodeAt(i))) i++;
          hash[n] = h;
          kind[n] = special;
          zone[n] = curZone;
          brk[n] = pending;
          capital[n] = 0;
          flags[n] = 0;
          pending = Brk.None;
          n++;
          lineStart = false;
          continue;
        }
        // Multiple-choice option label at a line start: `A)` `B.` `C:`
        if (lineStart && wlen === 1) {
          const nx = s.charCodeAt(i);
          if (nx === 41 || nx === 46 || nx === 58) {
            const letter = (c | 32) - 97;
            if (letter >= 0 && letter < 8) optionMask |= 1 << letter;
          }
        }
        let k: number = Tk.Word;
        let f = 0;
        if (hasUnderscore || (hasDigit && wlen > 1) || innerUpper || wlen > 24) k = Tk.Ident;
        else {
          f = lexicon.get(h);
          if (
            upper > 0 &&
            !nonAscii &&
            pending === Brk.None &&
            n > 0 &&
            !(upper > 1 && upper === wlen && wlen > 5) &&
            (f & commonBit) === 0
          )
            k = Tk.Proper;
        }
        hash[n] = h;
        kind[n] = k;
        zone[n] = curZone;
        brk[n] = pending;
        capital[n] = upper > 0 ? 1 : 0;
        flags[n] = f;
        pending = Brk.None;
        n++;
        lineStart = false;
        continue;
      }
      if (cls === Cc.Digit) {
        const start = i;
        i++;
        while (i < len) {
          const d = s.charCodeAt(i);
          if (d < 128 && ASCII[d] === Cc.Digit) i++;
          else if ((d === 46 || d === 44) && i + 1 < len && s.charCodeAt(i + 1) < 128 && ASCII[s.charCodeAt(i + 1)] === Cc.Digit) i += 2;
          else break;
        }
        // ordinal or unit glued to the number: 3rd, 10km, 5x
        while (i < len && s.charCodeAt(i) < 128 && ASCII[s.charCodeAt(i)] === Cc.Lower) i++;
        digits += i - start;
        nums++;
        hash[n] = hashRange(s, lowerAll, aligned, start, i);
        kind[n] = Tk.Num;
        zone[n] = curZone;
        brk[n] = pending;
        capital[n] = 0;
        flags[n] = 0;
        pending = Brk.None;
        n++;
        lineStart = false;
        continue;
      }
      // Separators and punctuation.
      if (c === 10) {
        lines++;
        if (pending < Brk.Line) pending = Brk.Line;
        lineStart = true;
        if (curZone === Zone.Quote) {
          curZone = Zone.Text;
          quoteClose = -1;
        }
        if (inInline) {
          inInline = false;
          if (!inFence) curZone = Zone.Text;
        }
        i++;
        continue;
      }
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      if (c === 96) {
        // backticks: ``` fence or `inline`
        if (s.startsWith('```', i)) {
          fences++;
          inFence = !inFence;
          curZone = inFence ? Zone.Code : Zone.Text;
          inInline = false;
          if (pending < Brk.Line) pending = Brk.Line;
          i += 3;
          // skip the info string (```python) so the language name is not a slot token
          while (i < len && !isSpace(s.charCodeAt(i))) i++;
          continue;
        }
        if (!inFence) {
          if (inInline) {
            inInline = false;
            curZone = Zone.Text;
          } else if (closesOnLine(s, i, 96)) {
            inInline = true;
            inlineCode++;
            curZone = Zone.Code;
          }
        }
        i++;
        continue;
      }
      if (CODE_SYMS[c] === 1) {
        codeSyms++;
        if (c === 60) angles++;
        else if (c === 123) braces++;
      }
      if (c === 63) qmarks++;
      if (c === 40 && i + 2 < len && s.charCodeAt(i + 2) === 41) {
        // inline option label (a) (B)
        const letter = (s.charCodeAt(i + 1) | 32) - 97;
        if (letter >= 0 && letter < 8) optionMask |= 1 << letter;
      }
      if (c === 34 && curZone === Zone.Text) {
        if (closesOnLine(s, i, 34)) {
          curZone = Zone.Quote;
          quoteClose = 34;
          if (pending < Brk.Sentence) pending = Brk.Sentence;
        }
        i++;
        continue;
      }
      if (curZone === Zone.Quote && c === quoteClose) {
        curZone = Zone.Text;
        quoteClose = -1;
        if (pending < Brk.Sentence) pending = Brk.Sentence;
        i++;
        continue;
      }
      if (c === 46 || c === 33 || c === 63) {
        // sentence end when followed by whitespace, a closing quote or bracket, or the end
        const nx = i + 1 < len ? s.charCodeAt(i + 1) : 32;
        if (isSpace(nx) || nx === 34 || nx === 41) {
          if (pending < Brk.Sentence) pending = Brk.Sentence;
        }
      } else if (c === 58) {
        const nx = i + 1 < len ? s.charCodeAt(i + 1) : 32;
        if (n > 0 && pending === Brk.None) colonAfter[n - 1] = 1;
        if (isSpace(nx) && pending < Brk.Colon) pending = Brk.Colon;
      } else if (c === 59) {
        if (pending < Brk.Sentence) pending = Brk.Sentence;
      }
      // bullets and brackets keep a line "at its start" for option labels
      if (lineStart && c !== 40 && c !== 45 && c !== 42 && c !== 35 && c !== 62) lineStart = false;
      i++;
      continue;
    }
    // Non-ASCII.
    if (isSpace(c)) {
      i++;
      continue;
    }
    const closeCh = OPEN_QUOTES[c];
    if (closeCh !== undefined && curZone === Zone.Text) {
      if (closesOnLine(s, i, closeCh)) {
        curZone = Zone.Quote;
        quoteClose = closeCh;
        if (pending < Brk.Sentence) pending = Brk.Sentence;
      }
      i++;
      continue;
    }
    if (curZone === Zone.Quote && c === quoteClose) {
      curZone = Zone.Text;
      quoteClose = -1;
      if (pending < Brk.Sentence) pending = Brk.Sentence;
      i++;
      continue;
    }
    const sk = scriptOf(c, script);
    if (sk === 'cjk') {
      cjkChars++;
      letters++;
      hash[n] = Math.imul(FNV_OFFSET ^ c, FNV_PRIME);
      kind[n] = Tk.Cjk;
      zone[n] = curZone;
      brk[n] = pending;
      capital[n] = 0;
      flags[n] = 0;
      pending = Brk.None;
      n++;
      i++;
      lineStart = false;
      continue;
    }
    if (sk === 'word') {
      const start = i;
      let upper = false;
      i++;
      letters++;
      otherChars++;
      {
        const hint = LETTER_HINTS[c];
        if (hint) script.hints[hint] = (script.hints[hint] ?? 0) + 1;
      }
      while (i < len) {
        const d = s.charCodeAt(i);
        if (d < 128) {
          const dc = ASCII[d]!;
          if (dc === Cc.Lower || dc === Cc.Digit) script.latin++;
          else if (dc === Cc.Upper) {
            upper = true;
            script.latin++;
          } else if (!((d === 39 || d === 0x2019) && i + 1 < len && s.charCodeAt(i + 1) > 64)) break;
        } else {
          if (scriptOf(d, script) !== 'word') break;
          const hint = LETTER_HINTS[d];
          if (hint) script.hints[hint] = (script.hints[hint] ?? 0) + 1;
          otherChars++;
        }
        letters++;
        i++;
      }
      const h = hashRange(s, lowerAll, aligned, start, i);
      hash[n] = h;
      kind[n] = Tk.Word;
      zone[n] = curZone;
      brk[n] = pending;
      capital[n] = upper || (aligned && lowerAll.charCodeAt(start) !== c) ? 1 : 0;
      flags[n] = lexicon.get(h);
      pending = Brk.None;
      n++;
      lineStart = false;
      continue;
    }
    // full-width and CJK punctuation as boundaries
    if (c === 0x3002 || c === 0xff01 || c === 0xff1f || c === 0x2026) {
      if (c === 0xff1f) qmarks++;
      if (pending < Brk.Sentence) pending = Brk.Sentence;
    } else if (c === 0xff1a) {
      if (n > 0) colonAfter[n - 1] = 1;
      if (pending < Brk.Colon) pending = Brk.Colon;
    } else if (c === 0x2028 || c === 0x2029 || c === 0x85) {
      lines++;
      if (pending < Brk.Line) pending = Brk.Line;
    }
    i++;
  }
  let optionLetters = 0;
  for (let m = optionMask; m !== 0; m &= m - 1) optionLetters++;
  // `keep`: copies the caller may hold on to. Otherwise views of the scratch arrays (no
  // allocation), valid only until the next call.
  return {
    n,
    hash: keep ? hash.slice(0, n) : hash.subarray(0, n),
    kind: keep ? kind.slice(0, n) : kind.subarray(0, n),
    zone: keep ? zone.slice(0, n) : zone.subarray(0, n),
    brk: keep ? brk.slice(0, n) : brk.subarray(0, n),
    colonAfter: keep ? colonAfter.slice(0, n) : colonAfter.subarray(0, n),
    cap: keep ? capital.slice(0, n) : capital.subarray(0, n),
    flags: keep ? flags.slice(0, n) : flags.subarray(0, n),
    script,
    digits,
    nums,
    letters,
    codeSyms,
    angles,
    braces,
    fences,
    inlineCode,
    lines,
    qmarks,
    optionLetters,
    cjkChars,
    otherChars,
  };
}

// ---------------------------------------------------------------------------------------------
// Hashes

/** Murmur3's 32-bit finalizer: spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A streaming 64-bit hash built from two independent 32-bit lanes (cyrb53-style mixing).
 * Non-cryptographic: used to compare, never to hide. Output: 16 lowercase hex digits.
 */
export class Hash64 {
  private h1 = 0xdeadbeef;
  private h2 = 0x41c6ce57;
  /** Feeds one 32-bit value. */
  word(x: number): this {
    this.h1 = Math.imul(this.h1 ^ x, 2654435761);
    this.h2 = Math.imul(this.h2 ^ x, 1597334677);
    return this;
  }
  /** Feeds a string code unit by code unit, then a separator. */
  str(s: string): this {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    this.h1 = Math.imul(h1 ^ 0x1f, 2654435761);
    this.h2 = Math.imul(h2 ^ 0x1f, 1597334677);
    return this;
  }
  hex(): string {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return hex32(h2 >>> 0) + hex32(h1 >>> 0);
  }
}

export function hex32(x: number): string {
  const s = (x >>> 0).toString(16);
  return s.length === 8 ? s : '00000000'.slice(s.length) + s;
}

/** Number of set bits of a 32-bit integer. */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

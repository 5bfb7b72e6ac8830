/**
 * Name normalisation for screening: scripts to Latin (Chinese through pinyin, everything else
 * through any-ascii), case, punctuation and diacritics away, legal-form suffixes in many
 * languages removed, common abbreviations expanded, plurals folded. Both the lists and the
 * query go through the same function, so the rules only need to be consistent, not perfect.
 */
import anyAscii from 'any-ascii';
import { pinyin } from 'pinyin-pro';
import { jaroWinkler } from './jaro-winkler.js';

export interface NormalizedName {
  /** Distinctive tokens, in order (legal forms and stop words removed). */
  tokens: string[];
  /** Tokens before legal forms were removed (for initials). */
  allTokens: string[];
  /** The tokens joined without spaces ("hik vision" and "hikvision" meet here). */
  compact: string;
  /** Whether the input had non-Latin script that was transliterated. */
  transliterated: boolean;
}

// Chinese legal forms, longest first; removed before transliteration.
const ZH_LEGAL = [
  '股份有限公司',
  '有限责任公司',
  '有限責任公司',
  '集团有限公司',
  '集團有限公司',
  '有限公司',
  '股份公司',
  '控股有限公司',
  '公司',
  '株式会社',
  '株式會社',
  '有限会社',
  '合同会社',
  '주식회사',
  '유한회사',
  '(주)',
  '（株）',
  '(株)',
];

// Chinese words common in company names, to English (pinyin would not meet the English name).
const ZH_WORDS: [string, string][] = [
  ['云计算', 'cloud computing'],
  ['雲計算', 'cloud computing'],
  ['人工智能', 'artificial intelligence'],
  ['科技', 'technology'],
  ['技术', 'technology'],
  ['技術', 'technology'],
  ['网络', 'network'],
  ['網絡', 'network'],
  ['信息', 'information'],
  ['通信', 'communication'],
  ['电子', 'electronic'],
  ['電子', 'electronic'],
  ['软件', 'software'],
  ['軟件', 'software'],
  ['智能', 'intelligent'],
  ['研究院', 'research institute'],
  ['研究所', 'research institute'],
  ['大学', 'university'],
  ['大學', 'university'],
  ['集团', 'group'],
  ['集團', 'group'],
  ['控股', 'holding'],
  ['国际', 'international'],
  ['國際', 'international'],
  ['贸易', 'trading'],
  ['貿易', 'trading'],
  ['银行', 'bank'],
  ['銀行', 'bank'],
  ['云', 'cloud'],
  ['雲', 'cloud'],
  ['中国', 'china'],
  ['中國', 'china'],
  ['香港', 'hong kong'],
  ['新加坡', 'singapore'],
];

const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
const HAN_RUN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;
const NON_ASCII = /[^\x00-\x7f]/;

/** Legal-form tokens (after transliteration and lower-casing), in many languages. */
const LEGAL = new Set(
  (
    'inc incorporated corp corporation co company cos companies ltd limited llc llp lp plc pllc ' +
    'gmbh mbh ag kg kgaa ohg ug se sa sas sasu sarl srl spa sapa snc bv nv vof oy oyj ab asa aps ' +
    'kft zrt nyrt rt sro doo dd ad ood eood ead ooo oao zao pao ojsc cjsc jsc pjsc ao tov pat prat ' +
    'kk pte pty bhd sdn tbk pvt private lda ltda sl slu sab cv fze fzco fzc fzllc wll spc saog saoc psc ' +
    'qsc ksc bsc ehf hf ltee sccl scrl sc youxiangongsi gongsi youxian gufen zerenyouxian ' +
    'kabushikigaisha kaisha kabushiki yugen godo obshchestvo ogranichennoi ogranichennoy otvetstvennostiu ' +
    'otvetstvennostyu aktsionernoe zakrytoe otkrytoe publichnoe tovarystvo gesellschaft beschrankter haftung ' +
    'shareholding aktiengesellschaft aktiebolag osakeyhtio'
  ).split(' '),
);
/** Multi-token legal forms ("s a de c v" joins to "sa de cv"). */
const LEGAL_PHRASES: string[][] = [
  ['public', 'joint', 'stock'],
  ['closed', 'joint', 'stock'],
  ['open', 'joint', 'stock'],
  ['private', 'joint', 'stock'],
  ['joint', 'stock'],
  ['limited', 'liability'],
  ['public', 'shareholding'],
  ['societe', 'anonyme'],
  ['sociedad', 'anonima'],
  ['sociedade', 'anonima'],
  ['societa', 'per', 'azioni'],
  ['sa', 'de', 'cv'],
  ['s', 'de', 'rl'],
  ['sp', 'zoo'],
  ['you', 'xian', 'gong', 'si'],
  ['gu', 'fen'],
  ['you', 'xian', 'ze', 'ren'],
];

const STOP = new Set('the of and for de des du la le der die das und et y e da do di del los las'.split(' '));

/** Abbreviations and spelling variants to one canonical token. */
const CANON = new Map<string, string>(
  Object.entries({
    intl: 'international',
    internat: 'international',
    tech: 'technology',
    techn: 'technology',
    technologie: 'technology',
    technologies: 'technology',
    mfg: 'manufacturing',
    manufactur: 'manufacturing',
    natl: 'national',
    nat: 'national',
    univ: 'university',
    inst: 'institute',
    sci: 'science',
    grp: 'group',
    hldg: 'holding',
    hldgs: 'holding',
    holdings: 'holding',
    svc: 'service',
    svcs: 'service',
    dept: 'department',
    ctr: 'center',
    cntr: 'center',
    centre: 'center',
    assn: 'association',
    assoc: 'association',
    bros: 'brother',
    ind: 'industry',
    inds: 'industry',
    indus: 'industrial',
    elec: 'electronic',
    electr: 'electronic',
    eng: 'engineering',
    engg: 'engineering',
    acad: 'academy',
    res: 'research',
    dev: 'development',
    mgmt: 'management',
    mktg: 'marketing',
    comm: 'communication',
    telecomm: 'telecommunication',
    lab: 'laboratory',
    labs: 'laboratory',
    laboratories: 'laboratory',
    mfr: 'manufacturer',
    svs: 'service',
    trdg: 'trading',
    imp: 'import',
    exp: 'export',
    petrochem: 'petrochemical',
    // Pinyin of words common in Chinese company names, when a name is written in pinyin.
    keji: 'technology',
    jishu: 'technology',
    xinxi: 'information',
    wangluo: 'network',
    tongxin: 'communication',
    dianzi: 'electronic',
    ruanjian: 'software',
    zhineng: 'intelligent',
    jituan: 'group',
    konggu: 'holding',
    guoji: 'international',
    maoyi: 'trading',
    yinhang: 'bank',
    daxue: 'university',
    kexue: 'science',
    yanjiusuo: 'institute',
    yanjiuyuan: 'institute',
  }),
);

/** Long legal forms, so that a typo in one ("limied") is still recognised as a legal form. */
const LONG_LEGAL = ['limited', 'company', 'corporation', 'incorporated', 'gesellschaft', 'companies'];

function isMisspeltLegalForm(t: string): boolean {
  if (t.length < 6) return false;
  for (const l of LONG_LEGAL) {
    if (Math.abs(l.length - t.length) <= 1 && t[0] === l[0] && jaroWinkler(t, l) >= 0.93) return true;
  }
  return false;
}

function singular(t: string): string {
  if (t.length > 5 && t.endsWith('ies')) return `${t.slice(0, -3)}y`;
  if (t.length > 4 && t.endsWith('s') && !t.endsWith('ss') && !t.endsWith('us') && !t.endsWith('is')) return t.slice(0, -1);
  return t;
}

function hanToLatin(s: string): string {
  let out = s;
  for (const f of ZH_LEGAL) out = out.split(f).join(' ');
  for (const [zh, en] of ZH_WORDS) out = out.split(zh).join(` ${en} `);
  // Each remaining run of Han characters becomes one token (阿里巴巴 → alibaba).
  return out.replace(HAN_RUN, (run) => ` ${pinyin(run, { toneType: 'none', type: 'array', v: true }).join('')} `);
}

/** Normalises a name from any script into comparable tokens. */
export function normalizeName(input: string): NormalizedName {
  let s = input.normalize('NFKC');
  let transliterated = false;
  if (NON_ASCII.test(s)) {
    transliterated = /[^\x00-\x7f\u00c0-\u024f\u2000-\u206f\u00a0-\u00bf]/.test(s);
    if (HAN.test(s) || /株式|주식|（株）/.test(s)) s = hanToLatin(s);
    else for (const f of ZH_LEGAL.slice(-9)) s = s.split(f).join(' ');
    s = anyAscii(s);
  }
  s = s
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/['’`´]/g, '')
    .replace(/[^a-z0-9]+/g, ' ');
  let raw = s.split(' ').filter((t) => t.length > 0);
  // Runs of single letters are an abbreviation written with dots or spaces: "i b m" → "ibm".
  const joined: string[] = [];
  for (let i = 0; i < raw.length; ) {
    if (raw[i]!.length === 1 && i + 1 < raw.length && raw[i + 1]!.length === 1) {
      let j = i;
      let w = '';
      while (j < raw.length && raw[j]!.length === 1) w += raw[j++];
      joined.push(w);
      i = j;
    } else joined.push(raw[i++]!);
  }
  raw = joined.map((t) => {
    const c = singular(CANON.get(t) ?? t);
    return CANON.get(c) ?? c;
  });
  // Remove multi-token legal forms, then single ones; keep something if the name is all legal form.
  const noPhrase: string[] = [];
  for (let i = 0; i < raw.length; ) {
    const p = LEGAL_PHRASES.find((ph) => ph.every((w, k) => raw[i + k] === w));
    if (p) i += p.length;
    else noPhrase.push(raw[i++]!);
  }
  let tokens = noPhrase.filter((t) => !LEGAL.has(t) && !STOP.has(t) && !isMisspeltLegalForm(t));
  if (tokens.length === 0) tokens = raw.filter((t) => !STOP.has(t));
  if (tokens.length === 0) tokens = raw;
  return { tokens, allTokens: raw, compact: tokens.join(''), transliterated };
}

/** Lower-cased registrable-looking domain from a domain, URL or email address; null if none. */
export function normalizeDomain(input: string): string | null {
  let d = input.trim().toLowerCase();
  const at = d.lastIndexOf('@');
  if (at >= 0) d = d.slice(at + 1);
  d = d.replace(/^[a-z]+:\/\//, '').replace(/[/?#:].*$/, '').replace(/\.$/, '');
  d = d.replace(/^www\d*\./, '');
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d) || d.length > 253) return null;
  return d;
}

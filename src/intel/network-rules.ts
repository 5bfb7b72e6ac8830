/**
 * Network-type rules over AS organisation names, for the classes no real list covers
 * (`mobile`, `education`, `business`, `residential`) and as a fallback for `hosting`.
 * Ordered: the first rule that matches decides. Each rule has a name that `describeIp` prints,
 * and its per-class precision and recall on hand-labelled ASNs are in docs/intel.md.
 */
import type { NetworkType } from '../core/index.js';

export interface NetworkRule {
  name: string;
  type: NetworkType;
  pattern: RegExp;
  /** The rule does not apply when this also matches (a telecom named "... Group" is not a business). */
  unless?: RegExp;
}

// Written against AS names as the RIRs publish them ("CHINANET-BACKBONE", "Cellco Partnership DBA
// Verizon Wireless", "UNIVERSIDAD DE CHILE"). Word boundaries are loose on purpose: names glue words.
export const NETWORK_RULES: readonly NetworkRule[] = [
  {
    name: 'education: university, college, school, academic or research network',
    type: 'education',
    pattern:
      /univ|college|colegio|school|schule|academ|akadem|\beduca|\bedu\b|-edu\b|\bedu-|research|\bnren\b|\bjanet\b|\bjisc\b|internet2|cernet|\bdfn\b|forschungsnetz|wissenschaft|renater|\bgarr\b|\bsurf\b|surfnet|rediris|\bred\.es\b|\brnp\b|ensino e pesquisa|\baarnet\b|\bcanarie\b|\bsunet\b|\bnordunet\b|\bbelnet\b|\bgeant\b|\bheanet\b|\bcesnet\b|\btenet\b|\bsikt\b|\bmcnc\b|\barnes\b|\baconet\b|^switch$|\bcarnet\b|\bgrnet\b|\bkisti\b|kreonet|sinet|\btanet\b|twaren|redes avanzadas|advanced network|high-performance computing|supercomput|scientif|ciencia|teadus|haridus|wide project|hochschule|polytechn|politecn|politechn|institute of technology|instituto tecnologico|ecole|escola|escuela|\bcuny\b|lycee|school district|\bisd\b|board of (education|regents)|merit network|\bcenic\b|\boarnet\b|\bnysernet\b/i,
  },
  {
    name: 'mobile: mobile, wireless or cellular operator',
    type: 'mobile',
    pattern:
      /mobile|mobil\b|mobilfunk|\bmovil|\bmóvil|moviles|celular|cellular|selular|\bcell\b|iran ?cell|cellco|wireless|\bgsm\b|\blte\b|\b[345]g\b|t-mobile|vodafone|vodacom|\btelcel\b|\bjio\b|airtel|telkomsel|indosat|\bxl axiata|smartfren|docomo|\bmegafon|vimpelcom|beeline|\bmts\b|mobile telesystems|\btele2\b|turkcell|\bmtn\b|scancom|safaricom|\bglobe telecom|smart communications|advanced info service|total access communication|\bdtac\b|\btrue move|viettel|mobifone|vinaphone|\bzain\b|ooredoo|\bmobily|etihad etisalat|\btigo\b|\bdigicel|\bhi3g\b|hutchison|\bthree\b|everything everywhere|\bo2\b|telefonica (germany|moviles|venezolana)|\bwind\b|free mobile|\bcricket\b|sprint|u\.s\. cellular|far ?eastone|taiwan mobile|sk telecom|\bp4\b|kyivstar|partner communications|meditelecom|orange (romania|tunisie|egypt|maroc)/i,
  },
  {
    name: 'hosting: hosting, cloud, datacenter, server or CDN in the name',
    type: 'hosting',
    pattern:
      /host(?!el)|server|\bvps\b|\bvds\b|cloud|data ?cent(er|re)|datacenter|\bidc\b|\bdc\d*\b|colocation|\bcolo\b|dedicated|\bcdn\b|content delivery|amazon|\baws\b|google llc|microsoft|azure|digitalocean|\bovh|hetzner|linode|akamai|vultr|choopa|constant company|leaseweb|contabo|scaleway|netcup|worldstream|oracle|alibaba|aliyun|tencent|huawei cloud|volcano engine|byteplus|\bibm\b|softlayer|rackspace|fastly|cloudflare|incapsula|imperva|equinix|hivelocity|\bm247\b|psychz|colocrossing|quadranet|interserver|servers\.com|datacamp|hostinger|\bionos\b|1&1 ionos|godaddy|\bgo daddy|namecheap|unified layer|dreamhost|bluehost|zenlayer|\bucloud|kingsoft|sakura internet|gmo internet|salesforce|tierpoint|latitude\.sh|multacom|mevspace|tzulo|stark industries/i,
  },
  {
    name: 'business: enterprise, bank, government or other non-ISP organisation',
    type: 'business',
    pattern:
      /\bbank|banco|banque|sparkasse|insurance|assurance|versicherung|financial|finance|securities|capital\b|invest|airline|airways|\bairport|hospital|health|medical|clinic|pharma|government|ministry|ministerio|ministere|\bgov\b|\bdod\b|department of|city of|county of|state of|province of|municipal|\bpolice|\barmy\b|usaisc|defen[cs]e|military|\bnavy\b|air force|aeronautics|\bpostal|postal service|railway|\bmotor|automotive|\bauto\b|\benergy|electricite|\belectric\b|\boil\b|petrol|exxon|\bgas\b|chemical|steel|mining|manufactur|logistic|shipping|retail|wal-?mart|\bstores?\b|supermarket|consult|\blaw\b|software|procter|lilly|merck|prudential|credit suisse|schlumberger|\bcisco\b|avaya|\bncr\b|\b3m\b|northrop|\bintel corporation|ericsson|fujitsu|t-systems|business services|\bbusiness\b|dxc|tietoevry|\bcolt\b|zayo|crown castle|\bripe\b|\bnhs\b|technolog(y|ies)\b|systems\b|\bgroup\b/i,
    unless: /telecom|telekom|telecommunic|communications|broadband|internet|\bnet\b|network|cable|fib(er|re)|telefon/i,
  },
  {
    name: 'residential: telecom, cable, broadband, fibre or ISP in the name',
    type: 'residential',
    pattern:
      /telecom|telekom|telecommunic|telefon|telephone|telco|communications?\b|comunica[cç]|kommunikation|cable|kabel|broadband|bredband|banda ancha|internet|\bisp\b|fib(er|re)|\bftth\b|\bdsl\b|\badsl|\bnet\b|\bnet[- ]|network|networks|catv|\btelenet|comcast|\bcharter\b|\bcox\b|spectrum|verizon|\bat&t|\batt\b|centurylink|\blumen\b|frontier|windstream|mediacom|suddenlink|\brcn\b|breezeline|brightspeed|wideopenwest|\bwow\b|\brogers\b|\bbell\b|\bshaw\b|videotron|cogeco|\btelus\b|\bbt\b|british telecommunications|\bsky\b|virgin media|talktalk|proximus|\borange\b|\bsfr\b|bouygues|\bfree sas|swisscom|sunrise|\bkpn\b|ziggo|\btelia|\btelenor|\belisa\b|\bdna oyj|\btdc\b|eircom|fastweb|\bnetia\b|vivacom|\bewe tel|versatel|liberty global|\bdigi\b|\bo2 czech|chinanet|china telecom|china unicom|tietong|\bntt\b|\bkddi\b|softbank|\bjcom\b|biglobe|optage|so-net|\bocn\b|korea telecom|\blg (powercomm|dacom)|sk broadband|dreamline|\bdlive\b|hinet|chunghwa|singtel|starhub|telstra|optus|\btpg\b|iinet|\bpldt\b|\btm\b|unifi|\bvnpt\b|\bfpt\b|\btrue internet|\btot\b|linknet|\bpccw|\bhgc\b|hkbn|uninet|telmex|\bv tal\b|\boi\b|\betb\b|\bvtr\b|cantv|telgua|\bbsnl\b|bharat sanchar|hathway|\bptcl\b|rostelecom|beltelecom|kazakhtelecom|turk telekom|superonline|\bte-as\b|linkdotnet|itissalat|\bonpt\b|tunisie telecom|\btelkom\b|etisalat|\bstc\b|saudi telecom|starlink|space exploration|viasat/i,
  },
];

export interface RuleVerdict {
  type: NetworkType;
  rule: string | null;
}

/** The network type the rules give an AS organisation name (`unknown` when no rule matches). */
export function classifyAsOrg(org: string | undefined): RuleVerdict {
  if (!org) return { type: 'unknown', rule: null };
  for (const r of NETWORK_RULES) {
    if (r.pattern.test(org) && !r.unless?.test(org)) return { type: r.type, rule: r.name };
  }
  return { type: 'unknown', rule: null };
}

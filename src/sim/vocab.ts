/**
 * Fictional names and real client strings the world draws from. Organisation names are
 * invented from word lists and use the reserved `.example` top-level domain (RFC 2606), so no
 * generated organisation is a real one; client user agents are the real strings SDKs send.
 */
import type { Rng } from './rng.js';

const ADJ = ['Blue', 'Northern', 'Quiet', 'Bright', 'Copper', 'Silver', 'Granite', 'Harbor', 'Maple', 'Summit', 'Cedar', 'Lumen', 'Vector', 'Atlas', 'Orbit', 'Kestrel', 'Juniper', 'Meridian', 'Tidal', 'Sable', 'Amber', 'Cobalt', 'Willow', 'Falcon', 'Prairie', 'Crescent', 'Aurora', 'Basalt', 'Coral', 'Delta'];
const NOUN = ['Analytics', 'Labs', 'Systems', 'Data', 'Works', 'Logic', 'Signal', 'Forge', 'Health', 'Ledger', 'Learning', 'Robotics', 'Insights', 'Networks', 'Dynamics', 'Software', 'Media', 'Bio', 'Capital', 'Legal', 'Logistics', 'Studio', 'Cloud', 'Security', 'Foods', 'Energy', 'Mobility', 'Retail', 'Semantics', 'Commerce'];
const SUFFIX = ['Ltd', 'Inc.', 'GmbH', 'Pte. Ltd.', 'B.V.', 'LLC', 'S.A.', 'K.K.', 'Sdn. Bhd.', 'FZ-LLC', 'AB', 'Pty Ltd'];
const SUFFIX_BY_COUNTRY: Record<string, string> = {
  US: 'Inc.', GB: 'Ltd', DE: 'GmbH', SG: 'Pte. Ltd.', NL: 'B.V.', JP: 'K.K.', MY: 'Sdn. Bhd.', AE: 'FZ-LLC', SE: 'AB', AU: 'Pty Ltd', FR: 'S.A.S.', CH: 'AG', HK: 'Limited', TW: 'Co., Ltd.', IN: 'Pvt. Ltd.', CA: 'Inc.', IL: 'Ltd', BR: 'Ltda.',
};
const ZH_A = ['蓝', '北辰', '星', '云', '智', '海', '明', '远', '新', '恒', '华', '腾', '启', '辰', '瑞'];
const ZH_B = ['鲸', '峰', '河', '途', '联', '达', '信', '创', '拓', '视'];
const ZH_C = ['科技', '数据', '网络', '信息技术', '智能', '软件'];
const FIRST = ['Alex', 'Sam', 'Maria', 'Wei', 'Priya', 'Jonas', 'Yuki', 'Chen', 'Fatima', 'Lucas', 'Amara', 'Ivan', 'Mei', 'Daniel', 'Sofia', 'Ravi', 'Hana', 'Omar', 'Lena', 'Mateo', 'Jia', 'Noah', 'Aisha', 'Kenji', 'Elena', 'Tariq', 'Min-jun', 'Zoe', 'Hao', 'Ingrid'];
const LAST = ['Smith', 'Garcia', 'Wang', 'Patel', 'Müller', 'Tanaka', 'Li', 'Khan', 'Rossi', 'Silva', 'Okafor', 'Petrov', 'Lin', 'Cohen', 'Novak', 'Sharma', 'Kim', 'Haddad', 'Berg', 'Lopez', 'Zhang', 'Nguyen', 'Ahmed', 'Sato', 'Ivanova', 'Chen', 'Park', 'Dubois', 'Huang', 'Larsen'];
export const FREEMAIL = ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me', 'icloud.com', 'hotmail.com', 'qq.com', '163.com', 'gmx.de', 'naver.com'];

export const SDK_UAS = [
  'Anthropic/Python 0.40.0',
  'Anthropic/Python 0.49.0',
  'Anthropic/JS 0.33.1',
  'Anthropic/JS 0.39.0',
  'OpenAI/Python 1.54.4',
  'OpenAI/Python 1.68.2',
  'OpenAI/JS 4.73.0',
  'OpenAI/JS 4.91.1',
  'python-httpx/0.27.2',
  'python-requests/2.32.3',
  'axios/1.7.7',
  'curl/8.5.0',
  'Go-http-client/2.0',
  'node',
] as const;
export const BROWSER_UAS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
] as const;

/** UTC offset (hours) of a country's main population centre. */
export const TZ: Record<string, number> = {
  US: -6, CA: -5, BR: -3, GB: 0, IE: 0, PT: 0, DE: 1, FR: 1, NL: 1, SE: 1, CH: 1, ES: 1, IT: 1, PL: 1, NG: 1, IL: 2, TR: 3, RU: 3, IR: 3.5,
  AE: 4, PK: 5, IN: 5.5, TH: 7, ID: 7, VN: 7, SG: 8, TW: 8, MY: 8, HK: 8, CN: 8, PH: 8, JP: 9, KR: 9, AU: 10, NZ: 12,
};
export function tzOf(country: string | undefined, rng: Rng): number {
  if (country === 'US') return rng.pick([-5, -6, -8]);
  return TZ[country ?? ''] ?? 0;
}

export function orgName(rng: Rng, country?: string): { name: string; domain: string } {
  const a = rng.pick(ADJ);
  const n = rng.pick(NOUN);
  const suffix = (country && SUFFIX_BY_COUNTRY[country]) ?? rng.pick(SUFFIX);
  const tag = rng.int(100);
  return { name: `${a} ${n} ${suffix}`, domain: `${a}${n}${tag}`.toLowerCase() + '.example' };
}
export function zhOrgName(rng: Rng): string {
  return `${rng.pick(ZH_A)}${rng.pick(ZH_B)}${rng.pick(ZH_C)}有限公司`;
}
export function personName(rng: Rng): string {
  return `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
}
export function handle(rng: Rng): string {
  const f = rng.pick(FIRST).toLowerCase().replace(/[^a-z]/g, '');
  const l = rng.pick(LAST).toLowerCase().replace(/[^a-z]/g, '');
  return rng.pick([`${f}.${l}`, `${f}${l}${rng.int(100)}`, `${f[0]}${l}`, `${f}_${rng.int(10000)}`]);
}

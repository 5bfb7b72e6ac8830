/**
 * Small synthetic worlds for the detection tests: a fake IP intelligence whose answers follow
 * the address (first octet = network kind, second = country), and builders for accounts and
 * events. Test-only; nothing in the engine imports it.
 */
import type { Account, IpInfo, IpIntel, NetworkType, UsageEvent } from '../core/index.js';

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'IN', 'CA', 'NL', 'SG', 'CN'];
const KINDS: Record<number, { type: NetworkType; anonymizer?: 'vpn' }> = {
  10: { type: 'residential' },
  11: { type: 'mobile' },
  20: { type: 'hosting' },
  30: { type: 'education' },
  40: { type: 'hosting', anonymizer: 'vpn' },
  50: { type: 'business' },
};

/** `K.C.x.y`: K picks the network kind (10 residential, 11 mobile, 20 hosting, 30 education, 40 VPN, 50 business), C the country. */
export function fakeIntel(): IpIntel {
  return {
    lookup(ip: string): IpInfo {
      const [k, c] = ip.split('.').map(Number) as [number, number];
      const kind = KINDS[k] ?? { type: 'unknown' as NetworkType };
      return {
        ip,
        country: COUNTRIES[c % COUNTRIES.length]!,
        asn: 1000 * k + c,
        network_type: kind.type,
        anonymizers: kind.anonymizer ? [kind.anonymizer] : [],
        labels: [],
        why: [],
      };
    },
    sources: () => [],
  };
}

export function ipOf(kind: 'residential' | 'mobile' | 'hosting' | 'education' | 'vpn' | 'business', country: string, host: number): string {
  const k = { residential: 10, mobile: 11, hosting: 20, education: 30, vpn: 40, business: 50 }[kind];
  const c = COUNTRIES.indexOf(country);
  return `${k}.${c < 0 ? 0 : c}.${Math.floor(host / 250) % 250}.${(host % 250) + 1}`;
}

export function countryOfIp(ip: string): string {
  return COUNTRIES[Number(ip.split('.')[1]) % COUNTRIES.length]!;
}

let seq = 0;
export function account(id: string, extra: Partial<Account> = {}): Account {
  return { account_id: id, created_at: '2026-01-01T00:00:00Z', declared_country: 'US', declared_use: 'unknown', verification: 'email', device_fingerprint: `dev_${id}`, ...extra };
}

export function event(account_id: string, ts: number, extra: Partial<UsageEvent> = {}): UsageEvent {
  const ip = extra.ip;
  return {
    event_id: `e${++seq}`,
    ts: new Date(ts).toISOString(),
    account_id,
    key_id: `key_${account_id}`,
    user_agent: 'python-httpx/0.27.2',
    endpoint: 'messages',
    input_tokens: 300,
    output_tokens: 300,
    turns: 1,
    tools: 0,
    ...(ip ? { country: countryOfIp(ip) } : {}),
    ...extra,
  };
}

export const T0 = Date.parse('2026-02-02T00:00:00Z');
export const HOUR = 3_600_000;

export const PROMPTS = {
  mcq: (i: number) =>
    `Answer the following multiple choice question. Reply with the letter of the correct option only.\n\nWhich element has atomic number ${i}?\nA. Oxygen\nB. Carbon\nC. Nitrogen\nD. Helium`,
  cot: (i: number) => `A farmer has ${i} sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.`,
  cotSystem: 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.',
  homework: (i: number) => `Can you help me solve this homework problem?\n\nA train travels ${60 + (i % 3)} km in 1.5 hours. What is its average speed?`,
  chat: (i: number) =>
    [
      'What is a good recipe for dinner tonight with chicken and rice?',
      'Write a short, friendly email to my landlord about the broken heater.',
      'Explain how vaccines train the immune system, in simple terms.',
      'Suggest three names for a bakery in a small seaside town.',
      'How do I center a div in CSS?',
    ][i % 5]!,
  /** Free-form prompts that differ in their words (no shared template). */
  varied: (i: number) => {
    const verbs = ['Explain', 'Describe', 'Summarise', 'Compare', 'Critique', 'Outline', 'Illustrate'];
    const topics = ['tide pools', 'medieval bridges', 'jazz harmony', 'sourdough starters', 'glacier retreat', 'chess openings', 'bee colonies', 'solar sails', 'tax brackets', 'origami cranes', 'volcanic soil'];
    const angles = ['for a child', 'with an example', 'in two paragraphs', 'as a poem', 'like a tour guide', 'with pros and cons'];
    return `${verbs[i % 7]} ${topics[Math.floor(i / 7) % 11]} ${angles[Math.floor(i / 77) % 6]}`;
  },
  zhVaried: (i: number) => {
    const a = ['请解释', '请总结', '请比较', '请描述', '请评价'];
    const b = ['潮汐池', '中世纪桥梁', '爵士和声', '酸面团', '冰川退缩', '国际象棋开局', '蜂群', '太阳帆', '折纸鹤', '火山土壤', '城市交通'];
    return `${a[i % 5]}${b[Math.floor(i / 5) % 11]}的${['历史', '原理', '优缺点', '未来'][Math.floor(i / 55) % 4]}。`;
  },
  zhChat: (i: number) => ['请帮我写一封给客户的道歉信。', '今天的天气怎么样？适合去公园吗？', '推荐几本适合初学者的编程书。'][i % 3]!,
};

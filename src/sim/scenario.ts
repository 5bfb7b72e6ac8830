/**
 * Scenario files: YAML describing a simulated world (time span, seed, networks, benign
 * populations, adversary campaigns, the watchlist). Parsed strictly: a misspelt key is an error
 * that names the file and the path.
 */
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve, basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, ValidationError, WatchlistEntity, formatIssuePath, NETWORK_TYPES } from '../core/index.js';

const country = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code in upper case, such as "SG"');
const countries = z.array(country).min(1);
const pct = z.number().min(0).max(1);
const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const rate = z.number().positive();
const id = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "-" and "_"');
const intRange = z
  .tuple([nonNegInt, nonNegInt])
  .refine(([a, b]) => a <= b, 'expected [min, max] with min ≤ max');

export const CustomNetwork = z
  .strictObject({
    /** Shown in the intel part's `labels`, e.g. `adversary:example-conglomerate`. */
    label: z.string().min(1),
    cidrs: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 CIDR such as 203.0.113.0/24')).min(1),
    asns: z.array(nonNegInt).default([]),
    network_type: z.enum(NETWORK_TYPES).default('hosting'),
    country,
    anonymizer: z.enum(['vpn', 'tor', 'proxy']).optional(),
  });
/**
 * A fictional network (documentation ranges) in the intel part's `customNetworks` shape; the
 * simulator writes the scenario's list to `networks.yaml` so intel can load the same one.
 */
export type CustomNetwork = z.infer<typeof CustomNetwork>;

/** A commercial proxy or VPN service: a pool of real exit addresses shared by its customers. */
export const PoolSpec = z.strictObject({
  countries,
  network_types: z.array(z.enum(NETWORK_TYPES)).min(1).default(['residential']),
  /** Number of distinct exit addresses in the pool. */
  size: posInt.default(500),
});
export type PoolSpec = z.infer<typeof PoolSpec>;

const base = { id: id.optional() };

const Developer = z.strictObject({
  ...base,
  kind: z.literal('developer'),
  count: posInt,
  rate: rate.default(25),
  countries: countries.default(['US', 'GB', 'DE', 'IN', 'SG', 'TW', 'JP', 'BR', 'CA', 'FR']),
  /** Share of developers who also call from CI or servers on hosting networks. */
  hosting_share: pct.default(0.25),
  /** Share of developers who write some prompts in Chinese. */
  zh_share: pct.default(0.1),
});
const Startup = z.strictObject({
  ...base,
  kind: z.literal('startup'),
  orgs: posInt,
  accounts_per_org: intRange.default([2, 6]),
  rate: rate.default(250),
  end_users: posInt.default(150),
  countries: countries.default(['US', 'GB', 'DE', 'SG', 'IN', 'FR', 'CA']),
});
const Enterprise = z.strictObject({
  ...base,
  kind: z.literal('enterprise'),
  orgs: posInt,
  accounts_per_org: intRange.default([15, 60]),
  rate: rate.default(30),
  /** Corporate NAT egress addresses per org, shared by all its accounts. */
  egress_ips: posInt.default(3),
  countries: countries.default(['US', 'GB', 'DE', 'JP', 'FR', 'NL']),
});
const OverseasBranch = z.strictObject({
  ...base,
  kind: z.literal('overseas_branch'),
  orgs: posInt,
  accounts_per_org: intRange.default([5, 20]),
  rate: rate.default(30),
  parent_countries: countries.default(['US', 'GB', 'DE', 'JP']),
  branch_countries: countries.default(['SG', 'TW', 'MY', 'HK']),
  zh_share: pct.default(0.35),
});
const Course = z.strictObject({
  ...base,
  kind: z.literal('course'),
  students: posInt,
  campus_country: country.default('US'),
  /** Requests per student per active day (homework spikes before each weekly deadline). */
  rate: rate.default(12),
  /** Homework problems per weekly assignment (all students send the same ones). */
  problems_per_assignment: posInt.default(5),
});
const Evaluator = z.strictObject({
  ...base,
  kind: z.literal('evaluator'),
  orgs: posInt,
  accounts_per_org: intRange.default([1, 3]),
  /** Benchmark sweeps per account per week (plus one after each model release). */
  sweeps_per_week: z.number().nonnegative().default(2),
  sweep_size: posInt.default(150),
  countries: countries.default(['US', 'GB', 'DE', 'CH', 'IL']),
});
const Reseller = z.strictObject({
  ...base,
  kind: z.literal('reseller'),
  orgs: posInt,
  rate: rate.default(600),
  end_users: posInt.default(400),
  countries: countries.default(['US', 'SG', 'DE', 'AE', 'GB']),
});
const VpnUser = z.strictObject({
  ...base,
  kind: z.literal('vpn_user'),
  count: posInt,
  rate: rate.default(20),
  countries: countries.default(['US', 'GB', 'DE', 'NL', 'CA', 'AU', 'SG']),
  /** Exit countries of the VPN service (allowed countries). */
  exit_countries: countries.default(['NL', 'DE', 'US', 'SE', 'CH', 'JP', 'SG', 'GB']),
  /** Share of requests over the VPN (the rest from home or hotel networks). */
  vpn_share: pct.default(0.6),
});
const CloudCustomer = z.strictObject({
  ...base,
  kind: z.literal('cloud_customer'),
  count: posInt,
  /** The entity's public cloud network (an ASN of a custom network) these customers host on. */
  asn: nonNegInt,
  rate: rate.default(120),
  countries: countries.default(['SG', 'MY', 'TH', 'ID', 'AE', 'HK']),
  zh_share: pct.default(0.3),
});
const ProxyUser = z.strictObject({
  ...base,
  kind: z.literal('proxy_user'),
  count: posInt,
  /** Name of a pool in `pools`: the commercial proxy service these customers use. */
  pool: z.string(),
  rate: rate.default(20),
  countries: countries.default(['US', 'GB', 'DE', 'BR', 'IN', 'FR']),
});

export const Population = z.discriminatedUnion('kind', [
  Developer,
  Startup,
  Enterprise,
  OverseasBranch,
  Course,
  Evaluator,
  Reseller,
  VpnUser,
  CloudCustomer,
  ProxyUser,
]);
export type Population = z.infer<typeof Population>;

const campaignBase = {
  id: id.optional(),
  /** Day of the scenario (0-based) the campaign starts. */
  start_day: z.number().nonnegative().default(0),
  /** 0 = careless (reuses its own infrastructure), 1 = careful (spreads every link thin). */
  stealth: pct.default(0.3),
};
const Intermediary = z.strictObject({
  ...campaignBase,
  kind: z.literal('intermediary'),
  /** Watchlist entity id of the prohibited entity behind the campaign. */
  entity: z.string(),
  shells: posInt.default(4),
  accounts: posInt.default(24),
  rate: rate.default(180),
  /** Share of requests sent from the entity's own networks (its `asns` in the watchlist). */
  entity_networks: pct.default(0.35),
  /** Countries of the shells' hosting and of their declared registration. */
  shell_countries: countries.default(['SG', 'MY', 'AE', 'GB']),
  egress_countries: countries.default(['HK', 'SG', 'JP']),
  /** A pool in `pools` (residential proxies) used instead of the campaign's own hosting servers. */
  pool: z.string().optional(),
  /** `office`: operators' working hours; `flat`: scripted around the clock. */
  hours: z.enum(['office', 'flat']).default('office'),
  /** UTC offset of the entity's working hours. */
  utc_offset: z.number().min(-12).max(14).default(8),
  /** Share of prompts in Chinese. */
  zh_share: pct.default(0.25),
  /** Entity end users reached through a declared (benign) reseller in an allowed country. */
  via_reseller: z
    .strictObject({
        end_users: posInt.default(12),
        rate: rate.default(400),
        /** Rate of the reseller's own (real) customers. */
        reseller_rate: rate.default(300),
        country: country.default('SG'),
      })
    .optional(),
  /**
   * The operator's name. When set, what the operator keeps from one world to the next — its
   * hosting servers, its signup devices, a mail domain and its private prompt templates — is
   * drawn from this name, not the seed (accounts, shells and payment instruments stay per seed).
   */
  actor: z.string().min(1).max(100).optional(),
});
const Hydra = z.strictObject({
  ...campaignBase,
  kind: z.literal('hydra'),
  entity: z.string().nullable().default(null),
  accounts: posInt,
  /** Each account stays under this many requests on any day (under per-account thresholds). */
  max_requests_per_day: posInt.default(150),
  rate: rate.default(60),
  pool: z.string(),
  /** Share of each account's traffic that is distillation (the rest is the proxy service's real customers). */
  distill_share: pct.default(0.5),
  /** Accounts sharing one payment instrument (prepaid cards bought in batches). */
  accounts_per_card: posInt.default(4),
});
const Distillation = z.strictObject({
  ...campaignBase,
  kind: z.literal('distillation'),
  entity: z.string().nullable().default(null),
  accounts: posInt.default(6),
  rate: rate.default(900),
  countries: countries.default(['US', 'SG', 'DE']),
  /** Multiplier on the rate in the days after each model release. */
  release_surge: z.number().min(1).default(4),
  /** Share of requests that are coding or tool-use traces. */
  tools_share: pct.default(0.3),
  /** UTC offset of the operators' working hours (the sweeps themselves run around the clock). */
  utc_offset: z.number().min(-12).max(14).default(8),
});
const RegionEvasion = z.strictObject({
  ...campaignBase,
  kind: z.literal('region_evasion'),
  accounts: posInt,
  rate: rate.default(25),
  home_countries: countries.default(['CN', 'RU', 'IR']),
  /** Declared (allowed) countries. */
  declared_countries: countries.default(['US', 'SG', 'GB', 'JP', 'DE']),
  /** Name of a pool in `pools` used besides commercial VPNs (residential proxies). */
  pool: z.string().optional(),
  /** Share of requests that leak from the home network. */
  leak_rate: pct.default(0.01),
});
const KeySharing = z.strictObject({
  ...campaignBase,
  kind: z.literal('key_sharing'),
  accounts: posInt,
  rate: rate.default(20),
  /** Distinct places (buyers of the key) each key is used from after the resale. */
  sharers: posInt.default(25),
  /** Requests per day per buyer. */
  sharer_rate: rate.default(15),
  countries: countries.default(['US', 'GB', 'DE', 'BR', 'IN', 'ID', 'VN', 'TR', 'NG', 'PK']),
});

export const Campaign = z.discriminatedUnion('kind', [Intermediary, Hydra, Distillation, RegionEvasion, KeySharing]);
export type Campaign = z.infer<typeof Campaign>;

export const Scenario = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().default(''),
    seed: z.number().int(),
    start: z.iso.datetime({ offset: true }),
    days: z.number().positive().max(366),
    /** Model release times: evaluators and distillers surge after them. */
    releases: z.array(z.iso.datetime({ offset: true })).default([]),
    /**
     * `raw` writes `prompt`/`system`; `features` writes what a gateway does without raw-text
     * retention, the prompt features (`features`, v1) of that text and not the text; `none` writes
     * no content (for scale runs of the simulator itself).
     */
    content: z.enum(['raw', 'features', 'none']).default('raw'),
    models: z
      .strictObject({
        messages: z.array(z.string()).min(1).default(['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1']),
        chat: z.array(z.string()).min(1).default(['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o']),
      })
      .default({
        messages: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'],
        chat: ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o'],
      }),
    watchlist: z.strictObject({
      restricted_countries: z.array(country).default([]),
      entities: z.array(WatchlistEntity).default([]),
    }),
    custom_networks: z.array(CustomNetwork).default([]),
    pools: z.record(z.string(), PoolSpec).default({}),
    populations: z.array(Population).default([]),
    campaigns: z.array(Campaign).default([]),
  })
  .superRefine((s, ctx) => {
    const entities = new Set(s.watchlist.entities.map((e) => e.id));
    const customAsns = new Set(s.custom_networks.flatMap((n) => n.asns));
    const groups = new Set<string>();
    s.populations.forEach((p, i) => {
      const g = `benign:${p.id ?? p.kind}`;
      if (groups.has(g)) ctx.addIssue({ code: 'custom', path: ['populations', i, 'id'], message: `duplicate group "${g}": give each population a distinct id` });
      groups.add(g);
      if (p.kind === 'proxy_user' && !(p.pool in s.pools))
        ctx.addIssue({ code: 'custom', path: ['populations', i, 'pool'], message: `pool "${p.pool}" is not declared under pools` });
      if (p.kind === 'cloud_customer' && !customAsns.has(p.asn))
        ctx.addIssue({ code: 'custom', path: ['populations', i, 'asn'], message: `AS${p.asn} is not one of custom_networks` });
    });
    s.campaigns.forEach((c, i) => {
      const g = `campaign:${c.id ?? c.kind}`;
      if (groups.has(g)) ctx.addIssue({ code: 'custom', path: ['campaigns', i, 'id'], message: `duplicate group "${g}": give each campaign a distinct id` });
      groups.add(g);
      if ('entity' in c && c.entity !== null && !entities.has(c.entity))
        ctx.addIssue({ code: 'custom', path: ['campaigns', i, 'entity'], message: `entity "${c.entity}" is not in watchlist.entities` });
      if ('pool' in c && c.pool !== undefined && !(c.pool in s.pools))
        ctx.addIssue({ code: 'custom', path: ['campaigns', i, 'pool'], message: `pool "${c.pool}" is not declared under pools` });
      if (c.start_day >= s.days)
        ctx.addIssue({ code: 'custom', path: ['campaigns', i, 'start_day'], message: `start_day ${c.start_day} is not before the end of the scenario (days: ${s.days})` });
    });
  });
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

/** Group name of a population or campaign in truth.json. */
export function populationGroup(p: Population): string {
  return `benign:${p.id ?? p.kind}`;
}
export function campaignGroup(c: Campaign): string {
  return `campaign:${c.id ?? c.kind}`;
}

/** The shipped scenarios folder (`scenarios/` at the repository root). */
export function defaultScenarioDir(): string {
  return fileURLToPath(new URL('../../scenarios/', import.meta.url));
}

/** Parses a scenario object; `source` names the file in errors. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const r = Scenario.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message }));
    throw new ValidationError(
      `${source}: invalid scenario:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      issues,
    );
  }
  return r.data;
}

/**
 * Loads a scenario from a YAML file path, or by the name of a shipped scenario
 * (`demo`, `hard/train-1`, …).
 */
export function loadScenario(nameOrFile: string, scenarioDir = defaultScenarioDir()): Scenario {
  const candidates = [
    resolve(nameOrFile),
    join(scenarioDir, nameOrFile),
    join(scenarioDir, `${nameOrFile}.yaml`),
    join(scenarioDir, `${nameOrFile}.yml`),
  ];
  const file = candidates.find((f) => existsSync(f) && !f.endsWith('/') && /\.ya?ml$/.test(f));
  if (!file) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `scenario "${nameOrFile}" is neither a YAML file nor a shipped scenario. Shipped: ${listScenarios(scenarioDir).join(', ')}.`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError('CONFIG_INVALID', `${file}: not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  return parseScenario(raw, file);
}

/** Other YAML files live beside the scenarios (the demo's watchlist): a scenario has a top-level seed. */
function looksLikeScenario(file: string): boolean {
  return /^seed:/m.test(readFileSync(file, 'utf8'));
}

/** Names of the shipped scenarios (`demo`, `hard/train-1`, …). */
export function listScenarios(scenarioDir = defaultScenarioDir()): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
      else if (/\.ya?ml$/.test(e.name) && looksLikeScenario(join(dir, e.name))) out.push(prefix + basename(e.name).replace(/\.ya?ml$/, ''));
    }
  };
  walk(scenarioDir, '');
  return out.sort();
}

/** Scenarios of a shipped suite (`hard`): its files, split by `train-*` and `heldout-*` names. */
export function loadSuite(name: string, scenarioDir = defaultScenarioDir()): { name: string; split: 'train' | 'heldout'; scenario: Scenario }[] {
  const names = listScenarios(scenarioDir).filter((n) => n.startsWith(`${name}/`));
  if (names.length === 0) throw new ConfigError('CONFIG_INVALID', `suite "${name}" not found under ${scenarioDir}`);
  return names.map((n) => ({
    name: n,
    split: basename(n).startsWith('heldout') ? 'heldout' : 'train',
    scenario: loadScenario(n, scenarioDir),
  }));
}

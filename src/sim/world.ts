/**
 * Builds a world from a scenario: organisations, accounts (with the signup facts an integrity
 * team sees), the ground truth of each account, and the traffic streams that will generate
 * its requests. Each population and campaign has its own builder; all ids come from one
 * generator so they carry no hint of truth.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash32, type Account, type NetworkType, type TruthAccount, type Watchlist, type Endpoint, type Owner } from '../core/index.js';
import { Watchlist as WatchlistSchema } from '../core/index.js';
import { loadCorpora, chat, coding, appTraffic, sweep, cot, MCQ_TEMPLATES, CODE_TEMPLATES, COT_TEMPLATES, COT_SYSTEMS, STUDENT_TEMPLATES, type Corpora } from './content.js';
import { NetPicker, type Egress, type SimSampler } from './networks.js';
import { IdGen, Rng } from './rng.js';
import { campaignGroup, populationGroup, type Campaign, type Population, type Scenario } from './scenario.js';
import { DAY, HOUR, Stream, streamRng, WEEKDAYS_ALL, WEEKDAYS_WORK, type ContentSpec, type EgressSpec, type HourShape, type StreamPlan } from './traffic.js';
import { BROWSER_UAS, FREEMAIL, SDK_UAS, handle, orgName, personName, tzOf, zhOrgName } from './vocab.js';

export interface WorldAccount {
  account_id: string;
  /** The accounts.jsonl line. */
  line: string;
  /** Its `created_at`, in milliseconds. */
  created: number;
  truth: TruthAccount;
}

/**
 * Accounts as they are built: each line goes to a temporary file at once and only its
 * creation time, place in the file, id and truth stay in memory (about 40 bytes an account
 * instead of the half kilobyte of its line), so a million accounts can be sorted by signup time.
 */
class AccountSpill {
  private readonly dir: string;
  private readonly file: string;
  private readonly fd: number;
  private offset = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  readonly created: number[] = [];
  readonly offsets: number[] = [];
  readonly lengths: number[] = [];
  readonly ids: string[] = [];
  readonly truths: TruthAccount[] = [];

  constructor(tmp: string) {
    this.dir = mkdtempSync(join(tmp, 'warden-accounts-'));
    this.file = join(this.dir, 'accounts.unsorted.jsonl');
    this.fd = openSync(this.file, 'w+');
  }
  add(id: string, created: number, line: string, truth: TruthAccount): void {
    const b = Buffer.from(line);
    this.created.push(created);
    this.offsets.push(this.offset + this.pendingBytes);
    this.lengths.push(b.length);
    this.ids.push(id);
    this.truths.push(truth);
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.pendingBytes === 0) return;
    writeSync(this.fd, Buffer.concat(this.pending), 0, this.pendingBytes, this.offset);
    this.offset += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
  }
  get size(): number {
    return this.ids.length;
  }
  /** Accounts sorted by signup time (ties by build order). */
  *sorted(): Generator<WorldAccount> {
    this.flush();
    const order = Array.from({ length: this.size }, (_, i) => i).sort((a, b) => this.created[a]! - this.created[b]! || a - b);
    let buf = Buffer.alloc(4096);
    for (const i of order) {
      const len = this.lengths[i]!;
      if (buf.length < len) buf = Buffer.alloc(len * 2);
      readSync(this.fd, buf, 0, len, this.offsets[i]!);
      yield { account_id: this.ids[i]!, line: buf.toString('utf8', 0, len), created: this.created[i]!, truth: this.truths[i]! };
    }
  }
  dispose(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface World {
  scenario: Scenario;
  /** Accounts sorted by `created_at` (ties by build order); read once, from a temporary file. */
  accounts(): Generator<WorldAccount>;
  accountCount: number;
  /** Removes the temporary file behind `accounts()`. */
  dispose(): void;
  streams: Stream[];
  /** Group name of each stream's `group` index (`benign:developer`, `campaign:hydra`, …). */
  groups: string[];
  watchlist: Watchlist;
  start: number;
  end: number;
}

export interface BuildDeps {
  sampler: SimSampler;
  promptDir?: string;
  /** Where the account spill file goes (default: the OS temporary directory). */
  tmpDir?: string;
}

interface AccountOpts {
  org?: { org_id: string; name: string; domain?: string; owners?: Owner[] };
  created: number;
  email?: string;
  country?: string;
  use?: Account['declared_use'];
  verification?: Account['verification'];
  payment?: string;
  paymentCountry?: string;
  signup: Egress;
  device?: string;
  truth: TruthAccount;
}

/** One stream of traffic for an account; the defaults fill what a builder leaves out. */
type PlanOpts = Partial<StreamPlan> & Pick<StreamPlan, 'ratePerDay' | 'content' | 'egress' | 'tz'>;

class Builder {
  readonly rng: Rng;
  readonly ids: IdGen;
  readonly net: NetPicker;
  readonly c: Corpora;
  readonly accounts: AccountSpill;
  readonly streams: Stream[] = [];
  readonly groups: string[] = [];
  readonly start: number;
  readonly end: number;
  readonly releases: number[];
  private streamN = 0;
  /** Creation time (ms) of the account made last. */
  lastCreated = 0;
  private readonly pools = new Map<string, Egress[]>();

  constructor(
    readonly s: Scenario,
    deps: BuildDeps,
  ) {
    this.rng = Rng.derive(s.seed, 'world');
    this.ids = new IdGen(s.seed);
    this.net = new NetPicker(deps.sampler, s.custom_networks);
    this.c = loadCorpora(deps.promptDir);
    this.start = Date.parse(s.start);
    this.end = this.start + s.days * DAY;
    this.releases = s.releases.map((r) => Date.parse(r));
    this.accounts = new AccountSpill(deps.tmpDir ?? tmpdir());
  }

  group(name: string): number {
    this.groups.push(name);
    return this.groups.length - 1;
  }

  /** A named commercial proxy/VPN pool, built once and shared by every client that uses it. */
  pool(name: string): Egress[] {
    let p = this.pools.get(name);
    if (!p) {
      const spec = this.s.pools[name]!;
      const r = Rng.derive(this.s.seed, 'pool', name);
      p = [];
      for (let i = 0; i < spec.size; i++) {
        p.push(this.net.address({ country: r.pick(spec.countries), network_type: r.pick(spec.network_types) }, r));
      }
      this.pools.set(name, p);
    }
    return p;
  }

  org(r: Rng, country: string, opts: { zh?: boolean; owners?: Owner[] } = {}): { org_id: string; name: string; domain: string; owners?: Owner[] } {
    const o = orgName(r, country);
    return {
      org_id: this.ids.next('org_'),
      name: opts.zh ? zhOrgName(r) : o.name,
      domain: o.domain,
      ...(opts.owners ? { owners: opts.owners } : {}),
    };
  }

  account(o: AccountOpts, r: Rng): { account_id: string; org_id?: string; key_id: string } {
    const account_id = this.ids.next('acc_');
    const email = o.email ?? `${handle(r)}@${o.org?.domain ?? r.pick(FREEMAIL)}`;
    const acc: Account = {
      account_id,
      ...(o.org ? { org_id: o.org.org_id, org_name: o.org.name } : {}),
      created_at: new Date(o.created).toISOString(),
      email,
      email_domain: email.slice(email.indexOf('@') + 1),
      ...(o.country ? { declared_country: o.country } : {}),
      declared_use: o.use ?? 'unknown',
      verification: o.verification ?? 'email',
      ...(o.payment ? { payment_fingerprint: o.payment, payment_country: o.paymentCountry ?? o.country } : {}),
      signup_ip: o.signup.ip,
      signup_user_agent: r.pick(BROWSER_UAS),
      device_fingerprint: o.device ?? this.ids.next('dev_', 16),
      ...(o.org?.owners ? { owners: o.org.owners } : {}),
    };
    this.accounts.add(account_id, o.created, JSON.stringify(acc), o.truth);
    this.lastCreated = o.created;
    return { account_id, ...(o.org ? { org_id: o.org.org_id } : {}), key_id: this.ids.next('key_') };
  }

  stream(acct: { account_id: string; org_id?: string; key_id: string }, group: number, p: PlanOpts, from: number): void {
    const plan: StreamPlan = {
      start: Math.max(from, this.start),
      end: this.end,
      sessionLen: 4,
      gapSec: 25,
      hours: 'office',
      weekdays: WEEKDAYS_WORK,
      surges: [],
      endpoint: 'messages',
      models: this.s.models.messages,
      userAgents: SDK_UAS,
      streamShare: 0.5,
      planSeed: 0,
      ...p,
    };
    if (plan.endpoint === 'chat.completions' && !p.models) plan.models = this.s.models.chat;
    // A client's user agent matches the API it calls (no OpenAI SDK on the Messages API).
    plan.userAgents = matchingAgents(plan.userAgents, plan.endpoint);
    if (plan.start >= plan.end) return;
    this.streams.push(new Stream(acct, plan, group, streamRng(this.s.seed, this.streamN++)));
  }

  payment(): string {
    return this.ids.next('pm_', 20);
  }
  endUsers(n: number): string[] {
    return Array.from({ length: n }, () => this.ids.next('u_', 10));
  }
  /** Creation time of an existing customer (up to a year before the window) or a new one. */
  created(r: Rng, newShare = 0.15): number {
    return r.chance(newShare) ? this.start + r.float() * (this.end - this.start) * 0.8 : this.start - r.float() * 365 * DAY;
  }
  endpoint(r: Rng, chatShare = 0.4): Endpoint {
    return r.chance(chatShare) ? 'chat.completions' : 'messages';
  }
  surges(factor: number, days: number): StreamPlan['surges'] {
    return this.releases.map((at) => ({ at, factor, days }));
  }
}

/** Client strings of scripted clients (module constants: shared by every stream). */
const UA_RESELLER: readonly string[] = ['OpenAI/JS 4.91.1', 'axios/1.7.7'];
const UA_OPERATOR: readonly string[] = ['python-httpx/0.27.2', 'OpenAI/Python 1.68.2', 'Anthropic/Python 0.49.0', 'python-requests/2.32.3'];
const UA_PIPELINE: readonly string[] = ['python-httpx/0.27.2', 'OpenAI/Python 1.68.2', 'Anthropic/Python 0.49.0'];
const UA_STUDENT: readonly string[] = ['python-requests/2.32.3', 'OpenAI/Python 1.54.4', 'OpenAI/Python 1.68.2'];

const agentCache = new WeakMap<readonly string[], Map<string, readonly string[]>>();
/** The user agents of a list that fit an endpoint (shared per list, to save memory). */
function matchingAgents(list: readonly string[], endpoint: Endpoint): readonly string[] {
  let m = agentCache.get(list);
  if (!m) agentCache.set(list, (m = new Map()));
  let out = m.get(endpoint);
  if (!out) {
    const foreign = endpoint === 'messages' ? /^OpenAI\// : /^Anthropic\//;
    const uas = list.filter((u) => !foreign.test(u));
    out = uas.length > 0 ? uas : list;
    m.set(endpoint, out);
  }
  return out;
}

const benignTruth = new Map<string, TruthAccount>();
/** The truth of a benign account (one shared object per group). */
const benign = (group: string): TruthAccount => {
  let t = benignTruth.get(group);
  if (!t) benignTruth.set(group, (t = { group, malicious: false, entity: null, labels: [] }));
  return t;
};

function addPopulation(b: Builder, p: Population): void {
  const group = populationGroup(p);
  const g = b.group(group);
  const r = Rng.derive(b.s.seed, 'population', group);
  const c = b.c;
  const net = b.net;
  switch (p.kind) {
    case 'developer': {
      for (let i = 0; i < p.count; i++) {
        const country = r.pick(p.countries);
        const home = net.address({ country, network_type: r.chance(0.2) ? 'mobile' : 'residential' }, r);
        const egress: EgressSpec[] = [{ weight: 1, pool: [home], rotate: 'session' }];
        if (r.chance(p.hosting_share)) {
          const ci = net.sameAsn({ country: r.pick([country, 'US', 'DE']), network_type: 'hosting' }, r.intRange(1, 3), r);
          egress.push({ weight: r.range(0.3, 1.5), pool: ci, rotate: 'session' });
        }
        const zh = r.chance(p.zh_share) ? 0.7 : 0.02;
        const a = b.account(
          { created: b.created(r), country, use: r.pick(['internal', 'research', 'unknown', 'consumer'] as const), verification: r.pick(['email', 'phone', 'email', 'id'] as const), payment: r.chance(0.8) ? b.payment() : undefined, signup: home, truth: benign(group) },
          r,
        );
        b.stream(a, g, {
          ratePerDay: r.lognormal(p.rate, 0.8),
          tz: tzOf(country, r),
          hours: r.pick(['office', 'evening'] as HourShape[]),
          weekdays: WEEKDAYS_ALL,
          content: [chat(c, 1, zh), coding(c, r.range(0.3, 2), zh), ...(r.chance(0.3) ? [cot(c, 0.2)] : [])],
          egress,
          endpoint: b.endpoint(r),
          sessionLen: r.range(2, 10),
          gapSec: r.range(15, 90),
        }, b.lastCreated + r.exp(HOUR));
      }
      return;
    }
    case 'startup':
    case 'enterprise':
    case 'overseas_branch': {
      for (let o = 0; o < p.orgs; o++) {
        const parent = p.kind === 'overseas_branch' ? r.pick(p.parent_countries) : r.pick(p.countries);
        const country = p.kind === 'overseas_branch' ? r.pick(p.branch_countries) : parent;
        const parentOrg = orgName(r, parent);
        const owners: Owner[] =
          p.kind === 'overseas_branch'
            ? [{ name: parentOrg.name, country: parent, share: 1 }]
            : [{ name: personName(r), country, share: r.share(0.2, 0.6) }, { name: personName(r), country, share: r.share(0.1, 0.3) }];
        const org = b.org(r, country, { zh: p.kind === 'overseas_branch' && r.chance(0.3), owners });
        const n = r.intRange(p.accounts_per_org[0], p.accounts_per_org[1]);
        const card = b.payment();
        const adminDevice = b.ids.next('dev_', 16);
        const net0: NetworkType = p.kind === 'startup' ? 'hosting' : 'business';
        const egressPool = net.sameAsn({ country, network_type: net0 }, p.kind === 'enterprise' ? p.egress_ips : r.intRange(2, 6), r);
        // Signup bursts: an org onboards its team within hours, on one or two days.
        const onboard = b.created(r, 0.25);
        const product = `${orgName(r).name.split(' ').slice(0, 2).join(' ')}`;
        const users = b.endUsers(p.kind === 'startup' ? p.end_users : 0);
        const officeIps = p.kind === 'startup' ? net.sameAsn({ country, network_type: 'business' }, 2, r) : egressPool;
        for (let i = 0; i < n; i++) {
          const created = onboard + (r.chance(0.7) ? r.exp(3 * HOUR) : r.float() * 60 * DAY);
          const a = b.account(
            {
              org,
              created,
              country,
              use: p.kind === 'startup' ? 'consumer' : 'internal',
              verification: r.chance(0.8) ? 'business' : 'email',
              payment: card,
              paymentCountry: p.kind === 'overseas_branch' ? parent : country,
              signup: r.pick(officeIps),
              device: r.chance(0.5) ? adminDevice : undefined,
              truth: benign(group),
            },
            r,
          );
          const zh = p.kind === 'overseas_branch' ? p.zh_share : 0.02;
          const isService = p.kind === 'startup' && i < Math.max(1, n / 2);
          b.stream(a, g, {
            ratePerDay: r.lognormal(p.rate, 0.7) * (p.kind === 'startup' && !isService ? 0.15 : 1),
            tz: tzOf(country, r),
            hours: isService ? 'global' : 'office',
            weekdays: isService ? WEEKDAYS_ALL : WEEKDAYS_WORK,
            content: isService
              ? [appTraffic(c, product, users)]
              : [chat(c, 1, zh), coding(c, r.range(0.2, 1.5), zh), { ...appTraffic(c, product, [], 0.3), endUsers: undefined }],
            egress: [{ weight: 1, pool: egressPool, rotate: isService ? 'request' : 'session' }],
            endpoint: b.endpoint(r),
            sessionLen: isService ? 30 : r.range(2, 8),
            gapSec: isService ? 8 : r.range(20, 90),
          }, created + r.exp(2 * HOUR));
        }
      }
      return;
    }
    case 'course': {
      const campus = net.sameAsn({ country: p.campus_country, network_type: 'education' }, r.intRange(3, 8), r);
      const uni = orgName(r, p.campus_country);
      const domain = uni.domain.replace('.example', '.edu.example');
      // Students sign up in a burst in the first days of term.
      const termStart = b.start - r.float() * 3 * DAY;
      const problems = r.chance(0.5) ? c.gsm8k : c['human-eval'];
      const spec: ContentSpec = {
        weight: 1,
        corpora: [problems],
        mode: 'assignment',
        templates: STUDENT_TEMPLATES,
        perAssignment: p.problems_per_assignment,
        turns: [1, 5],
        output: 450,
      };
      const deadlineWeek = [0.6, 0.5, 0.6, 0.8, 1.3, 1.8, 0.4]; // Friday deadline, Thursday night rush
      for (let i = 0; i < p.students; i++) {
        const created = termStart + r.exp(18 * HOUR);
        const signup = r.chance(0.8) ? r.pick(campus) : net.address({ country: p.campus_country, network_type: 'residential' }, r);
        const a = b.account(
          { created, email: `${handle(r)}@${domain}`, country: p.campus_country, use: 'research', verification: 'email', payment: r.chance(0.2) ? b.payment() : undefined, signup, truth: benign(group) },
          r,
        );
        const home = net.address({ country: p.campus_country, network_type: r.chance(0.5) ? 'residential' : 'mobile' }, r);
        b.stream(a, g, {
          ratePerDay: r.lognormal(p.rate, 0.6),
          tz: tzOf(p.campus_country, r),
          hours: 'student',
          weekdays: deadlineWeek,
          content: [spec, chat(c, 0.15, 0.05)],
          egress: [
            { weight: 3, pool: campus, rotate: 'session' },
            { weight: 1, pool: [home], rotate: 'session' },
          ],
          endpoint: 'chat.completions',
          userAgents: UA_STUDENT,
          sessionLen: r.range(3, 8),
          gapSec: r.range(30, 120),
          planSeed: b.s.seed ^ 0x5eed,
        }, created + r.exp(DAY));
      }
      return;
    }
    case 'evaluator': {
      for (let o = 0; o < p.orgs; o++) {
        const country = r.pick(p.countries);
        const org = b.org(r, country, { owners: [{ name: personName(r), country, share: r.share(0.3, 0.7) }] });
        const servers = net.sameAsn({ country: r.pick([country, 'US']), network_type: 'hosting' }, r.intRange(2, 10), r);
        const card = b.payment();
        for (let i = 0, n = r.intRange(p.accounts_per_org[0], p.accounts_per_org[1]); i < n; i++) {
          const created = b.created(r, 0);
          const a = b.account({ org, created, country, use: 'evaluation', verification: 'business', payment: card, signup: r.pick(servers), truth: benign(group) }, r);
          const sweepsPerDay = p.sweeps_per_week / 7;
          b.stream(a, g, {
            ratePerDay: sweepsPerDay * p.sweep_size,
            sessionLen: p.sweep_size,
            fixedSessions: true,
            gapSec: r.range(1, 4),
            tz: tzOf(country, r),
            hours: 'office',
            weekdays: WEEKDAYS_WORK,
            surges: b.surges(6, 2),
            content: [
              sweep(c.mmlu, MCQ_TEMPLATES, 30, 2),
              sweep(c.gsm8k, COT_TEMPLATES, 400, 1),
              sweep(c['human-eval'], CODE_TEMPLATES, 300, 1),
              sweep(c['mt-bench'], ['{item}'], 500, 0.5),
              sweep(c['flan-cot'], COT_TEMPLATES, 350, 0.5, COT_SYSTEMS),
            ],
            egress: [{ weight: 1, pool: servers, rotate: 'request' }],
            endpoint: b.endpoint(r, 0.5),
            userAgents: UA_PIPELINE,
            streamShare: 0,
          }, created);
        }
      }
      return;
    }
    case 'reseller': {
      for (let o = 0; o < p.orgs; o++) addReseller(b, r, g, group, p.countries, p.rate, p.end_users);
      return;
    }
    case 'vpn_user': {
      for (let i = 0; i < p.count; i++) {
        const country = r.pick(p.countries);
        const home = net.address({ country, network_type: 'residential' }, r);
        const vpn = [net.vpnAddress(r.pick(p.exit_countries), r), net.vpnAddress(r.pick(p.exit_countries), r)];
        const traveller = r.chance(0.4);
        const abroad = traveller ? [net.address({ country: r.pick(p.exit_countries), network_type: r.pick(['residential', 'mobile', 'business'] as NetworkType[]) }, r)] : [];
        const a = b.account({ created: b.created(r), country, use: r.pick(['internal', 'consumer'] as const), verification: r.pick(['email', 'phone', 'id'] as const), payment: b.payment(), signup: r.chance(0.5) ? home : vpn[0]!, truth: benign(group) }, r);
        b.stream(a, g, {
          ratePerDay: r.lognormal(p.rate, 0.7),
          tz: tzOf(country, r) + (traveller ? r.pick([0, 3, 6, 9, -6]) : 0),
          hours: r.pick(['office', 'evening'] as HourShape[]),
          weekdays: WEEKDAYS_ALL,
          content: [chat(c, 1, 0.03), coding(c, 0.3, 0.03)],
          egress: [
            { weight: p.vpn_share, pool: vpn, rotate: 'session' },
            { weight: 1 - p.vpn_share, pool: traveller ? [...abroad, home] : [home], rotate: 'session' },
          ],
          endpoint: b.endpoint(r),
        }, b.lastCreated);
      }
      return;
    }
    case 'cloud_customer': {
      for (let i = 0; i < p.count; i++) {
        const country = r.pick(p.countries);
        const zhOrg = r.chance(p.zh_share);
        const owners: Owner[] = [{ name: personName(r), country, share: r.share(0.4, 0.8) }];
        if (r.chance(0.5)) owners.push({ name: personName(r), country: 'CN', share: r.share(0.05, 0.3) });
        const org = b.org(r, country, { zh: zhOrg, owners });
        const servers = Array.from({ length: r.intRange(1, 4) }, () => net.address({ asn: p.asn }, r));
        const created = b.created(r, 0.2);
        const a = b.account({ org, created, country, use: r.pick(['consumer', 'internal'] as const), verification: r.pick(['email', 'business'] as const), payment: b.payment(), paymentCountry: r.chance(0.2) ? 'HK' : country, signup: r.pick(servers), truth: benign(group) }, r);
        const users = b.endUsers(r.intRange(20, 200));
        b.stream(a, g, {
          ratePerDay: r.lognormal(p.rate, 0.8),
          tz: tzOf(country, r),
          hours: r.pick(['global', 'office'] as HourShape[]),
          weekdays: WEEKDAYS_ALL,
          content: [{ ...appTraffic(c, orgName(r).name.split(' ')[0]!, users), zh: zhOrg ? 0.6 : 0.05 }, chat(c, 0.5, zhOrg ? 0.6 : 0.05)],
          egress: [{ weight: 1, pool: servers, rotate: 'request' }],
          endpoint: b.endpoint(r, 0.6),
          sessionLen: 10,
          gapSec: 15,
        }, created);
      }
      return;
    }
    case 'proxy_user': {
      const pool = b.pool(p.pool);
      for (let i = 0; i < p.count; i++) {
        const country = r.pick(p.countries);
        const signup = r.pick(pool);
        const a = b.account({ created: b.created(r), country, use: r.pick(['consumer', 'unknown'] as const), verification: r.pick(['none', 'email', 'email', 'phone'] as const), payment: r.chance(0.7) ? b.payment() : undefined, signup, truth: benign(group) }, r);
        b.stream(a, g, {
          ratePerDay: r.lognormal(p.rate, 0.8),
          tz: tzOf(country, r),
          hours: r.pick(['evening', 'global'] as HourShape[]),
          weekdays: WEEKDAYS_ALL,
          content: [chat(c, 1, 0.03), ...(r.chance(0.3) ? [cot(c, 0.3)] : [])],
          egress: [{ weight: 1, pool, rotate: r.chance(0.5) ? 'request' : 'session' }],
          endpoint: b.endpoint(r, 0.6),
        }, b.lastCreated);
      }
      return;
    }
  }
}

/** A declared reseller: many end users, served from its cloud servers. Returns its account. */
function addReseller(b: Builder, r: Rng, g: number, group: string, countries: string[], rate: number, endUsers: number, truth?: TruthAccount) {
  const country = r.pick(countries);
  const org = b.org(r, country, { owners: [{ name: personName(r), country, share: r.share(0.5, 1) }] });
  const servers = b.net.sameAsn({ country, network_type: 'hosting' }, r.intRange(2, 8), r);
  const created = b.created(r, 0.1);
  const a = b.account({ org, created, country, use: 'reseller', verification: 'business', payment: b.payment(), signup: r.pick(servers), truth: truth ?? benign(group) }, r);
  const users = b.endUsers(endUsers);
  b.stream(a, g, {
    ratePerDay: r.lognormal(rate, 0.5),
    tz: tzOf(country, r),
    hours: 'global',
    weekdays: WEEKDAYS_ALL,
    content: [{ ...chat(b.c, 1, 0.15), endUsers: users }, { ...coding(b.c, 0.5, 0.1), endUsers: users }, { ...cot(b.c, 0.1), endUsers: users }],
    egress: [{ weight: 1, pool: servers, rotate: 'request' }],
    endpoint: 'chat.completions',
    sessionLen: 20,
    gapSec: 6,
    userAgents: UA_RESELLER,
  }, created);
  return { acct: a, servers, country };
}

function entityAsns(b: Builder, entity: string | null): number[] {
  return b.s.watchlist.entities.find((e) => e.id === entity)?.asns ?? [];
}

/**
 * An operator's persistent traits, drawn from its name alone: the same in every world (every
 * seed) that names it. Its hosting servers are drawn with `rng`, its devices with `ids`.
 */
function actorTraits(name: string): { rng: Rng; ids: IdGen; mailDomain: string; mcqTemplates: string[]; cotTemplates: string[] } {
  const rng = Rng.derive(0, 'actor', name);
  const tag = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'ops';
  const code = `${rng.pick(ACTOR_WORDS)}-${rng.pick(ACTOR_WORDS)}-${rng.int(1000)}`;
  return {
    rng,
    ids: new IdGen(hash32(`actor\u0000${name}`)),
    mailDomain: `${tag}-${rng.int(100)}.example`,
    mcqTemplates: [
      `[${code}] Evaluation record. Read the question and the options carefully, reason about each option, and reply with the option letter on the last line as LETTER: X.\n\n{item}`,
      `[${code}] Multiple choice item follows. Output only the letter of the correct option, nothing else, and do not explain.\n\n{item}`,
    ],
    cotTemplates: [
      `[${code}] Reasoning record. Work through the following problem step by step, numbering every step, then write FINAL: followed by the answer.\n\n{item}`,
      `{item}\n\n[${code}] Show the complete reasoning chain, one numbered step per line, and end with FINAL: and the answer.`,
    ],
  };
}
const ACTOR_WORDS = ['amber', 'cobalt', 'delta', 'ember', 'falcon', 'garnet', 'harbor', 'indigo', 'juniper', 'kestrel', 'lumen', 'meridian', 'nimbus', 'onyx', 'quartz', 'raven'];

function addCampaign(b: Builder, camp: Campaign): void {
  const group = campaignGroup(camp);
  const g = b.group(group);
  const r = Rng.derive(b.s.seed, 'campaign', group);
  const c = b.c;
  const net = b.net;
  const begin = b.start + camp.start_day * DAY;
  const stealth = camp.stealth;
  switch (camp.kind) {
    case 'intermediary': {
      const truth: TruthAccount = { group, malicious: true, entity: camp.entity, labels: ['hydra_member', 'prohibited_entity', 'capability_probing', 'distillation'] };
      const ent = b.s.watchlist.entities.find((e) => e.id === camp.entity)!;
      const own = entityAsns(b, camp.entity).flatMap((asn) => Array.from({ length: 6 }, () => net.address({ asn }, r)));
      // What the operator keeps across worlds comes from its name (`actor`), not the seed.
      const actor = camp.actor ? actorTraits(camp.actor) : null;
      const ar = actor?.rng ?? r;
      const hosting = camp.pool
        ? b.pool(camp.pool)
        : Array.from({ length: ar.intRange(6, 16) }, () => net.address({ country: ar.pick(camp.egress_countries), network_type: 'hosting' }, ar));
      const cards = Array.from({ length: Math.max(1, Math.round(camp.shells * (0.5 + 2 * stealth))) }, () => b.payment());
      const devices = Array.from({ length: Math.max(1, Math.round(camp.accounts * (0.08 + 0.6 * stealth))) }, () => (actor ? actor.ids.next('dev_', 16) : b.ids.next('dev_', 16)));
      const content: ContentSpec[] = [
        sweep(c.mmlu, actor?.mcqTemplates ?? MCQ_TEMPLATES, 200, 2),
        sweep(c['mt-bench'], ['{item}'], 600, 1),
        sweep(c['human-eval'], CODE_TEMPLATES, 500, 1),
        { ...cot(c, 1.5), zh: camp.zh_share, ...(actor ? { templates: actor.cotTemplates } : {}) },
        { ...chat(c, 1, camp.zh_share), corpora: [c['arena-hard']] },
      ];
      const perShell = Math.max(1, Math.round(camp.accounts / camp.shells));
      let made = 0;
      for (let s = 0; s < camp.shells && made < camp.accounts; s++) {
        const country = r.pick(camp.shell_countries);
        const owners: Owner[] = [{ name: personName(r), country, share: r.share(0.5, 0.75) }];
        // A careless operator declares a subsidiary of the entity as a minority owner (under 50%).
        if (r.chance(1 - stealth) && ent.subsidiaries.length > 0) owners.push({ name: r.pick(ent.subsidiaries), country: ent.jurisdiction, share: r.share(0.2, 0.45) });
        const org = b.org(r, country, { zh: r.chance(0.3 * (1 - stealth)), owners });
        const burst = begin - r.float() * 3 * DAY;
        for (let i = 0; i < perShell && made < camp.accounts; i++, made++) {
          const created = burst + r.exp(1.5 * HOUR);
          const signup = own.length > 0 && r.chance((1 - stealth) * camp.entity_networks * 1.5) ? r.pick(own) : r.pick(hosting);
          // An operator with a name registers half its accounts on its own mail domain.
          const email = actor && r.chance(0.5) ? `${handle(r)}@${actor.mailDomain}` : undefined;
          const a = b.account(
            { org, created, country, use: r.pick(['research', 'internal'] as const), verification: r.pick(['business', 'email', 'phone'] as const), payment: r.pick(cards), paymentCountry: r.pick([country, 'HK']), signup, device: r.pick(devices), truth, ...(email ? { email } : {}) },
            r,
          );
          const egress: EgressSpec[] = [{ weight: 1 - camp.entity_networks, pool: hosting, rotate: camp.pool ? 'request' : 'session' }];
          if (own.length > 0 && camp.entity_networks > 0) egress.push({ weight: camp.entity_networks, pool: own, rotate: 'session' });
          b.stream(a, g, {
            ratePerDay: r.lognormal(camp.rate, 0.4),
            tz: camp.utc_offset,
            hours: camp.hours,
            weekdays: camp.hours === 'office' ? WEEKDAYS_WORK : WEEKDAYS_ALL,
            surges: b.surges(3, 3),
            content,
            egress,
            endpoint: b.endpoint(r, 0.5),
            userAgents: UA_OPERATOR,
            sessionLen: r.range(20, 60),
            gapSec: r.range(3, 12),
            streamShare: 0.2,
          }, Math.max(created, begin));
        }
      }
      if (camp.via_reseller) {
        // The entity's users also reach the model through a declared reseller in an allowed
        // country: the reseller stays benign (its other customers are real), labelled
        // reseller_customer_traffic; the right action on it is monitor plus the end-user ids.
        const rg = b.group('benign:reseller');
        const res = addReseller(b, r, rg, 'benign:reseller', [camp.via_reseller.country], camp.via_reseller.reseller_rate, 300, {
          group: 'benign:reseller',
          malicious: false,
          entity: null,
          labels: ['reseller_customer_traffic'],
        });
        const eu = b.endUsers(camp.via_reseller.end_users);
        b.stream(res.acct, g, {
          ratePerDay: camp.via_reseller.rate,
          tz: camp.utc_offset,
          hours: camp.hours,
          weekdays: WEEKDAYS_WORK,
          content: content.map((x) => ({ ...x, endUsers: eu })),
          egress: [{ weight: 1, pool: res.servers, rotate: 'request' }],
          endpoint: 'chat.completions',
          sessionLen: 8,
          gapSec: 5,
          userAgents: UA_RESELLER,
        }, begin);
      }
      return;
    }
    case 'hydra': {
      const truth: TruthAccount = {
        group,
        malicious: true,
        entity: camp.entity,
        labels: ['hydra_member', 'undeclared_reseller', 'distillation', ...(camp.entity ? (['prohibited_entity'] as const) : [])],
      };
      const pool = b.pool(camp.pool);
      let card = b.payment();
      const distill: ContentSpec[] = [
        { ...cot(c, 1), zh: 0.1 },
        sweep(c.mmlu, [...MCQ_TEMPLATES, ...COT_TEMPLATES], 500, 0.6, COT_SYSTEMS),
        { ...coding(c, 0.5, 0.05), systems: [...COT_SYSTEMS.slice(0, 1), ...coding(c).systems!] },
      ];
      const real: ContentSpec[] = [chat(c, 1, 0.08), coding(c, 0.4, 0.05)];
      for (let i = 0; i < camp.accounts; i++) {
        if (i % camp.accounts_per_card === 0) card = b.payment();
        // Accounts trickle in, with small bursts when the operator tops up its stock.
        const created = begin - 5 * DAY + (r.chance(0.4) ? r.float() * 2 * DAY : r.float() * (b.end - begin) * 0.6 + 5 * DAY);
        const country = r.pick(b.s.pools[camp.pool]!.countries);
        const a = b.account(
          { created, country, use: r.pick(['consumer', 'unknown', 'internal'] as const), verification: r.pick(['none', 'email', 'email', 'phone'] as const), payment: r.chance(0.85) ? card : undefined, signup: r.pick(pool), truth },
          r,
        );
        const share = camp.distill_share;
        b.stream(a, g, {
          ratePerDay: Math.min(r.lognormal(camp.rate, 0.5), camp.max_requests_per_day * 0.8),
          maxPerDay: camp.max_requests_per_day - 1,
          tz: tzOf(country, r),
          hours: 'global',
          weekdays: WEEKDAYS_ALL,
          content: [...distill.map((x) => ({ ...x, weight: (x.weight * share) / 2.1 })), ...real.map((x) => ({ ...x, weight: (x.weight * (1 - share)) / 1.4 }))],
          egress: [{ weight: 1, pool, rotate: 'request' }],
          endpoint: b.endpoint(r, 0.7),
          sessionLen: r.range(3, 10),
          gapSec: r.range(5, 40),
        }, created);
      }
      return;
    }
    case 'distillation': {
      const truth: TruthAccount = {
        group,
        malicious: true,
        entity: camp.entity,
        labels: ['distillation', 'capability_probing', ...(camp.entity ? (['prohibited_entity'] as const) : [])],
      };
      const own = entityAsns(b, camp.entity);
      for (let i = 0; i < camp.accounts; i++) {
        const country = r.pick(camp.countries);
        const org = b.org(r, country, { owners: [{ name: personName(r), country, share: r.share(0.5, 1) }] });
        const servers = net.sameAsn({ country: r.pick(camp.countries), network_type: 'hosting' }, r.intRange(3, 12), r);
        if (own.length > 0 && stealth < 0.5) servers.push(net.address({ asn: r.pick(own) }, r));
        const created = begin - r.float() * 20 * DAY;
        const a = b.account({ org, created, country, use: r.pick(['research', 'internal', 'evaluation'] as const), verification: r.pick(['business', 'email'] as const), payment: b.payment(), signup: r.pick(servers), truth }, r);
        b.stream(a, g, {
          ratePerDay: r.lognormal(camp.rate, 0.3),
          tz: camp.utc_offset,
          hours: 'flat',
          weekdays: WEEKDAYS_ALL,
          surges: b.surges(camp.release_surge, 4),
          content: [
            { ...cot(c, 2), zh: 0.2 },
            sweep(c.mmlu, COT_TEMPLATES, 700, 1, COT_SYSTEMS),
            sweep(c['mt-bench'], ['{item}'], 800, 0.5),
            { ...coding(c, camp.tools_share * 5, 0.1), tools: [4, 20], turns: [4, 40] },
            { ...chat(c, 1, 0.2), corpora: [c['arena-hard'], c['self-instruct']] },
          ],
          egress: [{ weight: 1, pool: servers, rotate: 'request' }],
          endpoint: b.endpoint(r, 0.5),
          userAgents: UA_PIPELINE,
          sessionLen: r.range(10, 40),
          gapSec: 2,
          streamShare: 0,
        }, Math.max(created, begin));
      }
      return;
    }
    case 'region_evasion': {
      const truth: TruthAccount = { group, malicious: true, entity: null, labels: ['region_evasion'] };
      const pool = camp.pool ? b.pool(camp.pool) : [];
      for (let i = 0; i < camp.accounts; i++) {
        const home = r.pick(camp.home_countries);
        const declared = r.pick(camp.declared_countries);
        const vpnCountry = r.pick(['JP', 'SG', 'US', 'NL', 'DE', 'KR']);
        const vpn = [net.vpnAddress(vpnCountry, r), net.vpnAddress(vpnCountry, r)];
        const leak = net.address({ country: home, network_type: r.chance(0.5) ? 'residential' : 'mobile' }, r);
        const created = begin + r.float() * (b.end - begin) * 0.5;
        const a = b.account(
          { created, country: declared, use: r.pick(['consumer', 'internal', 'unknown'] as const), verification: r.pick(['email', 'phone', 'email'] as const), payment: r.chance(0.7) ? b.payment() : undefined, paymentCountry: r.pick([declared, 'HK', 'US']), signup: r.chance(0.5) || pool.length === 0 ? vpn[0]! : r.pick(pool), truth },
          r,
        );
        const zh = home === 'CN' ? 0.6 : 0.02;
        const egress: EgressSpec[] = [
          { weight: 1 - camp.leak_rate - (pool.length ? 0.3 : 0), pool: vpn, rotate: 'session' },
          { weight: camp.leak_rate, pool: [leak], rotate: 'session' },
        ];
        if (pool.length) egress.push({ weight: 0.3, pool, rotate: 'session' });
        b.stream(a, g, {
          ratePerDay: r.lognormal(camp.rate, 0.8),
          tz: tzOf(home, r),
          hours: r.pick(['office', 'evening'] as HourShape[]),
          weekdays: WEEKDAYS_ALL,
          content: [chat(c, 1, zh), coding(c, 0.6, zh)],
          egress,
          endpoint: b.endpoint(r),
          sessionLen: r.range(2, 10),
          gapSec: r.range(15, 90),
        }, created);
      }
      return;
    }
    case 'key_sharing': {
      const truth: TruthAccount = { group, malicious: true, entity: null, labels: ['key_sharing'] };
      // The owner's own use, before and after the resale, is not the campaign: it streams in a
      // group of its own (`owner-use:…`), so the campaign's timeline (time to detect, requests
      // until then) counts the buyers' requests only.
      const ownUse = b.group(group.replace(/^campaign:/, 'owner-use:'));
      for (let i = 0; i < camp.accounts; i++) {
        const country = r.pick(['US', 'GB', 'DE', 'CA', 'FR']);
        const home = net.address({ country, network_type: 'residential' }, r);
        const a = b.account({ created: b.start - r.float() * 300 * DAY, country, use: r.pick(['internal', 'consumer'] as const), verification: r.pick(['email', 'phone'] as const), payment: b.payment(), signup: home, truth }, r);
        const tz = tzOf(country, r);
        b.stream(a, ownUse, {
          ratePerDay: r.lognormal(camp.rate, 0.6),
          tz,
          hours: 'evening',
          weekdays: WEEKDAYS_ALL,
          content: [chat(c, 1, 0.02), coding(c, 0.5, 0.02)],
          egress: [{ weight: 1, pool: [home], rotate: 'session' }],
          endpoint: 'messages',
        }, b.start);
        // After the resale, each buyer uses the same key from its own place and client.
        const resold = begin + r.float() * DAY;
        for (let k = 0; k < camp.sharers; k++) {
          const bc = r.pick(camp.countries);
          const place = net.address({ country: bc, network_type: r.pick(['residential', 'mobile', 'hosting'] as NetworkType[]) }, r);
          b.stream(a, g, {
            ratePerDay: r.lognormal(camp.sharer_rate, 0.6),
            tz: tzOf(bc, r),
            hours: r.pick(['evening', 'office'] as HourShape[]),
            weekdays: WEEKDAYS_ALL,
            content: [chat(c, 1, 0.05), coding(c, 0.5, 0.05)],
            egress: [{ weight: 1, pool: [place], rotate: 'session' }],
            endpoint: 'messages',
            userAgents: [r.pick(SDK_UAS)],
          }, resold + r.exp(DAY));
        }
      }
      return;
    }
  }
}

/** Builds every account and traffic stream of a scenario (no I/O besides reading the corpora). */
export function buildWorld(s: Scenario, deps: BuildDeps): World {
  const b = new Builder(s, deps);
  try {
    for (const p of s.populations) addPopulation(b, p);
    for (const c of s.campaigns) addCampaign(b, c);
  } catch (e) {
    b.accounts.dispose();
    throw e;
  }
  const spill = b.accounts;
  return {
    scenario: s,
    accounts: () => spill.sorted(),
    accountCount: spill.size,
    dispose: () => spill.dispose(),
    streams: b.streams,
    groups: b.groups,
    watchlist: WatchlistSchema.parse(s.watchlist),
    start: b.start,
    end: b.end,
  };
}

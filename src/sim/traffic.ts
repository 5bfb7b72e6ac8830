/**
 * Per-stream request generators. A stream is one source of traffic on one account (its owner,
 * the buyers of a resold key, a reseller's end users): sessions start as an inhomogeneous
 * Poisson process shaped by local working hours, weekdays and release surges (drawn by
 * thinning), and each session sends a geometric number of requests a few seconds apart.
 */
import { extractFeatures, type UsageEvent, type Endpoint, type PromptFeaturesV1 } from '../core/index.js';
import type { Corpus, Prompt } from './corpus.js';
import type { Egress } from './networks.js';
import { hash32, Rng } from './rng.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Relative activity by local hour, 0..23. */
export const HOUR_SHAPES = {
  office: [0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.15, 0.4, 0.8, 1, 1, 1, 0.7, 0.9, 1, 1, 0.95, 0.8, 0.5, 0.3, 0.25, 0.2, 0.15, 0.08],
  evening: [0.4, 0.2, 0.08, 0.04, 0.03, 0.03, 0.06, 0.15, 0.25, 0.35, 0.4, 0.45, 0.5, 0.45, 0.45, 0.5, 0.55, 0.65, 0.8, 0.95, 1, 1, 0.9, 0.7],
  student: [0.6, 0.45, 0.25, 0.1, 0.04, 0.03, 0.04, 0.08, 0.2, 0.35, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.85, 0.9, 1, 1, 0.95, 0.8],
  global: [0.55, 0.5, 0.5, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1, 1, 1, 1, 1, 1, 1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6],
  flat: new Array<number>(24).fill(1),
} as const;
export type HourShape = keyof typeof HOUR_SHAPES;

export interface ContentSpec {
  weight: number;
  /** Prompts come from these corpora (picked uniformly by corpus, then by prompt). */
  corpora: Corpus[];
  /**
   * `free`: a random prompt; `template`: a template around a random prompt; `sweep`: the next
   * prompt of a taxonomy walk (subject by subject, in order); `assignment`: one of the few
   * problems of the current week's assignment (the same for every stream of the plan).
   */
  mode: 'free' | 'template' | 'sweep' | 'assignment';
  /** Templates with `{item}`; a stream keeps the one it drew (an app's prompt template). */
  templates?: string[];
  /** System prompts; a stream keeps the one it drew. Empty string means none. */
  systems?: string[];
  /** Probability of a Chinese prompt where the corpus has some. */
  zh?: number;
  tools?: [number, number];
  turns?: [number, number];
  /** Median output tokens. */
  output: number;
  /** End-user ids sent with these requests (a reseller's or an app's users). */
  endUsers?: string[];
  /** Problems per weekly assignment (mode `assignment`). */
  perAssignment?: number;
}

export interface EgressSpec {
  weight: number;
  pool: readonly Egress[];
  /** `session`: one address per session; `request`: a new address per request (rotating proxies). */
  rotate: 'session' | 'request';
}

export interface StreamPlan {
  start: number;
  end: number;
  /** Mean requests per active day (before shape, weekday and surge factors). */
  ratePerDay: number;
  /** Mean requests per session (≥ 1). */
  sessionLen: number;
  /** Sessions have about `sessionLen` requests (±20%) instead of a geometric number (benchmark sweeps). */
  fixedSessions?: boolean;
  /** Mean seconds between requests of a session. */
  gapSec: number;
  tz: number;
  hours: HourShape;
  /** Activity by local weekday, Sunday first. */
  weekdays: readonly number[];
  surges: { at: number; factor: number; days: number }[];
  content: ContentSpec[];
  egress: EgressSpec[];
  endpoint: Endpoint;
  models: readonly string[];
  userAgents: readonly string[];
  /** Never more requests than this on one UTC day. */
  maxPerDay?: number;
  streamShare: number;
  /** Seed shared by the streams of one plan (assignment problems). */
  planSeed: number;
}

export interface StreamAccount {
  account_id: string;
  org_id?: string;
  key_id: string;
}

export const WEEKDAYS_WORK = [0.15, 1, 1, 1, 1, 1, 0.2] as const;
export const WEEKDAYS_ALL = [0.8, 1, 1, 1, 1, 1, 0.85] as const;

const tokenCache = new Map<string, number>();
/** Token estimate of a corpus item, template or system prompt (cached: they repeat). */
function cachedTokens(s: string): number {
  let n = tokenCache.get(s);
  if (n === undefined) {
    n = estimateTokens(s);
    if (tokenCache.size < 100_000) tokenCache.set(s, n);
  }
  return n;
}

function estimateTokens(s: string): number {
  let cjk = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x2e80 && c <= 0x9fff) cjk++;
  }
  return Math.ceil((s.length - cjk) / 4 + cjk / 1.4);
}

/**
 * The prompt features a gateway would record for this text (`content: features`): the simulator
 * reuses its texts, so each (system, prompt, turns, tools) is extracted once (the cache is
 * bounded; a hit is the same object as a fresh extraction, shared read-only by the events).
 */
const featureCache = new Map<string, PromptFeaturesV1>();
function featuresOf(system: string, prompt: string, turns: number, tools: number): PromptFeaturesV1 {
  const key = `${turns}\u0000${tools}\u0000${system}\u0000${prompt}`;
  let f = featureCache.get(key);
  if (f === undefined) {
    if (featureCache.size >= 200_000) featureCache.clear();
    f = extractFeatures({ system, lastUser: prompt, turns, tools });
    featureCache.set(key, f);
  }
  return f;
}

/** The taxonomy walk of a corpus: subjects in name order, each subject's prompts in file order. */
const sweepCache = new WeakMap<Corpus, Prompt[]>();
function sweepOrder(c: Corpus): Prompt[] {
  let list = sweepCache.get(c);
  if (!list) {
    list = [...c.bySubject.keys()].sort().flatMap((k) => c.bySubject.get(k) ?? []);
    sweepCache.set(c, list);
  }
  return list;
}

const STATUS = [200, 429, 400, 529] as const;
const STATUS_W = [0.984, 0.01, 0.003, 0.003] as const;

export class Stream {
  /** Time of the next request (ms), or Infinity when the stream is done. */
  next = 0;
  private sessionLeft = 0;
  private egress: Egress | undefined;
  /** Index in `plan.egress` of the spec `egress` came from. */
  private egressSpec = -1;
  private readonly contentCum: number[];
  private readonly egressCum: number[];
  private sweepPos: number;
  private day = -1;
  private dayCount = 0;
  /** Fixes which template and system prompt of each content spec this stream uses. */
  private readonly choice: number;
  private readonly ua: string;
  private readonly shapeMax: number;
  private readonly shapeMean: number;
  private readonly maxFactor: number;

  constructor(
    readonly account: StreamAccount,
    readonly plan: StreamPlan,
    /** Index of the population or campaign (for per-group counters). */
    readonly group: number,
    private readonly rng: Rng,
  ) {
    this.contentCum = cumulative(plan.content.map((c) => c.weight));
    this.egressCum = cumulative(plan.egress.map((e) => e.weight));
    this.choice = rng.u32();
    this.ua = rng.pick(plan.userAgents);
    this.sweepPos = rng.int(1 << 20);
    const shape = HOUR_SHAPES[plan.hours];
    const mean = shape.reduce((a, b) => a + b, 0) / 24;
    this.shapeMean = mean;
    this.shapeMax = Math.max(...shape) / mean;
    this.maxFactor = Math.max(1, ...plan.surges.map((s) => s.factor)) * Math.max(...plan.weekdays);
    this.next = this.nextSessionStart(plan.start);
  }

  private intensity(t: number): number {
    const p = this.plan;
    const local = t + p.tz * HOUR;
    const h = Math.floor(local / HOUR) % 24;
    const shape = HOUR_SHAPES[p.hours];
    const mean = this.shapeMean;
    const wd = (Math.floor(local / DAY) + 4) % 7; // 1970-01-01 was a Thursday
    let f = ((shape[h] ?? 1) / mean) * (p.weekdays[wd] ?? 1);
    for (const s of p.surges) if (t >= s.at && t < s.at + s.days * DAY) f *= s.factor;
    return f;
  }

  private nextSessionStart(from: number): number {
    const p = this.plan;
    const sessionsPerMs = p.ratePerDay / p.sessionLen / DAY;
    const lambdaMax = sessionsPerMs * this.shapeMax * this.maxFactor;
    let t = from;
    for (;;) {
      t += this.rng.exp(1 / lambdaMax);
      if (t >= p.end) return Infinity;
      if (this.rng.float() * this.shapeMax * this.maxFactor < this.intensity(t)) return t;
    }
  }

  /** Produces the request at `this.next` and schedules the one after it. */
  emit(eventId: string, content: 'raw' | 'features' | 'none'): UsageEvent {
    const p = this.plan;
    const r = this.rng;
    const ts = this.next;
    if (this.sessionLeft <= 0) {
      this.egressSpec = -1;
      this.sessionLeft = p.fixedSessions
        ? Math.max(1, Math.round(p.sessionLen * r.range(0.8, 1.2)))
        : 1 + Math.floor(r.exp(p.sessionLen - 1 + 1e-9));
      this.egress = undefined;
    }
    const ci = pickCum(this.contentCum, r);
    const c = p.content[ci]!;
    const ei = pickCum(this.egressCum, r);
    const eg = p.egress[ei]!;
    let where = this.egress;
    if (eg.rotate === 'request' || !where || this.egressSpec !== ei) where = eg.pool[r.int(eg.pool.length)]!;
    if (eg.rotate === 'session') {
      this.egress = where;
      this.egressSpec = ei;
    }

    const { text, tokens } = this.promptFor(c, ci, ts);
    const system = this.pinned(c.systems, ci, 1) ?? '';
    const tools = c.tools ? r.intRange(c.tools[0], c.tools[1]) : 0;
    const turns = c.turns ? r.intRange(c.turns[0], c.turns[1]) : 1;
    const input = tokens + (system ? cachedTokens(system) : 0) + (turns - 1) * r.intRange(80, 400) + tools * 110;
    const status = r.weighted(STATUS, STATUS_W);
    const stream = r.chance(p.streamShare);
    const output = status === 200 ? Math.max(1, Math.round(r.lognormal(c.output, 0.6))) : 0;
    const aborted = status === 200 && stream && r.chance(0.01);
    const ev: UsageEvent = {
      event_id: eventId,
      ts: new Date(ts).toISOString(),
      account_id: this.account.account_id,
      ...(this.account.org_id ? { org_id: this.account.org_id } : {}),
      key_id: this.account.key_id,
      ip: where.ip,
      user_agent: this.ua,
      ...(c.endUsers?.length ? { end_user_id: r.pick(c.endUsers) } : {}),
      ...(where.country ? { country: where.country } : {}),
      ...(where.asn !== undefined ? { asn: where.asn } : {}),
      endpoint: p.endpoint,
      model: r.pick(p.models),
      stream,
      status,
      input_tokens: input,
      output_tokens: aborted ? Math.round(output * r.float()) : output,
      latency_ms: Math.round(250 + output * r.range(8, 25) + r.exp(200)),
      ...(aborted ? { aborted } : {}),
      turns,
      tools,
      ...(content === 'raw' && system ? { system } : {}),
      ...(content === 'raw' ? { prompt: text } : {}),
      ...(content === 'features' ? { features: featuresOf(system, text, turns, tools) } : {}),
    };

    // Schedule the next request.
    this.sessionLeft--;
    const day = Math.floor(ts / DAY);
    if (day !== this.day) {
      this.day = day;
      this.dayCount = 0;
    }
    this.dayCount++;
    let next =
      this.sessionLeft > 0 ? ts + 1000 * Math.max(0.3, r.exp(p.gapSec)) : this.nextSessionStart(ts + 1000 * p.gapSec);
    if (p.maxPerDay !== undefined && this.dayCount >= p.maxPerDay && next < (day + 1) * DAY) {
      this.sessionLeft = 0;
      next = this.nextSessionStart((day + 1) * DAY);
    }
    this.next = next >= p.end ? Infinity : next;
    return ev;
  }

  /** The item of `list` this stream keeps for content spec `ci` (an app's template, its system prompt). */
  private pinned(list: readonly string[] | undefined, ci: number, salt: number): string | undefined {
    if (!list?.length) return undefined;
    return list[hash32(`${ci}:${salt}`, this.choice) % list.length];
  }

  private promptFor(c: ContentSpec, ci: number, ts: number): { text: string; tokens: number } {
    const r = this.rng;
    let item: Prompt;
    if (c.mode === 'sweep') {
      const corpus = c.corpora[0]!;
      const order = sweepOrder(corpus);
      item = order[this.sweepPos++ % order.length]!;
    } else if (c.mode === 'assignment') {
      const corpus = c.corpora[0]!;
      // Weeks count from the Unix epoch so every student of a course is on the same assignment.
      const week = Math.floor(ts / (7 * DAY));
      const k = c.perAssignment ?? 5;
      const pickIdx = r.int(k);
      const idx = hash32(`${week}:${pickIdx}`, this.plan.planSeed) % corpus.prompts.length;
      item = corpus.prompts[idx]!;
    } else {
      const corpus = r.pick(c.corpora);
      const pool = c.zh !== undefined && corpus.zh.length > 0 ? (r.chance(c.zh) ? corpus.zh : corpus.other) : corpus.prompts;
      item = r.pick(pool.length ? pool : corpus.prompts);
    }
    const tpl = c.mode === 'free' ? '{item}' : (this.pinned(c.templates, ci, 0) ?? '{item}');
    if (tpl === '{item}') return { text: item.text, tokens: cachedTokens(item.text) };
    return { text: tpl.replace('{item}', item.text), tokens: cachedTokens(item.text) + cachedTokens(tpl) - 2 };
  }
}

const ONE = [1];
// Plain arrays, not typed ones: a typed array costs a few hundred bytes per stream.
const cumCache = new Map<string, number[]>();
/** Cumulative weights, shared by every stream with the same weights. */
function cumulative(ws: number[]): number[] {
  if (ws.length === 1) return ONE;
  const key = ws.join(',');
  let c = cumCache.get(key);
  if (!c) {
    let t = 0;
    c = ws.map((w) => (t += Math.max(0, w)));
    if (cumCache.size < 10_000) cumCache.set(key, c);
  }
  return c;
}
function pickCum(cum: number[], r: Rng): number {
  if (cum.length === 1) return 0;
  const x = r.float() * cum[cum.length - 1]!;
  for (let i = 0; i < cum.length; i++) if (x < cum[i]!) return i;
  return cum.length - 1;
}

/** A fresh stream RNG for stream `n` of a world. */
export function streamRng(seed: number, n: number): Rng {
  return Rng.derive(seed, 'stream', n);
}

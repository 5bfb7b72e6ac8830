/**
 * `warden simulate`: writes a world to a directory — accounts.jsonl, events.jsonl (time order),
 * truth.json, watchlist.yaml, networks.yaml (the intel part's customNetworks for the scenario's
 * fictional ranges) and manifest.json. Streams to disk: events are merged from per-stream
 * generators through a binary heap and written in chunks that wait for the disk.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { UsageEvent } from '../core/index.js';
import { LineWriter } from './jsonl.js';
import { Rng } from './rng.js';
import type { Scenario } from './scenario.js';
import { HOUR } from './traffic.js';
import { buildWorld, type BuildDeps, type World } from './world.js';

export interface SimProgress {
  phase: 'build' | 'accounts' | 'events' | 'done';
  accounts: number;
  events: number;
  /** Share of the simulated time span written so far, 0..1. */
  fraction: number;
  /** Simulated time reached (RFC 3339). */
  simTime?: string;
}

export interface SimulateOptions extends BuildDeps {
  onProgress?: (p: SimProgress) => void;
  /** Write `.jsonl.gz` instead of `.jsonl`. */
  gzip?: boolean;
  /** Progress is reported every this many events. */
  progressEvery?: number;
}

/** Extension of truth.json (an optional field; readers of the v1 format ignore it). */
export interface CampaignTimeline {
  /** First request of the campaign (RFC 3339), or null when it sent none. */
  first_request_at: string | null;
  accounts: number;
  requests: number;
  /** Start of hour 0 of `hourly_requests`. */
  hour0: string;
  /** Campaign requests in each hour from hour0 (for requests-before-detection). */
  hourly_requests: number[];
  /**
   * Campaign accounts created in each hour from hour0 (those created earlier count in hour 0):
   * no detector can flag an account before it exists, so this bounds how early a share of the
   * campaign's accounts can be flagged.
   */
  hourly_new_accounts: number[];
  /**
   * Campaign accounts sending their first campaign request in each hour from hour0. Until an
   * account is used nothing of the campaign shows through it (a resold key before its buyers'
   * first request, a stock account kept in reserve): with `hourly_new_accounts`, this tells a
   * detector's delay from the campaign's own pace.
   */
  hourly_first_requests: number[];
}

export interface SimResult {
  dir: string;
  files: { accounts: string; events: string; truth: string; watchlist: string; networks: string; manifest: string };
  accounts: number;
  events: number;
  bytes: number;
  groups: Record<string, { accounts: number; events: number }>;
}

/** Min-heap of stream indices keyed by their next request time (ties by index: deterministic). */
class StreamHeap {
  private readonly key: Float64Array;
  private readonly idx: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.key = new Float64Array(capacity);
    this.idx = new Int32Array(capacity);
  }
  private less(a: number, b: number): boolean {
    const ka = this.key[a]!;
    const kb = this.key[b]!;
    return ka < kb || (ka === kb && this.idx[a]! < this.idx[b]!);
  }
  private swap(a: number, b: number): void {
    const k = this.key[a]!;
    this.key[a] = this.key[b]!;
    this.key[b] = k;
    const i = this.idx[a]!;
    this.idx[a] = this.idx[b]!;
    this.idx[b] = i;
  }
  push(key: number, i: number): void {
    let n = this.size++;
    this.key[n] = key;
    this.idx[n] = i;
    while (n > 0) {
      const p = (n - 1) >> 1;
      if (!this.less(n, p)) break;
      this.swap(n, p);
      n = p;
    }
  }
  topIndex(): number {
    return this.idx[0]!;
  }
  /** Replaces the top's key (or removes it when key is Infinity) and restores the heap. */
  updateTop(key: number): void {
    if (key === Infinity) {
      this.size--;
      if (this.size === 0) return;
      this.key[0] = this.key[this.size]!;
      this.idx[0] = this.idx[this.size]!;
    } else this.key[0] = key;
    let n = 0;
    for (;;) {
      const l = 2 * n + 1;
      const r = l + 1;
      let m = n;
      if (l < this.size && this.less(l, m)) m = l;
      if (r < this.size && this.less(r, m)) m = r;
      if (m === n) break;
      this.swap(n, m);
      n = m;
    }
  }
}

const B32 = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Generates the scenario's world and writes it to `outDir`. */
export async function simulate(scenario: Scenario, outDir: string, opts: SimulateOptions): Promise<SimResult> {
  mkdirSync(outDir, { recursive: true });
  const ext = opts.gzip ? '.jsonl.gz' : '.jsonl';
  const files = {
    accounts: join(outDir, `accounts${ext}`),
    events: join(outDir, `events${ext}`),
    truth: join(outDir, 'truth.json'),
    watchlist: join(outDir, 'watchlist.yaml'),
    networks: join(outDir, 'networks.yaml'),
    manifest: join(outDir, 'manifest.json'),
  };
  const progress = opts.onProgress ?? (() => {});
  progress({ phase: 'build', accounts: 0, events: 0, fraction: 0 });
  const world = buildWorld(scenario, opts);
  try {
    const result = await writeWorld(world, files, progress, opts.progressEvery ?? 50_000);
    return { dir: outDir, files, ...result };
  } finally {
    world.dispose();
  }
}

/** How many of `times` fall in each hour from `start` (earlier ones in hour 0, later ones in the last). */
function hourlyCounts(times: number[], start: number, hours: number): number[] {
  const out = new Array<number>(hours).fill(0);
  for (const t of times) out[Math.min(hours - 1, Math.max(0, Math.floor((t - start) / HOUR)))]!++;
  return out;
}

async function writeWorld(
  world: World,
  files: SimResult['files'],
  progress: (p: SimProgress) => void,
  every: number,
): Promise<Omit<SimResult, 'dir' | 'files'>> {
  const s = world.scenario;
  // Accounts and truth.
  const accOut = new LineWriter(files.accounts);
  const truthOut = new LineWriter(files.truth);
  await truthOut.write('{"accounts":{');
  const groupStats: Record<string, { accounts: number; events: number }> = {};
  for (const g of world.groups) groupStats[g] ??= { accounts: 0, events: 0 };
  const campaignAccounts: Record<string, number> = {};
  const campaignCreated: Record<string, number[]> = {};
  /** Campaign accounts and their group (a campaign's stream can carry another account's requests: an intermediary's end users inside a declared reseller). */
  const campaignOf = new Map<string, string>();
  /** Each campaign's accounts' first campaign requests (events come in time order: the first seen is the first). */
  const campaignFirstUse: Record<string, number[]> = {};
  const used = new Set<string>();
  let i = 0;
  for (const { account_id, line, created, truth } of world.accounts()) {
    if (accOut.push(line)) await accOut.flush();
    if (truthOut.push(`${i ? ',' : ''}${JSON.stringify(account_id)}:${JSON.stringify(truth)}`)) await truthOut.flush();
    (groupStats[truth.group] ??= { accounts: 0, events: 0 }).accounts++;
    if (truth.malicious) {
      campaignOf.set(account_id, truth.group);
      campaignAccounts[truth.group] = (campaignAccounts[truth.group] ?? 0) + 1;
      (campaignCreated[truth.group] ??= []).push(created);
    }
    if (++i % every === 0) progress({ phase: 'accounts', accounts: i, events: 0, fraction: 0 });
  }
  await accOut.close();
  progress({ phase: 'accounts', accounts: i, events: 0, fraction: 0 });

  // Events, merged in time order.
  const hours = Math.ceil((world.end - world.start) / HOUR);
  const timelines = new Map<number, { first: number; n: number; hourly: Int32Array }>();
  world.groups.forEach((g, gi) => {
    if (g.startsWith('campaign:')) timelines.set(gi, { first: Infinity, n: 0, hourly: new Int32Array(hours) });
  });
  const heap = new StreamHeap(world.streams.length);
  world.streams.forEach((st, k) => {
    if (st.next < Infinity) heap.push(st.next, k);
  });
  const evOut = new LineWriter(files.events);
  const idRng = Rng.derive(s.seed, 'event-ids');
  const span = world.end - world.start;
  let events = 0;
  while (heap.size > 0) {
    const k = heap.topIndex();
    const st = world.streams[k]!;
    const ts = st.next;
    // 16 base-32 characters from three 32-bit draws (30 + 30 + 20 bits).
    let id = 'evt_';
    for (let c = 0; c < 3; c++) {
      let x = idRng.u32();
      for (let k = 0; k < (c < 2 ? 6 : 4); k++, x >>>= 5) id += B32[x & 31];
    }
    const ev: UsageEvent = st.emit(id, s.content);
    heap.updateTop(st.next);
    if (evOut.push(JSON.stringify(ev))) await evOut.flush();
    events++;
    const gname = world.groups[st.group]!;
    groupStats[gname]!.events++;
    const tl = timelines.get(st.group);
    if (tl) {
      if (ts < tl.first) tl.first = ts;
      tl.n++;
      const h = Math.floor((ts - world.start) / HOUR);
      if (h >= 0 && h < hours) tl.hourly[h]!++;
      if (ev.account_id && campaignOf.get(ev.account_id) === gname && !used.has(ev.account_id)) {
        used.add(ev.account_id);
        (campaignFirstUse[gname] ??= []).push(ts);
      }
    }
    if (events % every === 0) {
      progress({ phase: 'events', accounts: i, events, fraction: Math.min(1, (ts - world.start) / span), simTime: new Date(ts).toISOString() });
    }
  }
  await evOut.close();

  // Campaign timelines (merged by group name), then close truth.json.
  const campaigns: Record<string, CampaignTimeline> = {};
  world.groups.forEach((g, gi) => {
    const tl = timelines.get(gi);
    if (!tl) return;
    const cur = (campaigns[g] ??= {
      first_request_at: null,
      accounts: campaignAccounts[g] ?? 0,
      requests: 0,
      hour0: new Date(world.start).toISOString(),
      hourly_requests: new Array<number>(hours).fill(0),
      hourly_new_accounts: hourlyCounts(campaignCreated[g] ?? [], world.start, hours),
      hourly_first_requests: hourlyCounts(campaignFirstUse[g] ?? [], world.start, hours),
    });
    if (tl.first < Infinity && (cur.first_request_at === null || tl.first < Date.parse(cur.first_request_at))) {
      cur.first_request_at = new Date(tl.first).toISOString();
    }
    cur.requests += tl.n;
    for (let h = 0; h < hours; h++) cur.hourly_requests[h]! += tl.hourly[h]!;
  });
  await truthOut.write(`},"campaigns":${JSON.stringify(campaigns)},"scenario":${JSON.stringify({ name: s.name, seed: s.seed, start: s.start, days: s.days })}}`);
  await truthOut.close();

  await writeFile(files.watchlist, toYaml(world.watchlist));
  await writeFile(
    files.networks,
    `# The scenario's fictional networks in the intel part's customNetworks shape.\n` +
      toYaml({ customNetworks: s.custom_networks.map((n) => ({ ...n })) }),
  );
  const bytes = accOut.bytes + evOut.bytes + truthOut.bytes;
  await writeFile(
    files.manifest,
    JSON.stringify(
      { scenario: s.name, seed: s.seed, start: s.start, days: s.days, accounts: i, events, bytes, generated_by: 'warden simulate', format: 'interchange v1' },
      null,
      2,
    ) + '\n',
  );
  progress({ phase: 'done', accounts: i, events, fraction: 1 });
  return { accounts: i, events, bytes, groups: groupStats };
}

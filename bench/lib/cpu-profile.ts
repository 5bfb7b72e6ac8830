/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by module
 * (a package in node_modules, a file of ours, a node: internal, or V8's own buckets such as
 * "(garbage collector)"), so the benchmark can say where a gateway's time goes.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTimeRow {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Time outside "(idle)". */
  busyMs: number;
  functions: SelfTimeRow[];
  modules: SelfTimeRow[];
  /**
   * Inclusive time of our own functions (not node_modules, not node:): every sample counts once
   * for each distinct function of ours on its stack. Async functions count only their synchronous
   * stretches (after an await the stack starts again from the microtask queue).
   */
  inclusive: SelfTimeRow[];
}

/** Where a frame's code lives, shortened: `undici`, `src/gateway/proxy.ts`, `node:internal/…`. */
export function moduleOf(url: string, root: string): string {
  if (!url) return '(native/V8)';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (u.startsWith(root)) u = u.slice(root.length).replace(/^\//, '');
  u = u.replace(/^dist\//, 'dist/');
  return u;
}

/**
 * `window`: only samples within [fromUs, toUs] of the monotonic clock (`process.hrtime`, which
 * V8's profiler timestamps use on Linux), e.g. the load phase without start-up.
 */
export function summarizeCpuProfile(file: string, root: string, top = 25, window?: { fromUs: number; toUs: number }): ProfileSummary & { windowed: boolean } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Self time per node from the samples and their time deltas (hitCount × interval is coarser).
  const self = new Map<number, number>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inWindow = window !== undefined && p.startTime <= window.toUs && p.endTime >= window.fromUs;
  if (p.samples && p.timeDeltas) {
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (inWindow && (t < window.fromUs || t > window.toUs)) continue;
      const dt = p.timeDeltas[i + 1] ?? 0;
      self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
    }
  } else {
    const total = p.endTime - p.startTime;
    const hits = p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
    for (const n of p.nodes) self.set(n.id, ((n.hitCount ?? 0) * total) / hits);
  }
  const fn = new Map<string, SelfTimeRow>();
  const mod = new Map<string, SelfTimeRow>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    totalUs += us;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    const m = name.startsWith('(') && !n.callFrame.url ? name : moduleOf(n.callFrame.url, root);
    const where = n.callFrame.url ? `${moduleOf(n.callFrame.url, root)}:${n.callFrame.lineNumber + 1}` : '';
    const fk = `${name}@${where}`;
    const fr = fn.get(fk) ?? { name, where, selfMs: 0, share: 0 };
    fr.selfMs += us / 1000;
    fn.set(fk, fr);
    const mr = mod.get(m) ?? { name: m, where: '', selfMs: 0, share: 0 };
    mr.selfMs += us / 1000;
    mod.set(m, mr);
  }
  // Inclusive time of our own code, per distinct function on each sampled stack.
  const incl = new Map<string, SelfTimeRow>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || !n.callFrame.url.replace(/^file:\/\//, '').startsWith(root) || n.callFrame.url.includes('/node_modules/')) continue;
      const where = `${moduleOf(n.callFrame.url, root)}:${n.callFrame.lineNumber + 1}`;
      const name = n.callFrame.functionName || '(anonymous)';
      const k = `${name}@${where}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const r = incl.get(k) ?? { name, where, selfMs: 0, share: 0 };
      r.selfMs += us / 1000;
      incl.set(k, r);
    }
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const finish = (rows: Iterable<SelfTimeRow>) =>
    [...rows]
      .map((r) => ({ ...r, share: busyMs > 0 ? r.selfMs / busyMs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top);
  return { totalMs: totalUs / 1000, busyMs, functions: finish(fn.values()), modules: finish(mod.values()), inclusive: finish(incl.values()), windowed: inWindow };
}

const nf = new Intl.NumberFormat('en-US');
const cf = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const num = (n: number | undefined | null): string => (n == null ? '—' : nf.format(n));
export const compact = (n: number | undefined | null): string => (n == null ? '—' : n < 10_000 ? nf.format(n) : cf.format(n));
export const pct = (n: number | undefined | null, digits = 0): string => (n == null ? '—' : `${(n * 100).toFixed(digits)}%`);
export const score = (n: number | undefined | null): string => (n == null ? '—' : n.toFixed(2));

export function dateTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return iso;
  if (s < 0) return 'in the future';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}

export const words = (s: string): string => s.replaceAll('_', ' ');

/**
 * Every step between the first and the last bucket, missing ones as zeros, and at least
 * `minCount` buckets ending at the last: a chart of one busy hour still shows the day around it.
 */
export function fillSeries<T extends { at: string }>(buckets: readonly T[], stepMs: number, minCount: number, zero: (at: string) => T): T[] {
  if (!buckets.length) return [];
  const by = new Map(buckets.map((b) => [Math.floor(Date.parse(b.at) / stepMs) * stepMs, b]));
  const keys = [...by.keys()].sort((a, b) => a - b);
  const last = keys[keys.length - 1]!;
  const first = Math.min(keys[0]!, last - (minCount - 1) * stepMs);
  const out: T[] = [];
  for (let t = first; t <= last; t += stepMs) out.push(by.get(t) ?? zero(new Date(t).toISOString()));
  return out;
}

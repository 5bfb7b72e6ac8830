/**
 * Text the CLI prints: `warden intel ip`, `warden intel sources`, `warden screen`.
 */
import type { IntelSource, IpInfo, ScreeningQuery, ScreeningResult } from '../core/index.js';
import { ageDays } from './sources.js';

/** What Warden knows about an address and why (`warden intel ip 47.74.0.1`). */
export function describeIp(info: IpInfo): string {
  const lines = [
    info.ip,
    `  country       ${info.country ?? 'unknown'}`,
    `  asn           ${info.asn !== undefined ? `AS${info.asn} ${info.as_org ?? ''}`.trim() : 'unknown'}`,
    `  network type  ${info.network_type}`,
    `  anonymizers   ${info.anonymizers.length ? info.anonymizers.join(', ') : 'none known'}`,
    `  labels        ${info.labels.length ? info.labels.join(', ') : 'none'}`,
    'why:',
    ...info.why.map((w) => `  - ${w}`),
  ];
  return lines.join('\n');
}

/** Each source with its date and age in days (`warden intel sources`). */
export function formatSources(sources: IntelSource[], now: Date = new Date()): string {
  const rows = sources.map((s) => [s.name, s.date, `${ageDays(s.date, now)} d`, String(s.entries), s.licence]);
  const head = ['source', 'date', 'age', 'entries', 'licence'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

/** Hits and why (`warden screen NAME [--domain D] [--watchlist FILE]`). */
export function formatScreening(query: ScreeningQuery, result: ScreeningResult): string {
  const lines: string[] = [];
  const what = [query.name, ...(query.domains?.length ? [`domains ${query.domains.join(', ')}`] : [])].join(', ');
  const status =
    result.status === 'clear'
      ? 'CLEAR: no list or watchlist entry matched'
      : result.status === 'hit'
        ? `HIT: ${result.hits.filter((h) => h.matched_on !== 'owner' && h.matched_on !== 'ownership').length} matching entr${result.hits.length === 1 ? 'y' : 'ies'}`
        : `RESTRICTED OWNERSHIP: ${Math.round((result.restricted_ownership_share ?? 0) * 1000) / 10}% owned by restricted parties`;
  lines.push(`${what}`, `  ${status}`);
  if (result.restricted_ownership_share !== undefined && result.status !== 'restricted_ownership') {
    lines.push(`  owned ${Math.round(result.restricted_ownership_share * 1000) / 10}% by restricted parties (the 50% rule applies at 50%)`);
  }
  for (const h of result.hits) {
    lines.push(`  - ${h.entity_name} [${h.entity_id}] ${h.list}, ${h.kind}, score ${h.score.toFixed(2)}, on ${h.matched_on}`);
    lines.push(`      ${h.explanation}`);
  }
  lines.push(`  lists: ${result.lists_version}; screened at ${result.screened_at}`);
  return lines.join('\n');
}

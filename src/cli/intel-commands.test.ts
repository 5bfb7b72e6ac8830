import { describe, expect, it } from 'vitest';
import { exportStixBundle, importStixBundle, type StixImportRecord } from '../cases/index.js';
import { formatImport, formatIndicatorRows, importedIndicatorRows } from './intel-commands.js';

function record(validUntil?: string): StixImportRecord {
  const bundle = exportStixBundle({
    provider: { name: 'Other Provider' },
    case: { case_id: 'case_1', title: 'Cluster cl_1', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-02T00:00:00Z', score: 0.9 },
    entity: { id: 'example-conglomerate', name: 'Example Conglomerate Group Holding Ltd', aliases: ['Example Group'] },
    indicators: { asns: [64500], device_fingerprints: ['dev_1'] },
    ...(validUntil ? { valid_until: validUntil } : {}),
  });
  const r = importStixBundle(bundle);
  return { bundle_id: r.bundle_id, imported_at: '2026-01-03T00:00:00Z', imported_by: 'admin', indicators: r.indicators, identities: r.identities, problems: r.problems };
}

describe('warden intel import / indicators output', () => {
  it('prints counts per kind, the sender, the identity and every rejected object with its reason', () => {
    const text = formatImport({
      bundle_id: 'bundle--1',
      indicators: 3,
      identities: 2,
      by_kind: { asn: 1, device_fingerprint: 2 },
      senders: ['Other Provider'],
      attributed_to: ['Example Conglomerate Group Holding Ltd'],
      problems: [{ index: 7, id: 'indicator--x', message: 'pattern_type "yara" is not "stix"' }],
      replaced: false,
    });
    expect(text).toContain('Imported bundle--1: 3 indicator(s) (1 asn, 2 device_fingerprint), 2 identities, 1 rejected object(s).');
    expect(text).toContain('from: Other Provider');
    expect(text).toContain('attributed to: Example Conglomerate Group Holding Ltd');
    expect(text).toContain('rejected objects[7] indicator--x: pattern_type "yara" is not "stix"');
  });

  it('lists imported indicators as detection reads them, marking expired ones', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const rows = importedIndicatorRows([record(), record('2026-03-01T00:00:00Z')], now);
    expect(rows.length).toBe(4);
    const live = rows.filter((r) => !r.expired);
    expect(live.map((r) => r.kind).sort()).toEqual(['asn', 'device_fingerprint']);
    for (const r of rows) expect(r).toMatchObject({ source: 'Other Provider', identity: 'Example Conglomerate Group Holding Ltd', confidence: 0.9 });
    const text = formatIndicatorRows(rows, 2);
    expect(text).toMatch(/asn\s+64500\s+0\.90\s+Other Provider/);
    expect(text).toContain('(expired)');
    expect(text).toContain('4 indicator(s) from 2 bundle(s).');
    expect(formatIndicatorRows([], 2)).toMatch(/No imported indicators in force \(2 bundle/);
  });
});

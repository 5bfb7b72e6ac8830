import { describe, expect, it } from 'vitest';
import { exportStixBundle, importStixBundle, STIX_IMPORTS_BLOB, type StixImportRecord } from '../cases/index.js';
import { compilePolicy, makeRequestContext } from '../policy/index.js';
import { startImportedIndicatorPolicy } from './imported-policy.js';

const POLICY = `
rules:
  - id: shared-actor-network
    when: { indicator_match: { kinds: [ip_range], min_confidence: 0.5 } }
    decide: monitor
`;

function record(): StixImportRecord {
  const r = importStixBundle(
    exportStixBundle({
      provider: { name: 'Other Provider' },
      case: { case_id: 'c1', title: 't', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z', score: 0.8 },
      indicators: { ip_ranges: ['203.0.113.0/24'] },
    }),
  );
  return { bundle_id: r.bundle_id, imported_at: '2026-01-02T00:00:00Z', imported_by: 'admin', indicators: r.indicators, identities: r.identities, problems: r.problems };
}

describe('the policy with imported indicators', () => {
  it('passes the policy through without imports, and marks matching requests once a bundle is stored', async () => {
    const blobs = new Map<string, Buffer>();
    const inner = compilePolicy(POLICY, { version: 3, file: 'p.yaml' });
    const p = startImportedIndicatorPolicy({ store: { getBlob: async (k) => blobs.get(k) ?? null }, current: () => inner, log: { warn: () => undefined } });
    try {
      await p.refresh();
      expect(p.policy()).toBe(inner);
      blobs.set(STIX_IMPORTS_BLOB, Buffer.from(JSON.stringify([record()])));
      await p.refresh();
      const wrapped = p.policy();
      expect(wrapped).not.toBe(inner);
      expect(p.policy()).toBe(wrapped); // cached: no allocation per request
      expect(wrapped.version).toBe(3);
      expect(wrapped.decide(makeRequestContext({ client: { ip: '203.0.113.40' } })).rule).toBe('shared-actor-network@3');
      expect(wrapped.decide(makeRequestContext({ client: { ip: '198.51.100.40' } })).decision).toBe('allow');
    } finally {
      p.close();
    }
  });
});

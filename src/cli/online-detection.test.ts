import { describe, expect, it } from 'vitest';
import type { ClusterVerdict } from '../core/index.js';
import { clusterAlerts } from './detection-outcome.js';

const cluster = (over: Partial<ClusterVerdict> = {}): ClusterVerdict => ({
  cluster_id: 'cl_1',
  members: ['b', 'a'],
  labels: ['hydra_cluster'],
  risk: 0.9,
  recommended_action: 'block',
  evidence: [{ code: 'shared_payment_fingerprint', detail: '2 accounts share a card', weight: 0.4 }],
  ...over,
});

describe('cluster alerts', () => {
  it('raises alerts only for clusters recommended step_up or block', () => {
    const alerts = clusterAlerts([cluster(), cluster({ cluster_id: 'cl_2', recommended_action: 'monitor' }), cluster({ cluster_id: 'cl_3', recommended_action: 'none' }), cluster({ cluster_id: 'cl_4', recommended_action: 'step_up' })], '2026-11-01T00:00:00Z');
    expect(alerts.map((a) => a.subjects.cluster_id)).toEqual(['cl_1', 'cl_4']);
    expect(alerts[0]!.subjects.accounts).toEqual(['a', 'b']);
  });
  it('gives the same finding the same id, and a grown cluster a new one', () => {
    const [a] = clusterAlerts([cluster()], '2026-11-01T00:00:00Z');
    const [b] = clusterAlerts([cluster({ members: ['a', 'b'] })], '2026-11-02T00:00:00Z');
    const [c] = clusterAlerts([cluster({ members: ['a', 'b', 'c'] })], '2026-11-02T00:00:00Z');
    expect(b!.alert_id).toBe(a!.alert_id);
    expect(c!.alert_id).not.toBe(a!.alert_id);
  });
});

import { describe, expect, it } from 'vitest';
import type { AccountRecord, Alert, Case } from '../../core/index.js';
import { caseGraph, ipPrefix } from './graph.js';

const kase = (accounts: string[], entity?: string): Case => ({
  case_id: 'case_1',
  title: 't',
  severity: 'high',
  status: 'open',
  created_at: '2026-03-01T00:00:00Z',
  updated_at: '2026-03-01T00:00:00Z',
  version: 1,
  accounts,
  clusters: ['cl_1'],
  ...(entity ? { entity } : {}),
  alerts: [],
  notes: [],
  snapshots: [],
  actions: [],
  timeline: [],
  score: 0.9,
});
const account = (id: string, over: Partial<AccountRecord> = {}): AccountRecord => ({ account_id: id, org_id: 'org_1', status: 'active', created_at: 'x', ...over });

describe('caseGraph', () => {
  it('links accounts through what two or more of them share in their records, not what one alone has', () => {
    const accounts = new Map([
      ['a', account('a', { payment_fingerprint: 'pf_1', signup_ip: '203.0.113.9', device_fingerprint: 'df_only_a' })],
      ['b', account('b', { payment_fingerprint: 'pf_1', signup_ip: '203.0.113.200' })],
      ['c', account('c', { signup_ip: '2001:db8:1:2::5' })],
    ]);
    const g = caseGraph({ case: kase(['a', 'b', 'c']), alerts: [], accounts, risk: new Map([['a', { account_id: 'a', risk: 0.8, labels: [], cluster_id: 'cl_1', updated_at: 'x' }]]) });
    expect(g.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c', 'ip_prefix:203.0.113.0/24', 'payment:pf_1']);
    expect(g.nodes[0]).toEqual({ id: 'a', kind: 'account', label: 'a', cluster_id: 'cl_1', risk: 0.8 });
    expect(g.edges.map((e) => `${e.source}->${e.target}`)).toEqual(['a->ip_prefix:203.0.113.0/24', 'b->ip_prefix:203.0.113.0/24', 'a->payment:pf_1', 'b->payment:pf_1']);
  });

  it('ignores alerts an analyst called false positive, and links an attributed entity', () => {
    const alert = (id: string, accounts: string[], over: Partial<Alert> = {}): Alert => ({ alert_id: id, detector: 'd', subjects: { accounts, entity: 'wl:x' }, score: 1, evidence: [], indicators: { asns: [64500] }, created_at: 'x', ...over });
    const g = caseGraph({
      case: kase(['a', 'b'], 'wl:x'),
      alerts: [alert('al_1', ['a', 'b'], { disposition: { verdict: 'false_positive', reason: 'r', by: 'ana', at: 'x' } }), alert('al_2', ['a'])],
      accounts: new Map(),
      risk: new Map(),
    });
    expect(g.nodes.map((n) => n.id)).toEqual(['a', 'b', 'entity:wl:x']);
    expect(g.edges.map((e) => e.source)).toEqual(['a']);
  });

  it('stops at the node cap and counts what it left out', () => {
    const ids = Array.from({ length: 600 }, (_, i) => `acc_${String(i).padStart(3, '0')}`);
    const accounts = new Map(ids.map((id) => [id, account(id, { payment_fingerprint: 'pf_all' })]));
    const g = caseGraph({ case: kase(ids), alerts: [], accounts, risk: new Map() });
    expect(g.nodes).toHaveLength(500);
    expect(g.omitted).toBe(101);
    expect(g.nodes.every((n) => n.kind === 'account')).toBe(true);
  });
});

describe('ipPrefix', () => {
  it('groups IPv4 by /24 and IPv6 by /48', () => {
    expect(ipPrefix('198.51.100.77')).toBe('198.51.100.0/24');
    expect(ipPrefix('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(ipPrefix('not-an-ip')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import type { AccountVerdict } from '../core/index.js';
import { score, type SimTruth } from './score.js';

const v = (id: string, action: AccountVerdict['recommended_action'], extra: Partial<AccountVerdict> = {}): AccountVerdict => ({
  account_id: id,
  risk: 0.5,
  labels: [],
  recommended_action: action,
  reasons: [],
  ...extra,
});

const truth: SimTruth = {
  accounts: {
    c1: { group: 'campaign:hydra', malicious: true, entity: 'ent', labels: ['hydra_member'] },
    c2: { group: 'campaign:hydra', malicious: true, entity: 'ent', labels: ['hydra_member'] },
    c3: { group: 'campaign:hydra', malicious: true, entity: 'ent', labels: ['hydra_member'] },
    k1: { group: 'campaign:key_sharing', malicious: true, entity: null, labels: ['key_sharing'] },
    b1: { group: 'benign:dev', malicious: false, entity: null, labels: [] },
    b2: { group: 'benign:dev', malicious: false, entity: null, labels: [] },
    r1: { group: 'benign:reseller', malicious: false, entity: null, labels: ['reseller_customer_traffic'] },
  },
  campaigns: {
    'campaign:hydra': { first_request_at: '2026-01-01T00:00:00.000Z', accounts: 3, requests: 60, hour0: '2026-01-01T00:00:00.000Z', hourly_requests: [10, 20, 30], hourly_new_accounts: [2, 0, 1], hourly_first_requests: [0, 1, 1] },
  },
};

describe('score', () => {
  const r = score(
    {
      accounts: [
        v('c1', 'block', { attributed_entity: 'ent', first_flagged_at: '2026-01-01T01:30:00.000Z' }),
        v('c2', 'step_up', { attributed_entity: 'other', first_flagged_at: '2026-01-01T02:00:00.000Z' }),
        v('c3', 'monitor'),
        v('k1', 'step_up', { attributed_entity: 'ent' }),
        v('b1', 'block'),
        v('r1', 'monitor', { end_user_ids: ['u_1'] }),
      ],
    },
    truth,
  );

  it('counts a campaign account as caught only at step_up or block', () => {
    expect(r.campaigns['campaign:hydra']!.recall).toBeCloseTo(2 / 3);
    expect(r.campaigns['campaign:hydra']!.recall_at.monitor).toBe(1);
    expect(r.campaigns['campaign:hydra']!.recall_at.block).toBeCloseTo(1 / 3);
    expect(r.true_positives).toBe(3);
  });

  it('reports benign false positives, and benign blocks on their own', () => {
    expect(r.false_positives).toBe(1);
    expect(r.benign_blocked).toBe(1);
    expect(r.populations['benign:dev']).toMatchObject({ accounts: 2, false_positives: 1, blocked: 1 });
    expect(r.precision).toBeCloseTo(3 / 4);
  });

  it('counts benign accounts flagged at some moment online, whose flag was later lifted, apart from false positives', () => {
    const t: SimTruth = { accounts: { b1: truth.accounts.b1!, b2: truth.accounts.b2!, b3: truth.accounts.b2! } };
    const s = score({ accounts: [v('b1', 'monitor', { first_flagged_at: '2026-01-01T01:00:00.000Z' }), v('b2', 'step_up'), v('b3', 'none')] }, t);
    expect(s.populations['benign:dev']).toMatchObject({ accounts: 3, false_positives: 1, flagged_online: 2 });
    expect(s.benign_flagged_online).toBe(2);
    expect(s.false_positives).toBe(1);
  });

  it('treats an account missing from the verdicts as none', () => {
    expect(r.missing_verdicts).toBe(1);
    expect(r.populations['benign:dev']!.fp_rate).toBe(0.5);
  });

  it('credits attribution only to the right entity and counts any on a null-entity account as an error', () => {
    expect(r.attribution.correct).toBe(1);
    expect(r.attribution.wrong_entity).toBe(1);
    expect(r.attribution.accuracy).toBeCloseTo(1 / 3);
    expect(r.attribution.errors_on_null_entity).toBe(1);
  });

  it('measures time to detect in simulated hours and campaign requests', () => {
    const t = r.campaigns['campaign:hydra']!.time_to_detect;
    expect(t.first).toMatchObject({ hours: 1.5, requests: 20, share: 20 / 60 });
    expect(t.p90).toBeNull();
  });

  it('bounds the 90% point by when 90% of the campaign\'s accounts existed', () => {
    // 3 accounts, all needed for 90%: the third is created in hour 2, after 10 + 20 requests.
    expect(r.campaigns['campaign:hydra']!.time_to_detect.p90_bound).toMatchObject({ hours: 2, requests: 30, share: 0.5 });
    // No account timeline in the truth file: no bound.
    expect(r.campaigns['campaign:key_sharing']!.time_to_detect.p90_bound).toBeNull();
  });

  it('gives the moment 90% of the campaign\'s accounts had sent a request, and none when fewer ever did', () => {
    // Only two of the three ever sent one: 90% were never all in use.
    expect(r.campaigns['campaign:hydra']!.time_to_detect.p90_used).toBeNull();
    // All three created in hour 0, the last first used in hour 2: after 10 + 20 requests.
    const tl = { ...truth.campaigns!['campaign:hydra']!, hourly_new_accounts: [3, 0, 0], hourly_first_requests: [1, 1, 1] };
    const t = score({ accounts: [] }, { ...truth, campaigns: { 'campaign:hydra': tl } }).campaigns['campaign:hydra']!.time_to_detect;
    expect(t.p90_bound).toMatchObject({ hours: 0, requests: 0, share: 0 });
    expect(t.p90_used).toMatchObject({ hours: 2, requests: 30, share: 0.5 });
    // No first-request timeline in the truth file (one written before it existed): none.
    expect(score({ accounts: [] }, { ...truth, campaigns: { 'campaign:hydra': { ...tl, hourly_first_requests: undefined } } }).campaigns['campaign:hydra']!.time_to_detect.p90_used).toBeNull();
    expect(r.campaigns['campaign:key_sharing']!.time_to_detect.p90_used).toBeNull();
  });

  it('checks the reseller with campaign end users is monitored with their ids, not blocked', () => {
    expect(r.populations['benign:reseller']!.reseller_customer_traffic).toEqual({ accounts: 1, monitored_with_end_users: 1, blocked: 0 });
  });
});

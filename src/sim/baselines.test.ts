import { describe, expect, it } from 'vitest';
import type { Account, UsageEvent } from '../core/index.js';
import { outlierBaseline, thresholdBaseline } from './baselines.js';

const acc = (id: string): Account => ({ account_id: id, created_at: '2026-01-01T00:00:00Z' });
function events(spec: { id: string; perHour: number; hours: number; ipPool?: number; tokens?: number }[]): UsageEvent[] {
  const out: UsageEvent[] = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (const s of spec) {
    for (let h = 0; h < s.hours; h++) {
      for (let i = 0; i < s.perHour; i++) {
        const ts = t0 + h * 3_600_000 + Math.floor((i * 3_600_000) / s.perHour);
        out.push({ event_id: `${s.id}-${h}-${i}`, ts: new Date(ts).toISOString(), account_id: s.id, ip: `198.51.100.${(i % (s.ipPool ?? 1)) + 1}`, input_tokens: s.tokens ?? 100, output_tokens: 100 });
      }
    }
  }
  return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

describe('threshold baseline', () => {
  it('steps up an account when it crosses the hourly limit, dated at the crossing request', async () => {
    const ev = events([
      { id: 'a', perHour: 10, hours: 3 },
      { id: 'b', perHour: 30, hours: 3 },
    ]);
    const v = await thresholdBaseline({ requestsPerHour: 20, requestsPerDay: 10_000, blockFactor: 10 }).analyze({ accounts: [acc('a'), acc('b')], events: ev });
    const a = v.accounts.find((x) => x.account_id === 'a')!;
    const b = v.accounts.find((x) => x.account_id === 'b')!;
    expect(a.recommended_action).toBe('none');
    expect(b.recommended_action).toBe('step_up');
    const crossing = ev.filter((e) => e.account_id === 'b')[20]!;
    expect(b.first_flagged_at).toBe(crossing.ts);
  });

  it('blocks when a limit is exceeded by the block factor, and lists every account', async () => {
    const v = await thresholdBaseline({ requestsPerHour: 5, blockFactor: 2 }).analyze({
      accounts: [acc('a'), acc('z')],
      events: events([{ id: 'a', perHour: 30, hours: 1 }]),
    });
    expect(v.accounts.map((x) => [x.account_id, x.recommended_action])).toEqual([
      ['a', 'block'],
      ['z', 'none'],
    ]);
  });
});

describe('outlier baseline', () => {
  it('flags the one account whose features are far from everyone else, and not the others', async () => {
    const normal = Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, perHour: 2 + (i % 3), hours: 30, ipPool: 1 + (i % 2) }));
    const ev = events([...normal, { id: 'x', perHour: 3, hours: 30, ipPool: 90, tokens: 5000 }]);
    const v = await outlierBaseline().analyze({ accounts: [...normal.map((n) => acc(n.id)), acc('x')], events: ev });
    const flagged = v.accounts.filter((a) => a.recommended_action !== 'none').map((a) => a.account_id);
    expect(flagged).toEqual(['x']);
    const x = v.accounts.find((a) => a.account_id === 'x')!;
    expect(x.first_flagged_at).toBe('2026-01-02T00:00:00.000Z');
    expect(x.reasons[0]!.detail).toMatch(/z=/);
  });
});

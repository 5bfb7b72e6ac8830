import { describe, expect, it } from 'vitest';
import { isWardenError, type AccountRisk, type UsageEvent } from '../core/index.js';
import { createOnlineDetector } from './online.js';
import { account, event, fakeIntel, HOUR, ipOf, PROMPTS, T0 } from './test-world.js';

function traffic(): UsageEvent[] {
  const out: UsageEvent[] = [];
  for (let k = 0; k < 60; k++) {
    for (let i = 0; i < 4; i++) out.push(event(`h${i}`, T0 + k * HOUR + i, { ip: ipOf('hosting', 'SG', i), prompt: k % 2 ? PROMPTS.mcq(k) : PROMPTS.cot(k), system: PROMPTS.cotSystem, output_tokens: 900, input_tokens: 250 }));
    out.push(event('dev', T0 + k * HOUR + 9, { ip: ipOf('residential', 'US', 1), prompt: PROMPTS.chat(k), turns: 5 }));
  }
  return out;
}
const accounts = () => [...Array.from({ length: 4 }, (_, i) => account(`h${i}`, { payment_fingerprint: 'card_shared' })), account('dev', { payment_fingerprint: 'pm_dev' })];

describe('online detector', () => {
  it('reports risks through onRisk and flags the campaign accounts, not the developer', async () => {
    const seen: AccountRisk[] = [];
    const d = createOnlineDetector({ intel: fakeIntel(), onRisk: (r) => void seen.push(...r) });
    for (const a of accounts()) d.upsertAccount(a);
    for (const e of traffic()) d.ingest(e);
    const r = await d.evaluate();
    expect(seen).toEqual(r.risks);
    const risk = new Map(r.risks.map((x) => [x.account_id, x]));
    expect(risk.get('h0')!.risk).toBeGreaterThan(0.7);
    expect(risk.get('dev')!.risk).toBeLessThan(0.3);
    expect(r.clusters.some((c) => c.members.includes('h0') && c.members.includes('h3'))).toBe(true);
  });

  it('resumes from a checkpoint with the same result as an uninterrupted run', async () => {
    const ev = traffic();
    const half = Math.floor(ev.length / 2);
    const whole = createOnlineDetector({ intel: fakeIntel() });
    for (const a of accounts()) whole.upsertAccount(a);
    for (const e of ev) whole.ingest(e);
    const expected = await whole.evaluate();

    const first = createOnlineDetector({ intel: fakeIntel() });
    for (const a of accounts()) first.upsertAccount(a);
    for (const e of ev.slice(0, half)) first.ingest(e);
    const buf = first.checkpoint();
    const resumed = createOnlineDetector({ intel: fakeIntel() });
    resumed.restore(buf);
    expect(resumed.stats()).toEqual({ accounts: 5, events: half });
    for (const e of ev.slice(half)) resumed.ingest(e);
    const got = await resumed.evaluate();
    const strip = (x: typeof got) => ({ risks: x.risks.map((r) => ({ ...r, updated_at: '' })).sort((a, b) => a.account_id.localeCompare(b.account_id)), clusters: x.clusters });
    expect(strip(got)).toEqual(strip(expected));
  });

  it('refuses a buffer that is not a checkpoint', () => {
    const d = createOnlineDetector();
    let err: unknown;
    try {
      d.restore(Buffer.from('hello'));
    } catch (e) {
      err = e;
    }
    expect(isWardenError(err)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { DetectionEngine } from './engine.js';
import { account, event, fakeIntel, ipOf, PROMPTS, T0 } from './test-world.js';

/**
 * A replay (batch analysis, `warden eval`) re-scores an account at the next evaluation once its
 * traffic grew by 25% and 5 requests since its last score, or it showed a new client or place;
 * and on its next request while that score was just under an action's threshold. (Online,
 * `evaluateNow` reads every account with new traffic at each evaluation.)
 */
describe('re-scoring in a replay', () => {
  // Single-turn CoT prompts under a CoT system prompt, a minute apart (each half a minute past an
  // evaluation), from one hosting address, the 6th from a second client: distillation content
  // (0.45) from the 8th request, and from the 20th a sweep's first-day rate (over 0.7).
  const ev = (i: number) =>
    event('acc_r', T0 + 30_000 + i * 60_000, { ip: ipOf('hosting', 'US', 7), prompt: PROMPTS.cot(i), system: PROMPTS.cotSystem, turns: 1, output_tokens: 900, input_tokens: 250, ...(i >= 5 ? { user_agent: 'second-client/1.0' } : {}) });

  /** The request (1-based) after which the account was first flagged, re-scoring every minute. */
  function flaggedAfter(stepUpAt: number): number {
    const e = new DetectionEngine({ intel: fakeIntel(), evaluateEveryMs: 60_000, stepUpAt, blockAt: 0.995 });
    e.addAccount(account('acc_r'));
    for (let i = 0; i < 30; i++) e.ingest(ev(i));
    e.tick(T0 + 31 * 60_000);
    const at = e.verdictOf('acc_r').first_flagged_at;
    expect(at).toBeDefined();
    // Flagged at the evaluation after request k: T0 + k minutes.
    return (Date.parse(at!) - T0) / 60_000;
  }

  it('reads an account scored far under every threshold again only after 25% more traffic', () => {
    // Scored after requests 5, 6 (a new client), 13 (6 × 1.25 + 5) and 22 (13 × 1.25 + 5): at
    // 0.45 it is far under 0.7, and its crossing at the 20th request is read at the 22nd.
    expect(flaggedAfter(0.7)).toBe(22);
  });

  it('reads one scored just under a threshold on its next request, so it is flagged as it crosses', () => {
    // Against a threshold of 0.5, the 0.45 read after request 13 is within 0.1 under it: every
    // later request is read, and the crossing at the 20th is read at once.
    expect(flaggedAfter(0.5)).toBe(20);
  });
});

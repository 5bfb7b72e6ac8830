import { describe, expect, it } from 'vitest';
import { createEventClock } from './event-time.js';

describe('createEventClock', () => {
  it('agrees with Date.parse on a day of ISO timestamps in order, across midnight and a leap day', () => {
    const clock = createEventClock();
    const start = Date.parse('2028-02-28T22:59:58.123Z');
    for (let t = start; t < start + 2 * 86_400_000; t += 61_007) {
      const ts = new Date(t).toISOString();
      expect(clock.parse(ts)).toBe(t);
    }
  });

  it('hands every other form to Date.parse, and says NaN for what is not a time', () => {
    const clock = createEventClock();
    clock.parse('2026-02-02T10:00:00.000Z');
    for (const ts of ['2026-02-02T10:00:00Z', '2026-02-02T12:00:00.000+02:00', '2026-02-02T10:00:00.5Z', '2026-02-03T00:00:00.000Z', '2026-02-02T24:00:00.000Z']) {
      expect(clock.parse(ts)).toBe(Date.parse(ts));
    }
    expect(clock.parse('2026-02-02T1x:00:00.000Z')).toBeNaN();
    expect(clock.parse('2026-02-02T10:61:00.000Z')).toBeNaN();
    expect(clock.parse('not a time')).toBeNaN();
    expect(clock.parse('')).toBeNaN();
  });
});

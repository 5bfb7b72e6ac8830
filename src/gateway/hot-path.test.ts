import { describe, expect, it } from 'vitest';
import { currentPeriods } from './limits.js';
import { isoTime } from './proxy.js';

describe('request-path helpers', () => {
  it('isoTime formats exactly as Date.prototype.toISOString', () => {
    const base = Date.parse('2026-11-26T23:59:58.000Z');
    const times = [0, 1, 9, 10, 99, 100, 999, 1000, base, base + 7, base + 999, base + 1000, base + 1001, base + 2500, Date.parse('2027-01-01T00:00:00.000Z') - 1, 253_402_300_799_999];
    // Out of the fast path's range, and not whole milliseconds: the same as toISOString.
    const odd = [-1, -1500, 253_402_300_800_000, base + 0.5, 1.9];
    for (const ms of [...times, ...times.reverse(), ...odd]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    for (let ms = base - 3000; ms < base + 3000; ms += 37) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });

  it('currentPeriods gives the minute and month of each time, across minute and month ends', () => {
    const expected = (now: number) => {
      const d = new Date(now);
      const minute = Math.floor(now / 60_000);
      return {
        minute: { id: String(minute), endsAt: (minute + 1) * 60_000 },
        month: { id: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`, endsAt: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) },
      };
    };
    const end = Date.parse('2026-12-01T00:00:00.000Z');
    for (const now of [end - 60_001, end - 60_000, end - 1, end, end + 1, end + 59_999, end + 60_000, end - 1, end, Date.parse('2027-01-01T00:00:00Z') - 1]) {
      expect(currentPeriods(now)).toEqual(expected(now));
    }
  });
});

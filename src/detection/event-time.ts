/**
 * Event timestamps to epoch milliseconds, fast for the form the gateway and the simulator write
 * (`2026-02-02T13:04:05.678Z`, `Date.prototype.toISOString`): events come in time order, so most
 * share the previous event's date and only the time of day is read, digit by digit. Anything
 * else (offsets, no milliseconds, a new date) goes through `Date.parse`, so the result is always
 * `Date.parse`'s.
 */

const DAY_CHARS = 11; // "YYYY-MM-DDT"
const MS_CHARS = 24; // "YYYY-MM-DDTHH:MM:SS.sssZ"

export interface EventClock {
  /** Epoch milliseconds of an ISO timestamp, NaN when it is not one. */
  parse(ts: string): number;
}

export function createEventClock(): EventClock {
  let dayPrefix = '';
  let dayMs = 0;
  const digit = (s: string, i: number): number => {
    const c = s.charCodeAt(i) - 48;
    return c >= 0 && c <= 9 ? c : NaN;
  };
  const slow = (ts: string): number => {
    const t = Date.parse(ts);
    // Remember the date when the timestamp has the usual form, so the next ones are fast.
    if (!Number.isNaN(t) && ts.length === MS_CHARS && ts.charCodeAt(MS_CHARS - 1) === 90 /* Z */ && ts.charCodeAt(10) === 84 /* T */) {
      dayPrefix = ts.slice(0, DAY_CHARS);
      dayMs = Date.parse(`${dayPrefix}00:00:00.000Z`);
    }
    return t;
  };
  return {
    parse(ts: string): number {
      if (ts.length !== MS_CHARS || dayPrefix === '' || !ts.startsWith(dayPrefix)) return slow(ts);
      if (ts.charCodeAt(13) !== 58 || ts.charCodeAt(16) !== 58 || ts.charCodeAt(19) !== 46 || ts.charCodeAt(23) !== 90) return slow(ts);
      const h = digit(ts, 11) * 10 + digit(ts, 12);
      const m = digit(ts, 14) * 10 + digit(ts, 15);
      const sec = digit(ts, 17) * 10 + digit(ts, 18);
      const ms = digit(ts, 20) * 100 + digit(ts, 21) * 10 + digit(ts, 22);
      // Out-of-range fields (25:00, :60 seconds, a non-digit) are Date.parse's to judge.
      if (!(h <= 23 && m <= 59 && sec <= 59 && ms >= 0)) return slow(ts);
      return dayMs + h * 3_600_000 + m * 60_000 + sec * 1000 + ms;
    },
  };
}

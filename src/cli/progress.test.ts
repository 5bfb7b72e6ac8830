import { describe, expect, it } from 'vitest';
import { progressBar } from './progress.js';

/** A stream that is not a terminal and keeps what is written to it. */
function sink(): NodeJS.WriteStream & { text: string } {
  const s = { isTTY: false, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('progress outside a terminal', () => {
  it('writes a line at most every few seconds, and always the last one at 100%', () => {
    const out = sink();
    const bar = progressBar('analyze', '{phase} | {events} events', { phase: '', events: 0 }, out);
    bar.update(0.1, { phase: 'reading events', events: 10 });
    bar.update(0.2, { phase: 'reading events', events: 20 });
    bar.update(1, { phase: 'writing verdicts', events: 30 });
    bar.stop();
    expect(out.text).toBe('analyze: 10% (reading events | 10 events)\nanalyze: 100% (writing verdicts | 30 events)\n');
  });
});

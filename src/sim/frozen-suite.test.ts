import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The hard suite was frozen before any detector was tuned (docs/evaluation.md): its files must
// match the hashes recorded then. A new suite gets a new folder; this one never changes.
const DIR = path.join(import.meta.dirname, '..', '..', 'scenarios');

describe('the frozen hard suite', () => {
  it('matches the hashes recorded when it was frozen', () => {
    const recorded = new Map(
      readFileSync(path.join(DIR, 'hard.sha256'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(66).trim(), l.slice(0, 64)] as const),
    );
    const present = readdirSync(path.join(DIR, 'hard')).map((f) => `hard/${f}`).sort();
    expect(present).toEqual([...recorded.keys()].sort());
    for (const [file, hash] of recorded) {
      expect(createHash('sha256').update(readFileSync(path.join(DIR, file))).digest('hex'), file).toBe(hash);
    }
  });
});

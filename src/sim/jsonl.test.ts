import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir, removeTempDirs } from './test-world.js';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageEvent } from '../core/index.js';
import { readJsonl, type ReadIssue } from './jsonl.js';

const lines = [
  '{"event_id":"e1","ts":"2026-01-01T00:00:00Z","account_id":"a","extra":"ignored"}',
  'not json',
  '{"event_id":"e2","ts":"yesterday"}',
  '',
  '{"event_id":"e3","ts":"2026-01-01T00:00:01Z"}',
];

describe('readJsonl', () => {
  it('skips and reports a malformed line with its file and line number, ignoring unknown fields', async () => {
    const f = join(tempDir('warden-jsonl-'), 'events.jsonl');
    writeFileSync(f, lines.join('\n'));
    const issues: ReadIssue[] = [];
    const got: UsageEvent[] = [];
    for await (const e of readJsonl(f, UsageEvent, { onIssue: (i) => issues.push(i) })) got.push(e);
    expect(got.map((e) => e.event_id)).toEqual(['e1', 'e3']);
    expect(got[0]).not.toHaveProperty('extra');
    expect(issues.map((i) => [i.file, i.line])).toEqual([
      [f, 2],
      [f, 3],
    ]);
    expect(issues[1]!.message).toMatch(/^ts:/);
  });

  it('makes the first bad line fatal in strict mode, and reads gzip', async () => {
    const f = join(tempDir('warden-jsonl-'), 'events.jsonl.gz');
    writeFileSync(f, gzipSync(lines.join('\n')));
    const read = async () => {
      for await (const e of readJsonl(f, UsageEvent, { strict: true })) void e;
    };
    await expect(read()).rejects.toThrow(/events\.jsonl\.gz:2: not JSON/);
  });
});

afterAll(() => removeTempDirs());

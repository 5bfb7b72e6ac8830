import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isWardenError, type UsageEvent } from '../core/index.js';
import { analyze } from '../detection/index.js';
import { account, event, HOUR, ipOf, PROMPTS, T0 } from '../detection/test-world.js';
import { openIpIntel } from '../intel/index.js';
import { analyzeInWorker } from './analyze-worker.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Six accounts sharing two cards and sweeping through one hosting range, and a developer. */
function world(): { dir: string; accountsFile: string; eventsFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-analyze-worker-'));
  dirs.push(dir);
  const accounts = [...Array.from({ length: 6 }, (_, i) => account(`h${i}`, { payment_fingerprint: `card_${i % 2}` })), account('dev', { payment_fingerprint: 'pm_dev' })];
  const events: UsageEvent[] = [];
  for (let i = 0; i < 6; i++) for (let k = 0; k < 30; k++) events.push(event(`h${i}`, T0 + k * HOUR + i * 1000, { ip: ipOf('hosting', 'SG', i), prompt: k % 2 ? PROMPTS.mcq(k) : PROMPTS.cot(k), system: PROMPTS.cotSystem }));
  for (let k = 0; k < 20; k++) events.push(event('dev', T0 + k * HOUR + 500, { ip: ipOf('residential', 'US', 1), prompt: PROMPTS.chat(k), turns: 5 }));
  events.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  const accountsFile = join(dir, 'accounts.jsonl');
  const eventsFile = join(dir, 'events.jsonl');
  writeFileSync(accountsFile, accounts.map((a) => JSON.stringify(a)).join('\n') + '\n');
  writeFileSync(eventsFile, events.map((e) => JSON.stringify(e)).join('\n') + '\n{"event_id": "cut\n');
  return { dir, accountsFile, eventsFile };
}

const body = (file: string): string => readFileSync(file, 'utf8').slice(readFileSync(file, 'utf8').indexOf('"summary"'));

describe('analyze in a worker thread', () => {
  it('writes the same verdicts as the analysis in this thread, with progress and the malformed line reported back', async () => {
    const w = world();
    const phases = new Set<string>();
    const issues: number[] = [];
    const r = await analyzeInWorker({ ...w, outDir: join(w.dir, 'worker'), intel: { custom_networks: [] } }, { maxHeapMb: 1024 }, { progress: (p) => phases.add(p.phase), issue: (i) => issues.push(i.line) });
    const here = await analyze({ ...w, outDir: join(w.dir, 'here'), intel: openIpIntel({ customNetworks: [] }) });
    expect(body(r.verdictsFile)).toBe(body(here.verdictsFile));
    expect(r.summary.skipped_lines).toBe(1);
    expect(issues).toEqual([201]);
    expect([...phases]).toEqual(expect.arrayContaining(['accounts', 'clusters', 'write']));
    // The events read on a reader thread inside the analysis worker (as `warden analyze` does for large files).
    const threaded: number[] = [];
    const t = await analyzeInWorker({ ...w, outDir: join(w.dir, 'threaded'), readerThread: true, intel: { custom_networks: [] } }, { maxHeapMb: 1024 }, { issue: (i) => threaded.push(i.line) });
    expect(body(t.verdictsFile)).toBe(body(here.verdictsFile));
    expect(threaded).toEqual([201]);
  }, 90_000);

  it('brings a strict-mode stop back as the same validation error', async () => {
    const w = world();
    const err = await analyzeInWorker({ ...w, outDir: join(w.dir, 'out'), strict: true, intel: { custom_networks: [] } }, { maxHeapMb: 1024 }).catch((e: unknown) => e);
    expect(isWardenError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('VALIDATION');
    expect((err as Error).message).toContain(`${w.eventsFile}:201`);
  }, 60_000);

  it('reports running out of its heap as such, naming the limit to raise', async () => {
    const w = world();
    // The IP databases alone take more than 32 MB.
    const err = await analyzeInWorker({ ...w, outDir: join(w.dir, 'out'), intel: { custom_networks: [] } }, { maxHeapMb: 32 }).catch((e: unknown) => e);
    expect(isWardenError(err)).toBe(true);
    expect((err as Error).message).toMatch(/ran out of memory at its heap limit of 32 MB; .*--max-heap 64/);
  }, 60_000);
});

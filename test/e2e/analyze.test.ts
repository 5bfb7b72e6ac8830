import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Verdicts } from '../../src/core/index.js';
import { openIpIntel } from '../../src/intel/index.js';
import { loadScenario, scoreFiles, simulate } from '../../src/sim/index.js';
import { ROOT } from './harness.js';

const run = promisify(execFile);

// The batch path end to end: a simulated world exported as interchange files (with a damaged
// line, as real exports have), `warden analyze`, and `warden score` against the world's truth.
describe('warden analyze on exported logs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'warden-analyze-'));
    await simulate(loadScenario('demo'), dir, { sampler: openIpIntel({ ipv6: false }) });
    appendFileSync(path.join(dir, 'events.jsonl'), '{"event_id": "broken", "ts": \n');
  }, 120_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('writes verdicts for every account, reports the malformed line, and beats the baselines on the demo world', async () => {
    const out = path.join(dir, 'out');
    const { stdout, stderr } = await run(
      process.execPath,
      [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'src/cli/main.ts'), 'analyze', '--accounts', path.join(dir, 'accounts.jsonl'), '--events', path.join(dir, 'events.jsonl'), '--watchlist', path.join(dir, 'watchlist.yaml'), '--out', out],
      { cwd: ROOT, env: { ...process.env, WARDEN_LOG_LEVEL: 'silent' } },
    );
    expect(stderr).toMatch(/events\.jsonl:\d+: .*\(skipped\)/);
    expect(stdout).toMatch(/1 malformed lines skipped/);
    const verdicts = Verdicts.parse(JSON.parse(readFileSync(path.join(out, 'verdicts.json'), 'utf8')));
    const accounts = readFileSync(path.join(dir, 'accounts.jsonl'), 'utf8').trim().split('\n').length;
    expect(verdicts.accounts.length).toBe(accounts);
    expect(verdicts.summary.skipped_lines).toBe(1);
    const report = await scoreFiles(path.join(out, 'verdicts.json'), path.join(dir, 'truth.json'));
    expect(report.precision).toBeGreaterThanOrEqual(0.95);
    expect(report.benign_blocked).toBe(0);
    expect(report.attribution.errors_on_null_entity).toBe(0);
    expect(report.recall).toBeGreaterThan(0.5);
  }, 180_000);
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, removeTempDirs } from './test-world.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { Verdicts } from '../core/index.js';
import { baselines, type NamedAnalyzer } from './baselines.js';
import { evaluate, formatEvalTable, readWorld, scoreFiles } from './evaluate.js';
import { fixtureSampler } from './fixture-sampler.js';
import { loadScenario, parseScenario } from './scenario.js';

const small = () => {
  const d = loadScenario('demo');
  return parseScenario({ ...d, days: 4, campaigns: d.campaigns.filter((c) => c.start_day < 4) });
};

describe('evaluate', () => {
  it('runs both baselines on the same world and scores each against its truth', async () => {
    const out = tempDir('warden-eval-');
    const report = await evaluate([{ name: 'demo-small', scenario: small() }], { sampler: fixtureSampler(), outDir: out });
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0]!;
    expect(run.results.map((r) => r.analyzer)).toEqual(baselines().map((b) => b.name));
    for (const r of run.results) {
      expect(r.report.accounts).toBe(run.accounts);
      expect(r.report.missing_verdicts).toBe(0);
      expect(Object.keys(r.report.campaigns)).toContain('campaign:hydra');
    }
    const table = formatEvalTable(report);
    expect(table).toMatch(/demo-small — thresholds/);
    expect(table).toMatch(/campaign:hydra/);
    expect(table).toMatch(/benign:course/);
    // The written verdicts can be rescored by `warden score` with the same result.
    const again = await scoreFiles(join(run.dir, 'verdicts.outliers.json'), join(run.dir, 'truth.json'));
    expect(again).toEqual(run.results[1]!.report);
  });

  it('plugs in any analyzer: a perfect one scores full recall, no false positives and right attribution', async () => {
    const out = tempDir('warden-eval-');
    let dir = '';
    const oracle: NamedAnalyzer = {
      name: 'oracle',
      description: 'reads truth.json',
      async analyze({ accounts, watchlist }) {
        expect(watchlist?.entities.map((e) => e.id)).toEqual(['example-conglomerate']);
        const truth = await (await readWorld(dir)).truth();
        return {
          generated_at: new Date().toISOString(),
          summary: { accounts: accounts.length, events: 0, skipped_lines: 0, degraded_detectors: [] },
          accounts: accounts.map((a) => {
            const t = truth.accounts[a.account_id]!;
            return { account_id: a.account_id, risk: t.malicious ? 1 : 0, labels: t.labels, attributed_entity: t.entity, recommended_action: t.malicious ? 'block' : 'none', reasons: [] };
          }),
          clusters: [],
        } satisfies Verdicts;
      },
    };
    const sc = small();
    dir = join(out, 'oracle-world');
    const report = await evaluate([{ name: 'oracle-world', scenario: sc }], { sampler: fixtureSampler(), outDir: out, analyzers: [oracle] });
    const r = report.runs[0]!.results[0]!.report;
    expect(r.recall).toBe(1);
    expect(r.precision).toBe(1);
    expect(r.false_positives).toBe(0);
    expect(r.attribution.accuracy).toBe(1);
    expect(r.attribution.errors_on_null_entity).toBe(0);
  });

  it('scoreFiles names the file of a malformed verdicts document', async () => {
    const d = tempDir('warden-score-');
    writeFileSync(join(d, 'v.json'), '{"accounts": 3}');
    writeFileSync(join(d, 't.json'), '{"accounts": {}}');
    await expect(scoreFiles(join(d, 'v.json'), join(d, 't.json'))).rejects.toThrow(/v\.json/);
  });
});

afterAll(() => removeTempDirs());

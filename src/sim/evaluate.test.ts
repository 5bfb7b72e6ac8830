import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, removeTempDirs } from './test-world.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountVerdict, Verdicts } from '../core/index.js';
import { baselines, type NamedAnalyzer } from './baselines.js';
import { evaluate, formatEvalTable, formatTargetSummary, readWorld, scoreFiles, type EvalReport, type EvalRun } from './evaluate.js';
import { score, type SimTruth } from './score.js';
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

describe('formatTargetSummary', () => {
  const tl = { first_request_at: '2026-01-01T00:00:00.000Z', accounts: 3, requests: 100, hour0: '2026-01-01T00:00:00.000Z', hourly_requests: [1, 9, 40, 50], hourly_new_accounts: [3, 0, 0, 0], hourly_first_requests: [1, 1, 0, 1] };
  const truth: SimTruth = {
    accounts: {
      c1: { group: 'campaign:hydra', malicious: true, entity: null, labels: [] },
      c2: { group: 'campaign:hydra', malicious: true, entity: null, labels: [] },
      c3: { group: 'campaign:hydra', malicious: true, entity: null, labels: [] },
      b1: { group: 'benign:dev', malicious: false, entity: null, labels: [] },
      b2: { group: 'benign:dev', malicious: false, entity: null, labels: [] },
    },
    campaigns: { 'campaign:hydra': tl },
  };
  const v = (id: string, action: AccountVerdict['recommended_action'], at?: string): AccountVerdict => ({ account_id: id, risk: 0.5, labels: [], recommended_action: action, reasons: [], ...(at ? { first_flagged_at: at } : {}) });
  const run = (name: string, accounts: AccountVerdict[]): EvalRun => ({ scenario: name, dir: '', accounts: 5, events: 100, results: [{ analyzer: 'warden', description: '', seconds: 1, report: score({ accounts }, truth) }] });
  // World a: all three flagged in hour 0 (1% of requests), a benign flag. World b: two of three,
  // the first at hour 1 (1 request in: 1%), a benign block, and a benign flag lifted since.
  const report: EvalReport = {
    generated_at: '',
    runs: [
      run('a', [v('c1', 'block', '2026-01-01T00:00:00.000Z'), v('c2', 'step_up', '2026-01-01T01:00:00.000Z'), v('c3', 'step_up', '2026-01-01T01:00:00.000Z'), v('b1', 'step_up', '2026-01-01T01:00:00.000Z')]),
      run('b', [v('c1', 'block', '2026-01-01T01:00:00.000Z'), v('c2', 'monitor'), v('c3', 'step_up', '2026-01-01T03:00:00.000Z'), v('b2', 'block', '2026-01-01T01:00:00.000Z'), v('b1', 'monitor', '2026-01-01T02:00:00.000Z')]),
    ],
  };
  const text = formatTargetSummary(report, 'warden');

  it('counts the worlds that met each campaign target and pools the benign flags', () => {
    const hydra = text.split('\n').find((l) => l.startsWith('campaign:hydra'))!.trim().split(/\s+/);
    // worlds, accounts, caught (5 of 6), min recall (2 of 3), recall ≥ 95%, first ≤ 2%,
    // 90% ≤ 10% (world a: hour 1 = 1%; world b never reaches 90%), median, impossible by 10%,
    // 90% used only after 10% (the last account's first request in hour 3, after 50%).
    expect(hydra).toEqual(['campaign:hydra', '2', '6', '83.3%', '66.7%', '1/2', '2/2', '1/2', '1.0%', '0/2', '2/2']);
    const dev = text.split('\n').find((l) => l.startsWith('benign:dev'))!.trim().split(/\s+/);
    // FP, rate, worlds over 0.1%, blocked; then flagged at any moment online (the lifted flag too).
    expect(dev).toEqual(['benign:dev', '2', '4', '2', '50.0%', '2/2', '1', '3', '2/2']);
  });

  it('names the analyzer and skips runs without it', () => {
    expect(text).toMatch(/targets over 2 worlds — warden/);
    expect(formatTargetSummary(report, 'thresholds')).not.toMatch(/campaign:hydra/);
  });

  it('prints the online count of a report written before it existed as unknown, not as a number', () => {
    const old = structuredClone(report);
    const first = old.runs[0]!.results[0]!.report as unknown as { benign_flagged_online?: number; populations: Record<string, { flagged_online?: number }> };
    delete first.benign_flagged_online;
    for (const b of Object.values(first.populations)) delete b.flagged_online;
    const dev = formatTargetSummary(old, 'warden').split('\n').find((l) => l.startsWith('benign:dev'))!.trim().split(/\s+/);
    expect(dev.slice(-2)).toEqual(['n/a', 'n/a']);
    expect(formatEvalTable(old)).toMatch(/benign flagged online n\/a/);
  });
});

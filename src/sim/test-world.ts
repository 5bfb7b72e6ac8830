/**
 * Shared by this folder's tests: the demo world, simulated once per test file into a
 * temporary directory with the fixture sampler, and read back.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Account, UsageEvent } from '../core/index.js';
import { fixtureSampler } from './fixture-sampler.js';
import { loadScenario, type Scenario } from './scenario.js';
import { SimTruth } from './score.js';
import { simulate, type SimResult } from './simulate.js';

const made: string[] = [];
/** A fresh temporary directory, removed by `removeTempDirs()` (call it in `afterAll`). */
export function tempDir(prefix = 'warden-sim-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface LoadedWorld {
  scenario: Scenario;
  dir: string;
  sim: SimResult;
  accounts: Account[];
  events: UsageEvent[];
  truth: SimTruth;
  /** Account ids of a truth group. */
  ids(group: string): Set<string>;
  eventsOf(group: string): UsageEvent[];
  accountsOf(group: string): Account[];
}

export async function loadTestWorld(scenario: Scenario | string = 'demo'): Promise<LoadedWorld> {
  const sc = typeof scenario === 'string' ? loadScenario(scenario) : scenario;
  const dir = tempDir();
  const sim = await simulate(sc, dir, { sampler: fixtureSampler() });
  const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);
  const accounts = lines(sim.files.accounts).map((l) => Account.parse(JSON.parse(l)));
  const events = lines(sim.files.events).map((l) => UsageEvent.parse(JSON.parse(l)));
  const truth = SimTruth.parse(JSON.parse(readFileSync(sim.files.truth, 'utf8')));
  const ids = (group: string) => new Set(Object.entries(truth.accounts).filter(([, t]) => t.group === group).map(([id]) => id));
  return {
    scenario: sc,
    dir,
    sim,
    accounts,
    events,
    truth,
    ids,
    eventsOf: (g) => {
      const s = ids(g);
      return events.filter((e) => s.has(e.account_id!));
    },
    accountsOf: (g) => {
      const s = ids(g);
      return accounts.filter((a) => s.has(a.account_id));
    },
  };
}

/**
 * @module sim
 * The simulator and the evaluation harness. Scenarios (YAML) describe benign populations that
 * look suspicious and adversary campaigns with knobs; `simulate` writes a world in the
 * interchange formats (accounts.jsonl, events.jsonl) with its truth.json and watchlist;
 * `evaluate` simulates, runs analyzers (the two baselines, later the detection engine) and
 * scores them; `score` scores any verdicts.json against any truth.json; `replayWorld` drives a
 * running gateway with the official SDKs.
 */
export {
  loadScenario,
  loadSuite,
  listScenarios,
  parseScenario,
  defaultScenarioDir,
  Scenario,
  Population,
  Campaign,
  CustomNetwork,
  type ScenarioInput,
} from './scenario.js';
export { simulate, type SimulateOptions, type SimProgress, type SimResult, type CampaignTimeline } from './simulate.js';
export { buildWorld, type World, type WorldAccount } from './world.js';
export type { SimSampler, Egress } from './networks.js';
export {
  evaluate,
  readWorld,
  scoreFiles,
  formatEvalTable,
  formatScoreTable,
  formatTargetSummary,
  type EvalScenario,
  type EvalOptions,
  type EvalReport,
  type EvalRun,
} from './evaluate.js';
export { score, SimTruth, type ScoreReport, type CampaignScore, type BenignScore, type Detection } from './score.js';
export {
  baselines,
  thresholdBaseline,
  outlierBaseline,
  THRESHOLD_DEFAULTS,
  OUTLIER_DEFAULTS,
  OUTLIER_FEATURES,
  type Analyzer,
  type AnalyzeInput,
  type NamedAnalyzer,
  type ThresholdOptions,
  type OutlierOptions,
} from './baselines.js';
export { replayWorld, type ReplayOptions, type ReplayResult } from './replay.js';
export { readJsonl, LineWriter, type ReadIssue } from './jsonl.js';
export { readVerdictAccounts } from './verdicts-reader.js';
export { fixtureSampler } from './fixture-sampler.js';

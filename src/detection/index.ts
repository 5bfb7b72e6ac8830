/**
 * @module detection
 * The detection engine. Streaming per-account (and per-key) features in bounded memory
 * (HyperLogLog and capped maps); detectors for distillation and capability extraction,
 * undeclared resellers and campaign traffic inside declared resellers, region evasion and key
 * sharing; a Fellegi–Sunter weighted linkage graph over payment, device, signup, network and
 * template attributes with Louvain communities (hydra clusters); evidence-based attribution to
 * watchlist entities; risk, recommended action, reasons and `first_flagged_at` per account and
 * cluster in the verdicts.json format. Three ways in: `analyze` (batch, files), `wardenAnalyzer`
 * (the simulator's analyzer shape, for `warden eval`) and `createOnlineDetector` (a bus consumer
 * with checkpoints). Reads only interchange fields, core and intel.
 */
export { moduleWorker } from './module-worker.js';
export { readerHeapFor } from './event-reader.js';
export { analyze, readJsonLines, previousClusters, type AnalyzeOptions, type AnalyzeResult, type AnalyzeProgress, type LineIssue } from './analyze.js';
export { wardenAnalyzer, runEngine, type WardenAnalyzerDeps, type WardenAnalyzerInput, type WardenNamedAnalyzer } from './analyzer.js';
export { createOnlineDetector, type OnlineDetector, type OnlineDetectorOptions, type OnlineEvaluation } from './online.js';
export { DetectionEngine, type EngineOptions, type Assessment } from './engine.js';
export { FIELD_SPECS, FIELDS, rarity, clusterIdOf, assignClusterIds, type LinkField } from './linkage.js';
export { ImportedIndicators, type ImportedMatch, type ImportedIndicatorsOptions } from './imported.js';
export { clusterIndicators, type ClusterIndicatorOptions, type IndicatorCandidate } from './indicators.js';
export { encodeAccountFeatures, decodeAccountFeatures } from './account-features.js';
export type { AccountFeatures } from './engine.js';

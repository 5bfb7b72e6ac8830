/**
 * @module policy
 * The declarative policy engine: a YAML policy file → validated, compiled rules → for each
 * request a decision (`allow` … `block`) with its `rule@version`, customer message and
 * countermeasures, and the rate limits and budgets the gateway must count. Pure and synchronous
 * on the hot path; `PolicyManager` keeps versions, reloads the file when it changes, rolls back,
 * and runs a changed policy over recorded traffic (dry run). Format: docs/policy.md.
 */
export {
  compilePolicy,
  validatePolicy,
  formatPolicyIssues,
  PolicyError,
  DEFAULT_MESSAGES,
  type CompileOptions,
  type LoadedPolicy,
  type PolicyIssue,
  type RuleSummary,
  type LimitSummary,
} from './compile.js';
export {
  compileEnforcement,
  durationMs,
  actionDecision,
  NO_ENFORCEMENT,
  ENFORCEMENT_MODES,
  ENFORCEMENT_RULE_ACTIONS,
  ENFORCEMENT_SUBJECTS,
  type CompiledEnforcement,
  type EnforcementMatch,
  type EnforcementMode,
  type EnforcementRuleAction,
  type EnforcementRuleSummary,
  type EnforcementSubject,
} from './enforcement.js';
export { compileGlob, type GlobResult } from './glob.js';
export { POLICY_FIELDS, OPERATORS_BY_TYPE, ALL_OPERATORS, type FieldDef, type FieldType, type Operator } from './fields.js';
export { dryRun, ruleId, type DryRunSample, type DryRunReport, type DryRunTally, type DryRunOptions } from './dry-run.js';
export { createMemoryPolicyStore, type PolicyVersionStore } from './memory-store.js';
export {
  createPolicyManager,
  type PolicyManager,
  type PolicyManagerOptions,
  type PolicyManagerDeps,
  type PolicyLogger,
  type PolicyEvent,
  type ReloadResult,
} from './manager.js';
export { makeRequestContext, type ContextOverrides } from './testing.js';

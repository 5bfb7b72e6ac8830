/**
 * @module cases
 * Alerts → cases, decisions on cases, evidence reports, STIX 2.1 sharing, and the signed,
 * hash-chained audit log. Persistence goes through the `CaseStore` and `AuditStore` ports of
 * `src/core/cases.ts` (embedded: `openSqliteCaseStore` in `src/store`); enforcement actions
 * reach the gateways through the store and bus, never by importing this part. The formats
 * are in docs/cases.md and docs/audit.md.
 */
export {
  GENESIS_HASH,
  AUDIT_PRIVATE_KEY_FILE,
  AUDIT_PUBLIC_KEY_FILE,
  canonicalJson,
  auditHash,
  auditHashInput,
  auditKeyId,
  auditPublicKey,
  normalizeAuditEntry,
  sealAuditRecord,
  verifyAuditChain,
  createAuditVerifier,
  loadOrCreateAuditKey,
  auditRecordsToJsonl,
  parseAuditJsonl,
} from './audit-chain.js';
export type { AuditSigningKey, AuditPublicKeyInput, AuditVerifier } from './audit-chain.js';
export { createAuditLog, readAudit } from './audit-log.js';
export type { AuditLogOptions } from './audit-log.js';
export { alertFingerprint, severityFor, ingestAlerts } from './ingest.js';
export type { IngestDeps, IngestResult } from './ingest.js';
export { snapshotOf, recordCaseAction, recordCaseReversal, recordCaseWouldAct, wouldActRef, setCaseStatus, assignCase, disposeAlert } from './case-ops.js';
export type { DecisionContext, WouldAct } from './case-ops.js';
export { actForCase, caseSubjects } from './act.js';
export type { CaseActDeps, CaseActInput, CaseActionScope } from './act.js';
export { applyAutoEnforcement, autoEnforcementReport } from './auto-enforcement.js';
export type { AutoEnforcementDeps, AutoEnforcementItem, AutoEnforcementOutcome, AutoEnforcementEntry } from './auto-enforcement.js';
export { registerAutoEnforcementRoutes, adminGuard, adminTokenAuthenticator } from './enforcement-routes.js';
export type { AutoEnforcementRoutesDeps } from './enforcement-routes.js';
export {
  recordVerification,
  checkVerificationSignature,
  registerVerificationAdminRoute,
  registerVerificationWebhook,
  webhookEventKey,
  VerificationWebhookEvent,
  VERIFICATION_PASSED,
  VERIFICATION_SIGNATURE_HEADER,
} from './verification.js';
export type { VerificationDeps, VerificationInput, VerificationResult, VerificationRoutesDeps, VerificationWebhookDeps, SignatureCheck } from './verification.js';
export { caseReportJson } from './report.js';
export type { CaseReport, CaseReportInput, CaseUsageVolumes, AttributionReason } from './report.js';
export {
  exportStixBundle,
  importStixBundle,
  collectCaseIndicators,
  sharedIndicatorsOf,
  uuidv5,
  TLP_MARKINGS,
  WARDEN_IDENTITY,
  WARDEN_EXTENSION,
  WARDEN_STIX_NAMESPACE,
} from './stix.js';
export type {
  StixBundle,
  StixObject,
  StixCaseData,
  Tlp,
  IndicatorKind,
  ImportedIndicator,
  ImportedIdentity,
  StixImportProblem,
  StixImportResult,
} from './stix.js';
export { registerCaseRoutes, usageOfEvents, STIX_IMPORTS_BLOB, CASE_ACTION_KINDS } from './admin-routes.js';
export type { CaseRoutesDeps, CaseEvent, StixImportRecord } from './admin-routes.js';
export { renderCaseReportHtml, redactPrompt, escapeHtml, linkageGraph } from './report-html.js';
export type { ReportExtras, LinkageGraph } from './report-html.js';
export { createWebhookDispatcher, signWebhook, verifyWebhookSignature, WebhookConfig, WebhookEndpointConfig } from './webhooks.js';
export type { WebhookDispatcher, WebhookEvent, WebhookOptions, WebhookStats } from './webhooks.js';

/**
 * @module gateway
 * The enforcing gateway: an Anthropic- and OpenAI-compatible proxy that authenticates Warden
 * keys, asks the policy, counts limits, forwards to the upstream model API (SSE passed through
 * as it arrives), and leaves a durable usage event per request. Also its admin API.
 */
export { GatewayConfig, RetentionConfig, UpstreamConfig } from './config.js';
export { startGateway } from './server.js';
export type { Gateway, GatewayDeps, GatewayInternals, Logger } from './server.js';
export { registerAdminRoutes, bearerTokenAuthenticator } from './admin.js';
export { clientAddress } from './client-ip.js';
export type { AdminDeps } from './admin.js';
export { createGatewayMetrics } from './metrics.js';
export type { GatewayMetrics } from './metrics.js';
export { issueKey, parseKey, hashSecret, secretMatches, presentedKey, keyUnusable } from './keys.js';
export { startMockUpstream } from './mock-upstream.js';
export type { ParsedRequest } from './dialects/index.js';

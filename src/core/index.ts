/**
 * @module core
 * Domain types (interchange records, decisions, actions), port interfaces and errors. No I/O:
 * every other part may import this one, and this one imports no other.
 */
export * from './interchange.js';
export * from './errors.js';
export * from './ports.js';
export * from './intel.js';
export * from './policy.js';
export * from './features.js';
export * from './cases.js';
export * from './hash.js';
export * from './console-auth.js';
export * from './shared-indicators.js';
export * from './detection-state.js';
export * from './lines.js';

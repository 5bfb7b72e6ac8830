/**
 * Errors with a stable `code` that callers branch on, and a message that says the fix.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'POLICY_INVALID'
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNAVAILABLE'
  | 'INPUT_INVALID'
  | 'INTERNAL';

export class WardenError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ConfigError extends WardenError {}
export class ValidationError extends WardenError {
  constructor(
    message: string,
    /** Path of each offending field, such as `owners[0].share`. */
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super('VALIDATION', message);
  }
}
export class NotFoundError extends WardenError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}
export class ConflictError extends WardenError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}
/** A backing service (database, bus, upstream) could not be reached; the message names it. */
export class UnavailableError extends WardenError {
  constructor(message: string, options?: ErrorOptions) {
    super('UNAVAILABLE', message, options);
  }
}

export function isWardenError(e: unknown, code?: ErrorCode): e is WardenError {
  return e instanceof WardenError && (code === undefined || e.code === code);
}
export const isNotFound = (e: unknown): boolean => isWardenError(e, 'NOT_FOUND');

/** Formats zod issues as `path: message` lines, each path in dotted/bracket form. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

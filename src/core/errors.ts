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

/** The HTTP status of each error code in the JSON APIs (admin, cases, console, verification). */
export const HTTP_STATUS_OF_ERROR: Readonly<Record<string, number>> = {
  VALIDATION: 400,
  INPUT_INVALID: 400,
  POLICY_INVALID: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNAVAILABLE: 503,
};

/**
 * The answer of a JSON API to an error thrown by a route: a WardenError in its own status with its
 * code as the type (and its issues, when it has some); a framework error below 500 (a malformed
 * body) as `invalid_request`; anything else a logged 500 that says nothing of the cause.
 */
export function httpErrorReply(
  err: Error & { statusCode?: number },
  log: { error(obj: object, msg: string): void },
  what: string,
): { status: number; body: { error: { type: string; message: string; issues?: unknown } } } {
  if (err instanceof WardenError) {
    const status = HTTP_STATUS_OF_ERROR[err.code] ?? 500;
    const issues = (err as WardenError & { issues?: unknown }).issues;
    const hasIssues = Array.isArray(issues) ? issues.length > 0 : issues !== undefined;
    if (status >= 500) log.error({ err: { name: err.name, message: err.message } }, `${what} failed`);
    return { status, body: { error: { type: err.code.toLowerCase(), message: err.message, ...(hasIssues ? { issues } : {}) } } };
  }
  if (err.statusCode && err.statusCode < 500) return { status: err.statusCode, body: { error: { type: 'invalid_request', message: err.message } } };
  log.error({ err: { name: err.name, message: err.message } }, `${what} failed`);
  return { status: 500, body: { error: { type: 'internal', message: 'Internal error; see the server log.' } } };
}

/**
 * Structured JSON logs (pino). Secrets never reach them: request paths log ids, not bodies;
 * the redaction list is a second line of defence for anything shaped like a credential.
 */
import pino from 'pino';

export const REDACT_PATHS = [
  'key',
  '*.key',
  'api_key',
  '*.api_key',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'prompt',
  '*.prompt',
  'system',
  '*.system',
];

export type WardenLogger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): WardenLogger {
  return pino(
    {
      level,
      base: { service: 'warden', pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

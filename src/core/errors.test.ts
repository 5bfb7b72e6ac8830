import { describe, expect, it } from 'vitest';
import { ConfigError, httpErrorReply, NotFoundError, UnavailableError, ValidationError } from './errors.js';

describe('httpErrorReply', () => {
  const logged: string[] = [];
  const log = { error: (_o: object, msg: string) => void logged.push(msg) };

  it('answers a WardenError in its own status and type, with its issues, and logs only a 5xx', () => {
    expect(httpErrorReply(new NotFoundError('No case "x".'), log, 'test request')).toEqual({ status: 404, body: { error: { type: 'not_found', message: 'No case "x".' } } });
    const v = httpErrorReply(new ValidationError('reason: required', [{ path: 'reason', message: 'required' }]), log, 'test request');
    expect(v).toEqual({ status: 400, body: { error: { type: 'validation', message: 'reason: required', issues: [{ path: 'reason', message: 'required' }] } } });
    expect(httpErrorReply(new ValidationError('bad', []), log, 'test request').body.error).not.toHaveProperty('issues');
    expect(logged).toEqual([]);
    expect(httpErrorReply(new UnavailableError('PostgreSQL is down'), log, 'test request').status).toBe(503);
    expect(httpErrorReply(new ConfigError('CONFIG_INVALID', 'x'), log, 'test request').status).toBe(500);
    expect(logged).toEqual(['test request failed', 'test request failed']);
  });

  it('answers a framework 4xx as invalid_request and anything else as a 500 that names no cause', () => {
    logged.length = 0;
    expect(httpErrorReply(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }), log, 'r')).toEqual({ status: 400, body: { error: { type: 'invalid_request', message: 'Body is not valid JSON' } } });
    const r = httpErrorReply(new TypeError('secret detail'), log, 'r');
    expect(r).toEqual({ status: 500, body: { error: { type: 'internal', message: 'Internal error; see the server log.' } } });
    expect(logged).toEqual(['r failed']);
  });
});

import { describe, expect, it } from 'vitest';
import { classifyAsOrg } from './network-rules.js';

describe('classifyAsOrg', () => {
  it.each([
    ['University of California at Berkeley', 'education'],
    ['Cellco Partnership DBA Verizon Wireless', 'mobile'],
    ['T-Mobile USA, Inc.', 'mobile'],
    ['DigitalOcean, LLC', 'hosting'],
    ['Hetzner Online GmbH', 'hosting'],
    ['Comcast Cable Communications, LLC', 'residential'],
    ['Deutsche Telekom AG', 'residential'],
    ['JPMorgan Chase Bank, N.A.', 'business'],
    ['Zzyzx', 'unknown'],
  ])('%s → %s', (org, type) => {
    expect(classifyAsOrg(org).type).toBe(type);
  });
  it('names the rule that decided', () => {
    expect(classifyAsOrg('Example University').rule).toMatch(/^education/);
    expect(classifyAsOrg(undefined)).toEqual({ type: 'unknown', rule: null });
  });
});

import { describe, expect, it } from 'vitest';
import { compileGlob } from './glob.js';

const matches = (glob: string, s: string): boolean => {
  const r = compileGlob(glob);
  if (!r.ok) throw new Error(r.problem);
  return r.regex.test(s);
};

describe('compileGlob', () => {
  it('matches "*" against any run, including none', () => {
    expect(matches('claude-opus-*', 'claude-opus-4-1')).toBe(true);
    expect(matches('claude-opus-*', 'claude-opus-')).toBe(true);
    expect(matches('claude-opus-*', 'claude-sonnet-4')).toBe(false);
    expect(matches('claude-opus-*', 'xclaude-opus-4')).toBe(false);
  });
  it('matches "?" against exactly one character', () => {
    expect(matches('gpt-?o', 'gpt-4o')).toBe(true);
    expect(matches('gpt-?o', 'gpt-o')).toBe(false);
  });
  it('supports character classes, ranges and negation', () => {
    expect(matches('o[1-3]*', 'o3-mini')).toBe(true);
    expect(matches('o[1-3]*', 'o4-mini')).toBe(false);
    expect(matches('o[!1-3]*', 'o4-mini')).toBe(true);
  });
  it('supports alternatives, nested too', () => {
    expect(matches('claude-{opus,sonnet}-*', 'claude-sonnet-4')).toBe(true);
    expect(matches('claude-{opus,sonnet}-*', 'claude-haiku-4')).toBe(false);
    expect(matches('{a,b{c,d}}', 'bd')).toBe(true);
  });
  it('treats regex characters literally', () => {
    expect(matches('gpt-4.1', 'gpt-4.1')).toBe(true);
    expect(matches('gpt-4.1', 'gpt-4x1')).toBe(false);
    expect(matches('a+b(c)', 'a+b(c)')).toBe(true);
    expect(matches('a\\*b', 'a*b')).toBe(true);
    expect(matches('a\\*b', 'axxb')).toBe(false);
  });
  it('ignores case so a rule cannot be evaded by capitals', () => {
    expect(matches('claude-opus-*', 'Claude-OPUS-4')).toBe(true);
  });
  it.each([
    ['', 'empty'],
    ['claude-[opus', 'unclosed "["'],
    ['claude-{opus', 'unclosed "{"'],
    ['claude}', 'without its "{"'],
    ['a[]', 'unclosed "["'],
    ['x[z-a]', 'reversed range'],
    ['trailing\\', 'lone'],
  ])('rejects the bad glob %j', (glob, problem) => {
    const r = compileGlob(glob);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain(problem);
  });
});

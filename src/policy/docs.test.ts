import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validatePolicy } from './compile.js';
import { ALL_OPERATORS, POLICY_FIELDS } from './fields.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/policy.md', import.meta.url)), 'utf8');

describe('docs/policy.md', () => {
  it('documents every field and every operator', () => {
    for (const f of Object.keys(POLICY_FIELDS)) expect(doc, f).toContain(`| \`${f}\` |`);
    for (const op of ALL_OPERATORS) expect(doc, op).toMatch(new RegExp(`\\|[^\\n]*\`${op}\`[^\\n]*\\|`));
  });

  it('has a full example that is a valid policy', () => {
    const section = doc.slice(doc.indexOf('## A full example'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    expect(validatePolicy(yaml!, 'docs/policy.md')).toEqual([]);
  });
});

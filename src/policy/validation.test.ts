import { describe, expect, it } from 'vitest';
import { isWardenError } from '../core/index.js';
import { compilePolicy, PolicyError, validatePolicy, type PolicyIssue } from './compile.js';

/** The 1-based line of the line holding `# <marker>`. */
const lineOf = (text: string, marker: string): number => {
  const i = text.split('\n').findIndex((l) => l.includes(`# ${marker}`));
  if (i < 0) throw new Error(`marker ${marker} not in text`);
  return i + 1;
};

function issuesOf(text: string): PolicyIssue[] {
  try {
    compilePolicy(text, { version: 1, file: 'policies/bad.yaml' });
  } catch (e) {
    expect(isWardenError(e, 'POLICY_INVALID')).toBe(true);
    expect(e).toBeInstanceOf(PolicyError);
    return (e as PolicyError).issues;
  }
  throw new Error('expected the policy to be refused');
}

/** Asserts exactly one issue on the marked line, for the rule, mentioning `text`. */
function expectIssue(issues: PolicyIssue[], policy: string, marker: string, rule: string | undefined, text: string): void {
  const line = lineOf(policy, marker);
  const found = issues.filter((i) => i.line === line);
  expect(found, `issues on line ${line}: ${JSON.stringify(issues)}`).toHaveLength(1);
  expect(found[0]).toMatchObject({ file: 'policies/bad.yaml', rule });
  expect(found[0]!.message).toContain(text);
}

const BAD = `format: 1
lists:
  countries: [CN, ru]                       # bad-list-country
rules:
  - id: unknown-op
    when: { field: client.country, eq: CN }  # unknown-op
    decide: block
  - id: uses-list-twice
    when: [{ field: client.country, in: $countries }, { field: org.declared_country, in: $countries }]
    decide: block
  - id: bad-decision
    decide: deny                            # bad-decision
  - id: dup
    decide: block
  - id: dup                                 # dup
    decide: monitor
  - id: bad-country
    when:
      all:
        - field: org.payment_country
          in: [CN, Russia]                  # bad-country
    decide: block
  - id: bad-glob
    when: { field: model, glob: "claude-[opus" }  # bad-glob
    decide: block
  - id: unknown-key
    decide: block
    mesage: typo                            # unknown-key
  - id: unknown-field
    when: { field: client.contry, equals: CN }  # unknown-field
    decide: block
  - id: wrong-op-for-type
    when: { field: account.labels, in: [distillation] }  # wrong-op
    decide: block
  - id: step-up-without-url
    decide: step_up                         # no-url
  - id: bad-params
    decide: degrade
    params: { max_output_tokens: -5 }       # bad-params
  - id: bad-level
    when: { field: org.verification, gte: gold }  # bad-level
    decide: block
  - id: missing-list
    when: { field: client.country, in: $nope }  # missing-list
    decide: block
  - decide: block                           # no-id
limits:
  - id: lim
    scope: galaxy                           # bad-scope
    requests_per_minute: 5
  - id: no-kind                             # no-kind
    scope: key
`;

describe('policy validation', () => {
  const issues = issuesOf(BAD);

  it('reports every problem at once', () => {
    expect(issues.length).toBe(16);
  });

  it.each([
    ['unknown-op', 'rule "unknown-op"', 'unknown operator "eq"'],
    ['bad-decision', 'rule "bad-decision"', 'bad decision "deny"'],
    ['dup', 'rule "dup"', 'duplicate id "dup"'],
    ['bad-country', 'rule "bad-country"', 'malformed country code "Russia"'],
    ['bad-glob', 'rule "bad-glob"', 'unclosed "["'],
    ['unknown-key', 'rule "unknown-key"', 'unknown key "mesage"; did you mean "message"?'],
    ['unknown-field', 'rule "unknown-field"', 'unknown field "client.contry"; did you mean "client.country"?'],
    ['wrong-op', 'rule "wrong-op-for-type"', 'use contains_any'],
    ['no-url', 'rule "step-up-without-url"', 'verify_url'],
    ['bad-params', 'rule "bad-params"', ''],
    ['bad-level', 'rule "bad-level"', 'none < email < phone < id < business'],
    ['missing-list', 'rule "missing-list"', 'unknown list "$nope"'],
    ['no-id', 'rule #15', 'id'],
    ['bad-scope', 'limit "lim"', 'bad scope "galaxy"'],
    ['no-kind', 'limit "no-kind"', 'requests_per_minute, tokens_per_minute or monthly_tokens'],
  ])('names file, line and rule for %s', (marker, rule, text) => {
    expectIssue(issues, BAD, marker, rule, text);
  });

  it('names the line of a problem outside any rule, without a rule', () => {
    expectIssue(issues, BAD, 'bad-list-country', undefined, 'malformed country code "ru"');
  });

  it('formats the message as file:line: rule "id": problem lines', () => {
    let message = '';
    try {
      compilePolicy(BAD, { version: 1, file: 'policies/bad.yaml' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`policies/bad.yaml:${lineOf(BAD, 'unknown-op')}: rule "unknown-op": when.eq: unknown operator "eq"`);
    expect(message).toContain(`policies/bad.yaml:${lineOf(BAD, 'dup')}: rule "dup": id: duplicate id "dup"; it is already used at line 13`);
    expect(message.split('\n')).toHaveLength(issues.length + 1);
  });

  it('refuses an unknown top-level key and suggests the right one', () => {
    const text = 'rules: []\nlimit: []  # top\n';
    const found = validatePolicy(text, 'x.yaml');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: 'x.yaml', line: 2, rule: undefined });
    expect(found[0]!.message).toContain('did you mean "limits"?');
  });

  it('reports YAML syntax errors with their line', () => {
    const found = validatePolicy('rules:\n  - id: a\n    decide: block\n  - id: b\n   decide: [block\n', 'y.yaml');
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.line).toBeGreaterThanOrEqual(4);
    expect(found[0]!.message).toMatch(/^YAML: /);
  });

  it('refuses params on a decision that takes none, and verify_url outside step_up', () => {
    const text = `rules:\n  - id: a\n    decide: block\n    params: { max_output_tokens: 5 }\n    verify_url: https://x.example/v\n`;
    const found = validatePolicy(text, 'z.yaml');
    expect(found.map((i) => [i.line, i.rule])).toEqual([
      [4, 'rule "a"'],
      [5, 'rule "a"'],
    ]);
  });

  it('refuses an unknown degrade param by name', () => {
    const found = validatePolicy(`rules:\n  - id: d\n    decide: degrade\n    params:\n      strip_thinkin: true\n`, 'p.yaml');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 5, rule: 'rule "d"' });
    expect(found[0]!.message).toContain('did you mean "strip_thinking"?');
  });

  it('refuses an empty condition list and a bare "not"', () => {
    const found = validatePolicy(`rules:\n  - id: e\n    when: []\n    decide: block\n  - id: n\n    when: { not: null }\n    decide: block\n`, 'n.yaml');
    expect(found.map((i) => [i.line, i.rule])).toEqual([
      [3, 'rule "e"'],
      [6, 'rule "n"'],
    ]);
  });

  it('refuses a condition with two operators or none', () => {
    const found = validatePolicy(
      `rules:\n  - id: two\n    when: { field: model, glob: "a*", equals: b }\n    decide: block\n  - id: none\n    when: { field: model }\n    decide: block\n`,
      'c.yaml',
    );
    expect(found.map((i) => i.line)).toEqual([3, 6]);
  });

  it('refuses an empty file and a file without rules, so a truncated save cannot lift every rule', () => {
    expect(validatePolicy('', 'e.yaml')[0]).toMatchObject({ file: 'e.yaml', line: 1 });
    expect(validatePolicy('# only a comment\n', 'e.yaml')).toHaveLength(1);
    expect(validatePolicy('name: x\n', 'e.yaml')[0]!.message).toContain('"rules:"');
    expect(validatePolicy('rules: []\n', 'e.yaml')).toEqual([]);
  });

  it('refuses a message on a rule that sends none', () => {
    const found = validatePolicy(`rules:\n  - id: m\n    decide: monitor\n    message: hi\n`, 'm.yaml');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 4, rule: 'rule "m"' });
  });

  it('warns, without refusing, about customer messages that explain detection', () => {
    const p = compilePolicy(
      `defaults:\n  messages:\n    block: Flagged by our systems.\nrules:\n  - id: r\n    decide: step_up\n    verify_url: https://x.example/v\n    message: Your risk score is too high.\n  - id: ok\n    decide: block\n    message: Requests from this region are not supported.\n`,
      { version: 1, file: 'w.yaml' },
    );
    expect(p.warnings.map((w) => [w.line, w.rule])).toEqual([
      [3, undefined],
      [8, 'rule "r"'],
    ]);
    expect(p.warnings[1]!.message).toContain('"risk score"');
  });

  it('refuses the reserved ids "default" and "enforcement"', () => {
    const found = validatePolicy(`rules:\n  - id: default\n    decide: block\nlimits:\n  - id: enforcement\n    scope: key\n    requests_per_minute: 5\n`, 'r.yaml');
    expect(found.map((i) => [i.line, i.rule])).toEqual([
      [2, 'rule "default"'],
      [5, 'limit "enforcement"'],
    ]);
  });

  it('accepts a valid policy with no issues', () => {
    expect(validatePolicy(`rules:\n  - id: ok\n    when: { field: client.country, in: [CN] }\n    decide: block\n`)).toEqual([]);
  });
});

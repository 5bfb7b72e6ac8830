/**
 * Globs as policies write them (`claude-opus-*`, `gpt-4?-*`, `claude-{opus,sonnet}-*`), compiled
 * once to an anchored, case-insensitive RegExp.
 *
 * Syntax: `*` any run of characters (also none), `?` exactly one, `[abc]` / `[a-z]` / `[!abc]`
 * a character class, `{a,b}` alternatives (may nest), `\x` the character x literally.
 * Case-insensitive, because upstream model names are, and a rule must not be evaded by `Claude-Opus`.
 */

export type GlobResult = { ok: true; regex: RegExp } | { ok: false; problem: string };

const REGEX_SPECIAL = /[.+^$()|\\/\]-]/;

export function compileGlob(glob: string): GlobResult {
  if (glob.length === 0) return { ok: false, problem: 'an empty glob matches nothing; remove it or write "*"' };
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    switch (ch) {
      case '\\': {
        const next = glob[i + 1];
        if (next === undefined) return { ok: false, problem: `glob "${glob}" ends with a lone "\\"; write "\\\\" for a backslash` };
        out += escapeChar(next);
        i++;
        break;
      }
      case '*':
        out += '.*';
        while (glob[i + 1] === '*') i++;
        break;
      case '?':
        out += '.';
        break;
      case '[': {
        const end = glob.indexOf(']', i + 2);
        if (end === -1) return { ok: false, problem: `glob "${glob}" has an unclosed "[" at position ${i + 1}; close it with "]" or write "\\["` };
        let body = glob.slice(i + 1, end);
        let negate = false;
        if (body.startsWith('!') || body.startsWith('^')) {
          negate = true;
          body = body.slice(1);
        }
        if (body.length === 0) return { ok: false, problem: `glob "${glob}" has an empty character class "[]"` };
        for (let j = 0; j < body.length; j++) {
          if (body[j] === '-' && j > 0 && j < body.length - 1 && body[j - 1]! > body[j + 1]!) {
            return { ok: false, problem: `glob "${glob}" has a reversed range "${body[j - 1]}-${body[j + 1]}"` };
          }
        }
        out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
        i = end;
        break;
      }
      case '{':
        depth++;
        out += '(?:';
        break;
      case '}':
        if (depth === 0) return { ok: false, problem: `glob "${glob}" has a "}" without its "{"; write "\\}" for the character` };
        depth--;
        out += ')';
        break;
      case ',':
        out += depth > 0 ? '|' : ',';
        break;
      default:
        out += escapeChar(ch);
    }
  }
  if (depth > 0) return { ok: false, problem: `glob "${glob}" has an unclosed "{"; close it with "}"` };
  return { ok: true, regex: new RegExp(`^${out}$`, 'is') };
}

function escapeChar(ch: string): string {
  return REGEX_SPECIAL.test(ch) || ch === '*' || ch === '?' || ch === '[' || ch === '{' || ch === '}' ? `\\${ch}` : ch;
}

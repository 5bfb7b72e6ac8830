/**
 * Reading a watchlist file (YAML or JSON, `docs/interchange.md`): errors name the file and the
 * offending field.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { WardenError, Watchlist, formatIssuePath } from '../core/index.js';

export function loadWatchlist(file: string): Watchlist {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new WardenError('INPUT_INVALID', `cannot read watchlist ${file}: ${(e as Error).message}. Check the path.`, { cause: e });
  }
  return parseWatchlist(text, file);
}

/** Parses watchlist text; `where` names the source in errors. */
export function parseWatchlist(text: string, where = 'watchlist'): Watchlist {
  let data: unknown;
  try {
    data = /\.json$/i.test(where) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new WardenError('INPUT_INVALID', `${where}: not valid ${/\.json$/i.test(where) ? 'JSON' : 'YAML'}: ${(e as Error).message}`, { cause: e });
  }
  const r = Watchlist.safeParse(data ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${where}: ${formatIssuePath(i.path)}: ${i.message}`);
    throw new WardenError('INPUT_INVALID', `invalid watchlist (see docs/interchange.md):\n${lines.join('\n')}`);
  }
  const ids = new Set<string>();
  for (const [i, e] of r.data.entities.entries()) {
    if (ids.has(e.id)) throw new WardenError('INPUT_INVALID', `${where}: entities[${i}].id: "${e.id}" is used twice; ids must be unique.`);
    ids.add(e.id);
  }
  return r.data;
}

/**
 * The parts' boundaries (docs/architecture in README "Layout"): a part imports only the parts
 * it may, and only through their index.ts. Each rule's reason is beside it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(import.meta.dirname, '..', 'src');

const ALLOWED: Record<string, string[]> = {
  core: [], // domain types and ports: depends on nothing, so everything may depend on it
  store: ['core'], // adapters implement core's ports
  intel: ['core'],
  policy: ['core'], // a pure engine the gateway, console and cases share
  gateway: ['core', 'intel', 'policy'], // enforcement arrives through the store and bus, never by importing cases
  detection: ['core', 'intel'],
  cases: ['core', 'policy'],
  console: ['core', 'cases', 'detection', 'policy'], // the browser client talks only to the HTTP API
  sim: ['core', 'intel', 'detection'], // drives the gateway over HTTP like any client
  cli: ['core', 'store', 'intel', 'policy', 'gateway', 'detection', 'cases', 'console', 'sim'], // the composition root
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.contract.ts')) out.push(p);
  }
  return out;
}

describe('part boundaries', () => {
  const violations: string[] = [];
  for (const part of Object.keys(ALLOWED)) {
    let list: string[] = [];
    try {
      list = files(path.join(SRC, part));
    } catch {
      continue;
    }
    for (const file of list) {
      if (file.includes(`${path.sep}client${path.sep}`)) continue; // browser code, bundled separately
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from\s+'(\.[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), m[1]!);
        const rel = path.relative(SRC, target);
        if (rel.startsWith('..')) continue;
        const other = rel.split(path.sep)[0]!;
        if (other === part) continue;
        const where = `${path.relative(SRC, file)} imports ${m[1]}`;
        if (!ALLOWED[part]!.includes(other)) violations.push(`${where}: ${part} may not depend on ${other}`);
        else if (other !== 'core' && path.basename(rel) !== 'index.js') violations.push(`${where}: import ${other} through its index.ts`);
      }
    }
  }
  it('imports only allowed parts, through their index.ts', () => {
    expect(violations).toEqual([]);
  });
});

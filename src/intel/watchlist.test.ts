import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWatchlist } from './watchlist.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-watchlist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadWatchlist', () => {
  it('reads the interchange YAML example with defaults filled in', () => {
    const f = join(dir, 'w.yaml');
    writeFileSync(
      f,
      `restricted_countries: [CN, RU]\nentities:\n  - id: example-conglomerate\n    name: Example Conglomerate Group Holding Ltd\n    kind: competitor\n    native_names: ["示例集团"]\n    asns: [64500]\n`,
    );
    const w = loadWatchlist(f);
    expect(w.restricted_countries).toEqual(['CN', 'RU']);
    expect(w.entities[0]).toMatchObject({ id: 'example-conglomerate', aliases: [], asns: [64500], native_names: ['示例集团'] });
  });
  it('reads JSON', () => {
    const f = join(dir, 'w.json');
    writeFileSync(f, JSON.stringify({ entities: [{ id: 'x', name: 'X Corp', kind: 'restricted' }] }));
    expect(loadWatchlist(f).entities).toHaveLength(1);
  });
  it('names the file and the field in errors', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'entities:\n  - id: x\n    name: X\n    kind: enemy\n');
    expect(() => loadWatchlist(f)).toThrow(/bad\.yaml: entities\[0\]\.kind/);
    const g = join(dir, 'broken.json');
    writeFileSync(g, '{');
    expect(() => loadWatchlist(g)).toThrow(/broken\.json: not valid JSON/);
    expect(() => loadWatchlist(join(dir, 'nope.yaml'))).toThrow(/nope\.yaml/);
    const d = join(dir, 'dup.yaml');
    writeFileSync(d, 'entities:\n  - {id: a, name: A, kind: competitor}\n  - {id: a, name: B, kind: competitor}\n');
    expect(() => loadWatchlist(d)).toThrow(/used twice/);
  });
});

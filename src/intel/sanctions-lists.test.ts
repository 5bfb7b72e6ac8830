import { describe, expect, it } from 'vitest';
import { parseCsv } from './sanctions-lists.js';

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, empty fields and both line endings', () => {
    expect(parseCsv('a,"b, c","say ""hi""",\r\n1,,3\n')).toEqual([
      ['a', 'b, c', 'say "hi"', ''],
      ['1', '', '3'],
    ]);
  });
  it('reads a quoted field spanning lines and a last line without newline', () => {
    expect(parseCsv('"x\ny",z\nlast,row')).toEqual([
      ['x\ny', 'z'],
      ['last', 'row'],
    ]);
  });
  it('reads the OFAC legacy format', () => {
    const rows = parseCsv('306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. \'BNC\'."\n');
    expect(rows[0]).toHaveLength(12);
    expect(rows[0]![1]).toBe('BANCO NACIONAL DE CUBA');
    expect(rows[0]![11]).toBe("a.k.a. 'BNC'.");
  });
});

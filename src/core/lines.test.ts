import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './lines.js';

async function viaReadline(chunks: Buffer[]): Promise<string[]> {
  const rl = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity });
  const out: string[] = [];
  rl.on('line', (l) => out.push(l));
  await once(rl, 'close');
  return out;
}

function viaSplitter(chunks: Buffer[]): string[] {
  const s = new LineSplitter();
  const out: string[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}

describe('LineSplitter', () => {
  it('gives the lines readline gives, however the bytes are cut into chunks', async () => {
    const texts = ['{"a":1}\n{"b":"ü€𝄞"}\n', 'one\r\ntwo\rthree\n\nfour', 'x\r', '\r\n\r\n', 'last\r\n', '', 'no end', 'a\r\rb\n\r\nc'];
    for (const text of texts) {
      const bytes = Buffer.from(text, 'utf8');
      const expected = await viaReadline([bytes]);
      // Every way of cutting the bytes in two, and one byte at a time (a character split across chunks).
      for (let cut = 0; cut <= bytes.length; cut++) expect(viaSplitter([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
      expect(viaSplitter([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
    }
  });
});

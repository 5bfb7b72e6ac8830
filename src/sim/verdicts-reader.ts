/**
 * Reads the `accounts` of a verdicts.json as a stream: the file can be larger than memory
 * (interchange.md), so each account object is cut out by a small scanner and parsed alone.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { AccountVerdict, ValidationError } from '../core/index.js';

export async function* readVerdictAccounts(file: string, opts: { chunkSize?: number } = {}): AsyncGenerator<AccountVerdict> {
  const raw = createReadStream(file, opts.chunkSize ? { highWaterMark: opts.chunkSize } : {});
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  input.setEncoding('utf8');
  let depth = 0;
  let inString = false;
  let escape = false;
  let keyStart = -1;
  /** The start of a top-level key cut by the end of the previous chunk. */
  let keyHead = '';
  let lastKey = '';
  let inAccounts = false;
  let capture: string[] | null = null;
  let n = 0;
  let sawAccounts = false;
  for await (const chunk of input as AsyncIterable<string>) {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk.charCodeAt(i);
      if (inString) {
        if (escape) escape = false;
        else if (ch === 92) escape = true;
        else if (ch === 34) {
          inString = false;
          if (keyStart >= 0) {
            lastKey = keyHead + chunk.slice(keyStart, i);
            keyStart = -1;
            keyHead = '';
          }
        }
        continue;
      }
      if (ch === 34) {
        inString = true;
        // Keys of the top-level object (short, so taken from the chunk they start in).
        keyStart = depth === 1 && capture === null ? i + 1 : -1;
      } else if (ch === 123 || ch === 91) {
        if (depth === 1 && ch === 91 && lastKey === 'accounts') {
          inAccounts = true;
          sawAccounts = true;
        } else if (depth === 2 && inAccounts && ch === 123) {
          capture = [];
          from = i;
        }
        depth++;
      } else if (ch === 125 || ch === 93) {
        depth--;
        if (depth === 2 && inAccounts && ch === 125 && capture !== null) {
          capture.push(chunk.slice(from, i + 1));
          const text = capture.join('');
          capture = null;
          n++;
          const r = AccountVerdict.safeParse(JSON.parse(text));
          if (!r.success) {
            throw new ValidationError(`${file}: accounts[${n - 1}]: ${r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
          }
          yield r.data;
        } else if (depth === 1 && inAccounts && ch === 93) inAccounts = false;
      }
    }
    if (capture !== null) capture.push(chunk.slice(from));
    if (inString && keyStart >= 0) {
      keyHead += chunk.slice(keyStart);
      keyStart = 0;
    }
  }
  if (depth !== 0 || inString) throw new ValidationError(`${file}: truncated JSON (the document does not close).`);
  if (!sawAccounts) throw new ValidationError(`${file}: no "accounts" array: expected a verdicts.json as written by \`warden analyze\`.`);
}

/**
 * JSON Lines I/O: a line writer that respects backpressure, and a lenient reader that reports
 * a malformed line with its file and line number, skips it and counts it (interchange.md).
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import type { z } from 'zod';
import { lineBatches, ValidationError } from '../core/index.js';

export class LineWriter {
  private readonly file: WriteStream;
  private readonly out: WriteStream | Gzip;
  private buf: string[] = [];
  private size = 0;
  bytes = 0;

  constructor(path: string, private readonly chunkChars = 1 << 18) {
    this.file = createWriteStream(path);
    if (path.endsWith('.gz')) {
      const gz = createGzip();
      gz.pipe(this.file);
      this.out = gz;
    } else this.out = this.file;
  }

  /** Queues a line without waiting; returns true when the caller should `await flush()`. */
  push(line: string): boolean {
    this.buf.push(line);
    this.size += line.length + 1;
    return this.size >= this.chunkChars;
  }

  /** Queues a line; resolves at once unless a chunk had to wait for the disk. */
  async write(line: string): Promise<void> {
    this.buf.push(line);
    this.size += line.length + 1;
    if (this.size >= this.chunkChars) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const chunk = this.buf.join('\n') + '\n';
    this.buf = [];
    this.size = 0;
    this.bytes += Buffer.byteLength(chunk);
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    const done = once(this.file, 'close');
    this.out.end();
    await done;
  }
}

export interface ReadIssue {
  file: string;
  line: number;
  message: string;
}

/**
 * Reads a `.jsonl` or `.jsonl.gz` file record by record, parsed with `schema`. A bad line is
 * passed to `onIssue` and skipped; with `strict` it throws instead.
 */
export async function* readJsonl<T extends z.ZodType>(
  file: string,
  schema: T,
  opts: { strict?: boolean; onIssue?: (i: ReadIssue) => void } = {},
): AsyncGenerator<z.infer<T>> {
  const input: AsyncIterable<Buffer> = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  let n = 0;
  for await (const batch of lineBatches(input)) for (const line of batch) {
    n++;
    if (!line.trim()) continue;
    let value: unknown;
    let message: string | undefined;
    try {
      value = JSON.parse(line);
    } catch (e) {
      message = `not JSON: ${(e as Error).message}`;
    }
    if (message === undefined) {
      const r = schema.safeParse(value);
      if (r.success) {
        yield r.data;
        continue;
      }
      message = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    }
    const issue = { file, line: n, message };
    if (opts.strict) throw new ValidationError(`${file}:${n}: ${message}`, [{ path: `${file}:${n}`, message }]);
    opts.onIssue?.(issue);
  }
}

import { describe, expect, it } from 'vitest';
import { createBatchWriter } from './batch-writer.js';

describe('createBatchWriter', () => {
  it('writes items that arrive together in one call, and resolves each add after it', async () => {
    const calls: number[][] = [];
    const w = createBatchWriter<number>(async (xs) => void calls.push(xs), { maxItems: 100, lingerMs: 5 });
    await Promise.all([1, 2, 3].map((x) => w.add(x)));
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('writes at once when maxItems wait, without waiting for the linger', async () => {
    const calls: number[][] = [];
    const w = createBatchWriter<number>(async (xs) => void calls.push(xs), { maxItems: 2, lingerMs: 60_000 });
    await Promise.all([w.add(1), w.add(2)]);
    expect(calls).toEqual([[1, 2]]);
  });

  it('rejects every add of a failed batch, and the next batch is written afresh', async () => {
    let fail = true;
    const written: number[] = [];
    const w = createBatchWriter<number>(
      async (xs) => {
        if (fail) throw new Error('database away');
        written.push(...xs);
      },
      { maxItems: 10, lingerMs: 1 },
    );
    const r = await Promise.allSettled([w.add(1), w.add(2)]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await w.add(3);
    expect(written).toEqual([3]);
  });

  it('refuses options that could never write', () => {
    expect(() => createBatchWriter(async () => undefined, { maxItems: 0, lingerMs: 1 })).toThrow(/maxItems/);
  });
});

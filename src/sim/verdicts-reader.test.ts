import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, removeTempDirs } from './test-world.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { Verdicts } from '../core/index.js';
import { readVerdictAccounts } from './verdicts-reader.js';

const doc: Verdicts = {
  generated_at: '2026-03-01T00:00:00Z',
  summary: { accounts: 3, events: 10, skipped_lines: 0, degraded_detectors: ['text: no prompts {braces} "quoted"'] },
  accounts: [
    { account_id: 'acc_1', risk: 0.97, labels: ['hydra_member'], cluster_id: 'cl_7', attributed_entity: 'example-conglomerate', recommended_action: 'block', first_flagged_at: '2026-02-11T08:14:00Z', reasons: [{ code: 'x', detail: 'a "}" and a \\\\ and ]', weight: 0.4 }] },
    { account_id: 'acc_2', risk: 0, labels: [], attributed_entity: null, recommended_action: 'none', reasons: [] },
    { account_id: 'acc_3', risk: 0.5, labels: [], recommended_action: 'monitor', end_user_ids: ['u_1'], reasons: [] },
  ],
  clusters: [{ cluster_id: 'cl_7', members: ['acc_1'], labels: [], risk: 0.9, recommended_action: 'block', evidence: [] }],
};

describe('readVerdictAccounts', () => {
  for (const [name, text] of [
    ['compact', JSON.stringify(doc)],
    ['pretty', JSON.stringify(doc, null, 2)],
  ] as const) {
    it(`reads every account of a ${name} document, whatever the chunk boundaries`, async () => {
      const f = join(tempDir('warden-v-'), 'verdicts.json');
      writeFileSync(f, text);
      for (const chunkSize of [1, 3, 7, 64, 65536]) {
        const got = [];
        for await (const v of readVerdictAccounts(f, { chunkSize })) got.push(v);
        expect(got).toEqual(doc.accounts);
      }
    });
  }

  it('rejects a truncated document and one without accounts', async () => {
    const d = tempDir('warden-v-');
    writeFileSync(join(d, 'cut.json'), JSON.stringify(doc).slice(0, 200));
    writeFileSync(join(d, 'none.json'), '{"clusters": []}');
    const all = async (f: string) => {
      for await (const v of readVerdictAccounts(f)) void v;
    };
    await expect(all(join(d, 'cut.json'))).rejects.toThrow(/truncated/);
    await expect(all(join(d, 'none.json'))).rejects.toThrow(/no "accounts" array/);
  });
});

afterAll(() => removeTempDirs());

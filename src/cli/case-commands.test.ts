import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Case } from '../core/index.js';
import { isWardenError } from '../core/index.js';
import { formatCase, formatCaseTable, htmlToPdf } from './case-commands.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'warden-cli-'));
  dirs.push(d);
  return d;
};

function aCase(over: Partial<Case> = {}): Case {
  return {
    case_id: 'case_abc',
    title: 'Cluster cl_7 (3 accounts): hydra_cluster',
    severity: 'high',
    status: 'open',
    created_at: '2026-03-01T08:00:00Z',
    updated_at: '2026-03-01T09:30:00Z',
    version: 2,
    accounts: ['acc_1', 'acc_2', 'acc_3'],
    clusters: ['cl_7'],
    alerts: ['al_1'],
    notes: [{ note_id: 'n1', author: 'ana', text: 'looks coordinated', at: '2026-03-01T09:00:00Z' }],
    snapshots: [],
    actions: [],
    timeline: [{ at: '2026-03-01T08:00:00Z', kind: 'created', by: 'system', detail: 'opened from 1 alert(s)' }],
    score: 0.81,
    ...over,
  };
}

describe('case formatting', () => {
  it('prints a table with a header and one aligned row per case', () => {
    const t = formatCaseTable([aCase(), aCase({ case_id: 'case_longer_id', severity: 'critical', assignee: 'ana', title: 'x'.repeat(200) })]).split('\n');
    expect(t[0]).toMatch(/^CASE\s+SEVERITY\s+STATUS\s+ACCTS\s+SCORE\s+ASSIGNEE\s+UPDATED\s+TITLE$/);
    expect(t.length).toBe(3);
    expect(t[1]!.indexOf('high')).toBe(t[2]!.indexOf('critical'));
    expect(t[1]).toContain('2026-03-01 09:30');
    expect(t[2]!.endsWith('…')).toBe(true);
    expect(formatCaseTable([])).toBe('No cases match.');
  });
  it('shows a case with its subjects, notes and timeline', () => {
    const s = formatCase(aCase());
    expect(s).toContain('case_abc');
    expect(s).toContain('clusters: cl_7');
    expect(s).toContain('ana: looks coordinated');
    expect(s).toContain('opened from 1 alert(s)');
  });
});

describe('htmlToPdf', () => {
  it('says how to get Chromium when none is installed', async () => {
    const err = await htmlToPdf('<p>x</p>', path.join(tmp(), 'r.pdf'), { candidates: ['/nonexistent/chromium'] }).catch((e: unknown) => e);
    expect(isWardenError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/looked for \/nonexistent\/chromium.*apt-get install chromium.*--format html/);
  });
  it('runs Chromium headless with print-to-pdf on a file holding the page', async () => {
    const d = tmp();
    // A stand-in for Chromium that records its arguments and the page, and writes the PDF.
    const fake = path.join(d, 'chromium');
    writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > "${d}/args"\nfor a in "$@"; do case "$a" in --print-to-pdf=*) out="\${a#--print-to-pdf=}";; file://*) page="\${a#file://}";; esac; done\ncp "$page" "${d}/page.html"\nprintf '%%PDF-1.4 fake' > "$out"\n`);
    chmodSync(fake, 0o755);
    const out = path.join(d, 'r.pdf');
    await htmlToPdf('<h1>case_abc</h1>', out, { candidates: [fake] });
    expect(readFileSync(out, 'utf8')).toMatch(/^%PDF/);
    const args = readFileSync(path.join(d, 'args'), 'utf8').split('\n');
    expect(args).toEqual(expect.arrayContaining(['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', `--print-to-pdf=${out}`]));
    expect(readFileSync(path.join(d, 'page.html'), 'utf8')).toBe('<h1>case_abc</h1>');
    // The temporary page is removed afterwards.
    const page = args.find((a) => a.startsWith('file://'))!.slice('file://'.length);
    expect(existsSync(page)).toBe(false);
  });
});

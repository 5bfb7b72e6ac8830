import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Verdicts, isWardenError, type UsageEvent } from '../core/index.js';
import { analyze } from './analyze.js';
import { account, event, fakeIntel, HOUR, ipOf, PROMPTS, T0 } from './test-world.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'warden-detection-'));
  dirs.push(d);
  return d;
}

/** Eight card-sharing accounts sending sweeps, and one ordinary developer. */
function world(dir: string, opts: { gzip?: boolean; bad?: boolean } = {}) {
  const accounts = [...Array.from({ length: 8 }, (_, i) => account(`h${i}`, { payment_fingerprint: `card_${i % 2}` })), account('dev', { payment_fingerprint: 'pm_dev' })];
  const events: UsageEvent[] = [];
  for (let i = 0; i < 8; i++) {
    for (let k = 0; k < 40; k++) {
      events.push(event(`h${i}`, T0 + k * HOUR + i * 1000, { ip: ipOf('hosting', 'SG', i), prompt: k % 2 ? PROMPTS.mcq(k) : PROMPTS.cot(k), system: PROMPTS.cotSystem, output_tokens: 900, input_tokens: 250 }));
    }
  }
  for (let k = 0; k < 20; k++) events.push(event('dev', T0 + k * HOUR + 500, { ip: ipOf('residential', 'US', 1), prompt: PROMPTS.chat(k), turns: 5 }));
  events.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  const lines = events.map((e) => JSON.stringify(e));
  if (opts.bad) {
    lines.splice(3, 0, '{"event_id": "broken"');
    lines.splice(10, 0, JSON.stringify({ event_id: 'x', ts: 'yesterday' }));
  }
  const acc = accounts.map((a) => JSON.stringify(a)).join('\n') + '\n';
  const ev = lines.join('\n') + '\n';
  const accountsFile = join(dir, opts.gzip ? 'accounts.jsonl.gz' : 'accounts.jsonl');
  const eventsFile = join(dir, opts.gzip ? 'events.jsonl.gz' : 'events.jsonl');
  writeFileSync(accountsFile, opts.gzip ? gzipSync(acc) : acc);
  writeFileSync(eventsFile, opts.gzip ? gzipSync(ev) : ev);
  return { accountsFile, eventsFile, events: events.length };
}

describe('analyze (batch)', () => {
  it('streams gzip inputs and writes a verdicts.json that parses, with every account and its cluster', async () => {
    const dir = tmp();
    const w = world(dir, { gzip: true });
    const r = await analyze({ ...w, outDir: join(dir, 'out'), intel: fakeIntel() });
    const v = Verdicts.parse(JSON.parse(readFileSync(r.verdictsFile, 'utf8')));
    expect(v.summary).toMatchObject({ accounts: 9, events: w.events, skipped_lines: 0 });
    expect(v.accounts.map((a) => a.account_id).sort()).toEqual(['dev', 'h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7']);
    const h0 = v.accounts.find((a) => a.account_id === 'h0')!;
    expect(['step_up', 'block']).toContain(h0.recommended_action);
    expect(h0.cluster_id).toMatch(/^cl_/);
    expect(v.clusters.some((c) => c.members.includes('h0'))).toBe(true);
    expect(v.accounts.find((a) => a.account_id === 'dev')!.recommended_action).toBe('none');
  });

  it('reports malformed lines as file:line, skips and counts them; strict makes the first fatal', async () => {
    const dir = tmp();
    const w = world(dir, { bad: true });
    const issues: string[] = [];
    const r = await analyze({ ...w, outDir: join(dir, 'out'), intel: fakeIntel(), onIssue: (i) => issues.push(`${i.file}:${i.line}`) });
    expect(r.summary.skipped_lines).toBe(2);
    expect(issues).toEqual([`${w.eventsFile}:4`, `${w.eventsFile}:11`]);
    const err = await analyze({ ...w, outDir: join(dir, 'out2'), intel: fakeIntel(), strict: true }).catch((e: unknown) => e);
    expect(isWardenError(err)).toBe(true);
    expect(String((err as Error).message)).toContain(`${w.eventsFile}:4`);
  });

  it('rejects malformed account lines with the schema message and accepts extra fields and owners', async () => {
    const dir = tmp();
    const w = world(dir);
    const good = readFileSync(w.accountsFile, 'utf8');
    const extra = [
      { account_id: 'bad_country', created_at: '2026-01-01T00:00:00Z', declared_country: 'usa' },
      { account_id: 'bad_use', created_at: '2026-01-01T00:00:00Z', declared_use: 'spying' },
      { account_id: 'bad_time', created_at: 'last week' },
      { account_id: 'bad_ip', created_at: '2026-01-01T00:00:00Z', signup_ip: '300.1.1.1' },
      { account_id: '', created_at: '2026-01-01T00:00:00Z' },
      { account_id: 'extra_field', created_at: '2026-01-01T00:00:00Z', plan: 'pro', email: 'a@corp.example' },
      { account_id: 'owned', created_at: '2026-01-01T00:00:00Z', org_name: 'Owned Ltd', owners: [{ name: 'Parent plc', share: 0.6 }] },
      { account_id: 'v6', created_at: '2026-01-01T00:00:00Z', signup_ip: '2001:db8::1' },
    ];
    writeFileSync(w.accountsFile, good + extra.map((a) => JSON.stringify(a)).join('\n') + '\n');
    const issues: string[] = [];
    const r = await analyze({ ...w, outDir: join(dir, 'out'), intel: fakeIntel(), onIssue: (i) => issues.push(`${i.line}: ${i.message}`) });
    expect(r.summary.accounts).toBe(9 + 3);
    expect(r.summary.skipped_lines).toBe(5);
    expect(issues.map((i) => i.split(':')[0])).toEqual(['10', '11', '12', '13', '14']);
    expect(issues[0]).toContain('declared_country');
    expect(issues[1]).toContain('declared_use');
    expect(issues[2]).toContain('created_at');
    expect(issues[3]).toContain('signup_ip');
    expect(issues[4]).toContain('account_id');
    const v = Verdicts.parse(JSON.parse(readFileSync(r.verdictsFile, 'utf8')));
    expect(v.accounts.map((a) => a.account_id)).toEqual(expect.arrayContaining(['extra_field', 'owned', 'v6']));
  });

  it('reports how far each phase is, by bytes read and verdicts written, ending each at 1', async () => {
    const dir = tmp();
    const w = world(dir, { gzip: true });
    const seen: { phase: string; fraction: number }[] = [];
    await analyze({ ...w, outDir: join(dir, 'out'), intel: fakeIntel(), onProgress: (p) => seen.push({ phase: p.phase, fraction: p.fraction }) });
    for (const phase of ['accounts', 'events', 'write']) {
      const f = seen.filter((x) => x.phase === phase).map((x) => x.fraction);
      expect(f.at(-1)).toBe(1);
      expect(f.every((x, i) => x >= 0 && x <= 1 && (i === 0 || x >= f[i - 1]!))).toBe(true);
    }
    expect(seen.map((x) => x.phase).filter((p, i, a) => p !== a[i - 1])).toEqual(['accounts', 'events', 'clusters', 'write']);
  });

  it('lists degraded detectors when events carry no content and no intelligence is given', async () => {
    const dir = tmp();
    const events = Array.from({ length: 5 }, (_, k) => JSON.stringify(event('dev', T0 + k * HOUR))).join('\n');
    writeFileSync(join(dir, 'a.jsonl'), JSON.stringify(account('dev')) + '\n');
    writeFileSync(join(dir, 'e.jsonl'), events + '\n');
    const r = await analyze({ accountsFile: join(dir, 'a.jsonl'), eventsFile: join(dir, 'e.jsonl'), outDir: dir });
    expect(r.summary.degraded_detectors.join(' ')).toMatch(/distillation/);
    expect(r.summary.degraded_detectors.join(' ')).toMatch(/network types/);
  });

  it('keeps cluster ids of a previous run', async () => {
    const dir = tmp();
    const w = world(dir);
    const first = await analyze({ ...w, outDir: join(dir, 'one'), intel: fakeIntel() });
    const v1 = Verdicts.parse(JSON.parse(readFileSync(first.verdictsFile, 'utf8')));
    const renamed = { ...v1, clusters: v1.clusters.map((c, i) => ({ ...c, cluster_id: `cl_case_${i}` })) };
    const prev = join(dir, 'prev.json');
    writeFileSync(prev, JSON.stringify(renamed));
    const second = await analyze({ ...w, outDir: join(dir, 'two'), intel: fakeIntel(), previousVerdictsFile: prev });
    const v2 = Verdicts.parse(JSON.parse(readFileSync(second.verdictsFile, 'utf8')));
    expect(v2.clusters.map((c) => c.cluster_id).sort()).toEqual(renamed.clusters.map((c) => c.cluster_id).sort());
  });
});

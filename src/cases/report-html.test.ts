import { describe, expect, it } from 'vitest';
import type { Alert, Case, EnforcementAction, UsageEvent } from '../core/index.js';
import { usageOfEvents } from './admin-routes.js';
import { escapeHtml, linkageGraph, redactPrompt, renderCaseReportHtml } from './report-html.js';
import { caseReportJson } from './report.js';

const T0 = Date.parse('2026-03-01T08:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();

function alert(i: number, accounts: string[], over: Partial<Alert> = {}): Alert {
  return {
    alert_id: `al_${i}`,
    detector: 'hydra_cluster',
    subjects: { accounts, cluster_id: 'cl_7' },
    score: 0.9,
    evidence: [
      { code: 'shared_payment_fingerprint', detail: `pair ${i} shares a card`, weight: 0.4 },
      { code: 'shared_device_fingerprint', detail: 'one signup device', weight: 0.35 },
    ],
    indicators: { payment_fingerprints: ['pf_card_A'], device_fingerprints: [`df_${i % 2}`], ip_ranges: [`198.51.100.${i}/32`] },
    created_at: at(i),
    case_id: 'case_x',
    ...over,
  };
}

function fixture() {
  const alerts = [alert(1, ['acc_a', 'acc_b']), alert(2, ['acc_c']), alert(3, ['acc_d', 'acc_e'], { disposition: { verdict: 'false_positive', reason: 'family plan', by: 'ana', at: at(50) } })];
  const action: EnforcementAction = { action_id: 'act_1', subject: { kind: 'cluster', id: 'cl_7' }, decision: 'block', reason: 'hydra <cluster> & co', author: 'ana', created_at: at(60) };
  const c: Case = {
    case_id: 'case_x',
    title: 'Cluster cl_7 <b>bold</b> "quoted"',
    severity: 'critical',
    status: 'actioned',
    created_at: at(0),
    updated_at: at(60),
    version: 4,
    accounts: ['acc_a', 'acc_b', 'acc_c', 'acc_d', 'acc_e'],
    clusters: ['cl_7'],
    alerts: alerts.map((a) => a.alert_id),
    notes: [{ note_id: 'n1', author: 'ana', text: 'see <img src=x onerror=alert(1)>', at: at(55) }],
    snapshots: [],
    actions: ['act_1', 'act_missing'],
    timeline: [{ at: at(0), kind: 'created', by: 'system', detail: 'opened from 3 alert(s)' }],
    score: 0.9,
  };
  const events: UsageEvent[] = [];
  for (let h = 0; h < 5; h++) {
    for (let n = 0; n < (h + 1) * 3; n++) {
      events.push({ event_id: `e${h}_${n}`, ts: new Date(T0 + h * 3_600_000 + n * 1000).toISOString(), account_id: `acc_${'abc'[n % 3]}`, input_tokens: 100, output_tokens: 10, ...(n === 0 ? { prompt: `Mail me at bob@example.test or +1 (555) 123-4567, key sk-ant-abcdefghijklmnop ${h}` } : {}) });
    }
  }
  return { c, alerts, action, events };
}

describe('redactPrompt', () => {
  it('removes addresses, numbers and secrets, and cuts long text', () => {
    const r = redactPrompt('Email a.b@corp.example, call +44 20 7946 0958, card 4111-1111-1111-1111, key sk-ant-api03-XYZabcdefghij, from 203.0.113.9, see https://x.example/p?q=1 ok');
    expect(r).not.toMatch(/corp\.example|7946|4111|XYZabc|203\.0\.113|x\.example/);
    expect(r).toMatch(/\[email\].*\[number\].*\[number\].*\[secret\].*\[ip\].*\[url\] ok$/);
    expect(redactPrompt('word '.repeat(200), 50).length).toBe(50);
    expect(redactPrompt('at 12:30:45 from 2001:db8::7 ok')).toBe('at 12:30:45 from [ip] ok');
  });
});

describe('linkageGraph', () => {
  it('links accounts through attributes two or more hold, with the evidence on each edge, ignoring dismissed alerts', () => {
    const { alerts } = fixture();
    const g = linkageGraph(alerts);
    expect(g.accounts).toEqual(['acc_a', 'acc_b', 'acc_c']);
    // pf_card_A: a, b, c; df_1: a, b (alert 1); df_0 only via the dismissed alert 3 and c? c is alert 2 → df_0 alone.
    expect(g.attributes.map((a) => a.id)).toEqual(['payment_fingerprints:pf_card_A', 'device_fingerprints:df_1', 'ip_ranges:198.51.100.1/32']);
    expect(g.edges.filter((e) => e.attribute === 'payment_fingerprints:pf_card_A').map((e) => [e.account, e.evidence])).toEqual([
      ['acc_a', ['shared_payment_fingerprint']],
      ['acc_b', ['shared_payment_fingerprint']],
      ['acc_c', ['shared_payment_fingerprint']],
    ]);
    expect(linkageGraph(alerts)).toEqual(g);
    const capped = linkageGraph(alerts, 2, 1);
    expect(capped.accounts.length).toBe(2);
    expect(capped.omitted).toEqual({ accounts: 1, attributes: 2 });
  });
});

describe('renderCaseReportHtml', () => {
  it('is one self-contained page with the case, its evidence, chart, graph, actions and redacted samples, escaping everything', () => {
    const { c, alerts, action, events } = fixture();
    const { usage, extras } = usageOfEvents(events);
    const report = caseReportJson({ case: c, alerts, actions: [action], usage, generated_at: at(120), generated_by: 'Fictional Models <Inc>' });
    const html = renderCaseReportHtml(report, { ...extras, alerts });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=\"|href=\"|url\(/i);
    expect(html).toContain('case_x');
    expect(html).toContain('Cluster cl_7 &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot;');
    expect(html).toContain('hydra &lt;cluster&gt; &amp; co');
    expect(html).toContain('see &lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('Fictional Models &lt;Inc&gt;');
    for (const code of ['shared_payment_fingerprint', 'shared_device_fingerprint']) expect(html).toContain(code);
    expect(html).toContain('family plan'); // the dismissed alert's reason is shown as set aside
    // One bar per hour in the chart (5 hours of traffic).
    const chart = /<svg class="chart"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(chart.match(/<rect /g)!.length).toBe(5);
    const graph = /<svg class="graph"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(graph.match(/<circle /g)!.length).toBe(3);
    // Samples are redacted, one per account.
    expect(html).not.toMatch(/bob@example\.test|555|sk-ant-abc/);
    expect(html).toContain('[email]');
    expect(html).toContain('act_missing');
    expect(html).toMatch(/SHA-256 of the JSON report \(canonical form\): <span class="mono">[0-9a-f]{64}</);
    expect(renderCaseReportHtml(report, { ...extras, alerts })).toBe(html);
  });

  it('says so when there is no usage, no link and no action', () => {
    const { c, alerts } = fixture();
    const report = caseReportJson({ case: { ...c, actions: [] }, alerts: alerts.map((a) => ({ ...a, indicators: {} })), generated_at: at(1) });
    const html = renderCaseReportHtml(report);
    expect(html).toContain('No usage events');
    expect(html).toContain('No shared attribute links');
    expect(html).toContain('No action taken yet');
    expect(escapeHtml(`<'&">`)).toBe('&lt;&#39;&amp;&quot;&gt;');
  });
});

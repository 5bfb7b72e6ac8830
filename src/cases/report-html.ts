/**
 * The evidence report as one self-contained HTML page: readable offline and printable (inline
 * CSS and SVG, no script, no external asset). Summary and key figures, requests per hour, usage
 * per account, the linkage graph (accounts and the shared attributes that link them, edges
 * labelled by the evidence), the attribution reasoning with each evidence's weight, redacted
 * sample prompts, actions, notes and the timeline. Everything from the data is HTML-escaped.
 */
import { createHash } from 'node:crypto';
import type { Alert, CaseIndicators } from '../core/index.js';
import { canonicalJson } from './audit-chain.js';
import type { CaseReport } from './report.js';

export interface ReportExtras {
  /** Requests per hour (`hour` is the RFC 3339 start of the hour), in time order. */
  hourly?: { hour: string; requests: number }[];
  /** A few prompts, already redacted (`redactPrompt`). */
  samples?: { account_id: string; at: string; text: string }[];
  /** The case's alerts, for the linkage graph (their accounts and indicators). */
  alerts?: readonly Alert[];
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Removes what identifies a person or unlocks something from a prompt before it is shown:
 * email addresses, URLs, IP addresses, secrets (API keys, long tokens), card-like and phone-like
 * digit runs; then cuts it to `max` characters.
 */
export function redactPrompt(text: string, max = 280): string {
  let t = text
    .replace(/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, '[email]')
    .replace(/\bhttps?:\/\/\S+/gi, '[url]')
    .replace(/\b(?:sk|pk|rk|wk|key|tok)[-_][A-Za-z0-9_-]{8,}\b/gi, '[secret]')
    .replace(/\b[A-Za-z0-9+/_-]{32,}={0,2}/g, '[secret]')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '[ip]')
    .replace(/(?:\b[0-9a-f]{1,4}|(?=::))(?::[0-9a-f]{0,4}){2,7}\b/gi, (m) => (m.includes('::') || /[a-f]/i.test(m) ? '[ip]' : m))
    .replace(/\+?\d[\d ().-]{6,}\d/g, '[number]')
    .replace(/\s+/g, ' ')
    .trim();
  if (t.length > max) t = `${t.slice(0, max - 1)}…`;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Linkage graph

export interface LinkageGraph {
  accounts: string[];
  attributes: { id: string; kind: keyof CaseIndicators; value: string; label: string }[];
  /** account → attribute, with the evidence codes that rest on the shared attribute. */
  edges: { account: string; attribute: string; evidence: string[] }[];
  /** Accounts and attributes left out to keep the picture readable. */
  omitted: { accounts: number; attributes: number };
}

const KIND_LABEL: Record<keyof CaseIndicators, string> = {
  ip_ranges: 'network',
  asns: 'AS',
  payment_fingerprints: 'payment',
  device_fingerprints: 'device',
  email_domains: 'email domain',
  prompt_fingerprints: 'prompt template',
};
const KIND_WORD: Record<keyof CaseIndicators, RegExp> = {
  ip_ranges: /ip|network|proxy|address/i,
  asns: /asn|network/i,
  payment_fingerprints: /payment|card/i,
  device_fingerprints: /device/i,
  email_domains: /email|domain/i,
  prompt_fingerprints: /prompt|template|distill/i,
};
const KIND_COLOR: Record<keyof CaseIndicators, string> = {
  ip_ranges: '#0e7490',
  asns: '#4338ca',
  payment_fingerprints: '#b45309',
  device_fingerprints: '#7c3aed',
  email_domains: '#047857',
  prompt_fingerprints: '#be123c',
};

/**
 * Accounts and the attributes that link them, from the alerts' subjects and indicators; an
 * attribute held by one account only links nothing and is left out. Deterministic.
 */
export function linkageGraph(alerts: readonly Alert[], maxAccounts = 40, maxAttributes = 24): LinkageGraph {
  const live = alerts.filter((a) => a.disposition?.verdict !== 'false_positive' && a.disposition?.verdict !== 'benign');
  const holders = new Map<string, { kind: keyof CaseIndicators; value: string; accounts: Set<string>; evidence: Set<string> }>();
  for (const a of live) {
    if (!a.indicators) continue;
    for (const kind of Object.keys(KIND_LABEL) as (keyof CaseIndicators)[]) {
      for (const v of (a.indicators[kind] ?? []) as (string | number)[]) {
        const id = `${kind}:${v}`;
        let h = holders.get(id);
        if (!h) holders.set(id, (h = { kind, value: String(v), accounts: new Set(), evidence: new Set() }));
        for (const acc of a.subjects.accounts) h.accounts.add(acc);
        for (const e of a.evidence) if (KIND_WORD[kind].test(e.code)) h.evidence.add(e.code);
      }
    }
  }
  const shared = [...holders.entries()]
    .filter(([, h]) => h.accounts.size >= 2)
    .sort((x, y) => y[1].accounts.size - x[1].accounts.size || (x[0] < y[0] ? -1 : 1));
  const attrs = shared.slice(0, maxAttributes);
  const accountDegree = new Map<string, number>();
  for (const [, h] of attrs) for (const acc of h.accounts) accountDegree.set(acc, (accountDegree.get(acc) ?? 0) + 1);
  const allAccounts = [...new Set(live.flatMap((a) => a.subjects.accounts))];
  const ranked = allAccounts.sort((a, b) => (accountDegree.get(b) ?? 0) - (accountDegree.get(a) ?? 0) || (a < b ? -1 : 1));
  const accounts = ranked.slice(0, maxAccounts).sort();
  const keep = new Set(accounts);
  const edges: LinkageGraph['edges'] = [];
  for (const [id, h] of attrs) {
    for (const acc of [...h.accounts].sort()) if (keep.has(acc)) edges.push({ account: acc, attribute: id, evidence: [...h.evidence].sort() });
  }
  return {
    accounts,
    attributes: attrs.map(([id, h]) => ({ id, kind: h.kind, value: h.value, label: `${KIND_LABEL[h.kind]} ${short(h.value, 18)}` })),
    edges,
    omitted: { accounts: allAccounts.length - accounts.length, attributes: shared.length - attrs.length },
  };
}

function short(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function graphSvg(g: LinkageGraph): string {
  if (!g.attributes.length) {
    return `<p class="muted">No shared attribute links the accounts of this case (the alerts carry no indicators held by two or more accounts).</p>`;
  }
  const rowA = 26;
  const rowB = Math.max(34, Math.floor((g.accounts.length * rowA) / Math.max(1, g.attributes.length)));
  const height = Math.max(g.accounts.length * rowA, g.attributes.length * Math.min(rowB, 60)) + 40;
  const width = 1000;
  const xa = 190;
  const xb = 640;
  const ya = new Map(g.accounts.map((a, i) => [a, 20 + (i + 0.5) * ((height - 40) / g.accounts.length)]));
  const yb = new Map(g.attributes.map((b, i) => [b.id, 20 + (i + 0.5) * ((height - 40) / g.attributes.length)]));
  const kindOf = new Map(g.attributes.map((b) => [b.id, b.kind]));
  const out: string[] = [];
  out.push(`<svg class="graph" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Linkage graph: accounts and the attributes they share">`);
  for (const e of g.edges) {
    const y1 = ya.get(e.account)!;
    const y2 = yb.get(e.attribute)!;
    const c = KIND_COLOR[kindOf.get(e.attribute)!];
    const mx = (xa + xb) / 2;
    out.push(`<path d="M${xa + 8} ${y1.toFixed(1)} C ${mx} ${y1.toFixed(1)}, ${mx} ${y2.toFixed(1)}, ${xb - 8} ${y2.toFixed(1)}" stroke="${c}" stroke-opacity="0.55" stroke-width="1.6" fill="none"><title>${escapeHtml(`${e.account} — ${e.attribute}: ${e.evidence.join(', ') || 'shared indicator'}`)}</title></path>`);
  }
  for (const a of g.accounts) {
    const y = ya.get(a)!;
    out.push(`<circle cx="${xa}" cy="${y.toFixed(1)}" r="7" fill="#1e293b"/><text x="${xa - 14}" y="${(y + 4).toFixed(1)}" text-anchor="end" class="gl">${escapeHtml(short(a, 24))}</text>`);
  }
  for (const b of g.attributes) {
    const y = yb.get(b.id)!;
    const c = KIND_COLOR[b.kind];
    const n = g.edges.filter((e) => e.attribute === b.id);
    const ev = n[0]?.evidence.join(', ') || `shared ${KIND_LABEL[b.kind]}`;
    out.push(`<rect x="${xb - 8}" y="${(y - 8).toFixed(1)}" width="16" height="16" rx="3" fill="${c}"/>`);
    out.push(`<text x="${xb + 16}" y="${(y - 1).toFixed(1)}" class="gl">${escapeHtml(b.label)} <tspan class="gm">· ${n.length} accounts</tspan></text>`);
    out.push(`<text x="${xb + 16}" y="${(y + 12).toFixed(1)}" class="ge" fill="${c}">${escapeHtml(short(ev, 48))}</text>`);
  }
  out.push('</svg>');
  const kinds = [...new Set(g.attributes.map((b) => b.kind))];
  const legend = kinds.map((k) => `<span class="lg"><i style="background:${KIND_COLOR[k]}"></i>${escapeHtml(KIND_LABEL[k])}</span>`).join('');
  const omitted = g.omitted.accounts || g.omitted.attributes ? ` <span class="muted">(${g.omitted.accounts} account(s) and ${g.omitted.attributes} attribute(s) not drawn)</span>` : '';
  return `${out.join('')}<div class="legend">● account ${legend}${omitted}</div>`;
}

// ---------------------------------------------------------------------------------------------
// Timeline chart

function hourlySvg(hourly: NonNullable<ReportExtras['hourly']>): string {
  if (!hourly.length) return '<p class="muted">No usage events of these accounts are stored for the report window.</p>';
  // Fill the gaps so an idle hour shows as an empty slot.
  const start = Date.parse(hourly[0]!.hour);
  const end = Date.parse(hourly[hourly.length - 1]!.hour);
  const byHour = new Map(hourly.map((h) => [Date.parse(h.hour), h.requests]));
  const n = Math.min(24 * 31, Math.round((end - start) / 3_600_000) + 1);
  const series = Array.from({ length: n }, (_, i) => ({ t: start + i * 3_600_000, v: byHour.get(start + i * 3_600_000) ?? 0 }));
  const max = Math.max(1, ...series.map((s) => s.v));
  const W = 1000;
  const H = 220;
  const left = 48;
  const bottom = 34;
  const plotW = W - left - 10;
  const plotH = H - bottom - 12;
  const bw = plotW / series.length;
  const nice = niceMax(max);
  const out = [`<svg class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Requests per hour">`];
  for (let i = 0; i <= 4; i++) {
    const v = (nice * i) / 4;
    const y = 12 + plotH - (v / nice) * plotH;
    out.push(`<line x1="${left}" x2="${W - 10}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e2e8f0"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" class="ax">${fmt(v)}</text>`);
  }
  series.forEach((s, i) => {
    const h = (s.v / nice) * plotH;
    const x = left + i * bw + Math.min(1, bw * 0.15);
    out.push(`<rect x="${x.toFixed(2)}" y="${(12 + plotH - h).toFixed(2)}" width="${Math.max(0.5, bw - Math.min(2, bw * 0.3)).toFixed(2)}" height="${h.toFixed(2)}" fill="#2563eb"><title>${escapeHtml(new Date(s.t).toISOString().slice(0, 16).replace('T', ' '))} UTC: ${s.v} requests</title></rect>`);
  });
  const step = Math.max(1, Math.ceil(series.length / 8));
  for (let i = 0; i < series.length; i += step) {
    const d = new Date(series[i]!.t).toISOString();
    out.push(`<text x="${(left + i * bw + bw / 2).toFixed(1)}" y="${H - 16}" text-anchor="middle" class="ax">${escapeHtml(d.slice(11, 16))}</text><text x="${(left + i * bw + bw / 2).toFixed(1)}" y="${H - 3}" text-anchor="middle" class="ax muted">${escapeHtml(d.slice(5, 10))}</text>`);
  }
  out.push('</svg>');
  return out.join('');
}

/** An RFC 3339 time as `2026-03-01 16:00 UTC` for reading (other text unchanged), escaped. */
function when(s: string | undefined): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?(?:\.\d+)?Z$/.exec(s ?? '');
  return m ? `${m[1]} ${m[2]}${m[3] && m[3] !== ':00' ? m[3] : ''} UTC` : escapeHtml(s);
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(v >= 1e7 ? 0 : 1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1);
}

// ---------------------------------------------------------------------------------------------
// Page

const CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#0f172a;background:#f1f5f9}
header{background:#0f172a;color:#e2e8f0;padding:22px 40px 20px}header .brand{font-size:12px;letter-spacing:.14em;text-transform:uppercase;color:#94a3b8}
header h1{margin:6px 0 8px;font-size:22px;font-weight:600;color:#fff}header .meta{font-size:12.5px;color:#94a3b8}header .meta b{color:#e2e8f0;font-weight:500}
main{max-width:1100px;margin:0 auto;padding:24px 40px 40px}section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:18px 22px;margin:0 0 18px}
h2{font-size:15px;margin:0 0 12px;color:#0f172a;font-weight:600;border-bottom:1px solid #f1f5f9;padding-bottom:8px}
.badge{display:inline-block;padding:2px 9px;border-radius:999px;font-size:11.5px;font-weight:600;text-transform:uppercase;letter-spacing:.05em;margin-right:6px}
.sev-critical{background:#7f1d1d;color:#fff}.sev-high{background:#dc2626;color:#fff}.sev-medium{background:#f59e0b;color:#1f2937}.sev-low{background:#cbd5e1;color:#1f2937}
.st{background:#1e3a8a;color:#dbeafe}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;margin-top:14px}.card{border:1px solid #e2e8f0;border-radius:6px;padding:10px 12px;background:#f8fafc}
.card .v{font-size:20px;font-weight:600}.card .k{font-size:11.5px;color:#64748b;text-transform:uppercase;letter-spacing:.04em}
table{width:100%;border-collapse:collapse;font-size:13px}th{text-align:left;font-weight:600;color:#475569;font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;border-bottom:1px solid #e2e8f0;padding:6px 8px}
td{border-bottom:1px solid #f1f5f9;padding:6px 8px;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.bar{background:#e2e8f0;border-radius:3px;height:8px;width:110px;display:inline-block;vertical-align:middle;margin-right:8px}.bar i{display:block;height:8px;border-radius:3px;background:#2563eb}
.muted{color:#64748b}.gl{font-size:12px;fill:#0f172a;font-family:ui-monospace,Menlo,Consolas,monospace}.gm{fill:#64748b}.ge{font-size:11px}.ax{font-size:11px;fill:#64748b}
.legend{font-size:12px;color:#475569;margin-top:6px}.lg{margin-left:14px}.lg i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
blockquote{margin:0 0 10px;padding:8px 12px;background:#f8fafc;border-left:3px solid #94a3b8;font-size:13px}blockquote .who{font-size:11.5px;color:#64748b;display:block;margin-bottom:2px}
.rev td{color:#64748b}.rev .dec{text-decoration:line-through}.revb{background:#e2e8f0;color:#475569}.t{white-space:nowrap}.ok{color:#047857;font-weight:600}.two{display:grid;grid-template-columns:1fr 1fr;gap:18px}
footer{font-size:11.5px;color:#64748b;text-align:center;padding:10px 40px 30px}
@media print{body{background:#fff}section{break-inside:avoid;border-color:#cbd5e1}header{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
`;

/** Renders the JSON report (and the extras) as a self-contained HTML page. Pure. */
export function renderCaseReportHtml(report: CaseReport, extras: ReportExtras = {}): string {
  const e = escapeHtml;
  const c = report.case;
  const u = report.volumes.usage;
  const card = (k: string, v: string | number) => `<div class="card"><div class="v">${e(typeof v === 'number' ? fmt(v) : v)}</div><div class="k">${e(k)}</div></div>`;
  const digest = createHash('sha256').update(canonicalJson(report)).digest('hex');

  const reasoning = report.attribution.reasoning
    .map(
      (r) =>
        `<tr><td><code>${e(r.code)}</code></td><td class="t"><span class="bar"><i style="width:${Math.round(r.share * 100)}%"></i></span>${Math.round(r.share * 100)}%</td><td class="n">${r.weight.toFixed(2)}</td><td class="n">${r.count}</td><td>${r.details.map((d) => e(d)).join('<br>')}</td></tr>`,
    )
    .join('');
  const discounted = report.attribution.discounted.length
    ? `<p class="muted">Set aside (dispositioned false positive or benign): ${report.attribution.discounted.map((d) => `<code>${e(d.alert_id)}</code> ${e(d.verdict)} — ${e(d.reason)}`).join('; ')}</p>`
    : '';
  const byAccount = Object.entries(u?.by_account ?? {});
  const accountRows = byAccount
    .slice(0, 25)
    .map(([a, v]) => `<tr><td class="mono">${e(a)}</td><td class="n">${fmt(v.requests)}</td><td class="n">${fmt(v.input_tokens)}</td><td class="n">${fmt(v.output_tokens)}</td></tr>`)
    .join('');
  const alertsRows = report.alerts
    .map(
      (a) =>
        `<tr><td class="mono">${e(a.alert_id)}</td><td>${e(a.detector)}</td><td class="n">${a.score.toFixed(2)}</td><td class="n">${a.accounts}</td><td class="t">${when(a.created_at)}</td><td>${a.disposition ? `${e(a.disposition.verdict)} <span class="muted">by ${e(a.disposition.by)}</span>` : '<span class="muted">open</span>'}</td><td>${a.evidence.map((x) => `<code>${e(x.code)}</code> <span class="muted">${x.weight.toFixed(2)}</span>`).join(', ')}</td></tr>`,
    )
    .join('');
  const actionRows = report.actions
    .map((a) =>
      a.found
        ? `<tr class="${a.reversed_at ? 'rev' : ''}"><td class="mono">${e(a.action_id)}</td><td><b class="dec">${e(a.decision)}</b></td><td>${e(a.subject?.kind)} <code>${e(a.subject?.id)}</code></td><td>${e(a.reason)}</td><td>${e(a.author)}</td><td class="t">${when(a.created_at)}</td><td>${a.reversed_at ? `<span class="badge revb">reversed</span> ${when(a.reversed_at)} by ${e(a.reversed_by)}: ${e(a.reversed_reason)}` : a.expires_at ? `<span class="ok">in force</span> until ${when(a.expires_at)}` : '<span class="ok">in force</span>'}</td></tr>`
        : `<tr><td class="mono">${e(a.action_id)}</td><td colspan="6" class="muted">action record not available</td></tr>`,
    )
    .join('');
  const samples = (extras.samples ?? []).map((s) => `<blockquote><span class="who">${e(s.account_id)} · ${when(s.at)}</span>${e(s.text)}</blockquote>`).join('');
  const notes = report.notes.map((n) => `<blockquote><span class="who">${e(n.author)} · ${when(n.at)}</span>${e(n.text)}</blockquote>`).join('');
  const timeline = report.timeline.map((t) => `<tr><td class="t">${when(t.at)}</td><td>${e(t.kind)}</td><td>${e(t.by)}</td><td>${e(t.detail)}</td></tr>`).join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(`Evidence report ${c.case_id}`)}</title><style>${CSS}</style></head>
<body>
<header>
<div class="brand">Warden · Evidence report${report.generated_by ? ` · ${e(report.generated_by)}` : ''}</div>
<h1>${e(c.title)}</h1>
<div class="meta"><span class="badge sev-${e(c.severity)}">${e(c.severity)}</span><span class="badge st">${e(c.status)}</span>
Case <b class="mono">${e(c.case_id)}</b> · opened <b>${when(c.created_at)}</b> · updated <b>${when(c.updated_at)}</b> · score <b>${c.score.toFixed(2)}</b>${c.assignee ? ` · assignee <b>${e(c.assignee)}</b>` : ''} · generated <b>${when(report.generated_at)}</b></div>
</header>
<main>
<section><h2>Summary</h2><p>${e(report.summary)}</p>
<div class="cards">${card('accounts', report.volumes.accounts)}${card('clusters', report.volumes.clusters)}${card('alerts', report.volumes.alerts)}${card('requests', u?.requests ?? 0)}${card('tokens', (u?.input_tokens ?? 0) + (u?.output_tokens ?? 0))}${card('actions in force', report.volumes.actions_in_force)}</div>
<p class="muted" style="margin:12px 0 0">Subjects: ${report.subjects.clusters.length ? `cluster(s) ${report.subjects.clusters.map((x) => `<code>${e(x)}</code>`).join(', ')}; ` : ''}${report.subjects.entity ? `attributed entity <b>${e(report.subjects.entity)}</b>; ` : ''}${report.subjects.accounts.length} account(s).</p>
</section>
<section><h2>Requests per hour${u?.since ? ` <span class="muted">(${when(u.since)} – ${when(u.until)})</span>` : ''}</h2>${hourlySvg(extras.hourly ?? [])}</section>
<section><h2>Linkage</h2>${graphSvg(linkageGraph(extras.alerts ?? []))}</section>
<section><h2>Attribution reasoning</h2>
<p>${report.attribution.entity ? `Attributed to <b>${e(report.attribution.entity)}</b>.` : 'Not attributed to a watchlist entity.'} Total evidence weight ${report.attribution.total_weight.toFixed(2)}, heaviest first.</p>
<table><thead><tr><th>evidence</th><th>share</th><th class="n">weight</th><th class="n">seen</th><th>detail</th></tr></thead><tbody>${reasoning || '<tr><td colspan="5" class="muted">No evidence counts.</td></tr>'}</tbody></table>${discounted}
</section>
<div class="two">
<section><h2>Volumes</h2><table><tbody>
<tr><td>Alerts by detector</td><td>${Object.entries(report.volumes.alerts_by_detector).map(([k, v]) => `${e(k)} ${v}`).join(', ')}</td></tr>
<tr><td>Alerts by disposition</td><td>${Object.entries(report.volumes.alerts_by_disposition).map(([k, v]) => `${e(k)} ${v}`).join(', ')}</td></tr>
<tr><td>Evidence items</td><td>${report.volumes.evidence_items}</td></tr>
<tr><td>Actions</td><td>${report.volumes.actions} (${report.volumes.actions_in_force} in force, ${report.volumes.actions_reversed} reversed)</td></tr>
<tr><td>Input / output tokens</td><td>${fmt(u?.input_tokens ?? 0)} / ${fmt(u?.output_tokens ?? 0)}</td></tr>
</tbody></table></section>
<section><h2>Usage by account</h2><table><thead><tr><th>account</th><th class="n">requests</th><th class="n">input</th><th class="n">output</th></tr></thead><tbody>${accountRows || '<tr><td colspan="4" class="muted">No usage stored.</td></tr>'}</tbody></table>${byAccount.length > 25 ? `<p class="muted">${byAccount.length - 25} more account(s) in the JSON report.</p>` : ''}</section>
</div>
<section><h2>Sample prompts <span class="muted">(redacted)</span></h2>${samples || '<p class="muted">No prompt text is retained for these accounts (raw text retention is off or expired).</p>'}</section>
<section><h2>Actions taken</h2><table><thead><tr><th>action</th><th>decision</th><th>subject</th><th>reason</th><th>by</th><th>at</th><th>state</th></tr></thead><tbody>${actionRows || '<tr><td colspan="7" class="muted">No action taken yet.</td></tr>'}</tbody></table></section>
<section><h2>Alerts</h2><table><thead><tr><th>alert</th><th>detector</th><th class="n">score</th><th class="n">accounts</th><th>raised</th><th>disposition</th><th>evidence (weight)</th></tr></thead><tbody>${alertsRows}</tbody></table></section>
${notes ? `<section><h2>Notes</h2>${notes}</section>` : ''}
<section><h2>Timeline</h2><table><thead><tr><th>at</th><th>kind</th><th>by</th><th>detail</th></tr></thead><tbody>${timeline}</tbody></table></section>
</main>
<footer>Evidence snapshots: ${report.evidence_snapshots.length}. SHA-256 of the JSON report (canonical form): <span class="mono">${digest}</span></footer>
</body></html>
`;
}

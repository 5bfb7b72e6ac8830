/**
 * The linkage graph of a case for the console: every account of the case, and the attributes
 * two or more of them share, from the alerts' indicators (as in the evidence report's
 * `linkageGraph`) and from the accounts' own records (payment and device fingerprints, e-mail
 * domain, sign-up network). Up to 500 nodes; accounts first.
 */
import type { AccountRecord, AccountRisk, Alert, Case, CaseIndicators } from '../../core/index.js';

export type GraphNodeKind = 'account' | 'payment' | 'device' | 'network' | 'ip_prefix' | 'asn' | 'template' | 'email_domain' | 'entity' | 'other';

export interface CaseGraph {
  nodes: { id: string; kind: GraphNodeKind; label: string; cluster_id?: string; risk?: number }[];
  edges: { id: string; source: string; target: string; label: string }[];
  /** Nodes left out past the cap. */
  omitted: number;
}

const INDICATOR_KIND: Record<keyof CaseIndicators, GraphNodeKind> = {
  ip_ranges: 'ip_prefix',
  asns: 'asn',
  payment_fingerprints: 'payment',
  device_fingerprints: 'device',
  email_domains: 'email_domain',
  prompt_fingerprints: 'template',
};
const KIND_WORD: Record<GraphNodeKind, string> = {
  account: 'account',
  payment: 'shares card',
  device: 'shares device',
  network: 'same network',
  ip_prefix: 'same IP range',
  asn: 'same ASN',
  template: 'same prompt template',
  email_domain: 'same e-mail domain',
  entity: 'attributed to',
  other: 'shares',
};

/** The /24 (IPv4) or /48 (IPv6) of an address, as the grouping of sign-up addresses. */
export function ipPrefix(ip: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  if (ip.includes(':')) {
    const parts = ip.split('::')[0]!.split(':');
    return `${parts.slice(0, 3).join(':')}::/48`;
  }
  return undefined;
}

const short = (s: string, n = 18) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function caseGraph(input: { case: Case; alerts: readonly Alert[]; accounts: ReadonlyMap<string, AccountRecord>; risk: ReadonlyMap<string, AccountRisk>; maxNodes?: number }): CaseGraph {
  const max = input.maxNodes ?? 500;
  const live = input.alerts.filter((a) => a.disposition?.verdict !== 'false_positive' && a.disposition?.verdict !== 'benign');
  const accountIds = [...new Set([...input.case.accounts, ...live.flatMap((a) => a.subjects.accounts)])].sort();
  const holders = new Map<string, { kind: GraphNodeKind; value: string; accounts: Set<string> }>();
  const hold = (kind: GraphNodeKind, value: string, account: string) => {
    const id = `${kind}:${value}`;
    let h = holders.get(id);
    if (!h) holders.set(id, (h = { kind, value, accounts: new Set() }));
    h.accounts.add(account);
  };
  for (const a of live) {
    if (!a.indicators) continue;
    for (const key of Object.keys(INDICATOR_KIND) as (keyof CaseIndicators)[]) {
      for (const v of (a.indicators[key] ?? []) as (string | number)[]) for (const acc of a.subjects.accounts) hold(INDICATOR_KIND[key], String(v), acc);
    }
  }
  for (const id of accountIds) {
    const acc = input.accounts.get(id);
    if (!acc) continue;
    if (acc.payment_fingerprint) hold('payment', acc.payment_fingerprint, id);
    if (acc.device_fingerprint) hold('device', acc.device_fingerprint, id);
    if (acc.email_domain) hold('email_domain', acc.email_domain, id);
    const prefix = acc.signup_ip ? ipPrefix(acc.signup_ip) : undefined;
    if (prefix) hold('ip_prefix', prefix, id);
  }
  const nodes: CaseGraph['nodes'] = [];
  const edges: CaseGraph['edges'] = [];
  let omitted = 0;
  const keep = new Set<string>();
  for (const id of accountIds) {
    if (nodes.length >= max) {
      omitted++;
      continue;
    }
    const r = input.risk.get(id);
    keep.add(id);
    nodes.push({ id, kind: 'account', label: id, ...(r?.cluster_id ? { cluster_id: r.cluster_id } : {}), ...(r ? { risk: r.risk } : {}) });
  }
  const shared = [...holders.entries()]
    .filter(([, h]) => [...h.accounts].filter((a) => keep.has(a)).length >= 2)
    .sort((x, y) => y[1].accounts.size - x[1].accounts.size || (x[0] < y[0] ? -1 : 1));
  for (const [id, h] of shared) {
    if (nodes.length >= max) {
      omitted++;
      continue;
    }
    nodes.push({ id, kind: h.kind, label: `${KIND_WORD[h.kind].replace(/^(shares|same) /, '')} ${short(h.value)}` });
    for (const acc of [...h.accounts].sort()) if (keep.has(acc)) edges.push({ id: `${acc}|${id}`, source: acc, target: id, label: KIND_WORD[h.kind] });
  }
  const entity = input.case.entity;
  if (entity && nodes.length < max) {
    const id = `entity:${entity}`;
    nodes.push({ id, kind: 'entity', label: entity });
    const attributed = new Set(live.filter((a) => a.subjects.entity === entity).flatMap((a) => a.subjects.accounts));
    for (const acc of attributed.size ? attributed : keep) if (keep.has(acc)) edges.push({ id: `${acc}|${id}`, source: acc, target: id, label: KIND_WORD.entity });
  } else if (entity) omitted++;
  return { nodes, edges, omitted };
}

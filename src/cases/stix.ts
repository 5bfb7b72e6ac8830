/**
 * STIX 2.1 export and import of a case's indicators, for sharing with other providers
 * (docs/cases.md "STIX"). Export: a bundle with the exporting provider's `identity` (the
 * `created_by_ref` of every object), the attributed entity's `identity`, one `indicator` per
 * IP range, ASN, email domain, payment, device and prompt-template fingerprint, a `campaign`
 * for the case, `relationship`s (indicator `indicates` campaign, campaign `attributed-to`
 * identity), a `report` tying them together, and a TLP marking. Warden's own indicator kinds
 * use custom observable types (`x-warden-*`) in patterns and a property extension
 * (`extension-definition`) carrying the kind and value, as STIX 2.1 §7.3 and §11 allow.
 * Ids are UUIDv5 over content, so exporting the same case twice gives the same ids.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Alert, CaseIndicators, SharedIndicator } from '../core/index.js';
import { ValidationError } from '../core/index.js';

// ---------------------------------------------------------------------------------------------
// Ids

/** Warden's namespace for UUIDv5 ids of the objects it exports. */
export const WARDEN_STIX_NAMESPACE = '6f1d4c2a-8b3e-5d7f-9a1c-2e4b6d8f0a13';

/** RFC 9562 UUID version 5 (SHA-1 over namespace and name). */
export function uuidv5(name: string, namespace = WARDEN_STIX_NAMESPACE): string {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const sid = (type: string, name: string) => `${type}--${uuidv5(`${type}|${name}`)}`;

// ---------------------------------------------------------------------------------------------
// Fixed objects

export type Tlp = 'white' | 'green' | 'amber' | 'red';

/** The TLP 1.0 marking definitions as the STIX 2.1 specification defines them (§7.2.1.4). */
export const TLP_MARKINGS: Record<Tlp, StixObject> = {
  white: tlp('white', 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9'),
  green: tlp('green', 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'),
  amber: tlp('amber', 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'),
  red: tlp('red', 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed'),
};
function tlp(level: Tlp, id: string): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id,
    created: '2017-01-20T00:00:00.000Z',
    definition_type: 'tlp',
    name: `TLP:${level.toUpperCase()}`,
    definition: { tlp: level },
  };
}

/** The Warden project, author of the extension definition (the same in every bundle). */
export const WARDEN_IDENTITY: StixObject = {
  type: 'identity',
  spec_version: '2.1',
  id: sid('identity', 'warden-project'),
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  name: 'Warden',
  identity_class: 'system',
  description: 'Open-source access control for AI model APIs; author of the x-warden STIX extension.',
};

/** The property extension on Warden's indicators: `indicator_kind`, `value`, `hash_algorithm`. */
export const WARDEN_EXTENSION: StixObject = {
  type: 'extension-definition',
  spec_version: '2.1',
  id: sid('extension-definition', 'warden-indicator-v1'),
  created_by_ref: WARDEN_IDENTITY.id,
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  name: 'Warden indicator',
  description:
    'Says which kind of account-abuse indicator a Warden indicator is (ip_range, asn, email_domain, payment_fingerprint, device_fingerprint, prompt_fingerprint) and its value, and names the x-warden-* observable types its patterns use: x-warden-payment-instrument:fingerprint_sha256, x-warden-device:fingerprint_sha256, x-warden-prompt-template:fingerprint.',
  // Plain text rather than a URL: the spec allows either, and the project has no fixed public URL yet.
  schema:
    'Property extension on indicator: indicator_kind (string: ip_range | asn | email_domain | payment_fingerprint | device_fingerprint | prompt_fingerprint), value (string or integer), hash_algorithm (optional string, "SHA-256" when value is a hash of the stored fingerprint). On identity: entity_id (string), aliases (list of string), jurisdiction (ISO 3166-1 alpha-2). Described in docs/cases.md of the Warden repository, section "STIX 2.1".',
  version: '1.0.0',
  extension_types: ['property-extension'],
};

export type StixObject = Record<string, unknown> & { type: string; id: string };
export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

// ---------------------------------------------------------------------------------------------
// Export

export type IndicatorKind = 'ip_range' | 'asn' | 'email_domain' | 'payment_fingerprint' | 'device_fingerprint' | 'prompt_fingerprint';

export interface StixCaseData {
  /** The exporting provider. */
  provider: { name: string; contact?: string };
  case: { case_id: string; title: string; created_at: string; updated_at: string; summary?: string; score?: number };
  /** The attributed entity (a watchlist entity), if any. */
  entity?: { id: string; name: string; kind?: string; jurisdiction?: string; aliases?: string[] };
  indicators: CaseIndicators;
  /** Default `amber`. */
  tlp?: Tlp;
  /** Default: the case's `created_at`. */
  valid_from?: string;
  valid_until?: string;
  /**
   * Export payment and device fingerprints as SHA-256 of the stored value (default true), so
   * a recipient can match its own hashes without learning ours. Prompt fingerprints are
   * exported as they are.
   */
  hashFingerprints?: boolean;
  /**
   * Put Warden's `extension-definition` (and its author's identity) in the bundle. Off by
   * default: the official bundle schema (oasis-open/cti-stix2-json-schemas at 3bf9e69) lists
   * no extension-definition and rejects it as a custom object (it matches both `core` and
   * `cyber-observable-core` in a `oneOf`), so strict validators refuse such bundles. The
   * definition is published in docs/cases.md and as `WARDEN_EXTENSION`.
   */
  includeExtensionDefinition?: boolean;
}

function stixTime(iso: string, path: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    throw new ValidationError(`${path}: expected an RFC 3339 time, got ${JSON.stringify(iso)}.`, [{ path, message: 'an RFC 3339 time' }]);
  }
  return new Date(ms).toISOString();
}

/** A STIX pattern string literal. */
function lit(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function checkCidr(v: string, path: string): { family: 4 | 6; cidr: string; single: boolean } {
  const [addr = '', len, extra] = v.split('/');
  const family = isIP(addr);
  const max = family === 4 ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (family === 0 || extra !== undefined || !Number.isInteger(n) || n < 0 || n > max || (len !== undefined && !/^\d+$/.test(len))) {
    throw new ValidationError(`${path}: expected an IPv4 or IPv6 range such as 198.51.100.0/24, got ${JSON.stringify(v)}.`, [{ path, message: 'a CIDR range' }]);
  }
  return { family: family as 4 | 6, cidr: `${addr.toLowerCase()}/${n}`, single: n === max };
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

interface PlannedIndicator {
  kind: IndicatorKind;
  value: string | number;
  pattern: string;
  name: string;
  hash_algorithm?: 'SHA-256';
}

function plan(ind: CaseIndicators, hash: boolean): PlannedIndicator[] {
  const out: PlannedIndicator[] = [];
  const uniqSorted = <T extends string | number>(xs: readonly T[] | undefined): T[] => [...new Set(xs ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  uniqSorted(ind.ip_ranges).forEach((v, i) => {
    const { family, cidr, single } = checkCidr(v, `indicators.ip_ranges[${i}]`);
    const type = family === 4 ? 'ipv4-addr' : 'ipv6-addr';
    const addr = cidr.split('/')[0]!;
    out.push({
      kind: 'ip_range',
      value: cidr,
      pattern: single ? `[${type}:value = ${lit(addr)}]` : `[${type}:value ISSUBSET ${lit(cidr)}]`,
      name: `Network ${cidr}`,
    });
  });
  uniqSorted(ind.asns).forEach((n, i) => {
    if (!Number.isInteger(n) || n < 0 || n > 4294967295) {
      throw new ValidationError(`indicators.asns[${i}]: expected an AS number 0..4294967295, got ${n}.`, [{ path: `indicators.asns[${i}]`, message: 'an AS number' }]);
    }
    out.push({ kind: 'asn', value: n, pattern: `[autonomous-system:number = ${n}]`, name: `AS${n}` });
  });
  uniqSorted(ind.email_domains?.map((d) => d.trim().toLowerCase().replace(/\.$/, ''))).forEach((d, i) => {
    if (!DOMAIN.test(d)) {
      throw new ValidationError(`indicators.email_domains[${i}]: expected a domain name such as example.test, got ${JSON.stringify(d)}.`, [
        { path: `indicators.email_domains[${i}]`, message: 'a domain name' },
      ]);
    }
    out.push({ kind: 'email_domain', value: d, pattern: `[domain-name:value = ${lit(d)}]`, name: `Email domain ${d}` });
  });
  const fp = (kind: 'payment_fingerprint' | 'device_fingerprint', type: string, label: string, xs: string[] | undefined) => {
    uniqSorted(xs).forEach((v, i) => {
      if (typeof v !== 'string' || v === '') {
        throw new ValidationError(`indicators.${kind}s[${i}]: expected a non-empty string.`, [{ path: `indicators.${kind}s[${i}]`, message: 'a non-empty string' }]);
      }
      const value = hash ? sha256(v) : v;
      out.push({
        kind,
        value,
        pattern: `[${type}:${hash ? 'fingerprint_sha256' : 'fingerprint'} = ${lit(value)}]`,
        name: `${label} ${value.slice(0, 12)}…`,
        ...(hash ? { hash_algorithm: 'SHA-256' as const } : {}),
      });
    });
  };
  fp('payment_fingerprint', 'x-warden-payment-instrument', 'Payment instrument', ind.payment_fingerprints);
  fp('device_fingerprint', 'x-warden-device', 'Device', ind.device_fingerprints);
  uniqSorted(ind.prompt_fingerprints).forEach((v) => {
    out.push({ kind: 'prompt_fingerprint', value: v, pattern: `[x-warden-prompt-template:fingerprint = ${lit(v)}]`, name: `Prompt template ${v.slice(0, 12)}` });
  });
  return out;
}

/**
 * The indicators of a case's alerts, merged and de-duplicated; alerts an analyst dispositioned
 * `false_positive` or `benign` contribute nothing (their indicators are not shared).
 */
export function collectCaseIndicators(alerts: readonly Alert[]): CaseIndicators {
  const acc: Required<CaseIndicators> = { ip_ranges: [], asns: [], payment_fingerprints: [], device_fingerprints: [], email_domains: [], prompt_fingerprints: [] };
  for (const a of alerts) {
    if (a.disposition?.verdict === 'false_positive' || a.disposition?.verdict === 'benign' || !a.indicators) continue;
    for (const k of Object.keys(acc) as (keyof CaseIndicators)[]) {
      (acc[k] as (string | number)[]).push(...((a.indicators[k] ?? []) as (string | number)[]));
    }
  }
  const out: CaseIndicators = {};
  for (const k of Object.keys(acc) as (keyof CaseIndicators)[]) {
    const vals = [...new Set(acc[k] as (string | number)[])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    if (vals.length) (out as Record<string, unknown>)[k] = vals;
  }
  return out;
}

const KIND_DESCRIPTION: Record<IndicatorKind, string> = {
  ip_range: 'Addresses the accounts connected from',
  asn: 'A network the accounts connected from or the entity operates',
  email_domain: 'An email domain the accounts signed up with',
  payment_fingerprint: 'A payment instrument shared by the accounts (hash of a hash, never the instrument)',
  device_fingerprint: 'A device or client fingerprint shared by the accounts',
  prompt_fingerprint: 'A prompt template the accounts used (docs/features.md)',
};

/** Builds the bundle (pure; throws `ValidationError` naming the bad input). */
export function exportStixBundle(data: StixCaseData): StixBundle {
  if (!data?.provider?.name) throw new ValidationError('provider.name: expected the exporting provider’s name.', [{ path: 'provider.name', message: 'a name' }]);
  if (!data.case?.case_id) throw new ValidationError('case.case_id: expected the case id.', [{ path: 'case.case_id', message: 'an id' }]);
  const level = data.tlp ?? 'amber';
  const marking = TLP_MARKINGS[level];
  if (!marking) throw new ValidationError(`tlp: expected white, green, amber or red, got ${JSON.stringify(level)}.`, [{ path: 'tlp', message: 'a TLP level' }]);
  const created = stixTime(data.case.created_at, 'case.created_at');
  const modified = stixTime(data.case.updated_at, 'case.updated_at');
  const validFrom = stixTime(data.valid_from ?? data.case.created_at, 'valid_from');
  const validUntil = data.valid_until ? stixTime(data.valid_until, 'valid_until') : undefined;
  const key = `${data.provider.name}|${data.case.case_id}`;
  const common = (type: string, id: string) => ({
    type,
    spec_version: '2.1',
    id,
    created_by_ref: producer.id,
    created,
    modified,
    object_marking_refs: [marking.id],
  });

  const producer: StixObject = {
    type: 'identity',
    spec_version: '2.1',
    id: sid('identity', `provider|${data.provider.name}`),
    created,
    modified,
    name: data.provider.name,
    identity_class: 'organization',
    roles: ['ai-model-provider'],
    ...(data.provider.contact ? { contact_information: data.provider.contact } : {}),
  };
  const objects: StixObject[] = [producer, marking];
  if (data.includeExtensionDefinition) objects.push(WARDEN_IDENTITY, WARDEN_EXTENSION);

  const campaign: StixObject = {
    ...common('campaign', sid('campaign', key)),
    name: data.case.title || `Warden case ${data.case.case_id}`,
    description: data.case.summary ?? `Accounts grouped by Warden case ${data.case.case_id}.`,
    first_seen: validFrom,
    objective: 'Access to AI models outside the provider’s terms (account farming, distillation or restricted-party use)',
    external_references: [{ source_name: data.provider.name, external_id: data.case.case_id, description: 'Warden case id at the provider' }],
  };
  objects.push(campaign);

  let entityIdentity: StixObject | undefined;
  if (data.entity) {
    entityIdentity = {
      ...common('identity', sid('identity', `entity|${data.entity.id}`)),
      name: data.entity.name,
      identity_class: 'organization',
      ...(data.entity.jurisdiction || data.entity.kind
        ? { description: [data.entity.kind ? `Watchlist kind: ${data.entity.kind}.` : '', data.entity.jurisdiction ? `Jurisdiction: ${data.entity.jurisdiction}.` : ''].filter(Boolean).join(' ') }
        : {}),
      extensions: {
        [WARDEN_EXTENSION.id]: {
          extension_type: 'property-extension',
          entity_id: data.entity.id,
          ...(data.entity.aliases?.length ? { aliases: [...data.entity.aliases] } : {}),
          ...(data.entity.jurisdiction ? { jurisdiction: data.entity.jurisdiction } : {}),
        },
      },
    };
    objects.push(entityIdentity);
    objects.push({
      ...common('relationship', sid('relationship', `${campaign.id}|attributed-to|${entityIdentity.id}`)),
      relationship_type: 'attributed-to',
      source_ref: campaign.id,
      target_ref: entityIdentity.id,
    });
  }

  const confidence = data.case.score === undefined ? undefined : Math.round(Math.min(1, Math.max(0, data.case.score)) * 100);
  for (const p of plan(data.indicators ?? {}, data.hashFingerprints ?? true)) {
    const indicator: StixObject = {
      ...common('indicator', sid('indicator', `${data.provider.name}|${p.pattern}`)),
      name: p.name,
      description: KIND_DESCRIPTION[p.kind],
      indicator_types: [p.kind === 'email_domain' || p.kind === 'asn' ? 'attribution' : 'malicious-activity'],
      pattern: p.pattern,
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: validFrom,
      ...(validUntil ? { valid_until: validUntil } : {}),
      ...(confidence !== undefined ? { confidence } : {}),
      extensions: {
        [WARDEN_EXTENSION.id]: {
          extension_type: 'property-extension',
          indicator_kind: p.kind,
          value: p.value,
          ...(p.hash_algorithm ? { hash_algorithm: p.hash_algorithm } : {}),
        },
      },
    };
    objects.push(indicator);
    objects.push({
      ...common('relationship', sid('relationship', `${indicator.id}|indicates|${campaign.id}`)),
      relationship_type: 'indicates',
      source_ref: indicator.id,
      target_ref: campaign.id,
    });
  }

  const report: StixObject = {
    ...common('report', sid('report', key)),
    name: `Warden case ${data.case.case_id}: ${data.case.title}`,
    description: data.case.summary ?? `Indicators of the accounts in Warden case ${data.case.case_id}.`,
    report_types: entityIdentity ? ['campaign', 'indicator', 'identity'] : ['campaign', 'indicator'],
    published: modified,
    object_refs: objects.filter((o) => o.type !== 'marking-definition').map((o) => o.id),
  };
  objects.push(report);
  // The bundle id changes with the content, so two exports are equal exactly when their objects are.
  const digest = sha256(JSON.stringify(objects));
  return { type: 'bundle', id: `bundle--${uuidv5(`bundle|${key}|${digest}`)}`, objects };
}

// ---------------------------------------------------------------------------------------------
// Import

export interface ImportedIndicator {
  stix_id: string;
  kind: IndicatorKind;
  /** CIDR for `ip_range`; a number for `asn`; otherwise a string (hashed when `hashed`). */
  value: string | number;
  /** The value is the SHA-256 of the sender's stored fingerprint. */
  hashed: boolean;
  name?: string;
  pattern: string;
  valid_from?: string;
  valid_until?: string;
  confidence?: number;
  /** Identities the indicator is attributed to (directly, or through the campaign it indicates). */
  attributed_to: string[];
  created_by?: string;
  tlp?: Tlp;
}

export interface ImportedIdentity {
  stix_id: string;
  name: string;
  identity_class?: string;
  /** The sender's watchlist entity id (from the x-warden extension). */
  entity_id?: string;
  aliases?: string[];
  /** Some object in the bundle names it as `created_by_ref`. */
  producer: boolean;
}

export interface StixImportProblem {
  /** Index in `objects`, or -1 for the bundle itself. */
  index: number;
  id?: string;
  message: string;
}

export interface StixImportResult {
  bundle_id: string;
  indicators: ImportedIndicator[];
  identities: ImportedIdentity[];
  problems: StixImportProblem[];
}

const IDENTIFIER = /^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** `[type:path OP value]`, one comparison: what Warden exports and what it can match. */
const COMPARISON = /^\[\s*([a-z0-9-]+):([a-z0-9_]+)\s+(=|ISSUBSET)\s+('(?:[^'\\]|\\.)*'|\d+)\s*\]$/;

function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}

function indicatorFromPattern(pattern: string): { kind: IndicatorKind; value: string | number; hashed: boolean } | string {
  const m = COMPARISON.exec(pattern.trim());
  if (!m) return `pattern ${JSON.stringify(pattern)} is not a single comparison; Warden imports [type:property = value] and [ip:value ISSUBSET 'cidr'] patterns`;
  const [, type, prop, op, raw] = m as unknown as [string, string, string, string, string];
  const str = raw.startsWith("'") ? unquote(raw) : undefined;
  const num = raw.startsWith("'") ? undefined : Number(raw);
  const path = `${type}:${prop}`;
  switch (path) {
    case 'ipv4-addr:value':
    case 'ipv6-addr:value': {
      if (str === undefined) break;
      const cidr = op === 'ISSUBSET' || str.includes('/') ? str : `${str}/${type === 'ipv4-addr' ? 32 : 128}`;
      try {
        return { kind: 'ip_range', value: checkCidr(cidr, 'pattern').cidr, hashed: false };
      } catch {
        return `pattern ${JSON.stringify(pattern)}: ${JSON.stringify(str)} is not an IP address or range`;
      }
    }
    case 'autonomous-system:number':
      if (num !== undefined && op === '=') return { kind: 'asn', value: num, hashed: false };
      break;
    case 'domain-name:value':
      if (str !== undefined && op === '=') return { kind: 'email_domain', value: str.toLowerCase(), hashed: false };
      break;
    case 'x-warden-payment-instrument:fingerprint_sha256':
    case 'x-warden-payment-instrument:fingerprint':
      if (str !== undefined && op === '=') return { kind: 'payment_fingerprint', value: str, hashed: prop === 'fingerprint_sha256' };
      break;
    case 'x-warden-device:fingerprint_sha256':
    case 'x-warden-device:fingerprint':
      if (str !== undefined && op === '=') return { kind: 'device_fingerprint', value: str, hashed: prop === 'fingerprint_sha256' };
      break;
    case 'x-warden-prompt-template:fingerprint':
      if (str !== undefined && op === '=') return { kind: 'prompt_fingerprint', value: str, hashed: false };
      break;
  }
  return `pattern ${JSON.stringify(pattern)}: ${path} ${op} is not an indicator Warden can use`;
}

/**
 * Reads a STIX 2.1 bundle (an object or JSON text). A value that is not a bundle throws
 * `ValidationError`; a malformed or unusable object inside is reported in `problems` with its
 * index and id and skipped, so one bad object does not lose the others.
 */
export function importStixBundle(input: unknown): StixImportResult {
  let bundle: unknown = input;
  if (typeof input === 'string') {
    try {
      bundle = JSON.parse(input);
    } catch (err) {
      throw new ValidationError(`STIX bundle: not JSON (${(err as Error).message}).`, [{ path: '(root)', message: 'JSON text' }]);
    }
  }
  const b = bundle as { type?: unknown; id?: unknown; objects?: unknown };
  if (b === null || typeof b !== 'object' || Array.isArray(b)) {
    throw new ValidationError('STIX bundle: expected a JSON object with "type": "bundle".', [{ path: '(root)', message: 'an object' }]);
  }
  if (b.type !== 'bundle') {
    throw new ValidationError(`STIX bundle: "type" is ${JSON.stringify(b.type)}, expected "bundle". Wrap the objects in {"type":"bundle","id":"bundle--<uuid>","objects":[…]}.`, [
      { path: 'type', message: '"bundle"' },
    ]);
  }
  if (typeof b.id !== 'string' || !IDENTIFIER.test(b.id) || !b.id.startsWith('bundle--')) {
    throw new ValidationError(`STIX bundle: "id" is ${JSON.stringify(b.id)}, expected "bundle--" followed by a UUID.`, [{ path: 'id', message: 'bundle--<uuid>' }]);
  }
  if (b.objects !== undefined && !Array.isArray(b.objects)) {
    throw new ValidationError('STIX bundle: "objects" must be an array.', [{ path: 'objects', message: 'an array' }]);
  }
  const objects = (b.objects ?? []) as unknown[];
  const problems: StixImportProblem[] = [];
  const good: { index: number; o: StixObject }[] = [];
  objects.forEach((o, index) => {
    const obj = o as Record<string, unknown>;
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return void problems.push({ index, message: 'not a JSON object' });
    const id = typeof obj.id === 'string' ? obj.id : undefined;
    const bad = (message: string) => problems.push({ index, ...(id ? { id } : {}), message });
    if (typeof obj.type !== 'string') return void bad('"type" is missing');
    if (!id || !IDENTIFIER.test(id) || !id.startsWith(`${obj.type}--`)) return void bad(`"id" ${JSON.stringify(obj.id)} is not "${obj.type}--<uuid>"`);
    if (obj.type !== 'marking-definition' && obj.spec_version !== '2.1') return void bad(`"spec_version" is ${JSON.stringify(obj.spec_version)}, expected "2.1"`);
    good.push({ index, o: obj as StixObject });
  });

  const byId = new Map(good.map((g) => [g.o.id, g.o]));
  const tlpById = new Map(Object.entries(TLP_MARKINGS).map(([lvl, m]) => [m.id, lvl as Tlp]));
  for (const { o } of good) {
    if (o.type === 'marking-definition' && o.definition_type === 'tlp') {
      const lvl = (o.definition as { tlp?: string } | undefined)?.tlp;
      if (lvl && lvl in TLP_MARKINGS) tlpById.set(o.id, lvl as Tlp);
    }
  }
  const producers = new Set(good.map((g) => g.o.created_by_ref).filter((x): x is string => typeof x === 'string'));

  // Relationships: indicator → identity directly, or indicator → campaign/intrusion-set/threat-actor → identity.
  const rels = good.filter((g) => g.o.type === 'relationship').map((g) => g.o as StixObject & { relationship_type?: string; source_ref?: string; target_ref?: string });
  for (const r of rels) {
    if (typeof r.source_ref !== 'string' || typeof r.target_ref !== 'string' || typeof r.relationship_type !== 'string') {
      problems.push({ index: objects.indexOf(r), id: r.id, message: 'a relationship needs relationship_type, source_ref and target_ref' });
    }
  }
  const attributedTo = (sourceId: string, depth = 0): string[] => {
    if (depth > 3) return [];
    const out: string[] = [];
    for (const r of rels) {
      if (r.source_ref !== sourceId) continue;
      const target = r.target_ref ? byId.get(r.target_ref) : undefined;
      if (!target) continue;
      if (target.type === 'identity' && (r.relationship_type === 'attributed-to' || r.relationship_type === 'indicates')) out.push(target.id);
      else if (r.relationship_type === 'indicates' || r.relationship_type === 'attributed-to') out.push(...attributedTo(target.id, depth + 1));
    }
    return [...new Set(out)].sort();
  };

  const indicators: ImportedIndicator[] = [];
  const identities: ImportedIdentity[] = [];
  for (const { index, o } of good) {
    if (o.type === 'identity') {
      if (typeof o.name !== 'string') {
        problems.push({ index, id: o.id, message: 'an identity needs a "name"' });
        continue;
      }
      const ext = warden(o);
      identities.push({
        stix_id: o.id,
        name: o.name,
        ...(typeof o.identity_class === 'string' ? { identity_class: o.identity_class } : {}),
        ...(typeof ext?.entity_id === 'string' ? { entity_id: ext.entity_id } : {}),
        ...(Array.isArray(ext?.aliases) ? { aliases: (ext.aliases as unknown[]).filter((x): x is string => typeof x === 'string') } : {}),
        producer: producers.has(o.id),
      });
      continue;
    }
    if (o.type !== 'indicator') continue;
    const bad = (message: string) => problems.push({ index, id: o.id, message });
    if (typeof o.pattern !== 'string') {
      bad('an indicator needs a "pattern"');
      continue;
    }
    if (o.pattern_type !== 'stix') {
      bad(`pattern_type ${JSON.stringify(o.pattern_type)} is not "stix"; Warden reads STIX patterns only`);
      continue;
    }
    if (typeof o.valid_from !== 'string' || !TIMESTAMP.test(o.valid_from)) {
      bad(`"valid_from" ${JSON.stringify(o.valid_from)} is not a STIX timestamp (UTC, ending in Z)`);
      continue;
    }
    const parsed = indicatorFromPattern(o.pattern);
    if (typeof parsed === 'string') {
      bad(parsed);
      continue;
    }
    const tlps = (Array.isArray(o.object_marking_refs) ? o.object_marking_refs : []).map((m) => tlpById.get(m as string)).filter((x): x is Tlp => x !== undefined);
    indicators.push({
      stix_id: o.id,
      kind: parsed.kind,
      value: parsed.value,
      hashed: parsed.hashed,
      pattern: o.pattern,
      ...(typeof o.name === 'string' ? { name: o.name } : {}),
      valid_from: o.valid_from,
      ...(typeof o.valid_until === 'string' ? { valid_until: o.valid_until } : {}),
      ...(typeof o.confidence === 'number' ? { confidence: o.confidence } : {}),
      attributed_to: attributedTo(o.id),
      ...(typeof o.created_by_ref === 'string' ? { created_by: o.created_by_ref } : {}),
      ...(tlps.length ? { tlp: tlps.sort((a, c) => TLP_ORDER.indexOf(c) - TLP_ORDER.indexOf(a))[0]! } : {}),
    });
  }
  return { bundle_id: b.id, indicators, identities, problems };
}

const TLP_ORDER: Tlp[] = ['white', 'green', 'amber', 'red'];

function warden(o: StixObject): Record<string, unknown> | undefined {
  const ext = o.extensions as Record<string, Record<string, unknown>> | undefined;
  return ext?.[WARDEN_EXTENSION.id];
}

/**
 * The imported indicators as detection and the gateway read them (`SharedIndicator`): the
 * sender's name from the indicator's `created_by_ref` identity, the attributed identity's name
 * and aliases, confidence as 0..1 (0.5 when the sender gave none).
 */
export function sharedIndicatorsOf(result: Pick<StixImportResult, 'indicators' | 'identities' | 'bundle_id'>): SharedIndicator[] {
  const byId = new Map(result.identities.map((i) => [i.stix_id, i]));
  return result.indicators.map((i) => {
    const producer = i.created_by ? byId.get(i.created_by) : undefined;
    const identity = i.attributed_to.map((id) => byId.get(id)).find((x): x is ImportedIdentity => x !== undefined && !x.producer);
    return {
      id: i.stix_id,
      kind: i.kind,
      value: i.value,
      hashed: i.hashed,
      confidence: i.confidence === undefined ? 0.5 : Math.min(1, Math.max(0, i.confidence / 100)),
      source: producer?.name ?? result.bundle_id,
      ...(identity ? { identity: identity.name, ...(identity.aliases?.length ? { identity_aliases: identity.aliases } : {}) } : {}),
      ...(i.valid_until ? { valid_until: i.valid_until } : {}),
    };
  });
}

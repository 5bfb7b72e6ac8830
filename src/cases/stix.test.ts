import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../core/index.js';
import { collectCaseIndicators, exportStixBundle, importStixBundle, TLP_MARKINGS, uuidv5, WARDEN_EXTENSION, type StixCaseData, type StixObject } from './stix.js';

const SCHEMAS = join(import.meta.dirname, '..', '..', 'data', 'stix2.1-schemas', 'schemas');
const BUNDLE_SCHEMA = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/common/bundle.json';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? jsonFiles(p) : p.endsWith('.json') ? [p] : [];
  });
}

let validateBundle: ValidateFunction;
const validators = new Map<string, ValidateFunction>();
let ajv: Ajv2020;
beforeAll(() => {
  // The official schemas are the reference, not ours to edit: they use keywords ajv's strict mode
  // rejects (`definitions` beside 2020-12) and patterns such as `\-` that are invalid with the `u` flag.
  ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
  addFormats(ajv);
  // ajv-formats has no idn-hostname (domain-name.json uses it): accept what WHATWG URL parses as a host.
  ajv.addFormat('idn-hostname', (s: string) => {
    try {
      return new URL(`http://${s}/`).hostname !== '';
    } catch {
      return false;
    }
  });
  for (const f of jsonFiles(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(f, 'utf8')) as object);
  validateBundle = ajv.getSchema(BUNDLE_SCHEMA)!;
  expect(validateBundle).toBeDefined();
});

/** The schema for one object type (bundle validation alone lets a custom object through `anyOf`). */
function schemaFor(o: StixObject): ValidateFunction | undefined {
  const dir = ['relationship', 'sighting'].includes(o.type) ? 'sros' : ['marking-definition', 'extension-definition', 'language-content'].includes(o.type) ? 'common' : 'sdos';
  const id = `http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/${dir}/${o.type}.json`;
  if (!validators.has(id)) {
    const v = ajv.getSchema(id);
    if (v) validators.set(id, v);
  }
  return validators.get(id);
}

function expectValid(bundle: unknown): void {
  const ok = validateBundle(bundle);
  expect(ok ? [] : ajv.errorsText(validateBundle.errors, { separator: '\n' }).split('\n').slice(0, 10)).toEqual([]);
  for (const o of (bundle as { objects: StixObject[] }).objects) {
    const v = schemaFor(o);
    expect(v, `a schema for ${o.type}`).toBeDefined();
    const ok = v!(o as unknown);
    expect(ok ? [] : [o.type, o.id, ajv.errorsText(v!.errors)]).toEqual([]);
  }
}

function caseData(over: Partial<StixCaseData> = {}): StixCaseData {
  return {
    provider: { name: 'Fictional Models Inc', contact: 'trust@fictional-models.example' },
    case: {
      case_id: 'case_0001',
      title: 'Cluster cl_7 (12 accounts) attributed to example-conglomerate',
      created_at: '2026-03-01T08:14:00Z',
      updated_at: '2026-03-04T10:00:00.123Z',
      summary: '12 accounts sharing two cards and one device, driving templated prompts.',
      score: 0.93,
    },
    entity: { id: 'example-conglomerate', name: 'Example Conglomerate Group Holding Ltd', kind: 'competitor', jurisdiction: 'CN', aliases: ['Example Group'] },
    indicators: {
      ip_ranges: ['198.51.100.0/24', '203.0.113.7', '2001:db8::/48'],
      asns: [64500, 64501],
      payment_fingerprints: ['pf_0123456789', 'pf_abcdef'],
      device_fingerprints: ['df_abcdef'],
      email_domains: ['Example-Group.test'],
      prompt_fingerprints: ['tpl:9f2c4e1a'],
    },
    tlp: 'amber',
    ...over,
  };
}

describe('exportStixBundle', () => {
  it('produces a bundle the official STIX 2.1 schemas accept, object by object', () => {
    const bundle = exportStixBundle(caseData());
    expectValid(bundle);
    const types = bundle.objects.map((o) => o.type);
    expect(types.filter((t) => t === 'indicator').length).toBe(10);
    for (const t of ['identity', 'campaign', 'report', 'relationship', 'marking-definition']) expect(types).toContain(t);
  });

  it('publishes an extension definition the official schema accepts', () => {
    expect(schemaFor(WARDEN_EXTENSION)!(WARDEN_EXTENSION) ? [] : ajv.errorsText(schemaFor(WARDEN_EXTENSION)!.errors)).toEqual([]);
    const withDef = exportStixBundle(caseData({ includeExtensionDefinition: true }));
    expect(withDef.objects.map((o) => o.id)).toContain(WARDEN_EXTENSION.id);
    // The official bundle schema at this commit rejects any extension-definition inside a bundle
    // (see includeExtensionDefinition); this guards that the default stays off for that reason.
    expect(validateBundle(withDef)).toBe(false);
  });

  it('also validates without an entity, with TLP red and unhashed fingerprints', () => {
    const bundle = exportStixBundle(caseData({ entity: undefined, tlp: 'red', hashFingerprints: false, indicators: { payment_fingerprints: ["pf_o'brien\\x"] } }));
    expectValid(bundle);
    const ind = bundle.objects.find((o) => o.type === 'indicator')!;
    expect(ind.pattern).toBe("[x-warden-payment-instrument:fingerprint = 'pf_o\\'brien\\\\x']");
    expect(bundle.objects.some((o) => o.type === 'relationship' && o.relationship_type === 'attributed-to')).toBe(false);
    expect(ind.object_marking_refs).toEqual([TLP_MARKINGS.red.id]);
  });

  it('writes the documented patterns: ranges, single addresses, ASNs, domains, hashed fingerprints', () => {
    const bundle = exportStixBundle(caseData());
    const patterns = bundle.objects.filter((o) => o.type === 'indicator').map((o) => o.pattern as string);
    expect(patterns).toContain("[ipv4-addr:value ISSUBSET '198.51.100.0/24']");
    expect(patterns).toContain("[ipv4-addr:value = '203.0.113.7']");
    expect(patterns).toContain("[ipv6-addr:value ISSUBSET '2001:db8::/48']");
    expect(patterns).toContain('[autonomous-system:number = 64500]');
    expect(patterns).toContain("[domain-name:value = 'example-group.test']");
    expect(patterns).toContain("[x-warden-prompt-template:fingerprint = 'tpl:9f2c4e1a']");
    expect(patterns.join('\n')).not.toContain('pf_0123456789'); // only its hash leaves
    expect(patterns.filter((p) => p.startsWith('[x-warden-payment-instrument:fingerprint_sha256 = ')).length).toBe(2);
  });

  it('ties everything together: producer, markings, relationships and the report', () => {
    const bundle = exportStixBundle(caseData());
    const byId = new Map(bundle.objects.map((o) => [o.id, o]));
    const producer = bundle.objects.find((o) => o.type === 'identity' && o.name === 'Fictional Models Inc')!;
    const entity = bundle.objects.find((o) => o.type === 'identity' && o.name === 'Example Conglomerate Group Holding Ltd')!;
    const campaign = bundle.objects.find((o) => o.type === 'campaign')!;
    const report = bundle.objects.find((o) => o.type === 'report')!;
    const indicators = bundle.objects.filter((o) => o.type === 'indicator');
    for (const o of [campaign, report, entity, ...indicators]) {
      expect(o.created_by_ref).toBe(producer.id);
      expect(o.object_marking_refs).toEqual([TLP_MARKINGS.amber.id]);
    }
    const rels = bundle.objects.filter((o) => o.type === 'relationship');
    for (const i of indicators) {
      expect(rels.some((r) => r.relationship_type === 'indicates' && r.source_ref === i.id && r.target_ref === campaign.id)).toBe(true);
      expect((i.extensions as Record<string, unknown>)[WARDEN_EXTENSION.id]).toMatchObject({ extension_type: 'property-extension' });
    }
    expect(rels.some((r) => r.relationship_type === 'attributed-to' && r.source_ref === campaign.id && r.target_ref === entity.id)).toBe(true);
    const refs = report.object_refs as string[];
    for (const o of bundle.objects) if (o.type !== 'marking-definition' && o.type !== 'report') expect(refs).toContain(o.id);
    for (const r of refs) expect(byId.has(r)).toBe(true);
    expect(new Set(bundle.objects.map((o) => o.id)).size).toBe(bundle.objects.length);
  });

  it('is deterministic: the same case exports the same ids; a change changes only what changed', () => {
    const a = exportStixBundle(caseData());
    const b = exportStixBundle(caseData());
    expect(b).toEqual(a);
    const c = exportStixBundle(caseData({ indicators: { ...caseData().indicators, asns: [64500, 64501, 64502] } }));
    expect(c.id).not.toBe(a.id);
    const ids = (x: typeof a) => new Set(x.objects.map((o) => o.id));
    const added = [...ids(c)].filter((id) => !ids(a).has(id));
    expect(added.length).toBe(2); // the new indicator and its relationship
  });

  it('makes RFC 9562 version-5 UUIDs', () => {
    // Test vector from RFC 9562 appendix A.4: namespace DNS, name "www.example.com".
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('refuses bad indicators, naming the field', () => {
    const bad = (indicators: StixCaseData['indicators'], re: RegExp) => {
      try {
        exportStixBundle(caseData({ indicators }));
        expect.unreachable('export accepted bad input');
      } catch (err) {
        expect(isWardenError(err, 'VALIDATION')).toBe(true);
        expect((err as Error).message).toMatch(re);
      }
    };
    bad({ ip_ranges: ['198.51.100.0/33'] }, /ip_ranges\[0\]/);
    bad({ ip_ranges: ['not-an-ip'] }, /ip_ranges\[0\]/);
    bad({ asns: [-1] }, /asns\[0\]/);
    bad({ email_domains: ['no spaces.test'] }, /email_domains\[0\]/);
  });
});

describe('collectCaseIndicators', () => {
  it('merges the alerts’ indicators and leaves out those of dismissed alerts', () => {
    const base = { detector: 'd', subjects: { accounts: ['a'] }, score: 0.5, evidence: [], created_at: '2026-03-01T00:00:00Z' };
    const got = collectCaseIndicators([
      { ...base, alert_id: '1', indicators: { asns: [64501, 64500], email_domains: ['b.test'] } },
      { ...base, alert_id: '2', indicators: { asns: [64500], payment_fingerprints: ['pf_1'] } },
      { ...base, alert_id: '3', indicators: { asns: [64999] }, disposition: { verdict: 'false_positive', reason: 'x', by: 'ana', at: '2026-03-02T00:00:00Z' } },
      { ...base, alert_id: '4' },
    ]);
    expect(got).toEqual({ asns: [64500, 64501], email_domains: ['b.test'], payment_fingerprints: ['pf_1'] });
    expectValid(exportStixBundle(caseData({ indicators: got })));
  });
});

describe('importStixBundle', () => {
  it('reads back what it exports: kinds, values, attribution, producer and TLP', () => {
    const bundle = exportStixBundle(caseData());
    const r = importStixBundle(JSON.stringify(bundle));
    expect(r.problems).toEqual([]);
    expect(r.bundle_id).toBe(bundle.id);
    const entity = r.identities.find((i) => i.entity_id === 'example-conglomerate')!;
    expect(entity).toMatchObject({ name: 'Example Conglomerate Group Holding Ltd', aliases: ['Example Group'], producer: false });
    expect(r.identities.find((i) => i.name === 'Fictional Models Inc')!.producer).toBe(true);
    const byKind = (k: string) => r.indicators.filter((i) => i.kind === k).map((i) => i.value);
    expect(byKind('ip_range').sort()).toEqual(['198.51.100.0/24', '2001:db8::/48', '203.0.113.7/32']);
    expect(byKind('asn')).toEqual([64500, 64501]);
    expect(byKind('email_domain')).toEqual(['example-group.test']);
    expect(byKind('prompt_fingerprint')).toEqual(['tpl:9f2c4e1a']);
    expect(byKind('payment_fingerprint').length).toBe(2);
    expect(r.indicators.filter((i) => i.kind === 'payment_fingerprint').every((i) => i.hashed)).toBe(true);
    for (const i of r.indicators) {
      expect(i.attributed_to).toEqual([entity.stix_id]);
      expect(i.tlp).toBe('amber');
      expect(i.confidence).toBe(93);
    }
  });

  it('throws a clear error for what is not a bundle', () => {
    const msg = (x: unknown) => {
      try {
        importStixBundle(x);
        return 'accepted';
      } catch (err) {
        expect(isWardenError(err, 'VALIDATION')).toBe(true);
        return (err as Error).message;
      }
    };
    expect(msg('{not json')).toMatch(/not JSON/);
    expect(msg([1, 2])).toMatch(/expected a JSON object/);
    expect(msg({ type: 'indicator', id: 'indicator--x' })).toMatch(/"type" is "indicator", expected "bundle"/);
    expect(msg({ type: 'bundle', id: 'bundle-1' })).toMatch(/"id" is "bundle-1"/);
    expect(msg({ type: 'bundle', id: `bundle--${uuidv5('x')}`, objects: {} })).toMatch(/"objects" must be an array/);
  });

  it('reports malformed and unusable objects with index and id, and keeps the good ones', () => {
    const good = exportStixBundle(caseData({ entity: undefined, indicators: { asns: [64500] } }));
    const id = (t: string, n: string) => `${t}--${uuidv5(n)}`;
    const objects: unknown[] = [
      ...good.objects,
      'a string',
      { type: 'indicator', id: 'indicator--nope', spec_version: '2.1' },
      { type: 'indicator', id: id('indicator', 'a'), spec_version: '2.0', pattern: '[autonomous-system:number = 1]', pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z' },
      { type: 'indicator', id: id('indicator', 'b'), spec_version: '2.1', pattern: 'rule x { }', pattern_type: 'yara', valid_from: '2026-01-01T00:00:00Z' },
      { type: 'indicator', id: id('indicator', 'c'), spec_version: '2.1', pattern: "[file:hashes.'SHA-256' = 'ab']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z' },
      { type: 'indicator', id: id('indicator', 'd'), spec_version: '2.1', pattern: '[autonomous-system:number = 64511]', pattern_type: 'stix', valid_from: 'yesterday' },
      { type: 'indicator', id: id('indicator', 'e'), spec_version: '2.1', pattern: "[ipv4-addr:value = '999.1.1.1']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z' },
      { type: 'indicator', id: id('indicator', 'f'), spec_version: '2.1', pattern: "[domain-name:value = 'other.test']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z' },
    ];
    const r = importStixBundle({ ...good, objects });
    const n = good.objects.length;
    expect(r.problems.map((p) => p.index)).toEqual([n, n + 1, n + 2, n + 3, n + 4, n + 5, n + 6]);
    expect(r.problems[0]!.message).toMatch(/not a JSON object/);
    expect(r.problems[1]!.message).toMatch(/"id" "indicator--nope"/);
    expect(r.problems[2]!.message).toMatch(/spec_version/);
    expect(r.problems[3]!.message).toMatch(/yara/);
    expect(r.problems[4]!.message).toMatch(/not a single comparison|not an indicator Warden can use/);
    expect(r.problems[5]!.message).toMatch(/valid_from/);
    expect(r.problems[6]!.message).toMatch(/999\.1\.1\.1/);
    expect(r.indicators.map((i) => [i.kind, i.value])).toEqual([
      ['asn', 64500],
      ['email_domain', 'other.test'],
    ]);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Account, SharedIndicator, Watchlist } from '../core/index.js';
import { createScreener } from '../intel/index.js';
import { DetectionEngine } from './engine.js';
import { ImportedIndicators } from './imported.js';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
let n = 0;
const ind = (over: Partial<SharedIndicator> & Pick<SharedIndicator, 'kind' | 'value'>): SharedIndicator => ({
  id: `indicator--${++n}`,
  hashed: false,
  confidence: 1,
  source: 'Other Provider',
  identity: 'Example Conglomerate Group Holding Ltd',
  ...over,
});
const account = (over: Partial<Account> = {}): Account => ({
  account_id: `acc_${++n}`,
  created_at: '2026-01-05T00:00:00Z',
  email: 'someone@gmail.com',
  email_domain: 'gmail.com',
  declared_use: 'unknown',
  verification: 'email',
  ...over,
});

describe('ImportedIndicators', () => {
  it('matches hashed and plain fingerprints, email domains in any case, and a signup address inside a range', () => {
    const idx = new ImportedIndicators([
      ind({ kind: 'device_fingerprint', value: sha('dev_aaa'), hashed: true }),
      ind({ kind: 'payment_fingerprint', value: 'pm_plain' }),
      ind({ kind: 'email_domain', value: 'ops-mail.example' }),
      ind({ kind: 'ip_range', value: '198.51.100.0/24' }),
    ]);
    const kinds = (a: Account) => idx.accountMatches(a).map((m) => m.kind).sort();
    expect(kinds(account({ device_fingerprint: 'dev_aaa' }))).toEqual(['device_fingerprint']);
    expect(kinds(account({ device_fingerprint: sha('dev_aaa') }))).toEqual([]); // a hash of a hash is not the device
    expect(kinds(account({ payment_fingerprint: 'pm_plain', email: 'x@OPS-Mail.example', email_domain: undefined }))).toEqual(['email_domain', 'payment_fingerprint']);
    expect(kinds(account({ signup_ip: '198.51.100.77' }))).toEqual(['ip_range']);
    expect(kinds(account({ signup_ip: '198.51.101.77' }))).toEqual([]);
    expect(kinds(account({ signup_ip: 'not an address' }))).toEqual([]);
  });

  it('weights by kind: a device or template is strong, an ASN and a shared /24 are weak even together', () => {
    const idx = new ImportedIndicators([
      ind({ kind: 'device_fingerprint', value: 'dev_x' }),
      ind({ kind: 'asn', value: 64500 }),
      ind({ kind: 'ip_range', value: '203.0.113.0/24' }),
      ind({ kind: 'prompt_fingerprint', value: '0123456789abcdef', confidence: 0.5 }),
    ]);
    const dev = account({ device_fingerprint: 'dev_x' });
    expect(idx.signal(dev, dev.account_id, 0)!.weight).toBeCloseTo(0.75);
    // 20 requests from the shared cloud range (its ASN too): weak, under the monitor threshold.
    const cloud = account();
    for (let i = 0; i < 20; i++) idx.observe(cloud.account_id, `203.0.113.${i + 1}`, 64500, null);
    const s = idx.signal(cloud, cloud.account_id, 20)!;
    expect(s.code).toBe('imported_indicator');
    expect(s.weight).toBeCloseTo(1 - 0.9 * 0.8);
    expect(s.weight).toBeLessThan(0.3);
    // The sender's confidence scales the kind's weight: a template at 50% → 0.3.
    const tpl = account();
    for (let i = 0; i < 5; i++) idx.observe(tpl.account_id, undefined, undefined, '0123456789abcdef');
    expect(idx.signal(tpl, tpl.account_id, 5)!.weight).toBeCloseTo(0.3);
    expect(idx.signal(tpl, tpl.account_id, 5)!.detail).toMatch(/prompt template 0123456789abcdef \(5 of 5 requests\).*Example Conglomerate/);
  });

  it('counts an event-level kind only with at least 3 requests and 5% of the account’s traffic', () => {
    const idx = new ImportedIndicators([ind({ kind: 'asn', value: 64500 })]);
    const a = account();
    idx.observe(a.account_id, undefined, 64500, null);
    idx.observe(a.account_id, undefined, 64500, null);
    expect(idx.signal(a, a.account_id, 10)).toBeNull();
    idx.observe(a.account_id, undefined, 64500, null);
    expect(idx.signal(a, a.account_id, 10)).not.toBeNull();
    expect(idx.signal(a, a.account_id, 1000)).toBeNull(); // 3 of 1000 requests is not the account's network
  });

  it('drops indicators past valid_until', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const idx = new ImportedIndicators(
      [ind({ kind: 'device_fingerprint', value: 'dev_old', valid_until: '2026-05-01T00:00:00Z' }), ind({ kind: 'device_fingerprint', value: 'dev_new', valid_until: '2026-07-01T00:00:00Z' })],
      { now },
    );
    expect(idx.size).toBe(1);
    expect(idx.accountMatches(account({ device_fingerprint: 'dev_old' }))).toEqual([]);
    expect(idx.accountMatches(account({ device_fingerprint: 'dev_new' })).length).toBe(1);
  });

  it('gives attribution evidence only for strong matches on an identity that screens to the entity', () => {
    const screen = (name: string) => (name.startsWith('Example Conglomerate') ? ['example-conglomerate'] : []);
    const idx = new ImportedIndicators(
      [
        ind({ kind: 'device_fingerprint', value: 'dev_op' }),
        ind({ kind: 'asn', value: 64500 }),
        ind({ kind: 'prompt_fingerprint', value: 'aaaaaaaaaaaaaaaa' }),
        ind({ kind: 'device_fingerprint', value: 'dev_other', identity: 'Unrelated Holdings' }),
      ],
      { screen },
    );
    const accounts = new Map<string, Account>();
    const reqs = new Map<string, number>();
    const mk = (over: Partial<Account>, asnRequests = 0, tplRequests = 0) => {
      const a = account(over);
      accounts.set(a.account_id, a);
      for (let i = 0; i < asnRequests; i++) idx.observe(a.account_id, undefined, 64500, null);
      for (let i = 0; i < tplRequests; i++) idx.observe(a.account_id, undefined, undefined, 'aaaaaaaaaaaaaaaa');
      reqs.set(a.account_id, asnRequests + tplRequests);
      return a.account_id;
    };
    const ev = (members: string[], entity = 'example-conglomerate') => idx.attributionEvidence(members, entity, (id) => accounts.get(id), (id) => reqs.get(id) ?? 0);
    const onAsn = mk({}, 50);
    const oneTemplate = mk({}, 0, 20);
    const otherIdentity = mk({ device_fingerprint: 'dev_other' });
    const operator = mk({ device_fingerprint: 'dev_op' });
    expect(ev([onAsn])).toBeNull(); // the entity's cloud is shared with benign customers
    expect(ev([oneTemplate])).toBeNull(); // one template can be a public one
    expect(ev([otherIdentity])).toBeNull(); // attributed there to someone not on our watchlist
    expect(ev([operator], 'someone-else')).toBeNull();
    const r = ev([operator, onAsn])!;
    expect(r.code).toBe('imported_indicator');
    expect(r.detail).toMatch(/1 of 2 members .*Example Conglomerate Group Holding Ltd \(Other Provider\)/);
    expect(r.weight).toBeGreaterThanOrEqual(0.5);
  });
});

describe('DetectionEngine with imported indicators', () => {
  const watchlist: Watchlist = {
    restricted_countries: [],
    entities: [{ id: 'example-conglomerate', name: 'Example Conglomerate Group Holding Ltd', kind: 'competitor', aliases: [], native_names: [], domains: [], asns: [], subsidiaries: [] }],
  } as unknown as Watchlist;

  it('flags an account holding an imported device, with evidence imported_indicator, and not without the import', () => {
    const a = account({ device_fingerprint: 'dev_shared_by_peer' });
    const other = account({ device_fingerprint: 'dev_mine' });
    const run = (imported?: SharedIndicator[]) => {
      const e = new DetectionEngine({ watchlist, screener: createScreener({ watchlist, sanctions: false }), ...(imported ? { imported } : {}) });
      e.addAccount(a);
      e.addAccount(other);
      return new Map(e.finish().accounts.map((v) => [v.account_id, v]));
    };
    const without = run();
    expect(without.get(a.account_id)!.recommended_action).toBe('none');
    const withImport = run([ind({ kind: 'device_fingerprint', value: sha('dev_shared_by_peer'), hashed: true, confidence: 0.95 })]);
    const v = withImport.get(a.account_id)!;
    expect(v.recommended_action).toBe('step_up');
    expect(v.labels).toContain('imported_indicator');
    expect(v.reasons[0]).toMatchObject({ code: 'imported_indicator' });
    expect(v.reasons[0]!.detail).toMatch(/shared by Other Provider: device/);
    // A single account is no cluster: no attribution without a cluster's evidence.
    expect(v.attributed_entity).toBeNull();
    expect(withImport.get(other.account_id)!.recommended_action).toBe('none');
  });

  it('setImported re-scores every account, and an empty list removes the signal', () => {
    const a = account({ payment_fingerprint: 'pm_peer' });
    const e = new DetectionEngine({ autoEvaluate: false });
    e.addAccount(a);
    expect(e.evaluateNow().risks.find((r) => r.account_id === a.account_id)?.risk ?? 0).toBe(0);
    e.setImported([ind({ kind: 'payment_fingerprint', value: 'pm_peer' })]);
    expect(e.evaluateNow().risks.find((r) => r.account_id === a.account_id)!.labels).toContain('imported_indicator');
    expect(e.importedMatches(a.account_id).map((m) => m.kind)).toEqual(['payment_fingerprint']);
    e.setImported([]);
    expect(e.evaluateNow().risks.find((r) => r.account_id === a.account_id)!.risk).toBe(0);
  });
});

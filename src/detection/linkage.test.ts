import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DetectionEngine } from './engine.js';
import { AttributeIndex, assignClusterIds, clusterIdOf, Communities, communities, emailDomainOf, FIELD_SPECS, FIELDS, linkFields, linkHolders, LOUVAIN_MAX_LEVELS, PairScorer, rarity, scorePairs, type Link, type LinkField } from './linkage.js';

describe('rarity weights', () => {
  it('weighs a value two accounts share above one thirty accounts share', () => {
    expect(rarity(2, 100_000)).toBeGreaterThan(rarity(30, 100_000));
    expect(rarity(2, 100_000)).toBeCloseTo(1);
  });

  it('reads the population in quarter-octave steps above the 10,000 floor, so weights hold still while it grows within a step', () => {
    // Below the floor every population is the floor.
    expect(rarity(5, 300)).toBe(rarity(5, 10_000));
    // 10,000 × 2^(1/4) ≈ 11,892: one step.
    expect(rarity(5, 11_000)).toBe(rarity(5, 10_000));
    expect(rarity(5, 11_900)).not.toBe(rarity(5, 11_800));
    expect(rarity(5, 800_000)).toBe(rarity(5, 830_000));
    // And a step moves a weight by well under 1%.
    expect(Math.abs(rarity(5, 11_900) / rarity(5, 11_800) - 1)).toBeLessThan(0.01);
    expect(rarity(5, 1_000_000)).toBeGreaterThan(rarity(5, 100_000));
  });
});

describe('link scoring', () => {
  it('links two accounts that share a card strongly, and never expands a value held by more than its cap', () => {
    const idx = new AttributeIndex();
    idx.add('payment', 'card1', 'a');
    idx.add('payment', 'card1', 'b');
    for (let i = 0; i < 200; i++) idx.add('signup_prefix', '10.0.0.0/24', `s${i}`);
    const links = scorePairs(idx, 50_000, 0.5);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ a: 'a', b: 'b' });
    expect(linkHolders(links[0]!, 'payment')).toBe(2);
    expect(links[0]!.weight).toBeGreaterThan(0.9);
  });

  it('counts each field once per pair (the best shared value), so many shared /24s do not add up', () => {
    const idx = new AttributeIndex();
    for (let i = 0; i < 10; i++) {
      idx.add('net_prefix', `10.0.${i}.0/24`, 'a');
      idx.add('net_prefix', `10.0.${i}.0/24`, 'b');
    }
    const [l] = scorePairs(idx, 50_000, 0);
    expect(l!.weight).toBeLessThanOrEqual(0.2 + 1e-9);
  });
});

describe('attribute index', () => {
  it('yields only values held by 2..cap accounts, the same after a JSON round trip, and bumps its version only on a new holder', () => {
    const idx = new AttributeIndex();
    idx.add('device', 'solo', 'a');
    idx.add('payment', 'card', 'b');
    idx.add('payment', 'card', 'a');
    for (let i = 0; i < 40; i++) idx.add('org', 'big', `o${i}`);
    const v = idx.version;
    idx.add('payment', 'card', 'a');
    idx.add('org', 'big', 'o99');
    expect(idx.version).toBe(v);
    const groups = (x: AttributeIndex): string[] => [...x.groups()].map((g) => `${g.field}:${g.value}:${[...g.members].sort().join(',')}`).sort();
    expect(groups(idx)).toEqual(['payment:card:a,b']);
    expect(groups(AttributeIndex.fromJSON(JSON.parse(JSON.stringify(idx.toJSON()))))).toEqual(['payment:card:a,b']);
    idx.add('payment', 'card', 'c');
    expect(idx.version).toBe(v + 1);
    expect(groups(idx)).toEqual(['payment:card:a,b,c']);
    // A value with one holder: held, not shared, and its second holder makes it a group.
    expect(idx.holders('device', 'solo')).toEqual(['a']);
    idx.add('device', 'solo', 'a');
    expect(idx.version).toBe(v + 1);
    const back = AttributeIndex.fromJSON(JSON.parse(JSON.stringify(idx.toJSON())));
    expect(back.holders('device', 'solo')).toEqual(['a']);
    back.add('device', 'solo', 'z');
    expect(groups(back)).toEqual(['device:solo:a,z', 'payment:card:a,b,c']);
    expect(back.sharedWith('z').map((g) => g.value)).toEqual(['solo']);
  });

  it('orders each link by account id whatever order the holders came in', () => {
    const idx = new AttributeIndex();
    idx.add('payment', 'card', 'zed');
    idx.add('payment', 'card', 'amy');
    idx.add('device', 'dev', 'amy');
    idx.add('device', 'dev', 'zed');
    const links = scorePairs(idx, 50_000, 0.5);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ a: 'amy', b: 'zed' });
    expect(linkFields(links[0]!).sort()).toEqual(['device', 'payment']);
  });
});

describe('communities and ids', () => {
  it('finds two groups joined by a weak link as two communities, deterministically', () => {
    const link = (a: string, b: string, weight: number) => ({ a, b, weight, h0: 0, h1: 0 });
    const links = [link('a1', 'a2', 1), link('a1', 'a3', 1), link('a2', 'a3', 1), link('b1', 'b2', 1), link('b1', 'b3', 1), link('b2', 'b3', 1), link('a3', 'b1', 0.1)];
    const c1 = communities(links);
    expect(c1.map((c) => c.join(',')).sort()).toEqual(['a1,a2,a3', 'b1,b2,b3']);
    expect(communities(links)).toEqual(c1);
  });

  it('splits each component on its own: a component comes out the same with or without unrelated ones beside it', () => {
    const link = (a: string, b: string, weight: number) => ({ a, b, weight, h0: 0, h1: 0 });
    // Two triangles joined by a weak bridge, and a large unrelated clique elsewhere.
    const pair = [link('a1', 'a2', 1), link('a1', 'a3', 1), link('a2', 'a3', 1), link('a3', 'b1', 0.1), link('b1', 'b2', 1), link('b1', 'b3', 1), link('b2', 'b3', 1)];
    const other: ReturnType<typeof link>[] = [];
    for (let i = 0; i < 40; i++) for (let j = i + 1; j < 40; j++) other.push(link(`z${String(i).padStart(2, '0')}`, `z${String(j).padStart(2, '0')}`, 2));
    const alone = communities(pair);
    const withOther = communities([...pair, ...other].sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : 1)));
    expect(withOther.filter((g) => !g[0]!.startsWith('z'))).toEqual(alone);
    expect(withOther.filter((g) => g[0]!.startsWith('z'))).toEqual([other.map((l) => l.a).concat('z39').filter((v, i, all) => all.indexOf(v) === i)]);
  });

  it('reuses the communities of components whose links did not change, and recomputes the one that did', () => {
    const link = (a: string, b: string, weight: number) => ({ a, b, weight, h0: 0, h1: 0 });
    const tri = (p: string, w = 1) => [link(`${p}1`, `${p}2`, w), link(`${p}1`, `${p}3`, w), link(`${p}2`, `${p}3`, w)];
    const c = new Communities();
    const first = c.of([...tri('a'), ...tri('b'), link('c1', 'c2', 1)]);
    expect(c.computed).toBe(3);
    expect(c.reused).toBe(0);
    expect(c.of([...tri('a'), ...tri('b'), link('c1', 'c2', 1)])).toEqual(first);
    expect(c.reused).toBe(3);
    expect(c.computed).toBe(0);
    // One weight changes in b: only b is recomputed, and the answer is what a fresh start gives.
    const changed = [...tri('a'), ...tri('b', 0.9), link('c1', 'c2', 1)];
    const again = c.of(changed);
    expect(c.computed).toBe(1);
    expect(c.reused).toBe(2);
    expect(again).toEqual(communities(changed));
  });

  it('gives communities for a component on which Louvain never converges, instead of looping until the process aborts', () => {
    const fixture = JSON.parse(readFileSync(new URL('./fixtures/louvain-stall.json', import.meta.url), 'utf8')) as { links: [number, number, number][] };
    const id = (i: number) => `a${String(i).padStart(2, '0')}`;
    const links = fixture.links.map(([a, b, weight]) => ({ a: id(a), b: id(b), weight, h0: 0, h1: 0 }));
    const c = new Communities();
    const groups = c.of(links);
    expect(c.stalled).toBe(1);
    // A later start converged (the first two do not): the retries, not the one-community fallback.
    expect(c.fallbacks).toBe(0);
    // Every account of the component is in exactly one group of two or more.
    const members = groups.flat().sort();
    expect(members).toEqual(Array.from({ length: 23 }, (_, i) => id(i)));
    expect(groups.every((g) => g.length >= 2)).toBe(true);
    // The same links give the same groups, and a call that reuses them still counts the stall.
    expect(new Communities().of(links)).toEqual(groups);
    expect(c.of(links)).toEqual(groups);
    expect([c.reused, c.computed, c.stalled, c.fallbacks]).toEqual([1, 0, 1, 0]);
    // The engine reports it beside the other degraded detectors (its last rebuild's communities).
    const engine = new DetectionEngine({ autoEvaluate: false });
    expect(engine.degradedDetectors().join('; ')).not.toMatch(/linkage/);
    (engine as unknown as { communities: Communities }).communities.of(links);
    expect(engine.degradedDetectors().join('; ')).toMatch(/linkage \(Louvain did not converge on 1 link component\(s\): 1 split from another starting account, 0 kept whole/);
    expect(LOUVAIN_MAX_LEVELS).toBeGreaterThan(100);
  });

  it('counts no stalled component where Louvain converges', () => {
    const link = (a: string, b: string, weight: number) => ({ a, b, weight, h0: 0, h1: 0 });
    const c = new Communities();
    c.of([link('a1', 'a2', 1), link('a1', 'a3', 1), link('a2', 'a3', 1), link('a3', 'b1', 0.1), link('b1', 'b2', 1), link('b1', 'b3', 1), link('b2', 'b3', 1)]);
    expect(c.stalled).toBe(0);
  });

  it('derives ids from sorted members and keeps the id of the previous cluster a new one overlaps most', () => {
    expect(clusterIdOf(['a', 'b'])).toBe(clusterIdOf(['a', 'b']));
    expect(clusterIdOf(['a', 'b'])).not.toBe(clusterIdOf(['a', 'c']));
    const prev = new Map([
      ['cl_old1', ['a', 'b', 'c']],
      ['cl_old2', ['x', 'y']],
    ]);
    const ids = assignClusterIds([['a', 'b', 'd'], ['x', 'y', 'z'], ['p', 'q']], prev);
    expect(ids[0]).toBe('cl_old1');
    expect(ids[1]).toBe('cl_old2');
    expect(ids[2]).toBe(clusterIdOf(['p', 'q']));
  });
});

describe('pair scoring over weak fields', () => {
  /** Every pair of every group, summed in group order: what `scorePairs` must equal. */
  type RefLink = { a: string; b: string; weight: number; fields: Partial<Record<LinkField, { weight: number; holders: number }>> };
  /** A link as `{ a, b, weight, holders of each agreeing field }`, for both sides of the comparison. */
  const plain = (l: Link | RefLink) =>
    'fields' in l
      ? { a: l.a, b: l.b, weight: l.weight, holders: Object.fromEntries(FIELDS.filter((f) => l.fields[f]).map((f) => [f, l.fields[f]!.holders])) }
      : { a: l.a, b: l.b, weight: l.weight, holders: Object.fromEntries(linkFields(l).map((f) => [f, linkHolders(l, f)])) };
  function reference(indexes: AttributeIndex[], population: number, minWeight: number): RefLink[] {
    const pairs = new Map<string, RefLink>();
    for (const index of indexes) {
      for (const { field, members } of index.groups()) {
        const w = FIELD_SPECS[field].weight * rarity(members.length, population);
        if (w <= 0) continue;
        for (let i = 0; i < members.length; i++) {
          for (let j = i + 1; j < members.length; j++) {
            const [a, b] = members[i]! < members[j]! ? [members[i]!, members[j]!] : [members[j]!, members[i]!];
            let l = pairs.get(`${a}\u0000${b}`);
            if (!l) pairs.set(`${a}\u0000${b}`, (l = { a, b, weight: 0, fields: {} }));
            const prev = l.fields[field];
            if (!prev || prev.weight < w) {
              l.weight += w - (prev?.weight ?? 0);
              l.fields[field] = { weight: w, holders: members.length };
            }
          }
        }
      }
    }
    return [...pairs.values()].filter((l) => l.weight >= minWeight).sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : 1));
  }

  it('never links accounts that share only prefixes and templates, and still counts them on a stronger link', () => {
    const idx = new AttributeIndex();
    const reuse = new AttributeIndex();
    for (const id of ['a', 'b']) {
      reuse.add('net_prefix', '10.0.0.0/24', id);
      reuse.add('template', 't1', id);
    }
    for (const id of ['c', 'd']) {
      reuse.add('net_prefix', '10.0.1.0/24', id);
      idx.add('payment', 'card9', id);
    }
    const links = scorePairs([idx, reuse], 100_000, 0.55);
    expect(links.map((l) => `${l.a}-${l.b}`)).toEqual(['c-d']);
    expect(linkFields(links[0]!)).toEqual(['payment', 'net_prefix']);
    expect(linkHolders(links[0]!, 'net_prefix')).toBe(2);
    expect(links[0]!.weight).toBeCloseTo(1.2);
  });

  it('gives the same links, weights and fields as scoring every pair (random indexes)', () => {
    let s = 7;
    const r = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
    for (let round = 0; round < 40; round++) {
      const idx = new AttributeIndex();
      const reuse = new AttributeIndex();
      const accounts = 5 + Math.floor(r() * 150);
      for (let k = 0; k < 1500; k++) {
        const field = FIELDS[Math.floor(r() * FIELDS.length)]!;
        const target = field === 'net_prefix' || field === 'template' ? reuse : idx;
        target.add(field, `v${Math.floor(r() * 60)}`, `acc_${Math.floor(r() * accounts)}`);
      }
      for (const minWeight of [0.55, 0.3]) {
        const population = Math.floor(r() * 20_000);
        expect(JSON.stringify(scorePairs([idx, reuse], population, minWeight).map(plain))).toBe(JSON.stringify(reference([idx, reuse], population, minWeight).map(plain)));
      }
    }
  });
});

describe('e-mail domain of an account', () => {
  it('is the declared domain, else what follows the @ of the address, else nothing', () => {
    expect(emailDomainOf({ email: 'a@x.example', email_domain: 'Corp.Example' })).toBe('Corp.Example');
    expect(emailDomainOf({ email: 'a@x.example' })).toBe('x.example');
    expect(emailDomainOf({ email: 'no-at-sign' })).toBeUndefined();
    expect(emailDomainOf(undefined)).toBeUndefined();
  });
});

describe('pair scoring between rebuilds', () => {
  it('gives exactly what scoring every pair gives, over random growth of both indexes', () => {
    let r = 7;
    const rnd = (n: number): number => {
      r = (Math.imul(r, 1103515245) + 12345) >>> 0;
      return (r >>> 8) % n;
    };
    for (let world = 0; world < 5; world++) {
      const main = new AttributeIndex();
      const reuse = new AttributeIndex();
      const scorer = new PairScorer();
      let population = 40;
      let incremental = 0;
      let links = 0;
      for (let round = 0; round < 12; round++) {
        // Accounts join and gain values: strong fields (cards, devices, domains, bursts) in the
        // main index, /24s and templates in the other; some values grow past their cap.
        for (let n = 0; n < 60; n++) {
          const acct = `u${rnd(population)}`;
          const field = FIELDS[rnd(FIELDS.length)]!;
          const into = field === 'net_prefix' || field === 'template' ? reuse : main;
          into.add(field, `${field}-${rnd(field === 'email_domain' ? 4 : 14)}`, acct);
        }
        population += rnd(3) === 0 ? 5_000 : 3;
        const got = scorer.score([main, reuse], population, 0.55);
        if (!scorer.full) incremental++;
        expect(got).toEqual(scorePairs([main, reuse], population, 0.55));
        links = got.length;
      }
      expect(incremental).toBeGreaterThan(3);
      expect(links).toBeGreaterThan(10);
    }
  });

  it('scores everything again when an index is replaced or the population moves to another step', () => {
    const main = new AttributeIndex();
    main.add('payment', 'c', 'a');
    main.add('payment', 'c', 'b');
    const scorer = new PairScorer();
    scorer.score([main], 100, 0.55);
    expect(scorer.full).toBe(true);
    main.add('device', 'd', 'a');
    main.add('device', 'd', 'b');
    scorer.score([main], 200, 0.55);
    expect(scorer.full).toBe(false);
    expect(scorer.rescored).toBe(1);
    scorer.score([main], 50_000, 0.55);
    expect(scorer.full).toBe(true);
    const restored = main.clone();
    expect(scorer.score([restored], 50_000, 0.55)).toEqual(scorePairs([main], 50_000, 0.55));
    expect(scorer.full).toBe(true);
  });
});


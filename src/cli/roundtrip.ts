/**
 * The evidence-sharing round trip (`warden sim roundtrip`, docs/evaluation.md "Sharing"): world A
 * (one seed) → detection → a case for the intermediary campaign → its STIX 2.1 bundle → imported
 * into the Warden of world B (another seed, where the same operator runs new shells, accounts and
 * payment instruments but keeps what persists with it) → how many of the operator's accounts in B
 * the imported indicators catch, and which benign accounts they match (false positives), by kind.
 * Every step is a real component: the simulator, the detection engine, case ingestion into the
 * embedded case store, the STIX export and import.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Account, AccountVerdict, Alert, ClusterVerdict, IpIntel, Screener, SharedIndicator, SharedIndicatorKind, Watchlist } from '../core/index.js';
import { SHARED_INDICATOR_KINDS } from '../core/index.js';
import { collectCaseIndicators, exportStixBundle, importStixBundle, ingestAlerts, sharedIndicatorsOf, type StixBundle } from '../cases/index.js';
import { clusterIndicators, DetectionEngine, type IndicatorCandidate } from '../detection/index.js';
import { createScreener } from '../intel/index.js';
import { readWorld, simulate, type Scenario, type SimSampler, type SimTruth } from '../sim/index.js';
import { openSqliteCaseStore } from '../store/index.js';
import { clusterAlerts } from './detection-outcome.js';

export interface RoundTripOptions {
  scenario: Scenario;
  seedA: number;
  seedB: number;
  /** Full IP intelligence that knows the scenario's custom networks (also the simulator's sampler). */
  intel: IpIntel & SimSampler;
  /** The truth group of the shared campaign. Default `campaign:intermediary`. */
  campaign?: string;
  /** Where the worlds go (default: a temporary directory, removed afterwards). */
  outDir?: string;
  onProgress?: (step: string) => void;
}

interface KindCount {
  kind: SharedIndicatorKind;
  indicators: number;
  /** Accounts of the actor in world B matching at least one indicator of this kind. */
  actor_matched: number;
  /** Benign accounts in world B matching at least one indicator of this kind. */
  benign_matched: number;
  /** Accounts of other campaigns matching. */
  other_malicious_matched: number;
}

export interface RoundTripReport {
  scenario: string;
  seed_a: number;
  seed_b: number;
  campaign: string;
  world_a: { accounts: number; events: number; case_id: string; case_accounts: number; case_actor_accounts: number; candidates: number; exported: Record<string, number> };
  bundle: { id: string; objects: number; indicators: number; identity: string | null };
  import: { indicators: number; problems: number; by_kind: Record<string, number> };
  world_b: {
    accounts: number;
    events: number;
    actor_accounts: number;
    /** Actor accounts matching any imported indicator. */
    actor_matched: number;
    /** Actor accounts the `imported_indicator` signal alone puts at step_up or above. */
    actor_flagged_by_indicators_alone: number;
    /** Recall of the actor's accounts through imported indicators alone (the line above / actor_accounts). */
    recall_indicators_alone: number;
    /** Actor accounts at step_up/block, without and with the imports. */
    actor_flagged_without: number;
    actor_flagged_with: number;
    actor_attributed_without: number;
    actor_attributed_with: number;
    /** Attributed through the imported identity (the `imported_indicator` attribution evidence). */
    actor_attributed_via_import: number;
  };
  false_positives: {
    /** Benign accounts matching any imported indicator. */
    benign_matched: number;
    /** Benign accounts the imported signal alone puts at step_up or above. */
    benign_flagged_by_indicators_alone: number;
    /** Benign accounts at step_up/block with the imports that were not without them. */
    benign_newly_flagged: number;
    /** Benign accounts newly attributed. */
    benign_newly_attributed: number;
    /** Every benign account whose verdict the imports changed (newly flagged or attributed). */
    changed: { account_id: string; group: string; kinds: SharedIndicatorKind[]; without: string; with: string; attributed_entity: string | null }[];
    /** A few of the benign matches, for reading: account, group, kinds. */
    examples: { account_id: string; group: string; kinds: SharedIndicatorKind[]; weight: number }[];
  };
  by_kind: KindCount[];
  bundle_json: StixBundle;
}

const STEP_UP = 0.7;
const flagged = (v: AccountVerdict | undefined) => v?.recommended_action === 'step_up' || v?.recommended_action === 'block';

async function runWorld(scenario: Scenario, seed: number, dir: string, intel: IpIntel & SimSampler, imported?: SharedIndicator[]) {
  await simulate({ ...scenario, seed }, dir, { sampler: intel });
  const w = await readWorld(dir);
  const truth: SimTruth = await w.truth();
  const watchlist: Watchlist | undefined = await w.watchlist();
  const screener: Screener | undefined = watchlist ? createScreener({ watchlist, sanctions: false }) : undefined;
  const run = async (imp?: SharedIndicator[]) => {
    const engine = new DetectionEngine({ intel, ...(screener ? { screener } : {}), ...(watchlist ? { watchlist } : {}), ...(imp ? { imported: imp } : {}) });
    for (const a of w.accounts) engine.addAccount(a);
    for await (const e of w.events()) engine.ingest(e);
    const out = engine.finish();
    return { engine, verdicts: new Map(out.accounts.map((v) => [v.account_id, v])), clusters: out.clusters, events: engine.eventCount };
  };
  const base = await run();
  const withImports = imported ? await run(imported) : undefined;
  return { accounts: w.accounts, truth, watchlist, base, withImports };
}

/** Runs the round trip and returns its figures. */
export async function runRoundTrip(o: RoundTripOptions): Promise<RoundTripReport> {
  const campaign = o.campaign ?? 'campaign:intermediary';
  const root = o.outDir ?? mkdtempSync(join(tmpdir(), 'warden-roundtrip-'));
  const progress = o.onProgress ?? (() => {});
  try {
    // World A: simulate, detect, open cases, pick the campaign's case.
    progress(`world A (seed ${o.seedA}): simulate and detect`);
    const A = await runWorld(o.scenario, o.seedA, join(root, 'a'), o.intel);
    const actorA = new Set(Object.entries(A.truth.accounts).filter(([, t]) => t.group === campaign).map(([id]) => id));
    if (actorA.size === 0) throw new Error(`world A has no accounts in ${campaign}; the scenario must run that campaign`);
    const at = new Date().toISOString();
    const candidatesByAlert = new Map<string, IndicatorCandidate[]>();
    const alerts: Alert[] = clusterAlerts(A.base.clusters, at).map((al) => {
      const r = clusterIndicators(A.base.engine, al.subjects.accounts, { intel: o.intel });
      candidatesByAlert.set(al.alert_id, r.candidates);
      return { ...al, indicators: r.indicators };
    });
    const cases = openSqliteCaseStore({ path: ':memory:' });
    try {
      await ingestAlerts(cases, alerts, { actor: 'detector:roundtrip' });
      const all = await cases.listCases({ limit: 1000 });
      const overlap = (accounts: readonly string[]) => accounts.filter((x) => actorA.has(x)).length;
      const chosen = [...all].sort((x, y) => overlap(y.accounts) - overlap(x.accounts))[0];
      if (!chosen || overlap(chosen.accounts) === 0) throw new Error(`detection in world A opened no case holding ${campaign} accounts (${all.length} case(s))`);
      const caseAlerts = await cases.listAlerts({ case_id: chosen.case_id, limit: 10_000 });
      const indicators = collectCaseIndicators(caseAlerts);
      const entity = chosen.entity ? A.watchlist?.entities.find((e) => e.id === chosen.entity) : undefined;
      progress(`case ${chosen.case_id}: ${chosen.accounts.length} accounts → STIX`);
      const bundle = exportStixBundle({
        provider: { name: `Warden world A (seed ${o.seedA})` },
        case: { case_id: chosen.case_id, title: chosen.title, created_at: chosen.created_at, updated_at: chosen.updated_at, score: chosen.score },
        ...(entity ? { entity: { id: entity.id, name: entity.name, kind: entity.kind, ...(entity.jurisdiction ? { jurisdiction: entity.jurisdiction } : {}), aliases: entity.aliases } } : chosen.entity ? { entity: { id: chosen.entity, name: chosen.entity } } : {}),
        indicators,
        tlp: 'amber',
      });
      const candidates = caseAlerts.flatMap((al) => candidatesByAlert.get(al.alert_id) ?? []);

      // The recipient: parse the bundle as text, as it would arrive.
      const imported = importStixBundle(JSON.stringify(bundle));
      const shared = sharedIndicatorsOf(imported);
      const byKindImported: Record<string, number> = {};
      for (const i of shared) byKindImported[i.kind] = (byKindImported[i.kind] ?? 0) + 1;

      // World B: the same scenario under another seed, detection without and with the imports.
      progress(`world B (seed ${o.seedB}): simulate and detect, without and with ${shared.length} imported indicators`);
      const B = await runWorld(o.scenario, o.seedB, join(root, 'b'), o.intel, shared);
      const withB = B.withImports!;
      const truthB = B.truth.accounts;
      const actorB = Object.keys(truthB).filter((id) => truthB[id]!.group === campaign);
      const importedWeight = (v: AccountVerdict | undefined) => v?.reasons.find((r) => r.code === 'imported_indicator')?.weight ?? 0;
      const kinds = (id: string) => [...new Set(withB.engine.importedMatches(id).map((m) => m.kind))].sort();
      const byKind: KindCount[] = SHARED_INDICATOR_KINDS.map((k) => ({ kind: k, indicators: byKindImported[k] ?? 0, actor_matched: 0, benign_matched: 0, other_malicious_matched: 0 }));
      const kindRow = new Map(byKind.map((r) => [r.kind, r]));
      let actorMatched = 0;
      let actorAlone = 0;
      let benignMatched = 0;
      let benignAlone = 0;
      let benignNew = 0;
      let benignNewAttr = 0;
      const examples: RoundTripReport['false_positives']['examples'] = [];
      const changed: RoundTripReport['false_positives']['changed'] = [];
      const attributedViaImport = new Set<string>();
      for (const c of withB.clusters as ClusterVerdict[]) if (c.attributed_entity && c.evidence.some((e) => e.code === 'imported_indicator')) for (const m of c.members) attributedViaImport.add(m);
      for (const a of B.accounts as Account[]) {
        const id = a.account_id;
        const t = truthB[id];
        const ks = kinds(id);
        const v = withB.verdicts.get(id);
        const isActor = t?.group === campaign;
        const benign = !t?.malicious;
        for (const k of ks) {
          const row = kindRow.get(k)!;
          if (isActor) row.actor_matched++;
          else if (benign) row.benign_matched++;
          else row.other_malicious_matched++;
        }
        if (isActor) {
          if (ks.length) actorMatched++;
          if (importedWeight(v) >= STEP_UP) actorAlone++;
        } else if (benign) {
          if (ks.length) {
            benignMatched++;
            if (examples.length < 10) examples.push({ account_id: id, group: t?.group ?? 'benign:?', kinds: ks, weight: importedWeight(v) });
          }
          if (importedWeight(v) >= STEP_UP) benignAlone++;
          const before = B.base.verdicts.get(id);
          const newlyFlagged = flagged(v) && !flagged(before);
          const newlyAttributed = !!v?.attributed_entity && !before?.attributed_entity;
          if (newlyFlagged) benignNew++;
          if (newlyAttributed) benignNewAttr++;
          if (newlyFlagged || newlyAttributed) changed.push({ account_id: id, group: t?.group ?? 'benign:?', kinds: ks, without: before?.recommended_action ?? 'none', with: v?.recommended_action ?? 'none', attributed_entity: v?.attributed_entity ?? null });
        }
      }
      const count = (m: Map<string, AccountVerdict>, f: (v: AccountVerdict | undefined) => boolean) => actorB.filter((id) => f(m.get(id))).length;
      return {
        scenario: o.scenario.name,
        seed_a: o.seedA,
        seed_b: o.seedB,
        campaign,
        world_a: {
          accounts: A.accounts.length,
          events: A.base.events,
          case_id: chosen.case_id,
          case_accounts: chosen.accounts.length,
          case_actor_accounts: overlap(chosen.accounts),
          candidates: candidates.length,
          exported: Object.fromEntries(Object.entries(indicators).map(([k, v]) => [k, (v as unknown[]).length])),
        },
        bundle: { id: bundle.id, objects: bundle.objects.length, indicators: bundle.objects.filter((x) => x.type === 'indicator').length, identity: entity?.name ?? chosen.entity ?? null },
        import: { indicators: shared.length, problems: imported.problems.length, by_kind: byKindImported },
        world_b: {
          accounts: B.accounts.length,
          events: B.base.events,
          actor_accounts: actorB.length,
          actor_matched: actorMatched,
          actor_flagged_by_indicators_alone: actorAlone,
          recall_indicators_alone: actorB.length ? actorAlone / actorB.length : 0,
          actor_flagged_without: count(B.base.verdicts, flagged),
          actor_flagged_with: count(withB.verdicts, flagged),
          actor_attributed_without: count(B.base.verdicts, (v) => !!v?.attributed_entity),
          actor_attributed_with: count(withB.verdicts, (v) => !!v?.attributed_entity),
          actor_attributed_via_import: actorB.filter((id) => attributedViaImport.has(id)).length,
        },
        false_positives: { benign_matched: benignMatched, benign_flagged_by_indicators_alone: benignAlone, benign_newly_flagged: benignNew, benign_newly_attributed: benignNewAttr, changed, examples },
        by_kind: byKind,
        bundle_json: bundle,
      };
    } finally {
      cases.close();
    }
  } finally {
    if (!o.outDir) rmSync(root, { recursive: true, force: true });
  }
}

/** The report as plain text. */
export function formatRoundTrip(r: RoundTripReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `STIX round trip on ${r.scenario}: world A seed ${r.seed_a} → world B seed ${r.seed_b} (${r.campaign})`,
    `World A: ${r.world_a.accounts} accounts, ${r.world_a.events} events; case ${r.world_a.case_id} holds ${r.world_a.case_accounts} accounts (${r.world_a.case_actor_accounts} of the actor)`,
    `  exported ${Object.entries(r.world_a.exported).map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing'} of ${r.world_a.candidates} candidate values (the rest not specific to the cluster)`,
    `Bundle ${r.bundle.id}: ${r.bundle.objects} objects, ${r.bundle.indicators} indicators, identity ${r.bundle.identity ?? '(none)'}`,
    `Imported: ${r.import.indicators} indicators, ${r.import.problems} problem(s)`,
    `World B: ${r.world_b.accounts} accounts, ${r.world_b.events} events; the actor has ${r.world_b.actor_accounts} new accounts`,
    `  matched by imported indicators:        ${r.world_b.actor_matched} of ${r.world_b.actor_accounts}`,
    `  recall through imported indicators alone (their signal ≥ step_up): ${r.world_b.actor_flagged_by_indicators_alone} of ${r.world_b.actor_accounts} = ${pct(r.world_b.recall_indicators_alone)}`,
    `  flagged (step_up/block) without → with imports:    ${r.world_b.actor_flagged_without} → ${r.world_b.actor_flagged_with}`,
    `  attributed without → with imports:                 ${r.world_b.actor_attributed_without} → ${r.world_b.actor_attributed_with} (${r.world_b.actor_attributed_via_import} with imported evidence)`,
    `False positives caused by imported indicators (benign accounts in world B):`,
    `  matched any indicator: ${r.false_positives.benign_matched}; flagged by the indicators alone: ${r.false_positives.benign_flagged_by_indicators_alone}; newly flagged: ${r.false_positives.benign_newly_flagged}; newly attributed: ${r.false_positives.benign_newly_attributed}`,
    '',
    `${'kind'.padEnd(20)} ${'indicators'.padStart(10)} ${'actor matched'.padStart(14)} ${'benign matched'.padStart(15)} ${'other campaigns'.padStart(16)}`,
    ...r.by_kind.map((k) => `${k.kind.padEnd(20)} ${String(k.indicators).padStart(10)} ${String(k.actor_matched).padStart(14)} ${String(k.benign_matched).padStart(15)} ${String(k.other_malicious_matched).padStart(16)}`),
  ];
  if (r.false_positives.changed.length) {
    lines.push('', 'Benign accounts whose verdict the imports changed:');
    for (const c of r.false_positives.changed) lines.push(`  ${c.account_id} ${c.group}: ${c.without} → ${c.with}${c.attributed_entity ? `, attributed to ${c.attributed_entity}` : ''} (matched: ${c.kinds.join(', ') || 'nothing itself; through its cluster'})`);
  }
  if (r.false_positives.examples.length) {
    lines.push('', 'Benign matches (first few):');
    for (const e of r.false_positives.examples) lines.push(`  ${e.account_id} ${e.group}: ${e.kinds.join(', ')} (imported signal ${e.weight.toFixed(2)})`);
  }
  return lines.join('\n');
}

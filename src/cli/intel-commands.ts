/**
 * `warden intel …` and `warden screen`: what Warden knows about an address or a party, and
 * keeping the lists it knows it from current. These run locally, without a server.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WardenError } from '../core/index.js';
import {
  createScreener,
  describeIp,
  formatScreening,
  formatSources,
  intelLoad,
  intelUpdate,
  loadWatchlist,
  openIpIntel,
} from '../intel/index.js';
import { sharedIndicatorsOf, type StixImportRecord } from '../cases/index.js';
import type { SharedIndicator } from '../core/index.js';
import type { WardenConfig } from './config.js';
import { createAdminClient } from './admin-client.js';

export interface IntelCommandContext {
  config: () => WardenConfig;
  print: (v: unknown) => void;
}

const intelDataDir = (c: WardenConfig) => c.intel.data_dir ?? `${c.data_dir}/intel`;

export function registerIntelCommands(program: Command, ctx: IntelCommandContext): void {
  const open = () => {
    const c = ctx.config();
    return openIpIntel({ customNetworks: c.intel.custom_networks, dataDir: intelDataDir(c), maxSourceAgeDays: c.intel.max_source_age_days });
  };
  const intel = program.command('intel').description('IP and network intelligence, and the lists behind it');
  intel
    .command('ip')
    .description('what Warden knows about an address, and why')
    .argument('<address>', 'an IPv4 or IPv6 address')
    .option('--json', 'print JSON')
    .action((address: string, o: { json?: boolean }) => {
      const info = open().explain(address);
      if (o.json) ctx.print(info);
      else process.stdout.write(`${describeIp(info)}\n`);
    });
  intel
    .command('sources')
    .description('each data source with its licence, date and age (warns past 90 days)')
    .action(() => {
      const i = open();
      const s = createScreener({ dataDir: intelDataDir(ctx.config()) });
      process.stdout.write(`${formatSources([...i.sources(), ...s.sources()])}\n`);
      for (const w of i.warnings()) process.stderr.write(`warning: ${w}\n`);
    });
  intel
    .command('update')
    .description('refresh the databases the package manager can (npm update of the ip-location-db packages)')
    .action(async () => {
      const r = await intelUpdate();
      for (const p of r.packages) process.stdout.write(`${p.name}: ${p.before} → ${p.after}${p.before === p.after ? ' (already current)' : ''}\n`);
      process.stdout.write('Lists shipped as files (sanctions, VPN, datacenter, Tor) are refreshed with `warden intel load FILE`.\n');
    });
  intel
    .command('load')
    .description('load a newer list file from disk (VPN, datacenter, Tor, sanctions); it overrides the shipped copy')
    .argument('<file>', 'the downloaded list file')
    .option('--kind <kind>', 'which list (default: guessed from the name and content)')
    .option('--date <date>', "the content's publication date (default: today)")
    .action((file: string, o: { kind?: string; date?: string }) => {
      const r = intelLoad(file, intelDataDir(ctx.config()), { ...(o.kind ? { kind: o.kind as never } : {}), ...(o.date ? { date: o.date } : {}) });
      process.stdout.write(`Loaded ${r.entries} entries as the ${r.kind} list (replacing the ${r.replaced} copy) into ${r.file}. Restart the server to use it.\n`);
    });
  intel
    .command('export')
    .description("a case's indicators as a STIX 2.1 bundle for other providers (through the running server)")
    .argument('<case_id>', 'the case')
    .option('--format <format>', 'stix (the only format)', 'stix')
    .option('--tlp <level>', 'TLP marking: white, green, amber, red', 'amber')
    .option('--out <file>', 'write to this file (default: stdout)')
    .option('--url <url>', 'the running server (default: http://<gateway.listen>)')
    .option('--token <token>', 'admin token (default: WARDEN_ADMIN_TOKEN or <data_dir>/admin-token)')
    .action(async (caseId: string, o: { format: string; tlp: string; out?: string; url?: string; token?: string }) => {
      if (o.format !== 'stix') throw new WardenError('VALIDATION', `--format: only "stix" is supported, got "${o.format}".`);
      const bundle = await createAdminClient(ctx.config(), o).call('GET', `/cases/${encodeURIComponent(caseId)}/stix?tlp=${encodeURIComponent(o.tlp)}`);
      if (o.out) {
        writeFileSync(o.out, `${JSON.stringify(bundle, null, 2)}\n`);
        process.stderr.write(`Wrote ${o.out}\n`);
      } else ctx.print(bundle);
    });
  intel
    .command('import')
    .description('import a STIX 2.1 bundle of indicators from another provider (kept for detection; through the running server)')
    .argument('<file>', 'the bundle (JSON)')
    .option('--json', 'print JSON')
    .option('--url <url>', 'the running server (default: http://<gateway.listen>)')
    .option('--token <token>', 'admin token (default: WARDEN_ADMIN_TOKEN or <data_dir>/admin-token)')
    .action(async (file: string, o: { json?: boolean; url?: string; token?: string }) => {
      let bundle: unknown;
      try {
        bundle = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new WardenError('INPUT_INVALID', `${file}: not a readable JSON file (${(e as Error).message}). Give a STIX 2.1 bundle.`);
      }
      const r = await createAdminClient(ctx.config(), o).call<ImportAnswer>('POST', '/stix/imports', bundle);
      if (o.json) return ctx.print(r);
      process.stdout.write(`${formatImport(r)}\n`);
    });
  intel
    .command('indicators')
    .description('list the indicators imported from other providers (what detection and policy use), or expire a bundle of them')
    .option('--expire <bundle_id>', 'end the validity of every indicator of this imported bundle now (the record stays, for the audit trail)')
    .option('--all', 'also list expired indicators')
    .option('--json', 'print JSON')
    .option('--url <url>', 'the running server (default: http://<gateway.listen>)')
    .option('--token <token>', 'admin token (default: WARDEN_ADMIN_TOKEN or <data_dir>/admin-token)')
    .action(async (o: { expire?: string; all?: boolean; json?: boolean; url?: string; token?: string }) => {
      const admin = createAdminClient(ctx.config(), o);
      if (o.expire) {
        const r = await admin.call<{ bundle_id: string; expired: number; valid_until: string }>('POST', `/stix/imports/${encodeURIComponent(o.expire)}/expire`, {});
        if (o.json) return ctx.print(r);
        process.stdout.write(`Expired ${r.expired} indicator(s) of ${r.bundle_id} as of ${r.valid_until}.\n`);
        return;
      }
      const { imports } = await admin.call<{ imports: StixImportRecord[] }>('GET', '/stix/imports');
      const rows = importedIndicatorRows(imports, Date.now()).filter((x) => o.all || !x.expired);
      if (o.json) return ctx.print(rows);
      process.stdout.write(`${formatIndicatorRows(rows, imports.length)}\n`);
    });

  program
    .command('screen')
    .description('screen a party against the sanctions lists (and a watchlist): hits and why')
    .argument('<name>', 'the name, in any script')
    .option('--domain <domain...>', 'email or web domains')
    .option('--alias <alias...>', 'other names')
    .option('--country <cc>', 'declared country (ISO alpha-2)')
    .option('--watchlist <file>', 'a watchlist file (YAML or JSON, docs/interchange.md)')
    .option('--json', 'print JSON')
    .action((name: string, o: { domain?: string[]; alias?: string[]; country?: string; watchlist?: string; json?: boolean }) => {
      if (!name.trim()) throw new WardenError('INPUT_INVALID', 'Give a name to screen.');
      const c = ctx.config();
      const watchlistFile = o.watchlist ?? c.watchlist;
      const screener = createScreener({ ...(watchlistFile ? { watchlist: loadWatchlist(watchlistFile) } : {}), dataDir: intelDataDir(c) });
      const query = { name, ...(o.alias ? { aliases: o.alias } : {}), ...(o.domain ? { domains: o.domain } : {}), ...(o.country ? { country: o.country } : {}) };
      const result = screener.screen(query);
      if (o.json) ctx.print(result);
      else process.stdout.write(`${formatScreening(query, result)}\n`);
      if (!watchlistFile) process.stderr.write('(sanctions lists only; pass --watchlist FILE to screen against prohibited competitors too)\n');
    });
}

interface ImportAnswer {
  bundle_id: string;
  indicators: number;
  identities: number;
  by_kind?: Record<string, number>;
  senders?: string[];
  attributed_to?: string[];
  problems: { index: number; id?: string; message: string }[];
  replaced: boolean;
}

/** What `warden intel import` prints: counts per kind, who sent it, whom it names, and each rejected object. */
export function formatImport(r: ImportAnswer): string {
  const kinds = Object.entries(r.by_kind ?? {}).map(([k, n]) => `${n} ${k}`).join(', ');
  const lines = [`${r.replaced ? 'Replaced' : 'Imported'} ${r.bundle_id}: ${r.indicators} indicator(s)${kinds ? ` (${kinds})` : ''}, ${r.identities} identit${r.identities === 1 ? 'y' : 'ies'}, ${r.problems.length} rejected object(s).`];
  if (r.senders?.length) lines.push(`  from: ${r.senders.join(', ')}`);
  if (r.attributed_to?.length) lines.push(`  attributed to: ${r.attributed_to.join(', ')}`);
  for (const p of r.problems) lines.push(`  rejected objects[${p.index}]${p.id ? ` ${p.id}` : ''}: ${p.message}`);
  return lines.join('\n');
}

export type IndicatorRow = SharedIndicator & { bundle_id: string; imported_at: string; expired: boolean };

/** Every imported indicator as detection reads it, with its bundle and whether it has expired at `now`. */
export function importedIndicatorRows(imports: readonly StixImportRecord[], now: number): IndicatorRow[] {
  return imports.flatMap((rec) =>
    sharedIndicatorsOf(rec).map((i) => ({ ...i, bundle_id: rec.bundle_id, imported_at: rec.imported_at, expired: !!i.valid_until && Date.parse(i.valid_until) <= now })),
  );
}

export function formatIndicatorRows(rows: readonly IndicatorRow[], bundles: number): string {
  if (rows.length === 0) return `No imported indicators${bundles ? ` in force (${bundles} bundle(s); --all shows expired ones)` : ' (warden intel import FILE loads a STIX bundle)'}.`;
  const out = [`${'kind'.padEnd(20)} ${'value'.padEnd(24)} conf  ${'source'.padEnd(24)} ${'identity'.padEnd(28)} valid until`];
  for (const r of rows) {
    const v = String(r.value);
    out.push(
      `${r.kind.padEnd(20)} ${(v.length > 24 ? `${v.slice(0, 21)}…` : v).padEnd(24)} ${r.confidence.toFixed(2)}  ${r.source.slice(0, 24).padEnd(24)} ${(r.identity ?? '-').slice(0, 28).padEnd(28)} ${r.valid_until ?? '-'}${r.expired ? ' (expired)' : ''}`,
    );
  }
  out.push(`${rows.length} indicator(s) from ${new Set(rows.map((r) => r.bundle_id)).size} bundle(s).`);
  return out.join('\n');
}

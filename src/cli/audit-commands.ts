/**
 * `warden audit …`: export the signed, hash-chained audit log and verify it with the public key
 * alone (docs/audit.md). The log is read from where the profile keeps it: the local SQLite
 * database (embedded) or PostgreSQL (cluster: every process's chain), or from an exported file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { WardenError } from '../core/index.js';
import type { AuditRecord, AuditStore } from '../core/index.js';
import { AUDIT_PUBLIC_KEY_FILE, auditRecordsToJsonl, createAuditVerifier, parseAuditJsonl, readAudit } from '../cases/index.js';
import { openPostgresCaseStore, openSqliteCaseStore, openSqliteStore } from '../store/index.js';
import type { WardenConfig } from './config.js';
import { auditKeyDir } from './serve.js';

/** Where the records come from, named for messages. */
interface AuditSource {
  where: string;
  records(): AsyncIterable<AuditRecord>;
  close(): Promise<void>;
}

async function openAuditSource(config: WardenConfig): Promise<AuditSource> {
  if (config.profile === 'cluster') {
    const c = config.cluster;
    // Read only: no migration from a verifier. A schema without the log says what to run.
    const store = await openPostgresCaseStore({ connectionString: c.postgres_url, schema: c.schema, migrate: false, maxConnections: 2 });
    const where = `PostgreSQL schema ${c.schema}`;
    return {
      where,
      records: () => readChecked(store, where),
      close: () => store.close(),
    };
  }
  const file = path.join(config.data_dir, 'warden.db');
  if (!existsSync(file)) throw new WardenError('NOT_FOUND', `No Warden database at ${file}; pass --file with an exported audit log, or --config for the right data_dir.`);
  const store = openSqliteStore({ path: file });
  const cases = openSqliteCaseStore({ db: store.db });
  return { where: file, records: () => readAudit(cases), close: () => store.close() };
}

async function* readChecked(store: AuditStore, where: string): AsyncGenerator<AuditRecord> {
  try {
    yield* readAudit(store);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') {
      throw new WardenError('NOT_FOUND', `There is no audit log in ${where} (table audit_log is missing): run \`warden migrate\` with this config, or check cluster.schema.`);
    }
    throw err;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerAuditCommands(program: Command, ctx: { config: () => WardenConfig }): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('export')
    .description('write the audit log (every chain, in storage order) as JSON Lines, for verification elsewhere')
    .requiredOption('--out <file>', 'output file')
    .action(async (o: { out: string }) => {
      const source = await openAuditSource(ctx.config());
      const records: AuditRecord[] = [];
      try {
        for await (const r of source.records()) records.push(r);
      } finally {
        await source.close();
      }
      writeFileSync(o.out, auditRecordsToJsonl(records));
      process.stdout.write(`Wrote ${records.length} records from ${source.where} to ${o.out}.\n`);
    });
  audit
    .command('verify')
    .description('check every chain: hash links, order and Ed25519 signatures; says which chain and record was changed, removed or reordered')
    .option('--file <jsonl>', 'an exported audit log (default: where the profile keeps it: the local database, or PostgreSQL in the cluster profile)')
    .option('--public-key <pem>', 'a public key; repeat for several (after a rotation). Default: the installation key directory', collect, [])
    .action(async (o: { file?: string; publicKey: string[] }) => {
      const c = ctx.config();
      const keyFiles = o.publicKey.length ? o.publicKey : [path.join(auditKeyDir(c), AUDIT_PUBLIC_KEY_FILE)];
      for (const f of keyFiles) if (!existsSync(f)) throw new WardenError('NOT_FOUND', `No public key at ${f}; pass --public-key FILE.`);
      const verifier = createAuditVerifier(keyFiles.map((f) => readFileSync(f, 'utf8')));
      let where: string;
      if (o.file) {
        const parsed = parseAuditJsonl(readFileSync(o.file, 'utf8'));
        for (const p of parsed.problems) process.stderr.write(`${o.file}:${p.line}: ${p.message}\n`);
        if (parsed.problems.length) throw new WardenError('INPUT_INVALID', `${parsed.problems.length} unreadable line(s) in ${o.file}: the log is not intact.`);
        for (const r of parsed.records) verifier.add(r);
        where = o.file;
      } else {
        // Streamed a page at a time: the verifier keeps a seq and two hashes per record.
        const source = await openAuditSource(c);
        try {
          for await (const r of source.records()) verifier.add(r);
        } finally {
          await source.close();
        }
        where = source.where;
      }
      const r = verifier.finish();
      const chains = r.chains.map((h) => `${h.chain} (${h.seq})`).join(', ');
      if (r.ok) {
        process.stdout.write(`OK: ${r.checked} records in ${r.chains.length} chain(s) from ${where} verified with ${keyFiles.join(', ')}.\n`);
        if (r.chains.length) process.stdout.write(`Chains (last seq): ${chains}\n`);
        return;
      }
      for (const p of r.problems) process.stdout.write(`chain ${p.chain} seq ${p.seq}: ${p.kind}: ${p.detail}\n`);
      const broken = [...new Set(r.problems.map((p) => p.chain))];
      throw new WardenError(
        'INPUT_INVALID',
        `audit log NOT intact: ${r.problems.length} problem(s) in chain(s) ${broken.join(', ')}; ${r.checked} records checked in ${r.chains.length} chain(s) from ${where}.`,
      );
    });
}

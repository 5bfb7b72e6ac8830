/**
 * `warden audit …`: export the signed, hash-chained audit log and verify it with the public key
 * alone (docs/audit.md).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { WardenError } from '../core/index.js';
import type { AuditRecord } from '../core/index.js';
import { AUDIT_PUBLIC_KEY_FILE, auditRecordsToJsonl, parseAuditJsonl, readAudit, verifyAuditChain } from '../cases/index.js';
import { openSqliteCaseStore, openSqliteStore } from '../store/index.js';
import type { WardenConfig } from './config.js';
import { auditKeyDir } from './serve.js';

async function localRecords(config: WardenConfig): Promise<AuditRecord[]> {
  const file = path.join(config.data_dir, 'warden.db');
  if (!existsSync(file)) throw new WardenError('NOT_FOUND', `No Warden database at ${file}; pass --file with an exported audit log, or --config for the right data_dir.`);
  const store = openSqliteStore({ path: file });
  try {
    const cases = openSqliteCaseStore({ db: store.db });
    const out: AuditRecord[] = [];
    for await (const r of readAudit(cases)) out.push(r);
    return out;
  } finally {
    await store.close();
  }
}

export function registerAuditCommands(program: Command, ctx: { config: () => WardenConfig }): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('export')
    .description('write the audit log as JSON Lines, for verification elsewhere')
    .requiredOption('--out <file>', 'output file')
    .action(async (o: { out: string }) => {
      const records = await localRecords(ctx.config());
      writeFileSync(o.out, auditRecordsToJsonl(records));
      process.stdout.write(`Wrote ${records.length} records to ${o.out}.\n`);
    });
  audit
    .command('verify')
    .description('check every record: hash chain, order and Ed25519 signature; says where a record was changed, removed or reordered')
    .option('--file <jsonl>', 'an exported audit log (default: the local database)')
    .option('--public-key <pem>', 'the public key (default: the installation key directory)')
    .action(async (o: { file?: string; publicKey?: string }) => {
      const c = ctx.config();
      const keyFile = o.publicKey ?? path.join(auditKeyDir(c), AUDIT_PUBLIC_KEY_FILE);
      if (!existsSync(keyFile)) throw new WardenError('NOT_FOUND', `No public key at ${keyFile}; pass --public-key FILE.`);
      let records: AuditRecord[];
      if (o.file) {
        const parsed = parseAuditJsonl(readFileSync(o.file, 'utf8'));
        for (const p of parsed.problems) process.stderr.write(`${o.file}:${p.line}: ${p.message}\n`);
        records = parsed.records;
        if (parsed.problems.length) throw new WardenError('INPUT_INVALID', `${parsed.problems.length} unreadable line(s) in ${o.file}: the log is not intact.`);
      } else {
        records = await localRecords(c);
      }
      const r = verifyAuditChain(records, readFileSync(keyFile, 'utf8'));
      if (r.ok) {
        process.stdout.write(`OK: ${r.checked} records in ${r.chains.length} chain(s) verified with ${keyFile}.\n`);
        return;
      }
      for (const p of r.problems) process.stdout.write(`chain ${p.chain} seq ${p.seq}: ${p.kind}: ${p.detail}\n`);
      throw new WardenError('INPUT_INVALID', `audit log NOT intact: ${r.problems.length} problem(s) in ${r.checked} records.`);
    });
}

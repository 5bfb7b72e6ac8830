/**
 * `warden users …`: the analyst console's users, through the running server's admin API (admin
 * token). A new user's password is read from stdin (`--password-stdin`) or generated and shown
 * once; only its scrypt hash is stored.
 */
import { Option, type Command } from 'commander';
import { CONSOLE_ROLES, WardenError } from '../core/index.js';
import { generatePassword, MIN_PASSWORD_LENGTH } from '../console/index.js';
import type { AdminClient } from './admin-client.js';

export interface UserCommandContext {
  client: (opts: { url?: string; token?: string }) => AdminClient;
  print: (v: unknown) => void;
  adminOptions: (c: Command) => Command;
  /** Where a piped password is read from (tests pass their own). */
  stdin?: NodeJS.ReadableStream;
  out?: NodeJS.WritableStream;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

interface PublicUser {
  username: string;
  role: string;
  created_at: string;
  disabled: boolean;
}

export function registerUserCommands(program: Command, ctx: UserCommandContext): void {
  const out = ctx.out ?? process.stdout;
  const users = program.command('users').description('console users and their roles (through the running server)');
  ctx
    .adminOptions(users.command('create').description('create a console user (the password is shown once unless given on stdin)').argument('<username>'))
    .addOption(new Option('--role <role>', 'viewer (read only), analyst (cases, alerts, actions) or admin (everything)').choices([...CONSOLE_ROLES]).makeOptionMandatory())
    .option('--password-stdin', `read the password from stdin (at least ${MIN_PASSWORD_LENGTH} characters; one trailing newline is dropped)`)
    .action(async (username: string, o: { role: string; passwordStdin?: boolean; url?: string; token?: string }) => {
      let password: string;
      const generated = !o.passwordStdin;
      if (o.passwordStdin) {
        password = (await readAll(ctx.stdin ?? process.stdin)).replace(/\r?\n$/, '');
        if (password.length < MIN_PASSWORD_LENGTH) throw new WardenError('VALIDATION', `The password on stdin has ${password.length} characters; give at least ${MIN_PASSWORD_LENGTH}.`);
      } else {
        password = generatePassword();
      }
      const user = await ctx.client(o).call<PublicUser>('POST', '/users', { username, password, role: o.role });
      out.write(`Created console user ${user.username} (${user.role}).\n`);
      if (generated) out.write(`Password (shown once, store it now): ${password}\n`);
    });
  ctx.adminOptions(users.command('list').description('list console users (never their password hashes)')).action(async (o: { url?: string; token?: string }) => {
    const r = await ctx.client(o).call<{ users: PublicUser[] }>('GET', '/users');
    if (!r.users.length) return void out.write('No console users. Create one with `warden users create NAME --role analyst`.\n');
    const w = Math.max(8, ...r.users.map((u) => u.username.length));
    out.write(`${'USERNAME'.padEnd(w)}  ROLE     CREATED               STATE\n`);
    for (const u of r.users) out.write(`${u.username.padEnd(w)}  ${u.role.padEnd(7)}  ${u.created_at.slice(0, 19).replace('T', ' ')}   ${u.disabled ? 'disabled' : 'active'}\n`);
  });
  ctx.adminOptions(users.command('delete').description('delete a console user and end their sessions').argument('<username>')).action(async (username: string, o: { url?: string; token?: string }) => {
    await ctx.client(o).call('DELETE', `/users/${encodeURIComponent(username)}`);
    out.write(`Deleted console user ${username}; their sessions have ended.\n`);
  });
}

#!/usr/bin/env node
// The `warden` command. Runs the compiled CLI (built by `npm install` through `prepare`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('warden: dist/ is missing. Run `npm install` (or `npm run build`) in the Warden folder first.\n');
  process.exit(2);
}
await import(entry.href);

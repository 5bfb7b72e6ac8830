/**
 * Where the intelligence data comes from: the npm databases in node_modules, the lists shipped in
 * data/intel and data/sanctions, and newer copies an operator loaded into the configured data
 * directory (`warden intel load FILE`), which take precedence. Also the age report and the
 * refresh of the npm databases (`warden intel update`).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { WardenError, type IntelSource } from '../core/index.js';

/** Repository root (this file is src/intel/sources.ts, or dist/intel/sources.js once built). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHIPPED_DIR = join(REPO_ROOT, 'data');

export const LIST_KINDS = [
  'vpn-ipv4',
  'vpn-ipv6',
  'vpn-asn',
  'datacenter-ipv4',
  'datacenter-ipv6',
  'datacenter-asn',
  'ipcat',
  'tor',
  'sdn',
  'sdn-alt',
  'cons-prim',
  'cons-alt',
  'csl',
] as const;
export type ListKind = (typeof LIST_KINDS)[number];

interface ListMeta {
  /** Path relative to a data directory (the shipped `data/` or the configured one). */
  path: string;
  name: string;
  licence: string;
  /** Date of the shipped copy's content (RFC 3339 date). */
  date: string;
}

export const LIST_META: Record<ListKind, ListMeta> = {
  'vpn-ipv4': {
    path: 'intel/vpn/x4bnet-vpn-ipv4.txt',
    name: 'X4BNet lists_vpn: VPN IPv4 ranges',
    licence: 'MIT',
    date: '2026-11-26',
  },
  'vpn-ipv6': {
    path: 'intel/vpn/x4bnet-vpn-ipv6.txt',
    name: 'X4BNet lists_vpn: VPN IPv6 ranges',
    licence: 'MIT',
    date: '2026-11-26',
  },
  'vpn-asn': {
    path: 'intel/vpn/x4bnet-vpn-asn.txt',
    name: 'X4BNet lists_vpn: VPN provider ASNs',
    licence: 'MIT',
    date: '2026-11-26',
  },
  'datacenter-ipv4': {
    path: 'intel/datacenter/x4bnet-datacenter-ipv4.txt',
    name: 'X4BNet lists_vpn: datacenter IPv4 ranges',
    licence: 'MIT',
    date: '2026-11-26',
  },
  'datacenter-ipv6': {
    path: 'intel/datacenter/x4bnet-datacenter-ipv6.txt',
    name: 'X4BNet lists_vpn: datacenter IPv6 ranges',
    licence: 'MIT',
    date: '2026-11-26',
  },
  'datacenter-asn': {
    path: 'intel/datacenter/x4bnet-datacenter-asn.txt',
    name: 'X4BNet lists_vpn: datacenter ASNs',
    licence: 'MIT',
    date: '2026-11-26',
  },
  ipcat: {
    path: 'intel/datacenter/ipcat-datacenters.csv',
    name: 'client9/ipcat datacenters.csv',
    licence: 'MIT',
    // Upstream stopped being maintained around 2023; the exact date of the last change is not recorded.
    date: '2023-01-01',
  },
  tor: { path: 'intel/tor/tor-exit-nodes.lst', name: 'Tor exit nodes (SecOps-Institute)', licence: 'MIT', date: '2024-02-27' },
  sdn: {
    path: 'sanctions/ofac-sdn/sdn.csv',
    name: 'OFAC SDN list',
    licence: 'public domain (US government work)',
    date: '2021-06-30',
  },
  'sdn-alt': {
    path: 'sanctions/ofac-sdn/alt.csv',
    name: 'OFAC SDN aliases',
    licence: 'public domain (US government work)',
    date: '2021-06-30',
  },
  'cons-prim': {
    path: 'sanctions/ofac-cons/cons_prim.csv',
    name: 'OFAC Consolidated (non-SDN) list',
    licence: 'public domain (US government work)',
    date: '2025-12-19',
  },
  'cons-alt': {
    path: 'sanctions/ofac-cons/cons_alt.csv',
    name: 'OFAC Consolidated (non-SDN) aliases',
    licence: 'public domain (US government work)',
    date: '2025-12-19',
  },
  csl: {
    path: 'sanctions/us-csl/consolidated.csv.gz',
    name: 'US Consolidated Screening List (BIS Entity List, DPL, UVL, MEU, ITAR, ISN)',
    licence: 'public domain (US government work)',
    date: '2022-04-21',
  },
};

const LOADED_INDEX = 'loaded.json';

interface LoadedRecord {
  kind: ListKind;
  from: string;
  loaded_at: string;
  date: string;
  entries: number;
}

function readLoadedIndex(dataDir: string): Record<string, LoadedRecord> {
  const p = join(dataDir, LOADED_INDEX);
  if (!existsSync(p)) return {};
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, LoadedRecord>;
  } catch (e) {
    throw new WardenError('CONFIG_INVALID', `${p} is not valid JSON; delete it and load the lists again.`, { cause: e });
  }
}

export interface ResolvedList {
  kind: ListKind;
  file: string;
  name: string;
  licence: string;
  date: string;
  /** `shipped` (data/ in the repository) or `loaded` (the configured data directory). */
  origin: 'shipped' | 'loaded';
}

/** The file to read for a list: the data directory's newer copy when one was loaded. */
export function resolveList(kind: ListKind, dataDir?: string): ResolvedList {
  const meta = LIST_META[kind];
  if (dataDir) {
    const loaded = readLoadedIndex(dataDir)[kind];
    const file = join(dataDir, meta.path);
    if (loaded && existsSync(file)) {
      return { kind, file, name: meta.name, licence: meta.licence, date: loaded.date, origin: 'loaded' };
    }
  }
  return { kind, file: join(SHIPPED_DIR, meta.path), name: meta.name, licence: meta.licence, date: meta.date, origin: 'shipped' };
}

/** Reads a list file as text (gunzipping `.gz`); the error names the file. */
export function readListText(file: string): string {
  try {
    const buf = readFileSync(file);
    return file.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  } catch (e) {
    throw new WardenError('UNAVAILABLE', `cannot read ${file}: ${(e as Error).message}. Check the path, or reinstall the repository's data/ folder.`, {
      cause: e,
    });
  }
}

/**
 * `s` without the text it was cut from: V8 keeps a slice of 13 or more characters as a view of
 * its parent, so a name kept from a list would keep the whole list's text alive for as long as
 * the intelligence is open (the ASN database: 33 MB; the sanctions lists: 14 MB). Slicing a
 * concatenation flattens it into a string of its own first.
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

const require = createRequire(import.meta.url);

export interface NpmDb {
  name: string;
  dir: string;
  version: string;
  /** Date encoded in the package version (`2.3.YYYYMMDDHH`). */
  date: string;
  licence: string;
}

export const NPM_DBS = ['@ip-location-db/asn', '@ip-location-db/geo-whois-asn-country'] as const;

export function npmDb(name: (typeof NPM_DBS)[number]): NpmDb {
  let pkgFile: string;
  try {
    pkgFile = require.resolve(`${name}/package.json`);
  } catch (e) {
    throw new WardenError('UNAVAILABLE', `${name} is not installed; run \`npm install\` in the Warden directory.`, { cause: e });
  }
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string; license?: string };
  const m = /(\d{4})(\d{2})(\d{2})\d{2}$/.exec(pkg.version);
  const date = m ? `${m[1]}-${m[2]}-${m[3]}` : statSync(pkgFile).mtime.toISOString().slice(0, 10);
  const licence =
    name === '@ip-location-db/asn'
      ? 'CC BY 4.0 (RouteViews, DB-IP, NRO; see ROUTEVIEWS-LICENSE, DBIP-LICENSE, NRO_LICENSE)'
      : 'CC0 (NRO delegation data; see NRO_LICENSE)';
  return { name, dir: dirname(pkgFile), version: pkg.version, date, licence };
}

/** Days between a source's date and `now`. */
export function ageDays(date: string, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(`${date}T00:00:00Z`)) / 86_400_000);
}

export const MAX_SOURCE_AGE_DAYS = 90;

/**
 * One warning per source older than `maxAgeDays` (90 by default), saying how to refresh it.
 * Without `sources`, it checks the lists and databases that would be read with `dataDir`.
 */
export function sourceWarnings(
  now: Date = new Date(),
  opts: { sources?: IntelSource[]; dataDir?: string; maxAgeDays?: number } = {},
): string[] {
  const max = opts.maxAgeDays ?? MAX_SOURCE_AGE_DAYS;
  const sources =
    opts.sources ??
    [
      ...NPM_DBS.map((n) => {
        const d = npmDb(n);
        return { name: `${d.name}@${d.version}`, licence: d.licence, date: d.date, entries: 0 };
      }),
      ...LIST_KINDS.map((k) => {
        const r = resolveList(k, opts.dataDir);
        return { name: r.name, licence: r.licence, date: r.date, entries: 0 };
      }),
    ];
  const out: string[] = [];
  for (const s of sources) {
    const age = ageDays(s.date, now);
    if (age > max) {
      const fix = s.name.startsWith('@ip-location-db')
        ? 'run `warden intel update`'
        : 'download a newer copy and run `warden intel load FILE`';
      out.push(`${s.name} is ${age} days old (dated ${s.date}; limit ${max} days): ${fix}.`);
    }
  }
  return out;
}

/** Guesses the kind of a list file from its name and first lines. */
export function detectListKind(file: string, text: string): ListKind | null {
  const name = basename(file).toLowerCase();
  if (/^cons_prim/.test(name)) return 'cons-prim';
  if (/^cons_alt/.test(name)) return 'cons-alt';
  if (/^sdn\.csv$|^sdn[-_].*\.csv$/.test(name)) return 'sdn';
  if (/^alt\.csv$|^sdn[-_]?alt.*\.csv$/.test(name)) return 'sdn-alt';
  if (/consolidated.*\.csv(\.gz)?$/.test(name)) return 'csl';
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .slice(0, 50);
  if (lines.length === 0) return null;
  if (lines.every((l) => /^\d+\.\d+\.\d+\.\d+,\d+\.\d+\.\d+\.\d+,/.test(l))) return 'ipcat';
  const isAsn = lines.every((l) => /^AS\d+/i.test(l));
  const isV4 = lines.every((l) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(l));
  const isV6 = lines.every((l) => /^[0-9a-f:]+(\/\d+)?$/i.test(l) && l.includes(':'));
  if (/tor|exit/.test(name) && (isV4 || isV6 || lines.every((l) => /^[0-9a-f:.]+$/i.test(l)))) return 'tor';
  const family = /vpn/.test(name) ? 'vpn' : /datacent|hosting|\bdc\b/.test(name) ? 'datacenter' : null;
  if (!family) return null;
  if (isAsn) return `${family}-asn`;
  if (isV4) return `${family}-ipv4`;
  if (isV6) return `${family}-ipv6`;
  return null;
}

export interface LoadResult {
  kind: ListKind;
  file: string;
  entries: number;
  replaced: 'shipped' | 'loaded';
}

/**
 * `warden intel load FILE`: validates a newer list file and copies it into `dataDir`, where
 * `openIpIntel` and `createScreener` prefer it to the shipped copy. The kind is guessed from the
 * file name and content unless given. `date` is the content's date (default: today).
 */
export function intelLoad(
  file: string,
  dataDir: string,
  opts: { kind?: ListKind; date?: string; now?: Date } = {},
): LoadResult {
  if (!existsSync(file)) throw new WardenError('INPUT_INVALID', `${file} does not exist; give the path of a downloaded list file.`);
  const text = readListText(file);
  const kind = opts.kind ?? detectListKind(file, text);
  if (!kind) {
    throw new WardenError(
      'INPUT_INVALID',
      `${file}: cannot tell which list this is. Name it like the upstream file (sdn.csv, alt.csv, cons_prim.csv, cons_alt.csv, consolidated.csv.gz, tor-exit-nodes.lst, vpn-ipv4.txt, datacenter-ipv6.txt, …) or pass the kind (${LIST_KINDS.join(', ')}).`,
    );
  }
  const entries = countEntries(kind, text, file);
  if (entries === 0) throw new WardenError('INPUT_INVALID', `${file}: no ${kind} entries found; is it the right file?`);
  const meta = LIST_META[kind];
  const target = join(dataDir, meta.path);
  mkdirSync(dirname(target), { recursive: true });
  const replaced = resolveList(kind, dataDir).origin;
  if (kind === 'csl' && !file.endsWith('.gz')) {
    // The canonical name ends in .gz; store plain CSV gzipped so one reader serves both.
    writeFileSync(target, gzipSync(text));
  } else if (resolve(file) !== resolve(target)) copyFileSync(file, target);
  const now = opts.now ?? new Date();
  const index = readLoadedIndex(dataDir);
  index[kind] = { kind, from: resolve(file), loaded_at: now.toISOString(), date: opts.date ?? now.toISOString().slice(0, 10), entries };
  writeFileSync(join(dataDir, LOADED_INDEX), `${JSON.stringify(index, null, 2)}\n`);
  return { kind, file: target, entries, replaced };
}

function countEntries(kind: ListKind, text: string, file: string): number {
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const bad = (i: number, l: string): never => {
    throw new WardenError('INPUT_INVALID', `${file}:${i + 1}: not a valid ${kind} line: ${JSON.stringify(l.slice(0, 80))}`);
  };
  if (kind === 'vpn-ipv4' || kind === 'datacenter-ipv4' || kind === 'vpn-ipv6' || kind === 'datacenter-ipv6' || kind === 'tor') {
    lines.forEach((l, i) => {
      if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(l.trim())) bad(i, l);
    });
  }
  if (kind === 'vpn-asn' || kind === 'datacenter-asn') {
    lines.forEach((l, i) => {
      if (!/^AS\d+/i.test(l.trim())) bad(i, l);
    });
  }
  if (kind === 'csl') return Math.max(0, lines.length - 1);
  return lines.length;
}

export interface UpdateResult {
  packages: { name: string; before: string; after: string }[];
  output: string;
}

export type ExecFn = (cmd: string, args: string[], cwd: string) => Promise<{ stdout: string; stderr: string }>;

const defaultExec: ExecFn = (cmd, args, cwd) =>
  new Promise((ok, fail) => {
    execFile(cmd, args, { cwd, maxBuffer: 10_000_000 }, (err, stdout, stderr) => {
      if (err) fail(Object.assign(err, { stdout, stderr }));
      else ok({ stdout, stderr });
    });
  });

/**
 * `warden intel update`: runs `npm update` for the two ip-location-db packages in the Warden
 * directory and reports their versions before and after. Restart Warden to use the new data.
 */
export async function intelUpdate(opts: { cwd?: string; exec?: ExecFn } = {}): Promise<UpdateResult> {
  const cwd = opts.cwd ?? REPO_ROOT;
  const exec = opts.exec ?? defaultExec;
  const version = (n: (typeof NPM_DBS)[number]): string => {
    try {
      return npmDb(n).version;
    } catch {
      return '(not installed)';
    }
  };
  const before = NPM_DBS.map((n) => version(n));
  let out: { stdout: string; stderr: string };
  try {
    out = await exec('npm', ['update', ...NPM_DBS], cwd);
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new WardenError(
      'UNAVAILABLE',
      `npm update ${NPM_DBS.join(' ')} failed in ${cwd}: ${err.stderr?.trim() || err.message}. Check network access to the npm registry.`,
      { cause: e },
    );
  }
  const after = NPM_DBS.map((n) => version(n));
  return {
    packages: NPM_DBS.map((name, i) => ({ name, before: before[i]!, after: after[i]! })),
    output: `${out.stdout}${out.stderr}`.trim(),
  };
}

/**
 * Readers for the sanctions and export-control lists: OFAC SDN and Consolidated (legacy CSV
 * format) and the trade.gov Consolidated Screening List (its non-Treasury lists only, since the
 * Treasury ones come from the OFAC files).
 */
import { join } from 'node:path';
import { LIST_META, ownCopy, readListText, resolveList, type ListKind } from './sources.js';

export interface ListEntity {
  /** `ofac-sdn:306`, `ofac-cons:9639`, `us-csl:<id>`, or a watchlist entity id. */
  id: string;
  name: string;
  /** Short list name, such as `OFAC SDN` or `BIS Entity List`. */
  list: string;
  kind: 'sanctioned' | 'competitor' | 'restricted';
  type: 'entity' | 'individual';
  aliases: string[];
  native_names: string[];
  subsidiaries: string[];
  domains: string[];
  programs?: string;
  jurisdiction?: string;
}

/** RFC 4180 CSV rows (quoted fields, doubled quotes, CRLF or LF); fields are sliced, not built. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  const n = text.length;
  let row: string[] = [];
  let i = 0;
  while (i < n) {
    let field: string;
    if (text.charCodeAt(i) === 34) {
      // Quoted: find the closing quote, skipping doubled quotes.
      let j = i + 1;
      let hasDoubled = false;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          j = n;
          break;
        }
        if (text.charCodeAt(q + 1) === 34) {
          hasDoubled = true;
          j = q + 2;
          continue;
        }
        j = q;
        break;
      }
      field = text.slice(i + 1, j);
      if (hasDoubled) field = field.replace(/""/g, '"');
      i = j + 1;
      // Anything between the closing quote and the delimiter is kept (lenient).
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 44 || c === 10 || c === 13) break;
        field += text[i];
        i++;
      }
    } else {
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 44 || c === 10 || c === 13) break;
        j++;
      }
      field = text.slice(i, j);
      i = j;
    }
    row.push(field);
    const c = text.charCodeAt(i);
    if (c === 44) {
      i++;
      if (i === n) row.push('');
    } else {
      // End of line (or of text).
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
    }
  }
  return rows;
}

const empty = (s: string | undefined): string => {
  const t = (s ?? '').trim();
  return t === '-0-' ? '' : t;
};

function websites(remarks: string): string[] {
  const out: string[] = [];
  const re = /Website\s+((?:https?:\/\/)?[A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
  for (let m = re.exec(remarks); m; m = re.exec(remarks)) out.push(ownCopy(m[1]!.toLowerCase().replace(/^https?:\/\//, '').replace(/^www\./, '')));
  return out;
}

function readOfac(prim: string, alt: string, prefix: string, list: string): ListEntity[] {
  const byId = new Map<string, ListEntity>();
  for (const r of parseCsv(prim)) {
    const num = empty(r[0]);
    const name = empty(r[1]);
    const type = empty(r[2]).toLowerCase();
    if (!num || !name || type === 'vessel' || type === 'aircraft') continue;
    const remarks = empty(r[11]);
    byId.set(num, {
      id: ownCopy(`${prefix}:${num}`),
      name: ownCopy(name),
      list,
      kind: 'sanctioned',
      type: type === 'individual' ? 'individual' : 'entity',
      aliases: [],
      native_names: [],
      subsidiaries: [],
      domains: websites(remarks),
      programs: ownCopy(empty(r[3]).replace(/\] \[/g, ', ')),
    });
  }
  for (const r of parseCsv(alt)) {
    const e = byId.get(empty(r[0]));
    const name = empty(r[3]);
    if (e && name && !e.aliases.includes(name)) e.aliases.push(ownCopy(name));
  }
  return [...byId.values()];
}

const CSL_LISTS: Record<string, { short: string; kind: 'sanctioned' | 'restricted' }> = {
  'Entity List (EL) - Bureau of Industry and Security': { short: 'BIS Entity List', kind: 'restricted' },
  'Denied Persons List (DPL) - Bureau of Industry and Security': { short: 'BIS Denied Persons List', kind: 'sanctioned' },
  'Unverified List (UVL) - Bureau of Industry and Security': { short: 'BIS Unverified List', kind: 'restricted' },
  'Military End User (MEU) List - Bureau of Industry and Security': { short: 'BIS Military End User List', kind: 'restricted' },
  'ITAR Debarred (DTC) - State Department': { short: 'ITAR Debarred', kind: 'sanctioned' },
  'Nonproliferation Sanctions (ISN) - State Department': { short: 'State ISN', kind: 'sanctioned' },
};

function readCsl(text: string): ListEntity[] {
  const rows = parseCsv(text);
  const header = rows[0] ?? [];
  const col = (n: string): number => header.indexOf(n);
  const [iId, iSource, iType, iName, iAlt, iAddr, iRemarks] = ['_id', 'source', 'type', 'name', 'alt_names', 'addresses', 'remarks'].map(col);
  const out: ListEntity[] = [];
  for (let k = 1; k < rows.length; k++) {
    const r = rows[k]!;
    const src = CSL_LISTS[r[iSource!] ?? ''];
    const name = (r[iName!] ?? '').trim();
    if (!src || !name) continue;
    const aliases = (r[iAlt!] ?? '')
      .split(';')
      .map((a) => a.trim())
      .filter((a) => a && a !== name)
      .map(ownCopy);
    const addr = r[iAddr!] ?? '';
    const cc = /,\s*([A-Z]{2})\s*$/.exec(addr.split(';')[0] ?? '');
    const e: ListEntity = {
      id: ownCopy(`us-csl:${(r[iId!] ?? String(k)).slice(0, 16)}`),
      name: ownCopy(name),
      list: src.short,
      kind: src.kind,
      type: (r[iType!] ?? '').toLowerCase() === 'individual' ? 'individual' : 'entity',
      aliases,
      native_names: [],
      subsidiaries: [],
      domains: websites(r[iRemarks!] ?? ''),
    };
    if (cc) e.jurisdiction = cc[1]!;
    out.push(e);
  }
  return out;
}

export interface LoadedLists {
  entities: ListEntity[];
  /** `name@date` per list, for `lists_version`. */
  versions: string[];
  sources: { kind: ListKind; name: string; licence: string; date: string; file: string; entries: number }[];
}

/**
 * Loads the sanctions lists: from `sanctionsDir` when given (a folder laid out like
 * data/sanctions), else the newest of the configured data directory and the shipped copy.
 */
export function loadSanctionsLists(opts: { sanctionsDir?: string; dataDir?: string } = {}): LoadedLists {
  const file = (kind: ListKind): { file: string; name: string; licence: string; date: string; kind: ListKind } => {
    const r = resolveList(kind, opts.dataDir);
    if (opts.sanctionsDir) {
      return { ...r, file: join(opts.sanctionsDir, LIST_META[kind].path.replace(/^sanctions\//, '')) };
    }
    return r;
  };
  const sdn = [file('sdn'), file('sdn-alt')];
  const cons = [file('cons-prim'), file('cons-alt')];
  const csl = file('csl');
  const sdnEntities = readOfac(readListText(sdn[0]!.file), readListText(sdn[1]!.file), 'ofac-sdn', 'OFAC SDN');
  const consEntities = readOfac(readListText(cons[0]!.file), readListText(cons[1]!.file), 'ofac-cons', 'OFAC Consolidated (non-SDN)');
  const cslEntities = readCsl(readListText(csl.file));
  return {
    entities: [...sdnEntities, ...consEntities, ...cslEntities],
    versions: [`ofac-sdn@${sdn[0]!.date}`, `ofac-cons@${cons[0]!.date}`, `us-csl@${csl.date}`],
    sources: [
      { ...sdn[0]!, entries: sdnEntities.length },
      { ...cons[0]!, entries: consEntities.length },
      { ...csl, entries: cslEntities.length },
    ],
  };
}

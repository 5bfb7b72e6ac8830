/**
 * Maps records with snake_case fields onto table columns and back. Scalars get their own
 * column (queryable from SQL); nested or nullable values go into JSON text columns, so
 * `null` and "absent" stay distinct (SQL NULL is "absent", the text `null` is `null`).
 */

export type ColumnKind = 'text' | 'int' | 'real' | 'bool' | 'json';
export type ColumnSpec = readonly (readonly [name: string, kind: ColumnKind])[];

type Row = Record<string, unknown>;

/** Named parameters for an INSERT: every column present, absent fields as NULL. */
export function toParams(spec: ColumnSpec, record: object): Row {
  const src = record as Row;
  const out: Row = {};
  for (const [name, kind] of spec) {
    const v = src[name];
    if (v === undefined) out[name] = null;
    else if (kind === 'json') out[name] = JSON.stringify(v);
    else if (kind === 'bool') out[name] = v ? 1 : 0;
    else out[name] = v;
  }
  return out;
}

/**
 * The same values as `toParams`, in column order, for a statement with `?` placeholders
 * (`positionalList`): binding by position skips better-sqlite3's name lookups, which matters
 * on the per-request event insert. `extra` values follow the columns.
 */
export function toPositional(spec: ColumnSpec, record: object, ...extra: unknown[]): unknown[] {
  const src = record as Row;
  const out = new Array<unknown>(spec.length + extra.length);
  for (let i = 0; i < spec.length; i++) {
    const [name, kind] = spec[i]!;
    const v = src[name];
    out[i] = v === undefined ? null : kind === 'json' ? JSON.stringify(v) : kind === 'bool' ? (v ? 1 : 0) : v;
  }
  for (let j = 0; j < extra.length; j++) out[spec.length + j] = extra[j];
  return out;
}

/** A fresh record from a row: NULL columns are left out. */
export function fromRow<T>(spec: ColumnSpec, row: Row): T {
  const out: Row = {};
  for (const [name, kind] of spec) {
    const v = row[name];
    if (v === null || v === undefined) continue;
    if (kind === 'json') out[name] = JSON.parse(v as string);
    else if (kind === 'bool') out[name] = v === 1 || v === 1n;
    else if (kind === 'int' && typeof v === 'bigint') out[name] = Number(v);
    else out[name] = v;
  }
  return out as T;
}

export function columnList(spec: ColumnSpec): string {
  return spec.map(([n]) => n).join(', ');
}

export function placeholderList(spec: ColumnSpec): string {
  return spec.map(([n]) => `@${n}`).join(', ');
}

/** `?, ?, …`, one per column (for `toPositional`). */
export function positionalList(spec: ColumnSpec): string {
  return spec.map(() => '?').join(', ');
}

/** `CREATE TABLE` column definitions (affinity only; constraints are added by the caller). */
export function columnDefs(spec: ColumnSpec, overrides: Record<string, string> = {}): string {
  const affinity: Record<ColumnKind, string> = { text: 'TEXT', int: 'INTEGER', real: 'REAL', bool: 'INTEGER', json: 'TEXT' };
  return spec.map(([n, k]) => `${n} ${overrides[n] ?? affinity[k]}`).join(',\n  ');
}

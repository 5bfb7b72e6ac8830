/**
 * Validates STIX bundles against the official STIX 2.1 JSON schemas in data/stix2.1-schemas
 * (ajv, draft 2020-12): the bundle, then every object against its own type's schema (the bundle
 * schema alone lets a custom object through `anyOf`). Same settings as src/cases/stix.test.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const SCHEMAS = join(import.meta.dirname, '..', '..', 'data', 'stix2.1-schemas', 'schemas');
const BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? jsonFiles(p) : p.endsWith('.json') ? [p] : [];
  });
}

/** A function returning the schema errors of a bundle (empty when valid). */
export function openStixValidator(): (bundle: unknown) => string[] {
  // The official schemas use keywords ajv's strict mode rejects and `\-` patterns invalid under `u`.
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addFormat('idn-hostname', (s: string) => {
    try {
      return new URL(`http://${s}/`).hostname !== '';
    } catch {
      return false;
    }
  });
  for (const f of jsonFiles(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(f, 'utf8')) as object);
  const bundleSchema = ajv.getSchema(`${BASE}/common/bundle.json`);
  if (!bundleSchema) throw new Error(`no bundle schema under ${SCHEMAS}`);
  const schemaFor = (type: string): ValidateFunction | undefined => {
    const dir = ['relationship', 'sighting'].includes(type) ? 'sros' : ['marking-definition', 'extension-definition', 'language-content'].includes(type) ? 'common' : 'sdos';
    return ajv.getSchema(`${BASE}/${dir}/${type}.json`);
  };
  return (bundle) => {
    const errors: string[] = [];
    if (!bundleSchema(bundle)) errors.push(`bundle: ${ajv.errorsText(bundleSchema.errors)}`);
    for (const o of ((bundle as { objects?: { type: string; id: string }[] }).objects ?? [])) {
      const v = schemaFor(o.type);
      if (!v) errors.push(`${o.id}: no official schema for type ${o.type}`);
      else if (!(v(o as unknown) as boolean)) errors.push(`${o.id}: ${ajv.errorsText(v.errors)}`);
    }
    return errors;
  };
}

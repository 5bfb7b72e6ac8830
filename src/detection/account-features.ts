/**
 * The wire form of one account's streaming features (`DetectionEngine.exportAccount`): a
 * `v8.serialize`d record with a marker, as the scaled-out workers store it per account
 * (`DetectionStateStore`), so a worker restoring a partition and the evaluation leader read
 * exactly what was committed.
 */
import { deserialize, serialize } from 'node:v8';
import { ValidationError } from '../core/index.js';
import type { AccountFeatures } from './engine.js';

const MAGIC = 'warden-account-features';

export function encodeAccountFeatures(f: AccountFeatures): Uint8Array {
  return serialize({ magic: MAGIC, f });
}

/** Throws `VALIDATION` for bytes that are not an encoded account state. */
export function decodeAccountFeatures(buf: Uint8Array): AccountFeatures {
  let raw: { magic?: unknown; f?: AccountFeatures };
  try {
    raw = deserialize(buf) as typeof raw;
  } catch (e) {
    throw new ValidationError(`not an encoded account state (${(e as Error).message})`);
  }
  if (!raw || raw.magic !== MAGIC || !raw.f || raw.f.v !== 1) throw new ValidationError('not an encoded account state (version 1)');
  return raw.f;
}

/**
 * Small non-cryptographic hashes shared by the parts that need stable, fast fingerprints
 * (feature sketches, simulated worlds, detection sketches). Never used to hide anything.
 */
import { fmix32 } from './features-text.js';

/** 32-bit FNV-1a of a string's UTF-16 code units, then murmur3's finalizer. */
export function hash32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/**
 * An in-memory keeper of policy versions with the StateStore's signatures, for tests and for
 * running with a policy file and no store.
 */
import { createHash } from 'node:crypto';
import { NotFoundError, type PolicyVersionRecord, type StateStore } from '../core/index.js';

/** The part of the StateStore the policy manager uses; a StateStore can be passed as it is. */
export type PolicyVersionStore = Pick<
  StateStore,
  'savePolicyVersion' | 'listPolicyVersions' | 'getPolicyVersion' | 'setActivePolicyVersion' | 'activePolicyVersion'
>;

export function createMemoryPolicyStore(): PolicyVersionStore {
  const records: PolicyVersionRecord[] = [];
  return {
    async savePolicyVersion(text, source, now) {
      const sha256 = createHash('sha256').update(text).digest('hex');
      const same = records.find((r) => r.sha256 === sha256);
      if (same) return { ...same };
      const rec: PolicyVersionRecord = { version: records.length + 1, text, sha256, created_at: now, source, active: false };
      records.push(rec);
      return { ...rec };
    },
    async listPolicyVersions() {
      return records.map((r) => ({ ...r }));
    },
    async getPolicyVersion(version) {
      const r = records.find((x) => x.version === version);
      return r ? { ...r } : null;
    },
    async activePolicyVersion() {
      return records.find((r) => r.active)?.version ?? null;
    },
    async setActivePolicyVersion(version) {
      if (!records.some((r) => r.version === version)) throw new NotFoundError(`policy version ${version} does not exist; list versions with \`warden policy versions\``);
      for (const r of records) r.active = r.version === version;
    },
  };
}

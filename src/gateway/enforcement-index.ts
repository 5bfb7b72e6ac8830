/**
 * The gateway's in-memory view of the enforcement actions in force, kept current by the
 * EnforcementState's pushed changes: a lookup on the request path is a few Map reads.
 */
import { decisionRank } from '../core/index.js';
import type { EnforcementAction, EnforcementChange, EnforcementState, SubjectKind } from '../core/index.js';

export interface EnforcementIndex {
  /** The most severe action in force on any of the given subjects at `now`, or undefined. */
  strongest(subjects: { kind: SubjectKind; id: string | null | undefined }[], now: number): EnforcementAction | undefined;
  size(): number;
  close(): void;
}

export async function createEnforcementIndex(
  state: EnforcementState,
  now: () => number,
  opts: {
    /**
     * Called when an action on a cluster arrives: which accounts form a cluster is on their risk
     * records, which the process that took the action (a detection worker) may just have
     * rewritten, so the gateway re-reads them instead of waiting for its cache to age.
     */
    onClusterAction?: () => void;
  } = {},
): Promise<EnforcementIndex> {
  const bySubject = new Map<string, Map<string, EnforcementAction>>();
  const subjectKey = (kind: string, id: string) => `${kind}\u0000${id}`;

  const put = (a: EnforcementAction) => {
    const k = subjectKey(a.subject.kind, a.subject.id);
    let m = bySubject.get(k);
    if (!m) bySubject.set(k, (m = new Map()));
    m.set(a.action_id, a);
  };
  const remove = (a: EnforcementAction) => {
    const k = subjectKey(a.subject.kind, a.subject.id);
    const m = bySubject.get(k);
    if (!m) return;
    m.delete(a.action_id);
    if (m.size === 0) bySubject.delete(k);
  };
  const onChange = (c: EnforcementChange) => {
    if (c.type === 'put' && !c.action.reversed_at) {
      if (c.action.subject.kind === 'cluster') opts.onClusterAction?.();
      put(c.action);
    } else remove(c.action);
  };
  // Subscribe before the initial load so no change falls between the two.
  const unwatch = state.watch(onChange);
  for (const a of await state.active(new Date(now()).toISOString())) put(a);

  return {
    strongest(subjects, at) {
      let best: EnforcementAction | undefined;
      for (const s of subjects) {
        if (!s.id) continue;
        const m = bySubject.get(subjectKey(s.kind, s.id));
        if (!m) continue;
        for (const a of m.values()) {
          if (a.expires_at && Date.parse(a.expires_at) <= at) continue;
          if (!best || decisionRank(a.decision) > decisionRank(best.decision)) best = a;
        }
      }
      return best;
    },
    size: () => bySubject.size,
    close: unwatch,
  };
}

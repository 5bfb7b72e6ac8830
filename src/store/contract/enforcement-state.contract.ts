/**
 * The `EnforcementState` contract. The factory returns a fresh state and a way to open a peer
 * on the same backing store (another gateway process): changes applied on one must reach the
 * other's watchers within a second, and both must agree on the actions in force.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EnforcementChange, EnforcementState } from '../../core/index.js';
import { makeAction, sleep, uid, waitFor } from './fixtures.js';

export interface EnforcementStateFixture {
  state: EnforcementState;
  /** Another instance on the same backing store (closed by the suite). */
  peer(): Promise<EnforcementState>;
}

const NOW = '2026-03-10T00:00:00.000Z';

export function enforcementStateContract(name: string, open: () => Promise<EnforcementStateFixture>): void {
  describe(`EnforcementState contract: ${name}`, () => {
    let toClose: EnforcementState[] = [];
    const fresh = async () => {
      const f = await open();
      toClose.push(f.state);
      const peer = async () => {
        const p = await f.peer();
        toClose.push(p);
        return p;
      };
      return { state: f.state, peer };
    };
    afterEach(async () => {
      const list = toClose.reverse();
      toClose = [];
      for (const s of list) await s.close();
    });

    it('lists applied actions in force and drops expired and reversed ones', async () => {
      const { state } = await fresh();
      const a = makeAction({ created_at: '2026-03-01T00:00:00.000Z' });
      const b = makeAction({ created_at: '2026-03-02T00:00:00.000Z', expires_at: '2026-03-20T00:00:00.000Z' });
      const expired = makeAction({ created_at: '2026-03-03T00:00:00.000Z', expires_at: '2026-03-09T00:00:00.000Z' });
      for (const x of [a, b, expired]) await state.apply({ type: 'put', action: x });
      expect(await state.active(NOW)).toEqual([a, b]);
      await state.apply({
        type: 'reverse',
        action: { ...a, reversed_at: NOW, reversed_by: 'lead@example.test', reversed_reason: 'appeal upheld' },
      });
      expect((await state.active(NOW)).map((x) => x.action_id)).toEqual([b.action_id]);
      expect((await state.active('2026-03-21T00:00:00.000Z')).length).toBe(0);
    });

    it('treats a reverse without reversed_at as reversed now', async () => {
      const { state } = await fresh();
      const a = makeAction();
      await state.apply({ type: 'put', action: a });
      await state.apply({ type: 'reverse', action: a });
      expect(await state.active(NOW)).toEqual([]);
    });

    it('notifies its watchers of each change, in order, until they unsubscribe', async () => {
      const { state } = await fresh();
      const seen: EnforcementChange[] = [];
      const stop = state.watch((c) => seen.push(c));
      const a = makeAction();
      await state.apply({ type: 'put', action: a });
      const reversed = { ...a, reversed_at: NOW, reversed_by: 'x', reversed_reason: 'y' };
      await state.apply({ type: 'reverse', action: reversed });
      await waitFor(() => seen.length >= 2, 'two notifications', 3000);
      expect(seen).toEqual([
        { type: 'put', action: a },
        { type: 'reverse', action: reversed },
      ]);
      stop();
      await state.apply({ type: 'put', action: makeAction() });
      await sleep(100);
      expect(seen.length).toBe(2);
    });

    it('keeps notifying the other watchers when one throws', async () => {
      const { state } = await fresh();
      const seen: string[] = [];
      state.watch(() => {
        throw new Error('faulty watcher');
      });
      state.watch((c) => seen.push(c.action.action_id));
      const a = makeAction();
      await state.apply({ type: 'put', action: a });
      await waitFor(() => seen.length === 1, 'the good watcher', 3000);
      expect(seen).toEqual([a.action_id]);
    });

    it('gives watchers copies they may change', async () => {
      const { state } = await fresh();
      const a = makeAction({ params: { max_output_tokens: 512 } });
      state.watch((c) => {
        (c.action.params as Record<string, unknown>)['max_output_tokens'] = 1;
      });
      const seen: EnforcementChange[] = [];
      state.watch((c) => seen.push(c));
      await state.apply({ type: 'put', action: a });
      await waitFor(() => seen.length === 1, 'the notification', 3000);
      expect(a.params).toEqual({ max_output_tokens: 512 });
      expect((await state.active(NOW))[0]?.params).toEqual({ max_output_tokens: 512 });
    });

    it('reaches a peer’s watchers, and the peer agrees on what is in force', async () => {
      const { state, peer } = await fresh();
      const other = await peer();
      const seenByPeer: EnforcementChange[] = [];
      const seenHere: EnforcementChange[] = [];
      other.watch((c) => seenByPeer.push(c));
      state.watch((c) => seenHere.push(c));
      const a = makeAction({ subject: { kind: 'key', id: uid('key') }, decision: 'degrade', params: { max_output_tokens: 256 } });
      await state.apply({ type: 'put', action: a });
      await waitFor(() => seenByPeer.length === 1, 'the peer’s notification', 3000);
      expect(seenByPeer[0]).toEqual({ type: 'put', action: a });
      expect(await other.active(NOW)).toEqual([a]);
      const b = makeAction();
      await other.apply({ type: 'put', action: b });
      await waitFor(() => seenHere.length === 2, 'the change made by the peer', 3000);
      await sleep(300);
      // Each change is seen once per watcher: own changes are not echoed back by the peer path.
      expect(seenHere.map((c) => c.action.action_id)).toEqual([a.action_id, b.action_id]);
      expect(seenByPeer.map((c) => c.action.action_id)).toEqual([a.action_id, b.action_id]);
    });

    it('keeps actions when an instance closes', async () => {
      const { state, peer } = await fresh();
      const a = makeAction();
      await state.apply({ type: 'put', action: a });
      await state.close();
      const again = await peer();
      expect(await again.active(NOW)).toEqual([a]);
    });
  });
}

// The leader's wait for a learner to hold the log before it may vote.
import { describe, expect, it } from 'vitest';
import type { ProgressStatus, RaftStatus } from '../raft/types.ts';
import { waitForCatchUp } from './member-catch-up.ts';

function status(role: RaftStatus['role'], commit: number, n4: Partial<ProgressStatus> | undefined): RaftStatus {
  const progress = new Map<string, ProgressStatus>();
  if (n4 !== undefined) progress.set('n4', { match: 0, next: 1, state: 'replicate', recentActive: true, reachable: true, rejoining: false, ...n4 });
  return { id: 'n1', term: 2, vote: 'n1', commit, applied: commit, lastIndex: commit, leaderId: role === 'leader' ? 'n1' : 'n2', role, confState: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] }, progress, leadTransferee: '', rejoining: false };
}

describe('waitForCatchUp', () => {
  it('is done once the learner holds the log up to the commit index the wait began at, even while the log moves on', async () => {
    const seen = [status('leader', 20, { match: 5 }), status('leader', 30, { match: 20 })];
    let i = 0;
    const r = await waitForCatchUp(() => seen[Math.min(i++, seen.length - 1)]!, 'n4', 5000);
    expect(r).toEqual({ caughtUp: true, match: 20, target: 20 });
  });

  it('waits while the learner is rejoining (its log not yet confirmed) or unreachable, whatever its match', async () => {
    for (const n4 of [{ match: 50, rejoining: true }, { match: 50, reachable: false }, undefined]) {
      const r = await waitForCatchUp(() => status('leader', 20, n4), 'n4', 100);
      expect(r).toEqual({ caughtUp: false, match: n4?.match ?? 0, target: 20 });
    }
  });

  it('fails NOT_LEADER, naming the new leader, when this node stops leading', async () => {
    const seen = [status('leader', 20, { match: 5 }), status('follower', 20, undefined)];
    let i = 0;
    await expect(waitForCatchUp(() => seen[Math.min(i++, seen.length - 1)]!, 'n4', 5000)).rejects.toMatchObject({ code: 'NOT_LEADER', leaderId: 'n2' });
  });
});

// GET /cluster's member states, from a leader's and a follower's Raft status.
import { describe, expect, it } from 'vitest';
import type { ProgressStatus, RaftStatus } from '../raft/types.ts';
import { clusterView } from './cluster-view.ts';

function progress(match: number, extra: Partial<ProgressStatus> = {}): ProgressStatus {
  return { match, next: match + 1, state: 'replicate', recentActive: true, reachable: true, rejoining: false, ...extra };
}

function status(role: RaftStatus['role'], progressById: Record<string, ProgressStatus> = {}, extra: Partial<RaftStatus> = {}): RaftStatus {
  return {
    id: 'n1',
    term: 4,
    vote: 'n1',
    commit: 100,
    applied: 100,
    lastIndex: 100,
    leaderId: role === 'leader' ? 'n1' : 'n2',
    role,
    confState: { voters: ['n1', 'n2', 'n3', 'n4'], learners: ['n5'] },
    progress: new Map(Object.entries(progressById)),
    leadTransferee: '',
    rejoining: false,
    ...extra,
  };
}

describe('clusterView', () => {
  it('a leader shows each member caught up, behind by N, down or rejoining, and never a match above its own', () => {
    const view = clusterView(
      'n1',
      status('leader', {
        n1: progress(100),
        n2: progress(100),
        n3: progress(93),
        n4: progress(100, { reachable: false, recentActive: false }),
        n5: progress(0, { rejoining: true, recentActive: false }),
      }),
      100,
    );
    const byId = Object.fromEntries(view.nodes.map((n) => [n.id, [n.state, n.lagEntries]]));
    expect(byId).toEqual({
      n1: ['caught-up', 0],
      n2: ['caught-up', 0],
      n3: ['behind', 7],
      n4: ['down', 0],
      n5: ['rejoining', 100],
    });
    expect(view.nodes.find((n) => n.id === 'n5')).toMatchObject({ role: 'learner', matchIndex: 0, commitIndex: 0 });
  });

  it('a follower knows only its own state: rejoining, or how far its applied index lags its commit', () => {
    const view = clusterView('n1', status('follower', {}, { rejoining: true, commit: 90 }), 80);
    expect(view.nodes.find((n) => n.id === 'n1')).toMatchObject({ state: 'rejoining', lagEntries: 10 });
    expect(view.nodes.find((n) => n.id === 'n2')).toMatchObject({ state: null, lagEntries: null, commitIndex: null });
    const settled = clusterView('n1', status('follower', {}, { commit: 90 }), 90);
    expect(settled.nodes.find((n) => n.id === 'n1')).toMatchObject({ state: 'caught-up', lagEntries: 0 });
  });
});

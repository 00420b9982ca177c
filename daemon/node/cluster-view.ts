// What GET /api/v1/cluster shows: the leader, the term, and each member's
// indexes as this node knows them. The leader knows its followers' match
// indexes from Raft progress; a follower knows only its own and says so.
import type { NodeId, RaftStatus } from '../raft/types.ts';

/** One member as seen from this node; null where this node cannot know. */
export interface MemberView {
  readonly id: NodeId;
  readonly role: string;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  /** Leader only: the highest index known replicated on the member. */
  readonly matchIndex?: number;
  /** Leader only: heard from within the last election timeout. */
  readonly recentActive?: boolean;
  /** `ms`: the member's wall clock minus the answering node's (0 for itself), from the peer pings; absent until measured. */
  readonly clockSkewMs?: number;
}

/** The cluster as this node sees it. */
export interface ClusterView {
  readonly leaderId: NodeId;
  readonly term: number;
  /** Who answers: a leader's view has every member's progress, a follower's only its own. */
  readonly reportedBy: { readonly id: NodeId; readonly role: string };
  readonly nodes: readonly MemberView[];
}

/** Builds the view from the Raft status and this node's applied index; `clockSkewMs`: each member's clock skew where measured. */
export function clusterView(selfId: NodeId, status: RaftStatus, appliedIndex: number, clockSkewMs: ReadonlyMap<NodeId, number> = new Map()): ClusterView {
  const members = [...status.confState.voters, ...status.confState.learners];
  if (!members.includes(selfId)) members.push(selfId);
  const nodes = members.map((id): MemberView => {
    if (id === selfId) return { id, role: status.role, commitIndex: status.commit, appliedIndex };
    const role = id === status.leaderId ? 'leader' : status.confState.learners.includes(id) ? 'learner' : 'follower';
    const progress = status.role === 'leader' ? status.progress.get(id) : undefined;
    if (progress === undefined) return { id, role, commitIndex: null, appliedIndex: null };
    return {
      id,
      role,
      commitIndex: Math.min(progress.match, status.commit),
      appliedIndex: null,
      matchIndex: progress.match,
      recentActive: progress.recentActive,
    };
  });
  const withSkews = nodes.map((view) => {
    const skew = view.id === selfId ? 0 : clockSkewMs.get(view.id);
    return skew === undefined ? view : { ...view, clockSkewMs: Math.round(skew) };
  });
  return { leaderId: status.leaderId, term: status.term, reportedBy: { id: selfId, role: status.role }, nodes: withSkews };
}

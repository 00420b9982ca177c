// What GET /api/v1/cluster shows: the leader, the term, and each member's
// indexes and state as this node knows them. The leader knows its
// followers' match indexes from Raft progress, whether it heard from them
// lately, and which of them said they are rejoining (their storage lost
// entries they had acknowledged); a follower knows only itself and says so.
import type { NodeId, RaftStatus } from '../raft/types.ts';

/**
 * A member's state as this node sees it:
 * - `caught-up`: holds everything committed (leader's view: its match
 *   reached the commit index; a node's own view: it applied all it knows
 *   committed);
 * - `behind`: holds or applied less, by `lagEntries`;
 * - `down`: the leader heard nothing from it for one to two election timeouts;
 * - `rejoining`: its storage lost entries it had acknowledged (wiped, or an
 *   older copy put back); it catches up and does not vote until the leader
 *   confirms it holds the log;
 * - null: this node cannot know (a follower's view of another member).
 */
export type MemberState = 'caught-up' | 'behind' | 'down' | 'rejoining';

/** One member as seen from this node; null where this node cannot know. */
export interface MemberView {
  readonly id: NodeId;
  readonly role: string;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  /** Leader only: the highest index known replicated on the member (never above what it holds, as far as the leader knows). */
  readonly matchIndex?: number;
  /** Leader only: heard from within the current election timeout. */
  readonly recentActive?: boolean;
  /** `ms`: the member's wall clock minus the answering node's (0 for itself), from the peer pings; absent until measured. */
  readonly clockSkewMs?: number;
  /** ISO 8601: when the member's TLS certificate ends (this node's as loaded, another's as it last showed it on a peer link); absent without TLS or not seen yet. */
  readonly tlsNotAfter?: string;
  /** See MemberState; null when this node cannot know. */
  readonly state: MemberState | null;
  /** Entries the member lacks of the commit index (leader's view: commit − match; own view: commit − applied); null when unknown. */
  readonly lagEntries: number | null;
}

/** The cluster as this node sees it. */
export interface ClusterView {
  readonly leaderId: NodeId;
  readonly term: number;
  /** Who answers: a leader's view has every member's progress, a follower's only its own. */
  readonly reportedBy: { readonly id: NodeId; readonly role: string };
  readonly nodes: readonly MemberView[];
}

/**
 * Builds the view from the Raft status and this node's applied index;
 * `clockSkewMs`: each member's clock skew where measured; `certificateEndsMs`:
 * when each member's TLS certificate ends (ms since the epoch) where known.
 */
export function clusterView(
  selfId: NodeId,
  status: RaftStatus,
  appliedIndex: number,
  clockSkewMs: ReadonlyMap<NodeId, number> = new Map(),
  certificateEndsMs: ReadonlyMap<NodeId, number> = new Map(),
): ClusterView {
  const members = [...status.confState.voters, ...status.confState.learners];
  if (!members.includes(selfId)) members.push(selfId);
  const nodes = members.map((id): MemberView => {
    if (id === selfId) {
      const lagEntries = Math.max(0, status.commit - appliedIndex);
      const state: MemberState = status.rejoining ? 'rejoining' : lagEntries === 0 ? 'caught-up' : 'behind';
      return { id, role: status.role, commitIndex: status.commit, appliedIndex, state, lagEntries };
    }
    const role = id === status.leaderId ? 'leader' : status.confState.learners.includes(id) ? 'learner' : 'follower';
    const progress = status.role === 'leader' ? status.progress.get(id) : undefined;
    if (progress === undefined) return { id, role, commitIndex: null, appliedIndex: null, state: null, lagEntries: null };
    const lagEntries = Math.max(0, status.commit - progress.match);
    const state: MemberState = !progress.reachable ? 'down' : progress.rejoining ? 'rejoining' : lagEntries === 0 ? 'caught-up' : 'behind';
    return {
      id,
      role,
      commitIndex: Math.min(progress.match, status.commit),
      appliedIndex: null,
      matchIndex: progress.match,
      recentActive: progress.recentActive,
      state,
      lagEntries,
    };
  });
  const withSkews = nodes.map((view) => {
    const skew = view.id === selfId ? 0 : clockSkewMs.get(view.id);
    const endsMs = certificateEndsMs.get(view.id);
    return {
      ...view,
      ...(skew !== undefined ? { clockSkewMs: Math.round(skew) } : {}),
      ...(endsMs !== undefined ? { tlsNotAfter: new Date(endsMs).toISOString() } : {}),
    };
  });
  return { leaderId: status.leaderId, term: status.term, reportedBy: { id: selfId, role: status.role }, nodes: withSkews };
}

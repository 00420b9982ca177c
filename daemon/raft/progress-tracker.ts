// Membership and everyone's replication progress as one node sees it: who
// votes, who only learns, the votes of a running election, and (on a leader)
// how far each member's log matches. Quorums are always counted over the
// current voters.
import { assert, unreachable } from './assert.ts';
import { Progress } from './progress.ts';
import { majorityIndex, quorumSize, voteResult, type VoteResult } from './quorum.ts';
import type { ConfChange, ConfState, NodeId } from './types.ts';

/** Limits every Progress is built with. */
export interface ProgressLimits {
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
}

/** Members, their progress, and election votes. */
export class ProgressTracker {
  /** Invariant: sorted, so every broadcast goes out in the same order; disjoint from learners. */
  voters: NodeId[] = [];
  /** Invariant: sorted; disjoint from voters. */
  learners: NodeId[] = [];
  /** Invariant: exactly one entry per voter and learner. */
  readonly progress = new Map<NodeId, Progress>();
  /** Votes received in the current election: true granted, false rejected. */
  readonly votes = new Map<NodeId, boolean>();

  constructor(private readonly limits: ProgressLimits) {}

  /** Replaces the membership; every member's progress restarts from `lastIndex`. */
  restore(confState: ConfState, lastIndex: number): void {
    this.voters = [...new Set(confState.voters)].sort();
    this.learners = [...new Set(confState.learners)].filter((id) => !this.voters.includes(id)).sort();
    this.progress.clear();
    for (const id of this.members()) this.progress.set(id, this.newProgress(lastIndex));
  }

  /** Voters then learners, each sorted. */
  members(): NodeId[] {
    return [...this.voters, ...this.learners];
  }

  /** The membership as a ConfState. */
  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  /** True when `id` votes. */
  isVoter(id: NodeId): boolean {
    return this.voters.includes(id);
  }

  /**
   * Applies one single-server change. Adding a voter promotes a learner;
   * adding a learner demotes a voter; removing forgets the node's progress.
   * New members start probing at `lastIndex` + 1 and count as recently active,
   * so a leader with check-quorum does not step down on their account at once.
   */
  applyChange(change: ConfChange, lastIndex: number): void {
    const id = change.nodeId;
    assert(id !== '', 'conf change without a node id');
    switch (change.type) {
      case 'add-voter':
        this.learners = this.learners.filter((x) => x !== id);
        if (!this.voters.includes(id)) this.voters = [...this.voters, id].sort();
        break;
      case 'add-learner':
        this.voters = this.voters.filter((x) => x !== id);
        if (!this.learners.includes(id)) this.learners = [...this.learners, id].sort();
        break;
      case 'remove-node':
        this.voters = this.voters.filter((x) => x !== id);
        this.learners = this.learners.filter((x) => x !== id);
        this.progress.delete(id);
        this.votes.delete(id);
        return;
      default:
        unreachable(change);
    }
    if (!this.progress.has(id)) {
      const pr = this.newProgress(lastIndex);
      pr.recentActive = true;
      pr.heard = true;
      this.progress.set(id, pr);
    }
  }

  /**
   * The highest index a majority of voters have acknowledged. What a
   * rejoining member (its storage lost acknowledged entries) claims to hold
   * does not count until the leader confirms it: see step-leader.ts handleRejoin.
   */
  committedIndex(): number {
    return majorityIndex(this.voters, (id) => this.progress.get(id)?.ackedMatch ?? 0);
  }

  /** Records `id`'s vote (the first one counts) and returns the election's outcome so far. */
  recordVote(id: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult(this.voters, this.votes);
  }

  /** Forgets the votes of the last election. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** True when a majority of voters (counting `self`) were heard from recently. */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === self || this.progress.get(id)?.recentActive === true) active++;
    }
    return active >= quorumSize(this.voters.length);
  }

  private newProgress(lastIndex: number): Progress {
    return new Progress(lastIndex + 1, this.limits.inflightMessagesMax, this.limits.inflightBytesMax);
  }
}

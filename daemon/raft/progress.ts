// The leader's view of one follower's log: how much of it matches, what to
// send next, and which of three modes replication is in (probe: one message
// per heartbeat until we find where logs agree; replicate: stream optimistically
// under flow control; snapshot: wait for an InstallSnapshot to land).
import { Inflights } from './inflights.ts';
import type { ProgressStatus } from './types.ts';

/** Replication mode of one follower. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** One follower's replication progress, owned by the leader's ProgressTracker. */
export class Progress {
  /** Highest index known to match the leader's log. Invariant: match < next. */
  match = 0;
  /**
   * Highest index the follower acknowledged to this leader in this term: it
   * vouched to hold it on its disk. Unlike match, it survives forgetMatch()
   * (a dropped connection, a possibly stale rejection): heartbeats tell the
   * follower the commit index up to it, so a follower whose storage lost
   * what it vouched for learns it (raft.ts handleHeartbeat). Lowered only
   * by the follower's own claim of what it holds (a 'rejoin').
   */
  vouched = 0;
  /**
   * Highest index the follower acknowledged (app-resp) to this leader in this
   * term, or held when the leader confirmed its rejoin: what commits count
   * (ProgressTracker.committedIndex). A rejoining follower's claims raise
   * match (replication goes on) but not this. Invariant: ackedMatch <= match.
   */
  ackedMatch = 0;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot sent; else 0. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (check-quorum); reset by the leader each timeout. */
  recentActive = false;
  /**
   * Heard from (an answer, or a rejoining follower's claim) within the
   * current election timeout, and within the previous one: together, "heard
   * from lately" without blinking at each timeout.
   */
  heard = false;
  heardBefore = false;
  /**
   * The follower said its storage lost entries it had acknowledged ('rejoin')
   * and this leader has not confirmed since that it holds the log.
   */
  rejoining = false;
  /**
   * Probe: an append was sent and not answered; send no more until a reply or
   * heartbeat response. Replicate: inflights were full at the last send.
   */
  paused = false;
  /**
   * Highest index of an entry the follower waits to apply (a proposal it
   * forwarded to this leader: RaftNode.notifyCommit), or 0. While set, each
   * advance of the commit index goes to the follower at once in an append of
   * its own; otherwise the commit index rides on the next append or
   * heartbeat. Cleared once an append has carried a commit index at or past it.
   */
  commitAwaited = 0;
  readonly inflights: Inflights;

  /** `next`: first index to send; limits are those of Inflights. */
  constructor(next: number, inflightMessagesMax: number, inflightBytesMax: number) {
    this.next = next;
    this.inflights = new Inflights(inflightMessagesMax, inflightBytesMax);
  }

  private resetState(state: ProgressState): void {
    this.paused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing from just after match (or after a snapshot that was sent). */
  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  /** Stream entries from just after match. */
  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  /** Wait for the snapshot at `snapshotIndex` to be installed. */
  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
  }

  /**
   * The follower's log no longer holds what it acknowledged (its storage went
   * backwards, or a stale rejection says so): forget the match, which only
   * acknowledgements may raise again, and probe from `next`.
   */
  forgetMatch(next: number): void {
    this.resetState('probe');
    this.match = 0;
    this.ackedMatch = 0;
    this.next = Math.max(1, next);
  }

  /**
   * The follower says its log ends at `index` (`held`: matching ours there):
   * match and vouched come down to what it holds, and probing restarts after it.
   */
  lowerTo(index: number, held: boolean): void {
    this.resetState('probe');
    this.match = held ? index : 0;
    this.vouched = Math.min(this.vouched, this.match);
    this.ackedMatch = Math.min(this.ackedMatch, this.match);
    this.next = index + 1;
  }

  /** Accounts for an append message of `entryCount` entries and `bytes` bytes just sent. */
  sentEntries(entryCount: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.next += entryCount;
        this.inflights.add(this.next - 1, bytes);
      }
      this.paused = this.inflights.full();
    } else if (this.state === 'probe') {
      if (entryCount > 0) this.paused = true;
    }
  }

  /**
   * The follower acknowledged (or, `counted` false, a rejoining follower
   * claimed to hold) up to `index`; false when that is old news.
   */
  maybeUpdate(index: number, counted = true): boolean {
    if (index > this.vouched) this.vouched = index;
    if (counted && index > this.ackedMatch) this.ackedMatch = index;
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.paused = false;
    return true;
  }

  /**
   * The follower rejected an append at `rejected`; `matchHint` is the highest
   * index that may still match. False when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.paused = false;
    return true;
  }

  /** True when the leader must not send this follower appends now. */
  isPaused(): boolean {
    return this.state === 'snapshot' || this.paused;
  }

  /** The public, read-only view. */
  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      recentActive: this.recentActive,
      reachable: this.heard || this.heardBefore,
      rejoining: this.rejoining,
    };
  }
}

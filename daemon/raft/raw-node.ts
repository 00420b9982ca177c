// The node the driver holds: wraps the consensus core (raft.ts) and
// packs what it produced into Readys. The driver persists a Ready's hard
// state, entries and snapshot, then sends its messages, then applies its
// committed entries, then calls advance(); the core never does I/O itself.
import { assert } from './assert.ts';
import { Raft } from './raft.ts';
import {
  bcastAppend,
  notifyCommit,
  propose,
  proposeConfChange,
  reduceUncommittedBytes,
  reportSnapshot,
  reportUnreachable,
} from './step-leader.ts';
import type {
  ConfChange,
  ConfState,
  HardState,
  Message,
  NodeId,
  ProgressStatus,
  ProposeResult,
  RaftConfig,
  RaftNode,
  RaftStatus,
  Ready,
  SoftState,
} from './types.ts';

/** What the last Ready handed out, to be acknowledged by advance(). */
interface HandedOut {
  /** Last entry handed to persist, if any: (index, term). */
  readonly lastEntry: { readonly index: number; readonly term: number } | undefined;
  /** Index of the snapshot handed to install, if any. */
  readonly snapshotIndex: number | undefined;
  /** Last committed entry handed to apply, or 0. */
  readonly appliedIndex: number;
}

/** The driver's handle on one Raft node; see RaftNode. */
class RawNode implements RaftNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** Set between ready() and advance(). Invariant: at most one Ready is outstanding. */
  private handedOut: HandedOut | undefined = undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.softState();
    this.prevHardState = this.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  ticksUntilDeadline(): number {
    return this.raft.ticksUntilDeadline();
  }

  step(message: Message): void {
    this.raft.step(message);
  }

  propose(data: Uint8Array): ProposeResult {
    return propose(this.raft, data);
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    return proposeConfChange(this.raft, change);
  }

  notifyCommit(id: NodeId, index: number): void {
    notifyCommit(this.raft, id, index);
  }

  applyConfChange(change: ConfChange): ConfState {
    return this.raft.applyConfChange(change);
  }

  readIndex(context: string): void {
    this.raft.requestReadIndex(context);
  }

  transferLeadership(target: NodeId): void {
    this.raft.requestTransfer(target);
  }

  campaign(): void {
    this.raft.hup(false);
  }

  hasReady(): boolean {
    const r = this.raft;
    if (this.handedOut !== undefined) return false;
    if (r.appendsPending && r.role === 'leader') return true;
    if (r.messages.length > 0 || r.readStates.length > 0 || r.rejoinClaimTo !== '') return true;
    if (r.log.unstable.entryCount() > 0 || r.log.unstable.snapshot !== undefined) return true;
    if (r.log.hasNextCommittedEntries()) return true;
    return !sameSoftState(this.softState(), this.prevSoftState) || !sameHardState(this.hardState(), this.prevHardState);
  }

  ready(): Ready {
    assert(this.handedOut === undefined, 'ready() called again before advance()');
    const r = this.raft;
    if (r.appendsPending && r.role === 'leader') bcastAppend(r);
    r.appendsPending = false;
    r.flushRejoinClaim();

    const entries = r.log.unstable.entriesView();
    const snapshot = r.log.unstable.snapshot;
    const committedEntries = r.log.nextCommittedEntries(r.config.committedBytesPerReadyMax);
    reduceUncommittedBytes(r, committedEntries);
    const messages = r.messages;
    r.messages = [];
    const readStates = r.readStates;
    r.readStates = [];

    const softState = this.softState();
    const hardState = this.hardState();
    const softChanged = !sameSoftState(softState, this.prevSoftState);
    const hardChanged = !sameHardState(hardState, this.prevHardState);
    const mustSync =
      entries.length > 0 ||
      snapshot !== undefined ||
      hardState.term !== this.prevHardState.term ||
      hardState.vote !== this.prevHardState.vote ||
      hardState.rejoining !== this.prevHardState.rejoining;
    this.prevSoftState = softState;
    this.prevHardState = hardState;

    const lastEntry = entries[entries.length - 1];
    const lastApplied = committedEntries[committedEntries.length - 1];
    this.handedOut = {
      lastEntry: lastEntry === undefined ? undefined : { index: lastEntry.index, term: lastEntry.term },
      snapshotIndex: snapshot?.metadata.index,
      appliedIndex: lastApplied?.index ?? 0,
    };
    const rd: { -readonly [K in keyof Ready]: Ready[K] } = { entries, committedEntries, messages, readStates, mustSync };
    if (softChanged) rd.softState = softState;
    if (hardChanged) rd.hardState = hardState;
    if (snapshot !== undefined) rd.snapshot = snapshot;
    return rd;
  }

  advance(): void {
    const handed = this.handedOut;
    assert(handed !== undefined, 'advance() without a ready()');
    this.handedOut = undefined;
    const log = this.raft.log;
    if (handed.snapshotIndex !== undefined) {
      log.unstable.stableSnapTo(handed.snapshotIndex);
      if (handed.snapshotIndex > log.applied) log.applied = handed.snapshotIndex;
    }
    if (handed.lastEntry !== undefined) log.unstable.stableTo(handed.lastEntry.index, handed.lastEntry.term);
    if (handed.appliedIndex > 0) log.appliedTo(handed.appliedIndex);
  }

  status(): RaftStatus {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.role === 'leader') {
      for (const [id, pr] of r.tracker.progress) progress.set(id, pr.status());
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      leaderId: r.leaderId,
      role: r.role,
      confState: r.tracker.confState(),
      progress,
      leadTransferee: r.leadTransferee,
      rejoining: r.rejoining,
    };
  }

  reportUnreachable(id: NodeId): void {
    reportUnreachable(this.raft, id);
  }

  reportConnectionLost(id: NodeId): void {
    this.raft.connectionLost(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    reportSnapshot(this.raft, id, ok);
  }

  private softState(): SoftState {
    return { leaderId: this.raft.leaderId, role: this.raft.role };
  }

  private hardState(): HardState {
    const r = this.raft;
    if (r.rejoining) return { term: r.term, vote: r.vote, commit: r.log.committed, rejoining: true };
    return { term: r.term, vote: r.vote, commit: r.log.committed };
  }
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leaderId === b.leaderId && a.role === b.role;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit && a.rejoining === b.rejoining;
}

/** Creates a Raft node from its config and the state in config.storage. */
export function createRaftNode(config: RaftConfig): RaftNode {
  return new RawNode(config);
}

// The one place where a node's replicated log does I/O. It owns the
// RaftNode, its tick timer and the ready loop, in etcd's order:
//   persist (hard state + entries + snapshot, ONE SQLite transaction, one
//   fsync) → send (RaftTransport) → apply committed entries → advance().
// Group commit falls out of the loop: proposals made in one event-loop turn
// are packed into one log entry (proposal-batch.ts) and handed out in one
// Ready, so they cost one log row, one transaction and one fsync together. With a storage that syncs
// asynchronously (SqliteRaftStorage in syncMode "async"), the fsync runs in
// the thread pool and steps 2–4 wait for it; proposals made meanwhile form
// the next Ready, which is taken only after this one is advanced.
// Read barriers (ReadIndex rounds) live in read-index-rounds.ts; every
// callback and timer runs through a DriverScheduler (driver-scheduler.ts).
// Ticks: the driver does not wake every tickMs. It keeps one timer for the
// core's next deadline (ticksUntilDeadline: a leader's next heartbeat, a
// follower's election timeout) and, whenever it wakes or anything reaches
// the core, first counts in the ticks that elapsed since (countTicks), so
// the core sees the same ticks as with a timer every tickMs, and an idle
// follower that hears its leader wakes about once per election timeout.
import {
  decodeConfChange,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftNode,
  type RaftStatus,
  type Ready,
  type ReadState,
  type Snapshot,
  type SoftState,
  type WritableStorage,
} from '../raft/types.ts';
import { nodeScheduler, type DriverScheduler, type ScheduledTimer } from './driver-scheduler.ts';
import type { RaftTransport } from './raft-transport.ts';
import { BATCH_BYTES_MAX, decodeBatch, encodeBatch, PROPOSALS_PER_ENTRY_MAX, type LogPosition } from './proposal-batch.ts';
import { ProposalError, type ProposalErrorCode } from './proposal-error.ts';
import { ReadIndexRounds } from './read-index-rounds.ts';

/** Stable storage the driver can write a whole Ready to in one transaction. */
export interface DurableStorage extends WritableStorage {
  /** Runs `fn` in one transaction; nested calls join it. Durable at commit unless syncAsync is defined. */
  atomically<T>(fn: () => T): T;
  /** When defined, commits are durable only once this has called back (off the event loop). */
  readonly syncAsync?: ((done: (error: Error | null) => void) => void) | undefined;
}

/** What the replicated application does with the log (the seat pools, in Floe). */
export interface ReplicatedApplication<R> {
  /**
   * Applies one proposal of a committed normal entry (`data`: the bytes given
   * to propose(); `at`: its entry and its strictly increasing log position);
   * the result goes to its proposer (on this node). `local`: what this node
   * passed to propose() with it, when it proposed it (saves decoding it
   * again); else undefined.
   */
  apply(data: Uint8Array, at: LogPosition, local: unknown): R;
  /** Replaces the application's state with a snapshot's data (a follower catching up). */
  restore(snapshot: Snapshot): void;
  /** The application's state as snapshot bytes, as of the last applied entry. */
  snapshotData(): Uint8Array;
  /** Called inside each Ready's transaction, after the log writes. */
  persistWith?(): void;
  /** Called inside a snapshot's transaction: whatever the application buffered for entries it covers must be written now. */
  beforeSnapshot?(): void;
  /** Called once per Ready after its committed entries are applied. */
  afterApply?(appliedIndex: number): void;
}

/** Options of the driver; every limit has a unit. */
export interface RaftDriverOptions<R> {
  readonly node: RaftNode;
  readonly storage: DurableStorage;
  readonly transport: RaftTransport;
  readonly application: ReplicatedApplication<R>;
  /** `ms` between Raft ticks. */
  readonly tickMs: number;
  /** Applied proposals between snapshots (each proposal of a batched entry counts); the log up to a snapshot is then compacted. */
  readonly snapshotEntries: number;
  /** Entries kept before a snapshot's index when compacting, so a slightly lagging follower catches up from the log (default 0). */
  readonly compactionMarginEntries?: number;
  /** Proposals awaiting their result at once; beyond it propose() fails with OVERLOADED. */
  readonly pendingProposalsMax: number;
  /** Hears role and leader changes. */
  readonly onSoftState?: (state: SoftState) => void;
  /** Hears ReadIndex answers (cluster reads). */
  readonly onReadStates?: (states: readonly ReadState[]) => void;
  /** Hears a fatal error of the loop (a disk failure): the node must stop. */
  readonly onFatal?: (error: unknown) => void;
  /** Hears each snapshot taken: its index and how long the event loop was held (`ms`), for the log. */
  readonly onSnapshot?: (index: number, tookMs: number) => void;
  /**
   * Hears this node start (true) or finish (false) rejoining, once written:
   * its storage lost entries it had acknowledged, and it does not vote until
   * the leader confirms it holds the log (HardState.rejoining).
   */
  readonly onRejoining?: (rejoining: boolean) => void;
  /** Hears each membership change once applied (the transport's peers list follows it). */
  readonly onConfChange?: (change: ConfChange, confState: ConfState) => void;
  /** Where callbacks and timers run (default: Node's event loop, nodeScheduler). */
  readonly scheduler?: DriverScheduler;
  /** Uniform in [0, 1), for the ReadIndex context prefix (default Math.random). */
  readonly random?: () => number;
}

interface Proposal<R> {
  readonly data: Uint8Array;
  readonly local: unknown;
  /** The peer that forwarded it and waits for its apply ('' for none). */
  readonly awaitedBy: NodeId;
  resolve(result: R): void;
  reject(error: ProposalError): void;
}

/** The proposals this node packed into the entry at one index, in order, and the term it proposed them in. */
interface Pending<R> {
  readonly term: number;
  readonly proposals: readonly Proposal<R>[];
}

/** Ticks: a deadline computed as start + k·tickMs in floating point counts k ticks, not k − 1. */
const TICK_ROUNDING_SLACK = 1e-6;

/** Marks a pending proposal as a membership change of this node's (resolved on apply, not rejected). */
const CONF_CHANGE_LOCAL = Symbol('conf-change');

/** Owns a RaftNode and does its I/O. */
export class RaftDriver<R> {
  private readonly node: RaftNode;
  private readonly storage: DurableStorage;
  private readonly transport: RaftTransport;
  private readonly app: ReplicatedApplication<R>;
  private readonly options: RaftDriverOptions<R>;
  /** Proposals of this node by log index, awaiting their apply. */
  private readonly pending = new Map<number, Pending<R>>();
  /** Proposals of this turn, not yet in the core: packed into one entry when the ready loop runs. */
  private queued: Proposal<R>[] = [];
  /** Proposals awaiting their result (queued or in pending entries). */
  private proposalsWaiting = 0;
  /** Proposals applied since the last snapshot (the snapshot trigger). */
  private appliedSinceSnapshot = 0;
  private readonly scheduler: DriverScheduler;
  /** The timer armed for the core's next tick deadline, and when it fires (`ms`, scheduler clock). */
  private deadlineTimer: ScheduledTimer | undefined;
  private deadlineAtMs = Number.POSITIVE_INFINITY;
  /** Scheduler time (`ms`) up to which ticks are counted into the core. Invariant: never ahead of the clock by a tick. */
  private ticksCountedToMs = 0;
  /** The latest deadline the timer fired for (`ms`): a timer that fires a hair early still reaches its deadline. */
  private deadlineReachedMs = Number.NEGATIVE_INFINITY;
  private scheduled = false;
  /** A Ready is persisted and waits for its async sync; no other Ready is taken until it is advanced. */
  private syncing = false;
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;
  private softState: SoftState = { leaderId: '', role: 'follower' };
  private confState: ConfState;
  private appliedIndex: number;
  /** Readys processed; fsyncs are at most this many. */
  readyCount = 0;
  /** Storage transactions written (Readys with something to persist, and snapshots). */
  transactionCount = 0;
  /** fdatasyncs run (async sync mode; 0 when every commit syncs itself). */
  syncCount = 0;
  /**
   * A hard state whose only change was the commit index, not written yet: the
   * commit index is volatile state in Raft (a restarted node learns it again),
   * so it rides with the next transaction instead of costing one of its own.
   * Snapshots write it first (a stored commit never lags the snapshot).
   */
  private unwrittenHardState: HardState | undefined;
  /** Read barriers: ReadIndex rounds and the reads that wait for their apply. */
  private readonly reads: ReadIndexRounds;
  /** Term and vote last written to storage (a leader's appends may leave before a commit-only sync). */
  private persistedTerm = -1;
  /** Index of the last log entry known on disk (synced). Committed entries up to it may be applied while a later Ready syncs. */
  private durableIndex = 0;
  private persistedVote = '';
  /** HardState.rejoining last written: a change of it is written at once, like term and vote. */
  private persistedRejoining: true | undefined = undefined;

  constructor(options: RaftDriverOptions<R>) {
    this.options = options;
    this.node = options.node;
    this.storage = options.storage;
    this.transport = options.transport;
    this.app = options.application;
    this.scheduler = options.scheduler ?? nodeScheduler;
    this.reads = new ReadIndexRounds({
      scheduler: this.scheduler,
      random: options.random ?? Math.random,
      readIndex: (context) => this.node.readIndex(context),
      schedule: () => this.schedule(),
      isStopped: () => this.stopped,
      leaderId: () => this.softState.leaderId,
    });
    const snap = this.storage.snapshot();
    const initial = this.storage.initialState().hardState;
    this.persistedTerm = initial.term;
    this.persistedVote = initial.vote;
    this.persistedRejoining = initial.rejoining;
    this.durableIndex = this.storage.lastIndex();
    this.confState = snap.metadata.confState;
    this.appliedIndex = snap.metadata.index;
    this.transport.onMessages((messages: Message[]) => {
      if (this.stopped) return;
      this.countTicks(true);
      for (const m of messages) this.node.step(m);
      this.schedule();
    });
    this.transport.onUnreachable((peer) => this.node.reportUnreachable(peer));
    // A leader whose sockets closed most likely died: a follower campaigns now, not after an election timeout.
    this.transport.onConnectionLost?.((peer) => {
      if (this.stopped) return;
      this.countTicks(true);
      this.node.reportConnectionLost(peer);
      this.schedule();
    });
    this.transport.onSnapshotStatus?.((peer, ok) => {
      if (this.stopped) return;
      this.node.reportSnapshot(peer, ok);
      this.schedule();
    });
  }

  /**
   * A linearizable read point: resolves once this node has applied
   * everything committed when the call was made (a ReadIndex round through
   * the leader; calls of one event-loop turn share a round). Rejects with
   * ProposalError NOT_LEADER when no leader confirms within `timeoutMs`
   * (an election, a minority partition).
   */
  readBarrier(timeoutMs: number): Promise<void> {
    return this.reads.barrier(timeoutMs);
  }

  /** Starts the clock: ticks count from now, and the ready loop arms the first deadline. */
  start(): void {
    this.ticksCountedToMs = this.scheduler.nowMs();
    this.schedule();
  }

  /**
   * Counts into the core the ticks elapsed since the last count. The ticks
   * before the core's deadline only advance its counters, so counting them
   * late changes nothing; the deadline tick (a heartbeat, a campaign) is
   * made at most once per count, and a count that comes later than that (the
   * event loop was held) drops the rest, as an interval timer skips the runs
   * it missed. `beforeDeadline`: a message or report is about to reach the
   * core; stop short of the deadline tick and leave it owed, so the ready
   * loop after this turn makes it once the frames read this turn are stepped
   * (a follower whose loop was held hears the heartbeats that waited in its
   * socket before its election timeout can fire).
   */
  private countTicks(beforeDeadline: boolean): void {
    const tickMs = this.options.tickMs;
    const nowMs = Math.max(this.scheduler.nowMs(), this.deadlineReachedMs);
    const elapsed = Math.floor((nowMs - this.ticksCountedToMs) / tickMs + TICK_ROUNDING_SLACK);
    if (elapsed <= 0) return;
    const allowed = this.node.ticksUntilDeadline() - (beforeDeadline ? 1 : 0);
    const ticks = Math.min(elapsed, allowed);
    for (let i = 0; i < ticks; i++) this.node.tick();
    if (elapsed <= allowed) this.ticksCountedToMs += ticks * tickMs;
    else this.ticksCountedToMs = beforeDeadline ? nowMs - tickMs : nowMs;
  }

  /** Arms the timer for the core's next deadline unless one is armed no later. */
  private armDeadline(): void {
    if (this.stopped) return;
    const atMs = this.ticksCountedToMs + this.node.ticksUntilDeadline() * this.options.tickMs;
    if (this.deadlineTimer !== undefined && this.deadlineAtMs <= atMs) return;
    this.deadlineTimer?.cancel();
    this.deadlineAtMs = atMs;
    // At least 1 ms: a deadline that is due already never makes the timer spin.
    this.deadlineTimer = this.scheduler.wakeAfter(Math.max(1, atMs - this.scheduler.nowMs()), () => {
      this.deadlineTimer = undefined;
      this.deadlineAtMs = Number.POSITIVE_INFINITY;
      this.deadlineReachedMs = Math.max(this.deadlineReachedMs, atMs);
      // The ticks are counted in the ready loop, after the frames of this turn: see countTicks.
      this.schedule();
    });
  }

  /** Forces an election (a one-node cluster elects itself at once). */
  campaign(): void {
    this.node.campaign();
    this.schedule();
  }

  /** Index of the last entry applied to the application. */
  get applied(): number {
    return this.appliedIndex;
  }

  /** True when this node leads, as far as it knows. */
  get isLeader(): boolean {
    return this.softState.role === 'leader';
  }

  /** Who leads as far as this node knows ('' when unknown). */
  get leaderId(): NodeId {
    return this.softState.leaderId;
  }

  /** Proposals awaiting their result. */
  get pendingCount(): number {
    return this.proposalsWaiting;
  }

  status(): RaftStatus {
    return this.node.status();
  }

  /**
   * Proposes `data` as a log entry (`local`: its decoded form, handed back to
   * apply() on this node); resolves with the application's result
   * once the entry is committed (durable) and applied. Rejects with
   * ProposalError when this node does not lead or the entry was lost.
   * `awaitedBy`: the peer that forwarded it and answers its client when it
   * applies the entry; it is told of the commit at once (other followers
   * learn it with the next append or heartbeat).
   */
  propose(data: Uint8Array, local?: unknown, awaitedBy: NodeId = ''): Promise<R> {
    if (this.stopped) return Promise.reject(new ProposalError('STOPPED', 'the node is stopping'));
    if (this.proposalsWaiting >= this.options.pendingProposalsMax) {
      return Promise.reject(new ProposalError('OVERLOADED', `${this.proposalsWaiting} proposals are already waiting`));
    }
    return new Promise<R>((resolve, reject) => {
      this.queued.push({ data, local, awaitedBy, resolve, reject });
      this.proposalsWaiting++;
      this.schedule();
    });
  }

  /** Hands the proposals queued this turn to the core, as few entries as the batch limits allow. */
  private proposeQueued(): void {
    if (this.queued.length === 0) return;
    const all = this.queued;
    this.queued = [];
    for (let from = 0; from < all.length; ) {
      let to = from;
      let bytes = 0;
      while (to < all.length && to - from < PROPOSALS_PER_ENTRY_MAX && (to === from || bytes + all[to]!.data.length <= BATCH_BYTES_MAX)) {
        bytes += all[to]!.data.length;
        to++;
      }
      const group = all.slice(from, to);
      from = to;
      const r = this.node.propose(encodeBatch(group.map((p) => p.data)));
      if (!r.ok) {
        this.settle(group, (p) => p.reject(new ProposalError(r.reason, `proposal refused: ${r.reason}`, r.leaderId)));
        continue;
      }
      this.pending.set(r.index, { term: r.term, proposals: group });
      for (const p of group) if (p.awaitedBy !== '') this.node.notifyCommit(p.awaitedBy, r.index);
    }
  }

  /** Settles each of `proposals` with `how`, counting them out of the waiting. */
  private settle(proposals: readonly Proposal<R>[], how: (p: Proposal<R>) => void): void {
    this.proposalsWaiting -= proposals.length;
    for (const p of proposals) how(p);
  }

  /**
   * Proposes a single-server membership change; resolves (with undefined)
   * once it is committed and applied. Rejects like propose().
   */
  proposeConfChange(change: ConfChange): Promise<void> {
    if (this.stopped) return Promise.reject(new ProposalError('STOPPED', 'the node is stopping'));
    this.proposeQueued(); // proposals made before it stay before it in the log
    const r = this.node.proposeConfChange(change);
    if (!r.ok) return Promise.reject(new ProposalError(r.reason, `membership change refused: ${r.reason}`, r.leaderId));
    this.schedule();
    return new Promise<void>((resolve, reject) => {
      this.proposalsWaiting++;
      this.pending.set(r.index, { term: r.term, proposals: [{ data: new Uint8Array(0), local: CONF_CHANGE_LOCAL, awaitedBy: '', resolve: () => resolve(), reject }] });
    });
  }

  /** Stops the timer and fails pending proposals with STOPPED; does not close storage. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = undefined;
    this.failPending('STOPPED', 'the node is stopping');
  }

  /** Resolves once no sync is in flight (call after stop(), before closing the storage). */
  whenIdle(): Promise<void> {
    if (!this.syncing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs the ready loop now (tests); normally it runs once per event-loop turn with work. */
  flush(): void {
    this.scheduled = false;
    this.runReadyLoop();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // setImmediate: every proposal of this turn (every frame read from every socket) joins one Ready.
    this.scheduler.immediate(() => {
      this.scheduled = false;
      this.runReadyLoop();
    });
  }

  private runReadyLoop(): void {
    if (this.stopped) return;
    try {
      this.countTicks(false);
      this.proposeQueued();
      while (!this.syncing && !this.stopped && this.node.hasReady()) this.handleReady();
      this.armDeadline();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.stop();
    this.options.onFatal?.(error);
    if (this.options.onFatal === undefined) throw error;
  }

  private handleReady(): void {
    const rd = this.node.ready();
    this.readyCount++;
    // 1. Persist: one transaction, so one fsync. A change of the commit index alone waits for the next one.
    const commitOnly =
      rd.hardState !== undefined &&
      rd.hardState.term === this.persistedTerm &&
      rd.hardState.vote === this.persistedVote &&
      rd.hardState.rejoining === this.persistedRejoining;
    if (rd.snapshot !== undefined || rd.entries.length > 0 || (rd.hardState !== undefined && !commitOnly)) {
      const hardState = rd.hardState ?? this.unwrittenHardState;
      this.unwrittenHardState = undefined;
      this.transactionCount++;
      this.storage.atomically(() => {
        if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
        this.storage.append(rd.entries);
        if (hardState !== undefined) this.storage.setHardState(hardState);
        this.app.persistWith?.();
      });
    } else if (rd.hardState !== undefined) {
      this.unwrittenHardState = rd.hardState;
    }
    // A leader's appends and heartbeats may leave while its own copy of the same entries syncs
    // (Raft thesis §10.2.1; etcd: "messages may be sent while entries from the same batch are
    // being persisted"): nothing is applied or acknowledged before the sync, and the next Ready
    // (whose commit index could count this node's copy) waits for it. Term and vote must be on
    // disk first, and a follower's acknowledgements always wait.
    const sentEarly = this.canSendEarly(rd);
    if (sentEarly) this.transport.send(rd.messages);
    if (rd.hardState !== undefined) {
      this.persistedTerm = rd.hardState.term;
      this.persistedVote = rd.hardState.vote;
      if (rd.hardState.rejoining !== this.persistedRejoining) this.options.onRejoining?.(rd.hardState.rejoining === true);
      this.persistedRejoining = rd.hardState.rejoining;
    }
    const firstEntry = rd.entries[0];
    // Entries replaced from firstEntry on are not durable until this Ready's sync.
    if (firstEntry !== undefined && firstEntry.index <= this.durableIndex) this.durableIndex = firstEntry.index - 1;
    if (rd.snapshot !== undefined) this.durableIndex = 0;
    const lastDurable = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1]!.index : rd.snapshot !== undefined ? rd.snapshot.metadata.index : -1;
    const syncAsync = this.storage.syncAsync;
    if ((rd.mustSync || rd.snapshot !== undefined) && syncAsync !== undefined) {
      // Committed entries already on this disk (synced in earlier Readys, and on a majority's)
      // are applied and answered while this Ready's new entries sync (thesis 10.2.1): after the
      // sync is handed off, so that it does not wait for them (a follower's acknowledgement does).
      const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
      const appliedEarly = lastCommitted !== undefined && rd.snapshot === undefined && lastCommitted.index <= this.durableIndex;
      // The fsync runs in the thread pool; frames keep arriving and proposals
      // keep joining the core meanwhile: they form the next Ready's batch.
      this.syncing = true;
      this.syncCount++;
      syncAsync((error) => {
        this.syncing = false;
        for (const w of this.idleWaiters.splice(0)) w();
        if (this.stopped) return;
        if (error !== null) return this.fail(error);
        if (lastDurable >= 0) this.durableIndex = Math.max(this.durableIndex, lastDurable);
        try {
          this.finishReady(rd, sentEarly, appliedEarly);
        } catch (e) {
          return this.fail(e);
        }
        this.schedule();
      });
      // syncAsync calls back in a later turn, never before these are applied.
      if (appliedEarly) this.applyCommitted(rd);
      return;
    }
    if (lastDurable >= 0) this.durableIndex = Math.max(this.durableIndex, lastDurable);
    this.finishReady(rd, sentEarly, false);
  }

  /** Step 3 of a Ready: applies its committed entries, then wakes whoever waits on them. */
  private applyCommitted(rd: Ready): void {
    for (const entry of rd.committedEntries) this.applyEntry(entry);
    if (rd.committedEntries.length > 0) this.app.afterApply?.(this.appliedIndex);
    this.reads.releaseApplied(this.appliedIndex);
  }

  /** True when every message of `rd` is a leader's append or heartbeat and no term, vote or snapshot awaits the disk. */
  private canSendEarly(rd: Ready): boolean {
    if (rd.messages.length === 0 || rd.snapshot !== undefined || rd.softState !== undefined || this.softState.role !== 'leader') return false;
    if (rd.hardState !== undefined && (rd.hardState.term !== this.persistedTerm || rd.hardState.vote !== this.persistedVote)) return false;
    for (const m of rd.messages) if (m.type !== 'app' && m.type !== 'heartbeat') return false;
    return true;
  }

  /** Steps 2–4 of a Ready whose writes are durable. */
  private finishReady(rd: Ready, sentEarly: boolean, appliedEarly: boolean): void {
    if (rd.snapshot !== undefined) {
      this.app.restore(rd.snapshot);
      this.appliedIndex = rd.snapshot.metadata.index;
      this.confState = rd.snapshot.metadata.confState;
      // Our proposals below the snapshot were overtaken: their fate is unknown here.
      this.appliedSinceSnapshot = 0;
      for (const [index, p] of this.pending) {
        if (index <= this.appliedIndex) {
          this.pending.delete(index);
          this.settle(p.proposals, (q) => q.reject(new ProposalError('DROPPED', `entry ${index} was replaced by a snapshot`, this.softState.leaderId)));
        }
      }
    }
    // 2. Send, now that what the messages vouch for is durable.
    if (rd.messages.length > 0 && !sentEarly) this.transport.send(rd.messages);
    // 3. Apply (unless done while the sync ran).
    if (!appliedEarly) this.applyCommitted(rd);
    if (rd.readStates.length > 0) {
      this.reads.answer(rd.readStates, this.appliedIndex);
      this.options.onReadStates?.(rd.readStates);
    }
    if (rd.committedEntries.length > 0 || rd.snapshot !== undefined) this.reads.releaseApplied(this.appliedIndex);
    // 4. Advance.
    this.node.advance();
    if (rd.softState !== undefined) this.changeSoftState(rd.softState);
    this.maybeSnapshot();
  }

  private applyEntry(entry: Entry): void {
    this.appliedIndex = entry.index;
    const p = this.pending.get(entry.index);
    if (p !== undefined) this.pending.delete(entry.index);
    const ours = p !== undefined && p.term === entry.term;
    if (entry.type === 'conf-change') {
      const change = decodeConfChange(entry.data);
      this.confState = this.node.applyConfChange(change);
      if (p !== undefined) {
        if (ours && p.proposals[0]?.local === CONF_CHANGE_LOCAL) this.settle(p.proposals, (q) => q.resolve(undefined as R));
        else this.settle(p.proposals, (q) => q.reject(new ProposalError('DROPPED', 'a membership change took this index')));
      }
      this.options.onConfChange?.(change, this.confState);
      return;
    }
    if (entry.data.length === 0) {
      // A new leader's no-op: nothing to apply, but whoever proposed at this index lost.
      if (p !== undefined) this.settle(p.proposals, (q) => q.reject(new ProposalError('DROPPED', `entry ${entry.index} was overwritten by a new leader`)));
      return;
    }
    const proposals = decodeBatch(entry.data);
    if (ours && p.proposals.length !== proposals.length) throw new Error(`assert: entry ${entry.index} holds ${proposals.length} proposals, this node packed ${p.proposals.length}`);
    const base = entry.index * PROPOSALS_PER_ENTRY_MAX;
    const results: R[] = new Array(proposals.length);
    for (let i = 0; i < proposals.length; i++) {
      results[i] = this.app.apply(proposals[i]!, { index: entry.index, position: base + i }, ours ? p.proposals[i]!.local : undefined);
    }
    this.appliedSinceSnapshot += proposals.length;
    if (p === undefined) return;
    if (ours) {
      this.proposalsWaiting -= p.proposals.length;
      for (let i = 0; i < p.proposals.length; i++) p.proposals[i]!.resolve(results[i]!);
    } else {
      this.settle(p.proposals, (q) => q.reject(new ProposalError('DROPPED', `entry ${entry.index} was overwritten in term ${entry.term}`)));
    }
  }

  private changeSoftState(state: SoftState): void {
    const wasLeader = this.softState.role === 'leader';
    const leaderChanged = state.leaderId !== this.softState.leaderId;
    this.softState = state;
    // A deposed leader cannot know whether its uncommitted entries will commit.
    if (wasLeader && state.role !== 'leader') this.failPending('NOT_LEADER', 'leadership was lost', state.leaderId);
    if (leaderChanged && state.leaderId !== '') this.reads.resend();
    this.options.onSoftState?.(state);
  }

  private maybeSnapshot(): void {
    if (this.appliedSinceSnapshot < this.options.snapshotEntries) return;
    const index = this.appliedIndex;
    const startedMs = this.scheduler.nowMs();
    const data = this.app.snapshotData();
    this.transactionCount++;
    const hardState = this.unwrittenHardState;
    this.unwrittenHardState = undefined;
    this.storage.atomically(() => {
      if (hardState !== undefined) this.storage.setHardState(hardState);
      // What the application buffered for entries the snapshot covers is written with it.
      this.app.beforeSnapshot?.();
      this.storage.createSnapshot(index, this.confState, data);
      const compactTo = index - (this.options.compactionMarginEntries ?? 0);
      if (compactTo >= this.storage.firstIndex()) this.storage.compact(compactTo);
    });
    this.appliedSinceSnapshot = 0;
    this.options.onSnapshot?.(index, this.scheduler.nowMs() - startedMs);
  }

  private failPending(code: ProposalErrorCode, message: string, leaderId: NodeId = ''): void {
    const all = [...this.pending.values()].flatMap((p) => p.proposals);
    all.push(...this.queued);
    this.pending.clear();
    this.queued = [];
    this.settle(all, (p) => p.reject(new ProposalError(code, message, leaderId)));
  }
}

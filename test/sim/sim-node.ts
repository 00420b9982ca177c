// One simulated server: the real Raft core plus a simulated disk, driven in
// the order the real driver uses — on Ready: persist (snapshot, entries, hard
// state) to the disk, THEN send messages, THEN apply committed entries, THEN
// advance. The disk is a MemoryStorage that survives crashes; the RaftNode,
// the application and everything not yet written to the disk do not. A
// restart rebuilds the node from the disk alone.
import {
  createRaftNode,
  decodeConfChange,
  type ConfState,
  type Entry,
  type Message,
  type RaftNode,
  type RaftStatus,
  type Ready,
  type NodeId,
  type ConfChange,
  type ProposeResult,
  type Storage,
  type WritableStorage,
} from '../../daemon/raft/index.ts';
import { MemoryStorage } from '../../daemon/raft/memory-storage.ts';
import { Prng } from './prng.ts';
import { decodeText, type SimStateMachine, type StateMachineFactory } from './state-machine.ts';

/** Raft and driver tunables shared by every simulated node. */
export interface SimNodeConfig {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly messageBytesMax: number;
  readonly inflightMessagesMax: number;
  readonly uncommittedBytesMax: number;
  readonly committedBytesPerReadyMax: number;
  /** Take a snapshot once this many entries were applied since the last one; 0: never. */
  readonly snapshotEveryEntries: number;
  /** Entries kept before the snapshot point when compacting (for slow followers). */
  readonly entriesKeptAfterCompaction: number;
}

/** What the node reports to the cluster while it runs (invariant checks, network, clients). */
export interface SimNodeHooks {
  /** Before a Ready is written to the disk: check persisted-state invariants against the disk as it is. */
  beforePersist(node: SimNode, ready: Ready): void;
  /** After the disk write (its snapshot/entries): check what the disk now holds. */
  afterPersist(node: SimNode, ready: Ready, oldLastIndex: number): void;
  send(node: SimNode, message: Message): void;
  /** One committed entry applied; `digest` is the application's state after it, `result` what its apply returned (undefined for conf changes and empty entries). */
  applied(node: SimNode, entry: Entry, digest: string, result: unknown): void;
  /** The application was replaced by a snapshot at `index`. */
  restored(node: SimNode, index: number, digest: string): void;
  /**
   * A proposal this node accepted is settled: ok (its entry applied here) or
   * not (overwritten, crashed). `result`: the application's result for it when ok.
   */
  proposalSettled(node: SimNode, requestId: string, ok: boolean, index: number, result?: unknown): void;
  /** A ReadIndex request answered and served (applied ≥ readIndex). */
  readServed(node: SimNode, context: string, readIndex: number, appliedIndex: number): void;
}

interface PendingProposal {
  readonly term: number;
  readonly requestId: string;
}

/** A simulated server. */
export class SimNode {
  readonly id: NodeId;
  /** The storage the node writes Readys to (here stable: it survives crashes; a storage fault replaces it). */
  disk: WritableStorage;
  /** The membership its data directory was first made with (what a rebuild from its config file would make again). */
  readonly initialConf: ConfState;
  /** The running core; null while crashed or removed. */
  raft: RaftNode | null = null;
  /** Bumped on every start; events carry it so a crash voids the old incarnation's timers. */
  incarnation = 0;
  /** A process-ready event is pending for this incarnation. */
  readyScheduled = false;
  /** Crash right after the next disk write, before sending (the torn-driver crash). */
  crashAfterNextPersist = false;
  /** Removed from the cluster by a membership change and shut down for good. */
  removed = false;
  /** Index of the last entry applied by this incarnation's application. */
  appliedIndex = 0;
  /** Membership as this node's application has applied it. */
  confState: ConfState;
  app: SimStateMachine;
  /** Tick interval of this node's clock, µs (drifts per node). */
  tickIntervalUs: number;
  /** Commit index last seen from this incarnation (the never-goes-back check). */
  commitSeen = 0;
  /** Ticks this incarnation has had (election-timer check). */
  ticks = 0;
  /** `ticks` when it last granted a vote or heard a leader of its term. */
  lastTimerResetTick = 0;
  /** An election was forced on it (campaign(), timeout-now) since its last Ready. */
  campaignForced = false;
  /** Its leader's connection closed (reportConnectionLost) since it last granted a vote or heard a leader: it may campaign early. */
  leaderLost = false;
  /** Role as of its last Ready. */
  role: 'follower' | 'pre-candidate' | 'candidate' | 'leader' = 'follower';

  protected readonly config: SimNodeConfig;
  protected readonly hooks: SimNodeHooks;
  protected readonly newApp: StateMachineFactory;
  protected readonly seed: number;
  /** RaftConfig.rejoinGuard of every incarnation (false: the simulator's demonstration without the guard). */
  protected readonly rejoinGuard: boolean;
  private readonly pendingProposals = new Map<number, PendingProposal>();
  private readonly pendingReads = new Map<string, true>();
  private readonly readsAwaitingApply: { context: string; index: number }[] = [];
  private readonly deferredUnreachable = new Set<NodeId>();
  private inReady = false;

  constructor(options: {
    id: NodeId;
    initialConf: ConfState;
    config: SimNodeConfig;
    hooks: SimNodeHooks;
    newApp: StateMachineFactory;
    seed: number;
    tickIntervalUs: number;
    /** The node's storage (default: a MemoryStorage that survives crashes whole). */
    disk?: WritableStorage;
    /** RaftConfig.rejoinGuard (default true). */
    rejoinGuard?: boolean;
  }) {
    this.id = options.id;
    this.disk = options.disk ?? new MemoryStorage(options.initialConf);
    this.initialConf = options.initialConf;
    this.rejoinGuard = options.rejoinGuard ?? true;
    this.confState = options.initialConf;
    this.config = options.config;
    this.hooks = options.hooks;
    this.newApp = options.newApp;
    this.app = options.newApp(options.id);
    this.seed = options.seed;
    this.tickIntervalUs = options.tickIntervalUs;
  }

  get up(): boolean {
    return this.raft !== null;
  }

  /** What a crash leaves of the disk: everything written, here. */
  get durableDisk(): Storage {
    return this.disk;
  }

  /** Puts `storage` in place of the disk of this node, which must be down (a storage fault). */
  replaceDisk(storage: MemoryStorage): void {
    if (this.raft !== null) throw new Error(`${this.id}: a disk is replaced only while the node is down`);
    this.disk = storage;
  }

  /** True when this node's Readys are driven by the cluster's 'tick' and 'ready' events (this driver), false for the real RaftDriver. */
  get clusterDriven(): boolean {
    return true;
  }

  /** A message from the network. */
  deliver(m: Message): void {
    this.running().step(m);
  }

  /** The transport's report on a sent snapshot. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    this.running().reportSnapshot(to, ok);
  }

  /** Forces an election. */
  campaign(): void {
    this.running().campaign();
  }

  /** Hands leadership to `target`. */
  transferLeadership(target: NodeId): void {
    this.running().transferLeadership(target);
  }

  /** Proposes a membership change; the result as far as it is known now. */
  proposeConfChange(change: ConfChange): ProposeResult | { readonly ok: 'queued' } {
    return this.running().proposeConfChange(change);
  }

  /** Boots an incarnation from the disk: the application restarts from the disk's snapshot. */
  start(): void {
    const { core } = this.bootIncarnation();
    this.readyScheduled = false;
    this.crashAfterNextPersist = false;
    this.raft = core;
  }

  /**
   * What every incarnation starts with, whoever drives its core (this node's
   * own loop, or the production driver in DriverSimNode): a fresh application
   * restored from the disk's snapshot, timers and role reset, and a new core
   * over the disk, seeded per incarnation. Answers the core, not yet running,
   * its config and the incarnation's random stream (the core draws from it too).
   */
  protected bootIncarnation(): { core: RaftNode; config: SimNodeConfig; rng: Prng } {
    if (this.raft !== null) throw new Error(`${this.id} already running`);
    this.incarnation++;
    const snapshot = this.disk.snapshot();
    this.app = this.newApp(this.id);
    this.app.restore(snapshot.data);
    this.appliedIndex = snapshot.metadata.index;
    this.confState = snapshot.metadata.confState;
    this.commitSeen = 0;
    this.ticks = 0;
    this.lastTimerResetTick = 0;
    this.campaignForced = false;
    this.leaderLost = false;
    this.role = 'follower';
    const rng = new Prng(`${this.seed}/${this.id}/${this.incarnation}`);
    const c = this.config;
    const core = createRaftNode({
      id: this.id,
      storage: this.disk,
      electionTicks: c.electionTicks,
      heartbeatTicks: c.heartbeatTicks,
      applied: snapshot.metadata.index,
      messageBytesMax: c.messageBytesMax,
      inflightMessagesMax: c.inflightMessagesMax,
      uncommittedBytesMax: c.uncommittedBytesMax,
      committedBytesPerReadyMax: c.committedBytesPerReadyMax,
      preVote: c.preVote,
      checkQuorum: c.checkQuorum,
      random: () => rng.float(),
      rejoinGuard: this.rejoinGuard,
    });
    return { core, config: c, rng };
  }

  /** Loses the process: the core, the application, unsent messages and unwritten state. */
  crash(): void {
    this.raft = null;
    this.readyScheduled = false;
    this.crashAfterNextPersist = false;
    this.readsAwaitingApply.length = 0;
    this.pendingReads.clear();
    this.deferredUnreachable.clear();
    const pending = [...this.pendingProposals.entries()];
    this.pendingProposals.clear();
    for (const [index, p] of pending) this.hooks.proposalSettled(this, p.requestId, false, index);
  }

  status(): RaftStatus {
    return this.running().status();
  }

  /** Proposes a client command; true when this node (a leader) accepted it. */
  propose(requestId: string, data: Uint8Array): { ok: boolean; leaderId: NodeId } {
    const result = this.running().propose(data);
    if (!result.ok) return { ok: false, leaderId: result.leaderId };
    this.pendingProposals.set(result.index, { term: result.term, requestId });
    return { ok: true, leaderId: this.id };
  }

  /** Starts a linearizable read; the answer arrives through hooks.readServed. */
  readIndex(context: string): void {
    this.pendingReads.set(context, true);
    this.running().readIndex(context);
  }

  /** The transport found `to` unreachable: reported after the current Ready, never inside it. */
  /** The transport saw its open connection to `peer` close (the peer crashed). */
  connectionLost(peer: NodeId): void {
    this.running().reportConnectionLost(peer);
  }

  reportUnreachable(to: NodeId): void {
    if (this.inReady) this.deferredUnreachable.add(to);
    else this.running().reportUnreachable(to);
  }

  /**
   * Handles one Ready: persist, send, apply, advance; then snapshot and
   * compact when due. Returns false when the node crashed midway.
   */
  processReady(): boolean {
    const raft = this.running();
    if (!raft.hasReady()) return true;
    const rd = raft.ready();
    this.inReady = true;
    try {
      // 1. Persist.
      this.hooks.beforePersist(this, rd);
      const oldLastIndex = this.disk.lastIndex();
      if (rd.snapshot !== undefined) this.disk.applySnapshot(rd.snapshot);
      if (rd.entries.length > 0) this.disk.append(rd.entries);
      if (rd.hardState !== undefined) this.disk.setHardState(rd.hardState);
      this.hooks.afterPersist(this, rd, oldLastIndex);
      if (this.crashAfterNextPersist) {
        this.crash();
        return false;
      }
      // 2. Send.
      for (const m of rd.messages) this.hooks.send(this, m);
      // 3. Apply.
      if (rd.snapshot !== undefined) this.restoreSnapshot(rd.snapshot.metadata.index, rd.snapshot.data, rd.snapshot.metadata.confState);
      for (const e of rd.committedEntries) this.applyEntry(raft, e);
      for (const rs of rd.readStates) {
        if (this.pendingReads.delete(rs.context)) this.readsAwaitingApply.push({ context: rs.context, index: rs.index });
      }
      this.serveReads();
      // 4. Advance.
      raft.advance();
    } finally {
      this.inReady = false;
    }
    for (const to of this.deferredUnreachable) raft.reportUnreachable(to);
    this.deferredUnreachable.clear();
    this.maybeSnapshot();
    return true;
  }

  private applyEntry(raft: RaftNode, e: Entry): void {
    if (e.index !== this.appliedIndex + 1) {
      throw new SimApplyGap(`${this.id} applied entry ${e.index} after ${this.appliedIndex}: committed entries must come in order without gaps`);
    }
    let result: unknown;
    if (e.type === 'conf-change') {
      this.confState = raft.applyConfChange(decodeConfChange(e.data));
    } else if (e.data.length > 0) {
      result = this.app.apply(decodeText(e.data), e.index);
    }
    this.appliedIndex = e.index;
    this.hooks.applied(this, e, this.app.digest(), result);
    const pending = this.pendingProposals.get(e.index);
    if (pending !== undefined) {
      this.pendingProposals.delete(e.index);
      const ok = pending.term === e.term;
      this.hooks.proposalSettled(this, pending.requestId, ok, e.index, ok ? result : undefined);
    }
  }

  private restoreSnapshot(index: number, data: Uint8Array, confState: ConfState): void {
    this.app.restore(data);
    this.appliedIndex = index;
    this.confState = confState;
    this.hooks.restored(this, index, this.app.digest());
    // Our proposals at or below the snapshot point: we cannot tell if they made it.
    for (const [i, p] of [...this.pendingProposals.entries()]) {
      if (i <= index) {
        this.pendingProposals.delete(i);
        this.hooks.proposalSettled(this, p.requestId, false, i);
      }
    }
  }

  private serveReads(): void {
    let kept = 0;
    const list = this.readsAwaitingApply;
    for (const r of list) {
      if (r.index <= this.appliedIndex) this.hooks.readServed(this, r.context, r.index, this.appliedIndex);
      else list[kept++] = r;
    }
    list.length = kept;
  }

  private maybeSnapshot(): void {
    const every = this.config.snapshotEveryEntries;
    if (every <= 0) return;
    const snapIndex = this.disk.snapshot().metadata.index;
    if (this.appliedIndex - snapIndex < every) return;
    this.disk.createSnapshot(this.appliedIndex, this.confState, this.app.snapshot());
    const compactTo = this.appliedIndex - this.config.entriesKeptAfterCompaction;
    if (compactTo > this.disk.firstIndex()) this.disk.compact(compactTo);
  }

  protected running(): RaftNode {
    if (this.raft === null) throw new Error(`${this.id} is not running`);
    return this.raft;
  }
}

/** The driver saw committed entries out of order: reported as a violation. */
export class SimApplyGap extends Error {
  override readonly name = 'SimApplyGap';
}

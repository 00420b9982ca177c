// One simulated server run by the REAL driver (`--driver real`):
// daemon/raft-driver's RaftDriver, as production runs it, around the real
// Raft core, on a virtual event loop (VirtualLoop: setImmediate as an event a
// seeded loop latency later, timers on the node's drifting virtual clock), a
// simulated disk whose fdatasync completes as a scheduled event and whose
// unsynced tail a crash loses (sim-disk.ts), and a transport over the
// simulated network. Everything the driver does — early send, early apply,
// one Ready in flight per sync, proposals of one turn packed into one entry,
// ReadIndex rounds — happens on virtual time and replays from the seed.
//
// What it reports to the cluster is what SimNode reports (persist, send,
// apply, restore, settle, read), observed from outside the driver: Readys
// through a wrapper of the core, applies through the application, sends
// through the transport, answers through the promises. On top, it checks
// what the driver promises its callers:
//  - a proposal resolves only after it was applied here, with its own data,
//    and with exactly the result its apply returned (`proposal-result`);
//  - a proposal applied here as ours is never rejected (`proposal-fate`);
//  - an entry is applied only once it is on this node's disk for good: the
//    synced part a crash keeps (`apply-before-durable`);
//  - (in the cluster) a resolved proposal's entry is durable on enough voters
//    that every quorum holds it (`ack-before-durable`).
import { RaftDriver, ProposalError, type LogPosition, type RaftTransport } from '../../daemon/raft-driver/index.ts';
import {
  createRaftNode,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type ProposeResult,
  type RaftNode,
  type Ready,
  type Snapshot,
  type Storage,
} from '../../daemon/raft/index.ts';
import { SimViolation } from './invariants.ts';
import { Prng } from './prng.ts';
import { SimDisk } from './sim-disk.ts';
import type { MemoryStorage } from '../../daemon/raft/memory-storage.ts';
import { SimApplyGap, SimNode, type SimNodeConfig, type SimNodeHooks } from './sim-node.ts';
import { decodeText, type StateMachineFactory } from './state-machine.ts';

/** Virtual length of the driver's tick, ms (the sim's TICK_US). */
export const DRIVER_TICK_MS = 10;
/** How long a read barrier waits for a leader, ms (the clients retry after 500 ms). */
const READ_BARRIER_TIMEOUT_MS = 400;
/** Proposals awaiting their result at once per node. */
const PENDING_PROPOSALS_MAX = 10_000;

/** What a driver node needs from the cluster beyond SimNodeHooks. */
export interface DriverNodeHost {
  readonly nowUs: number;
  /** Runs `fn` `delayUs` from now as its own event, unless `node` crashed (changed incarnation) meanwhile. */
  callLater(node: DriverSimNode, delayUs: number, label: string, fn: () => void): void;
  /** A fsync issued now: how long it takes, µs (seeded). */
  syncDelayUs(): number;
  /** A proposal of this node's resolved (checked there against the other disks). */
  proposalResolved(node: DriverSimNode, p: ProposalToken, result: unknown): void;
  /** One proposal of a committed entry applied on `node`. */
  proposalApplied(node: DriverSimNode, at: LogPosition, entryTerm: number, data: Uint8Array, result: unknown): void;
  /** An error thrown where the driver or a promise would swallow it: the run stops with it. */
  fatal(error: unknown): void;
  trace(text: string): void;
}

/** What this node handed propose() as `local`: the proposal's identity. */
export interface ProposalToken {
  readonly requestId: string;
  readonly data: Uint8Array;
  readonly incarnation: number;
  /** Set when the driver applied it as ours. */
  applied?: { readonly index: number; readonly position: number; readonly term: number; readonly result: unknown };
}

/** The driver's scheduler on virtual time: one per node incarnation. */
class VirtualLoop {
  private readonly node: DriverSimNode;
  private readonly host: DriverNodeHost;
  /** µs an immediate waits (the loop's latency: what arrives meanwhile joins the turn). */
  private readonly loopDelayUs: number;
  /** µs of this node's clock per virtual ms (clock drift). */
  private readonly usPerMs: number;

  constructor(node: DriverSimNode, host: DriverNodeHost, loopDelayUs: number, usPerMs: number) {
    this.node = node;
    this.host = host;
    this.loopDelayUs = loopDelayUs;
    this.usPerMs = usPerMs;
  }

  immediate(fn: () => void): void {
    this.host.callLater(this.node, this.loopDelayUs, 'immediate', fn);
  }

  wakeAfter(ms: number, fn: () => void): { cancel(): void } {
    let live = true;
    this.host.callLater(this.node, Math.round(ms * this.usPerMs), 'deadline', () => {
      if (live) fn();
    });
    return { cancel: () => void (live = false) };
  }

  after(ms: number, fn: () => void): { cancel(): void } {
    let live = true;
    this.host.callLater(this.node, Math.round(ms * this.usPerMs), 'timeout', () => {
      if (live) fn();
    });
    return { cancel: () => void (live = false) };
  }

  /** This node's own (drifting) clock, as its timers run on it. */
  nowMs(): number {
    return this.host.nowUs / this.usPerMs;
  }
}

/** A simulated server running the production RaftDriver. */
export class DriverSimNode extends SimNode {
  readonly simDisk: SimDisk;
  driver: RaftDriver<unknown> | null = null;
  private readonly host: DriverNodeHost;
  private readonly loopDelayUs: number;
  private readonly crashRng: Prng;
  /** Committed entries handed out by the core, not yet reported as applied. */
  private toReport: Entry[] = [];
  /** The Ready written by the next transaction (its afterPersist check). */
  private persisting: { rd: Ready; oldLastIndex: number } | undefined;
  private onMessages: ((messages: Message[]) => void) | undefined;
  private onUnreachable: ((peer: NodeId) => void) | undefined;
  private onConnectionLost: ((peer: NodeId) => void) | undefined;
  private onSnapshotStatus: ((peer: NodeId, ok: boolean) => void) | undefined;
  /** Proposals accepted and not yet settled, for the report. */
  proposalsOpen = 0;

  constructor(options: {
    id: NodeId;
    initialConf: ConfState;
    config: SimNodeConfig;
    hooks: SimNodeHooks;
    host: DriverNodeHost;
    newApp: StateMachineFactory;
    seed: number;
    tickIntervalUs: number;
    loopDelayUs: number;
    rejoinGuard?: boolean;
  }) {
    const disk = new SimDisk(options.initialConf);
    super({ ...options, disk });
    this.simDisk = disk;
    this.host = options.host;
    this.loopDelayUs = options.loopDelayUs;
    this.crashRng = new Prng(`${options.seed}/${options.id}/crash`);
    disk.host = {
      scheduleSync: (complete) => this.host.callLater(this, this.host.syncDelayUs(), 'sync-done', complete),
      afterTransaction: () => {
        const p = this.persisting;
        if (p === undefined) return;
        this.persisting = undefined;
        this.hooks.afterPersist(this, p.rd, p.oldLastIndex);
      },
    };
  }

  override get durableDisk(): Storage {
    return this.simDisk.durable;
  }

  override replaceDisk(storage: MemoryStorage): void {
    if (this.raft !== null) throw new Error(`${this.id}: a disk is replaced only while the node is down`);
    this.simDisk.replaceWith(storage);
  }

  override get clusterDriven(): boolean {
    return false;
  }

  override start(): void {
    const { core, config: c, rng } = this.bootIncarnation();
    this.toReport = [];
    this.persisting = undefined;
    this.proposalsOpen = 0;
    this.raft = this.observe(core);
    const inc = this.incarnation;
    const transport: RaftTransport = {
      send: (messages) => {
        for (const m of messages) this.hooks.send(this, m);
      },
      onMessages: (handler) => {
        this.onMessages = handler;
        return () => (this.onMessages = undefined);
      },
      onUnreachable: (handler) => {
        this.onUnreachable = handler;
        return () => (this.onUnreachable = undefined);
      },
      onConnectionLost: (handler) => {
        this.onConnectionLost = handler;
        return () => (this.onConnectionLost = undefined);
      },
      onSnapshotStatus: (handler) => {
        this.onSnapshotStatus = handler;
        return () => (this.onSnapshotStatus = undefined);
      },
      stop: async () => {},
    };
    this.driver = new RaftDriver<unknown>({
      node: this.raft,
      storage: this.simDisk,
      transport,
      tickMs: DRIVER_TICK_MS,
      snapshotEntries: c.snapshotEveryEntries > 0 ? c.snapshotEveryEntries : Number.MAX_SAFE_INTEGER,
      compactionMarginEntries: c.entriesKeptAfterCompaction,
      pendingProposalsMax: PENDING_PROPOSALS_MAX,
      scheduler: new VirtualLoop(this, this.host, this.loopDelayUs, this.tickIntervalUs / DRIVER_TICK_MS),
      random: () => rng.float(),
      application: {
        apply: (data, at, local) => this.applyProposal(data, at, local as ProposalToken | undefined),
        restore: (snap) => this.restoreFromDriver(snap),
        snapshotData: () => this.app.snapshot(),
        afterApply: (appliedIndex) => this.reportUpTo(appliedIndex),
      },
      onFatal: (error) => {
        if (inc === this.incarnation) this.host.fatal(error);
      },
    });
    this.driver.start();
  }

  /** The core, as the driver sees it, with the simulator's observation points. */
  private observe(core: RaftNode): RaftNode {
    return {
      tick: () => {
        this.ticks++;
        core.tick();
      },
      ticksUntilDeadline: () => core.ticksUntilDeadline(),
      step: (m) => core.step(m),
      propose: (data) => core.propose(data),
      notifyCommit: (id, index) => core.notifyCommit(id, index),
      proposeConfChange: (change) => core.proposeConfChange(change),
      applyConfChange: (change) => {
        this.confState = core.applyConfChange(change);
        return this.confState;
      },
      readIndex: (context) => core.readIndex(context),
      transferLeadership: (target) => core.transferLeadership(target),
      campaign: () => core.campaign(),
      hasReady: () => core.hasReady(),
      ready: () => {
        const rd = core.ready();
        this.readyTaken(rd);
        return rd;
      },
      advance: () => {
        // A Ready the driver wrote no transaction for (e.g. one that only moves the commit index).
        const p = this.persisting;
        this.persisting = undefined;
        if (p !== undefined) this.hooks.afterPersist(this, p.rd, p.oldLastIndex);
        core.advance();
      },
      status: () => core.status(),
      reportUnreachable: (id) => core.reportUnreachable(id),
      reportConnectionLost: (id) => core.reportConnectionLost(id),
      reportSnapshot: (id, ok) => core.reportSnapshot(id, ok),
    };
  }

  private readyTaken(rd: Ready): void {
    this.host.trace(`${this.id} ready`);
    this.hooks.beforePersist(this, rd);
    const oldLastIndex = this.disk.lastIndex();
    const writes = rd.snapshot !== undefined || rd.entries.length > 0 || rd.hardState !== undefined;
    if (writes) this.persisting = { rd, oldLastIndex };
    else {
      this.persisting = undefined;
      this.hooks.afterPersist(this, rd, oldLastIndex);
    }
    for (const e of rd.committedEntries) this.toReport.push(e);
  }

  override crash(): void {
    const driver = this.driver;
    this.raft = null;
    this.driver = null;
    this.toReport = [];
    this.persisting = undefined;
    this.onMessages = undefined;
    this.onUnreachable = undefined;
    this.onConnectionLost = undefined;
    this.onSnapshotStatus = undefined;
    // The process is gone: its pending proposals reject (STOPPED) as a client's connection would drop.
    driver?.stop();
    this.simDisk.crash(this.crashRng);
  }

  override propose(requestId: string, data: Uint8Array): { ok: boolean; leaderId: NodeId } {
    const driver = this.driver;
    if (driver === null) throw new Error(`${this.id} is not running`);
    // What floe-node does: a node that does not lead forwards or redirects at once.
    if (!driver.isLeader) return { ok: false, leaderId: driver.leaderId };
    const token: ProposalToken = { requestId, data, incarnation: this.incarnation };
    this.proposalsOpen++;
    driver.propose(data, token).then(
      (result) => this.guard(() => this.resolved(token, result)),
      (error: unknown) => this.guard(() => this.rejected(token, error)),
    );
    return { ok: true, leaderId: this.id };
  }

  override readIndex(context: string): void {
    const driver = this.driver;
    if (driver === null) throw new Error(`${this.id} is not running`);
    const inc = this.incarnation;
    driver.readBarrier(READ_BARRIER_TIMEOUT_MS).then(
      () =>
        this.guard(() => {
          if (inc !== this.incarnation || !this.up) return;
          // The barrier promises: applied ≥ the read index; the read is served from this state.
          this.hooks.readServed(this, context, this.appliedIndex, this.appliedIndex);
        }),
      (error: unknown) =>
        this.guard(() => {
          if (!(error instanceof ProposalError)) throw error;
          if (inc === this.incarnation) this.host.trace(`${this.id} read ${context} timed out: ${error.code}`);
        }),
    );
  }

  override reportUnreachable(to: NodeId): void {
    // A transport reports from its own callbacks, never from inside send().
    const handler = this.onUnreachable;
    if (handler !== undefined) this.host.callLater(this, 0, 'unreachable', () => this.onUnreachable?.(to));
  }

  override connectionLost(peer: NodeId): void {
    this.onConnectionLost?.(peer);
  }

  override deliver(m: Message): void {
    this.onMessages?.([m]);
  }

  override reportSnapshot(to: NodeId, ok: boolean): void {
    this.onSnapshotStatus?.(to, ok);
  }

  override campaign(): void {
    this.runningDriver().campaign();
  }

  override transferLeadership(target: NodeId): void {
    this.running().transferLeadership(target);
    const driver = this.runningDriver();
    this.host.callLater(this, 0, 'flush', () => driver.flush());
  }

  override proposeConfChange(change: ConfChange): ProposeResult | { readonly ok: 'queued' } {
    const inc = this.incarnation;
    this.runningDriver()
      .proposeConfChange(change)
      .then(
        () => this.guard(() => inc === this.incarnation && this.host.trace(`${this.id} conf change ${change.type} ${change.nodeId} applied`)),
        (error: unknown) =>
          this.guard(() => {
            if (!(error instanceof ProposalError)) throw error;
            if (inc === this.incarnation) this.host.trace(`${this.id} conf change ${change.type} ${change.nodeId}: ${error.code}`);
          }),
      );
    return { ok: 'queued' };
  }

  override processReady(): boolean {
    return true;
  }

  // ---- the application, as the driver drives it -----------------------------------

  private applyProposal(data: Uint8Array, at: LogPosition, local: ProposalToken | undefined): unknown {
    this.reportUpTo(at.index - 1);
    const entry = this.toReport[0];
    if (entry === undefined || entry.index !== at.index) {
      throw new SimApplyGap(`${this.id} applies a proposal of entry ${at.index}, but the core handed out ${entry === undefined ? 'no entry' : `entry ${entry.index}`} next`);
    }
    this.checkDurable(entry);
    const result = this.app.apply(decodeText(data), at.position);
    if (local !== undefined) {
      if (local.incarnation !== this.incarnation || !sameBytes(local.data, data)) {
        throw new SimViolation('proposal-result', `${this.id} applies ${JSON.stringify(decodeText(data))} at position ${at.position} as its proposal ${local.requestId} (${JSON.stringify(decodeText(local.data))})`);
      }
      if (local.applied !== undefined) throw new SimViolation('proposal-result', `${this.id} applies its proposal ${local.requestId} twice (positions ${local.applied.position}, ${at.position})`);
      local.applied = { index: at.index, position: at.position, term: entry.term, result };
    }
    this.host.proposalApplied(this, at, entry.term, data, result);
    return result;
  }

  /** Reports every handed-out committed entry up to `index` as applied (all its proposals are). */
  private reportUpTo(index: number): void {
    while (this.toReport.length > 0 && this.toReport[0]!.index <= index) {
      const e = this.toReport.shift()!;
      if (e.index <= this.appliedIndex) continue; // below a snapshot restored meanwhile
      if (e.index !== this.appliedIndex + 1) {
        throw new SimApplyGap(`${this.id} applied entry ${e.index} after ${this.appliedIndex}: committed entries must come in order without gaps`);
      }
      this.checkDurable(e);
      this.appliedIndex = e.index;
      this.hooks.applied(this, e, this.app.digest(), undefined);
    }
  }

  /** The driver applies only what this node's disk keeps through a crash (its durable index). */
  private checkDurable(e: Entry): void {
    const d = this.simDisk.durable;
    const snap = d.snapshot().metadata.index;
    if (e.index <= snap) return;
    const held = e.index >= d.firstIndex() && e.index <= d.lastIndex() && d.term(e.index) === e.term;
    if (!held) {
      throw new SimViolation(
        'apply-before-durable',
        `${this.id} applies entry ${e.index} (term ${e.term}) while its durable log ends at ${d.lastIndex()}${e.index <= d.lastIndex() && e.index >= d.firstIndex() ? ` with term ${d.term(e.index)} there` : ''} (${this.simDisk.unsyncedCount} transaction(s) await their sync)`,
      );
    }
  }

  private restoreFromDriver(snap: Snapshot): void {
    this.toReport = this.toReport.filter((e) => e.index > snap.metadata.index);
    this.app.restore(snap.data);
    this.appliedIndex = snap.metadata.index;
    this.confState = snap.metadata.confState;
    this.hooks.restored(this, snap.metadata.index, this.app.digest());
  }

  // ---- what the callers hear -------------------------------------------------------

  private resolved(token: ProposalToken, result: unknown): void {
    this.proposalsOpen--;
    const a = token.applied;
    if (a === undefined) {
      throw new SimViolation('proposal-result', `${this.id} resolved proposal ${token.requestId} that it never applied as its own`);
    }
    if (result !== a.result) {
      throw new SimViolation(
        'proposal-result',
        `${this.id} resolved proposal ${token.requestId} (position ${a.position}) with ${describeResult(result)}, but applying it returned ${describeResult(a.result)}`,
      );
    }
    this.host.proposalResolved(this, token, result);
    if (token.incarnation === this.incarnation && this.up) this.hooks.proposalSettled(this, token.requestId, true, a.index, result);
  }

  private rejected(token: ProposalToken, error: unknown): void {
    this.proposalsOpen--;
    if (!(error instanceof ProposalError)) throw error;
    if (token.applied !== undefined) {
      throw new SimViolation(
        'proposal-fate',
        `${this.id} applied proposal ${token.requestId} as its own at position ${token.applied.position}, yet rejected it with ${error.code}`,
      );
    }
    this.host.trace(`${this.id} proposal ${token.requestId} rejected: ${error.code}`);
    this.hooks.proposalSettled(this, token.requestId, false, -1);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.host.fatal(error);
    }
  }

  private runningDriver(): RaftDriver<unknown> {
    if (this.driver === null) throw new Error(`${this.id} is not running`);
    return this.driver;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describeResult(r: unknown): string {
  if (r === undefined) return 'undefined';
  const s = JSON.stringify(r);
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

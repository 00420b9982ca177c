// Any node serves clients: a follower forwards each proposal, unstamped, to
// the leader over the peer transport's app channel, tagged with a key of its
// own pending proposal. The leader stamps `at` and proposes it with the tag
// in the entry; every node applies the same log, and the origin resolves its
// pending proposal when it applies an entry carrying its tag (no results are
// relayed). A leader that cannot propose answers a nack; a proposal nobody
// took is re-sent when a new leader is known (the pool's (clientId,
// requestId) memory makes a duplicate harmless) and fails with UNAVAILABLE
// after forwardTimeoutMs. Forwards of one event-loop turn share one frame.
// The sweep that enforces those deadlines and retries unsent forwards runs
// only while forwards are pending: an idle node (and a leader, whose own
// proposals never pass here) wakes for nothing.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AdminApplyResult } from '../admin-state/index.ts';
import type { ApplyResult } from '../pool/index.ts';
import { ProposalError } from '../raft-driver/index.ts';
import type { NodeId } from '../raft/types.ts';
import type { UnstampedLogCommand as UnstampedCommand } from './command-codec.ts';
import { decodeForwarderPayload, type ForwarderPayload } from './forwarder-payload.ts';

/** What applying a forwarded command yields on its origin: the pool's or the admin state's result. */
type ForwardResult = ApplyResult | AdminApplyResult;

/** The peer transport's app channel, as the forwarder uses it. */
export interface AppChannel {
  /** Queues `payload` for `peerId`; false when it cannot go now. */
  sendApp(peerId: NodeId, payload: Uint8Array): boolean;
  onApp(handler: (peerId: NodeId, payloads: Uint8Array[]) => void): () => void;
}

/** What the forwarder needs from its node. */
export interface ForwarderHost {
  readonly nodeId: NodeId;
  /** The leader as far as this node knows ('' when none). */
  leaderId(): NodeId;
  isLeader(): boolean;
  /** Leader: stamps and proposes `command` (its own); resolves with its result. */
  proposeLocal(command: UnstampedCommand): Promise<ForwardResult>;
  /** Leader: stamps and proposes a forwarded command of peer `origin` with its tag; rejects when it cannot. */
  proposeTagged(command: UnstampedCommand, tag: string, origin: NodeId): Promise<unknown>;
  log(line: string): void;
}

/** Options of the forwarder; every limit has a unit. */
export interface ForwarderOptions {
  /** `ms` a forwarded proposal may wait for its entry before failing with UNAVAILABLE. */
  readonly forwardTimeoutMs: number;
  /** Forwarded proposals waiting at once; beyond it forward() fails with OVERLOADED. */
  readonly pendingForwardsMax: number;
}

/** `ms` between sweeps for expired and unsent forwards, while any are pending. */
const SWEEP_MS = 50;

interface PendingForward {
  readonly tag: string;
  readonly command: UnstampedCommand;
  /** `ms` of the monotonic clock (a wall-clock step neither fails nor prolongs a forward). */
  readonly deadlineMs: number;
  /** The leader it was last sent to ('' when not sent, or nacked). */
  sentTo: NodeId;
  resolve(result: ForwardResult): void;
  reject(error: ProposalError): void;
}

const encoder = new TextEncoder();

/** Forwards this node's proposals to the leader and proposes the forwards it receives when it leads. */
export class Forwarder {
  /** Pending forwards by tag, oldest first (Map keeps insertion order). */
  private readonly pending = new Map<string, PendingForward>();
  private readonly tagPrefix: string;
  private seq = 0;
  private flushScheduled = false;
  /** Nacks to send this turn, by peer. */
  private nacks = new Map<NodeId, { tags: string[]; why: string }>();
  /** Runs the sweep; set exactly while forwards may be pending (cleared by the first sweep that finds none). */
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly host: ForwarderHost,
    private readonly channel: AppChannel,
    private readonly options: ForwarderOptions,
  ) {
    // A fresh prefix per process: a tag of an earlier life replayed from the log never matches.
    this.tagPrefix = `${host.nodeId}.${randomBytes(6).toString('base64url')}.`;
    this.unsubscribe = channel.onApp((peerId, payloads) => this.onPayloads(peerId, payloads));
  }

  /** Forwarded proposals waiting for their entry. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends `command` to the leader; resolves with the result this node computes when it applies the entry. */
  forward(command: UnstampedCommand): Promise<ForwardResult> {
    if (this.closed) return Promise.reject(new ProposalError('STOPPED', 'the node is stopping'));
    if (this.pending.size >= this.options.pendingForwardsMax) {
      return Promise.reject(new ProposalError('OVERLOADED', `${this.pending.size} forwarded proposals are already waiting`));
    }
    return new Promise<ForwardResult>((resolve, reject) => {
      const tag = `${this.tagPrefix}${(++this.seq).toString(36)}`;
      this.pending.set(tag, { tag, command, deadlineMs: performance.now() + this.options.forwardTimeoutMs, sentTo: '', resolve, reject });
      this.armSweep();
      this.scheduleFlush();
    });
  }

  /** This node applied an entry carrying `tag`: resolves the pending forward it names, if ours. */
  applied(tag: string, result: ForwardResult): void {
    const p = this.pending.get(tag);
    if (p === undefined) return;
    this.pending.delete(tag);
    p.resolve(result);
  }

  /** The leader changed: forwards sent to another leader (or none) go to the new one. */
  leaderChanged(): void {
    const leader = this.host.leaderId();
    if (leader === '') return;
    let resend = false;
    for (const p of this.pending.values()) {
      if (p.sentTo !== leader) {
        p.sentTo = '';
        resend = true;
      }
    }
    if (resend) this.scheduleFlush();
  }

  /** Fails every pending forward with STOPPED and stops the timers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.unsubscribe();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new ProposalError('STOPPED', 'the node is stopping'));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Sends every unsent forward to the leader (one frame), or proposes it here when this node now leads. */
  private flush(): void {
    if (this.closed) return;
    for (const [peer, nack] of this.nacks) this.send(peer, { k: 'nack', t: nack.tags, leader: this.host.leaderId(), why: nack.why });
    this.nacks = new Map();
    const leader = this.host.leaderId();
    if (leader === '') return; // held until a leader is known or the deadline passes
    const batch: [string, UnstampedCommand][] = [];
    for (const p of this.pending.values()) {
      if (p.sentTo !== '') continue;
      if (leader === this.host.nodeId) {
        if (!this.host.isLeader()) return;
        // We lead now: propose our own forward here, its result resolves it.
        this.pending.delete(p.tag);
        this.host.proposeLocal(p.command).then(p.resolve, p.reject);
        continue;
      }
      batch.push([p.tag, p.command]);
    }
    if (batch.length === 0) return;
    if (this.send(leader, { k: 'fwd', m: batch })) {
      for (const [tag] of batch) {
        const p = this.pending.get(tag);
        if (p !== undefined) p.sentTo = leader;
      }
    }
    // Not sent (no connection to the leader now): the sweep retries until the deadline.
  }

  private send(peer: NodeId, payload: ForwarderPayload): boolean {
    return this.channel.sendApp(peer, encoder.encode(JSON.stringify(payload)));
  }

  private armSweep(): void {
    if (this.sweepTimer !== undefined || this.closed) return;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
      return;
    }
    const nowMs = performance.now();
    let unsent = false;
    for (const p of this.pending.values()) {
      if (p.deadlineMs > nowMs) {
        if (p.sentTo === '') unsent = true;
        continue;
      }
      this.pending.delete(p.tag);
      const leader = this.host.leaderId();
      p.reject(
        new ProposalError(
          leader === '' ? 'NOT_LEADER' : 'DROPPED',
          leader === '' ? `no leader within ${this.options.forwardTimeoutMs} ms` : `the leader ${leader} did not commit it within ${this.options.forwardTimeoutMs} ms`,
          leader,
        ),
      );
    }
    if (unsent) this.flush();
  }

  private onPayloads(peerId: NodeId, payloads: Uint8Array[]): void {
    for (const bytes of payloads) {
      const decoded = decodeForwarderPayload(bytes);
      if (!decoded.ok) {
        this.host.log(`forwarder: dropped an app payload from ${peerId}: ${decoded.message}`);
        continue;
      }
      const payload = decoded.payload;
      if (payload.k === 'fwd') this.onForwards(peerId, payload.m);
      else this.onNack(payload.t, payload.leader);
    }
  }

  /** Leader side: propose each forwarded command with its tag; nack what cannot be proposed. */
  private onForwards(peerId: NodeId, forwards: readonly (readonly [string, UnstampedCommand])[]): void {
    if (!this.host.isLeader()) {
      this.nack(peerId, forwards.map(([tag]) => tag), 'NOT_LEADER');
      return;
    }
    for (const [tag, command] of forwards) {
      this.host.proposeTagged(command, tag, peerId).catch((error: unknown) => {
        this.nack(peerId, [tag], error instanceof ProposalError ? error.code : 'DROPPED');
      });
    }
  }

  private nack(peer: NodeId, tags: readonly string[], why: string): void {
    const n = this.nacks.get(peer);
    if (n === undefined) this.nacks.set(peer, { tags: [...tags], why });
    else n.tags.push(...tags);
    this.scheduleFlush();
  }

  /** Origin side: the leader could not take these; send them again to whoever leads, until the deadline. */
  private onNack(tags: readonly string[], leader: NodeId): void {
    for (const tag of tags) {
      const p = this.pending.get(tag);
      if (p !== undefined) p.sentTo = '';
    }
    void leader;
    // A refusal because overloaded or deposed: retry at the next sweep rather than at once.
  }
}

// ReadIndex bookkeeping on the leader (§6.4 of Ongaro's thesis): each read
// request records the commit index when it arrived and waits until a majority
// acknowledges a heartbeat carrying its context; then every request queued up
// to it is answered with its recorded index.
import type { NodeId } from './types.ts';

/** A read request waiting for its heartbeat round. */
export interface ReadIndexRequest {
  /** The leader's commit index when the request arrived. */
  readonly index: number;
  /** Who asked: the leader itself or a follower that forwarded it. */
  readonly from: NodeId;
  readonly context: string;
  /** Voters that acknowledged a heartbeat carrying this context. */
  readonly acks: Set<NodeId>;
}

/** Pending read requests, in arrival order. */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexRequest>();
  /** Contexts in arrival order. Invariant: the same keys as `pending`. */
  private queue: string[] = [];

  /** Queues a request; a context already pending is ignored. Returns false when the queue is full. */
  add(index: number, from: NodeId, context: string, requestsMax: number): boolean {
    if (this.pending.has(context)) return true;
    if (this.queue.length >= requestsMax) return false;
    this.pending.set(context, { index, from, context, acks: new Set() });
    this.queue.push(context);
    return true;
  }

  /** Records `id`'s acknowledgement of `context`; returns who has acknowledged it so far. */
  recvAck(id: NodeId, context: string): ReadonlySet<NodeId> | undefined {
    const req = this.pending.get(context);
    if (req === undefined) return undefined;
    req.acks.add(id);
    return req.acks;
  }

  /** Removes and returns every request up to and including `context`, in arrival order. */
  advance(context: string): ReadIndexRequest[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return done.map((c) => {
      const req = this.pending.get(c)!;
      this.pending.delete(c);
      return req;
    });
  }

  /** The newest pending context, to ride on the next heartbeat; '' when none. */
  lastPendingContext(): string {
    return this.queue[this.queue.length - 1] ?? '';
  }

  /** Number of requests waiting. */
  size(): number {
    return this.queue.length;
  }

  /** Drops every pending request (leadership lost). */
  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}

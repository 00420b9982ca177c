// ReadIndex bookkeeping on the leader (§6.4 of Ongaro's thesis): each read
// request records the commit index when it arrived and waits until a majority
// acknowledges a heartbeat carrying its round key; then every request queued
// up to it is answered with its recorded index. A round key is the asker's id
// and its context, so two nodes may use the same context without clashing.
import type { NodeId } from './types.ts';

/** A read request waiting for its heartbeat round. */
export interface ReadIndexRequest {
  /** The leader's commit index when the request arrived. */
  readonly index: number;
  /** Who asked: the leader itself or a follower that forwarded it. */
  readonly from: NodeId;
  readonly context: string;
  /** The heartbeat context of this request's round: `from` and `context` joined. */
  readonly key: string;
  /** Voters that acknowledged a heartbeat carrying this request's key. */
  readonly acks: Set<NodeId>;
}

/** Pending read requests, in arrival order. */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexRequest>();
  /** Round keys in arrival order. Invariant: the same keys as `pending`. */
  private queue: string[] = [];

  /**
   * Queues a request and returns the round key its heartbeats carry; a
   * request already pending keeps its place. Undefined when `requestsMax`
   * requests already wait.
   */
  add(index: number, from: NodeId, context: string, requestsMax: number): string | undefined {
    const key = `${from}\u0000${context}`;
    if (this.pending.has(key)) return key;
    if (this.queue.length >= requestsMax) return undefined;
    this.pending.set(key, { index, from, context, key, acks: new Set() });
    this.queue.push(key);
    return key;
  }

  /** Records `id`'s acknowledgement of round `key`; returns who has acknowledged it so far. */
  recvAck(id: NodeId, key: string): ReadonlySet<NodeId> | undefined {
    const req = this.pending.get(key);
    if (req === undefined) return undefined;
    req.acks.add(id);
    return req.acks;
  }

  /** Removes and returns every request up to and including round `key`, in arrival order. */
  advance(key: string): ReadIndexRequest[] {
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return done.map((c) => {
      const req = this.pending.get(c)!;
      this.pending.delete(c);
      return req;
    });
  }

  /** The newest pending round key, to ride on the next heartbeat; '' when none. */
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

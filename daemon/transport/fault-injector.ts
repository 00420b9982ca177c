// Network faults for tests, switchable at run time: drop every message on
// chosen links (symmetric or asymmetric partitions, an isolated node) and
// delay messages on others, so cluster tests can cut a leader off without
// network namespaces or root.
//
// Off unless explicitly installed: a FaultyTransport (faulty-transport.ts)
// wrapped around a PeerTransport consults it; the transport itself never
// does, and a new injector has no rules.
// One injector may be shared by every transport of an in-process cluster, or
// each process may hold its own with the same rules: drops are checked by the
// sender and again by the receiver (so either side alone enforces a cut),
// delays only by the sender (so they never add up twice).
import type { NodeId } from '../raft/types.ts';

/** Any node, in delay rules. */
export const ANY_NODE = '*';

/** Delays of a link, at most (a test that needs more wants a partition). */
export const FAULT_DELAY_MS_MAX = 60_000;

/** Counts of what the rules did, for assertions in tests. */
export interface FaultStats {
  /** Messages dropped by a rule, on either side. */
  readonly droppedMessages: number;
  /** Messages delayed by a rule. */
  readonly delayedMessages: number;
}

/** Run-time switchable drop and delay rules keyed by (from, to) links. */
export class FaultInjector {
  /** Links "from\0to" whose traffic is dropped. */
  private readonly droppedLinks = new Set<string>();
  /** Nodes cut off from everyone. */
  private readonly isolatedNodes = new Set<NodeId>();
  /** Delay by link "from\0to", either side may be ANY_NODE. */
  private readonly delaysMs = new Map<string, number>();
  private droppedMessages = 0;
  private delayedMessages = 0;

  /** Drops everything `from` sends to `to` (one direction only). */
  dropLink(from: NodeId, to: NodeId): void {
    this.droppedLinks.add(linkKey(from, to));
  }

  /** Undoes dropLink(from, to). */
  restoreLink(from: NodeId, to: NodeId): void {
    this.droppedLinks.delete(linkKey(from, to));
  }

  /** Drops all traffic, both ways, between every node of `side` and every node of `otherSide`. */
  partition(side: readonly NodeId[], otherSide: readonly NodeId[]): void {
    for (const a of side) {
      for (const b of otherSide) {
        this.dropLink(a, b);
        this.dropLink(b, a);
      }
    }
  }

  /** Cuts `nodeId` off from every other node, both ways. */
  isolate(nodeId: NodeId): void {
    this.isolatedNodes.add(nodeId);
  }

  /** Undoes isolate(nodeId). */
  rejoin(nodeId: NodeId): void {
    this.isolatedNodes.delete(nodeId);
  }

  /**
   * Delays what `from` sends to `to` by `delayMs` (0 removes the rule).
   * Either side may be ANY_NODE; the most specific rule wins.
   */
  setDelay(from: NodeId, to: NodeId, delayMs: number): void {
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > FAULT_DELAY_MS_MAX) {
      throw new Error(`delayMs must be in [0, ${FAULT_DELAY_MS_MAX}], got ${delayMs}`);
    }
    if (delayMs === 0) this.delaysMs.delete(linkKey(from, to));
    else this.delaysMs.set(linkKey(from, to), delayMs);
  }

  /** Removes every rule: all links carry traffic again, undelayed. */
  heal(): void {
    this.droppedLinks.clear();
    this.isolatedNodes.clear();
    this.delaysMs.clear();
  }

  /** True when traffic from `from` to `to` is dropped now. Counts the verdict as `messages` drops. */
  shouldDrop(from: NodeId, to: NodeId, messages = 1): boolean {
    const drop = this.isolatedNodes.has(from) || this.isolatedNodes.has(to) || this.droppedLinks.has(linkKey(from, to));
    if (drop) this.droppedMessages += messages;
    return drop;
  }

  /** Delay for traffic from `from` to `to` now, in ms (0: none). Counts `messages` as delayed when > 0. */
  delayMs(from: NodeId, to: NodeId, messages = 1): number {
    const delay =
      this.delaysMs.get(linkKey(from, to)) ??
      this.delaysMs.get(linkKey(from, ANY_NODE)) ??
      this.delaysMs.get(linkKey(ANY_NODE, to)) ??
      this.delaysMs.get(linkKey(ANY_NODE, ANY_NODE)) ??
      0;
    if (delay > 0) this.delayedMessages += messages;
    return delay;
  }

  stats(): FaultStats {
    return { droppedMessages: this.droppedMessages, delayedMessages: this.delayedMessages };
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}\0${to}`;
}

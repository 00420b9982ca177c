// The wire between simulated nodes: a message a node sends is lost on a cut
// link (the sender hears it unreachable) or by the link's loss rate, or is
// delivered after the link's delays (once, or more than once: duplicates);
// a snapshot's sender hears how its send ended. A crashed process's sockets
// are reset by the OS, so with SimOptions.connectionLost its peers hear its
// connections close a moment later, after what was in flight. It also keeps
// the bookkeeping of election timers the invariants read (a message from a
// current leader or a granted vote resets a node's timer).
import type { Message, NodeId } from '../../daemon/raft/index.ts';
import { describeMessage } from './describe-message.ts';
import type { EventQueue } from './event-queue.ts';
import type { Invariants } from './invariants.ts';
import type { Network } from './network.ts';
import { TICK_US } from './scenario.ts';
import type { SimEvent } from './sim-event.ts';
import type { SimNode } from './sim-node.ts';

/** What SimWire needs of the simulation. */
export interface SimWireHost {
  readonly nodes: readonly SimNode[];
  readonly byId: ReadonlyMap<NodeId, SimNode>;
  readonly network: Network;
  readonly queue: EventQueue<SimEvent>;
  readonly invariants: Invariants;
  /** The node was called and may have a Ready. */
  touch(n: SimNode): void;
  trace(text: string): void;
}

/** `µs` from a process's crash to its peers seeing its sockets close (loopback RST). */
const CONNECTION_CLOSE_DELAY_US = 200;

/** Messages between simulated nodes, and the connections a crash closes. */
export class SimWire {
  /** Messages the nodes sent (lost ones included). */
  messagesSent = 0;
  /** `µs` (queue time) of the latest delivery scheduled on each link "from→to". */
  private readonly lastDeliveryUs = new Map<string, number>();

  /** `connectionLost`: SimOptions.connectionLost, default on. */
  constructor(
    private readonly host: SimWireHost,
    private readonly connectionLost: boolean,
  ) {}

  /** `node` sends `m` (its Ready's messages, in order). */
  send(node: SimNode, m: Message): void {
    const { network, queue } = this.host;
    this.messagesSent++;
    this.host.invariants.beforeSend(node, m);
    if (m.type === 'vote-resp' && !m.reject) {
      node.lastTimerResetTick = node.ticks;
      node.leaderLost = false;
    }
    if (!network.connected(m.from, m.to)) {
      this.host.trace(`lost ${describeMessage(m)} (link cut)`);
      node.reportUnreachable(m.to);
      if (m.type === 'snap') queue.after(TICK_US, { type: 'snap-report', node, inc: node.incarnation, to: m.to, ok: false });
      return;
    }
    const delays = network.deliveries(m.from, m.to);
    if (delays.length === 0) {
      this.host.trace(`lost ${describeMessage(m)}`);
      if (m.type === 'snap') queue.after(TICK_US, { type: 'snap-report', node, inc: node.incarnation, to: m.to, ok: false });
      return;
    }
    for (const d of delays) queue.after(d, { type: 'deliver', message: m, fromInc: node.incarnation });
    const link = `${m.from}→${m.to}`;
    this.lastDeliveryUs.set(link, Math.max(this.lastDeliveryUs.get(link) ?? 0, queue.nowUs + Math.max(...delays)));
  }

  /** The 'deliver' event: `m` arrives, unless its receiver is down. */
  deliver(m: Message, fromInc: number): void {
    const to = this.host.byId.get(m.to);
    const from = this.host.byId.get(m.from);
    if (to === undefined || !to.up) {
      this.host.trace(`drop ${describeMessage(m)} (${m.to} down)`);
      if (m.type === 'snap' && from !== undefined) this.host.queue.after(0, { type: 'snap-report', node: from, inc: fromInc, to: m.to, ok: false });
      return;
    }
    this.host.trace(`deliver ${describeMessage(m)}`);
    if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
      if (m.term >= to.raft!.status().term) {
        to.lastTimerResetTick = to.ticks;
        to.leaderLost = false;
      }
    } else if (m.type === 'timeout-now') {
      to.campaignForced = true;
    }
    to.deliver(m);
    this.host.touch(to);
    if (m.type === 'snap' && from !== undefined) this.host.queue.after(0, { type: 'snap-report', node: from, inc: fromInc, to: m.to, ok: true });
  }

  /** The 'snap-report' event: `n` hears how its snapshot to `to` ended. */
  snapReport(n: SimNode, to: NodeId, ok: boolean): void {
    this.host.trace(`${n.id} reportSnapshot(${to}, ${ok})`);
    n.reportSnapshot(to, ok);
    this.host.touch(n);
  }

  /** The 'connection-lost' event: `n` hears its connections to `peer` close. */
  connectionClosed(n: SimNode, peer: NodeId): void {
    this.host.trace(`${n.id} reportConnectionLost(${peer})`);
    if (n.status().role === 'follower' && n.status().leaderId === peer) n.leaderLost = true;
    n.connectionLost(peer);
    this.host.touch(n);
  }

  /**
   * A crashed process's sockets are reset by the OS: every peer still linked
   * to it hears its connections close (the transport's onConnectionLost), a
   * moment after the crash. No random draw, so the other streams are unmoved.
   */
  peersLoseConnection(crashed: SimNode): void {
    if (!this.connectionLost) return;
    const { network, queue } = this.host;
    for (const m of this.host.nodes) {
      if (m === crashed || !m.up || !network.connected(crashed.id, m.id)) continue;
      // TCP delivers what was sent before the reset first.
      const inFlightUs = (this.lastDeliveryUs.get(`${crashed.id}→${m.id}`) ?? 0) - queue.nowUs;
      queue.after(Math.max(CONNECTION_CLOSE_DELAY_US, inFlightUs + 1), { type: 'connection-lost', node: m, inc: m.incarnation, peer: crashed.id });
    }
  }
}

// Test-only network faults as a decorator around a peer transport: it drops
// and delays messages by a FaultInjector's rules on the way out, drops them
// again on the way in (so the receiver alone can enforce a cut), and adds
// what it dropped to the inner transport's stats. Tests, the in-process
// cluster harness and startDaemon's `faults` option install it; the
// production PeerTransport carries no fault checks on its send path.
import type { Message, NodeId } from '../raft/types.ts';
import type { FaultInjector } from './fault-injector.ts';
import type { PeerConfig, PeerTransportApi } from './peer-transport.ts';
import type { PeerTls } from './peer-tls.ts';
import type { PeerStats, TransportStats } from './transport-stats.ts';

/** What the faults dropped on one link, in either direction. */
interface FaultDrops {
  messages: number;
  appPayloads: number;
}

/** A PeerTransport seen through a FaultInjector's drop and delay rules. */
export class FaultyTransport implements PeerTransportApi {
  readonly nodeId: NodeId;
  /** Dropped by a rule, per peer; added to the inner stats' `dropped.faults` and `droppedAppPayloads`. */
  private readonly drops = new Map<NodeId, FaultDrops>();
  private readonly delayTimers = new Set<NodeJS.Timeout>();
  private readonly messageHandlers = new Set<(messages: Message[]) => void>();
  private readonly appHandlers = new Set<(peerId: NodeId, payloads: Uint8Array[]) => void>();
  private readonly snapshotHandlers = new Set<(peerId: NodeId, ok: boolean) => void>();
  /** Unsubscribes from the inner transport while a handler of that kind is registered here. */
  private messagesOff: (() => void) | undefined;
  private appOff: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly inner: PeerTransportApi,
    private readonly faults: FaultInjector,
  ) {
    this.nodeId = inner.nodeId;
  }

  /** Drops what a rule cuts (a dropped snapshot is reported not sent), holds back what a rule delays, passes the rest on. */
  send(messages: readonly Message[]): void {
    if (this.stopped) return;
    const passed: Message[] = [];
    let delayed: Map<NodeId, Message[]> | undefined;
    for (const message of messages) {
      if (this.faults.shouldDrop(this.nodeId, message.to)) {
        this.dropsOf(message.to).messages += 1;
        if (message.type === 'snap') for (const handler of this.snapshotHandlers) handler(message.to, false);
      } else if (this.faults.delayMs(this.nodeId, message.to) > 0) {
        delayed ??= new Map();
        const held = delayed.get(message.to);
        if (held === undefined) delayed.set(message.to, [message]);
        else held.push(message);
      } else {
        passed.push(message);
      }
    }
    if (passed.length > 0) this.inner.send(passed);
    if (delayed !== undefined) for (const [peerId, held] of delayed) this.delay(peerId, held);
  }

  /** False, at once, when a rule cuts the link; else the inner transport's answer. */
  sendApp(peerId: NodeId, payload: Uint8Array): boolean {
    if (this.stopped) return false;
    if (this.faults.shouldDrop(this.nodeId, peerId)) {
      this.dropsOf(peerId).appPayloads += 1;
      return false;
    }
    return this.inner.sendApp(peerId, payload);
  }

  onMessages(handler: (messages: Message[]) => void): () => void {
    this.messageHandlers.add(handler);
    this.messagesOff ??= this.inner.onMessages((messages) => this.receive(messages));
    return () => {
      this.messageHandlers.delete(handler);
      if (this.messageHandlers.size === 0) {
        this.messagesOff?.();
        this.messagesOff = undefined;
      }
    };
  }

  onApp(handler: (peerId: NodeId, payloads: Uint8Array[]) => void): () => void {
    this.appHandlers.add(handler);
    this.appOff ??= this.inner.onApp((peerId, payloads) => this.receiveApp(peerId, payloads));
    return () => {
      this.appHandlers.delete(handler);
      if (this.appHandlers.size === 0) {
        this.appOff?.();
        this.appOff = undefined;
      }
    };
  }

  onSnapshotStatus(handler: (peerId: NodeId, ok: boolean) => void): () => void {
    this.snapshotHandlers.add(handler);
    const off = this.inner.onSnapshotStatus(handler);
    return () => {
      this.snapshotHandlers.delete(handler);
      off();
    };
  }

  onUnreachable(handler: (peerId: NodeId) => void): () => void {
    return this.inner.onUnreachable(handler);
  }

  onConnectionLost(handler: (peerId: NodeId) => void): () => void {
    return this.inner.onConnectionLost(handler);
  }

  /** The inner transport's figures, with what the rules dropped added per peer. */
  stats(): TransportStats {
    const inner = this.inner.stats();
    const peers: Record<NodeId, PeerStats> = {};
    for (const [id, s] of Object.entries(inner.peers)) {
      const d = this.drops.get(id);
      if (d === undefined) {
        peers[id] = s;
        continue;
      }
      peers[id] = {
        ...s,
        droppedMessages: s.droppedMessages + d.messages,
        dropped: { ...s.dropped, faults: s.dropped.faults + d.messages },
        droppedAppPayloads: s.droppedAppPayloads + d.appPayloads,
      };
    }
    return { ...inner, peers };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.delayTimers) clearTimeout(timer);
    this.delayTimers.clear();
    await this.inner.stop();
  }

  async updatePeers(peers: readonly PeerConfig[]): Promise<void> {
    await this.inner.updatePeers(peers);
    // A removed peer's figures start again from zero, as the inner transport's do.
    for (const id of this.drops.keys()) if (!peers.some((peer) => peer.id === id)) this.drops.delete(id);
  }

  start(): Promise<{ host: string; port: number }> {
    return this.inner.start();
  }
  address(): { host: string; port: number } {
    return this.inner.address();
  }
  setTls(tls: PeerTls): void {
    this.inner.setTls(tls);
  }
  peerLockCodes(): ReturnType<PeerTransportApi['peerLockCodes']> {
    return this.inner.peerLockCodes();
  }
  peerPublicKeys(): Map<NodeId, Uint8Array> {
    return this.inner.peerPublicKeys();
  }
  peerClockSkews(): ReturnType<PeerTransportApi['peerClockSkews']> {
    return this.inner.peerClockSkews();
  }
  peerCertificateEnds(): Map<NodeId, number> {
    return this.inner.peerCertificateEnds();
  }

  /** A frame's messages all come from one authenticated peer: a cut on that link drops them all. */
  private receive(messages: Message[]): void {
    const from = messages[0]?.from;
    if (from !== undefined && this.faults.shouldDrop(from, this.nodeId, messages.length)) {
      this.dropsOf(from).messages += messages.length;
      return;
    }
    for (const handler of this.messageHandlers) handler(messages);
  }

  private receiveApp(peerId: NodeId, payloads: Uint8Array[]): void {
    if (this.faults.shouldDrop(peerId, this.nodeId, payloads.length)) {
      this.dropsOf(peerId).messages += payloads.length;
      return;
    }
    for (const handler of this.appHandlers) handler(peerId, payloads);
  }

  /** Passes `messages` on after the rule's delay for the link (read again now, uncounted). */
  private delay(peerId: NodeId, messages: readonly Message[]): void {
    const delayMs = this.faults.delayMs(this.nodeId, peerId, 0);
    const timer = setTimeout(() => {
      this.delayTimers.delete(timer);
      this.inner.send(messages);
    }, delayMs);
    this.delayTimers.add(timer);
  }

  private dropsOf(peerId: NodeId): FaultDrops {
    let drops = this.drops.get(peerId);
    if (drops === undefined) {
      drops = { messages: 0, appPayloads: 0 };
      this.drops.set(peerId, drops);
    }
    return drops;
  }
}

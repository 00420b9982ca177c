// How a node's Raft messages reach its peers, as the driver sees it. One node
// needs none (NoopTransport); the cluster plugs in daemon/transport's ws
// PeerTransport (Ed25519-authenticated), which has this shape structurally,
// or that transport inside the tests' FaultyTransport decorator. Named after
// what it carries so it does not clash with that class.
import type { Message, NodeId } from '../raft/types.ts';

/** Sends Raft messages to peers; received ones are handed to the `onMessages` handler. */
export interface RaftTransport {
  /** Queues messages for their `to` peers; never throws on an unreachable peer (it reports it instead). */
  send(messages: readonly Message[]): void;
  /** Registers the receiver of messages from peers (the driver's step); returns the unsubscribe. */
  onMessages(handler: (messages: Message[]) => void): () => void;
  /** Registers who hears of a peer that could not be reached; returns the unsubscribe. */
  onUnreachable(handler: (peerId: NodeId) => void): () => void;
  /**
   * Registers who hears that an open connection to or from a peer closed
   * without this node closing it (the peer's process died, it stopped, or it
   * fell silent); optional. Returns the unsubscribe.
   */
  onConnectionLost?(handler: (peerId: NodeId) => void): () => void;
  /** Registers who hears whether each sent 'snap' message went out (for raft.reportSnapshot); optional for transports that send none. */
  onSnapshotStatus?(handler: (peerId: NodeId, ok: boolean) => void): () => void;
  stop(): Promise<void>;
}

/** The transport of a one-node cluster: there is nobody to talk to. */
export class NoopTransport implements RaftTransport {
  send(messages: readonly Message[]): void {
    if (messages.length > 0) throw new Error(`assert: a one-node cluster sent ${messages.length} message(s) to ${messages[0]!.to}`);
  }
  onMessages(handler: (messages: Message[]) => void): () => void {
    void handler;
    return () => {};
  }
  onUnreachable(handler: (peerId: NodeId) => void): () => void {
    void handler;
    return () => {};
  }
  async stop(): Promise<void> {}
}

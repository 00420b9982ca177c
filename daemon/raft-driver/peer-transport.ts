// How a node's Raft messages reach its peers. One node needs none (the
// no-op transport); the cluster adds a ws transport with Ed25519-authenticated
// peers behind this same interface.
import type { Message, NodeId } from '../raft/types.ts';

/** Sends Raft messages to peers; received ones are handed to `onMessage`. */
export interface PeerTransport {
  /** Queues messages for their `to` peers; never throws on an unreachable peer (it reports it instead). */
  send(messages: readonly Message[]): void;
  /** Registers the receiver of messages from peers (the driver's step). */
  onMessage(handler: (message: Message) => void): void;
  /** Registers who hears of a peer that could not be reached. */
  onUnreachable(handler: (peer: NodeId) => void): void;
  close(): Promise<void>;
}

/** The transport of a one-node cluster: there is nobody to talk to. */
export class NoopTransport implements PeerTransport {
  send(messages: readonly Message[]): void {
    if (messages.length > 0) throw new Error(`assert: a one-node cluster sent ${messages.length} message(s) to ${messages[0]!.to}`);
  }
  onMessage(handler: (message: Message) => void): void {
    void handler;
  }
  onUnreachable(handler: (peer: NodeId) => void): void {
    void handler;
  }
  async close(): Promise<void> {}
}

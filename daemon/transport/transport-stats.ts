// What PeerTransport.stats() reports: per-peer traffic, queue and drop
// figures, and refusal counts, for the admin API's metrics and for tests.
import type { NodeId } from '../raft/types.ts';
import type { RefusalReason } from './transport-config.ts';

/** One peer's figures, as stats() reports them. */
export interface PeerStats {
  readonly url: string;
  /** Our outbound connection is authenticated and open. */
  readonly connected: boolean;
  /** The peer has an authenticated connection to us. */
  readonly inboundConnected: boolean;
  /** Messages waiting to be written, and their bytes (messageBytesBound). */
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  readonly sentMessages: number;
  readonly sentFrames: number;
  readonly sentBytes: number;
  readonly receivedMessages: number;
  readonly receivedFrames: number;
  readonly receivedBytes: number;
  /** Messages dropped, all causes; then by cause. */
  readonly droppedMessages: number;
  readonly dropped: { readonly queueFull: number; readonly oversized: number; readonly faults: number };
  /** Times writing paused because the socket buffered more than socketBufferedBytesMax. */
  readonly backpressureStalls: number;
  /** App payloads (forwarded proposals) written to the peer, and refused by sendApp(). */
  readonly sentAppPayloads: number;
  readonly droppedAppPayloads: number;
  /** Authenticated outbound connections after the first one. */
  readonly reconnects: number;
  /** Dial attempts that never reached an authenticated connection. */
  readonly dialFailures: number;
}

export interface TransportStats {
  readonly nodeId: NodeId;
  readonly peers: Readonly<Record<NodeId, PeerStats>>;
  /** Connections or frames refused, by reason (unknown dialers included). */
  readonly refused: Readonly<Partial<Record<RefusalReason, number>>>;
  /** Messages given to send() for a node not in the peers list. */
  readonly droppedUnknownPeerMessages: number;
  /** Messages that arrived before any onMessages handler was registered. */
  readonly droppedUnhandledMessages: number;
}

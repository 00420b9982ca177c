// The peer transport's named limits, its logger, and the reasons it refuses a
// connection (each with the WebSocket close code the other side sees).
import { DEFAULT_CODEC_LIMITS, type CodecLimits } from './codec-limits.ts';

/** Every bound the transport keeps; units last. */
export interface TransportLimits extends CodecLimits {
  /** Messages queued for one peer, at most; beyond it the oldest are dropped and counted. */
  readonly sendQueueMessagesMax: number;
  /** Bytes (messageBytesBound) queued for one peer, at most; beyond it the oldest are dropped and counted. */
  readonly sendQueueBytesMax: number;
  /** Bytes buffered in one socket (ws bufferedAmount) beyond which we stop writing to it, and count a stall. */
  readonly socketBufferedBytesMax: number;
  /** While stalled on a full socket, check it again after this many ms. */
  readonly backpressureRetryMs: number;
  /** First reconnect delay after a failure, ms (before jitter). */
  readonly reconnectDelayMsMin: number;
  /** Reconnect delay cap, ms (before jitter). */
  readonly reconnectDelayMsMax: number;
  /** A connection pings its peer this often, ms. */
  readonly pingIntervalMs: number;
  /** A connection that heard nothing (not even a pong) for this long is dead: closed, peer reported unreachable. ms. */
  readonly peerDeadAfterMs: number;
  /**
   * A link whose frames went both ways since its last ping (the peer's frames
   * prove it alive, ours prove us) skips its liveness ping, but still pings
   * this often, for the clock probe (clock-probe.ts). ms.
   */
  readonly clockProbeIntervalMs: number;
  /** A handshake not finished after this long is refused, ms (a dialer's, and a member's vouched inbound connection). */
  readonly handshakeTimeoutMs: number;
  /** A stranger's inbound connection (no valid upgrade token) not authenticated after this long is refused, ms. */
  readonly preAuthTimeoutMs: number;
  /** Strangers' inbound connections still in their handshake, at most; more are refused at upgrade. */
  readonly pendingConnectionsMax: number;
  /** Strangers' inbound connections still in their handshake from one source address, at most; more are refused at upgrade. */
  readonly pendingConnectionsPerAddressMax: number;
  /** Inbound connections vouched for by one member (upgrade-token.ts) still in their handshake; a newer one replaces the oldest. */
  readonly pendingConnectionsPerMemberMax: number;
  /** A socket being closed gets this long to finish the close handshake before it is destroyed, ms. */
  readonly closeGraceMs: number;
  /** Refusals of one reason are logged at most once per this many ms (all are counted). */
  readonly refusalLogIntervalMs: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  ...DEFAULT_CODEC_LIMITS,
  sendQueueMessagesMax: 10_000,
  sendQueueBytesMax: 64 * 1024 * 1024,
  socketBufferedBytesMax: 8 * 1024 * 1024,
  backpressureRetryMs: 5,
  reconnectDelayMsMin: 50,
  reconnectDelayMsMax: 2000,
  pingIntervalMs: 250,
  peerDeadAfterMs: 1000,
  clockProbeIntervalMs: 1000,
  handshakeTimeoutMs: 2000,
  preAuthTimeoutMs: 1000,
  pendingConnectionsMax: 64,
  pendingConnectionsPerAddressMax: 8,
  pendingConnectionsPerMemberMax: 2,
  closeGraceMs: 250,
  refusalLogIntervalMs: 1000,
};

/** Structured log lines; the daemon injects its logger. Must not throw. */
export interface TransportLogger {
  info(event: string, fields: Readonly<Record<string, unknown>>): void;
  warn(event: string, fields: Readonly<Record<string, unknown>>): void;
}

/** Writes warnings as JSON lines on stderr; info is dropped. */
export const STDERR_LOGGER: TransportLogger = {
  info: () => {},
  warn: (event, fields) => {
    process.stderr.write(`${JSON.stringify({ level: 'warn', component: 'peer-transport', event, ...fields })}\n`);
  },
};

/**
 * Why a connection was refused or closed, counted in stats().refused and
 * sent as the close reason. The close code tells the other side the class.
 */
export const REFUSAL_CLOSE_CODES = {
  /** A binary (Raft) frame arrived before the handshake finished. */
  FRAME_BEFORE_AUTH: 4403,
  /** A handshake message was not valid JSON of the expected shape. */
  HANDSHAKE_MALFORMED: 4400,
  /** An unauthenticated socket sent more bytes than a handshake needs (the socket is destroyed). */
  HANDSHAKE_TOO_LARGE: 1009,
  /** The handshake did not finish within handshakeTimeoutMs. */
  HANDSHAKE_TIMEOUT: 4408,
  /** The dialer claimed a node id not in our peers list. */
  AUTH_UNKNOWN_NODE: 4401,
  /** The dialer addressed its hello to another node than us. */
  AUTH_WRONG_LISTENER: 4401,
  /** A handshake signature did not verify under the configured key (wrong key, replay, tamper). */
  AUTH_SIGNATURE_INVALID: 4401,
  /** The listener at a peer's url says it is another node. */
  AUTH_PEER_ID_MISMATCH: 4401,
  /** A Raft frame failed to decode (see the log for the codec's code). */
  FRAME_INVALID: 4422,
  /** A frame exceeded frameBytesMax (ws closes these itself, with 1009). */
  FRAME_TOO_LARGE: 1009,
  /** A message's from/to is not (authenticated peer → us). */
  MESSAGE_ADDRESS_INVALID: 4422,
  /** A frame of a kind not expected at this point (text after auth, anything on an outbound connection). */
  FRAME_UNEXPECTED: 4400,
  /** A WebSocket-level protocol violation reported by ws. */
  WEBSOCKET_PROTOCOL_ERROR: 1002,
  /** Too many strangers' inbound connections were still handshaking. */
  PENDING_CONNECTIONS_FULL: 1013,
  /** Too many strangers' inbound connections from this source address were still handshaking. */
  PENDING_ADDRESS_FULL: 1013,
  /** An upgrade request for another path on our own server. */
  PATH_UNKNOWN: 4404,
  /** Mutual TLS: the certificate names no member's node id, or not the node id the handshake proved (peer-tls.ts). */
  AUTH_CERT_NODE_MISMATCH: 4401,
  /** Mutual TLS: the TLS handshake failed (no certificate, one of another CA, expired, not TLS at all); no WebSocket was opened. */
  TLS_HANDSHAKE_FAILED: 1015,
} as const;

export type RefusalReason = keyof typeof REFUSAL_CLOSE_CODES;

/** Close codes for ordinary, non-refusal closes. */
export const CLOSE_CODES = {
  /** This transport is stopping. */
  STOPPING: 1001,
  /** A newer authenticated connection from the same peer replaced this one. */
  REPLACED: 4409,
  /** The peer was removed from (or changed in) the peers list. */
  PEER_REMOVED: 4410,
} as const;

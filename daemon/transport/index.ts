// Floe's peer transport: Raft messages between servers over authenticated
// WebSockets, its binary codec, and test-only fault injection.
export { PEER_TLS_VERSION_MIN, type PeerTls } from './peer-tls.ts';
export { PeerTransport, type PeerConfig, type PeerLockCode, type PeerStats, type PeerTransportApi, type PeerTransportOptions, type TransportStats } from './peer-transport.ts';
export { FRAME_VERSION, decodeFrame, encodeFrame } from './message-codec.ts';
export { DEFAULT_CODEC_LIMITS, type CodecLimits } from './codec-limits.ts';
export type { DecodeErrorCode, DecodeResult } from './codec-errors.ts';
export { frameBytesBound, messageBytesBound } from './message-bounds.ts';
export { APP_FRAME_TAG, decodeAppFrame, encodeAppFrame } from './app-frame.ts';
export type { ClockSkew } from './clock-probe.ts';
export { FaultInjector, ANY_NODE, FAULT_DELAY_MS_MAX, type FaultStats } from './fault-injector.ts';
export { FaultyTransport } from './faulty-transport.ts';
export type { Ed25519PrivateKey, Ed25519PublicKey, PeerIdentity } from './peer-auth.ts';
export {
  CLOSE_CODES,
  DEFAULT_TRANSPORT_LIMITS,
  REFUSAL_CLOSE_CODES,
  STDERR_LOGGER,
  type RefusalReason,
  type TransportLimits,
  type TransportLogger,
} from './transport-config.ts';

// What a FloeClient tells its application: the lease it hands out and the
// events it emits (a typed node:events EventEmitter map).
import type { LeaseInfo } from '../protocol/wire.ts';
import type { FloeError } from './floe-error.ts';

/**
 * A held seat (or `count` seats) of one feature: the protocol's LeaseInfo
 * plus the checkout's idempotency key. A snapshot: `client.leases()` has the
 * current deadlines.
 */
export interface Lease extends LeaseInfo {
  /** The checkout's idempotency key. */
  readonly requestId: string;
}

/** A session is open on a server. */
export interface ConnectedEvent {
  readonly server: string;
  readonly sessionId: string;
  /** True when the previous session (and its leases) carried over. */
  readonly resumed: boolean;
}

/** The socket to a server closed; the client reconnects unless it is closing. */
export interface DisconnectedEvent {
  readonly server: string;
  /** WebSocket close code (1006 when the socket just broke). */
  readonly code: number;
  readonly reason: string;
  readonly willReconnect: boolean;
}

/** The session moved to the server that leads the cluster (ConnectOptions.preferLeader), leases and calls with it. */
export interface MovedEvent {
  /** The server it left. */
  readonly from: string;
  /** The leader's URL, where the session is now. */
  readonly to: string;
  readonly sessionId: string;
}

/** A queued checkout's position changed (1 is the head). */
export interface QueueEvent {
  readonly requestId: string;
  readonly feature: string;
  readonly position: number;
}

/** A lease ended without this client's checkin. */
export interface RevokedEvent {
  readonly leaseId: string;
  /** The lease as the client knew it; absent when it did not know it. */
  readonly lease: Lease | undefined;
  readonly feature: string;
  /**
   * Why, a stable UPPER_CASE code: the server's `LEASE_EXPIRED`,
   * `FORCE_CHECKIN`, `LICENSE_REMOVED`, `LICENSE_EXPIRED`, `USER_UNASSIGNED`,
   * or the SDK's own `SESSION_LOST` (a reconnect found the session gone, so
   * every lease of it is) and `LEASE_LOST` (the resumed session no longer
   * lists the lease: it ended while the client was away).
   */
  readonly code: string;
  /** Human sentence (for FORCE_CHECKIN it includes the admin's reason). */
  readonly reason: string;
}

/** The client closed for good. */
export interface ClosedEvent {
  /** Why, when it was not `close()`: e.g. SERVERS_UNREACHABLE or UNSUPPORTED_PROTOCOL. */
  readonly error: FloeError | undefined;
}

/** Every event of a FloeClient and its listener's arguments. */
export interface FloeClientEvents {
  connected: [ConnectedEvent];
  disconnected: [DisconnectedEvent];
  /** The session moved to the leader without a disconnect the application need care about (docs/client.md). */
  moved: [MovedEvent];
  /** A checkout got its lease (right away or after queueing); fires before its promise resolves. */
  granted: [Lease];
  queue: [QueueEvent];
  revoked: [RevokedEvent];
  /** Something went wrong outside any call (emitted only when someone listens). */
  error: [FloeError];
  closed: [ClosedEvent];
}

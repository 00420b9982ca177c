// client/: the SDK applications embed to check seats out of a Floe cluster.
// One entry point; import from here. docs/client.md shows how to use it.
export { backoffDelayMs, type BackoffOptions } from './backoff.ts';
export type { ClosedEvent, ConnectedEvent, DisconnectedEvent, FloeClientEvents, Lease, MovedEvent, QueueEvent, RevokedEvent } from './client-events.ts';
export { HEARTBEAT_MS_MAX, HEARTBEAT_MS_MIN, type ConnectOptions } from './client-options.ts';
export { FRAME_BYTES_RECEIVED_MAX } from './connection.ts';
export { clientErrorCodes, FloeError, isFloeError, type ClientErrorCode, type FloeErrorCode } from './floe-error.ts';
export { connect, FloeClient, type BorrowOptions, type CheckoutOptions, type CloseOptions } from './floe-client.ts';
export { checkBorrowedSeat, type BorrowCheck, type BorrowedSeat, type CheckBorrowOptions } from './borrowed-seat.ts';
export { FINGERPRINT_HEX_CHARS, machineFingerprint } from './machine-fingerprint.ts';

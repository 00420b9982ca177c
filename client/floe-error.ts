// The one error type the SDK rejects and emits with. Its `code` is a stable
// UPPER_CASE word: either a wire code the server answered with (NO_SEATS,
// QUEUE_TIMEOUT, …; see docs/protocol.md) or one of the SDK's own codes for
// what happened on this side of the socket (CLOSED, ABORTED, …).
import type { WireErrorCode } from '../protocol/wire.ts';

/** Codes the SDK raises itself; no server sends them. */
export const clientErrorCodes = [
  /** The call was aborted through its AbortSignal. */
  'ABORTED',
  /** The client was closed (by `close()` or after giving up reconnecting) before the call finished. */
  'CLOSED',
  /** No server of the list answered a hello within the attempts allowed. */
  'SERVERS_UNREACHABLE',
  /** `pendingRequestsMax` calls are already waiting for their answer. */
  'PENDING_LIMIT_REACHED',
  /** A call was re-sent `requestSendsMax` times without a final answer. */
  'RETRIES_EXHAUSTED',
  /** The server sent a frame the SDK cannot understand. */
  'PROTOCOL_ERROR',
] as const;

/** A code of the SDK itself. */
export type ClientErrorCode = (typeof clientErrorCodes)[number];

/** Every code a FloeError may carry; unknown server codes pass through as strings. */
export type FloeErrorCode = WireErrorCode | ClientErrorCode;

/** An error with a stable code, thrown or emitted by the SDK. */
export class FloeError extends Error {
  override readonly name = 'FloeError';
  /** Stable UPPER_CASE code: switch on it, never on `message`. */
  readonly code: FloeErrorCode;

  constructor(code: FloeErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Whether `err` is a FloeError, optionally with the given code. */
export function isFloeError(err: unknown, code?: FloeErrorCode): err is FloeError {
  return err instanceof FloeError && (code === undefined || err.code === code);
}

/** `err` as a FloeError: itself when it is one, else INTERNAL with `err` as the cause. */
export function toFloeError(err: unknown): FloeError {
  return err instanceof FloeError ? err : new FloeError('INTERNAL', String(err), { cause: err });
}

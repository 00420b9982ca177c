// The table of everything the SDK has asked a server and not yet heard the
// final answer to: the retried calls (checkout, checkin, cancel), the
// one-shot status requests, and which frame on the current connection
// answers which of them. FloeClient and CallDispatcher read and change it;
// it knows nothing of sockets, so a lost connection only forgets its frames
// while the calls stay for the next server.
import type { CheckoutRequest } from '../protocol/wire.ts';
import type { Lease } from './client-events.ts';
import type { FloeError } from './floe-error.ts';

interface CallBase {
  readonly callId: number;
  /** Id of this call's frame on the current connection; undefined when none is in flight. */
  frameId: number | undefined;
  /** Frames sent for this call so far, across connections (see sendsCounted). */
  sends: number;
  /** Pending re-send after RATE_LIMITED. */
  retryTimer: NodeJS.Timeout | undefined;
}

/** A checkout() waiting for its lease. */
export interface CheckoutCall extends CallBase {
  readonly kind: 'checkout';
  /** Reused for every send; replaced only when the session was lost (nothing of the old one survives). */
  requestId: string;
  readonly body: Omit<CheckoutRequest, 'id' | 'type' | 'requestId'>;
  /** The server answered `queued`: the grant will come as a push. */
  queued: boolean;
  /** The caller gave up (abort, local wait deadline): whatever the server answers is undone. */
  abandoned: boolean;
  cancelSent: boolean;
  settled: boolean;
  /**
   * Servers this checkout was refused by with an ANOTHER_SERVER_CODES code, or
   * moved to after such a refusal. Invariant: the SDK moves the session for
   * this checkout only to a server not in it, and only while it holds fewer
   * than serversMax URLs, so it moves at most `serversMax - 1` times (at most
   * `servers.length - 1` while the list does not change) and then rejects.
   */
  readonly serversTried: Set<string>;
  /**
   * Sends refused with an ANOTHER_SERVER_CODES code, each followed by a move
   * to another server. They were answered, not lost, so requestSendsMax does
   * not count them; serversTried bounds them instead. Invariant: <= sends.
   */
  sendsMoved: number;
  resolve(lease: Lease): void;
  reject(error: FloeError): void;
  /** Removes the abort listener and the wait guard. */
  cleanup(): void;
}

/** A checkin (the caller's, or the SDK's own undoing an unwanted grant). */
export interface CheckinCall extends CallBase {
  readonly kind: 'checkin';
  readonly requestId: string;
  readonly leaseId: string;
  /** Started by the SDK itself (undoing an unwanted grant); its outcome reaches no caller. */
  readonly internal: boolean;
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: FloeError): void;
}

/** The withdrawal of a queued checkout its caller gave up on. */
export interface CancelCall extends CallBase {
  readonly kind: 'cancel';
  readonly target: CheckoutCall;
}

/**
 * Any other idempotent request (borrow, return): re-sent with the same
 * requestId until it has a final answer, which resolves it as it came.
 */
export interface RequestCall extends CallBase {
  readonly kind: 'request';
  readonly requestId: string;
  /** The request's fields but `id` and `requestId` (with its `type`). */
  readonly body: { readonly type: 'borrow' | 'return' } & Readonly<Record<string, unknown>>;
  resolve(reply: Readonly<Record<string, unknown>>): void;
  reject(error: FloeError): void;
}

/** A request re-sent with the same requestId until it has a final answer. */
export type Call = CheckoutCall | CheckinCall | CancelCall | RequestCall;

/** The sends of `call` that count against requestSendsMax: all but a checkout's moves to another server for its license. */
export function sendsCounted(call: Call): number {
  return call.kind === 'checkout' ? call.sends - call.sendsMoved : call.sends;
}

/** A status() request: sent once, never retried. */
export interface StatusWaiter {
  readonly kind: 'status';
  resolve(value: Readonly<Record<string, unknown>>): void;
  reject(error: FloeError): void;
}

/** What a frame in flight on the current connection is for. */
export interface FrameEntry {
  readonly target: Call | StatusWaiter | 'heartbeat';
  /** Epoch `ms` it was sent; a reply older than replyTimeoutMs means the connection is dead. */
  readonly sentAtMs: number;
}

/**
 * The pending calls and frames.
 *
 * Invariant: every call in #calls has at most one frame in flight, on the
 * current connection (call.frameId), and #frames maps exactly those ids
 * (plus the status requests' and the heartbeat's).
 */
export class PendingCalls {
  readonly #frames = new Map<number, FrameEntry>();
  readonly #calls = new Map<number, Call>();
  readonly #statusWaiters = new Set<StatusWaiter>();
  #callIdLast = 0;

  /** A fresh id for a new call. */
  nextCallId(): number {
    this.#callIdLast += 1;
    return this.#callIdLast;
  }

  /** Adds `call`; it is pending until `remove(call)`. */
  add(call: Call): void {
    this.#calls.set(call.callId, call);
  }

  /** Whether `call` is still pending. */
  has(call: Call): boolean {
    return this.#calls.has(call.callId);
  }

  /** The pending calls, live (removing one while iterating is safe). */
  values(): IterableIterator<Call> {
    return this.#calls.values();
  }

  /** Calls a caller waits for (what pendingRequestsMax bounds): not abandoned checkouts, not the SDK's own checkins, no cancels; borrows and returns. */
  userCallCount(): number {
    let n = 0;
    for (const call of this.#calls.values()) if ((call.kind === 'checkout' && !call.abandoned) || (call.kind === 'checkin' && !call.internal) || call.kind === 'request') n += 1;
    return n;
  }

  /** The pending checkin of `leaseId`, if any. */
  pendingCheckin(leaseId: string): CheckinCall | undefined {
    for (const call of this.#calls.values()) if (call.kind === 'checkin' && call.leaseId === leaseId) return call;
    return undefined;
  }

  /** The pending checkout with `requestId`, if any. */
  pendingCheckout(requestId: string): CheckoutCall | undefined {
    for (const call of this.#calls.values()) if (call.kind === 'checkout' && call.requestId === requestId) return call;
    return undefined;
  }

  /** Ends `call`'s bookkeeping: no retry timer, no frame, no abort listener. Settles nothing. */
  remove(call: Call): void {
    this.#calls.delete(call.callId);
    clearTimeout(call.retryTimer);
    call.retryTimer = undefined;
    if (call.frameId !== undefined) this.#frames.delete(call.frameId);
    call.frameId = undefined;
    if (call.kind === 'checkout') call.cleanup();
  }

  /** Removes the cancels sent for `target`. */
  removeCancelsOf(target: CheckoutCall): void {
    for (const other of [...this.#calls.values()]) if (other.kind === 'cancel' && other.target === target) this.remove(other);
  }

  /** Records that frame `frameId` was sent for `target` just now. */
  trackFrame(frameId: number, target: FrameEntry['target']): void {
    this.#frames.set(frameId, { target, sentAtMs: Date.now() });
  }

  /** The entry of frame `frameId`, forgotten now that it was answered; undefined for a call that already ended. */
  takeFrame(frameId: number): FrameEntry | undefined {
    const entry = this.#frames.get(frameId);
    if (entry !== undefined) this.#frames.delete(frameId);
    return entry;
  }

  /** Frames in flight (calls', status requests', the heartbeat's). */
  get frameCount(): number {
    return this.#frames.size;
  }

  /** Whether some frame has gone unanswered for more than `ageMs` at epoch `nowMs`. */
  hasFrameOlderThan(nowMs: number, ageMs: number): boolean {
    for (const entry of this.#frames.values()) if (nowMs - entry.sentAtMs > ageMs) return true;
    return false;
  }

  /** The connection is gone and so are its frames; every call stays pending, to be re-sent. */
  forgetFrames(): void {
    this.#frames.clear();
    for (const call of this.#calls.values()) call.frameId = undefined;
  }

  /** Status requests pending. */
  get statusCount(): number {
    return this.#statusWaiters.size;
  }

  /** Adds a status request; its frame is tracked with trackFrame. */
  addStatus(waiter: StatusWaiter): void {
    this.#statusWaiters.add(waiter);
  }

  /** The status request was answered. */
  deleteStatus(waiter: StatusWaiter): void {
    this.#statusWaiters.delete(waiter);
  }

  /** Rejects every status request with `error` (they are never retried). */
  rejectStatus(error: FloeError): void {
    for (const waiter of this.#statusWaiters) waiter.reject(error);
    this.#statusWaiters.clear();
  }
}

// Drives every pending call to its final answer: sends it on the current
// connection (again after a failover, with the same requestId), retries
// after RATE_LIMITED or INTERNAL, moves a checkout to another server when
// this one may not serve its feature, undoes what the server did for a
// caller who gave up, and turns replies and pushes into settled promises,
// held leases and events.
import { randomUUID } from 'node:crypto';
import type { WireError } from '../protocol/wire.ts';
import { backoffDelayMs } from './backoff.ts';
import type { Lease, QueueEvent, RevokedEvent } from './client-events.ts';
import type { ResolvedOptions } from './client-options.ts';
import type { Connection } from './connection.ts';
import { FloeError, toFloeError } from './floe-error.ts';
import { sendsCounted, type Call, type CancelCall, type CheckinCall, type CheckoutCall, type PendingCalls } from './pending-calls.ts';
import type { ServerList } from './server-list.ts';
import { checkoutReplySchema, type LeaseInfoFrame, type PushFrame, type ReplyFrame } from './server-frames.ts';

/**
 * Checkout answers that say "this server may not serve the feature, another
 * may" (docs/protocol.md): the checkout moves, with its session, to a server
 * of the list it has not tried yet.
 */
const ANOTHER_SERVER_CODES: ReadonlySet<string> = new Set(['LICENSE_NOT_FOR_THIS_SERVER', 'LICENSE_QUORUM_LOST']);

/** What a CallDispatcher needs of its client. */
export interface CallDispatcherHost {
  readonly options: ResolvedOptions;
  readonly servers: ServerList;
  readonly calls: PendingCalls;
  /** The leases held, by leaseId. */
  readonly leases: Map<string, Lease>;
  /** The connection the session is open on; undefined while (re)connecting. */
  connection(): Connection | undefined;
  /** Leaves the current server for `nextServer`, default the next one; pending calls are re-sent there. */
  dropConnection(reason: string, nextServer?: string): void;
  /** A final answer arrived: the server is useful. */
  markUseful(): void;
  /** `url` refused a checkout another server may serve: the session should not move back there for a while. */
  avoidServer(url: string): void;
  onHeartbeatReply(frame: ReplyFrame): void;
  emitQueue(event: QueueEvent): void;
  emitGranted(lease: Lease): void;
  emitRevoked(event: RevokedEvent): void;
  emitError(error: FloeError): void;
}

/** The calls' state machine of one client. */
export class CallDispatcher {
  readonly #host: CallDispatcherHost;

  constructor(host: CallDispatcherHost) {
    this.#host = host;
  }

  /** Registers `call` and sends it when connected. */
  start(call: Call): void {
    this.#host.calls.add(call);
    this.send(call);
  }

  /** Starts a checkin of `leaseId`; `internal`: the SDK's own (its failure is only emitted). */
  startCheckin(leaseId: string, internal: boolean): CheckinCall {
    let resolve!: () => void;
    let reject!: (error: FloeError) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    if (internal) promise.catch((err: unknown) => this.#host.emitError(toFloeError(err)));
    const call: CheckinCall = {
      kind: 'checkin',
      callId: this.#host.calls.nextCallId(),
      frameId: undefined,
      sends: 0,
      retryTimer: undefined,
      requestId: randomUUID(),
      leaseId,
      internal,
      promise,
      resolve,
      reject,
    };
    this.start(call);
    return call;
  }

  /** Sends `call` on the current connection, unless it is already in flight or waiting out a RATE_LIMITED. */
  send(call: Call): void {
    const host = this.#host;
    const conn = host.connection();
    if (conn === undefined || call.frameId !== undefined || call.retryTimer !== undefined || !host.calls.has(call)) return;
    if (sendsCounted(call) >= host.options.requestSendsMax) {
      this.fail(call, new FloeError('RETRIES_EXHAUSTED', `sent ${sendsCounted(call)} times without a final answer`));
      return;
    }
    call.sends += 1;
    const body =
      call.kind === 'checkout'
        ? { type: 'checkout', requestId: call.requestId, ...call.body }
        : call.kind === 'checkin'
          ? { type: 'checkin', requestId: call.requestId, leaseId: call.leaseId }
          : call.kind === 'request'
            ? { ...call.body, requestId: call.requestId }
            : { type: 'cancel', requestId: call.target.requestId };
    call.frameId = conn.send(body);
    host.calls.trackFrame(call.frameId, call);
  }

  /** Ends `call` with `error` (its caller hears it unless it already gave up). */
  fail(call: Call, error: FloeError): void {
    const calls = this.#host.calls;
    calls.remove(call);
    if (call.kind === 'checkout') {
      if (!call.settled) {
        call.settled = true;
        call.reject(error);
      }
    } else if (call.kind === 'checkin' || call.kind === 'request') {
      call.reject(error);
    } else if (error.code !== 'CLOSED') {
      calls.remove(call.target);
      this.#host.emitError(new FloeError(error.code, `cancel of a queued checkout failed: ${error.message}`));
    }
  }

  /** The caller gave up on a checkout: reject it now, and undo on the server whatever it did or will do. */
  abandon(call: CheckoutCall, error: FloeError): void {
    if (call.settled) return;
    call.settled = true;
    call.abandoned = true;
    call.cleanup();
    call.reject(error);
    if (call.sends === 0) this.#host.calls.remove(call);
    else if (call.queued) this.#cancel(call);
    // else: in flight; its answer (grant or queue place) is undone when it arrives.
  }

  #cancel(target: CheckoutCall): void {
    if (target.cancelSent) return;
    target.cancelSent = true;
    const call: CancelCall = { kind: 'cancel', callId: this.#host.calls.nextCallId(), frameId: undefined, sends: 0, retryTimer: undefined, target };
    this.start(call);
  }

  /** A reply on the current connection. */
  onReply(frame: ReplyFrame): void {
    const host = this.#host;
    const calls = host.calls;
    const entry = calls.takeFrame(frame.id);
    if (entry === undefined) return; // an answer for a call that already ended
    const target = entry.target;
    if (target === 'heartbeat') {
      host.onHeartbeatReply(frame);
      return;
    }
    if (target.kind === 'status') {
      calls.deleteStatus(target);
      if (frame.ok) target.resolve(frame);
      else target.reject(new FloeError(frame.error.code, frame.error.message));
      return;
    }
    const call = target;
    if (call.frameId !== frame.id || !calls.has(call)) return;
    call.frameId = undefined;
    if (!frame.ok) {
      this.#onCallError(call, frame.error);
      return;
    }
    host.markUseful();
    switch (call.kind) {
      case 'checkout': {
        const reply = checkoutReplySchema.safeParse(frame);
        if (!reply.success) {
          this.fail(call, new FloeError('PROTOCOL_ERROR', 'malformed checkout reply', { cause: reply.error }));
          return;
        }
        if (reply.data.queued === true) this.#onQueued(call, reply.data.position);
        else this.#onGranted(call, reply.data);
        return;
      }
      case 'checkin':
        calls.remove(call);
        host.leases.delete(call.leaseId);
        call.resolve();
        return;
      case 'cancel':
        calls.remove(call);
        calls.remove(call.target);
        return;
      case 'request':
        calls.remove(call);
        call.resolve(frame);
        return;
      default:
        assertNever(call);
    }
  }

  #onCallError(call: Call, error: WireError): void {
    const host = this.#host;
    switch (error.code) {
      case 'UNAVAILABLE':
      case 'HELLO_REQUIRED':
      case 'SESSION_NOT_FOUND':
        // The call stays pending; it is re-sent once a session is open elsewhere.
        host.dropConnection(`${call.kind}: ${error.code}`);
        return;
      case 'RATE_LIMITED':
      case 'INTERNAL':
        // Both say "nothing happened, retry with the same requestId": wait a little, same server.
        call.retryTimer = setTimeout(
          () => {
            call.retryTimer = undefined;
            this.send(call);
          },
          host.options.backoffBaseMs + backoffDelayMs(call.sends - 1, host.options, host.options.random),
        );
        return;
      default:
    }
    host.markUseful();
    if (call.kind === 'checkout' && !call.abandoned && ANOTHER_SERVER_CODES.has(error.code)) {
      this.#checkoutElsewhere(call, error);
      return;
    }
    const floeError = new FloeError(error.code, error.message);
    if (call.kind === 'checkout') {
      if (call.abandoned) host.calls.remove(call);
      else this.fail(call, floeError);
    } else if (call.kind === 'checkin') {
      host.leases.delete(call.leaseId);
      this.fail(call, floeError);
    } else if (call.kind === 'request') {
      this.fail(call, floeError);
    } else if (error.code === 'QUEUED_REQUEST_NOT_FOUND') {
      // Granted (or timed out) before the cancel: ask the checkout's first answer again; a grant is then checked in.
      host.calls.remove(call);
      call.target.queued = false;
      this.send(call.target);
    } else {
      this.fail(call, floeError);
    }
  }

  /**
   * This server may not serve `call`'s feature (its key names other servers,
   * or too few of them are up): move the session, as failover does, to the
   * next server of the list this checkout has not tried, where the resumed
   * session re-sends it with the same requestId. Every server tried: reject
   * with the last refusal. The refused send was answered, not lost, so it
   * does not count against requestSendsMax (sendsMoved). The list may change
   * meanwhile (it follows the membership), so serversMax bounds the moves too.
   */
  #checkoutElsewhere(call: CheckoutCall, error: WireError): void {
    const host = this.#host;
    const here = host.connection()?.url;
    if (here !== undefined) {
      call.serversTried.add(here);
      host.avoidServer(here);
    }
    const next = call.serversTried.size < host.options.serversMax ? host.servers.nextUntried(here, call.serversTried) : undefined;
    if (next === undefined) {
      this.fail(call, new FloeError(error.code, `${error.message} (refused by every server tried: ${[...call.serversTried].join(', ')})`));
      return;
    }
    call.serversTried.add(next);
    call.sendsMoved += 1;
    host.dropConnection(`checkout of ${call.body.feature}: ${error.code}; trying ${next}`, next);
  }

  #onQueued(call: CheckoutCall, position: number): void {
    call.queued = true;
    if (call.abandoned) this.#cancel(call);
    else this.#host.emitQueue({ requestId: call.requestId, feature: call.body.feature, position });
  }

  #onGranted(call: CheckoutCall, info: LeaseInfoFrame): void {
    const host = this.#host;
    const lease: Lease = {
      leaseId: info.leaseId,
      feature: info.feature ?? call.body.feature,
      version: info.version ?? call.body.version ?? '',
      count: info.count ?? call.body.count,
      expiresAt: info.expiresAt,
      fencingToken: info.fencingToken ?? 0,
      requestId: call.requestId,
    };
    host.calls.remove(call);
    host.calls.removeCancelsOf(call);
    host.leases.set(lease.leaseId, lease);
    if (call.abandoned) {
      this.startCheckin(lease.leaseId, true);
      return;
    }
    call.settled = true;
    host.emitGranted(lease);
    call.resolve(lease);
  }

  /** A push on the current connection. */
  onPush(push: PushFrame): void {
    const host = this.#host;
    const calls = host.calls;
    switch (push.type) {
      case 'granted': {
        const call = calls.pendingCheckout(push.requestId);
        if (call !== undefined) this.#onGranted(call, push);
        else if (!host.leases.has(push.leaseId)) {
          // Nobody waits for this grant (an answer to a request we no longer
          // track): give the seat back rather than hold it unseen.
          host.leases.set(push.leaseId, {
            leaseId: push.leaseId,
            feature: push.feature ?? '',
            version: push.version ?? '',
            count: push.count ?? 1,
            expiresAt: push.expiresAt,
            fencingToken: push.fencingToken ?? 0,
            requestId: push.requestId,
          });
          this.startCheckin(push.leaseId, true);
        }
        return;
      }
      case 'queue': {
        const call = calls.pendingCheckout(push.requestId);
        if (call !== undefined && !call.abandoned) {
          call.queued = true;
          host.emitQueue({ requestId: push.requestId, feature: push.feature || call.body.feature, position: push.position });
        }
        return;
      }
      case 'queue-timeout': {
        const call = calls.pendingCheckout(push.requestId);
        if (call === undefined) return;
        if (call.abandoned) {
          calls.remove(call);
          calls.removeCancelsOf(call);
        } else {
          this.fail(call, new FloeError(push.error.code, push.error.message));
        }
        return;
      }
      case 'revoked': {
        const lease = host.leases.get(push.leaseId);
        host.leases.delete(push.leaseId);
        const checkin = calls.pendingCheckin(push.leaseId);
        if (checkin !== undefined) {
          // The seat is back in the pool either way: that is what the checkin wanted.
          calls.remove(checkin);
          checkin.resolve();
          return;
        }
        host.emitRevoked({
          leaseId: push.leaseId,
          lease,
          feature: push.feature || (lease?.feature ?? ''),
          code: push.code,
          reason: push.reason,
        });
        return;
      }
      case 'leader':
        return; // FloeClient's (leader-moves.ts)
      default:
        assertNever(push);
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`assertion: unexpected ${JSON.stringify(value)}`);
}

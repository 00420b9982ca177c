// The SDK's heart: one logical session with the cluster that outlives any
// number of sockets. It keeps the session alive by heartbeat, fails over to
// another server when one dies or answers UNAVAILABLE, resumes the session
// there, and re-sends every call that has no final answer yet with the same
// requestId, so the server's idempotency memory turns a retry into the first
// answer instead of a second seat.
//
// This file is the public facade and the session's lifecycle (ready, lost,
// closed); the parts live beside it: SessionDialer (finding a server and
// saying hello), CallDispatcher (calls to their final answer), PendingCalls
// (the table of calls and frames), ServerList (failover order), Heartbeat,
// settleSession (what a resumed or lost session means for the leases) and
// LeaderMoves (the session moves to the leader the servers name).
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { borrowRequestSchema, checkoutRequestSchema } from '../protocol/wire.ts';
import type { BorrowedSeat } from './borrowed-seat.ts';
import { machineFingerprint } from './machine-fingerprint.ts';
import { CallDispatcher } from './call-dispatcher.ts';
import type { FloeClientEvents, Lease } from './client-events.ts';
import { HEARTBEAT_MS_MAX, HEARTBEAT_MS_MIN, resolveOptions, type ConnectOptions, type ResolvedOptions } from './client-options.ts';
import type { Connection } from './connection.ts';
import { FloeError, toFloeError } from './floe-error.ts';
import { Heartbeat } from './heartbeat.ts';
import { LeaderMoves } from './leader-moves.ts';
import { PendingCalls, type CheckoutCall, type RequestCall, type StatusWaiter } from './pending-calls.ts';
import { ServerList } from './server-list.ts';
import { borrowReplySchema, type HelloReplyFrame, type PushFrame, type ReplyFrame } from './server-frames.ts';
import { SessionDialer } from './session-dialer.ts';
import { settleSession } from './settle-session.ts';

/** Options of one `checkout()`. */
export interface CheckoutOptions {
  /** Seats wanted, 1–1000. Default 1. */
  readonly count?: number;
  /** Queue when no seat is free instead of failing with NO_SEATS. Default false. */
  readonly wait?: boolean;
  /** Lowest acceptable version (`"29"`, `"2.1"`); any licensed version at least this serves. */
  readonly version?: string;
  /** `ms` to stay queued before QUEUE_TIMEOUT; the server's default when absent. */
  readonly waitMs?: number;
  /** Aborting it rejects the call with ABORTED and withdraws the checkout from the server. */
  readonly signal?: AbortSignal;
}

/** Options of one `borrow()`. */
export interface BorrowOptions {
  /** `h` the seat is taken offline for (fractions allowed), within what the key and the seat policy allow. */
  readonly hours: number;
  /** Lowest acceptable version, as for checkout. */
  readonly version?: string;
  /** The machine the borrow is bound to; default machineFingerprint(). */
  readonly fingerprint?: string;
}

/** Options of `close()`. */
export interface CloseOptions {
  /** Check in every held lease first (waiting at most `closeTimeoutMs`). Default false. */
  readonly checkin?: boolean;
}

/** A client of a Floe cluster. Make one with `connect()`. */
export class FloeClient extends EventEmitter<FloeClientEvents> {
  /** The stable identity this client states in hello (the idempotency key's first half). */
  readonly clientId: string;
  readonly #options: ResolvedOptions;
  readonly #servers: ServerList;
  readonly #calls = new PendingCalls();
  readonly #leases = new Map<string, Lease>();
  readonly #dialer: SessionDialer;
  readonly #dispatcher: CallDispatcher;
  readonly #heartbeat: Heartbeat;
  readonly #moves: LeaderMoves;
  /** The connection the session is open on; undefined while (re)connecting. */
  #conn: Connection | undefined;
  #reconnecting = false;
  #sessionId: string | undefined;
  /** The secret of #sessionId, told once by the hello that opened it; kept in memory only, never logged. */
  #sessionSecret: string | undefined;
  #everConnected = false;
  #heartbeatMs: number | undefined;
  #leaseTtlMs: number | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(options: ResolvedOptions) {
    super();
    this.#options = options;
    this.clientId = options.clientId;
    this.#servers = new ServerList(options.servers, options.serversMax);
    this.#dialer = new SessionDialer({
      options,
      servers: this.#servers,
      closed: () => this.#closed,
      sessionId: () => this.#sessionId,
      sessionSecret: () => this.#sessionSecret,
      forgetSessionId: () => {
        this.#sessionId = undefined;
        this.#sessionSecret = undefined;
      },
      onSessionReady: (conn, hello) => this.#onSessionReady(conn, hello),
      onReply: (conn, frame) => this.#onReply(conn, frame),
      onPush: (conn, frame) => {
        if (this.#moves.ownsPush(conn, frame)) this.#onPush(frame);
      },
      onConnectionLost: (conn, code, reason) => this.#onConnectionLost(conn, code, reason),
      emitError: (error) => this.#emitError(error),
    });
    this.#moves = new LeaderMoves({
      options,
      servers: this.#servers,
      calls: this.#calls,
      dialer: this.#dialer,
      closed: () => this.#closed,
      current: () => this.#conn,
      heartbeatMs: () => this.#heartbeatMs,
      reconcile: (hello) => {
        const revoked = settleSession({ everConnected: true, resumed: true, listed: hello.leases, revoked: hello.revoked }, this.#leases, this.#calls);
        for (const event of revoked) this.emit('revoked', event);
      },
      switchTo: (conn, hello, forced) => this.#switchTo(conn, hello, forced),
      deliver: (pushes) => {
        for (const push of pushes) this.#onPush(push);
      },
      resume: () => {
        // What was held back; a queued checkout waits for its push here as before.
        for (const call of [...this.#calls.values()]) if (call.kind !== 'checkout' || !call.queued) this.#dispatcher.send(call);
      },
    });
    /** Where new frames go: nowhere while a move to the leader holds them back. */
    const sendable = () => (this.#moves.holding ? undefined : this.#conn);
    this.#heartbeat = new Heartbeat({
      replyTimeoutMs: options.replyTimeoutMs,
      calls: this.#calls,
      connection: sendable,
      dropConnection: (reason) => this.#dropConnection(reason),
      emitError: (error) => this.#emitError(error),
      onRenewed: (expiresAt) => {
        this.#dialer.markUseful();
        if (expiresAt === undefined) return;
        for (const [leaseId, lease] of this.#leases) this.#leases.set(leaseId, { ...lease, expiresAt: Math.max(lease.expiresAt, expiresAt) });
      },
    });
    this.#dispatcher = new CallDispatcher({
      options,
      servers: this.#servers,
      calls: this.#calls,
      leases: this.#leases,
      connection: sendable,
      dropConnection: (reason, nextServer) => this.#dropConnection(reason, nextServer),
      markUseful: () => this.#dialer.markUseful(),
      avoidServer: (url) => this.#moves.avoid(url),
      onHeartbeatReply: (frame) => this.#heartbeat.onReply(frame),
      emitQueue: (event) => this.emit('queue', event),
      emitGranted: (lease) => this.emit('granted', lease),
      emitRevoked: (event) => this.emit('revoked', event),
      emitError: (error) => this.#emitError(error),
    });
  }

  /**
   * Connects to the first server of `options.servers` that answers (trying
   * each in turn with backoff) and opens a session. Rejects with a FloeError:
   * BAD_REQUEST for bad options, SERVERS_UNREACHABLE when no server answered
   * within `reconnectAttemptsMax` attempts, or the server's code when it
   * refused the hello for good (UNSUPPORTED_PROTOCOL, …).
   */
  static async connect(options: ConnectOptions): Promise<FloeClient> {
    const client = new FloeClient(resolveOptions(options));
    try {
      await client.#dialer.connect();
    } catch (err) {
      const error = toFloeError(err);
      await client.#shutdown(error, false);
      throw error;
    }
    return client;
  }

  /** The current session's id; undefined before the first hello. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** URL of the server the client is connected to; undefined while (re)connecting. */
  get server(): string | undefined {
    return this.#conn?.url;
  }

  /** Whether a session is open on a server right now. */
  get connected(): boolean {
    return this.#conn !== undefined;
  }

  /** Every server URL the client may fail over to: the configured ones, then the others the latest hello reply listed (docs/client.md, "Which servers it uses"). */
  get servers(): readonly string[] {
    return this.#servers.urls;
  }

  /** `ms` between heartbeats, as the server asked; undefined before the first hello. */
  get heartbeatMs(): number | undefined {
    return this.#heartbeatMs;
  }

  /** `ms` a lease lives without a heartbeat, as the server said; undefined before the first hello. */
  get leaseTtlMs(): number | undefined {
    return this.#leaseTtlMs;
  }

  /** The leases this client holds, with their latest known deadlines. */
  leases(): readonly Lease[] {
    return [...this.#leases.values()];
  }

  /**
   * Checks out `count` seats of `feature`. Resolves with the lease when
   * granted: at once, or (with `wait`) when a queued request reaches the head
   * of its queue; `queue` events tell the position meanwhile. The request
   * survives reconnects and failovers and is re-sent with the same requestId.
   * A server that may not serve the feature (LICENSE_NOT_FOR_THIS_SERVER,
   * LICENSE_QUORUM_LOST) sends the session and the checkout to the next server
   * of the list not yet tried for it; it rejects with that code only when
   * every server was tried. Rejects with a FloeError: NO_SEATS, UNKNOWN_FEATURE, QUEUE_TIMEOUT,
   * QUEUE_FULL, NOT_AUTHORIZED_USER, … from the server; BAD_REQUEST, ABORTED,
   * CLOSED, PENDING_LIMIT_REACHED, RETRIES_EXHAUSTED from the SDK.
   */
  checkout(feature: string, options: CheckoutOptions = {}): Promise<Lease> {
    if (this.#closed || this.#closing !== undefined) return Promise.reject(new FloeError('CLOSED', 'the client is closed'));
    const requestId = randomUUID();
    const parsed = checkoutRequestSchema.safeParse({
      id: 0,
      type: 'checkout',
      requestId,
      feature,
      count: options.count ?? 1,
      wait: options.wait ?? false,
      ...(options.version !== undefined ? { version: options.version } : {}),
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    });
    if (!parsed.success) return Promise.reject(new FloeError('BAD_REQUEST', `invalid checkout: ${parsed.error.message}`));
    if (options.signal?.aborted === true) return Promise.reject(new FloeError('ABORTED', 'the checkout was aborted before it started'));
    if (this.#calls.userCallCount() >= this.#options.pendingRequestsMax) {
      return Promise.reject(new FloeError('PENDING_LIMIT_REACHED', `${this.#options.pendingRequestsMax} calls are already pending`));
    }
    const { id: _id, type: _type, requestId: _requestId, ...body } = parsed.data;
    return new Promise<Lease>((resolve, reject) => {
      const signal = options.signal;
      let waitGuard: NodeJS.Timeout | undefined;
      const onAbort = () => this.#dispatcher.abandon(call, new FloeError('ABORTED', `checkout of ${feature} aborted`));
      const call: CheckoutCall = {
        kind: 'checkout',
        callId: this.#calls.nextCallId(),
        frameId: undefined,
        sends: 0,
        retryTimer: undefined,
        requestId,
        body,
        queued: false,
        abandoned: false,
        cancelSent: false,
        settled: false,
        serversTried: new Set(),
        sendsMoved: 0,
        resolve,
        reject,
        cleanup: () => {
          signal?.removeEventListener('abort', onAbort);
          clearTimeout(waitGuard);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (body.wait && body.waitMs !== undefined) {
        // The server ends the wait itself (a queue-timeout push); this guard only
        // bounds the promise should that push never arrive.
        waitGuard = setTimeout(
          () => this.#dispatcher.abandon(call, new FloeError('QUEUE_TIMEOUT', `no seat of ${feature} within ${body.waitMs} ms`)),
          body.waitMs + this.#options.replyTimeoutMs,
        );
      }
      this.#dispatcher.start(call);
    });
  }

  /**
   * Gives back a lease (or the lease with this id). Idempotent: re-sent with
   * the same requestId across reconnects. Resolves also when the lease ends
   * otherwise meanwhile (revoked, or the session was lost). Rejects with
   * LEASE_NOT_FOUND when the server knows no such lease, or CLOSED,
   * PENDING_LIMIT_REACHED, RETRIES_EXHAUSTED.
   */
  checkin(lease: Lease | string): Promise<void> {
    const leaseId = typeof lease === 'string' ? lease : lease.leaseId;
    if (this.#closed || (this.#closing !== undefined && !this.#checkinAllowedWhileClosing)) {
      return Promise.reject(new FloeError('CLOSED', 'the client is closed'));
    }
    for (const call of this.#calls.values()) {
      if (call.kind === 'checkin' && call.leaseId === leaseId && !call.internal) return call.promise;
    }
    if (this.#calls.userCallCount() >= this.#options.pendingRequestsMax) {
      return Promise.reject(new FloeError('PENDING_LIMIT_REACHED', `${this.#options.pendingRequestsMax} calls are already pending`));
    }
    return this.#dispatcher.startCheckin(leaseId, false).promise;
  }

  /**
   * Borrows one seat of `feature` for `options.hours`: the seat is this
   * application's until `expiresAt` with no heartbeat and no network. Resolves
   * with a BorrowedSeat to store (its token is signed by the cluster and
   * bound to this machine; checkBorrowedSeat() verifies it offline at the
   * next start). Survives reconnects and failovers like a checkout (the same
   * requestId gets the first answer). Rejects with a FloeError:
   * BORROW_NOT_ALLOWED, BORROW_TOO_LONG, BORROW_LIMIT_REACHED, NO_SEATS,
   * POLICY_EXCLUDED, POLICY_MAX, UNKNOWN_FEATURE, … from the server;
   * BAD_REQUEST, CLOSED, PENDING_LIMIT_REACHED, RETRIES_EXHAUSTED from the SDK.
   */
  async borrow(feature: string, options: BorrowOptions): Promise<BorrowedSeat> {
    const fingerprint = options.fingerprint ?? machineFingerprint();
    const parsed = borrowRequestSchema.safeParse({
      id: 0,
      type: 'borrow',
      requestId: randomUUID(),
      feature,
      hours: options.hours,
      fingerprint,
      ...(options.version !== undefined ? { version: options.version } : {}),
    });
    if (!parsed.success) throw new FloeError('BAD_REQUEST', `invalid borrow: ${parsed.error.message}`);
    const { id: _id, requestId: _requestId, ...body } = parsed.data;
    const reply = borrowReplySchema.safeParse(await this.#request(body));
    if (!reply.success) throw new FloeError('PROTOCOL_ERROR', 'malformed borrow reply', { cause: reply.error });
    const lent = reply.data;
    return {
      leaseId: lent.leaseId,
      feature: lent.feature || feature,
      version: lent.version ?? '',
      count: lent.count ?? 1,
      borrowedAt: lent.borrowedAt,
      expiresAt: lent.expiresAt,
      fingerprint,
      token: lent.token,
      publicKey: lent.publicKey,
    };
  }

  /**
   * Gives a borrowed seat back before its end (from any server; the token
   * proves the borrow, and it must be this client's). Delete the stored
   * token once this resolves: the seat is back in the pool. Rejects with
   * LEASE_NOT_FOUND (already ended or returned, or not this client's),
   * BORROW_TOKEN_SIGNATURE_INVALID, … as a FloeError.
   */
  async returnBorrowed(seat: Pick<BorrowedSeat, 'token'> | string): Promise<void> {
    const token = typeof seat === 'string' ? seat : seat.token;
    await this.#request({ type: 'return', token });
  }

  /** Sends an idempotent request, re-sent with the same requestId until it has a final answer. */
  #request(body: RequestCall['body']): Promise<Readonly<Record<string, unknown>>> {
    if (this.#closed || this.#closing !== undefined) return Promise.reject(new FloeError('CLOSED', 'the client is closed'));
    if (this.#calls.userCallCount() >= this.#options.pendingRequestsMax) {
      return Promise.reject(new FloeError('PENDING_LIMIT_REACHED', `${this.#options.pendingRequestsMax} calls are already pending`));
    }
    return new Promise((resolve, reject) => {
      const call: RequestCall = { kind: 'request', callId: this.#calls.nextCallId(), frameId: undefined, sends: 0, retryTimer: undefined, requestId: randomUUID(), body, resolve, reject };
      this.#dispatcher.start(call);
    });
  }

  /**
   * The server's status reply (informational; its fields are the server's).
   * Not retried: rejects with UNAVAILABLE when not connected or the socket drops.
   */
  status(): Promise<Readonly<Record<string, unknown>>> {
    const conn = this.#conn;
    if (this.#closed) return Promise.reject(new FloeError('CLOSED', 'the client is closed'));
    if (conn === undefined) return Promise.reject(new FloeError('UNAVAILABLE', 'not connected'));
    if (this.#calls.statusCount >= this.#options.pendingRequestsMax) {
      return Promise.reject(new FloeError('PENDING_LIMIT_REACHED', 'too many status requests pending'));
    }
    return new Promise((resolve, reject) => {
      const waiter: StatusWaiter = { kind: 'status', resolve, reject };
      this.#calls.addStatus(waiter);
      const frameId = conn.send({ type: 'status' });
      this.#calls.trackFrame(frameId, waiter);
    });
  }

  /**
   * Closes the client: stops every timer, closes the socket, rejects every
   * pending call with CLOSED. It checks in nothing unless `checkin` is true:
   * the leases stay held on the server until `leaseTtlMs` passes without a
   * heartbeat (the protocol has no "end session" request). Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#closeGracefully(options.checkin ?? false);
    return this.#closing;
  }

  #checkinAllowedWhileClosing = false;

  async #closeGracefully(checkinAll: boolean): Promise<void> {
    if (checkinAll && this.#conn !== undefined && this.#leases.size > 0) {
      this.#checkinAllowedWhileClosing = true;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#options.closeTimeoutMs);
      });
      const checkins = [...this.#leases.keys()].map((id) => this.checkin(id).catch(() => undefined));
      await Promise.race([Promise.all(checkins), deadline]);
      clearTimeout(timer);
      this.#checkinAllowedWhileClosing = false;
    }
    await this.#shutdown(undefined, false);
  }

  /** Ends everything; `error` says why when it was not close(). */
  async #shutdown(error: FloeError | undefined, emitError: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing ??= Promise.resolve();
    if (error !== undefined && emitError) this.#emitError(error);
    this.#heartbeat.stop();
    this.#moves.stop();
    this.#dialer.interrupt();
    const closedError = new FloeError('CLOSED', 'the client is closed', error !== undefined ? { cause: error } : undefined);
    for (const call of [...this.#calls.values()]) this.#dispatcher.fail(call, closedError);
    this.#calls.rejectStatus(closedError);
    this.#calls.forgetFrames();
    const conn = this.#conn;
    if (conn !== undefined) {
      this.#conn = undefined;
      this.#dialer.discard(conn, 'client closed');
      this.emit('disconnected', { server: conn.url, code: 1000, reason: 'client closed', willReconnect: false });
    }
    await this.#dialer.drain();
    this.emit('closed', { error });
  }

  // ---- the session's lifecycle ------------------------------------------

  #onSessionReady(conn: Connection, hello: HelloReplyFrame): void {
    const resumed = hello.resumed ?? (this.#sessionId !== undefined && hello.sessionId === this.#sessionId);
    const revoked = settleSession({ everConnected: this.#everConnected, resumed, listed: hello.leases, revoked: hello.revoked }, this.#leases, this.#calls);
    this.#everConnected = true;
    this.#conn = conn;
    // A new session comes with its secret (resuming it needs it); a resumed one keeps the one it had.
    if (!resumed || hello.sessionId !== this.#sessionId) this.#sessionSecret = hello.sessionSecret;
    this.#sessionId = hello.sessionId;
    this.#heartbeatMs = Math.min(Math.max(hello.heartbeatMs, HEARTBEAT_MS_MIN), HEARTBEAT_MS_MAX);
    this.#leaseTtlMs = hello.leaseTtlMs;
    this.#servers.settleOn(conn.url, hello.servers);
    this.#heartbeat.start(this.#heartbeatMs);
    for (const event of revoked) this.emit('revoked', event);
    this.emit('connected', { server: conn.url, sessionId: hello.sessionId, resumed });
    for (const call of [...this.#calls.values()]) this.#dispatcher.send(call);
    // A new session moves at once; one resumed after a failover waits its turn (spread over a heartbeat interval).
    this.#moves.hint(hello.leader, !resumed);
  }

  #onReply(conn: Connection, frame: ReplyFrame): void {
    if (conn !== this.#conn) return;
    this.#dispatcher.onReply(frame);
    this.#moves.afterReply();
  }

  #onPush(push: PushFrame): void {
    if (push.type === 'leader') this.#moves.hint(push.leader, false);
    else this.#dispatcher.onPush(push);
  }

  /**
   * A move to the leader (leader-moves.ts) is complete: `conn` carries the
   * session from now on; the old connection had nothing in flight unless
   * `forced` (its frames are then re-sent here with their requestIds).
   */
  #switchTo(conn: Connection, hello: HelloReplyFrame, forced: boolean): void {
    const old = this.#conn;
    if (forced) {
      this.#calls.forgetFrames();
      this.#calls.rejectStatus(new FloeError('UNAVAILABLE', `connection to ${old?.url ?? 'the server'} given up for the leader's`));
    }
    this.#conn = conn;
    if (old !== undefined && old !== conn) {
      this.#dialer.discard(old, 'session moved to the leader');
    }
    this.#heartbeatMs = Math.min(Math.max(hello.heartbeatMs, HEARTBEAT_MS_MIN), HEARTBEAT_MS_MAX);
    this.#leaseTtlMs = hello.leaseTtlMs;
    this.#servers.settleOn(conn.url, hello.servers);
    this.#heartbeat.start(this.#heartbeatMs);
    this.emit('moved', { from: old?.url ?? '', to: conn.url, sessionId: hello.sessionId });
    for (const call of [...this.#calls.values()]) {
      // A queued checkout is asked again on the leader (a grant may have slipped between the two sockets): not a retry.
      if (call.kind === 'checkout' && call.queued && call.frameId === undefined && call.retryTimer === undefined) call.sendsMoved += 1;
      this.#dispatcher.send(call);
    }
  }

  /** `nextServer`: the URL to reconnect to first; default the one after `conn`'s in the list. */
  #onConnectionLost(conn: Connection, code: number, reason: string, nextServer?: string): void {
    const move = this.#moves.onConnectionLost(conn);
    if (move.handled || conn !== this.#conn) return;
    nextServer ??= move.failoverTo;
    this.#conn = undefined;
    this.#heartbeat.stop();
    this.#calls.forgetFrames();
    this.#calls.rejectStatus(new FloeError('UNAVAILABLE', `connection to ${conn.url} lost`));
    const willReconnect = !this.#closed;
    this.emit('disconnected', { server: conn.url, code, reason, willReconnect });
    if (!this.#closed && this.#conn === undefined) {
      this.#servers.moveAfterLoss(nextServer);
      this.#reconnect();
    }
  }

  /** Leaves the current server (dead, unavailable or confused) for `nextServer`, default the next one. */
  #dropConnection(reason: string, nextServer?: string): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    this.#dialer.discard(conn, reason);
    this.#onConnectionLost(conn, 1000, reason, nextServer);
  }

  #reconnect(): void {
    if (this.#reconnecting || this.#closed) return;
    this.#reconnecting = true;
    this.#dialer.connect().then(
      () => {
        this.#reconnecting = false;
      },
      (err: unknown) => {
        this.#reconnecting = false;
        if (!this.#closed) this.#closing = this.#shutdown(toFloeError(err), true);
      },
    );
  }

  #emitError(error: FloeError): void {
    // An 'error' event nobody listens to would throw: the same failure also
    // reaches the affected calls' promises and the 'closed' event.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** Connects to a Floe cluster; see FloeClient.connect. */
export function connect(options: ConnectOptions): Promise<FloeClient> {
  return FloeClient.connect(options);
}

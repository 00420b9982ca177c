// The SDK's heart: one logical session with the cluster that outlives any
// number of sockets. It keeps the session alive by heartbeat, fails over to
// another server when one dies or answers UNAVAILABLE, resumes the session
// there, and re-sends every call that has no final answer yet with the same
// requestId, so the server's idempotency memory turns a retry into the first
// answer instead of a second seat.
//
// Invariant: every call in #calls has at most one frame in flight, on the
// current connection (call.frameId), and #frames maps exactly those ids.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { checkoutRequestSchema, PROTOCOL_VERSION, type CheckoutRequest, type WireError } from '../protocol/wire.ts';
import { backoffDelayMs } from './backoff.ts';
import type { FloeClientEvents, Lease } from './client-events.ts';
import { HEARTBEAT_MS_MAX, HEARTBEAT_MS_MIN, resolveOptions, type ConnectOptions, type ResolvedOptions } from './client-options.ts';
import { Connection, type ConnectionHandlers } from './connection.ts';
import { FloeError } from './floe-error.ts';
import {
  checkoutReplySchema,
  heartbeatReplySchema,
  helloReplySchema,
  type HelloReplyFrame,
  type LeaseInfoFrame,
  type PushFrame,
  type ReplyFrame,
} from './server-frames.ts';

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

/** Options of `close()`. */
export interface CloseOptions {
  /** Check in every held lease first (waiting at most `closeTimeoutMs`). Default false. */
  readonly checkin?: boolean;
}

/** Hello answers after which retrying elsewhere cannot help. */
const HELLO_FATAL_CODES: ReadonlySet<string> = new Set(['UNSUPPORTED_PROTOCOL', 'BAD_REQUEST', 'UNAUTHORIZED', 'NOT_AUTHORIZED_USER']);

/**
 * Checkout answers that say "this server may not serve the feature, another
 * may" (docs/protocol.md): the checkout moves, with its session, to a server
 * of the list it has not tried yet.
 */
const ANOTHER_SERVER_CODES: ReadonlySet<string> = new Set(['LICENSE_NOT_FOR_THIS_SERVER', 'LICENSE_QUORUM_LOST']);

interface CallBase {
  readonly callId: number;
  /** Id of this call's frame on the current connection; undefined when none is in flight. */
  frameId: number | undefined;
  /** Frames sent for this call so far, across connections. */
  sends: number;
  /** Pending re-send after RATE_LIMITED. */
  retryTimer: NodeJS.Timeout | undefined;
}

interface CheckoutCall extends CallBase {
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
   * this checkout only to a server not in it, so it moves at most
   * `servers.length - 1` times and then rejects.
   */
  readonly serversTried: Set<string>;
  resolve(lease: Lease): void;
  reject(error: FloeError): void;
  /** Removes the abort listener and the wait guard. */
  cleanup(): void;
}

interface CheckinCall extends CallBase {
  readonly kind: 'checkin';
  readonly requestId: string;
  readonly leaseId: string;
  /** Started by the SDK itself (undoing an unwanted grant); its outcome reaches no caller. */
  readonly internal: boolean;
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: FloeError): void;
}

interface CancelCall extends CallBase {
  readonly kind: 'cancel';
  readonly target: CheckoutCall;
}

type Call = CheckoutCall | CheckinCall | CancelCall;

interface StatusWaiter {
  readonly kind: 'status';
  resolve(value: Readonly<Record<string, unknown>>): void;
  reject(error: FloeError): void;
}

interface FrameEntry {
  readonly target: Call | StatusWaiter | 'heartbeat';
  readonly sentAtMs: number;
}

interface HelloWaiter {
  readonly conn: Connection;
  readonly frameId: number;
  onReply(frame: ReplyFrame): void;
  fail(error: FloeError): void;
}

/** A client of a Floe cluster. Make one with `connect()`. */
export class FloeClient extends EventEmitter<FloeClientEvents> {
  /** The stable identity this client states in hello (the idempotency key's first half). */
  readonly clientId: string;
  readonly #options: ResolvedOptions;
  readonly #servers: string[];
  #serverIndex = 0;
  /** Consecutive connection attempts that did not prove useful; reset by a heartbeat or final answer. */
  #attempts = 0;
  #lastError: unknown;
  #conn: Connection | undefined;
  #helloWaiter: HelloWaiter | undefined;
  #reconnecting = false;
  #sleep: { timer: NodeJS.Timeout; resolve(): void } | undefined;
  #opening = new Set<Promise<unknown>>();
  #closingSockets = new Set<Promise<void>>();
  #sessionId: string | undefined;
  #everConnected = false;
  #heartbeatMs: number | undefined;
  #leaseTtlMs: number | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeatFrameId: number | undefined;
  readonly #frames = new Map<number, FrameEntry>();
  readonly #calls = new Map<number, Call>();
  #callIdLast = 0;
  readonly #leases = new Map<string, Lease>();
  readonly #statusWaiters = new Set<StatusWaiter>();
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(options: ResolvedOptions) {
    super();
    this.#options = options;
    this.clientId = options.clientId;
    this.#servers = [...options.servers];
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
      await client.#connectLoop();
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

  /** Every server URL the client may fail over to (given, then learnt from hello replies). */
  get servers(): readonly string[] {
    return [...this.#servers];
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
    if (this.#userCallCount() >= this.#options.pendingRequestsMax) {
      return Promise.reject(new FloeError('PENDING_LIMIT_REACHED', `${this.#options.pendingRequestsMax} calls are already pending`));
    }
    const { id: _id, type: _type, requestId: _requestId, ...body } = parsed.data;
    return new Promise<Lease>((resolve, reject) => {
      const signal = options.signal;
      let waitGuard: NodeJS.Timeout | undefined;
      const onAbort = () => this.#abandon(call, new FloeError('ABORTED', `checkout of ${feature} aborted`));
      const call: CheckoutCall = {
        kind: 'checkout',
        callId: this.#nextCallId(),
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
          () => this.#abandon(call, new FloeError('QUEUE_TIMEOUT', `no seat of ${feature} within ${body.waitMs} ms`)),
          body.waitMs + this.#options.replyTimeoutMs,
        );
      }
      this.#calls.set(call.callId, call);
      this.#sendCall(call);
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
    if (this.#userCallCount() >= this.#options.pendingRequestsMax) {
      return Promise.reject(new FloeError('PENDING_LIMIT_REACHED', `${this.#options.pendingRequestsMax} calls are already pending`));
    }
    return this.#startCheckin(leaseId, false).promise;
  }

  /**
   * The server's status reply (informational; its fields are the server's).
   * Not retried: rejects with UNAVAILABLE when not connected or the socket drops.
   */
  status(): Promise<Readonly<Record<string, unknown>>> {
    const conn = this.#conn;
    if (this.#closed) return Promise.reject(new FloeError('CLOSED', 'the client is closed'));
    if (conn === undefined) return Promise.reject(new FloeError('UNAVAILABLE', 'not connected'));
    if (this.#statusWaiters.size >= this.#options.pendingRequestsMax) {
      return Promise.reject(new FloeError('PENDING_LIMIT_REACHED', 'too many status requests pending'));
    }
    return new Promise((resolve, reject) => {
      const waiter: StatusWaiter = { kind: 'status', resolve, reject };
      this.#statusWaiters.add(waiter);
      const frameId = conn.send({ type: 'status' });
      this.#frames.set(frameId, { target: waiter, sentAtMs: Date.now() });
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
    this.#stopHeartbeat();
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
      this.#sleep = undefined;
    }
    this.#helloWaiter?.fail(new FloeError('CLOSED', 'the client is closed'));
    const closedError = new FloeError('CLOSED', 'the client is closed', error !== undefined ? { cause: error } : undefined);
    for (const call of [...this.#calls.values()]) this.#failCall(call, closedError);
    for (const waiter of this.#statusWaiters) waiter.reject(closedError);
    this.#statusWaiters.clear();
    this.#frames.clear();
    const conn = this.#conn;
    if (conn !== undefined) {
      this.#conn = undefined;
      conn.detach();
      this.#trackClosing(conn.close(1000, 'client closed'));
      this.emit('disconnected', { server: conn.url, code: 1000, reason: 'client closed', willReconnect: false });
    }
    await Promise.allSettled([...this.#opening]);
    await Promise.allSettled([...this.#closingSockets]);
    this.emit('closed', { error });
  }

  // ---- connecting -------------------------------------------------------

  /** Tries servers in turn until a session is open; throws when attempts run out or a hello is refused for good. */
  async #connectLoop(): Promise<void> {
    while (!this.#closed) {
      if (this.#attempts >= this.#options.reconnectAttemptsMax) {
        throw new FloeError('SERVERS_UNREACHABLE', `no server answered in ${this.#attempts} attempts`, { cause: this.#lastError });
      }
      if (this.#attempts > 0) await this.#sleepMs(backoffDelayMs(this.#attempts - 1, this.#options, this.#options.random));
      if (this.#closed) break;
      this.#attempts += 1;
      const url = this.#servers[this.#serverIndex % this.#servers.length];
      if (url === undefined) throw new Error('assertion: the server list is never empty');
      try {
        await this.#tryServer(url);
        return;
      } catch (err) {
        const error = toFloeError(err);
        if (HELLO_FATAL_CODES.has(error.code) || error.code === 'CLOSED') throw error;
        this.#lastError = error;
        this.#serverIndex = (this.#serverIndex + 1) % this.#servers.length;
      }
    }
    throw new FloeError('CLOSED', 'the client is closed');
  }

  #sleepMs(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = undefined;
        resolve();
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  /** Opens a socket to `url` and says hello; resolves once the session is ready there. */
  #tryServer(url: string): Promise<void> {
    const box: { conn: Connection | undefined } = { conn: undefined };
    const opening = Connection.open(url, this.#options.connectTimeoutMs, this.#handlersFor(box));
    this.#opening.add(opening);
    void opening.finally(() => this.#opening.delete(opening)).catch(() => undefined);
    return opening.then(
      (conn) =>
        new Promise<void>((resolve, reject) => {
          box.conn = conn;
          if (this.#closed) {
            conn.detach();
            this.#trackClosing(conn.close(1000, 'client closed'));
            reject(new FloeError('CLOSED', 'the client is closed'));
            return;
          }
          let timer: NodeJS.Timeout | undefined;
          const fail = (error: FloeError) => {
            clearTimeout(timer);
            if (this.#helloWaiter?.conn === conn) this.#helloWaiter = undefined;
            conn.detach();
            this.#trackClosing(conn.close(1000, 'hello failed'));
            reject(error);
          };
          const sendHello = () => {
            const frameId = conn.send({
              type: 'hello',
              protocol: PROTOCOL_VERSION,
              clientId: this.clientId,
              user: this.#options.user,
              host: this.#options.host,
              app: this.#options.app,
              ...(this.#sessionId !== undefined ? { sessionId: this.#sessionId } : {}),
            });
            clearTimeout(timer);
            timer = setTimeout(
              () => fail(new FloeError('UNAVAILABLE', `${url} did not answer hello within ${this.#options.replyTimeoutMs} ms`)),
              this.#options.replyTimeoutMs,
            );
            this.#helloWaiter = {
              conn,
              frameId,
              fail,
              // Runs synchronously inside the socket's message event, so pushes
              // that follow the reply in the same chunk already see the session.
              onReply: (frame) => {
                clearTimeout(timer);
                this.#helloWaiter = undefined;
                if (!frame.ok) {
                  if (frame.error.code === 'SESSION_NOT_FOUND' && this.#sessionId !== undefined) {
                    this.#sessionId = undefined; // gone for good: open a new one, below
                    sendHello();
                    return;
                  }
                  fail(new FloeError(frame.error.code, frame.error.message));
                  return;
                }
                const hello = helloReplySchema.safeParse(frame);
                if (!hello.success) {
                  fail(new FloeError('PROTOCOL_ERROR', `${url} sent a malformed hello reply`, { cause: hello.error }));
                  return;
                }
                this.#onSessionReady(conn, hello.data);
                resolve();
              },
            };
          };
          sendHello();
        }),
    );
  }

  #handlersFor(box: { conn: Connection | undefined }): ConnectionHandlers {
    return {
      onReply: (frame) => {
        const waiter = this.#helloWaiter;
        if (waiter !== undefined && waiter.conn === box.conn && waiter.frameId === frame.id) waiter.onReply(frame);
        else if (box.conn !== undefined && box.conn === this.#conn) this.#onReply(frame);
      },
      onPush: (frame) => {
        if (box.conn !== undefined && box.conn === this.#conn) this.#onPush(frame);
      },
      onClose: (code, reason) => {
        const waiter = this.#helloWaiter;
        if (waiter !== undefined && waiter.conn === box.conn) waiter.fail(new FloeError('UNAVAILABLE', `${waiter.conn.url} closed (${code}) during hello`));
        else if (box.conn !== undefined && box.conn === this.#conn) this.#onConnectionLost(box.conn, code, reason);
      },
      onProtocolError: (error) => {
        this.#emitError(error);
        if (box.conn !== undefined && box.conn === this.#conn) this.#dropConnection(error.message);
        else this.#helloWaiter?.fail(error);
      },
    };
  }

  #onSessionReady(conn: Connection, hello: HelloReplyFrame): void {
    const resumed = hello.resumed ?? (this.#sessionId !== undefined && hello.sessionId === this.#sessionId);
    const revoked: FloeClientEvents['revoked'][0][] = [];
    if (this.#everConnected && !resumed) revoked.push(...this.#forgetLostSession());
    else if (resumed && hello.leases !== undefined) revoked.push(...this.#reconcileLeases(hello.leases));
    this.#everConnected = true;
    this.#conn = conn;
    this.#sessionId = hello.sessionId;
    this.#heartbeatMs = Math.min(Math.max(hello.heartbeatMs, HEARTBEAT_MS_MIN), HEARTBEAT_MS_MAX);
    this.#leaseTtlMs = hello.leaseTtlMs;
    for (const url of hello.servers) {
      if (this.#servers.length >= this.#options.serversMax) break;
      if (/^wss?:\/\/./.test(url) && !this.#servers.includes(url)) this.#servers.push(url);
    }
    this.#serverIndex = Math.max(this.#servers.indexOf(conn.url), 0);
    this.#startHeartbeat();
    for (const event of revoked) this.emit('revoked', event);
    this.emit('connected', { server: conn.url, sessionId: hello.sessionId, resumed });
    for (const call of [...this.#calls.values()]) this.#sendCall(call);
  }

  /** The server no longer has our session: its leases and queue places are gone, and so is the meaning of its requestIds. */
  #forgetLostSession(): FloeClientEvents['revoked'][0][] {
    const revoked = [...this.#leases.values()].map((lease) => ({
      leaseId: lease.leaseId,
      lease,
      feature: lease.feature,
      code: 'SESSION_LOST',
      reason: 'the session ended on the server (not renewed in time); its leases were released',
    }));
    this.#leases.clear();
    for (const call of [...this.#calls.values()]) {
      if (call.kind === 'checkout' && !call.abandoned) {
        // Whatever the old requestId got was released with the old session, so
        // a fresh id cannot take a second seat, and the old one would only
        // replay an answer that no longer holds.
        call.requestId = randomUUID();
        call.queued = false;
      } else if (call.kind === 'checkin') {
        this.#removeCall(call);
        call.resolve();
      } else {
        this.#removeCall(call);
      }
    }
    return revoked;
  }

  /** A resumed session lists its leases: adopt their deadlines; a lease it no longer lists is gone. */
  #reconcileLeases(listed: readonly LeaseInfoFrame[]): FloeClientEvents['revoked'][0][] {
    const byId = new Map(listed.map((l) => [l.leaseId, l]));
    const revoked: FloeClientEvents['revoked'][0][] = [];
    for (const [leaseId, lease] of [...this.#leases]) {
      const info = byId.get(leaseId);
      if (info !== undefined) {
        this.#leases.set(leaseId, { ...lease, expiresAt: info.expiresAt });
        continue;
      }
      this.#leases.delete(leaseId);
      if (this.#pendingCheckin(leaseId) !== undefined) continue; // checked in while we were away
      revoked.push({
        leaseId,
        lease,
        feature: lease.feature,
        code: 'LEASE_LOST',
        reason: 'the resumed session no longer holds this lease (it ended while the client was away)',
      });
    }
    return revoked;
  }

  /** `nextServer`: the URL to reconnect to first; default the one after `conn`'s in the list. */
  #onConnectionLost(conn: Connection, code: number, reason: string, nextServer?: string): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    this.#stopHeartbeat();
    this.#frames.clear();
    for (const call of this.#calls.values()) call.frameId = undefined;
    for (const waiter of this.#statusWaiters) waiter.reject(new FloeError('UNAVAILABLE', `connection to ${conn.url} lost`));
    this.#statusWaiters.clear();
    const willReconnect = !this.#closed;
    this.emit('disconnected', { server: conn.url, code, reason, willReconnect });
    if (!this.#closed && this.#conn === undefined) {
      const nextIndex = nextServer !== undefined ? this.#servers.indexOf(nextServer) : -1;
      this.#serverIndex = nextIndex >= 0 ? nextIndex : (this.#serverIndex + 1) % this.#servers.length;
      this.#reconnect();
    }
  }

  /** Leaves the current server (dead, unavailable or confused) for `nextServer`, default the next one. */
  #dropConnection(reason: string, nextServer?: string): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    conn.detach();
    this.#trackClosing(conn.close(1000, reason));
    this.#onConnectionLost(conn, 1000, reason, nextServer);
  }

  #reconnect(): void {
    if (this.#reconnecting || this.#closed) return;
    this.#reconnecting = true;
    this.#connectLoop().then(
      () => {
        this.#reconnecting = false;
      },
      (err: unknown) => {
        this.#reconnecting = false;
        if (!this.#closed) this.#closing = this.#shutdown(toFloeError(err), true);
      },
    );
  }

  #trackClosing(closing: Promise<void>): void {
    this.#closingSockets.add(closing);
    void closing.finally(() => this.#closingSockets.delete(closing));
  }

  // ---- heartbeat --------------------------------------------------------

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    if (this.#heartbeatMs === undefined) return;
    this.#heartbeatTimer = setInterval(() => this.#heartbeatTick(), this.#heartbeatMs);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#heartbeatFrameId = undefined;
  }

  #heartbeatTick(): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    const nowMs = Date.now();
    for (const entry of this.#frames.values()) {
      if (nowMs - entry.sentAtMs > this.#options.replyTimeoutMs) {
        this.#dropConnection(`no reply within ${this.#options.replyTimeoutMs} ms`);
        return;
      }
    }
    if (this.#heartbeatFrameId !== undefined) return; // one heartbeat in flight at a time
    this.#heartbeatFrameId = conn.send({ type: 'heartbeat' });
    this.#frames.set(this.#heartbeatFrameId, { target: 'heartbeat', sentAtMs: nowMs });
  }

  #onHeartbeatReply(frame: ReplyFrame): void {
    this.#heartbeatFrameId = undefined;
    if (!frame.ok) {
      const code = frame.error.code;
      if (code === 'UNAVAILABLE' || code === 'SESSION_NOT_FOUND' || code === 'HELLO_REQUIRED') this.#dropConnection(`heartbeat: ${code}`);
      else if (code !== 'RATE_LIMITED') this.#emitError(new FloeError(code, `heartbeat refused: ${frame.error.message}`));
      return;
    }
    this.#attempts = 0;
    const reply = heartbeatReplySchema.safeParse(frame);
    const expiresAt = reply.success ? reply.data.expiresAt : undefined;
    if (expiresAt === undefined) return;
    for (const [leaseId, lease] of this.#leases) this.#leases.set(leaseId, { ...lease, expiresAt: Math.max(lease.expiresAt, expiresAt) });
  }

  // ---- calls ------------------------------------------------------------

  #nextCallId(): number {
    this.#callIdLast += 1;
    return this.#callIdLast;
  }

  #userCallCount(): number {
    let n = 0;
    for (const call of this.#calls.values()) if ((call.kind === 'checkout' && !call.abandoned) || (call.kind === 'checkin' && !call.internal)) n += 1;
    return n;
  }

  #pendingCheckin(leaseId: string): CheckinCall | undefined {
    for (const call of this.#calls.values()) if (call.kind === 'checkin' && call.leaseId === leaseId) return call;
    return undefined;
  }

  #pendingCheckout(requestId: string): CheckoutCall | undefined {
    for (const call of this.#calls.values()) if (call.kind === 'checkout' && call.requestId === requestId) return call;
    return undefined;
  }

  #startCheckin(leaseId: string, internal: boolean): CheckinCall {
    let resolve!: () => void;
    let reject!: (error: FloeError) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    if (internal) promise.catch((err: unknown) => this.#emitError(toFloeError(err)));
    const call: CheckinCall = {
      kind: 'checkin',
      callId: this.#nextCallId(),
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
    this.#calls.set(call.callId, call);
    this.#sendCall(call);
    return call;
  }

  /** Sends `call` on the current connection, unless it is already in flight or waiting out a RATE_LIMITED. */
  #sendCall(call: Call): void {
    const conn = this.#conn;
    if (conn === undefined || call.frameId !== undefined || call.retryTimer !== undefined || !this.#calls.has(call.callId)) return;
    if (call.sends >= this.#options.requestSendsMax) {
      this.#failCall(call, new FloeError('RETRIES_EXHAUSTED', `sent ${call.sends} times without a final answer`));
      return;
    }
    call.sends += 1;
    const body =
      call.kind === 'checkout'
        ? { type: 'checkout', requestId: call.requestId, ...call.body }
        : call.kind === 'checkin'
          ? { type: 'checkin', requestId: call.requestId, leaseId: call.leaseId }
          : { type: 'cancel', requestId: call.target.requestId };
    call.frameId = conn.send(body);
    this.#frames.set(call.frameId, { target: call, sentAtMs: Date.now() });
  }

  #removeCall(call: Call): void {
    this.#calls.delete(call.callId);
    clearTimeout(call.retryTimer);
    call.retryTimer = undefined;
    if (call.frameId !== undefined) this.#frames.delete(call.frameId);
    call.frameId = undefined;
    if (call.kind === 'checkout') call.cleanup();
  }

  /** Ends `call` with `error` (its caller hears it unless it already gave up). */
  #failCall(call: Call, error: FloeError): void {
    this.#removeCall(call);
    if (call.kind === 'checkout') {
      if (!call.settled) {
        call.settled = true;
        call.reject(error);
      }
    } else if (call.kind === 'checkin') {
      call.reject(error);
    } else if (error.code !== 'CLOSED') {
      this.#removeCall(call.target);
      this.#emitError(new FloeError(error.code, `cancel of a queued checkout failed: ${error.message}`));
    }
  }

  /** The caller gave up on a checkout: reject it now, and undo on the server whatever it did or will do. */
  #abandon(call: CheckoutCall, error: FloeError): void {
    if (call.settled) return;
    call.settled = true;
    call.abandoned = true;
    call.cleanup();
    call.reject(error);
    if (call.sends === 0) this.#removeCall(call);
    else if (call.queued) this.#cancel(call);
    // else: in flight; its answer (grant or queue place) is undone when it arrives.
  }

  #cancel(target: CheckoutCall): void {
    if (target.cancelSent) return;
    target.cancelSent = true;
    const call: CancelCall = { kind: 'cancel', callId: this.#nextCallId(), frameId: undefined, sends: 0, retryTimer: undefined, target };
    this.#calls.set(call.callId, call);
    this.#sendCall(call);
  }

  #onReply(frame: ReplyFrame): void {
    const entry = this.#frames.get(frame.id);
    if (entry === undefined) return; // an answer for a call that already ended
    this.#frames.delete(frame.id);
    const target = entry.target;
    if (target === 'heartbeat') {
      this.#onHeartbeatReply(frame);
      return;
    }
    if (target.kind === 'status') {
      this.#statusWaiters.delete(target);
      if (frame.ok) target.resolve(frame);
      else target.reject(new FloeError(frame.error.code, frame.error.message));
      return;
    }
    const call = target;
    if (call.frameId !== frame.id || !this.#calls.has(call.callId)) return;
    call.frameId = undefined;
    if (!frame.ok) {
      this.#onCallError(call, frame.error);
      return;
    }
    this.#attempts = 0;
    switch (call.kind) {
      case 'checkout': {
        const reply = checkoutReplySchema.safeParse(frame);
        if (!reply.success) {
          this.#failCall(call, new FloeError('PROTOCOL_ERROR', 'malformed checkout reply', { cause: reply.error }));
          return;
        }
        if (reply.data.queued === true) this.#onQueued(call, reply.data.position);
        else this.#onGranted(call, reply.data);
        return;
      }
      case 'checkin':
        this.#removeCall(call);
        this.#leases.delete(call.leaseId);
        call.resolve();
        return;
      case 'cancel':
        this.#removeCall(call);
        this.#removeCall(call.target);
        return;
      default:
        assertNever(call);
    }
  }

  #onCallError(call: Call, error: WireError): void {
    switch (error.code) {
      case 'UNAVAILABLE':
      case 'HELLO_REQUIRED':
      case 'SESSION_NOT_FOUND':
        // The call stays pending; it is re-sent once a session is open elsewhere.
        this.#dropConnection(`${call.kind}: ${error.code}`);
        return;
      case 'RATE_LIMITED':
      case 'INTERNAL':
        // Both say "nothing happened, retry with the same requestId": wait a little, same server.
        call.retryTimer = setTimeout(
          () => {
            call.retryTimer = undefined;
            this.#sendCall(call);
          },
          this.#options.backoffBaseMs + backoffDelayMs(call.sends - 1, this.#options, this.#options.random),
        );
        return;
      default:
    }
    this.#attempts = 0;
    if (call.kind === 'checkout' && !call.abandoned && ANOTHER_SERVER_CODES.has(error.code)) {
      this.#checkoutElsewhere(call, error);
      return;
    }
    const floeError = new FloeError(error.code, error.message);
    if (call.kind === 'checkout') {
      if (call.abandoned) this.#removeCall(call);
      else this.#failCall(call, floeError);
    } else if (call.kind === 'checkin') {
      this.#leases.delete(call.leaseId);
      this.#failCall(call, floeError);
    } else if (error.code === 'QUEUED_REQUEST_NOT_FOUND') {
      // Granted (or timed out) before the cancel: ask the checkout's first answer again; a grant is then checked in.
      this.#removeCall(call);
      call.target.queued = false;
      this.#sendCall(call.target);
    } else {
      this.#failCall(call, floeError);
    }
  }

  /**
   * This server may not serve `call`'s feature (its key names other servers,
   * or too few of them are up): move the session, as failover does, to the
   * next server of the list this checkout has not tried, where the resumed
   * session re-sends it with the same requestId. Every server tried: reject
   * with the last refusal.
   */
  #checkoutElsewhere(call: CheckoutCall, error: WireError): void {
    const here = this.#conn?.url;
    if (here !== undefined) call.serversTried.add(here);
    const start = here !== undefined ? this.#servers.indexOf(here) + 1 : this.#serverIndex;
    let next: string | undefined;
    for (let i = 0; i < this.#servers.length && next === undefined; i++) {
      const url = this.#servers[(start + i) % this.#servers.length];
      if (url !== undefined && !call.serversTried.has(url)) next = url;
    }
    if (next === undefined) {
      this.#failCall(call, new FloeError(error.code, `${error.message} (refused by every server tried: ${[...call.serversTried].join(', ')})`));
      return;
    }
    call.serversTried.add(next);
    this.#dropConnection(`checkout of ${call.body.feature}: ${error.code}; trying ${next}`, next);
  }

  #onQueued(call: CheckoutCall, position: number): void {
    call.queued = true;
    if (call.abandoned) this.#cancel(call);
    else this.emit('queue', { requestId: call.requestId, feature: call.body.feature, position });
  }

  #onGranted(call: CheckoutCall, info: LeaseInfoFrame): void {
    const lease: Lease = {
      leaseId: info.leaseId,
      feature: info.feature ?? call.body.feature,
      version: info.version ?? call.body.version ?? '',
      count: info.count ?? call.body.count,
      expiresAt: info.expiresAt,
      fencingToken: info.fencingToken ?? 0,
      requestId: call.requestId,
    };
    this.#removeCall(call);
    for (const other of this.#calls.values()) if (other.kind === 'cancel' && other.target === call) this.#removeCall(other);
    this.#leases.set(lease.leaseId, lease);
    if (call.abandoned) {
      this.#startCheckin(lease.leaseId, true);
      return;
    }
    call.settled = true;
    this.emit('granted', lease);
    call.resolve(lease);
  }

  #onPush(push: PushFrame): void {
    switch (push.type) {
      case 'granted': {
        const call = this.#pendingCheckout(push.requestId);
        if (call !== undefined) this.#onGranted(call, push);
        else if (!this.#leases.has(push.leaseId)) {
          // Nobody waits for this grant (an answer to a request we no longer
          // track): give the seat back rather than hold it unseen.
          this.#leases.set(push.leaseId, {
            leaseId: push.leaseId,
            feature: push.feature ?? '',
            version: push.version ?? '',
            count: push.count ?? 1,
            expiresAt: push.expiresAt,
            fencingToken: push.fencingToken ?? 0,
            requestId: push.requestId,
          });
          this.#startCheckin(push.leaseId, true);
        }
        return;
      }
      case 'queue': {
        const call = this.#pendingCheckout(push.requestId);
        if (call !== undefined && !call.abandoned) {
          call.queued = true;
          this.emit('queue', { requestId: push.requestId, feature: push.feature || call.body.feature, position: push.position });
        }
        return;
      }
      case 'queue-timeout': {
        const call = this.#pendingCheckout(push.requestId);
        if (call === undefined) return;
        if (call.abandoned) {
          this.#removeCall(call);
          for (const other of [...this.#calls.values()]) if (other.kind === 'cancel' && other.target === call) this.#removeCall(other);
        } else {
          this.#failCall(call, new FloeError(push.error.code, push.error.message));
        }
        return;
      }
      case 'revoked': {
        const lease = this.#leases.get(push.leaseId);
        this.#leases.delete(push.leaseId);
        const checkin = this.#pendingCheckin(push.leaseId);
        if (checkin !== undefined) {
          // The seat is back in the pool either way: that is what the checkin wanted.
          this.#removeCall(checkin);
          checkin.resolve();
          return;
        }
        this.emit('revoked', {
          leaseId: push.leaseId,
          lease,
          feature: push.feature || (lease?.feature ?? ''),
          code: push.code,
          reason: push.reason,
        });
        return;
      }
      default:
        assertNever(push);
    }
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

function toFloeError(err: unknown): FloeError {
  return err instanceof FloeError ? err : new FloeError('INTERNAL', String(err), { cause: err });
}

function assertNever(value: never): never {
  throw new Error(`assertion: unexpected ${JSON.stringify(value)}`);
}

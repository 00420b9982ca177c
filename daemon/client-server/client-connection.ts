// One client's WebSocket: rates each frame before reading it (a frame over
// the rate limit is answered RATE_LIMITED unparsed, and a connection that
// keeps exceeding it is closed, 1008), queues the admitted ones for the
// server's FrameScheduler (a bounded batch per event-loop turn), validates
// each (parse-client-frame.ts), enforces hello-first, turns requests into
// pool commands on the node, and answers each with its `id`. Every refusal
// is an error code of protocol/wire.ts; a refused frame changes nothing.
// Its deadlines (hello, idle) are checked by the server's sweep.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  leadingFrameId,
  parseClientFrame,
  PROTOCOL_VERSION,
  type CheckinRequest,
  type CheckoutRequest,
  type ClientRequest,
  type HelloRequest,
  type BorrowReply,
  type CheckoutReply,
  type HeartbeatReply,
  type HelloReply,
  type LeaseInfo,
  type ReturnReply,
  type RevokedLease,
  type ServerPush,
  type StatusReply,
  type WireErrorCode,
  TokenBucket,
} from '../../protocol/index.ts';
import { ProposalError } from '../raft-driver/index.ts';
import { LicenseRefusalError, type FloeNode } from '../node/index.ts';
import type { ApplyResult, LeaseGrant, LeaseView } from '../pool/index.ts';
import type { AddressSlot } from './address-slots.ts';
import type { FrameScheduler, FrameWork } from './frame-scheduler.ts';
import { newSessionSecret, sessionSecretMatches } from './session-secret.ts';

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly node: FloeNode;
  /** `ms`: lease ttl given to checkouts and told in hello. */
  readonly leaseTtlMs: number;
  /** `ms`: heartbeat interval told in hello. */
  readonly heartbeatMs: number;
  /** `ms`: queue wait of a checkout that gives none. */
  readonly queueWaitMsDefault: number;
  /** `ms`: the longest queue wait a checkout may ask. */
  readonly queueWaitMsMax: number;
  /** Checkouts one session may have queued at once. */
  readonly queuedPerSessionMax: number;
  readonly requestsPerSecond: number;
  readonly requestBurst: number;
  /** Frames over the rate limit a connection may send (answered RATE_LIMITED) before it is closed with 1008; forgiven at a quarter of the rate. */
  readonly overLimitFramesMax: number;
  /** Bytes of replies and pushes the client has not read yet, at most; a slower reader is disconnected. */
  readonly unreadReplyBytesMax: number;
  /** Runs admitted frames, a bounded batch per event-loop turn. */
  readonly scheduler: FrameScheduler;
  /** `ms` of a monotonic clock (performance.now), for deadlines. */
  now(): number;
  /** The server closed a connection from `address`, for `reason` (RATE_LIMITED, SLOW_READER, HELLO_TIMEOUT, IDLE_TIMEOUT, INTERNAL, SESSION_MOVED). */
  closed(reason: string, address: string): void;
  /** Client URLs of every node, told in hello. */
  servers(): readonly string[];
  /** The leader's client URL (one of servers()), told in hello; undefined when unknown. */
  leader(): string | undefined;
  /** Operational log (errors that are the server's fault). */
  log(line: string): void;
  /** The session's leases that ended lately, and why (told when it resumes). */
  recentRevocations(sessionId: string): readonly RevokedLease[];
  /** Binds a session to this connection (pushes for it come here). */
  bindSession(sessionId: string, connection: ClientConnection): void;
  unbindSession(sessionId: string, connection: ClientConnection): void;
}

/** WebSocket close code when a handler failed on a frame (RFC 6455: internal error). */
export const CLOSE_INTERNAL_ERROR = 1011;

/** Bytes of a frame quoted in the log when its handler failed. */
const LOGGED_FRAME_BYTES_MAX = 64;

/** WebSocket close code of a policy violation (RFC 6455): flooding, no hello in time. */
export const CLOSE_POLICY_VIOLATION = 1008;

/** `ms` a connection closed by the server may take to finish the closing handshake before it is cut. */
const CLOSE_HANDSHAKE_MS = 1_000;


/** An admitted frame waiting for the scheduler. */
interface InboxFrame {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

class RequestError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function leaseInfo(l: LeaseGrant | LeaseView): LeaseInfo {
  return {
    leaseId: l.leaseId,
    feature: l.feature,
    version: l.version,
    count: l.count,
    expiresAt: l.expiresAt,
    fencingToken: l.fencingToken,
  };
}

/** One client connection. */
export class ClientConnection implements FrameWork {
  private sessionId: string | undefined;
  /** The clientId the hello that bound sessionId stated (set with it). */
  private clientId: string | undefined;
  private helloPending = false;
  private readonly bucket: TokenBucket;
  /** Frames over the rate limit this connection may still send before it is closed. */
  private readonly overLimit: TokenBucket;
  /**
   * Admitted frames not yet handled, oldest first; at most requestBurst (a
   * frame beyond is over the limit). The socket is never paused: a client's
   * offered rate is what the limit judges, so a flooder is found out and
   * closed instead of being read at the server's pace.
   */
  private inbox: InboxFrame[] = [];
  /** Set once the server decided to close: later frames are dropped unread. */
  private closing = false;
  /** `ms` (ctx.now()) of the connection's start, and of its latest frame. */
  private readonly openedAtMs: number;
  private lastFrameAtMs: number;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: ConnectionContext,
    /** Its remote address's slot: the request budget all its connections share. */
    private readonly slot: AddressSlot,
    /** The peer's IP address as the socket saw it ('' when unknown), told to the pool at session-open. */
    private readonly remoteAddress = '',
  ) {
    this.bucket = new TokenBucket(ctx.requestsPerSecond, ctx.requestBurst);
    this.overLimit = new TokenBucket(Math.max(1, ctx.requestsPerSecond / 4), ctx.overLimitFramesMax);
    this.openedAtMs = ctx.now();
    this.lastFrameAtMs = this.openedAtMs;
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    ws.on('close', () => {
      this.closing = true;
      this.inbox = [];
      if (this.sessionId !== undefined) ctx.unbindSession(this.sessionId, this);
    });
    ws.on('error', () => {
      // ws closes the socket itself (1009 for an oversized frame); nothing to undo here.
    });
  }

  /** The session this connection said hello to. */
  get session(): string | undefined {
    return this.sessionId;
  }

  /** Sends a push frame (no `id`). */
  push(frame: ServerPush): void {
    this.send(frame);
  }

  /**
   * Closes the socket with a WebSocket close code and a reason naming an
   * error code; frames still waiting are dropped, and a client that does not
   * answer the close within CLOSE_HANDSHAKE_MS is cut off.
   */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.ctx.closed(reason.split(':')[0] as string, this.slot.address);
    this.inbox = [];
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
  }

  /**
   * Closes the connection when a deadline passed at `nowMs` (ctx.now()):
   * no hello within `helloTimeoutMs` of opening (1008 HELLO_TIMEOUT), or no
   * frame at all for `idleTimeoutMs` (1000 IDLE_TIMEOUT). True when closed.
   */
  checkDeadlines(nowMs: number, helloTimeoutMs: number, idleTimeoutMs: number): boolean {
    if (this.closing) return false;
    if (this.sessionId === undefined && nowMs - this.openedAtMs >= helloTimeoutMs) {
      this.close(CLOSE_POLICY_VIOLATION, 'HELLO_TIMEOUT');
      return true;
    }
    if (nowMs - this.lastFrameAtMs >= idleTimeoutMs) {
      this.close(1000, 'IDLE_TIMEOUT');
      return true;
    }
    return false;
  }

  /** Sends `frame` unless the client's unread bytes would pass unreadReplyBytesMax: a reader that slow is disconnected. */
  private send(frame: object): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const text = JSON.stringify(frame);
    // `text.length` is a lower bound of its UTF-8 bytes: cheap, and close enough for a budget.
    if (this.ws.bufferedAmount + text.length > this.ctx.unreadReplyBytesMax) {
      // No close frame: it would wait behind everything unread. The socket is cut.
      this.closing = true;
      this.ctx.closed('SLOW_READER', this.slot.address);
      this.inbox = [];
      this.ws.terminate();
      return;
    }
    this.ws.send(text);
  }

  private replyError(id: number, code: WireErrorCode, message: string): void {
    this.send({ id, ok: false, error: { code, message } });
  }

  /**
   * Every frame of the socket, as it arrives: rated before anything reads
   * it. Within the rate it joins the inbox for the scheduler; over it, it is
   * answered RATE_LIMITED (to the id it begins with, if any) unparsed, and
   * once overLimitFramesMax such frames outrun their forgiveness the
   * connection is closed (1008 RATE_LIMITED). Whatever it holds, this returns.
   */
  private onFrame(data: Buffer, isBinary: boolean): void {
    try {
      if (this.closing) return;
      this.lastFrameAtMs = this.ctx.now();
      // Its own budget, then its address's (shared by every connection from there).
      if (this.inbox.length >= this.ctx.requestBurst || !this.bucket.take() || !this.slot.requests.take()) {
        if (!this.overLimit.take()) {
          this.close(CLOSE_POLICY_VIOLATION, 'RATE_LIMITED');
          return;
        }
        this.replyError(leadingFrameId(data), 'RATE_LIMITED', `more than ${this.ctx.requestsPerSecond} requests per second; nothing was done`);
        return;
      }
      this.inbox.push({ data, isBinary });
      this.ctx.scheduler.add(this);
    } catch (error) {
      this.failConnection(error, data);
    }
  }

  /**
   * Handles the oldest admitted frame (the FrameScheduler calls it, a
   * bounded batch per turn); true when more wait. A handler that throws
   * anyway (a server bug) closes this one connection with 1011 and logs the
   * frame's first bytes; the process and the other connections carry on.
   */
  runOne(): boolean {
    const frame = this.inbox.shift();
    if (frame === undefined || this.closing) return false;
    try {
      this.handleFrame(frame.data, frame.isBinary);
    } catch (error) {
      this.failConnection(error, frame.data);
    }
    return this.inbox.length > 0 && !this.closing;
  }

  private handleFrame(data: Buffer, isBinary: boolean): void {
    const parsed = parseClientFrame(data, isBinary);
    if (!parsed.ok) return this.replyError(parsed.id, parsed.code, parsed.message);
    const request = parsed.request;
    this.handle(request)
      .then(
        (body) => this.send({ id: request.id, ok: true, ...body }),
        (error: unknown) => {
          if (error instanceof RequestError) return this.replyError(request.id, error.code, error.message);
          if (error instanceof LicenseRefusalError) return this.replyError(request.id, error.code, error.message);
          if (error instanceof ProposalError) {
            const leader = error.leaderId === '' ? '' : ` (leader: ${error.leaderId})`;
            return this.replyError(request.id, 'UNAVAILABLE', `${error.message}${leader}; retry with the same requestId`);
          }
          this.replyError(request.id, 'INTERNAL', 'the server failed to answer; retry with the same requestId');
          this.ctx.log(`INTERNAL: ${request.type} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        },
      )
      .catch((error: unknown) => this.failConnection(error, data));
  }

  /** A handler threw: log it with the frame's first bytes and close this connection (1011). */
  private failConnection(error: unknown, frame: Buffer): void {
    const head = JSON.stringify(frame.subarray(0, LOGGED_FRAME_BYTES_MAX).toString('utf8'));
    this.ctx.log(
      `INTERNAL: a client frame handler failed; closing that connection (1011). Frame starts ${head}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    try {
      this.close(CLOSE_INTERNAL_ERROR, 'INTERNAL');
    } catch {
      this.ws.terminate();
    }
  }

  private async handle(request: ClientRequest): Promise<Record<string, unknown>> {
    if (request.type === 'hello') return this.hello(request);
    const sessionId = this.sessionId;
    if (sessionId === undefined) throw new RequestError('HELLO_REQUIRED', 'say hello first');
    switch (request.type) {
      case 'checkout':
        return this.checkout(sessionId, request);
      case 'checkin':
        return this.checkin(sessionId, request);
      case 'cancel': {
        const r = await this.ctx.node.propose({ type: 'checkout-cancel', sessionId, requestId: request.requestId });
        return this.ok(r, () => ({}));
      }
      case 'heartbeat': {
        const o = await this.ctx.node.heartbeat(sessionId);
        if (!o.ok) throw new RequestError(o.code, o.message);
        return { expiresAt: o.expiresAt } satisfies HeartbeatReply;
      }
      case 'borrow': {
        const o = await this.ctx.node.borrow(sessionId, request);
        if (!o.ok) throw new RequestError(o.code, o.message);
        return { ...o.reply } satisfies BorrowReply;
      }
      case 'return': {
        if (this.clientId === undefined) throw new Error('assert: a session bound without its clientId');
        const o = await this.ctx.node.returnBorrowed(this.clientId, request.requestId, request.token);
        if (!o.ok) throw new RequestError(o.code, o.message);
        return { leaseId: o.leaseId } satisfies ReturnReply;
      }
      case 'status': {
        const node = this.ctx.node.status();
        return {
          sessionId,
          leases: this.ctx.node.sessionLeases(sessionId).map(leaseInfo),
          nodeId: node.nodeId,
          role: node.role,
          leaderId: node.leaderId,
        } satisfies StatusReply;
      }
      default: {
        const never: never = request;
        throw new Error(`assert: unhandled request ${JSON.stringify(never)}`);
      }
    }
  }

  private async hello(request: HelloRequest): Promise<Record<string, unknown>> {
    if (request.protocol !== PROTOCOL_VERSION) {
      throw new RequestError('UNSUPPORTED_PROTOCOL', `this server speaks protocol ${PROTOCOL_VERSION}, not ${request.protocol}`);
    }
    if (this.sessionId !== undefined || this.helloPending) throw new RequestError('BAD_REQUEST', 'this connection already said hello');
    this.helloPending = true;
    try {
      const node = this.ctx.node;
      // Read when the answer is made: the leader may have changed while the hello waited.
      const common = () => {
        const leader = this.ctx.leader();
        return { heartbeatMs: this.ctx.heartbeatMs, leaseTtlMs: this.ctx.leaseTtlMs, servers: this.ctx.servers(), ...(leader !== undefined ? { leader } : {}) };
      };
      if (request.sessionId !== undefined) {
        // Never decide a resume on stale state: a follower behind the log would answer
        // resumed:false while the old session still holds seats. Rejects UNAVAILABLE with no leader.
        await node.readBarrier();
        const existing = node.session(request.sessionId);
        // Only the holder of the session's secret resumes it. Anyone else (a wrong or missing
        // secret, another clientId, a session that ended) gets a new session, the same answer.
        if (existing !== undefined && existing.clientId === request.clientId && sessionSecretMatches(request.sessionSecret, existing.secretSha256)) {
          this.bindTo(request.sessionId, request.clientId);
          void node.heartbeat(request.sessionId); // a reconnect counts as a heartbeat
          const revoked = this.ctx.recentRevocations(request.sessionId);
          return {
            sessionId: request.sessionId,
            resumed: true,
            ...common(),
            leases: node.sessionLeases(request.sessionId).map(leaseInfo),
            ...(revoked.length > 0 ? { revoked } : {}),
          } satisfies HelloReply;
        }
      }
      const sessionId = randomUUID();
      const secret = newSessionSecret();
      const r = await node.propose({
        type: 'session-open',
        sessionId,
        clientId: request.clientId,
        user: request.user,
        host: request.host,
        app: request.app,
        // For policy rules by IP range (docs/policy.md): the address this socket came from.
        ...(this.remoteAddress !== '' ? { ip: this.remoteAddress } : {}),
        sessionTtlMs: this.ctx.leaseTtlMs,
        secretSha256: secret.sha256,
      });
      this.ok(r, () => ({}));
      if (this.ws.readyState !== this.ws.OPEN) return {};
      this.bindTo(sessionId, request.clientId);
      return { sessionId, sessionSecret: secret.secret, resumed: false, ...common(), leases: [] } satisfies HelloReply;
    } finally {
      this.helloPending = false;
    }
  }

  private bindTo(sessionId: string, clientId: string): void {
    this.sessionId = sessionId;
    this.clientId = clientId;
    this.ctx.bindSession(sessionId, this);
  }

  private async checkout(sessionId: string, request: CheckoutRequest): Promise<Record<string, unknown>> {
    if (request.wait && request.waitMs !== undefined && request.waitMs > this.ctx.queueWaitMsMax) {
      throw new RequestError('DURATION_INVALID', `waitMs ${request.waitMs} is above this server's queueWaitMsMax of ${this.ctx.queueWaitMsMax} ms`);
    }
    const r = await this.ctx.node.proposeCheckout({
      type: 'checkout',
      sessionId,
      requestId: request.requestId,
      feature: request.feature,
      ...(request.version !== undefined ? { version: request.version } : {}),
      count: request.count,
      wait: request.wait,
      leaseTtlMs: this.ctx.leaseTtlMs,
      waitMs: request.waitMs ?? this.ctx.queueWaitMsDefault,
      queuedPerSessionMax: this.ctx.queuedPerSessionMax,
    });
    return this.ok(r, (reply) => {
      if (reply.type === 'granted') return { queued: false, ...leaseInfo(reply.lease) } satisfies CheckoutReply;
      if (reply.type === 'queued') return { queued: true, requestId: request.requestId, position: reply.position } satisfies CheckoutReply;
      throw new Error(`assert: checkout answered ${reply.type}`);
    });
  }

  private async checkin(sessionId: string, request: CheckinRequest): Promise<Record<string, unknown>> {
    const r = await this.ctx.node.propose({ type: 'checkin', sessionId, requestId: request.requestId, leaseId: request.leaseId });
    return this.ok(r, () => ({}));
  }

  /** The body of a successful reply, or the pool's refusal as a RequestError. */
  private ok(
    result: ApplyResult,
    body: (reply: Extract<ApplyResult['reply'], { ok: true }>) => Record<string, unknown>,
  ): Record<string, unknown> {
    const reply = result.reply;
    if (!reply.ok) throw new RequestError(reply.code, reply.message);
    return body(reply);
  }
}

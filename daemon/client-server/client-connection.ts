// One client's WebSocket: validates each frame (zod), enforces hello-first
// and the rate limit, turns requests into pool commands on the node, and
// answers each with its `id`. Every refusal is an error code of
// protocol/wire.ts; a refused frame changes nothing.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  parseClientFrame,
  PROTOCOL_VERSION,
  type CheckinRequest,
  type CheckoutRequest,
  type ClientRequest,
  type HelloRequest,
  type LeaseInfo,
  type ServerPush,
  type WireErrorCode,
} from '../../protocol/index.ts';
import { ProposalError } from '../raft-driver/index.ts';
import { LicenseRefusalError, type FloeNode } from '../node/index.ts';
import type { ApplyResult, LeaseGrant, LeaseView } from '../pool/index.ts';
import { newSessionSecret, sessionSecretMatches } from './session-secret.ts';
import { TokenBucket } from './token-bucket.ts';

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
  /** Client URLs of every node, told in hello. */
  servers(): readonly string[];
  /** Operational log (errors that are the server's fault). */
  log(line: string): void;
  /** Binds a session to this connection (pushes for it come here). */
  bindSession(sessionId: string, connection: ClientConnection): void;
  unbindSession(sessionId: string, connection: ClientConnection): void;
}

/** WebSocket close code when a handler failed on a frame (RFC 6455: internal error). */
export const CLOSE_INTERNAL_ERROR = 1011;

/** Bytes of a frame quoted in the log when its handler failed. */
const LOGGED_FRAME_BYTES_MAX = 64;

/** Bytes queued on a socket beyond which the client is too slow and is dropped. */
export const SOCKET_BUFFERED_BYTES_MAX = 4 * 1024 * 1024;

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
export class ClientConnection {
  private sessionId: string | undefined;
  private helloPending = false;
  private readonly bucket: TokenBucket;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: ConnectionContext,
    /** The peer's IP address as the socket saw it ('' when unknown), told to the pool at session-open. */
    private readonly remoteAddress = '',
  ) {
    this.bucket = new TokenBucket(ctx.requestsPerSecond, ctx.requestBurst);
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    ws.on('close', () => {
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

  /** Closes the socket with a WebSocket close code and a reason naming an error code. */
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  private send(frame: object): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > SOCKET_BUFFERED_BYTES_MAX) {
      this.ws.terminate();
      return;
    }
    this.ws.send(JSON.stringify(frame));
  }

  private replyError(id: number, code: WireErrorCode, message: string): void {
    this.send({ id, ok: false, error: { code, message } });
  }

  /**
   * Every frame of the socket: whatever it holds, this returns. A handler
   * that throws anyway (a server bug) closes this one connection with 1011
   * and logs the frame's first bytes; the process and the other connections
   * carry on.
   */
  private onFrame(data: Buffer, isBinary: boolean): void {
    try {
      this.handleFrame(data, isBinary);
    } catch (error) {
      this.failConnection(error, data);
    }
  }

  private handleFrame(data: Buffer, isBinary: boolean): void {
    const parsed = parseClientFrame(data, isBinary);
    if (!this.bucket.take()) {
      this.replyError(parsed.ok ? parsed.request.id : parsed.id, 'RATE_LIMITED', `more than ${this.ctx.requestsPerSecond} requests per second`);
      return;
    }
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
      if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(CLOSE_INTERNAL_ERROR, 'INTERNAL');
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
        return { expiresAt: o.expiresAt };
      }
      case 'borrow': {
        const o = await this.ctx.node.borrow(sessionId, request);
        if (!o.ok) throw new RequestError(o.code, o.message);
        return { ...o.reply };
      }
      case 'return': {
        const o = await this.ctx.node.returnBorrowed(sessionId, request.requestId, request.token);
        if (!o.ok) throw new RequestError(o.code, o.message);
        return { leaseId: o.leaseId };
      }
      case 'status': {
        const node = this.ctx.node.status();
        return {
          sessionId,
          leases: this.ctx.node.sessionLeases(sessionId).map(leaseInfo),
          nodeId: node.nodeId,
          role: node.role,
          leaderId: node.leaderId,
        };
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
      const common = { heartbeatMs: this.ctx.heartbeatMs, leaseTtlMs: this.ctx.leaseTtlMs, servers: this.ctx.servers() };
      if (request.sessionId !== undefined) {
        // Never decide a resume on stale state: a follower behind the log would answer
        // resumed:false while the old session still holds seats. Rejects UNAVAILABLE with no leader.
        await node.readBarrier();
        const existing = node.session(request.sessionId);
        // Only the holder of the session's secret resumes it. Anyone else (a wrong or missing
        // secret, another clientId, a session that ended) gets a new session, the same answer.
        if (existing !== undefined && existing.clientId === request.clientId && sessionSecretMatches(request.sessionSecret, existing.secretSha256)) {
          this.bindTo(request.sessionId);
          void node.heartbeat(request.sessionId); // a reconnect counts as a heartbeat
          return { sessionId: request.sessionId, resumed: true, ...common, leases: node.sessionLeases(request.sessionId).map(leaseInfo) };
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
      this.bindTo(sessionId);
      return { sessionId, sessionSecret: secret.secret, resumed: false, ...common, leases: [] };
    } finally {
      this.helloPending = false;
    }
  }

  private bindTo(sessionId: string): void {
    this.sessionId = sessionId;
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
      if (reply.type === 'granted') return { queued: false, ...leaseInfo(reply.lease) };
      if (reply.type === 'queued') return { queued: true, requestId: request.requestId, position: reply.position };
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

// The client-facing WebSocket server (ws): one ClientConnection per socket,
// frames of at most FRAME_BYTES_MAX (bigger ones close the socket with 1009),
// and the routing of pool events (grants, queue moves, revocations) to the
// socket of the session they concern. It guards the port against strangers
// (issue 11): a cap on connections kept below the open-files limit, a cap
// per remote address, a hello deadline and an idle timeout (one sweep over
// every connection), and one FrameScheduler so client frames are handled a
// bounded batch per event-loop turn.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { FRAME_BYTES_MAX, type ServerPush } from '../../protocol/index.ts';
import type { ClientEvent, FloeNode } from '../node/index.ts';
import { AddressPenalties } from './address-penalties.ts';
import { AddressSlots } from './address-slots.ts';
import { ClientConnection, type ConnectionContext } from './client-connection.ts';
import { FrameScheduler } from './frame-scheduler.ts';
import { clampConnectionsMax, NODE_FILES_RESERVED, openFilesLimit } from './open-files-limit.ts';
import { RecentRevocations } from './recent-revocations.ts';

/** Options of the client server; every limit has a unit. */
export interface ClientServerOptions {
  readonly node: FloeNode;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** `ms` */
  readonly leaseTtlMs: number;
  /** `ms` */
  readonly heartbeatMs: number;
  /** `ms` */
  readonly queueWaitMsDefault: number;
  /** `ms`: the longest `waitMs` a checkout may ask; above it DURATION_INVALID. */
  readonly queueWaitMsMax: number;
  /** Checkouts one session may have queued at once (carried in each checkout command). */
  readonly queuedPerSessionMax: number;
  /** Client connections at most; clamped below the open-files limit at start. */
  readonly connectionsMax: number;
  /** Client connections one remote address may hold at once. */
  readonly connectionsPerAddressMax: number;
  /** `ms` a new connection has to say hello; then it is closed (1008 HELLO_TIMEOUT). */
  readonly helloTimeoutMs: number;
  /** `ms` without any frame after which a connection is closed (1000 IDLE_TIMEOUT). */
  readonly idleTimeoutMs: number;
  readonly requestsPerSecondPerConnection: number;
  readonly requestBurstPerConnection: number;
  /** Requests per second all connections of one remote address may send together, on average. */
  readonly requestsPerSecondPerAddress: number;
  /** Requests all connections of one remote address may send together in a burst. */
  readonly requestBurstPerAddress: number;
  /** Frames over the rate limit one connection may send before it is closed (1008 RATE_LIMITED). */
  readonly overLimitFramesPerConnectionMax: number;
  /** Bytes of replies and pushes one client may leave unread; a slower reader is disconnected. */
  readonly unreadReplyBytesPerConnectionMax: number;
  /** The process's open-files limit; default: read at start (undefined: unknown, no clamp). Tests inject one. */
  readonly openFilesLimit?: number | undefined;
  /** Client URLs of every member now, asked at each hello (told to clients for failover); empty: this server's own URL. */
  readonly clientUrls: () => readonly string[];
  /** The leader's client URL (one of clientUrls()), told in hello and pushed when leadership moves; undefined: unknown. Absent: never told. */
  readonly leaderClientUrl?: () => string | undefined;
  /** PEM certificate and key: serve wss:// (TLS 1.2 at least) instead of ws://. */
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly log?: (line: string) => void;
}

/** The path clients connect to. */
export const CLIENT_WS_PATH = '/ws';

/** WebSocket close code when the server holds its maximum of connections (try again later). */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** Reasons of the server's closes that start or grow the address's cool-down (address-penalties.ts). */
const POLICY_CLOSES: ReadonlySet<string> = new Set(['RATE_LIMITED', 'SLOW_READER', 'HELLO_TIMEOUT']);

/** `ms` between two sweeps for deadlines, at most (shorter when a deadline is shorter). */
const SWEEP_MS_MAX = 1_000;

/** Converts a pool event into the push its session's client gets (undefined: nothing to push). */
export function pushOf(event: ClientEvent): ServerPush | undefined {
  switch (event.kind) {
    case 'granted': {
      const l = event.lease;
      return {
        type: 'granted',
        requestId: event.requestId,
        leaseId: l.leaseId,
        feature: l.feature,
        version: l.version,
        count: l.count,
        expiresAt: l.expiresAt,
        fencingToken: l.fencingToken,
      };
    }
    case 'queue':
      return { type: 'queue', requestId: event.requestId, feature: event.feature, position: event.position };
    case 'dequeued': {
      const ended = (code: string, message: string): ServerPush => ({ type: 'queue-timeout', requestId: event.requestId, feature: event.feature, error: { code, message } });
      const reason = event.reason;
      switch (reason) {
        case 'wait-timeout':
          return ended('QUEUE_TIMEOUT', 'the checkout waited its whole waitMs in the queue without a seat');
        case 'pool-removed':
          return ended('UNKNOWN_FEATURE', 'the license of this pool was removed');
        case 'seats-reduced':
          return ended('COUNT_EXCEEDS_SEATS', `the licenses of ${event.feature} ${event.version} now hold fewer seats than this checkout asks: it could never be granted`);
        case 'policy-excluded':
          return ended('POLICY_EXCLUDED', `a new seat policy excludes this client from ${event.feature}: the queued checkout was withdrawn`);
        case 'cancelled':
        case 'session-closed':
          return undefined; // the client asked for it
        default: {
          const never: never = reason;
          throw new Error(`assert: unknown dequeue reason ${String(never)}`);
        }
      }
    }
    case 'revoked':
      return {
        type: 'revoked',
        leaseId: event.leaseId,
        feature: event.feature,
        reason: event.message,
        code: event.reason.toUpperCase().replace(/-/g, '_'),
      };
    default: {
      const never: never = event;
      throw new Error(`assert: unknown event ${JSON.stringify(never)}`);
    }
  }
}

/** A running client server. */
export class ClientServer {
  private readonly http: HttpServer | HttpsServer;
  private readonly wss: WebSocketServer;
  private readonly bySession = new Map<string, ClientConnection>();
  private readonly connections = new Set<ClientConnection>();
  private readonly addresses: AddressSlots;
  private readonly scheduler = new FrameScheduler();
  private readonly penalties = new AddressPenalties(() => performance.now());
  /** Why sessions' leases ended lately, for a client that resumes after missing the push. */
  private readonly revocations = new RecentRevocations(() => performance.now());
  private readonly sweeper: NodeJS.Timeout;
  /** connectionsMax as clamped below the open-files limit. */
  readonly connectionsMax: number;
  /** Connections the server closed (or refused) since start, by reason: RATE_LIMITED, SLOW_READER, HELLO_TIMEOUT, IDLE_TIMEOUT, LIMIT_REACHED, COOLING_DOWN, INTERNAL, SESSION_MOVED. */
  readonly closes: Record<string, number> = {};
  private readonly unsubscribe: () => void;
  private boundUrl = '';
  /** The leader URL last pushed to the sessions here (a push only when it changes). */
  private leaderPushed: string | undefined;

  private constructor(private readonly options: ClientServerOptions) {
    const log = options.log ?? (() => {});
    const filesLimit = 'openFilesLimit' in options ? options.openFilesLimit : openFilesLimit();
    const clamp = clampConnectionsMax(options.connectionsMax, filesLimit);
    this.connectionsMax = clamp.connectionsMax;
    if (clamp.clamped) {
      log(
        `WARN: limits.connectionsMax ${options.connectionsMax} is above what this process's open-files limit (${filesLimit}) allows ` +
          `with ${NODE_FILES_RESERVED} kept for the node itself: serving at most ${clamp.connectionsMax} client connections (raise the limit, e.g. LimitNOFILE=, or lower connectionsMax)`,
      );
    }
    this.addresses = new AddressSlots({
      connectionsMax: options.connectionsPerAddressMax,
      requestsPerSecond: options.requestsPerSecondPerAddress,
      requestBurst: options.requestBurstPerAddress,
    });
    const notWebSocket = (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(426, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'BAD_REQUEST', message: `connect a WebSocket to ${CLIENT_WS_PATH}` } }));
    };
    this.http = options.tls === undefined ? createServer(notWebSocket) : createHttpsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, notWebSocket);
    this.wss = new WebSocketServer({
      server: this.http,
      path: CLIENT_WS_PATH,
      maxPayload: FRAME_BYTES_MAX,
      perMessageDeflate: false,
      // Text that is not UTF-8 is the parser's to refuse (BAD_REQUEST, the socket stays), not ws's (close 1007).
      skipUTF8Validation: true,
      // An address cooling down after a policy close is refused before any WebSocket work.
      verifyClient: (info, done) => {
        const coolingMs = this.penalties.coolingMs(info.req.socket.remoteAddress ?? '');
        if (coolingMs === 0) return done(true);
        this.closes['COOLING_DOWN'] = (this.closes['COOLING_DOWN'] ?? 0) + 1;
        done(false, 429, 'Too Many Requests', { 'retry-after': String(Math.ceil(coolingMs / 1000)) });
      },
    });
    const ctx: ConnectionContext = {
      node: options.node,
      leaseTtlMs: options.leaseTtlMs,
      heartbeatMs: options.heartbeatMs,
      queueWaitMsDefault: options.queueWaitMsDefault,
      queueWaitMsMax: options.queueWaitMsMax,
      queuedPerSessionMax: options.queuedPerSessionMax,
      requestsPerSecond: options.requestsPerSecondPerConnection,
      requestBurst: options.requestBurstPerConnection,
      overLimitFramesMax: options.overLimitFramesPerConnectionMax,
      unreadReplyBytesMax: options.unreadReplyBytesPerConnectionMax,
      scheduler: this.scheduler,
      now: () => performance.now(),
      closed: (reason, address) => {
        this.closes[reason] = (this.closes[reason] ?? 0) + 1;
        if (POLICY_CLOSES.has(reason)) this.penalties.offend(address);
      },
      log,
      servers: () => {
        const urls = options.clientUrls();
        return urls.length > 0 ? urls : [this.boundUrl];
      },
      leader: () => options.leaderClientUrl?.(),
      recentRevocations: (sessionId) => this.revocations.of(sessionId).map(({ type: _type, ...lease }) => lease),
      bindSession: (sessionId, connection) => {
        const previous = this.bySession.get(sessionId);
        this.bySession.set(sessionId, connection);
        // A resumed session moves here; its old socket (half-open, say) no longer gets its pushes.
        if (previous !== undefined && previous !== connection) previous.close(4000, 'SESSION_MOVED');
      },
      unbindSession: (sessionId, connection) => {
        if (this.bySession.get(sessionId) === connection) this.bySession.delete(sessionId);
      },
    };
    this.wss.on('connection', (ws, req) => {
      ws.on('error', () => {}); // an error before the connection's own handler must not throw
      const address = req.socket.remoteAddress ?? '';
      if (this.connections.size >= this.connectionsMax) {
        ctx.closed('LIMIT_REACHED', address);
        ws.close(CLOSE_TRY_AGAIN_LATER, 'LIMIT_REACHED');
        return;
      }
      const slot = this.addresses.take(address);
      if (slot === undefined) {
        ctx.closed('LIMIT_REACHED', address);
        ws.close(CLOSE_TRY_AGAIN_LATER, 'LIMIT_REACHED: connections per address');
        return;
      }
      const c = new ClientConnection(ws, ctx, slot, address);
      this.connections.add(c);
      ws.on('close', () => {
        this.connections.delete(c);
        this.addresses.give(slot);
      });
    });
    const sweepMs = Math.max(10, Math.min(SWEEP_MS_MAX, options.helloTimeoutMs / 4, options.idleTimeoutMs / 4));
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
    const unsubscribeEvents = options.node.onEvent((event) => {
      const push = pushOf(event);
      if (push === undefined) return;
      this.bySession.get(event.sessionId)?.push(push);
      if (push.type === 'revoked') this.revocations.record(event.sessionId, push);
    });
    // Sessions follow the leader (docs/protocol.md, the `leader` push): one frame per session per new leader.
    const leaderClientUrl = options.leaderClientUrl;
    const unsubscribeLeadership =
      leaderClientUrl === undefined
        ? () => {}
        : options.node.onLeadership(() => {
            const leader = leaderClientUrl();
            if (leader === undefined || leader === this.leaderPushed) return;
            this.leaderPushed = leader;
            const push: ServerPush = { type: 'leader', leader };
            for (const connection of this.bySession.values()) connection.push(push);
          });
    this.unsubscribe = () => {
      unsubscribeEvents();
      unsubscribeLeadership();
    };
  }

  /** Starts listening; resolves once bound. */
  static async start(options: ClientServerOptions): Promise<ClientServer> {
    const server = new ClientServer(options);
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject);
      server.http.listen(options.port, options.host, () => {
        server.http.off('error', reject);
        resolve();
      });
    });
    const address = server.http.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    server.boundUrl = `${options.tls === undefined ? 'ws' : 'wss'}://${host}:${address.port}${CLIENT_WS_PATH}`;
    return server;
  }

  /** `ws://host:port/ws` as bound (the real port when 0 was asked). */
  get url(): string {
    return this.boundUrl;
  }

  /** New TLS connections use this certificate and key; open sessions keep theirs (a reload drops nobody). */
  setTls(tls: { readonly cert: string; readonly key: string }): void {
    if (!('setSecureContext' in this.http)) throw new Error('assert: setTls() on a plain ws:// client server');
    this.http.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' });
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Closes the connections whose hello or idle deadline passed; forgets addresses gone quiet. */
  private sweep(): void {
    const now = performance.now();
    for (const c of this.connections) c.checkDeadlines(now, this.options.helloTimeoutMs, this.options.idleTimeoutMs);
    this.addresses.sweep();
  }

  /** Closes every connection (1001) and stops listening. */
  async close(): Promise<void> {
    this.unsubscribe();
    clearInterval(this.sweeper);
    this.scheduler.stop();
    for (const ws of this.wss.clients) ws.close(1001, 'UNAVAILABLE: the server is stopping');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }
}

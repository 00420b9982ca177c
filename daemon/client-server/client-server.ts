// The client-facing WebSocket server (ws): one ClientConnection per socket,
// frames of at most FRAME_BYTES_MAX (bigger ones close the socket with 1009),
// a cap on connections, and the routing of pool events (grants, queue moves,
// revocations) to the socket of the session they concern.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { FRAME_BYTES_MAX, type ServerPush } from '../../protocol/index.ts';
import type { ClientEvent, FloeNode } from '../node/index.ts';
import { ClientConnection, type ConnectionContext } from './client-connection.ts';

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
  readonly connectionsMax: number;
  readonly requestsPerSecondPerConnection: number;
  readonly requestBurstPerConnection: number;
  /** Client URLs of every member now, asked at each hello (told to clients for failover); empty: this server's own URL. */
  readonly clientUrls: () => readonly string[];
  readonly log?: (line: string) => void;
}

/** The path clients connect to. */
export const CLIENT_WS_PATH = '/ws';

/** WebSocket close code when the server holds its maximum of connections (try again later). */
export const CLOSE_TRY_AGAIN_LATER = 1013;

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
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly bySession = new Map<string, ClientConnection>();
  private readonly connections = new Set<ClientConnection>();
  private readonly unsubscribe: () => void;
  private boundUrl = '';

  private constructor(private readonly options: ClientServerOptions) {
    this.http = createServer((req, res) => {
      res.writeHead(426, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'BAD_REQUEST', message: `connect a WebSocket to ${CLIENT_WS_PATH}` } }));
    });
    this.wss = new WebSocketServer({ server: this.http, path: CLIENT_WS_PATH, maxPayload: FRAME_BYTES_MAX, perMessageDeflate: false });
    const ctx: ConnectionContext = {
      node: options.node,
      leaseTtlMs: options.leaseTtlMs,
      heartbeatMs: options.heartbeatMs,
      queueWaitMsDefault: options.queueWaitMsDefault,
      queueWaitMsMax: options.queueWaitMsMax,
      queuedPerSessionMax: options.queuedPerSessionMax,
      requestsPerSecond: options.requestsPerSecondPerConnection,
      requestBurst: options.requestBurstPerConnection,
      log: options.log ?? (() => {}),
      servers: () => {
        const urls = options.clientUrls();
        return urls.length > 0 ? urls : [this.boundUrl];
      },
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
      if (this.connections.size >= options.connectionsMax) {
        ws.close(CLOSE_TRY_AGAIN_LATER, 'LIMIT_REACHED');
        return;
      }
      const c = new ClientConnection(ws, ctx, req.socket.remoteAddress ?? '');
      this.connections.add(c);
      ws.on('close', () => this.connections.delete(c));
    });
    this.unsubscribe = options.node.onEvent((event) => {
      const push = pushOf(event);
      if (push === undefined) return;
      this.bySession.get(event.sessionId)?.push(push);
    });
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
    server.boundUrl = `ws://${host}:${address.port}${CLIENT_WS_PATH}`;
    return server;
  }

  /** `ws://host:port/ws` as bound (the real port when 0 was asked). */
  get url(): string {
    return this.boundUrl;
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Closes every connection (1001) and stops listening. */
  async close(): Promise<void> {
    this.unsubscribe();
    for (const ws of this.wss.clients) ws.close(1001, 'UNAVAILABLE: the server is stopping');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }
}

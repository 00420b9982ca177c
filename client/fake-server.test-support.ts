// A small scripted stand-in for the Floe daemon, for the SDK's own tests: a
// `ws` server on 127.0.0.1 port 0 that answers hello, checkout, checkin,
// cancel, heartbeat and status per docs/protocol.md. Several FakeServers may
// share one FakeCluster (sessions, seats, queues, remembered results), like
// the three nodes of a real cluster. Tests script faults per request: drop
// the socket, answer an error code, delay, never answer.
import { WebSocketServer, type WebSocket } from 'ws';
import type { LeaseInfo } from '../protocol/wire.ts';

/** A client frame as the fake server saw it. */
export type SeenFrame = Record<string, unknown> & { readonly id: number; readonly type: string };

/** What a script tells the server to do with one request; undefined: answer normally. */
export type ScriptAction =
  | { readonly kind: 'drop' } // close the socket without answering
  | { readonly kind: 'apply-then-drop' } // do the work, lose the reply, close the socket
  | { readonly kind: 'error'; readonly code: string }
  | { readonly kind: 'delay'; readonly delayMs: number }
  | { readonly kind: 'ignore' } // never answer
  | { readonly kind: 'until'; readonly until: Promise<unknown> }; // answer once `until` settles

interface Session {
  readonly sessionId: string;
  /** Resuming needs it, as on a real server. */
  readonly secret: string;
  readonly clientId: string;
  readonly leases: Map<string, LeaseInfo>;
  socket: WebSocket | undefined;
}

interface Waiter {
  readonly session: Session;
  readonly requestId: string;
  readonly feature: string;
  readonly count: number;
}

/** The state the nodes of a fake cluster share. */
export class FakeCluster {
  /** Seats per feature; a feature absent here is UNKNOWN_FEATURE. */
  readonly seats = new Map<string, number>([['demo', 1]]);
  readonly sessions = new Map<string, Session>();
  readonly queues = new Map<string, Waiter[]>();
  /** Remembered replies by `clientId/requestId` (the idempotency memory). */
  readonly remembered = new Map<string, Record<string, unknown>>();
  heartbeatMs = 1_000;
  leaseTtlMs = 3_000;
  /** Client URLs the hello reply lists. */
  servers: string[] = [];
  /** The leader's client URL the hello reply names (`leader`); undefined: none named, as servers before it did. */
  leader: string | undefined;
  #ids = 0;

  nextId(prefix: string): string {
    this.#ids += 1;
    return `${prefix}${String(this.#ids).padStart(8, '0')}`;
  }

  seatsInUse(feature: string): number {
    let n = 0;
    for (const s of this.sessions.values()) for (const l of s.leases.values()) if (l.feature === feature) n += l.count;
    return n;
  }

  grant(session: Session, feature: string, count: number): LeaseInfo {
    const lease: LeaseInfo = {
      leaseId: this.nextId('L'),
      feature,
      version: '1',
      count,
      expiresAt: Date.now() + this.leaseTtlMs,
      fencingToken: this.#ids,
    };
    session.leases.set(lease.leaseId, lease);
    return lease;
  }

  /** Hands freed seats to the queue's head, pushing `granted` to its session. */
  serveQueue(feature: string): void {
    const queue = this.queues.get(feature) ?? [];
    while (queue.length > 0) {
      const head = queue[0]!;
      if ((this.seats.get(feature) ?? 0) - this.seatsInUse(feature) < head.count) break;
      queue.shift();
      const lease = this.grant(head.session, feature, head.count);
      this.remembered.set(`${head.session.clientId}/${head.requestId}`, { queued: false, ...lease });
      head.session.socket?.send(JSON.stringify({ type: 'granted', requestId: head.requestId, ...lease }));
      queue.forEach((w, i) => w.session.socket?.send(JSON.stringify({ type: 'queue', requestId: w.requestId, feature, position: i + 1 })));
    }
  }
}

/** One fake node. */
export class FakeServer {
  readonly cluster: FakeCluster;
  readonly url: string;
  /** Every frame received, in order. */
  readonly seen: SeenFrame[] = [];
  /** Decides per request; undefined answers normally. */
  script: ((frame: SeenFrame) => ScriptAction | undefined) | undefined;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  private constructor(cluster: FakeCluster, wss: WebSocketServer, url: string) {
    this.cluster = cluster;
    this.#wss = wss;
    this.url = url;
    wss.on('connection', (socket) => this.#accept(socket));
  }

  /** Starts a node of `cluster` on 127.0.0.1, a free port. */
  static async start(cluster: FakeCluster): Promise<FakeServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
    return new FakeServer(cluster, wss, `ws://127.0.0.1:${address.port}/ws`);
  }

  /** Frames of one type received so far. */
  frames(type: string): SeenFrame[] {
    return this.seen.filter((f) => f.type === type);
  }

  /** Sockets open right now. */
  get socketCount(): number {
    return this.#sockets.size;
  }

  /** Breaks every client socket (as a crash would: no close frame). */
  dropAll(): void {
    for (const s of this.#sockets) s.terminate();
  }

  /**
   * Freezes every client socket as SIGSTOP freezes a server: the sockets stay
   * open, but nothing is read, answered or ponged (ws reads pings off the
   * paused stream too) until thaw().
   */
  freeze(): void {
    for (const s of this.#sockets) s.pause();
  }

  /** Ends freeze(): what the sockets buffered meanwhile is read and answered. */
  thaw(): void {
    for (const s of this.#sockets) s.resume();
  }

  /** Sockets that said hello (a session is bound to them) right now. */
  get sessionSocketCount(): number {
    let n = 0;
    for (const s of this.cluster.sessions.values()) if (s.socket !== undefined && this.#sockets.has(s.socket)) n += 1;
    return n;
  }

  /** Sends `frame` to every client of this node. */
  pushAll(frame: Record<string, unknown>): void {
    for (const s of this.#sockets) s.send(JSON.stringify(frame));
  }

  /** Stops the node: every socket broken, the port closed. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.dropAll();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(socket: WebSocket): void {
    this.#sockets.add(socket);
    let session: Session | undefined;
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (session !== undefined && session.socket === socket) session.socket = undefined;
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as SeenFrame;
      this.seen.push(frame);
      const action = this.script?.(frame);
      const answer = () => {
        const reply = this.#handle(frame, session, socket, (s) => {
          session = s;
        });
        return reply;
      };
      if (action === undefined) {
        socket.send(JSON.stringify(answer()));
        return;
      }
      switch (action.kind) {
        case 'drop':
          socket.terminate();
          return;
        case 'apply-then-drop':
          answer();
          socket.terminate();
          return;
        case 'error':
          socket.send(JSON.stringify({ id: frame.id, ok: false, error: { code: action.code, message: `scripted ${action.code}` } }));
          return;
        case 'delay': {
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(answer()));
          }, action.delayMs);
          this.#timers.add(timer);
          return;
        }
        case 'ignore':
          return;
        case 'until':
          void action.until.finally(() => {
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(answer()));
          });
          return;
      }
    });
  }

  #handle(frame: SeenFrame, session: Session | undefined, socket: WebSocket, setSession: (s: Session) => void): Record<string, unknown> {
    const c = this.cluster;
    const ok = (fields: Record<string, unknown>) => ({ id: frame.id, ok: true, ...fields });
    const fail = (code: string) => ({ id: frame.id, ok: false, error: { code, message: `fake ${code}` } });
    if (frame.type === 'hello') {
      const asked = typeof frame.sessionId === 'string' ? c.sessions.get(frame.sessionId) : undefined;
      // Only the holder of the session's secret resumes it; anyone else gets a new session.
      const wanted = asked !== undefined && frame.sessionSecret === asked.secret && frame.clientId === asked.clientId ? asked : undefined;
      const s: Session = wanted ?? { sessionId: c.nextId('S'), secret: c.nextId('secret-0123456789abcdef-'), clientId: String(frame.clientId), leases: new Map(), socket };
      s.socket = socket;
      c.sessions.set(s.sessionId, s);
      setSession(s);
      return ok({
        sessionId: s.sessionId,
        ...(wanted === undefined ? { sessionSecret: s.secret } : {}),
        resumed: wanted !== undefined,
        heartbeatMs: c.heartbeatMs,
        leaseTtlMs: c.leaseTtlMs,
        servers: c.servers,
        ...(c.leader !== undefined ? { leader: c.leader } : {}),
        leases: [...s.leases.values()],
      });
    }
    if (session === undefined) return fail('HELLO_REQUIRED');
    const key = `${session.clientId}/${String(frame.requestId)}`;
    switch (frame.type) {
      case 'heartbeat':
        for (const [id, l] of session.leases) session.leases.set(id, { ...l, expiresAt: Date.now() + c.leaseTtlMs });
        return ok({ expiresAt: Date.now() + c.leaseTtlMs });
      case 'status':
        return ok({ sessions: c.sessions.size });
      case 'checkout': {
        const first = c.remembered.get(key);
        if (first !== undefined) return ok(first);
        const feature = String(frame.feature);
        const count = typeof frame.count === 'number' ? frame.count : 1;
        const seats = c.seats.get(feature);
        if (seats === undefined) return fail('UNKNOWN_FEATURE');
        let reply: Record<string, unknown>;
        if (seats - c.seatsInUse(feature) >= count) {
          reply = { queued: false, ...c.grant(session, feature, count) };
        } else if (frame.wait === true) {
          const queue = c.queues.get(feature) ?? [];
          queue.push({ session, requestId: String(frame.requestId), feature, count });
          c.queues.set(feature, queue);
          reply = { queued: true, requestId: frame.requestId, position: queue.length };
        } else {
          return fail('NO_SEATS');
        }
        c.remembered.set(key, reply);
        return ok(reply);
      }
      case 'checkin': {
        const first = c.remembered.get(key);
        if (first !== undefined) return ok(first);
        const lease = session.leases.get(String(frame.leaseId));
        if (lease === undefined) return fail('LEASE_NOT_FOUND');
        session.leases.delete(lease.leaseId);
        c.remembered.set(key, {});
        c.serveQueue(lease.feature);
        return ok({});
      }
      case 'cancel': {
        for (const [feature, queue] of c.queues) {
          const i = queue.findIndex((w) => w.requestId === frame.requestId && w.session === session);
          if (i >= 0) {
            queue.splice(i, 1);
            c.queues.set(feature, queue);
            return ok({});
          }
        }
        return fail('QUEUED_REQUEST_NOT_FOUND');
      }
      default:
        return fail('BAD_REQUEST');
    }
  }
}

/**
 * The `vi.waitFor` options of the SDK tests: poll every 5 ms (`interval`),
 * give up after 2,000 ms (`timeout`). The fake server answers at once, so
 * waits are short; the bound keeps a broken test from hanging.
 */
export const WAIT = { timeout: 2_000, interval: 5 } as const;

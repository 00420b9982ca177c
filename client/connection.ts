// One WebSocket to one server: opens it within a deadline, numbers the frames
// it sends, hands every incoming frame (already checked against the schemas)
// to its owner, and closes without ever hanging on a dead peer. It knows
// nothing of sessions or leases; FloeClient owns those and outlives any
// number of connections.
//
// A server can also die without closing its sockets: frozen (SIGSTOP, a
// paused VM) or cut off, its kernel (or none) keeps the TCP connection open
// and nothing ever comes back. So while a frame waits for its reply and the
// server has been silent for pingAfterMs, the connection pings it; a server
// that sends nothing (not even the pong its WebSocket library answers by
// itself) within pongTimeoutMs is presumed dead and the socket is
// terminated, which the owner hears as a close and fails over. A live but
// slow server (a commit waiting for an election) answers the ping at once
// and is waited for, up to the owner's replyTimeoutMs.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { FRAME_BYTES_MAX } from '../protocol/wire.ts';
import { FloeError } from './floe-error.ts';
import { knownPushTypes, pushFrameSchema, replyFrameSchema, type PushFrame, type ReplyFrame } from './server-frames.ts';

/** Largest frame accepted from a server, bytes (a resumed session's lease list can be long). */
export const FRAME_BYTES_RECEIVED_MAX = 4 * 1024 * 1024;

/** `ms` a closing handshake may take before the socket is destroyed. */
export const CLOSE_HANDSHAKE_MS = 1_000;

/** When a connection presumes its server dead though the socket is open (durations in `ms`). */
export interface ConnectionLiveness {
  /** `ms` of silence from the server, while a sent frame waits for its reply, before the connection pings it. */
  readonly pingAfterMs: number;
  /** `ms` the server then has to send anything (the pong, a frame) before the socket is terminated. */
  readonly pongTimeoutMs: number;
}

/** What a connection reports to its owner. Called only until `detach()`. */
export interface ConnectionHandlers {
  onReply(frame: ReplyFrame): void;
  onPush(frame: PushFrame): void;
  /** The socket closed (either side, any reason); called once. */
  onClose(code: number, reason: string): void;
  /** The server sent something that is not a frame of the protocol. */
  onProtocolError(error: FloeError): void;
}

/** An open WebSocket to one server. */
export class Connection {
  /** The server's client URL. */
  readonly url: string;
  readonly #socket: WebSocket;
  #handlers: ConnectionHandlers | undefined;
  #frameIdLast = 0;
  #closed: Promise<void>;
  readonly #liveness: ConnectionLiveness;
  /** Ids of sent frames not answered yet (every request frame gets a reply with its id). */
  readonly #unanswered = new Set<number>();
  /** performance.now() since which the server has been silent while a frame waits (the later of the last frame heard and the first frame sent after it). */
  #silentSinceMs = 0;
  /** performance.now() of the ping in flight; undefined when none is. */
  #pingSentMs: number | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  /** Why this side terminated the socket, told to the owner as the close reason. */
  #terminatedWhy: string | undefined;

  private constructor(url: string, socket: WebSocket, handlers: ConnectionHandlers, liveness: ConnectionLiveness) {
    this.url = url;
    this.#socket = socket;
    this.#handlers = handlers;
    this.#liveness = liveness;
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('message', (data, isBinary) => {
      this.#heard();
      this.#receive(data, isBinary);
    });
    socket.on('pong', () => this.#heard());
    socket.on('close', (code, reason) => {
      clearTimeout(this.#probeTimer);
      this.#probeTimer = undefined;
      const handlers = this.#handlers;
      this.#handlers = undefined;
      handlers?.onClose(code, this.#terminatedWhy ?? reason.toString());
    });
  }

  /**
   * Opens a socket to `url`; rejects with UNAVAILABLE when it cannot within
   * `connectTimeoutMs` (`ms`). `ca`: PEM CA certificates trusted for wss://
   * (only these); undefined: Node's store. A server whose certificate does
   * not verify is refused like an unreachable one (UNAVAILABLE, its reason in `cause`).
   * `abandon`: once aborted, an open still under way is given up (UNAVAILABLE).
   */
  static open(
    url: string,
    connectTimeoutMs: number,
    handlers: ConnectionHandlers,
    liveness: ConnectionLiveness,
    ca?: readonly string[],
    abandon?: AbortSignal,
  ): Promise<Connection> {
    return new Promise((resolve, reject) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(url, { maxPayload: FRAME_BYTES_RECEIVED_MAX, handshakeTimeout: connectTimeoutMs, minVersion: 'TLSv1.2', ...(ca !== undefined ? { ca: [...ca] } : {}) });
      } catch (err) {
        reject(new FloeError('UNAVAILABLE', `cannot connect to ${url}`, { cause: err }));
        return;
      }
      // ws emits 'error' before 'close'; an unheard 'error' would crash the process.
      socket.on('error', () => {});
      const timer = setTimeout(() => fail(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      const onAbandon = () => fail(new Error('given up: another server answered first'));
      const fail = (err: unknown) => {
        clearTimeout(timer);
        abandon?.removeEventListener('abort', onAbandon);
        socket.removeAllListeners('open');
        socket.terminate();
        // The reason matters to whoever reads it: a refused port, or a certificate this client does not trust.
        reject(new FloeError('UNAVAILABLE', `cannot connect to ${url}: ${(err as Error).message}`, { cause: err }));
      };
      socket.once('error', fail);
      socket.once('close', (code) => fail(new Error(`closed with ${code} while opening`)));
      abandon?.addEventListener('abort', onAbandon, { once: true });
      socket.once('open', () => {
        clearTimeout(timer);
        abandon?.removeEventListener('abort', onAbandon);
        socket.removeListener('error', fail);
        socket.removeAllListeners('close');
        resolve(new Connection(url, socket, handlers, liveness));
      });
    });
  }

  /** Whether frames can be sent. */
  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /** Sends `body` with a fresh frame id and returns that id. */
  send(body: Readonly<Record<string, unknown>>): number {
    this.#frameIdLast += 1;
    const id = this.#frameIdLast;
    const text = JSON.stringify({ id, ...body });
    // The SDK builds every frame from validated input: an oversize one is a bug here.
    if (Buffer.byteLength(text) > FRAME_BYTES_MAX) throw new Error(`assertion: frame of ${text.length} chars exceeds FRAME_BYTES_MAX`);
    this.#socket.send(text);
    if (this.#unanswered.size === 0) {
      this.#silentSinceMs = performance.now();
      this.#armProbe(this.#liveness.pingAfterMs);
    }
    this.#unanswered.add(id);
    return id;
  }

  /** Stops reporting to the owner; the socket's later events are ignored. */
  detach(): void {
    this.#handlers = undefined;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#unanswered.clear();
  }

  /** Closes with `code`; destroys the socket if the peer does not answer within CLOSE_HANDSHAKE_MS. */
  close(code: number, reason: string): Promise<void> {
    const state = this.#socket.readyState;
    if (state === WebSocket.CLOSED) return Promise.resolve();
    if (state !== WebSocket.CLOSING) this.#socket.close(code, reason.slice(0, 100));
    const timer = setTimeout(() => this.#socket.terminate(), CLOSE_HANDSHAKE_MS);
    return this.#closed.finally(() => clearTimeout(timer));
  }

  /** The server sent something: it is alive. */
  #heard(): void {
    this.#silentSinceMs = performance.now();
    this.#pingSentMs = undefined;
  }

  #armProbe(delayMs: number): void {
    if (this.#probeTimer !== undefined || this.#handlers === undefined) return;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      this.#probe();
    }, delayMs);
  }

  /** While a frame waits: pings a server silent for pingAfterMs, terminates one that stayed silent pongTimeoutMs after the ping. */
  #probe(): void {
    if (this.#unanswered.size === 0 || this.#handlers === undefined || this.#socket.readyState !== WebSocket.OPEN) return;
    const { pingAfterMs, pongTimeoutMs } = this.#liveness;
    const nowMs = performance.now();
    const pingSentMs = this.#pingSentMs;
    if (pingSentMs === undefined) {
      const dueMs = this.#silentSinceMs + pingAfterMs;
      if (nowMs < dueMs) return this.#armProbe(dueMs - nowMs);
      this.#pingSentMs = nowMs;
      this.#socket.ping();
      return this.#armProbe(pongTimeoutMs);
    }
    const dueMs = pingSentMs + pongTimeoutMs;
    if (nowMs < dueMs) return this.#armProbe(dueMs - nowMs);
    // Timers run before I/O in a turn: when this process itself was held up, a
    // pong may sit unread in the socket. setImmediate runs after this turn's I/O.
    setImmediate(() => {
      if (this.#pingSentMs !== pingSentMs || this.#handlers === undefined) return;
      this.#terminatedWhy = `no answer to a ping within ${pongTimeoutMs} ms (the server is frozen or cut off)`;
      this.#socket.terminate();
    });
  }

  #receive(data: WebSocket.RawData, isBinary: boolean): void {
    const handlers = this.#handlers;
    if (handlers === undefined) return;
    if (isBinary) {
      handlers.onProtocolError(new FloeError('PROTOCOL_ERROR', `${this.url} sent a binary frame`));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data.toString());
    } catch (err) {
      handlers.onProtocolError(new FloeError('PROTOCOL_ERROR', `${this.url} sent a frame that is not JSON`, { cause: err }));
      return;
    }
    if (typeof value === 'object' && value !== null && 'id' in value) {
      if (typeof value.id === 'number') this.#unanswered.delete(value.id);
      const reply = replyFrameSchema.safeParse(value);
      if (reply.success) handlers.onReply(reply.data);
      else handlers.onProtocolError(new FloeError('PROTOCOL_ERROR', `${this.url} sent a malformed reply`, { cause: reply.error }));
      return;
    }
    if (typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string') {
      // A push this SDK does not know yet is skipped: newer servers may add some.
      if (!knownPushTypes.has(value.type)) return;
      const push = pushFrameSchema.safeParse(value);
      if (push.success) handlers.onPush(push.data);
      else handlers.onProtocolError(new FloeError('PROTOCOL_ERROR', `${this.url} sent a malformed ${value.type} push`, { cause: push.error }));
      return;
    }
    handlers.onProtocolError(new FloeError('PROTOCOL_ERROR', `${this.url} sent a frame with neither id nor type`));
  }
}

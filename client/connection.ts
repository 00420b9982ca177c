// One WebSocket to one server: opens it within a deadline, numbers the frames
// it sends, hands every incoming frame (already checked against the schemas)
// to its owner, and closes without ever hanging on a dead peer. It knows
// nothing of sessions or leases; FloeClient owns those and outlives any
// number of connections.
import WebSocket from 'ws';
import { FRAME_BYTES_MAX } from '../protocol/wire.ts';
import { FloeError } from './floe-error.ts';
import { knownPushTypes, pushFrameSchema, replyFrameSchema, type PushFrame, type ReplyFrame } from './server-frames.ts';

/** Largest frame accepted from a server, bytes (a resumed session's lease list can be long). */
export const FRAME_BYTES_RECEIVED_MAX = 4 * 1024 * 1024;

/** `ms` a closing handshake may take before the socket is destroyed. */
export const CLOSE_HANDSHAKE_MS = 1_000;

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

  private constructor(url: string, socket: WebSocket, handlers: ConnectionHandlers) {
    this.url = url;
    this.#socket = socket;
    this.#handlers = handlers;
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('message', (data, isBinary) => this.#receive(data, isBinary));
    socket.on('close', (code, reason) => {
      const handlers = this.#handlers;
      this.#handlers = undefined;
      handlers?.onClose(code, reason.toString());
    });
  }

  /**
   * Opens a socket to `url`; rejects with UNAVAILABLE when it cannot within
   * `connectTimeoutMs` (`ms`). `ca`: PEM CA certificates trusted for wss://
   * (only these); undefined: Node's store. A server whose certificate does
   * not verify is refused like an unreachable one (UNAVAILABLE, its reason in `cause`).
   */
  static open(url: string, connectTimeoutMs: number, handlers: ConnectionHandlers, ca?: readonly string[]): Promise<Connection> {
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
      const fail = (err: unknown) => {
        clearTimeout(timer);
        socket.removeAllListeners('open');
        socket.terminate();
        // The reason matters to whoever reads it: a refused port, or a certificate this client does not trust.
        reject(new FloeError('UNAVAILABLE', `cannot connect to ${url}: ${(err as Error).message}`, { cause: err }));
      };
      socket.once('error', fail);
      socket.once('close', (code) => fail(new Error(`closed with ${code} while opening`)));
      socket.once('open', () => {
        clearTimeout(timer);
        socket.removeListener('error', fail);
        socket.removeAllListeners('close');
        resolve(new Connection(url, socket, handlers));
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
    return id;
  }

  /** Stops reporting to the owner; the socket's later events are ignored. */
  detach(): void {
    this.#handlers = undefined;
  }

  /** Closes with `code`; destroys the socket if the peer does not answer within CLOSE_HANDSHAKE_MS. */
  close(code: number, reason: string): Promise<void> {
    const state = this.#socket.readyState;
    if (state === WebSocket.CLOSED) return Promise.resolve();
    if (state !== WebSocket.CLOSING) this.#socket.close(code, reason.slice(0, 100));
    const timer = setTimeout(() => this.#socket.terminate(), CLOSE_HANDSHAKE_MS);
    return this.#closed.finally(() => clearTimeout(timer));
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

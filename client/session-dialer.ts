// Finds a server that answers and opens (or resumes) the client's session
// there: tries the servers of the list in turn with backoff, opens a socket
// and says hello, and gives up only when attempts run out or a hello is
// refused for good. It owns the sockets that are opening or closing, so
// closing the client can wait for every one of them. It also opens the
// second socket of a move to the leader (resumeOn): one server, one
// attempt, the session resumed there while the current socket carries on.
//
// A server whose process is frozen (SIGSTOP, a paused VM) still has its
// kernel accept TCP connections, so opening a socket to it hangs until
// connectTimeoutMs. Like Happy Eyeballs (RFC 8305), a socket that has not
// opened within OPEN_STAGGER_MS does not hold the client up: the next server
// is dialed beside it, the first socket to open wins and the others are
// given up. A server that refuses at once is still followed by a backoff.
import { PROTOCOL_VERSION } from '../protocol/wire.ts';
import { backoffDelayMs } from './backoff.ts';
import type { ResolvedOptions } from './client-options.ts';
import { Connection, type ConnectionHandlers } from './connection.ts';
import { describeDialFailure, isCertificateFailure } from './dial-failure.ts';
import { FloeError, toFloeError } from './floe-error.ts';
import type { ServerList } from './server-list.ts';
import { helloReplySchema, type HelloReplyFrame, type PushFrame, type ReplyFrame } from './server-frames.ts';

/**
 * `ms` a socket may take to open before the next server is dialed beside it;
 * RFC 8305 §5 recommends 250 ms. A loopback or LAN open takes well under 10 ms.
 */
export const OPEN_STAGGER_MS = 250;

/** Hello answers after which retrying elsewhere cannot help. */
const HELLO_FATAL_CODES: ReadonlySet<string> = new Set(['UNSUPPORTED_PROTOCOL', 'BAD_REQUEST', 'UNAUTHORIZED', 'NOT_AUTHORIZED_USER']);

/** What a SessionDialer needs of its client. */
export interface SessionDialerHost {
  readonly options: ResolvedOptions;
  readonly servers: ServerList;
  /** Whether the client is closed: no new attempt starts. */
  closed(): boolean;
  /** The session to resume in hello; undefined for a new one. */
  sessionId(): string | undefined;
  /** The secret of that session (undefined: the server gave none, so the hello may not resume it). */
  sessionSecret(): string | undefined;
  /** The server no longer knows the session: the next hello opens a new one. */
  forgetSessionId(): void;
  /** Hello succeeded on `conn`; called synchronously inside the reply's message event. */
  onSessionReady(conn: Connection, hello: HelloReplyFrame): void;
  /** A reply (not hello's) on `conn`, a connection whose session is open: the current one, or a move's. */
  onReply(conn: Connection, frame: ReplyFrame): void;
  /** A push on `conn`, as onReply. */
  onPush(conn: Connection, frame: PushFrame): void;
  /** `conn` (whose session was open) closed, or sent what is not the protocol. */
  onConnectionLost(conn: Connection, code: number, reason: string): void;
  emitError(error: FloeError): void;
}

interface HelloWaiter {
  readonly conn: Connection;
  readonly frameId: number;
  onReply(frame: ReplyFrame): void;
  fail(error: FloeError): void;
}

/** Opens sessions for one client. */
export class SessionDialer {
  readonly #host: SessionDialerHost;
  /** Consecutive connection attempts that did not prove useful; reset by markUseful(). */
  #attempts = 0;
  #lastError: unknown;
  /** A session has opened since the client was made: from then on, certificate failures are retried like any other. */
  #everOpened = false;
  /** The hello in flight on each connection saying it (a reconnect's, a move's). */
  readonly #helloWaiters = new Map<Connection, HelloWaiter>();
  #sleep: { timer: NodeJS.Timeout; resolve(): void } | undefined;
  /** While sockets are being opened: dials at once (the client closing makes that give up). */
  #wakeDialer: (() => void) | undefined;
  readonly #opening = new Set<Promise<unknown>>();
  readonly #closingSockets = new Set<Promise<void>>();

  constructor(host: SessionDialerHost) {
    this.#host = host;
  }

  /** The server answered usefully (a heartbeat or a final answer): the attempt count starts over. */
  markUseful(): void {
    this.#attempts = 0;
  }

  /** Tries servers in turn until a session is open; throws when attempts run out or a hello is refused for good. */
  async connect(): Promise<void> {
    const host = this.#host;
    const options = host.options;
    while (!host.closed()) {
      if (this.#attempts >= options.reconnectAttemptsMax) throw this.#unreachable();
      if (this.#attempts > 0) await this.#sleepMs(backoffDelayMs(this.#attempts - 1, options, options.random));
      if (host.closed()) break;
      const opened = await this.#openFirst();
      try {
        await this.#hello(opened.conn, opened.box, (conn, hello) => host.onSessionReady(conn, hello));
        this.#everOpened = true;
        return;
      } catch (err) {
        const error = toFloeError(err);
        if (HELLO_FATAL_CODES.has(error.code) || error.code === 'CLOSED') throw error;
        this.#lastError = error;
        host.servers.advance();
      }
    }
    throw new FloeError('CLOSED', 'the client is closed');
  }

  #unreachable(): FloeError {
    const last = this.#lastError === undefined ? '' : `; the last: ${describeDialFailure(this.#lastError)}`;
    return new FloeError('SERVERS_UNREACHABLE', `no server answered in ${this.#attempts} attempt${this.#attempts === 1 ? '' : 's'}${last}`, { cause: this.#lastError });
  }

  /**
   * Opens a socket to the current server; when that fails, to the next one
   * after a backoff; and beside it when it has not opened within
   * OPEN_STAGGER_MS. Every dial counts as an attempt. Resolves with the
   * first socket that opens, its server made current, and gives up the
   * others; rejects with SERVERS_UNREACHABLE when attempts run out and
   * nothing is opening, CLOSED when the client closes.
   */
  #openFirst(): Promise<{ conn: Connection; box: { conn: Connection | undefined } }> {
    const host = this.#host;
    const options = host.options;
    const rivals = new AbortController();
    const dialing = new Set<string>();
    /** Servers whose certificate this client refused, on a first connect. */
    const untrusted = new Set<string>();
    let settled = false;
    let nextDial: NodeJS.Timeout | undefined;
    return new Promise((resolve, reject) => {
      const finish = (outcome: { conn: Connection; box: { conn: Connection | undefined } } | FloeError) => {
        settled = true;
        clearTimeout(nextDial);
        this.#wakeDialer = undefined;
        rivals.abort();
        if (outcome instanceof FloeError) reject(outcome);
        else resolve(outcome);
      };
      const dialAfter = (delayMs: number) => {
        clearTimeout(nextDial);
        nextDial = setTimeout(dial, delayMs);
      };
      const dial = () => {
        clearTimeout(nextDial);
        if (settled) return;
        if (host.closed()) return finish(new FloeError('CLOSED', 'the client is closed'));
        if (this.#attempts >= options.reconnectAttemptsMax) {
          if (dialing.size === 0) finish(this.#unreachable());
          return;
        }
        // The first server from the current position that is not opening now.
        const url = host.servers.nextUntried(undefined, dialing);
        if (url === undefined) return; // every server is opening: the first to settle decides
        this.#attempts += 1;
        dialing.add(url);
        const box: { conn: Connection | undefined } = { conn: undefined };
        const opening = Connection.open(url, options.connectTimeoutMs, this.#handlersFor(box), options, options.ca, rivals.signal);
        this.#opening.add(opening);
        void opening.finally(() => this.#opening.delete(opening)).catch(() => undefined);
        opening.then(
          (conn) => {
            dialing.delete(url);
            if (settled) {
              this.discard(conn, 'another server answered first');
              return;
            }
            while (host.servers.current() !== url) host.servers.advance();
            finish({ conn, box });
          },
          (err: unknown) => {
            dialing.delete(url);
            if (settled) return;
            this.#lastError = err;
            // A first connect where every server shows a certificate this client refuses fails now:
            // a missing or wrong CA does not mend by retrying (a session already open keeps retrying).
            if (!this.#everOpened && isCertificateFailure(err)) untrusted.add(url);
            if (untrusted.size > 0 && host.servers.urls.every((u) => untrusted.has(u))) return finish(this.#unreachable());
            if (host.servers.current() === url) host.servers.advance();
            dialAfter(backoffDelayMs(this.#attempts - 1, options, options.random));
          },
        );
        dialAfter(OPEN_STAGGER_MS);
      };
      this.#wakeDialer = dial;
      dial();
    });
  }

  /** The client is closing: ends the backoff wait and fails the hello in flight. */
  interrupt(): void {
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
      this.#sleep = undefined;
    }
    this.#wakeDialer?.();
    for (const waiter of [...this.#helloWaiters.values()]) waiter.fail(new FloeError('CLOSED', 'the client is closed'));
  }

  /**
   * Opens a socket to `url` and resumes the session there, once, leaving
   * the current connection alone: `done` resolves once the server answered
   * the hello with the same session (onReady has run, synchronously inside
   * that reply's message event, and owns the connection from then on), and
   * rejects when the socket does not open within connectTimeoutMs, the
   * hello is refused or does not resume the session, or `abort()` is called
   * first. Counts no connection attempt: the session is open elsewhere.
   */
  resumeOn(url: string, onReady: (conn: Connection, hello: HelloReplyFrame) => void): { done: Promise<void>; abort(reason: string): void } {
    const options = this.#host.options;
    const giveUp = new AbortController();
    const box: { conn: Connection | undefined } = { conn: undefined };
    const opening = Connection.open(url, options.connectTimeoutMs, this.#handlersFor(box), options, options.ca, giveUp.signal);
    this.#opening.add(opening);
    void opening.finally(() => this.#opening.delete(opening)).catch(() => undefined);
    const done = opening.then((conn) => {
      if (giveUp.signal.aborted) {
        this.discard(conn, 'move given up');
        throw new FloeError('ABORTED', `move to ${url} given up`);
      }
      return this.#hello(conn, box, onReady, true);
    });
    return {
      done,
      abort: (reason) => {
        giveUp.abort();
        if (box.conn !== undefined) this.#helloWaiters.get(box.conn)?.fail(new FloeError('ABORTED', reason));
      },
    };
  }

  /** Lets go of `conn`: it reports nothing more, and its close (with `code`, `reason`) is kept until it settles, for drain(). */
  discard(conn: Connection, reason: string, code = 1000): void {
    conn.detach();
    this.#trackClosing(conn.close(code, reason));
  }

  /** Keeps `closing` (a socket's close) until it settles, for drain(). */
  #trackClosing(closing: Promise<void>): void {
    this.#closingSockets.add(closing);
    void closing.finally(() => this.#closingSockets.delete(closing));
  }

  /** Waits until every socket opening or closing now has settled. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#opening]);
    await Promise.allSettled([...this.#closingSockets]);
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

  /**
   * Says hello on `conn`, just opened; resolves once the session is ready
   * there (`onReady` has run). `move`: the hello must resume the current
   * session (the client's session stays open elsewhere meanwhile), so a
   * session the server no longer knows fails it instead of opening another.
   */
  #hello(conn: Connection, box: { conn: Connection | undefined }, onReady: (conn: Connection, hello: HelloReplyFrame) => void, move = false): Promise<void> {
    const host = this.#host;
    const options = host.options;
    const url = conn.url;
    return new Promise<void>((resolve, reject) => {
      box.conn = conn;
      if (host.closed()) {
        this.discard(conn, 'client closed');
        reject(new FloeError('CLOSED', 'the client is closed'));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const fail = (error: FloeError) => {
        clearTimeout(timer);
        this.#helloWaiters.delete(conn);
        this.discard(conn, 'hello failed');
        reject(error);
      };
      const sendHello = () => {
        const sessionId = host.sessionId();
        const sessionSecret = sessionId !== undefined ? host.sessionSecret() : undefined;
        const frameId = conn.send({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          clientId: options.clientId,
          user: options.user,
          host: options.host,
          app: options.app,
          ...(sessionId !== undefined ? { sessionId } : {}),
          ...(sessionSecret !== undefined ? { sessionSecret } : {}),
        });
        clearTimeout(timer);
        timer = setTimeout(
          () => fail(new FloeError('UNAVAILABLE', `${url} did not answer hello within ${options.replyTimeoutMs} ms`)),
          options.replyTimeoutMs,
        );
        this.#helloWaiters.set(conn, {
          conn,
          frameId,
          fail,
          // Runs synchronously inside the socket's message event, so pushes
          // that follow the reply in the same chunk already see the session.
          onReply: (frame) => {
            clearTimeout(timer);
            this.#helloWaiters.delete(conn);
            if (!frame.ok) {
              if (frame.error.code === 'SESSION_NOT_FOUND' && host.sessionId() !== undefined && !move) {
                host.forgetSessionId(); // gone for good: open a new one, below
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
            if (move && (hello.data.sessionId !== host.sessionId() || hello.data.resumed === false)) {
              fail(new FloeError('SESSION_NOT_FOUND', `${url} did not resume the session`));
              return;
            }
            onReady(conn, hello.data);
            resolve();
          },
        });
      };
      sendHello();
    });
  }

  #handlersFor(box: { conn: Connection | undefined }): ConnectionHandlers {
    const host = this.#host;
    // Until its hello is answered a connection belongs to its waiter; then to the host, which tells its connections apart.
    return {
      onReply: (frame) => {
        const conn = box.conn;
        if (conn === undefined) return;
        const waiter = this.#helloWaiters.get(conn);
        if (waiter === undefined) host.onReply(conn, frame);
        else if (waiter.frameId === frame.id) waiter.onReply(frame);
      },
      onPush: (frame) => {
        const conn = box.conn;
        if (conn !== undefined && !this.#helloWaiters.has(conn)) host.onPush(conn, frame);
      },
      onClose: (code, reason) => {
        const conn = box.conn;
        if (conn === undefined) return;
        const waiter = this.#helloWaiters.get(conn);
        if (waiter !== undefined) waiter.fail(new FloeError('UNAVAILABLE', `${conn.url} closed (${code}) during hello`));
        else host.onConnectionLost(conn, code, reason);
      },
      onProtocolError: (error) => {
        host.emitError(error);
        const conn = box.conn;
        if (conn === undefined) return;
        const waiter = this.#helloWaiters.get(conn);
        if (waiter !== undefined) {
          waiter.fail(error);
          return;
        }
        this.discard(conn, 'protocol error', 1002);
        host.onConnectionLost(conn, 1002, error.message);
      },
    };
  }
}

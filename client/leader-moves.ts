// Moves a client's session to the server that leads the cluster (docs/client.md,
// "Which server it uses"). The servers name the leader's URL in hello's
// `leader` and push it when leadership moves; a session on a follower has
// each request forwarded to the leader, an extra hop and CPU on two nodes.
//
// A move is make-before-break, so the application sees no error and no seat
// is lost or doubled:
// 1. a second socket to the leader resumes the session there (the same
//    session id and secret: the leases stay, as after a failover) while the
//    current socket carries on serving calls;
// 2. once that hello is answered, new frames are held and the current
//    socket only finishes what it was asked (its replies still count; its
//    pushes are kept aside: the leader pushes the session's events now);
// 3. when nothing is in flight on it any more (or replyTimeoutMs passed: its
//    calls are then re-sent with their requestIds, idempotent as in a
//    failover), the client switches to the leader's socket, sends what was
//    held and closes the old one.
// A move that fails leaves the session where it was (the pushes kept aside
// are delivered) and LeaderPreference decides when to try that URL again.
import type { ResolvedOptions } from './client-options.ts';
import type { Connection } from './connection.ts';
import { LeaderPreference } from './leader-preference.ts';
import type { PendingCalls } from './pending-calls.ts';
import type { ServerList } from './server-list.ts';
import type { HelloReplyFrame, PushFrame } from './server-frames.ts';
import type { SessionDialer } from './session-dialer.ts';

/** Pushes kept aside from the old socket while a move finishes, at most; past it the move completes at once. */
const MOVE_PUSHES_KEPT_MAX = 1_000;

/** What LeaderMoves needs of its client. */
export interface LeaderMovesHost {
  readonly options: ResolvedOptions;
  readonly servers: ServerList;
  readonly calls: PendingCalls;
  readonly dialer: SessionDialer;
  closed(): boolean;
  /** The connection the session is open on (undefined while reconnecting). */
  current(): Connection | undefined;
  /** `ms` between heartbeats as the server asked (the spread of moves after a leader change). */
  heartbeatMs(): number | undefined;
  /** The resuming hello on the leader answered: bring leases in line with what it lists. */
  reconcile(hello: HelloReplyFrame): void;
  /** Make `conn` the session's connection (the old one is closed), then send what waits; `forced`: the old one's frames were given up. */
  switchTo(conn: Connection, hello: HelloReplyFrame, forced: boolean): void;
  /** Deliver pushes kept aside from the current connection (a move that failed after its hello). */
  deliver(pushes: readonly PushFrame[]): void;
  /** Frames may be sent again on the current connection (a move that held them failed). */
  resume(): void;
}

interface Move {
  readonly url: string;
  readonly abort: (reason: string) => void;
  /** The leader's socket and its hello's reply, once that hello resumed the session. */
  resumed: { conn: Connection; hello: HelloReplyFrame } | undefined;
  /** Pushes of the old socket since the hello on the new one, in order. */
  readonly pushes: PushFrame[];
  /** Gives up waiting for the old socket's answers. */
  forceTimer: NodeJS.Timeout | undefined;
}

/** The leader moves of one client. */
export class LeaderMoves {
  readonly #host: LeaderMovesHost;
  readonly #preference: LeaderPreference;
  /** The leader URL the servers named last. */
  #leader: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #move: Move | undefined;

  constructor(host: LeaderMovesHost) {
    this.#host = host;
    this.#preference = new LeaderPreference(host.options.random);
  }

  /** True while a move holds new frames back (its hello answered, the old socket finishing). */
  get holding(): boolean {
    return this.#move?.resumed !== undefined;
  }

  /**
   * A server named the leader: `url` (undefined: it did not say). `atOnce`:
   * a new session (nothing to spread), else a leader change or a resumed
   * session, spread over a heartbeat interval.
   */
  hint(url: string | undefined, atOnce: boolean): void {
    if (url === undefined || !this.#host.options.preferLeader) return;
    this.#leader = url;
    this.#schedule(atOnce);
  }

  /** `url` refused what the application asked (another server must serve it): do not move there for a long while. */
  avoid(url: string): void {
    const move = this.#move;
    if (move?.url === url && move.resumed === undefined) this.#fail(move, false);
    this.#preference.avoid(url, Date.now());
    if (this.#leader === url) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Whether a push on `conn` is the session's: the leader's socket once it resumed, else the current one. */
  ownsPush(conn: Connection, push: PushFrame): boolean {
    const move = this.#move;
    if (move?.resumed === undefined) return conn === this.#host.current();
    if (conn === move.resumed?.conn) return true;
    if (conn === this.#host.current()) {
      if (move.pushes.length < MOVE_PUSHES_KEPT_MAX) move.pushes.push(push);
      else this.#finish(true);
    }
    return false;
  }

  /** A reply was handled on the current connection: a move waiting for it to fall quiet may finish. */
  afterReply(): void {
    if (this.#move?.resumed !== undefined && this.#host.calls.frameCount === 0) this.#finish(false);
  }

  /**
   * `conn` closed. A move's own socket: the move failed. The current one
   * while a move finishes: the move finishes now (its calls re-sent on the
   * leader). Answers whether that was all (false: the client fails over as
   * usual, to `failoverTo` first when a move was under way).
   */
  onConnectionLost(conn: Connection): { handled: boolean; failoverTo?: string } {
    const move = this.#move;
    if (move === undefined) return { handled: false };
    if (conn === move.resumed?.conn) {
      this.#fail(move, true);
      return { handled: true };
    }
    if (conn !== this.#host.current()) return { handled: false };
    if (move.resumed !== undefined) {
      this.#finish(true);
      return { handled: true };
    }
    this.#fail(move, false);
    return { handled: false, failoverTo: move.url };
  }

  /** The client closes: no more moves; a move's socket is closed. */
  stop(): void {
    clearTimeout(this.#timer);
    const move = this.#move;
    this.#move = undefined;
    if (move === undefined) return;
    clearTimeout(move.forceTimer);
    move.abort('the client is closed');
    if (move.resumed !== undefined) this.#host.dialer.discard(move.resumed.conn, 'client closed');
  }

  /** Plans a move to the leader named last, if one is due. */
  #schedule(atOnce: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const url = this.#leader;
    const here = this.#host.current();
    if (url === undefined || here === undefined || this.#move !== undefined || this.#host.closed()) return;
    if (url === here.url || !this.#host.servers.urls.includes(url)) return;
    // Never from TLS to plain text, whatever a server says.
    if (here.url.startsWith('wss:') && !url.startsWith('wss:')) return;
    const spreadMs = atOnce ? 0 : (this.#host.heartbeatMs() ?? 0);
    const waitMs = this.#preference.waitMs(url, Date.now(), spreadMs);
    this.#timer = setTimeout(() => this.#start(url), waitMs);
  }

  #start(url: string): void {
    this.#timer = undefined;
    const here = this.#host.current();
    if (this.#host.closed() || this.#move !== undefined || here === undefined || url !== this.#leader || url === here.url) return;
    if (!this.#preference.take(Date.now())) return this.#schedule(false);
    const handle = this.#host.dialer.resumeOn(url, (conn, hello) => this.#onResumed(move, conn, hello));
    const move: Move = { url, abort: handle.abort, resumed: undefined, pushes: [], forceTimer: undefined };
    this.#move = move;
    handle.done.catch(() => {
      if (this.#move === move && move.resumed === undefined) this.#fail(move, true);
    });
  }

  /** The leader resumed the session on `conn` (inside the hello reply's message event). */
  #onResumed(move: Move, conn: Connection, hello: HelloReplyFrame): void {
    if (this.#move !== move || this.#host.closed()) {
      this.#host.dialer.discard(conn, 'move given up');
      return;
    }
    move.resumed = { conn, hello };
    this.#host.reconcile(hello);
    if (this.#host.calls.frameCount === 0) return this.#finish(false);
    move.forceTimer = setTimeout(() => this.#finish(true), this.#host.options.replyTimeoutMs);
  }

  /** Switches to the leader's socket; `forced`: the old socket's frames are given up (re-sent there). */
  #finish(forced: boolean): void {
    const move = this.#move;
    if (move?.resumed === undefined) return;
    const { resumed } = move;
    this.#move = undefined;
    clearTimeout(move.forceTimer);
    this.#preference.succeeded(move.url);
    this.#host.switchTo(resumed.conn, resumed.hello, forced);
    // The leader may have moved again meanwhile.
    this.#schedule(false);
  }

  /** The move failed; `counts`: the leader URL's fault (it backs off), not an abort from here. */
  #fail(move: Move, counts: boolean): void {
    if (this.#move !== move) return;
    this.#move = undefined;
    clearTimeout(move.forceTimer);
    move.abort('move failed');
    if (move.resumed !== undefined) this.#host.dialer.discard(move.resumed.conn, 'move failed');
    if (counts) this.#preference.failed(move.url, Date.now());
    if (move.resumed !== undefined) {
      this.#host.deliver(move.pushes);
      this.#host.resume();
    }
    if (counts) this.#schedule(false);
  }
}

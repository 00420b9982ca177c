// Keeps a session alive: every heartbeatMs it sends one heartbeat (never two
// in flight) and, on the same tick, presumes the connection dead when any
// frame has gone unanswered for longer than replyTimeoutMs. A heartbeat's
// answer renews every lease's deadline; its refusal may mean the session is
// gone from this server, so the client fails over.
import type { Connection } from './connection.ts';
import { FloeError } from './floe-error.ts';
import type { PendingCalls } from './pending-calls.ts';
import { heartbeatReplySchema, type ReplyFrame } from './server-frames.ts';

/** What a Heartbeat needs of its client. */
export interface HeartbeatHost {
  /** `ms` a frame may go unanswered before the connection is presumed dead. */
  readonly replyTimeoutMs: number;
  readonly calls: PendingCalls;
  /** The current connection; undefined while (re)connecting. */
  connection(): Connection | undefined;
  /** Leaves the current server for the next one. */
  dropConnection(reason: string): void;
  emitError(error: FloeError): void;
  /** The server answered a heartbeat: it is useful; `expiresAt` (epoch `ms`) is the leases' new deadline when it said one. */
  onRenewed(expiresAt: number | undefined): void;
}

/** The heartbeat timer of one client. */
export class Heartbeat {
  readonly #host: HeartbeatHost;
  #timer: NodeJS.Timeout | undefined;
  /** The heartbeat frame in flight; undefined when none is. */
  #frameId: number | undefined;

  constructor(host: HeartbeatHost) {
    this.#host = host;
  }

  /** (Re)starts beating every `intervalMs` (`ms`); does nothing without one. */
  start(intervalMs: number | undefined): void {
    this.stop();
    if (intervalMs === undefined) return;
    this.#timer = setInterval(() => this.#tick(), intervalMs);
  }

  /** Stops beating and forgets the heartbeat in flight. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#frameId = undefined;
  }

  #tick(): void {
    const host = this.#host;
    const conn = host.connection();
    if (conn === undefined) return;
    const nowMs = Date.now();
    if (host.calls.hasFrameOlderThan(nowMs, host.replyTimeoutMs)) {
      host.dropConnection(`no reply within ${host.replyTimeoutMs} ms`);
      return;
    }
    if (this.#frameId !== undefined) return; // one heartbeat in flight at a time
    this.#frameId = conn.send({ type: 'heartbeat' });
    host.calls.trackFrame(this.#frameId, 'heartbeat');
  }

  /** The answer to the heartbeat in flight. */
  onReply(frame: ReplyFrame): void {
    const host = this.#host;
    this.#frameId = undefined;
    if (!frame.ok) {
      const code = frame.error.code;
      if (code === 'UNAVAILABLE' || code === 'SESSION_NOT_FOUND' || code === 'HELLO_REQUIRED') host.dropConnection(`heartbeat: ${code}`);
      else if (code !== 'RATE_LIMITED') host.emitError(new FloeError(code, `heartbeat refused: ${frame.error.message}`));
      return;
    }
    const reply = heartbeatReplySchema.safeParse(frame);
    host.onRenewed(reply.success ? reply.data.expiresAt : undefined);
  }
}

// The outbound half of the peer transport for one peer: dial its url, prove
// who we are and check who it is (peer-auth.ts), then write queued Raft
// messages to it as batched frames. Reconnects with exponential backoff and
// jitter, pings to notice a dead peer, and stops writing when the socket's
// buffer is full. Inbound connections are handled by PeerTransport.
//
// A ping proves two things: to the peer, that we are alive on this socket
// (its inbound check wants to hear from us); to us, that the peer is alive
// (its pong). A link pings every clockProbeIntervalMs (the clock probe, and
// proof enough for a link that carries nothing, such as the one between two
// followers), and at every check (pingIntervalMs) while it writes frames the
// peer does not answer: while Raft traffic flows both ways (a leader and its
// follower: heartbeats out, responses in on the peer's own connection) the
// frames prove both ends alive. The peer is dead when it owes us an answer
// (to a frame or a ping of ours) for peerDeadAfterMs: a peer that falls
// silent while we write to it is noticed as fast as before, one on a quiet
// link within peerDeadAfterMs of the next clock probe.
import type { KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { PeerCertificate } from 'node:tls';
import { WebSocket, type RawData } from 'ws';
import type { Message, NodeId } from '../raft/types.ts';
import { closeSocket } from './close-socket.ts';
import { APP_PAYLOADS_PER_FRAME_MAX, appFrameBytes, encodeAppFrame } from './app-frame.ts';
import { ClockSkewSamples, decodeProbeReply, encodeProbe } from './clock-probe.ts';
import { frameBytesBound, messageBytesBound, messageLimitViolation } from './message-bounds.ts';
import { encodeFrame } from './message-codec.ts';
import {
  HANDSHAKE_BYTES_MAX,
  createNonce,
  decodeHandshake,
  encodeHandshake,
  handshakeTranscript,
  verifySignature,
  type Ed25519PublicKey,
} from './peer-auth.ts';
import { certificateNotAfterMs, expectPeerNodeId, PEER_TLS_VERSION_MIN, type PeerTls } from './peer-tls.ts';
import { SendQueue } from './send-queue.ts';
import { createUpgradeToken, UPGRADE_TOKEN_HEADER } from './upgrade-token.ts';
import { REFUSAL_CLOSE_CODES, type RefusalReason, type TransportLimits, type TransportLogger } from './transport-config.ts';

/** One other member of the cluster, as the config lists it. */
export interface PeerConfig {
  /** Its node id. */
  readonly id: NodeId;
  /** Where it listens for peers, e.g. "ws://10.0.0.2:7400/raft". */
  readonly url: string;
  /** Its identity public key (raw 32 bytes or a KeyObject). */
  readonly publicKey: Ed25519PublicKey;
}

/** What a link needs from its transport. */
export interface PeerLinkContext {
  readonly nodeId: NodeId;
  /** This node's lock code, stated in its handshakes ("" for none). */
  readonly lockCode: string;
  /** The peer proved its identity and stated `lockCode` in a signed welcome. */
  lockCodeStated(peerId: NodeId, lockCode: string): void;
  readonly sign: (message: Uint8Array) => Uint8Array;
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  readonly random: () => number;
  /** `ms` since the epoch: this node's wall clock, to measure the peer's against. */
  readonly wallClock: () => number;
  /** CA certificate(s), PEM, for wss:// peers. */
  readonly tlsCa?: string | readonly string[];
  /** Mutual TLS now (read at each dial, so a reload applies to the next connection); undefined: none. */
  peerTls(): PeerTls | undefined;
  /** Counts and logs a refusal. */
  refused(reason: RefusalReason, fields: Readonly<Record<string, unknown>>): void;
  /** The peer's listener showed a certificate that names it, ending at `notAfterMs` (ms since the epoch). */
  certificateSeen?(peerId: NodeId, notAfterMs: number): void;
  /** The peer could not be reached (dial failed, connection lost or dead). */
  unreachable(peerId: NodeId): void;
  /** An authenticated connection to the peer closed (reset, closed by it, or dead after silence). */
  connectionLost(peerId: NodeId): void;
  /** A snapshot message for the peer was written to its socket (ok) or dropped (not ok). */
  snapshotStatus(peerId: NodeId, ok: boolean): void;
}

/** Counters of one link; see PeerStats. */
export interface LinkCounters {
  sentMessages: number;
  sentFrames: number;
  sentBytes: number;
  droppedQueueFull: number;
  droppedOversized: number;
  backpressureStalls: number;
  connects: number;
  dialFailures: number;
  /** App payloads written, and refused (not connected, queue full). */
  sentAppPayloads: number;
  droppedAppPayloads: number;
}

type LinkState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'backoff'; readonly timer: NodeJS.Timeout }
  | { readonly kind: 'awaiting-challenge'; readonly ws: WebSocket; readonly timer: NodeJS.Timeout }
  | {
      readonly kind: 'awaiting-welcome';
      readonly ws: WebSocket;
      readonly timer: NodeJS.Timeout;
      readonly listenerNonce: Uint8Array;
      readonly dialerNonce: Uint8Array;
    }
  | { readonly kind: 'open'; readonly ws: WebSocket }
  | { readonly kind: 'stopped' };

/** The outbound connection to one peer and the queue of messages for it. */
export class PeerLink {
  readonly queue: SendQueue;
  /** The peer's wall clock against ours, from the pings of the open connection. */
  readonly clockSkew = new ClockSkewSamples();
  readonly counters: LinkCounters = {
    sentMessages: 0,
    sentFrames: 0,
    sentBytes: 0,
    droppedQueueFull: 0,
    droppedOversized: 0,
    backpressureStalls: 0,
    connects: 0,
    dialFailures: 0,
    sentAppPayloads: 0,
    droppedAppPayloads: 0,
  };
  /** App payloads waiting for the next flush (only while connected). Invariant: appQueueBytes <= frameBytesMax. */
  private appQueue: Uint8Array[] = [];
  private appQueueBytes = 0;
  private state: LinkState = { kind: 'idle' };
  /** Consecutive failed attempts since the last authenticated connection. */
  private failures = 0;
  /**
   * performance.now() of our first frame or ping since the peer last showed
   * signs of life (a pong here, or a frame or ping on its connection to us);
   * undefined while it owes us nothing. Older than peerDeadAfterMs: dead.
   */
  private owedSinceMs: number | undefined;
  /** performance.now() of the last ping written on the open socket. */
  private lastPingMs = 0;
  /** A frame was written since the last tick(). */
  private wroteSinceTick = false;
  /** The peer was heard (pong, or a frame on its connection to us) since the last tick(). */
  private heardSinceTick = false;
  /** Set while a backpressure re-check is scheduled. */
  private backpressureTimer: NodeJS.Timeout | undefined;
  /** Sockets being closed, so stop() can wait for them. */
  private readonly closing = new Set<Promise<void>>();

  constructor(
    readonly peer: PeerConfig,
    private readonly key: KeyObject,
    private readonly ctx: PeerLinkContext,
  ) {
    this.queue = new SendQueue(ctx.limits.sendQueueMessagesMax, ctx.limits.sendQueueBytesMax);
  }

  /** True once the peer proved its identity and frames can flow. */
  get connected(): boolean {
    return this.state.kind === 'open';
  }

  /** Starts dialing (idempotent). */
  start(): void {
    if (this.state.kind === 'idle') this.dial();
  }

  /** Queues messages for the peer; they go out at the next flush(). */
  enqueue(message: Message): void {
    const violation = messageLimitViolation(message, this.ctx.limits);
    if (violation !== undefined) {
      this.counters.droppedOversized += 1;
      this.ctx.logger.warn('message dropped: the peer would refuse it', { peerId: this.peer.id, type: message.type, violation });
      this.dropped(message);
      return;
    }
    this.counters.droppedQueueFull += this.queue.push(message, messageBytesBound(message), this.dropped);
  }

  /**
   * Queues an opaque app payload for the next flush. Refused (false) when the
   * peer is not connected now or the pending payloads would pass one frame:
   * the caller learns at once that it must answer or retry on its own.
   */
  enqueueApp(payload: Uint8Array): boolean {
    const { frameBytesMax } = this.ctx.limits;
    if (
      this.state.kind !== 'open' ||
      this.appQueue.length >= APP_PAYLOADS_PER_FRAME_MAX ||
      appFrameBytes(this.appQueue.length + 1, this.appQueueBytes + payload.length) > frameBytesMax
    ) {
      this.counters.droppedAppPayloads += 1;
      return false;
    }
    this.appQueue.push(payload);
    this.appQueueBytes += payload.length;
    return true;
  }

  /** Tells the transport about a message that will never be written; only snapshots are reported. */
  readonly dropped = (message: Message): void => {
    if (message.type === 'snap') this.ctx.snapshotStatus(this.peer.id, false);
  };

  /** Writes what is queued, as frames of at most frameBytesMax, until the socket's buffer is full. */
  flush(): void {
    if (this.state.kind !== 'open') {
      this.dropAppQueue();
      return;
    }
    const { ws } = this.state;
    const { frameBytesMax, messagesPerFrameMax, socketBufferedBytesMax } = this.ctx.limits;
    if (this.appQueue.length > 0) {
      // App payloads (forwarded proposals) are small and latency-bound: they go first, in one frame.
      ws.send(encodeAppFrame(this.appQueue), { binary: true });
      this.wrote();
      this.counters.sentAppPayloads += this.appQueue.length;
      this.counters.sentFrames += 1;
      this.counters.sentBytes += appFrameBytes(this.appQueue.length, this.appQueueBytes);
      this.appQueue = [];
      this.appQueueBytes = 0;
    }
    const batch: Message[] = [];
    while (this.queue.messages > 0) {
      if (ws.bufferedAmount > socketBufferedBytesMax) {
        this.stall();
        return;
      }
      let bytes = frameBytesBound(0);
      batch.length = 0;
      for (let item = this.queue.peek(); item !== undefined; item = this.queue.peek()) {
        if (batch.length > 0 && (bytes + item.bytes > frameBytesMax || batch.length >= messagesPerFrameMax)) break;
        batch.push(item.message);
        bytes += item.bytes;
        this.queue.shift();
      }
      const frame = encodeFrame(batch);
      if (frame.length > frameBytesMax) {
        // Only a single message can get here (batches are cut by the bound): the peer would refuse it.
        this.counters.droppedOversized += batch.length;
        this.ctx.logger.warn('message dropped: larger than frameBytesMax', { peerId: this.peer.id, type: batch[0]?.type, frameBytes: frame.length, frameBytesMax });
        for (const message of batch) this.dropped(message);
        continue;
      }
      const snapshots = batch.reduce((n, message) => (message.type === 'snap' ? n + 1 : n), 0);
      if (snapshots === 0) {
        ws.send(frame, { binary: true });
      } else {
        // Raft waits in its snapshot state until told how the send went (reportSnapshot).
        ws.send(frame, { binary: true }, (error) => {
          for (let i = 0; i < snapshots; i++) this.ctx.snapshotStatus(this.peer.id, error === undefined || error === null);
        });
      }
      this.wrote();
      this.counters.sentFrames += 1;
      this.counters.sentMessages += batch.length;
      this.counters.sentBytes += frame.length;
    }
  }

  /** The peer sent a frame or a ping on its own connection to us: it is alive. */
  peerHeard(): void {
    this.owedSinceMs = undefined;
    this.heardSinceTick = true;
  }

  /**
   * Called every pingIntervalMs: closes an open connection whose peer owes
   * us an answer for longer than peerDeadAfterMs, and pings it when it did
   * not answer what we wrote since the last call, or when the clock probe
   * is due (every clockProbeIntervalMs).
   */
  tick(nowMs: number): void {
    const unanswered = this.wroteSinceTick && !this.heardSinceTick;
    this.wroteSinceTick = false;
    this.heardSinceTick = false;
    // A handshake in progress is bounded by handshakeTimeoutMs instead.
    if (this.state.kind !== 'open') return;
    const { ws } = this.state;
    const { peerDeadAfterMs, clockProbeIntervalMs } = this.ctx.limits;
    if (this.owedSinceMs !== undefined && nowMs - this.owedSinceMs > peerDeadAfterMs) {
      this.ctx.logger.warn('peer connection dead: nothing heard', { peerId: this.peer.id, unansweredMs: Math.round(nowMs - this.owedSinceMs) });
      ws.terminate();
      return;
    }
    if (!unanswered && nowMs - this.lastPingMs < clockProbeIntervalMs) return;
    this.lastPingMs = nowMs;
    this.owedSinceMs ??= nowMs;
    ws.ping(encodeProbe(nowMs));
  }

  /** A frame went out: the peer owes us an answer from now (its next frame or pong). */
  private wrote(): void {
    this.wroteSinceTick = true;
    this.owedSinceMs ??= performance.now();
  }

  /** Closes the link for good; resolves when its socket is gone. Queued messages are dropped. */
  async stop(code: number, reason: string): Promise<void> {
    const state = this.state;
    this.state = { kind: 'stopped' };
    clearTimeout(this.backpressureTimer);
    this.backpressureTimer = undefined;
    if (state.kind === 'backoff' || state.kind === 'awaiting-challenge' || state.kind === 'awaiting-welcome') clearTimeout(state.timer);
    if (state.kind === 'open' || state.kind === 'awaiting-challenge' || state.kind === 'awaiting-welcome') {
      this.closeWith(state.ws, code, reason);
    }
    this.queue.clear(this.dropped);
    this.dropAppQueue();
    await Promise.all([...this.closing]);
  }

  private dropAppQueue(): void {
    this.counters.droppedAppPayloads += this.appQueue.length;
    this.appQueue = [];
    this.appQueueBytes = 0;
  }

  /** Our certificate, the site CA only, and the listener's certificate must name the peer's node id. */
  private mutualTlsOptions(): Record<string, unknown> {
    const tls = this.ctx.peerTls();
    if (tls === undefined) return {};
    const refused = (names: readonly string[]) => this.ctx.refused('AUTH_CERT_NODE_MISMATCH', { direction: 'outbound', peerId: this.peer.id, url: this.peer.url, certificateNames: names });
    const expected = expectPeerNodeId(this.peer.id, refused);
    const checkServerIdentity = (host: string, cert: PeerCertificate) => {
      const error = expected(host, cert);
      const notAfterMs = certificateNotAfterMs(cert);
      if (error === undefined && notAfterMs !== undefined) this.ctx.certificateSeen?.(this.peer.id, notAfterMs);
      return error;
    };
    return { cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: PEER_TLS_VERSION_MIN, checkServerIdentity };
  }

  private dial(): void {
    const { limits } = this.ctx;
    const ws = new WebSocket(this.peer.url, {
      perMessageDeflate: false,
      maxPayload: HANDSHAKE_BYTES_MAX,
      handshakeTimeout: limits.handshakeTimeoutMs,
      // An all-zero masking key lets ws skip masking on both ends (a copy and an XOR pass per
      // frame). Masking protects HTTP intermediaries from frames crafted by browser scripts;
      // these are server-to-server links carrying frames from authenticated peers.
      generateMask: (mask) => mask.fill(0),
      // Vouches for us before the handshake: the listener keeps pre-auth slots for its members (upgrade-token.ts).
      headers: { [UPGRADE_TOKEN_HEADER]: createUpgradeToken(this.ctx.nodeId, this.peer.id, this.ctx.wallClock(), this.ctx.sign) },
      ...(this.ctx.tlsCa === undefined ? {} : { ca: typeof this.ctx.tlsCa === 'string' ? this.ctx.tlsCa : [...this.ctx.tlsCa] }),
      ...this.mutualTlsOptions(),
    });
    const timer = setTimeout(() => this.refuse(ws, 'HANDSHAKE_TIMEOUT', {}), limits.handshakeTimeoutMs);
    this.state = { kind: 'awaiting-challenge', ws, timer };
    this.owedSinceMs = undefined;
    ws.on('message', (data, isBinary) => this.onMessage(ws, data, isBinary));
    ws.on('pong', (data) => {
      if (!('ws' in this.state) || this.state.ws !== ws) return;
      this.owedSinceMs = undefined;
      this.heardSinceTick = true;
      const reply = decodeProbeReply(data);
      if (reply !== undefined) this.clockSkew.record(reply, performance.now(), this.ctx.wallClock());
    });
    ws.on('error', (error: Error & { code?: string }) => {
      // 'close' follows. Retries of a down peer fail routinely: warn for the first failure of a streak only.
      const fields = { peerId: this.peer.id, url: this.peer.url, error: error.message, code: error.code };
      if (this.failures === 0) this.ctx.logger.warn('peer connection error', fields);
      else this.ctx.logger.info('peer connection error', fields);
    });
    ws.on('close', (code, reason) => {
      if (this.state.kind === 'stopped' || !('ws' in this.state) || this.state.ws !== ws) return;
      const opened = this.state.kind === 'open';
      if ('timer' in this.state) clearTimeout(this.state.timer);
      clearTimeout(this.backpressureTimer);
      this.backpressureTimer = undefined;
      if (opened) this.ctx.logger.warn('peer connection lost', { peerId: this.peer.id, code, reason: reason.toString() });
      else this.counters.dialFailures += 1;
      this.failures += 1;
      this.scheduleDial();
      if (opened) this.ctx.connectionLost(this.peer.id);
      this.ctx.unreachable(this.peer.id);
    });
  }

  /**
   * The peer just proved itself on an inbound connection: it is up, so a
   * link waiting out its reconnect backoff dials now. Without this, a
   * follower whose link to a restarted peer had backed off to seconds could
   * not send it a vote when the leader died (measured: elections of 0.9–1.6 s
   * instead of ~0.3 s when the leader died shortly after another node's restart).
   */
  peerIsUp(): void {
    if (this.state.kind !== 'backoff') return;
    clearTimeout(this.state.timer);
    this.failures = 0;
    this.dial();
  }

  private scheduleDial(): void {
    const { reconnectDelayMsMin, reconnectDelayMsMax } = this.ctx.limits;
    const ceiling = Math.min(reconnectDelayMsMax, reconnectDelayMsMin * 2 ** Math.min(this.failures - 1, 30));
    // Equal jitter: never sooner than half the delay, so a down peer is not hammered.
    const delayMs = ceiling / 2 + (this.ctx.random() * ceiling) / 2;
    const timer = setTimeout(() => {
      if (this.state.kind === 'backoff') this.dial();
    }, delayMs);
    this.state = { kind: 'backoff', timer };
  }

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    const state = this.state;
    if (!('ws' in state) || state.ws !== ws) return;
    this.owedSinceMs = undefined;
    if (state.kind === 'open' || isBinary) {
      this.refuse(ws, 'FRAME_UNEXPECTED', { state: state.kind, binary: isBinary });
      return;
    }
    const text = rawText(data);
    if (state.kind === 'awaiting-challenge') {
      const challenge = decodeHandshake(text, 'challenge');
      if (challenge === undefined) return this.refuse(ws, 'HANDSHAKE_MALFORMED', { expected: 'challenge' });
      if (challenge.nodeId !== this.peer.id) return this.refuse(ws, 'AUTH_PEER_ID_MISMATCH', { listenerId: challenge.nodeId });
      const dialerNonce = createNonce();
      const { lockCode } = this.ctx;
      const transcript = handshakeTranscript('dialer', this.ctx.nodeId, this.peer.id, challenge.nonce, dialerNonce, lockCode);
      ws.send(encodeHandshake({ type: 'hello', nodeId: this.ctx.nodeId, peerId: this.peer.id, nonce: dialerNonce, lockCode, signature: this.ctx.sign(transcript) }));
      this.state = { kind: 'awaiting-welcome', ws, timer: state.timer, listenerNonce: challenge.nonce, dialerNonce };
      return;
    }
    const welcome = decodeHandshake(text, 'welcome');
    if (welcome === undefined) return this.refuse(ws, 'HANDSHAKE_MALFORMED', { expected: 'welcome' });
    const transcript = handshakeTranscript('listener', this.ctx.nodeId, this.peer.id, state.listenerNonce, state.dialerNonce, welcome.lockCode);
    if (!verifySignature(this.key, transcript, welcome.signature)) return this.refuse(ws, 'AUTH_SIGNATURE_INVALID', { side: 'listener' });
    clearTimeout(state.timer);
    this.ctx.lockCodeStated(this.peer.id, welcome.lockCode);
    this.state = { kind: 'open', ws };
    this.owedSinceMs = undefined;
    this.lastPingMs = Number.NEGATIVE_INFINITY; // a first clock probe at the first check
    this.clockSkew.clear();
    this.failures = 0;
    this.counters.connects += 1;
    this.ctx.logger.info('peer connected', { peerId: this.peer.id, connects: this.counters.connects });
    this.flush();
  }

  private refuse(ws: WebSocket, reason: RefusalReason, fields: Readonly<Record<string, unknown>>): void {
    this.ctx.refused(reason, { peerId: this.peer.id, url: this.peer.url, direction: 'outbound', ...fields });
    // Nothing more from this socket is looked at; its 'close' schedules the next dial.
    ws.removeAllListeners('message');
    this.closeWith(ws, REFUSAL_CLOSE_CODES[reason], reason);
  }

  private closeWith(ws: WebSocket, code: number, reason: string): void {
    const closed = closeSocket(ws, code, reason, this.ctx.limits.closeGraceMs);
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }

  private stall(): void {
    this.counters.backpressureStalls += 1;
    if (this.backpressureTimer !== undefined) return;
    this.backpressureTimer = setTimeout(() => {
      this.backpressureTimer = undefined;
      this.flush();
    }, this.ctx.limits.backpressureRetryMs);
  }
}

/** The text of a handshake frame (ws hands out Buffer, Buffer[] or ArrayBuffer). */
export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The bytes of a binary frame, without copying when ws gives one Buffer. */
export function rawBytes(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

// The listener's side of the peer transport: admits WebSocket upgrades on
// the peer path (members' vouched connections first, strangers within their
// pending slots), runs the listener's half of the Ed25519 handshake, counts a
// socket's bytes until it proves who it is, validates every frame an
// authenticated peer sends, and hands its messages and app payloads to the
// transport. Inbound connections only receive; PeerLink dials.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { KeyObject } from 'node:crypto';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import type { Message, NodeId } from '../raft/types.ts';
import { APP_FRAME_TAG, decodeAppFrame } from './app-frame.ts';
import { answerProbe } from './clock-probe.ts';
import { closeSocket } from './close-socket.ts';
import { decodeFrame } from './message-codec.ts';
import { HANDSHAKE_BYTES_MAX, HANDSHAKE_VERSION, createNonce, decodeHandshake, encodeHandshake, handshakeTranscript, verifySignature } from './peer-auth.ts';
import { rawBytes, rawText, type PeerLink, type PeerLinkContext } from './peer-link.ts';
import { inboundCertificateNodeIds, inboundCertificateNotAfterMs } from './peer-tls.ts';
import { CLOSE_CODES, REFUSAL_CLOSE_CODES, type RefusalReason } from './transport-config.ts';
import { UPGRADE_TOKEN_HEADER, verifyUpgradeToken } from './upgrade-token.ts';

/** Bytes an inbound socket may deliver before it authenticates: a hello, its framing, a ping or two. */
const PRE_AUTH_BYTES_MAX = 4 * HANDSHAKE_BYTES_MAX;

interface InboundConnection {
  readonly ws: WebSocket;
  /** "ip:port", for logs. */
  readonly remoteAddress: string;
  /** The source IP, which strangers' pre-auth slots are counted by. */
  readonly remoteIp: string;
  /** The member whose upgrade token it carried (its own pre-auth slots), or undefined for a stranger. */
  readonly vouchedFor: NodeId | undefined;
  readonly listenerNonce: Uint8Array;
  readonly handshakeTimer: NodeJS.Timeout;
  /** Set once the dialer proved its identity. */
  peerId: NodeId | undefined;
  /** Mutual TLS: the node ids its certificate names (the handshake must prove one of them); undefined on plain ws://. */
  readonly certNodeIds: readonly string[] | undefined;
  /** Bytes the socket delivered before authentication. Invariant: <= PRE_AUTH_BYTES_MAX, or the socket is destroyed. */
  preAuthBytes: number;
  /** Stops counting preAuthBytes (on authentication or close). */
  stopCountingBytes: () => void;
  /** Set when this node closes it (refused, replaced, stopping): its close then tells nothing of the peer. */
  closedByUs: boolean;
  lastHeardMs: number;
}

/** What one peer's inbound connections delivered. */
export interface ReceiveCounters {
  messages: number;
  frames: number;
  bytes: number;
}

/** What the inbound side needs of the transport it serves. */
export interface PeerInboundContext {
  /** The context the transport's links share: identity, limits, logger, refusals, lock codes, certificates, lost connections. */
  readonly link: PeerLinkContext;
  /** URL path peers connect to. */
  readonly path: string;
  /** True when the transport created its server: upgrades of other paths are refused here (else another handler may own them). */
  readonly ownsServer: boolean;
  readonly wss: WebSocketServer;
  /** The identity key of member `id`; undefined for a stranger. */
  peerKey(id: NodeId): KeyObject | undefined;
  /** Our own link to member `id`, if it is one. */
  peerLink(id: NodeId): PeerLink | undefined;
  /** False once the transport stops (or before it starts). */
  started(): boolean;
  /** Messages of one frame from authenticated `peerId`, each addressed from it to this node. */
  messages(peerId: NodeId, messages: Message[]): void;
  /** App payloads of one frame from authenticated `peerId`. */
  app(peerId: NodeId, payloads: Uint8Array[]): void;
}

/** The transport's inbound connections, from upgrade to close. */
export class PeerInbound {
  private readonly connections = new Set<InboundConnection>();
  private readonly received = new Map<NodeId, ReceiveCounters>();
  /** Refused connections still closing: stop() waits for them. */
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly ctx: PeerInboundContext) {}

  /** The members with an authenticated inbound connection open now. */
  connectedPeers(): Set<NodeId> {
    const peers = new Set<NodeId>();
    for (const conn of this.connections) if (conn.peerId !== undefined) peers.add(conn.peerId);
    return peers;
  }

  /** What `peerId`'s inbound connections delivered so far. */
  receiveCounters(peerId: NodeId): ReceiveCounters {
    let counters = this.received.get(peerId);
    if (counters === undefined) {
      counters = { messages: 0, frames: 0, bytes: 0 };
      this.received.set(peerId, counters);
    }
    return counters;
  }

  /** Member `id` left the cluster: its connections close and its counters go. */
  removePeer(id: NodeId): Promise<void>[] {
    this.received.delete(id);
    return [...this.connections].filter((conn) => conn.peerId === id).map((conn) => this.close(conn, CLOSE_CODES.PEER_REMOVED, 'PEER_REMOVED'));
  }

  /** Closes every connection; the promises settle when their sockets are gone. */
  stop(): Promise<void>[] {
    const closes = [...this.connections].map((conn) => this.close(conn, CLOSE_CODES.STOPPING, 'STOPPING'));
    return [...closes, ...this.closing];
  }

  /** Ends the authenticated connections nothing was heard on for too long (the liveness check). */
  checkLiveness(nowMs: number): void {
    const { limits, logger } = this.ctx.link;
    // A dialer pings at least every clockProbeIntervalMs once open (peer-link.ts), and at every
    // check while we leave its frames unanswered; longer silence means the dialer or the path died.
    // A handshake in progress is bounded by handshakeTimeoutMs instead.
    const silentMsMax = limits.peerDeadAfterMs + limits.clockProbeIntervalMs;
    for (const conn of this.connections) {
      if (conn.peerId !== undefined && nowMs - conn.lastHeardMs > silentMsMax) {
        logger.warn('inbound peer connection dead: nothing heard', { peerId: conn.peerId, remoteAddress: conn.remoteAddress });
        conn.ws.terminate();
      }
    }
  }

  /** The http server's 'upgrade' handler. */
  readonly onUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer): void => {
    const ctx = this.ctx;
    const link = ctx.link;
    const path = (request.url ?? '').split('?')[0];
    if (path !== ctx.path) {
      // Another upgrade handler of a shared server may own this path.
      if (ctx.ownsServer) this.refuseUpgrade(socket, 404, 'PATH_UNKNOWN', request);
      return;
    }
    // Members first: a connection vouched for by a member's signed token has slots of its own;
    // strangers share pendingConnectionsMax, at most pendingConnectionsPerAddressMax per address.
    const vouchedFor = verifyUpgradeToken(request.headers[UPGRADE_TOKEN_HEADER], link.nodeId, link.wallClock(), (id) => ctx.peerKey(id));
    const remoteIp = request.socket.remoteAddress ?? '?';
    if (vouchedFor !== undefined) {
      const mine = [...this.connections].filter((conn) => conn.peerId === undefined && conn.vouchedFor === vouchedFor);
      // A newer one is the member retrying (or a replay of its token): it takes the oldest one's place.
      for (let i = 0; i <= mine.length - link.limits.pendingConnectionsPerMemberMax; i++) this.dropPending(mine[i] as InboundConnection);
    } else {
      let pending = 0;
      let fromAddress = 0;
      for (const conn of this.connections) {
        if (conn.peerId !== undefined || conn.vouchedFor !== undefined) continue;
        pending += 1;
        if (conn.remoteIp === remoteIp) fromAddress += 1;
      }
      if (pending >= link.limits.pendingConnectionsMax) return this.refuseUpgrade(socket, 503, 'PENDING_CONNECTIONS_FULL', request);
      if (fromAddress >= link.limits.pendingConnectionsPerAddressMax) return this.refuseUpgrade(socket, 503, 'PENDING_ADDRESS_FULL', request);
    }
    const tls = link.peerTls();
    const certNodeIds = tls === undefined ? undefined : inboundCertificateNodeIds(request.socket);
    if (tls !== undefined && (certNodeIds === undefined || !certNodeIds.some((id) => ctx.peerKey(id) !== undefined))) {
      return this.refuseUpgrade(socket, 403, 'AUTH_CERT_NODE_MISMATCH', request, { certificateNames: certNodeIds ?? '(plain connection)' });
    }
    const notAfterMs = tls === undefined ? undefined : inboundCertificateNotAfterMs(request.socket);
    if (notAfterMs !== undefined) for (const id of certNodeIds ?? []) link.certificateSeen?.(id, notAfterMs);
    ctx.wss.handleUpgrade(request, socket, head, (ws) => this.onInbound(ws, request, socket, remoteIp, vouchedFor, certNodeIds));
  };

  /** Drops a connection still in its handshake at once (no close handshake: it has proved nothing). */
  private dropPending(conn: InboundConnection): void {
    clearTimeout(conn.handshakeTimer);
    conn.stopCountingBytes();
    conn.ws.removeAllListeners('message');
    this.connections.delete(conn);
    conn.ws.terminate();
  }

  private refuseUpgrade(socket: Socket, status: number, reason: RefusalReason, request: IncomingMessage, fields: Readonly<Record<string, unknown>> = {}): void {
    this.ctx.link.refused(reason, { direction: 'inbound', remoteAddress: request.socket.remoteAddress, path: request.url, ...fields });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroySoon();
  }

  private onInbound(ws: WebSocket, request: IncomingMessage, socket: Socket, remoteIp: string, vouchedFor: NodeId | undefined, certNodeIds: readonly string[] | undefined): void {
    const link = this.ctx.link;
    if (!this.ctx.started()) {
      ws.terminate();
      return;
    }
    // A stranger gets a short deadline; a member's vouched connection the dialer's own.
    const deadlineMs = vouchedFor === undefined ? link.limits.preAuthTimeoutMs : link.limits.handshakeTimeoutMs;
    const conn: InboundConnection = {
      ws,
      remoteAddress: `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`,
      remoteIp,
      vouchedFor,
      listenerNonce: createNonce(),
      handshakeTimer: setTimeout(() => this.refuse(conn, 'HANDSHAKE_TIMEOUT', { vouchedFor }), deadlineMs),
      peerId: undefined,
      certNodeIds,
      lastHeardMs: performance.now(),
      preAuthBytes: 0,
      closedByUs: false,
      stopCountingBytes: () => socket.off('data', countBytes),
    };
    // ws buffers a whole message (up to frameBytesMax) before we see it; an unauthenticated
    // socket gets only a handshake's worth of bytes, counted on the raw socket as they arrive.
    const countBytes = (chunk: Buffer): void => {
      conn.preAuthBytes += chunk.length;
      if (conn.preAuthBytes <= PRE_AUTH_BYTES_MAX) return;
      conn.stopCountingBytes();
      link.refused('HANDSHAKE_TOO_LARGE', { direction: 'inbound', remoteAddress: conn.remoteAddress, bytes: conn.preAuthBytes });
      ws.terminate();
    };
    socket.on('data', countBytes);
    this.connections.add(conn);
    ws.on('message', (data, isBinary) => {
      conn.lastHeardMs = performance.now();
      if (conn.peerId === undefined) return this.onHandshake(conn, data, isBinary);
      // The peer is alive: our own link to it need not ping it while it also writes.
      this.ctx.peerLink(conn.peerId)?.peerHeard();
      this.onFrame(conn, conn.peerId, data, isBinary);
    });
    ws.on('ping', (data) => {
      conn.lastHeardMs = performance.now();
      if (conn.peerId !== undefined) this.ctx.peerLink(conn.peerId)?.peerHeard();
      if (ws.readyState === ws.OPEN) ws.pong(answerProbe(data, link.wallClock()));
    });
    ws.on('error', (error: Error & { code?: string }) => {
      const reason: RefusalReason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'FRAME_TOO_LARGE' : 'WEBSOCKET_PROTOCOL_ERROR';
      link.refused(reason, { direction: 'inbound', peerId: conn.peerId, remoteAddress: conn.remoteAddress, error: error.message });
    });
    ws.on('close', () => {
      clearTimeout(conn.handshakeTimer);
      conn.stopCountingBytes();
      this.connections.delete(conn);
      if (conn.peerId !== undefined && !conn.closedByUs) link.connectionLost(conn.peerId);
    });
    ws.send(encodeHandshake({ type: 'challenge', version: HANDSHAKE_VERSION, nodeId: link.nodeId, nonce: conn.listenerNonce }));
  }

  private onHandshake(conn: InboundConnection, data: RawData, isBinary: boolean): void {
    const link = this.ctx.link;
    if (isBinary) return this.refuse(conn, 'FRAME_BEFORE_AUTH', {});
    const hello = decodeHandshake(rawText(data), 'hello');
    if (hello === undefined) return this.refuse(conn, 'HANDSHAKE_MALFORMED', { expected: 'hello' });
    const fields = { claimedNodeId: hello.nodeId };
    if (hello.peerId !== link.nodeId) return this.refuse(conn, 'AUTH_WRONG_LISTENER', { ...fields, addressedTo: hello.peerId });
    const key = this.ctx.peerKey(hello.nodeId);
    if (key === undefined) return this.refuse(conn, 'AUTH_UNKNOWN_NODE', fields);
    const transcript = handshakeTranscript('dialer', hello.nodeId, link.nodeId, conn.listenerNonce, hello.nonce, hello.lockCode);
    if (!verifySignature(key, transcript, hello.signature)) return this.refuse(conn, 'AUTH_SIGNATURE_INVALID', fields);
    if (conn.certNodeIds !== undefined && !conn.certNodeIds.includes(hello.nodeId)) return this.refuse(conn, 'AUTH_CERT_NODE_MISMATCH', { ...fields, certificateNames: conn.certNodeIds });
    link.lockCodeStated(hello.nodeId, hello.lockCode);
    clearTimeout(conn.handshakeTimer);
    conn.stopCountingBytes();
    for (const other of this.connections) {
      if (other !== conn && other.peerId === hello.nodeId) void this.close(other, CLOSE_CODES.REPLACED, 'REPLACED');
    }
    conn.peerId = hello.nodeId;
    const welcome = handshakeTranscript('listener', hello.nodeId, link.nodeId, conn.listenerNonce, hello.nonce, link.lockCode);
    conn.ws.send(encodeHandshake({ type: 'welcome', lockCode: link.lockCode, signature: link.sign(welcome) }));
    link.logger.info('peer accepted', { peerId: hello.nodeId, remoteAddress: conn.remoteAddress });
    // It dialed us, so it is up: our own link to it need not wait out its backoff.
    this.ctx.peerLink(hello.nodeId)?.peerIsUp();
  }

  private onFrame(conn: InboundConnection, peerId: NodeId, data: RawData, isBinary: boolean): void {
    if (!isBinary) return this.refuse(conn, 'FRAME_UNEXPECTED', { binary: false });
    const counters = this.receiveCounters(peerId);
    const frame = rawBytes(data);
    if (frame[0] === APP_FRAME_TAG) return this.onAppFrame(conn, peerId, frame, counters);
    const decoded = decodeFrame(frame, this.ctx.link.limits);
    if (!decoded.ok) return this.refuse(conn, 'FRAME_INVALID', { code: decoded.code, message: decoded.message });
    for (const message of decoded.messages) {
      if (message.from !== peerId || message.to !== this.ctx.link.nodeId) {
        return this.refuse(conn, 'MESSAGE_ADDRESS_INVALID', { from: message.from, to: message.to });
      }
    }
    counters.frames += 1;
    counters.messages += decoded.messages.length;
    counters.bytes += frame.length;
    this.ctx.messages(peerId, decoded.messages);
  }

  private onAppFrame(conn: InboundConnection, peerId: NodeId, frame: Uint8Array, counters: ReceiveCounters): void {
    const decoded = decodeAppFrame(frame, this.ctx.link.limits.frameBytesMax);
    if (!decoded.ok) return this.refuse(conn, 'FRAME_INVALID', { code: 'APP_FRAME_INVALID', message: decoded.message });
    counters.frames += 1;
    counters.bytes += frame.length;
    this.ctx.app(peerId, decoded.payloads);
  }

  private refuse(conn: InboundConnection, reason: RefusalReason, fields: Readonly<Record<string, unknown>>): void {
    this.ctx.link.refused(reason, { direction: 'inbound', peerId: conn.peerId, remoteAddress: conn.remoteAddress, ...fields });
    const closed = this.close(conn, REFUSAL_CLOSE_CODES[reason], reason);
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }

  private close(conn: InboundConnection, code: number, reason: string): Promise<void> {
    conn.closedByUs = true;
    clearTimeout(conn.handshakeTimer);
    // Stop listening to it now: nothing it sends after this reaches the handler.
    conn.ws.removeAllListeners('message');
    return closeSocket(conn.ws, code, reason, this.ctx.link.limits.closeGraceMs);
  }
}

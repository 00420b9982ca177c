// (~790 lines: the listener, the inbound handshake and the outbound links
// share one peer table and one lifecycle; peer-link.ts holds the dialer.)
// The peer transport: carries Raft messages between Floe servers over
// WebSockets. Each node listens on its peer address and dials every other
// peer for the messages it sends (PeerLink); inbound connections only
// receive. Both directions authenticate with the mutual Ed25519 handshake of
// peer-auth.ts before a single Raft frame is accepted, and everything a peer
// sends is validated (message-codec.ts) before it reaches the Raft core.
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { KeyObject } from 'node:crypto';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Message, NodeId } from '../raft/types.ts';
import { closeSocket } from './close-socket.ts';
import { APP_FRAME_TAG, decodeAppFrame } from './app-frame.ts';
import { answerProbe, type ClockSkew } from './clock-probe.ts';
import { UPGRADE_TOKEN_HEADER, verifyUpgradeToken } from './upgrade-token.ts';
import { decodeFrame } from './message-codec.ts';
import {
  HANDSHAKE_BYTES_MAX,
  HANDSHAKE_VERSION,
  LOCK_CODE_BYTES_MAX,
  createNonce,
  createSigner,
  decodeHandshake,
  encodeHandshake,
  handshakeTranscript,
  rawPublicKey,
  toPublicKeyObject,
  verifySignature,
  type PeerIdentity,
} from './peer-auth.ts';
import { PEER_TLS_VERSION_MIN, inboundCertificateNodeIds, inboundCertificateNotAfterMs, type PeerTls } from './peer-tls.ts';
import { PeerLink, rawBytes, rawText, type PeerConfig, type PeerLinkContext } from './peer-link.ts';
import {
  CLOSE_CODES,
  DEFAULT_TRANSPORT_LIMITS,
  REFUSAL_CLOSE_CODES,
  STDERR_LOGGER,
  type RefusalReason,
  type TransportLimits,
  type TransportLogger,
} from './transport-config.ts';
import type { PeerStats, TransportStats } from './transport-stats.ts';

export type { PeerConfig } from './peer-link.ts';

/**
 * The public surface of PeerTransport as a structural type, so a decorator
 * (FaultyTransport, tests only) can stand wherever the transport does.
 */
export type PeerTransportApi = { readonly [K in keyof PeerTransport]: PeerTransport[K] };

/** What the transport knows of one peer's lock code. */
export interface PeerLockCode {
  /** As the peer stated it in its latest signed handshake; undefined before one, or when it stated none. */
  readonly lockCode: string | undefined;
  /** True while an authenticated connection to or from the peer is open. */
  readonly connected: boolean;
}
export type { PeerStats, TransportStats } from './transport-stats.ts';

/** How to construct a PeerTransport. */
export interface PeerTransportOptions {
  /** This node's id. */
  readonly nodeId: NodeId;
  /**
   * Where to listen: a host and port (0 picks a free port; see start()), or an
   * existing http(s) server to attach to (its other upgrade paths are left alone).
   */
  readonly listen: { readonly host: string; readonly port: number } | HttpServer | NetServer;
  /** URL path peers connect to; default "/raft". */
  readonly path?: string;
  /** This node's Ed25519 identity (private key or signer, and public key). */
  readonly identity: PeerIdentity;
  /** This node's lock code, stated (signed) in every handshake; default "" (none). */
  readonly lockCode?: string;
  /** The other members; an entry with our own id is ignored. */
  readonly peers: readonly PeerConfig[];
  /** Overrides of DEFAULT_TRANSPORT_LIMITS. */
  readonly limits?: Partial<TransportLimits>;
  /** Where refusals and connection events are logged; default STDERR_LOGGER. */
  readonly logger?: TransportLogger;
  /** Uniform float in [0, 1) for backoff jitter; default Math.random. */
  readonly random?: () => number;
  /** `ms` since the epoch: the wall clock peers' clocks are measured against (and told in ping replies); default Date.now. */
  readonly wallClock?: () => number;
  /** CA certificate(s), PEM, trusted when dialing wss:// peers (default: Node's bundled CAs). */
  readonly tlsCa?: string | readonly string[];
  /**
   * Mutual TLS (peer-tls.ts): listen on wss:// asking every dialer for a
   * certificate of `ca`, dial with our certificate, and accept a member only
   * when its certificate names the node id its handshake proves. Every
   * peer URL must then be wss://.
   */
  readonly tls?: PeerTls;
}

/** `ms`: a TCP connection to our own server that has not sent its upgrade request by then is closed. */
const UPGRADE_REQUEST_TIMEOUT_MS = 5000;
/** `ms` between the http server's checks of that deadline. */
const UPGRADE_REQUEST_CHECK_MS = 1000;

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

interface ReceiveCounters {
  messages: number;
  frames: number;
  bytes: number;
}

/**
 * Carries Raft messages to and from the other members of the cluster.
 *
 * Lifecycle: construct, `start()`, `send()` freely, `stop()`. Messages given
 * to send() in one event-loop turn leave as one frame per peer. Delivery is
 * best effort, as Raft expects: messages may be dropped (full queue, dead
 * peer) but never corrupted, and never come from an unauthenticated
 * or misaddressed sender.
 */
export class PeerTransport {
  readonly nodeId: NodeId;
  private readonly limits: TransportLimits;
  private readonly logger: TransportLogger;
  private readonly path: string;
  private readonly publicKey: Uint8Array;
  private readonly linkContext: PeerLinkContext;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly peerKeys = new Map<NodeId, KeyObject>();
  /** `ms` since the epoch: when each member's TLS certificate ends, as last shown on a link (either direction). */
  private readonly peerCertificateEndsMs = new Map<NodeId, number>();
  /** The lock code each peer stated in its latest authenticated handshake (either direction); "" is not kept. */
  private readonly peerLockCodeById = new Map<NodeId, string>();
  private readonly received = new Map<NodeId, ReceiveCounters>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly refusals: Partial<Record<RefusalReason, number>> = {};
  /** When each refusal reason was last logged, and how many since were counted but not logged. */
  private readonly refusalLog = new Map<RefusalReason, { atMs: number; suppressed: number }>();
  private readonly messageHandlers = new Set<(messages: Message[]) => void>();
  private readonly unreachableHandlers = new Set<(peerId: NodeId) => void>();
  private readonly connectionLostHandlers = new Set<(peerId: NodeId) => void>();
  private readonly snapshotHandlers = new Set<(peerId: NodeId, ok: boolean) => void>();
  private readonly appHandlers = new Set<(peerId: NodeId, payloads: Uint8Array[]) => void>();
  private readonly closing = new Set<Promise<void>>();
  private readonly wss: WebSocketServer;
  private readonly server: NetServer;
  private readonly ownsServer: boolean;
  private readonly listenAt: { readonly host: string; readonly port: number } | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';
  /** Mutual TLS now; replaced by setTls(). */
  private tls: PeerTls | undefined;
  private flushScheduled: NodeJS.Immediate | undefined;
  /** The latest updatePeers() in progress; the next one waits for it. */
  private peersUpdate: Promise<void> = Promise.resolve();
  private livenessTimer: NodeJS.Timeout | undefined;
  private droppedUnknownPeerMessages = 0;
  private droppedUnhandledMessages = 0;

  constructor(options: PeerTransportOptions) {
    this.nodeId = options.nodeId;
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...options.limits };
    this.logger = options.logger ?? STDERR_LOGGER;
    this.path = options.path ?? '/raft';
    const sign = createSigner(options.identity);
    this.publicKey = rawPublicKey(toPublicKeyObject(options.identity.publicKey));
    const lockCode = options.lockCode ?? '';
    if (Buffer.byteLength(lockCode, 'utf8') > LOCK_CODE_BYTES_MAX) throw new Error(`lockCode: longer than ${LOCK_CODE_BYTES_MAX} bytes`);
    this.linkContext = {
      nodeId: this.nodeId,
      lockCode,
      lockCodeStated: (peerId, stated) => this.recordLockCode(peerId, stated),
      sign,
      limits: this.limits,
      logger: this.logger,
      random: options.random ?? Math.random,
      wallClock: options.wallClock ?? Date.now,
      ...(options.tlsCa === undefined ? {} : { tlsCa: options.tlsCa }),
      peerTls: () => this.tls,
      refused: (reason, fields) => this.countRefusal(reason, fields),
      certificateSeen: (peerId, notAfterMs) => {
        if (this.links.has(peerId)) this.peerCertificateEndsMs.set(peerId, notAfterMs);
      },
      snapshotStatus: (peerId, ok) => {
        for (const handler of this.snapshotHandlers) handler(peerId, ok);
      },
      unreachable: (peerId) => {
        for (const handler of this.unreachableHandlers) handler(peerId);
      },
      connectionLost: (peerId) => this.connectionLost(peerId),
    };
    // autoPong off: the pong to a dialer's clock probe carries our wall clock (clock-probe.ts).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.frameBytesMax, perMessageDeflate: false, clientTracking: false, autoPong: false });
    if (options.listen instanceof NetServer) {
      this.server = options.listen;
      this.ownsServer = false;
      this.listenAt = undefined;
    } else {
      // A stranger's silent TCP connections would otherwise hold a socket for the http default of 60 s.
      const timeouts = { headersTimeout: UPGRADE_REQUEST_TIMEOUT_MS, requestTimeout: UPGRADE_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: UPGRADE_REQUEST_CHECK_MS };
      const upgradeRequired = (_request: IncomingMessage, response: import('node:http').ServerResponse) => {
        response.writeHead(426, { 'content-type': 'text/plain' }).end('peer transport: WebSocket upgrade required\n');
      };
      if (options.tls === undefined) this.server = createServer(timeouts, upgradeRequired);
      else {
        const t = options.tls;
        const server = createHttpsServer({ ...timeouts, cert: t.cert, key: t.key, ca: t.ca, requestCert: true, rejectUnauthorized: true, minVersion: PEER_TLS_VERSION_MIN }, upgradeRequired);
        // No certificate, one of another CA, an expired one: refused before any byte of HTTP.
        server.on('tlsClientError', (error: Error & { code?: string }, socket: Socket) => {
          this.countRefusal('TLS_HANDSHAKE_FAILED', { direction: 'inbound', remoteAddress: socket.remoteAddress, error: error.message, code: error.code });
        });
        this.server = server;
      }
      this.ownsServer = true;
      this.listenAt = options.listen;
    }
    this.tls = options.tls;
    this.installPeers(this.validatePeers(options.peers));
  }

  /**
   * Replaces the certificate, key and CA of mutual TLS (a reload): new
   * connections, in and out, use them; authenticated ones stay open.
   */
  setTls(tls: PeerTls): void {
    if (this.tls === undefined) throw new Error('assert: setTls() on a transport started without mutual TLS');
    this.tls = tls;
    if (this.ownsServer) (this.server as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: PEER_TLS_VERSION_MIN });
  }

  /** Starts listening and dialing; resolves with the bound address (the real port when 0 was asked). */
  async start(): Promise<{ host: string; port: number }> {
    if (this.state !== 'new') throw new Error(`PeerTransport.start(): already ${this.state}`);
    this.state = 'started';
    this.server.on('upgrade', this.onUpgrade);
    if (this.ownsServer && this.listenAt !== undefined) {
      const { host, port } = this.listenAt;
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(port, host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    }
    this.livenessTimer = setInterval(() => this.checkLiveness(), this.limits.pingIntervalMs);
    for (const link of this.links.values()) link.start();
    return this.address();
  }

  /** The address the transport listens on (after start()). */
  address(): { host: string; port: number } {
    const address = this.server.address() as AddressInfo | string | null;
    if (address === null || typeof address === 'string') throw new Error('PeerTransport.address(): not listening on TCP');
    return { host: address.address, port: address.port };
  }

  /**
   * Queues messages for their `to` peers, without blocking. Everything sent
   * in one event-loop turn leaves as one frame per peer (split only beyond
   * frameBytesMax). Messages for unknown peers are dropped and counted.
   */
  send(messages: readonly Message[]): void {
    if (this.state === 'stopped') return;
    for (const message of messages) {
      if (message.from !== this.nodeId || message.to === this.nodeId) {
        throw new Error(`PeerTransport.send(): message ${message.type} from "${message.from}" to "${message.to}" on node "${this.nodeId}"`);
      }
      const link = this.links.get(message.to);
      if (link === undefined) {
        this.droppedUnknownPeerMessages += 1;
        continue;
      }
      link.enqueue(message);
    }
    this.scheduleFlush();
  }

  /**
   * Queues an opaque app payload for `peerId` (one frame per peer per turn,
   * beside the Raft frames). Answers false, at once, when it cannot go:
   * unknown peer, no authenticated connection now, or a full frame.
   * Delivery is best effort even when true: the caller bounds its wait.
   */
  sendApp(peerId: NodeId, payload: Uint8Array): boolean {
    if (this.state !== 'started') return false;
    const link = this.links.get(peerId);
    if (link === undefined) return false;
    if (!link.enqueueApp(payload)) return false;
    this.scheduleFlush();
    return true;
  }

  /** Registers the receiver of app payloads from authenticated peers (one call per frame); returns its unsubscribe. */
  onApp(handler: (peerId: NodeId, payloads: Uint8Array[]) => void): () => void {
    this.appHandlers.add(handler);
    return () => {
      this.appHandlers.delete(handler);
    };
  }

  /**
   * Registers a handler for messages from authenticated peers, called once per
   * received frame with its messages (every one validated, `from` the
   * authenticated peer and `to` this node). Entry data are views into a
   * private copy of the frame. A handler that throws crashes the process:
   * it is the driver's bug. Returns the unsubscribe function.
   */
  onMessages(handler: (messages: Message[]) => void): () => void {
    this.messageHandlers.add(handler);
    return () => {
      this.messageHandlers.delete(handler);
    };
  }

  /** Registers a handler told when a peer could not be reached (for raft.reportUnreachable); returns its unsubscribe function. */
  onUnreachable(handler: (peerId: NodeId) => void): () => void {
    this.unreachableHandlers.add(handler);
    return () => {
      this.unreachableHandlers.delete(handler);
    };
  }

  /**
   * Registers a handler told when an authenticated connection to or from a
   * peer closes without this node closing it: the peer's process died (the OS
   * reset its sockets), it stopped, or it fell silent past peerDeadAfterMs
   * (for raft.reportConnectionLost). Returns its unsubscribe function.
   */
  onConnectionLost(handler: (peerId: NodeId) => void): () => void {
    this.connectionLostHandlers.add(handler);
    return () => {
      this.connectionLostHandlers.delete(handler);
    };
  }

  private connectionLost(peerId: NodeId): void {
    if (this.state === 'stopped') return;
    for (const handler of this.connectionLostHandlers) handler(peerId);
  }

  /**
   * Registers a handler told, for every snapshot message given to send(),
   * whether it was written to the peer's socket (true) or dropped (false:
   * queue overflow, oversized, peer removed, transport stopped), for
   * raft.reportSnapshot. Returns its unsubscribe function.
   */
  onSnapshotStatus(handler: (peerId: NodeId, ok: boolean) => void): () => void {
    this.snapshotHandlers.add(handler);
    return () => {
      this.snapshotHandlers.delete(handler);
    };
  }

  /**
   * Replaces the peers list (a membership change). Removed peers, and peers
   * whose url or key changed, lose their connections and queued messages;
   * new ones are dialed.
   */
  async updatePeers(peers: readonly PeerConfig[]): Promise<void> {
    const next = this.validatePeers(peers);
    // One update at a time, in call order: each sees the links the previous one left.
    const update = this.peersUpdate.then(() => this.applyPeers(next));
    this.peersUpdate = update.catch(() => {});
    return update;
  }

  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private async applyPeers(next: Map<NodeId, { peer: PeerConfig; key: KeyObject }>): Promise<void> {
    if (this.state === 'stopped') return;
    const removals: Promise<void>[] = [];
    for (const [id, link] of this.links) {
      const wanted = next.get(id);
      if (wanted !== undefined && wanted.peer.url === link.peer.url && sameKey(wanted.key, this.peerKeys.get(id))) {
        next.delete(id);
        continue;
      }
      removals.push(this.removePeer(id));
    }
    await Promise.all(removals);
    // stop() may have run while the removals were closing.
    if (this.isStopped()) return;
    this.installPeers(next);
  }


  /**
   * Each current peer's lock code as it stated it in a signed handshake
   * (undefined until it has, or when it stated none) and whether a link to
   * it is authenticated and open now, in either direction.
   */
  peerLockCodes(): Map<NodeId, PeerLockCode> {
    const inbound = new Set<NodeId | undefined>();
    for (const conn of this.inbound) inbound.add(conn.peerId);
    const result = new Map<NodeId, PeerLockCode>();
    for (const [id, link] of this.links) result.set(id, { lockCode: this.peerLockCodeById.get(id), connected: link.connected || inbound.has(id) });
    return result;
  }

  /** Each peer's identity public key (raw 32 bytes), as its handshakes are checked against (offline activation requests name them). */
  peerPublicKeys(): Map<NodeId, Uint8Array> {
    const result = new Map<NodeId, Uint8Array>();
    for (const [id, link] of this.links) result.set(id, rawPublicKey(toPublicKeyObject(link.peer.publicKey)));
    return result;
  }

  /**
   * Each connected peer's wall clock against ours (positive: it is ahead),
   * measured on the link's pings; peers not measured yet are absent.
   */
  peerClockSkews(): Map<NodeId, ClockSkew> {
    const result = new Map<NodeId, ClockSkew>();
    for (const [id, link] of this.links) {
      const skew = link.connected ? link.clockSkew.estimate() : undefined;
      if (skew !== undefined) result.set(id, skew);
    }
    return result;
  }

  /**
   * `ms` since the epoch: when each member's TLS certificate ends, as it last
   * showed it on a link in either direction; members not seen over TLS are absent.
   */
  peerCertificateEnds(): Map<NodeId, number> {
    return new Map(this.peerCertificateEndsMs);
  }

  /** Per-peer figures and refusal counts. */
  stats(): TransportStats {
    const peers: Record<NodeId, PeerStats> = {};
    for (const [id, link] of this.links) {
      const c = link.counters;
      const r = this.receiveCounters(id);
      peers[id] = {
        url: link.peer.url,
        connected: link.connected,
        inboundConnected: [...this.inbound].some((conn) => conn.peerId === id),
        queuedMessages: link.queue.messages,
        queuedBytes: link.queue.bytes,
        sentMessages: c.sentMessages,
        sentFrames: c.sentFrames,
        sentBytes: c.sentBytes,
        receivedMessages: r.messages,
        receivedFrames: r.frames,
        receivedBytes: r.bytes,
        droppedMessages: c.droppedQueueFull + c.droppedOversized,
        // Faults are dropped by the FaultyTransport decorator (tests only), which adds its count here.
        dropped: { queueFull: c.droppedQueueFull, oversized: c.droppedOversized, faults: 0 },
        backpressureStalls: c.backpressureStalls,
        sentAppPayloads: c.sentAppPayloads,
        droppedAppPayloads: c.droppedAppPayloads,
        reconnects: Math.max(0, c.connects - 1),
        dialFailures: c.dialFailures,
      };
    }
    return {
      nodeId: this.nodeId,
      peers,
      refused: { ...this.refusals },
      droppedUnknownPeerMessages: this.droppedUnknownPeerMessages,
      droppedUnhandledMessages: this.droppedUnhandledMessages,
    };
  }

  /** Closes every connection and timer (and the server it created); resolves when all sockets are gone. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasStarted = this.state === 'started';
    this.state = 'stopped';
    if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    clearInterval(this.livenessTimer);
    this.server.off('upgrade', this.onUpgrade);
    const closes: Promise<void>[] = [...this.links.values()].map((link) => link.stop(CLOSE_CODES.STOPPING, 'STOPPING'));
    for (const conn of this.inbound) closes.push(this.closeInbound(conn, CLOSE_CODES.STOPPING, 'STOPPING'));
    closes.push(...this.closing);
    await Promise.all(closes);
    this.wss.close();
    if (this.ownsServer && wasStarted) {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        (this.server as HttpServer).closeAllConnections();
      });
    }
  }

  // ------------------------------------------------------------ internals

  /**
   * Checks a whole peers list (a config error throws, before anything changes)
   * and returns the other members with their keys. Our own entry, if listed,
   * must carry our identity key.
   */
  private validatePeers(peers: readonly PeerConfig[]): Map<NodeId, { peer: PeerConfig; key: KeyObject }> {
    const others = new Map<NodeId, { peer: PeerConfig; key: KeyObject }>();
    const seen = new Set<NodeId>();
    for (const peer of peers) {
      if (seen.has(peer.id)) throw new Error(`peers: "${peer.id}" listed twice`);
      seen.add(peer.id);
      const key = toPublicKeyObject(peer.publicKey);
      if (peer.id === this.nodeId) {
        if (!sameKey(key, toPublicKeyObject(this.publicKey))) throw new Error(`peers: the key listed for this node "${peer.id}" is not its identity key`);
        continue;
      }
      if (peer.id.length === 0 || Buffer.byteLength(peer.id, 'utf8') > this.limits.nodeIdBytesMax) throw new Error(`peers: bad node id "${peer.id}"`);
      const url = new URL(peer.url);
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`peers: "${peer.id}" url must be ws:// or wss://, got ${peer.url}`);
      if (this.tls !== undefined && url.protocol !== 'wss:') throw new Error(`peers: "${peer.id}" url must be wss:// under mutual TLS, got ${peer.url}`);
      others.set(peer.id, { peer, key });
    }
    return others;
  }

  private installPeers(peers: ReadonlyMap<NodeId, { peer: PeerConfig; key: KeyObject }>): void {
    for (const [id, { peer, key }] of peers) {
      const link = new PeerLink(peer, key, this.linkContext);
      this.links.set(id, link);
      this.peerKeys.set(id, key);
      if (this.state === 'started') link.start();
    }
  }


  private async removePeer(id: NodeId): Promise<void> {
    const link = this.links.get(id);
    this.links.delete(id);
    this.peerKeys.delete(id);
    this.peerCertificateEndsMs.delete(id);
    this.peerLockCodeById.delete(id);
    this.received.delete(id);
    const closes = [...this.inbound].filter((conn) => conn.peerId === id).map((conn) => this.closeInbound(conn, CLOSE_CODES.PEER_REMOVED, 'PEER_REMOVED'));
    if (link !== undefined) closes.push(link.stop(CLOSE_CODES.PEER_REMOVED, 'PEER_REMOVED'));
    await Promise.all(closes);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled !== undefined || this.state !== 'started') return;
    this.flushScheduled = setImmediate(() => {
      this.flushScheduled = undefined;
      for (const link of this.links.values()) link.flush();
    });
  }

  private checkLiveness(): void {
    const nowMs = performance.now();
    for (const link of this.links.values()) link.tick(nowMs);
    // A dialer pings at least every clockProbeIntervalMs once open (peer-link.ts), and at every
    // check while we leave its frames unanswered; longer silence means the dialer or the path died.
    // A handshake in progress is bounded by handshakeTimeoutMs instead.
    const silentMsMax = this.limits.peerDeadAfterMs + this.limits.clockProbeIntervalMs;
    for (const conn of this.inbound) {
      if (conn.peerId !== undefined && nowMs - conn.lastHeardMs > silentMsMax) {
        this.logger.warn('inbound peer connection dead: nothing heard', { peerId: conn.peerId, remoteAddress: conn.remoteAddress });
        conn.ws.terminate();
      }
    }
  }

  private readonly onUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer): void => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== this.path) {
      // Another upgrade handler of a shared server may own this path.
      if (this.ownsServer) this.refuseUpgrade(socket, 404, 'PATH_UNKNOWN', request);
      return;
    }
    // Members first: a connection vouched for by a member's signed token has slots of its own;
    // strangers share pendingConnectionsMax, at most pendingConnectionsPerAddressMax per address.
    const vouchedFor = verifyUpgradeToken(request.headers[UPGRADE_TOKEN_HEADER], this.nodeId, this.linkContext.wallClock(), (id) => this.peerKeys.get(id));
    const remoteIp = request.socket.remoteAddress ?? '?';
    if (vouchedFor !== undefined) {
      const mine = [...this.inbound].filter((conn) => conn.peerId === undefined && conn.vouchedFor === vouchedFor);
      // A newer one is the member retrying (or a replay of its token): it takes the oldest one's place.
      for (let i = 0; i <= mine.length - this.limits.pendingConnectionsPerMemberMax; i++) this.dropPending(mine[i] as InboundConnection);
    } else {
      let pending = 0;
      let fromAddress = 0;
      for (const conn of this.inbound) {
        if (conn.peerId !== undefined || conn.vouchedFor !== undefined) continue;
        pending += 1;
        if (conn.remoteIp === remoteIp) fromAddress += 1;
      }
      if (pending >= this.limits.pendingConnectionsMax) return this.refuseUpgrade(socket, 503, 'PENDING_CONNECTIONS_FULL', request);
      if (fromAddress >= this.limits.pendingConnectionsPerAddressMax) return this.refuseUpgrade(socket, 503, 'PENDING_ADDRESS_FULL', request);
    }
    const certNodeIds = this.tls === undefined ? undefined : inboundCertificateNodeIds(request.socket);
    if (this.tls !== undefined && (certNodeIds === undefined || !certNodeIds.some((id) => this.peerKeys.has(id)))) {
      return this.refuseUpgrade(socket, 403, 'AUTH_CERT_NODE_MISMATCH', request, { certificateNames: certNodeIds ?? '(plain connection)' });
    }
    const notAfterMs = this.tls === undefined ? undefined : inboundCertificateNotAfterMs(request.socket);
    if (notAfterMs !== undefined) for (const id of certNodeIds ?? []) if (this.links.has(id)) this.peerCertificateEndsMs.set(id, notAfterMs);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onInbound(ws, request, socket, remoteIp, vouchedFor, certNodeIds));
  };

  /** Drops a connection still in its handshake at once (no close handshake: it has proved nothing). */
  private dropPending(conn: InboundConnection): void {
    clearTimeout(conn.handshakeTimer);
    conn.stopCountingBytes();
    conn.ws.removeAllListeners('message');
    this.inbound.delete(conn);
    conn.ws.terminate();
  }

  private refuseUpgrade(socket: Socket, status: number, reason: RefusalReason, request: IncomingMessage, fields: Readonly<Record<string, unknown>> = {}): void {
    this.countRefusal(reason, { direction: 'inbound', remoteAddress: request.socket.remoteAddress, path: request.url, ...fields });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroySoon();
  }

  private onInbound(ws: WebSocket, request: IncomingMessage, socket: Socket, remoteIp: string, vouchedFor: NodeId | undefined, certNodeIds: readonly string[] | undefined): void {
    if (this.state !== 'started') {
      ws.terminate();
      return;
    }
    // A stranger gets a short deadline; a member's vouched connection the dialer's own.
    const deadlineMs = vouchedFor === undefined ? this.limits.preAuthTimeoutMs : this.limits.handshakeTimeoutMs;
    const conn: InboundConnection = {
      ws,
      remoteAddress: `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`,
      remoteIp,
      vouchedFor,
      listenerNonce: createNonce(),
      handshakeTimer: setTimeout(() => this.refuseInbound(conn, 'HANDSHAKE_TIMEOUT', { vouchedFor }), deadlineMs),
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
      this.countRefusal('HANDSHAKE_TOO_LARGE', { direction: 'inbound', remoteAddress: conn.remoteAddress, bytes: conn.preAuthBytes });
      ws.terminate();
    };
    socket.on('data', countBytes);
    this.inbound.add(conn);
    ws.on('message', (data, isBinary) => {
      conn.lastHeardMs = performance.now();
      if (conn.peerId === undefined) return this.onHandshake(conn, data, isBinary);
      // The peer is alive: our own link to it need not ping it while it also writes.
      this.links.get(conn.peerId)?.peerHeard();
      this.onFrame(conn, conn.peerId, data, isBinary);
    });
    ws.on('ping', (data) => {
      conn.lastHeardMs = performance.now();
      if (conn.peerId !== undefined) this.links.get(conn.peerId)?.peerHeard();
      if (ws.readyState === ws.OPEN) ws.pong(answerProbe(data, this.linkContext.wallClock()));
    });
    ws.on('error', (error: Error & { code?: string }) => {
      const reason: RefusalReason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'FRAME_TOO_LARGE' : 'WEBSOCKET_PROTOCOL_ERROR';
      this.countRefusal(reason, { direction: 'inbound', peerId: conn.peerId, remoteAddress: conn.remoteAddress, error: error.message });
    });
    ws.on('close', () => {
      clearTimeout(conn.handshakeTimer);
      conn.stopCountingBytes();
      this.inbound.delete(conn);
      if (conn.peerId !== undefined && !conn.closedByUs) this.connectionLost(conn.peerId);
    });
    ws.send(encodeHandshake({ type: 'challenge', version: HANDSHAKE_VERSION, nodeId: this.nodeId, nonce: conn.listenerNonce }));
  }

  private onHandshake(conn: InboundConnection, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.refuseInbound(conn, 'FRAME_BEFORE_AUTH', {});
    const hello = decodeHandshake(rawText(data), 'hello');
    if (hello === undefined) return this.refuseInbound(conn, 'HANDSHAKE_MALFORMED', { expected: 'hello' });
    const fields = { claimedNodeId: hello.nodeId };
    if (hello.peerId !== this.nodeId) return this.refuseInbound(conn, 'AUTH_WRONG_LISTENER', { ...fields, addressedTo: hello.peerId });
    const key = this.peerKeys.get(hello.nodeId);
    if (key === undefined) return this.refuseInbound(conn, 'AUTH_UNKNOWN_NODE', fields);
    const transcript = handshakeTranscript('dialer', hello.nodeId, this.nodeId, conn.listenerNonce, hello.nonce, hello.lockCode);
    if (!verifySignature(key, transcript, hello.signature)) return this.refuseInbound(conn, 'AUTH_SIGNATURE_INVALID', fields);
    if (conn.certNodeIds !== undefined && !conn.certNodeIds.includes(hello.nodeId)) return this.refuseInbound(conn, 'AUTH_CERT_NODE_MISMATCH', { ...fields, certificateNames: conn.certNodeIds });
    this.recordLockCode(hello.nodeId, hello.lockCode);
    clearTimeout(conn.handshakeTimer);
    conn.stopCountingBytes();
    for (const other of this.inbound) {
      if (other !== conn && other.peerId === hello.nodeId) void this.closeInbound(other, CLOSE_CODES.REPLACED, 'REPLACED');
    }
    conn.peerId = hello.nodeId;
    const { lockCode } = this.linkContext;
    const welcome = handshakeTranscript('listener', hello.nodeId, this.nodeId, conn.listenerNonce, hello.nonce, lockCode);
    conn.ws.send(encodeHandshake({ type: 'welcome', lockCode, signature: this.linkContext.sign(welcome) }));
    this.logger.info('peer accepted', { peerId: hello.nodeId, remoteAddress: conn.remoteAddress });
    // It dialed us, so it is up: our own link to it need not wait out its backoff.
    this.links.get(hello.nodeId)?.peerIsUp();
  }

  private onFrame(conn: InboundConnection, peerId: NodeId, data: RawData, isBinary: boolean): void {
    if (!isBinary) return this.refuseInbound(conn, 'FRAME_UNEXPECTED', { binary: false });
    const counters = this.receiveCounters(peerId);
    const frame = rawBytes(data);
    if (frame[0] === APP_FRAME_TAG) return this.onAppFrame(conn, peerId, frame, counters);
    const decoded = decodeFrame(frame, this.limits);
    if (!decoded.ok) return this.refuseInbound(conn, 'FRAME_INVALID', { code: decoded.code, message: decoded.message });
    for (const message of decoded.messages) {
      if (message.from !== peerId || message.to !== this.nodeId) {
        return this.refuseInbound(conn, 'MESSAGE_ADDRESS_INVALID', { from: message.from, to: message.to });
      }
    }
    counters.frames += 1;
    counters.messages += decoded.messages.length;
    counters.bytes += frame.length;
    if (this.messageHandlers.size === 0) {
      this.droppedUnhandledMessages += decoded.messages.length;
      return;
    }
    for (const handler of this.messageHandlers) handler(decoded.messages);
  }

  private onAppFrame(conn: InboundConnection, peerId: NodeId, frame: Uint8Array, counters: ReceiveCounters): void {
    const decoded = decodeAppFrame(frame, this.limits.frameBytesMax);
    if (!decoded.ok) return this.refuseInbound(conn, 'FRAME_INVALID', { code: 'APP_FRAME_INVALID', message: decoded.message });
    counters.frames += 1;
    counters.bytes += frame.length;
    for (const handler of this.appHandlers) handler(peerId, decoded.payloads);
  }

  private refuseInbound(conn: InboundConnection, reason: RefusalReason, fields: Readonly<Record<string, unknown>>): void {
    this.countRefusal(reason, { direction: 'inbound', peerId: conn.peerId, remoteAddress: conn.remoteAddress, ...fields });
    const closed = this.closeInbound(conn, REFUSAL_CLOSE_CODES[reason], reason);
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }

  private closeInbound(conn: InboundConnection, code: number, reason: string): Promise<void> {
    conn.closedByUs = true;
    clearTimeout(conn.handshakeTimer);
    // Stop listening to it now: nothing it sends after this reaches the handler.
    conn.ws.removeAllListeners('message');
    return closeSocket(conn.ws, code, reason, this.limits.closeGraceMs);
  }

  /** Counts every refusal; logs at most one per reason per refusalLogIntervalMs, with how many were not logged. */
  private countRefusal(reason: RefusalReason, fields: Readonly<Record<string, unknown>>): void {
    this.refusals[reason] = (this.refusals[reason] ?? 0) + 1;
    const nowMs = performance.now();
    const last = this.refusalLog.get(reason);
    if (last !== undefined && nowMs - last.atMs < this.limits.refusalLogIntervalMs) {
      last.suppressed += 1;
      return;
    }
    this.refusalLog.set(reason, { atMs: nowMs, suppressed: 0 });
    this.logger.warn('peer refused', { reason, nodeId: this.nodeId, ...fields, ...(last?.suppressed ? { notLoggedSinceLast: last.suppressed } : {}) });
  }

  /** Keeps what an authenticated peer stated; a change (a peer's machine moved) is logged. */
  private recordLockCode(peerId: NodeId, lockCode: string): void {
    if (!this.links.has(peerId)) return;
    const previous = this.peerLockCodeById.get(peerId);
    if (lockCode === '') this.peerLockCodeById.delete(peerId);
    else this.peerLockCodeById.set(peerId, lockCode);
    if (previous !== undefined && previous !== lockCode) this.logger.warn('peer lock code changed', { peerId, previous, lockCode });
  }

  private receiveCounters(peerId: NodeId): ReceiveCounters {
    let counters = this.received.get(peerId);
    if (counters === undefined) {
      counters = { messages: 0, frames: 0, bytes: 0 };
      this.received.set(peerId, counters);
    }
    return counters;
  }
}

function sameKey(a: KeyObject, b: KeyObject | undefined): boolean {
  return b !== undefined && a.equals(b);
}

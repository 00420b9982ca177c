// The peer transport: carries Raft messages between Floe servers over
// WebSockets. Each node listens on its peer address and dials every other
// peer for the messages it sends (PeerLink); inbound connections only
// receive. Both directions authenticate with the mutual Ed25519 handshake of
// peer-auth.ts before a single Raft frame is accepted, and everything a peer
// sends is validated (message-codec.ts) before it reaches the Raft core.
// This file holds the peer table and the lifecycle; peer-link.ts the dialer,
// peer-inbound.ts the listener's side.
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { KeyObject } from 'node:crypto';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import type { Message, NodeId } from '../raft/types.ts';
import type { ClockSkew } from './clock-probe.ts';
import { LOCK_CODE_BYTES_MAX, createSigner, rawPublicKey, toPublicKeyObject, type PeerIdentity } from './peer-auth.ts';
import { PeerInbound } from './peer-inbound.ts';
import { PEER_TLS_VERSION_MIN, type PeerTls } from './peer-tls.ts';
import { PeerLink, type PeerConfig, type PeerLinkContext } from './peer-link.ts';
import { CLOSE_CODES, DEFAULT_TRANSPORT_LIMITS, STDERR_LOGGER, type RefusalReason, type TransportLimits, type TransportLogger } from './transport-config.ts';
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
  private readonly inbound: PeerInbound;
  private readonly refusals: Partial<Record<RefusalReason, number>> = {};
  /** When each refusal reason was last logged, and how many since were counted but not logged. */
  private readonly refusalLog = new Map<RefusalReason, { atMs: number; suppressed: number }>();
  private readonly messageHandlers = new Set<(messages: Message[]) => void>();
  private readonly unreachableHandlers = new Set<(peerId: NodeId) => void>();
  private readonly connectionLostHandlers = new Set<(peerId: NodeId) => void>();
  private readonly snapshotHandlers = new Set<(peerId: NodeId, ok: boolean) => void>();
  private readonly appHandlers = new Set<(peerId: NodeId, payloads: Uint8Array[]) => void>();
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
    this.inbound = new PeerInbound({
      link: this.linkContext,
      path: this.path,
      ownsServer: this.ownsServer,
      wss: this.wss,
      peerKey: (id) => this.peerKeys.get(id),
      peerLink: (id) => this.links.get(id),
      started: () => this.state === 'started',
      messages: (_peerId, messages) => {
        if (this.messageHandlers.size === 0) this.droppedUnhandledMessages += messages.length;
        for (const handler of this.messageHandlers) handler(messages);
      },
      app: (peerId, payloads) => {
        for (const handler of this.appHandlers) handler(peerId, payloads);
      },
    });
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
    this.server.on('upgrade', this.inbound.onUpgrade);
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
    const inbound = this.inbound.connectedPeers();
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
    const inbound = this.inbound.connectedPeers();
    for (const [id, link] of this.links) {
      const c = link.counters;
      const r = this.inbound.receiveCounters(id);
      peers[id] = {
        url: link.peer.url,
        connected: link.connected,
        inboundConnected: inbound.has(id),
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
    this.server.off('upgrade', this.inbound.onUpgrade);
    const closes: Promise<void>[] = [...this.links.values()].map((link) => link.stop(CLOSE_CODES.STOPPING, 'STOPPING'));
    closes.push(...this.inbound.stop());
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
    const closes = this.inbound.removePeer(id);
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
    this.inbound.checkLiveness(nowMs);
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

}

function sameKey(a: KeyObject, b: KeyObject | undefined): boolean {
  return b !== undefined && a.equals(b);
}

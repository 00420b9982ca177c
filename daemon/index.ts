// daemon/: one Floe node as a process runs it — the FloeNode (storage, log,
// pools), the client WebSocket server and the admin HTTP API.
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { advertisedClientUrls, leaderClientUrl } from './advertised-client-urls.ts';
import { ClientServer } from './client-server/index.ts';
import { splitHostPort, type FloeConfig } from './config.ts';
import { isLoopbackHost } from './tls/loopback-host.ts';
import { loadTlsMaterial, TlsFilesError, type TlsCertificateStatus, type TlsMaterial } from './tls/tls-material.ts';
import { loadNodeIdentity } from './identity/index.ts';
import { FloeNode } from './node/index.ts';
import { startClusterTransport, type ClusterTransport } from './cluster-transport.ts';

export * from './config.ts';
export { ClientServer, CLIENT_WS_PATH } from './client-server/index.ts';
export { FloeNode, type ClientEvent, type NodeStatus, type ClusterView } from './node/index.ts';
export { FaultInjector } from './transport/index.ts';
export { TlsFilesError, type TlsCertificateStatus } from './tls/tls-material.ts';

/** A running daemon. */
export interface Daemon {
  readonly node: FloeNode;
  readonly clientServer: ClientServer;
  /** `ws://host:port/ws` */
  readonly clientUrl: string;
  /** `http://host:port` (the API is under /api/v1). */
  readonly adminUrl: string;
  /** The peer transport (a cluster), else undefined. */
  readonly peers: ClusterTransport | undefined;
  /** This node's certificate as last loaded; undefined without [tls]. */
  tlsStatus(): TlsCertificateStatus | undefined;
  /**
   * Reads the [tls] files again and gives every listener (and the peer
   * dialer) the new certificate, key and CA for new connections; open
   * sessions and peer links stay. A bad file changes nothing: throws
   * TlsFilesError. No-op without [tls].
   */
  reloadTls(): TlsCertificateStatus | undefined;
  /** Stops accepting, closes connections, stops the log and closes the database. */
  close(): Promise<void>;
}

/** Options of startDaemon. */
export interface StartDaemonOptions {
  /**
   * Builds the admin app (admin/ sits above daemon/, so the caller passes it
   * in); `tlsStatus` answers this node's certificate as last loaded.
   */
  readonly adminApp?: (node: FloeNode, daemon: { tlsStatus(): TlsCertificateStatus | undefined }) => Pick<Hono, 'fetch'>;
  readonly log?: (line: string) => void;
  /** Override of the node's lock code (tests); default: from the node identity in dataDir. */
  readonly lockCode?: string;
  /** Test-only network faults for the peer transport (partitions). */
  readonly faults?: import('./transport/index.ts').FaultInjector;
  /** Test-only: `ms` since the epoch, the wall clock of the node and its peer transport (default Date.now). */
  readonly wallClock?: () => number;
}

/** Starts a node from its config: identity, node, client server, admin server. */
export async function startDaemon(config: FloeConfig, options: StartDaemonOptions = {}): Promise<Daemon> {
  const log = options.log ?? (() => {});
  let tls = loadTls(config);
  warnIfInsecure(config, log);
  const identity = loadNodeIdentity(config.dataDir);
  // Both forms: keys of 0.1 name the legacy code, newer ones the tolerant code.
  const lockCode = options.lockCode ?? identity.statedLockCodes;
  const peers =
    config.cluster.peers.length > 0 ? await startClusterTransport(config, identity, lockCode, log, options.faults, options.wallClock, peerTlsOf(tls)) : undefined;
  let node: FloeNode;
  try {
    node = await FloeNode.open({
      config,
      lockCode,
      identity,
      log,
      ...(options.wallClock !== undefined ? { clock: options.wallClock } : {}),
      certificateEnds: () => {
        const ends = new Map(peers?.transport.peerCertificateEnds() ?? []);
        if (tls !== undefined) ends.set(config.nodeId, tls.status.notAfterMs);
        return ends;
      },
      ...(peers !== undefined
        ? {
            transport: peers.transport,
            appChannel: peers.transport,
            onConfChange: peers.onConfChange,
            snapshotMembers: () => peers.addedMembers(),
            onSnapshotMembers: (members, confState) => peers.adoptSnapshotMembers(members, confState),
            peerLockCodes: () => peers.transport.peerLockCodes(),
            peerPublicKeys: () => peers.transport.peerPublicKeys(),
            peerClockSkews: () => peers.transport.peerClockSkews(),
          }
        : {}),
    });
  } catch (error) {
    await peers?.transport.stop();
    throw error;
  }
  // The log's membership wins over a config file that was not edited after a change at run time.
  peers?.adoptMembership(node.clusterStatus().nodes.map((n) => n.id));
  let clientServer: ClientServer | undefined;
  let admin: Server | undefined;
  try {
    const client = splitHostPort(config.clientListen);
    const urlsInput = () => ({
      configured: config.clientUrls,
      peers: config.cluster.peers,
      added: peers?.addedMembers() ?? [],
      memberIds: node.clusterStatus().nodes.map((n) => n.id),
      selfId: config.nodeId,
    });
    clientServer = await ClientServer.start({
      node,
      host: client.host,
      port: client.port,
      leaseTtlMs: config.leaseTtlMs,
      heartbeatMs: config.heartbeatMs,
      queueWaitMsDefault: config.queueWaitMsDefault,
      queueWaitMsMax: config.queueWaitMsMax,
      queuedPerSessionMax: config.limits.queuedPerSessionMax,
      connectionsMax: config.limits.connectionsMax,
      connectionsPerAddressMax: config.limits.connectionsPerAddressMax,
      helloTimeoutMs: config.limits.helloTimeoutMs,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      requestsPerSecondPerConnection: config.limits.requestsPerSecondPerConnection,
      requestBurstPerConnection: config.limits.requestBurstPerConnection,
      requestsPerSecondPerAddress: config.limits.requestsPerSecondPerAddress,
      requestBurstPerAddress: config.limits.requestBurstPerAddress,
      overLimitFramesPerConnectionMax: config.limits.overLimitFramesPerConnectionMax,
      unreadReplyBytesPerConnectionMax: config.limits.unreadReplyBytesPerConnectionMax,
      // Follows the membership: members added at run time are told to clients, removed ones no longer.
      ...(tls !== undefined ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      clientUrls: () => advertisedClientUrls(urlsInput()),
      // Clients move their session to the leader's URL (docs/client.md, "Which server it uses").
      leaderClientUrl: () => {
        const input = urlsInput();
        return leaderClientUrl(input, node.status().leaderId, advertisedClientUrls(input));
      },
      log,
    });
    let adminUrl = '';
    if (options.adminApp !== undefined) {
      const app = options.adminApp(node, { tlsStatus: () => tls?.status });
      const a = splitHostPort(config.adminListen);
      const t = tls;
      admin = await new Promise<Server>((resolve, reject) => {
        const s = (
          t === undefined
            ? serve({ fetch: app.fetch, port: a.port, hostname: a.host }, () => resolve(s as Server))
            : serve({ fetch: app.fetch, port: a.port, hostname: a.host, createServer: createHttpsServer, serverOptions: { cert: t.cert, key: t.key, minVersion: 'TLSv1.2' } }, () => resolve(s as Server))
        ) as Server;
        s.once('error', reject);
      });
      const address = admin.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      adminUrl = `${tls === undefined ? 'http' : 'https'}://${host}:${address.port}`;
    }
    const cs = clientServer;
    const adminServer = admin;
    log(
      `node ${config.nodeId} serving clients at ${cs.url}${adminUrl !== '' ? `, admin at ${adminUrl}` : ''}` +
        (peers !== undefined ? `, peers at ${config.cluster.peerListen}` : ''),
    );
    let closing: Promise<void> | undefined;
    return {
      node,
      clientServer: cs,
      clientUrl: cs.url,
      adminUrl,
      peers,
      tlsStatus: () => tls?.status,
      reloadTls: () => {
        if (tls === undefined) return undefined;
        const next = loadTls(config) as TlsMaterial;
        cs.setTls({ cert: next.cert, key: next.key });
        if (adminServer !== undefined) (adminServer as unknown as HttpsServer).setSecureContext({ cert: next.cert, key: next.key, minVersion: 'TLSv1.2' });
        const peerTls = peerTlsOf(next);
        if (peers !== undefined && peerTls !== undefined) peers.transport.setTls(peerTls);
        tls = next;
        log(`tls: reloaded ${next.status.certFile} (${next.status.subject}, valid until ${next.status.notAfter}); open connections keep theirs`);
        return next.status;
      },
      close: () => {
        closing ??= (async () => {
          await cs.close();
          if (adminServer !== undefined) {
            await new Promise<void>((resolve) => {
              adminServer.close(() => resolve());
              adminServer.closeAllConnections();
            });
          }
          await node.close();
          await peers?.transport.stop();
        })();
        return closing;
      },
    };
  } catch (error) {
    await clientServer?.close();
    admin?.close();
    await node.close();
    await peers?.transport.stop();
    throw error;
  }
}

/** Loads the [tls] files (undefined without [tls]); a file that cannot serve stops the start (or the reload) with a sentence. */
function loadTls(config: FloeConfig): TlsMaterial | undefined {
  const { certFile, keyFile, caFile } = config.tls;
  if (certFile === undefined || keyFile === undefined) return undefined;
  const material = loadTlsMaterial({ certFile, keyFile, caFile });
  if (config.cluster.peers.length > 0 && !material.status.nodeIds.includes(config.nodeId)) {
    const named = material.status.nodeIds.length > 0 ? `names node ${material.status.nodeIds.join(', ')}` : 'names no node id (urn:floe:node:ID)';
    throw new TlsFilesError(`${certFile} ${named}, not ${config.nodeId}: the other members would refuse it (issue one with floe tls issue --node ${config.nodeId})`);
  }
  return material;
}

/** The peer transport's mutual TLS from loaded files; undefined without [tls] or a CA. */
function peerTlsOf(tls: TlsMaterial | undefined): import('./transport/index.ts').PeerTls | undefined {
  return tls === undefined || tls.ca === undefined ? undefined : { cert: tls.cert, key: tls.key, ca: tls.ca };
}

/** Says loudly, at start, that `insecure = true` sends everything in clear over a non-loopback bind. */
function warnIfInsecure(config: FloeConfig, log: (line: string) => void): void {
  if (config.tls.certFile !== undefined || !config.insecure) return;
  const binds = [config.clientListen, config.adminListen, ...(config.cluster.peers.length > 0 ? [config.cluster.peerListen] : [])].filter((l) => !isLoopbackHost(splitHostPort(l).host));
  if (binds.length === 0) return;
  log(
    `WARNING INSECURE: insecure = true and no [tls]: ${binds.join(', ')} serve(s) plain ws:// / http:// beyond this machine. ` +
      'Client sessions, admin bearer tokens and Raft traffic cross the network in clear: anyone on the path can read them and inject peer messages. ' +
      'Configure [tls] (floe tls init / floe tls issue, docs/security.md).',
  );
}

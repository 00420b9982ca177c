// daemon/: one Floe node as a process runs it — the FloeNode (storage, log,
// pools), the client WebSocket server and the admin HTTP API.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { advertisedClientUrls } from './advertised-client-urls.ts';
import { ClientServer } from './client-server/index.ts';
import { splitHostPort, type FloeConfig } from './config.ts';
import { loadNodeIdentity } from './identity/index.ts';
import { FloeNode } from './node/index.ts';
import { startClusterTransport, type ClusterTransport } from './cluster-transport.ts';

export * from './config.ts';
export { ClientServer, CLIENT_WS_PATH } from './client-server/index.ts';
export { FloeNode, type ClientEvent, type NodeStatus, type ClusterView } from './node/index.ts';
export { FaultInjector } from './transport/index.ts';

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
  /** Stops accepting, closes connections, stops the log and closes the database. */
  close(): Promise<void>;
}

/** Options of startDaemon. */
export interface StartDaemonOptions {
  /** Builds the admin app (admin/ sits above daemon/, so the caller passes it in). */
  readonly adminApp?: (node: FloeNode) => Pick<Hono, 'fetch'>;
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
  const identity = loadNodeIdentity(config.dataDir);
  // Both forms: keys of 0.1 name the legacy code, newer ones the tolerant code.
  const lockCode = options.lockCode ?? identity.statedLockCodes;
  const peers = config.cluster.peers.length > 0 ? await startClusterTransport(config, identity, lockCode, log, options.faults, options.wallClock) : undefined;
  let node: FloeNode;
  try {
    node = await FloeNode.open({
      config,
      lockCode,
      log,
      ...(options.wallClock !== undefined ? { clock: options.wallClock } : {}),
      ...(peers !== undefined
        ? {
            transport: peers.transport,
            appChannel: peers.transport,
            onConfChange: peers.onConfChange,
            snapshotMembers: () => peers.addedMembers(),
            onSnapshotMembers: (members, confState) => peers.adoptSnapshotMembers(members, confState),
            peerLockCodes: () => peers.transport.peerLockCodes(),
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
      clientUrls: () =>
        advertisedClientUrls({
          configured: config.clientUrls,
          peers: config.cluster.peers,
          added: peers?.addedMembers() ?? [],
          memberIds: node.clusterStatus().nodes.map((n) => n.id),
          selfId: config.nodeId,
        }),
      log,
    });
    let adminUrl = '';
    if (options.adminApp !== undefined) {
      const app = options.adminApp(node);
      const a = splitHostPort(config.adminListen);
      admin = await new Promise<Server>((resolve, reject) => {
        const s = serve({ fetch: app.fetch, port: a.port, hostname: a.host }, () => resolve(s as Server)) as Server;
        s.once('error', reject);
      });
      const address = admin.address() as AddressInfo;
      adminUrl = `http://${address.address}:${address.port}`;
    }
    const cs = clientServer;
    const adminServer = admin;
    log(
      `node ${config.nodeId} (${node.engine} log) serving clients at ${cs.url}${adminUrl !== '' ? `, admin at ${adminUrl}` : ''}` +
        (peers !== undefined ? `, peers at ${config.cluster.peerListen}` : ''),
    );
    let closing: Promise<void> | undefined;
    return {
      node,
      clientServer: cs,
      clientUrl: cs.url,
      adminUrl,
      peers,
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

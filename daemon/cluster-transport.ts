// The peer transport of a cluster node, built from the `[cluster]` config
// and the membership the log taught this node: each member's id, peer URL
// and identity key; anything else is refused by the transport's handshake
// and logged. A membership change applied from the log updates the peers
// list at run time (a conf change added through the admin API carries the
// new member's peerUrl and publicKey) and is kept in the data directory's
// MemberDirectory, so after a restart the log's membership wins over a
// config file that was never edited: members added at run time are dialed
// again, members removed at run time are not re-added from the file.
import { decodeBase64url } from '../protocol/index.ts';
import type { FloeConfig } from './config.ts';
import { splitHostPort } from './config.ts';
import type { NodeIdentity } from './identity/index.ts';
import { MemberDirectory, memberOfChange, type MemberRecord } from './storage/index.ts';
import type { ConfChange, ConfState } from './raft/types.ts';
import { FaultyTransport, PeerTransport, type FaultInjector, type PeerConfig, type PeerTls, type PeerTransportApi, type TransportLogger } from './transport/index.ts';

/** The running transport and the hook the node calls on each applied membership change. */
export interface ClusterTransport {
  /** The peer transport; inside a FaultyTransport when startDaemon was given test faults. */
  readonly transport: PeerTransportApi;
  /** `host:port` the transport listens on. */
  readonly address: { host: string; port: number };
  onConfChange(change: ConfChange, confState: ConfState): void;
  /**
   * Once the node has opened its log: keeps only the peers among `memberIds`
   * (the membership of the stored snapshot and log), so a member removed at
   * run time and still listed in a stale config is dropped. No-op when the
   * log names no other member yet (a joining node waits for the cluster).
   */
  adoptMembership(memberIds: readonly string[]): void;
  /**
   * A snapshot from the leader named these members added at run time (with
   * their addresses) and this membership: record them and dial the members.
   */
  adoptSnapshotMembers(members: readonly MemberRecord[], confState: ConfState): void;
  /** The members applied conf changes added and none removed since (with the client URL the change carried). */
  addedMembers(): readonly MemberRecord[];
}

/** A member's identity key from its config text (base64url of 32 bytes). */
export function parsePeerPublicKey(text: string): Uint8Array {
  const key = decodeBase64url(text);
  if (key === undefined || key.length !== 32) throw new Error(`CONFIG_INVALID: peer public key "${text}" is not 32 bytes of base64url`);
  return key;
}

/**
 * Starts the peer transport on cluster.peerListen with the configured peers;
 * `lockCode` is what this node states (signed) in its handshakes.
 */
export async function startClusterTransport(
  config: FloeConfig,
  identity: NodeIdentity,
  lockCode: string,
  log: (line: string) => void,
  faults?: FaultInjector,
  wallClock?: () => number,
  tls?: PeerTls,
): Promise<ClusterTransport> {
  const directory = MemberDirectory.load(config.dataDir);
  const known = new Map<string, PeerConfig>();
  for (const p of config.cluster.peers) {
    if (p.id !== config.nodeId && directory.isRemoved(p.id)) {
      log(`membership: ${p.id} is in the config but was removed from the cluster; not dialed (edit the config to drop it)`);
      continue;
    }
    known.set(p.id, { id: p.id, url: p.peerUrl, publicKey: parsePeerPublicKey(p.publicKey) });
  }
  for (const m of directory.addedMembers()) {
    try {
      const peer = { id: m.id, url: m.peerUrl, publicKey: parsePeerPublicKey(m.publicKey) };
      const listed = config.cluster.peers.find((p) => p.id === m.id);
      if (listed === undefined) log(`membership: ${m.id} (${m.peerUrl}) is not in the config but was added to the cluster; dialing it`);
      else if (listed.peerUrl !== m.peerUrl || listed.publicKey !== m.publicKey) log(`membership: ${m.id}: the config's peer URL or key is older than the log's; using the log's ${m.peerUrl}`);
      known.set(m.id, peer);
    } catch (error) {
      log(`membership: ${m.id}: ${(error as Error).message}`);
    }
  }
  const logger: TransportLogger = {
    info: () => {},
    warn: (event, fields) => log(`peer transport: ${event} ${JSON.stringify(fields)}`),
  };
  const listen = splitHostPort(config.cluster.peerListen);
  const peerTransport = new PeerTransport({
    nodeId: config.nodeId,
    listen,
    identity,
    lockCode,
    peers: [...known.values()],
    logger,
    ...(wallClock !== undefined ? { wallClock } : {}),
    ...(tls !== undefined ? { tls } : {}),
  });
  const transport = faults === undefined ? peerTransport : new FaultyTransport(peerTransport, faults);
  const address = await transport.start();
  return {
    transport,
    address,
    onConfChange(change, confState) {
      const member = memberOfChange(change);
      if (member !== undefined) {
        try {
          known.set(member.id, { id: member.id, url: member.peerUrl, publicKey: parsePeerPublicKey(member.publicKey) });
          directory.recordAdded(member);
        } catch (error) {
          log(`membership: ${change.nodeId}: ${(error as Error).message}`);
        }
      }
      if (change.type === 'remove-node' && change.nodeId !== config.nodeId) {
        try {
          directory.recordRemoved(change.nodeId);
        } catch (error) {
          log(`membership: recording the removal of ${change.nodeId} failed: ${(error as Error).message}`);
        }
      }
      const members = new Set([...confState.voters, ...confState.learners]);
      const peers = [...known.values()].filter((p) => members.has(p.id) || p.id === config.nodeId);
      log(`membership: ${change.type} ${change.nodeId}; members now ${[...members].join(', ')}`);
      transport.updatePeers(peers).catch((error: unknown) => log(`membership: updating peers failed: ${(error as Error).message}`));
    },
    addedMembers: () => directory.addedMembers(),
    adoptSnapshotMembers(added, confState) {
      const members = new Set([...confState.voters, ...confState.learners]);
      for (const m of added) {
        if (m.id === config.nodeId || !members.has(m.id)) continue;
        try {
          known.set(m.id, { id: m.id, url: m.peerUrl, publicKey: parsePeerPublicKey(m.publicKey) });
          directory.recordAdded(m);
        } catch (error) {
          log(`membership: ${m.id} from the leader's snapshot: ${(error as Error).message}`);
        }
      }
      const peers = [...known.values()].filter((p) => members.has(p.id) || p.id === config.nodeId);
      log(`membership from the leader's snapshot: members ${[...members].join(', ')}`);
      transport.updatePeers(peers).catch((error: unknown) => log(`membership: updating peers failed: ${(error as Error).message}`));
    },
    adoptMembership(memberIds) {
      const members = new Set(memberIds);
      if (![...members].some((id) => id !== config.nodeId)) return;
      // The stored membership may predate conf changes still to be replayed from the log:
      // a member the directory saw added stays (a replayed removal drops it).
      const added = new Set(directory.addedMembers().map((m) => m.id));
      const dropped = [...known.keys()].filter((id) => id !== config.nodeId && !members.has(id) && !added.has(id));
      if (dropped.length === 0) return;
      log(`membership: ${dropped.join(', ')} listed in the config but not a member in the stored membership; not dialed`);
      // `known` keeps them: a later conf change adding one back needs no URL then.
      transport.updatePeers([...known.values()].filter((p) => p.id === config.nodeId || members.has(p.id))).catch((error: unknown) => log(`membership: updating peers failed: ${(error as Error).message}`));
    },
  };
}

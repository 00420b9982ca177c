// The peer transport of a cluster node, built from the `[cluster]` config:
// each member's id, peer URL and identity key; anything else is refused by
// the transport's handshake and logged. A membership change applied from
// the log updates the peers list at run time (a conf change added through
// the admin API carries the new member's peerUrl and publicKey).
import { decodeBase64url } from '../protocol/index.ts';
import type { FloeConfig } from './config.ts';
import { splitHostPort } from './config.ts';
import type { NodeIdentity } from './identity/index.ts';
import type { ConfChange, ConfState } from './raft/types.ts';
import { PeerTransport, type FaultInjector, type PeerConfig, type TransportLogger } from './transport/index.ts';

/** The running transport and the hook the node calls on each applied membership change. */
export interface ClusterTransport {
  readonly transport: PeerTransport;
  /** `host:port` the transport listens on. */
  readonly address: { host: string; port: number };
  onConfChange(change: ConfChange, confState: ConfState): void;
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
): Promise<ClusterTransport> {
  const known = new Map<string, PeerConfig>();
  for (const p of config.cluster.peers) known.set(p.id, { id: p.id, url: p.peerUrl, publicKey: parsePeerPublicKey(p.publicKey) });
  const logger: TransportLogger = {
    info: () => {},
    warn: (event, fields) => log(`peer transport: ${event} ${JSON.stringify(fields)}`),
  };
  const listen = splitHostPort(config.cluster.peerListen);
  const transport = new PeerTransport({
    nodeId: config.nodeId,
    listen,
    identity,
    lockCode,
    peers: [...known.values()],
    logger,
    ...(faults !== undefined ? { faults } : {}),
  });
  const address = await transport.start();
  return {
    transport,
    address,
    onConfChange(change, confState) {
      const extra = change as ConfChange & { peerUrl?: unknown; publicKey?: unknown };
      if (change.type !== 'remove-node' && typeof extra.peerUrl === 'string' && typeof extra.publicKey === 'string') {
        try {
          known.set(change.nodeId, { id: change.nodeId, url: extra.peerUrl, publicKey: parsePeerPublicKey(extra.publicKey) });
        } catch (error) {
          log(`membership: ${change.nodeId}: ${(error as Error).message}`);
        }
      }
      const members = new Set([...confState.voters, ...confState.learners]);
      const peers = [...known.values()].filter((p) => members.has(p.id) || p.id === config.nodeId);
      log(`membership: ${change.type} ${change.nodeId}; members now ${[...members].join(', ')}`);
      transport.updatePeers(peers).catch((error: unknown) => log(`membership: updating peers failed: ${(error as Error).message}`));
    },
  };
}

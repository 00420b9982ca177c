// What FloeNode.open takes: the config, this node's identity and lock codes,
// and the hooks through which the daemon wires the node to its peer
// transport (peers' lock codes, keys, clock skews and certificates; the
// membership callbacks). Apart from floe-node.ts so the node's inputs read
// in one place; tests pass only the config and a lock code.
import type { FloeConfig } from '../config.ts';
import type { RaftTransport } from '../raft-driver/index.ts';
import type { ConfChange, ConfState } from '../raft/types.ts';
import type { MemberRecord } from '../storage/index.ts';
import type { AppChannel } from './forwarder.ts';
import type { PeerLockState } from './license-locks.ts';

/** A node's identity key as the node uses it: its public half and a signature by its private half. */
export interface NodeSigner {
  /** Ed25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** A detached Ed25519 signature (64 bytes) of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** Options of FloeNode.open. */
export interface FloeNodeOptions {
  readonly config: FloeConfig;
  /** This node's lock codes as it states them (an identity's statedLockCodes, or one code), checked against license keys; undefined skips the check (tests). */
  readonly lockCode: string | undefined;
  /** The peers' stated lock codes and whether each is connected now (the peer transport's peerLockCodes). */
  readonly peerLockCodes?: () => ReadonlyMap<string, PeerLockState>;
  /** Each peer's identity public key, raw 32 bytes (the peer transport's peerPublicKeys). */
  readonly peerPublicKeys?: () => ReadonlyMap<string, Uint8Array>;
  /** This node's identity key (its data directory's): signs offline activation requests. Absent: they are refused (tests). */
  readonly identity?: NodeSigner;
  /** Voters of a brand-new cluster; default: this node alone. */
  readonly voters?: readonly string[];
  readonly transport?: RaftTransport;
  /** The transport's app channel: present in a cluster, where followers forward proposals to the leader. */
  readonly appChannel?: AppChannel;
  /** Each connected peer's wall clock minus ours (`skewMs`), from the peer transport's pings (GET /cluster shows them). */
  readonly peerClockSkews?: () => ReadonlyMap<string, { readonly skewMs: number }>;
  /** `ms` since the epoch: when each member's TLS certificate ends (this node's as loaded, the others' as shown on the peer links); GET /cluster shows them. */
  readonly certificateEnds?: () => ReadonlyMap<string, number>;
  /** The members added at run time, with their addresses, for the snapshots this node takes. */
  readonly snapshotMembers?: () => readonly MemberRecord[];
  /** Hears the members (and the conf state) of a snapshot installed from the leader. */
  readonly onSnapshotMembers?: (members: readonly MemberRecord[], confState: ConfState) => void;
  /** Hears each applied membership change (the daemon updates the transport's peers). */
  readonly onConfChange?: (change: ConfChange, confState: ConfState) => void;
  /** `ms` since the epoch: the wall clock (Date.now); injectable for tests. */
  readonly clock?: () => number;
  /** `ms` of a monotonic clock (performance.now): deadlines measure elapsed time by it; injectable for tests. */
  readonly monotonicClock?: () => number;
  /** Operational log lines (stderr in `floe serve`). */
  readonly log?: (line: string) => void;
}

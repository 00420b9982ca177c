// The replicated state of one node at one applied index, captured in one
// synchronous step for a backup (daemon/backup): the pool snapshot, the term
// of the applied entry, the membership (the config's members and those
// added at run time) and a summary of what it holds. Apart from FloeNode
// because it is the backup's view of the node, not the node's own.
import type { FloeConfig } from '../config.ts';
import { encodeSnapshot, listLicenses, type LicenseView, type PoolState } from '../pool/index.ts';
import type { ConfState, RaftStatus } from '../raft/types.ts';
import type { MemberRecord, SqliteRaftStorage } from '../storage/index.ts';

/** What captureState() answers: the replicated state at one applied index. */
export interface CapturedState {
  /** `ms` since the epoch on this node's clock. */
  readonly takenAt: number;
  readonly nodeId: string;
  readonly leaderId: string;
  readonly appliedIndex: number;
  /** The term of the entry at appliedIndex. */
  readonly term: number;
  readonly confState: ConfState;
  /** The members the config file lists. */
  readonly configPeers: readonly MemberRecord[];
  /** The members added at run time (their addresses came with the change). */
  readonly addedMembers: readonly MemberRecord[];
  /** The pool snapshot (encodeSnapshot) at appliedIndex. */
  readonly pool: Uint8Array;
  readonly licenses: readonly LicenseView[];
  readonly poolCount: number;
  readonly sessionCount: number;
  readonly leaseCount: number;
}

/** What a capture reads, all at one applied index. */
export interface CaptureSource {
  readonly config: FloeConfig;
  /** `ms` since the epoch: the wall clock. */
  readonly takenAt: number;
  readonly raft: RaftStatus;
  readonly appliedIndex: number;
  readonly storage: SqliteRaftStorage;
  readonly pool: PoolState;
  readonly addedMembers: readonly MemberRecord[];
}

/** The state `source` describes; the caller makes sure nothing applies in between (one synchronous step). */
export function captureState(source: CaptureSource): CapturedState {
  const { config, raft, appliedIndex, pool } = source;
  let term = raft.term;
  try {
    term = source.storage.term(appliedIndex);
  } catch {
    // Compacted past it cannot happen (applied ≥ the log's base); keep the current term then.
  }
  return {
    takenAt: source.takenAt,
    nodeId: config.nodeId,
    leaderId: raft.leaderId,
    appliedIndex,
    term,
    confState: { voters: [...raft.confState.voters], learners: [...raft.confState.learners] },
    configPeers: config.cluster.peers.map((p) => ({ id: p.id, peerUrl: p.peerUrl, clientUrl: p.clientUrl, publicKey: p.publicKey })),
    addedMembers: [...source.addedMembers],
    pool: encodeSnapshot(pool),
    licenses: listLicenses(pool),
    poolCount: pool.pools.size,
    sessionCount: pool.sessions.size,
    leaseCount: pool.leases.size,
  };
}

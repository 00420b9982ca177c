// What a node's Raft snapshot holds: the pool's snapshot bytes, the admin
// state (tokens, audit log: a JSON value) and the addresses of the members
// added at run time. A member that was down while
// one was added, and catches up from a snapshot taken after the add, learns
// from the conf state only the new member's id; with its peer URL and key
// here it can dial it and accept it. One format: the snapshots of earlier
// development builds (the pool's bytes alone, or a header of members alone)
// are refused with SNAPSHOT_FORMAT_UNSUPPORTED, as 0.1.0 is the first release.

import { createAdminState, decodeAdminState, encodeAdminState, type AdminState } from '../admin-state/index.ts';
import { createPoolState, decodeSnapshot, encodeSnapshot, type PoolState } from '../pool/index.ts';
import type { Snapshot } from '../raft/types.ts';
import { parseMemberRecord, type MemberRecord } from '../storage/member-record.ts';

/** First bytes of a node snapshot. */
const MAGIC = new TextEncoder().encode('FLOENODE1\n');
/** Members a snapshot carries, at most (the membership's own limit is far lower). */
const SNAPSHOT_MEMBERS_MAX = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The snapshot data of `poolBytes`, `members` and the admin state's JSON value (encodeAdminState). */
export function encodeNodeSnapshot(poolBytes: Uint8Array, members: readonly MemberRecord[], admin: unknown): Uint8Array {
  const head = { members: members.slice(0, SNAPSHOT_MEMBERS_MAX), admin };
  const header = encoder.encode(`${JSON.stringify(head)}\n`);
  const out = new Uint8Array(MAGIC.length + header.length + poolBytes.length);
  out.set(MAGIC, 0);
  out.set(header, MAGIC.length);
  out.set(poolBytes, MAGIC.length + header.length);
  return out;
}

/**
 * The pool's bytes, the members and the admin state's JSON value in `data`.
 * Throws SNAPSHOT_FORMAT_UNSUPPORTED on a snapshot of an earlier build and
 * SNAPSHOT_CORRUPT on a damaged header.
 */
export function decodeNodeSnapshot(data: Uint8Array): { pool: Uint8Array; members: MemberRecord[]; admin: unknown } {
  if (data.length < MAGIC.length || MAGIC.some((b, i) => data[i] !== b)) throw unsupported('it holds no node snapshot header');
  const end = data.indexOf(0x0a, MAGIC.length);
  if (end < 0) throw new Error('SNAPSHOT_CORRUPT: a node snapshot without its header line');
  let head: unknown;
  try {
    head = JSON.parse(decoder.decode(data.subarray(MAGIC.length, end)));
  } catch {
    throw new Error('SNAPSHOT_CORRUPT: the header line of a node snapshot is not JSON');
  }
  if (Array.isArray(head)) throw unsupported('its header lists the members alone, with no admin state');
  const { members, admin } = (typeof head === 'object' && head !== null ? head : {}) as { members?: unknown; admin?: unknown };
  if (!Array.isArray(members)) throw new Error('SNAPSHOT_CORRUPT: the members of a node snapshot are not a list');
  if (admin === undefined) throw new Error('SNAPSHOT_CORRUPT: a node snapshot without its admin state');
  return { pool: data.subarray(end + 1), members: members.map(parseMemberRecord).filter((m) => m !== undefined), admin };
}

function unsupported(why: string): Error {
  return new Error(
    `SNAPSHOT_FORMAT_UNSUPPORTED: the stored snapshot was written by a development build before Floe 0.1.0 (${why}); ` +
      'start this node from an empty data directory and let it catch up from the cluster, or restore a backup (floe restore)',
  );
}

/** The replicated state a Raft snapshot holds, decoded. */
export interface ReplicatedState {
  readonly pool: PoolState;
  readonly admin: AdminState;
  /** The members added at run time, with their addresses. */
  readonly members: readonly MemberRecord[];
}

/** The state of `snapshot`: empty pool and admin state for the empty snapshot (index 0). Throws on damaged data. */
export function replicatedState(snapshot: Snapshot): ReplicatedState {
  if (snapshot.metadata.index === 0) return { pool: createPoolState(), admin: createAdminState(), members: [] };
  const parts = decodeNodeSnapshot(snapshot.data);
  return { pool: decodeSnapshot(parts.pool), admin: decodeAdminState(parts.admin), members: parts.members };
}

/** The snapshot data of `state` (what replicatedState() reads back). */
export function encodeReplicatedState(state: ReplicatedState): Uint8Array {
  return encodeNodeSnapshot(encodeSnapshot(state.pool), state.members, encodeAdminState(state.admin));
}

// What a node's Raft snapshot holds: the pool's snapshot bytes and the
// addresses of the members added at run time. A member that was down while
// one was added, and catches up from a snapshot taken after the add, learns
// from the conf state only the new member's id; with its peer URL and key
// here it can dial it and accept it. Snapshots written before this format
// (the pool's bytes alone) still read, with no members.

/** A member added by a conf change, as its add carried it. */
export interface SnapshotMember {
  readonly id: string;
  readonly peerUrl: string;
  readonly publicKey: string;
  readonly clientUrl?: string;
}

/** First bytes of a node snapshot; a pool snapshot starts otherwise. */
const MAGIC = new TextEncoder().encode('FLOENODE1\n');
/** Members a snapshot carries, at most (the membership's own limit is far lower). */
const SNAPSHOT_MEMBERS_MAX = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The snapshot data of `poolBytes` and `members`. */
export function encodeNodeSnapshot(poolBytes: Uint8Array, members: readonly SnapshotMember[]): Uint8Array {
  const header = encoder.encode(`${JSON.stringify(members.slice(0, SNAPSHOT_MEMBERS_MAX))}\n`);
  const out = new Uint8Array(MAGIC.length + header.length + poolBytes.length);
  out.set(MAGIC, 0);
  out.set(header, MAGIC.length);
  out.set(poolBytes, MAGIC.length + header.length);
  return out;
}

/** The pool's bytes and the members in `data` (a pool snapshot of an older node: no members). Throws on a damaged header. */
export function decodeNodeSnapshot(data: Uint8Array): { pool: Uint8Array; members: SnapshotMember[] } {
  if (data.length < MAGIC.length || MAGIC.some((b, i) => data[i] !== b)) return { pool: data, members: [] };
  const end = data.indexOf(0x0a, MAGIC.length);
  if (end < 0) throw new Error('SNAPSHOT_CORRUPT: a node snapshot without its members line');
  const parsed: unknown = JSON.parse(decoder.decode(data.subarray(MAGIC.length, end)));
  if (!Array.isArray(parsed)) throw new Error('SNAPSHOT_CORRUPT: the members of a node snapshot are not a list');
  const members = parsed.filter(
    (m): m is SnapshotMember =>
      typeof m === 'object' && m !== null && typeof m.id === 'string' && typeof m.peerUrl === 'string' && typeof m.publicKey === 'string' && (m.clientUrl === undefined || typeof m.clientUrl === 'string'),
  );
  return { pool: data.subarray(end + 1), members };
}

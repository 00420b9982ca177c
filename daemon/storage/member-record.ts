// What the cluster knows of a member beyond its id: its peer URL, identity
// key and client URL. One typed record, with one home for each of its uses:
// carried in the add's conf change (`ConfChange.context`, as etcd carries
// its ConfChange.Context), kept in the member directory file and in node
// snapshots, and parsed by one function wherever it comes back from bytes.
import type { ConfChange } from '../raft/types.ts';

/** Characters of any one field of a record, at most. */
export const MEMBER_RECORD_FIELD_CHARS_MAX = 2048;

/** One member's addresses and key. */
export interface MemberRecord {
  readonly id: string;
  /** e.g. "ws://10.0.0.4:7601/raft" */
  readonly peerUrl: string;
  /** base64url of its 32-byte identity key, as in the config. */
  readonly publicKey: string;
  readonly clientUrl?: string;
}

/** `value` as a MemberRecord (only its four fields kept), or undefined when it is not one. */
export function parseMemberRecord(value: unknown): MemberRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Partial<Record<keyof MemberRecord, unknown>>;
  if (!isField(m.id) || !isField(m.peerUrl) || !isField(m.publicKey)) return undefined;
  if (m.clientUrl !== undefined && !isField(m.clientUrl)) return undefined;
  return { id: m.id, peerUrl: m.peerUrl, publicKey: m.publicKey, ...(m.clientUrl !== undefined ? { clientUrl: m.clientUrl as string } : {}) };
}

/** The conf change adding `member` as a voter, its record in the context. */
export function addVoterChange(member: MemberRecord): ConfChange {
  return { type: 'add-voter', nodeId: member.id, context: JSON.stringify(member) };
}

/** The conf change adding `member` as a learner (it receives the log, and votes once made a voter), its record in the context. */
export function addLearnerChange(member: MemberRecord): ConfChange {
  return { type: 'add-learner', nodeId: member.id, context: JSON.stringify(member) };
}

/** The record an add carried, or undefined (a removal, no context, or a context of another member or shape). */
export function memberOfChange(change: ConfChange): MemberRecord | undefined {
  if (change.type === 'remove-node' || change.context === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(change.context);
  } catch {
    return undefined;
  }
  const member = parseMemberRecord(value);
  return member?.id === change.nodeId ? member : undefined;
}

function isField(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= MEMBER_RECORD_FIELD_CHARS_MAX;
}

// What GET /health and the status lines of GET /cluster and `floe status`
// show of one node: its role, the leader it knows, the term, and how far its
// log, commit and apply have come. Read from the Raft status and the
// driver's applied index; nothing here changes anything.
import type { RaftStatus } from '../raft/types.ts';

/** What GET /health and /cluster show of this node. */
export interface NodeStatus {
  readonly nodeId: string;
  readonly role: string;
  readonly leaderId: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Index of the last entry in this node's log (on its disk or about to be). */
  readonly lastIndex: number;
  /** This node's storage lost entries it had acknowledged and the leader has not yet confirmed it holds the log: it does not vote. */
  readonly rejoining: boolean;
}

/** The status of node `nodeId` from its Raft status and the index it applied. */
export function nodeStatus(nodeId: string, raft: RaftStatus, appliedIndex: number): NodeStatus {
  return {
    nodeId,
    role: raft.role,
    leaderId: raft.leaderId,
    term: raft.term,
    commitIndex: raft.commit,
    appliedIndex,
    lastIndex: raft.lastIndex,
    rejoining: raft.rejoining,
  };
}

// The one error a proposal or a read barrier of the driver fails with: a
// stable code saying why (this node does not lead, the entry was lost, the
// node is stopping...) and the leader as far as this node knows, so a caller
// can forward to it. Its own module because every layer above the driver
// (client server, forwarder, admin) turns it into a wire or HTTP error.
import type { NodeId } from '../raft/types.ts';

/** Why a proposal did not produce a result. */
export type ProposalErrorCode = 'NOT_LEADER' | 'DROPPED' | 'OVERLOADED' | 'STOPPED' | 'TOO_MANY_UNCOMMITTED' | 'TRANSFER_IN_PROGRESS' | 'CONF_CHANGE_PENDING';

/** A proposal that will not be applied (or whose fate this node cannot know). */
export class ProposalError extends Error {
  override readonly name = 'ProposalError';
  constructor(
    readonly code: ProposalErrorCode,
    message: string,
    /** The leader as far as this node knows ('' when none). */
    readonly leaderId: NodeId = '',
  ) {
    super(`${code}: ${message}`);
  }
}

// Adding a member without risking the cluster's quorum: the new server
// joins as a learner (it receives the log but counts toward no commit and
// no election) and is made a voter only once the leader sees it hold the
// log. Added straight as a voter while another member is down (the usual
// case: replacing a dead server), it would make the majority three of four
// before it could answer: the cluster stopped committing until it caught
// up, and a leader lost in that window left n1 + n2 unable to elect anyone,
// since a joining member votes only once a leader confirmed it. etcd's
// learners (3.4) exist for the same reason.
import { ProposalError } from '../raft-driver/index.ts';
import type { RaftStatus } from '../raft/types.ts';

/** How often the leader looks at a learner's progress while it waits for it. */
const CATCH_UP_POLL_MS = 50;

/** Where a learner stands against the log it must hold before it may vote. */
export interface CatchUp {
  /** The last entry the leader knows the learner holds. */
  readonly match: number;
  /** The commit index when the wait began: the learner must hold at least this far. */
  readonly target: number;
}

/**
 * Waits up to `waitMs` until `id` (a learner) holds the log up to the commit
 * index at the start of the wait, the leader heard from it in the last
 * election timeout, and it is no longer rejoining (the leader confirmed its
 * log). Resolves with `caughtUp` true then, false with where it stands when
 * the time runs out; rejects NOT_LEADER when this node stops leading.
 */
export async function waitForCatchUp(status: () => RaftStatus, id: string, waitMs: number): Promise<CatchUp & { readonly caughtUp: boolean }> {
  const target = status().commit;
  const polls = Math.max(1, Math.ceil(waitMs / CATCH_UP_POLL_MS));
  for (let i = 0; ; i++) {
    const s = status();
    if (s.role !== 'leader') throw new ProposalError('NOT_LEADER', `this node stopped leading while ${id} caught up`, s.leaderId);
    const pr = s.progress.get(id);
    const match = pr?.match ?? 0;
    if (pr !== undefined && !pr.rejoining && pr.reachable && match >= target) return { caughtUp: true, match, target };
    if (i >= polls) return { caughtUp: false, match, target };
    await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
  }
}

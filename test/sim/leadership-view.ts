// Who leads a simulated cluster, as an observer with every node's status
// sees it: the up node leading the highest term, and whether every up
// member follows it in that term. The heal phase waits for the second; the
// fault schedule aims its leader faults with the first.
import type { NodeId } from '../../daemon/raft/index.ts';
import type { SimNode } from './sim-node.ts';

/** The up node leading the highest term, if any. */
export function highestLeader(nodes: readonly SimNode[]): SimNode | undefined {
  let best: SimNode | undefined;
  let bestTerm = -1;
  for (const n of nodes) {
    if (!n.up) continue;
    const st = n.status();
    if (st.role === 'leader' && st.term > bestTerm) {
      best = n;
      bestTerm = st.term;
    }
  }
  return best;
}

/** A leader every up member follows in its term, if there is one now. */
export function followedLeader(nodes: readonly SimNode[], byId: ReadonlyMap<NodeId, SimNode>): SimNode | undefined {
  const l = highestLeader(nodes);
  if (l === undefined) return undefined;
  const st = l.status();
  for (const id of [...st.confState.voters, ...st.confState.learners]) {
    const n = byId.get(id);
    if (n === undefined || !n.up) continue;
    const s = n.status();
    if (s.leaderId !== l.id || s.term !== st.term) return undefined;
  }
  return l;
}

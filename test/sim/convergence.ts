// The end of a chaos run: every member the leader knows, up, has applied
// everything the leader committed and shows the same state digest; and
// members with equal digests hold equal states (the application's full
// fingerprint, in pool mode the snapshot bytes, compared once at the end
// because it is costly). A run ends when this holds after the heal, and
// fails on 'convergence' when it does not in time.
import type { NodeId } from '../../daemon/raft/index.ts';
import { SimViolation } from './invariants.ts';
import type { SimNode } from './sim-node.ts';

/** Undefined when every up member of `l`'s configuration applied `l`'s commit index with one digest, else why not. */
export function convergenceGap(l: SimNode, byId: ReadonlyMap<NodeId, SimNode>): string | undefined {
  const st = l.status();
  let digest: string | undefined;
  for (const id of [...st.confState.voters, ...st.confState.learners]) {
    const n = byId.get(id);
    if (n === undefined || !n.up) continue;
    if (n.appliedIndex !== st.commit) return `${id} applied ${n.appliedIndex}, leader ${l.id} committed ${st.commit}`;
    const d = n.app.digest();
    if (digest !== undefined && d !== digest) return `${id} state ${d} differs from ${digest}`;
    digest = d;
  }
  return undefined;
}

/** Throws SimViolation 'state-machine-safety' when two up members of `l`'s configuration hold different full states. */
export function checkStatesEqual(l: SimNode, byId: ReadonlyMap<NodeId, SimNode>): void {
  const st = l.status();
  let first: { id: NodeId; d: string } | undefined;
  for (const id of [...st.confState.voters, ...st.confState.learners]) {
    const n = byId.get(id);
    if (n === undefined || !n.up || n.app.stateDigest === undefined) continue;
    const d = n.app.stateDigest();
    if (first === undefined) first = { id, d };
    else if (d !== first.d) {
      throw new SimViolation('state-machine-safety', `${id} and ${first.id} are both at index ${n.appliedIndex} with digest ${n.app.digest()}, but their states differ: ${d} vs ${first.d}`);
    }
  }
}

// The real driver's promise to its callers, checked (driver: 'real'): a
// proposal is answered only once its entry is durable on enough voters that
// every quorum holds it, and every answered proposal is found at the end in
// the converged log, at its position, in an entry of its term. Also checks
// that no two nodes apply different proposals at one log position, and
// counts how the driver batched proposals into entries (DriverStats).
import type { NodeId } from '../../daemon/raft/index.ts';
import { PROPOSALS_PER_ENTRY_MAX, type LogPosition } from '../../daemon/raft-driver/index.ts';
import type { DriverSimNode, ProposalToken } from './driver-node.ts';
import { SimViolation, type Invariants } from './invariants.ts';
import type { SimNode } from './sim-node.ts';
import type { DriverStats } from './sim-result.ts';
import { decodeText } from './state-machine.ts';

/** What AckedProposals needs of the simulation. */
export interface AckedProposalsHost {
  readonly byId: ReadonlyMap<NodeId, SimNode>;
  readonly invariants: Invariants;
  /** True when `id` lost its storage and has not rejoined since (disk-faults.ts). */
  lostStorage(id: NodeId): boolean;
}

/** The proposals the real drivers answered, checked when answered and at the end. */
export class AckedProposals {
  readonly stats: DriverStats = { proposalsResolved: 0, batchedEntries: 0, batchedProposals: 0, transactionsLost: 0, ackedChecked: 0 };
  /** Acknowledged proposals: checked against the converged log at the end. */
  private readonly acked: { requestId: string; index: number; position: number; term: number; data: string }[] = [];
  /** Log position → proposal data, as first applied anywhere. */
  private readonly appliedAtPosition = new Map<number, string>();

  constructor(private readonly host: AckedProposalsHost) {}

  /** A driver applied one proposal of an entry: the same proposal as every other node at that position. */
  applied(node: DriverSimNode, at: LogPosition, data: Uint8Array): void {
    const text = decodeText(data);
    const seen = this.appliedAtPosition.get(at.position);
    if (seen === undefined) {
      this.appliedAtPosition.set(at.position, text);
      const place = at.position - at.index * PROPOSALS_PER_ENTRY_MAX;
      if (place === 1) this.stats.batchedEntries++;
      if (place === 1) this.stats.batchedProposals += 2;
      else if (place > 1) this.stats.batchedProposals++;
    } else if (seen !== text) {
      throw new SimViolation('state-machine-safety', `${node.id} applies ${JSON.stringify(text)} at log position ${at.position}; another node applied ${JSON.stringify(seen)} there`);
    }
  }

  /** A driver resolved a proposal: its entry must already be durable on enough voters that every quorum holds it. */
  resolved(node: DriverSimNode, p: ProposalToken): void {
    const a = p.applied!;
    const voters = node.status().confState.voters;
    const holders = voters.filter((id) => {
      const n = this.host.byId.get(id);
      if (n === undefined) return false;
      const d = n.durableDisk;
      if (d.snapshot().metadata.index >= a.index) return true;
      return a.index >= d.firstIndex() && a.index <= d.lastIndex() && d.term(a.index) === a.term;
    });
    // Every quorum of the voters must meet a holder: holders > voters − majority. A voter whose
    // storage was lost after its acknowledgement (the storage faults) votes in no quorum until the
    // leader confirms it holds the log again (rejoining): it stands in for a holder meanwhile.
    const needed = voters.length - (Math.floor(voters.length / 2) + 1) + 1;
    const lost = voters.filter((id) => !holders.includes(id) && this.host.lostStorage(id));
    if (holders.length + lost.length < needed) {
      throw new SimViolation(
        'ack-before-durable',
        `${node.id} answered proposal ${p.requestId} (entry ${a.index} term ${a.term}) while only [${holders.join(',')}] of voters [${voters.join(',')}] hold it on disk for good: a quorum without it could elect a leader that never had it`,
      );
    }
    this.stats.proposalsResolved++;
    this.acked.push({ requestId: p.requestId, index: a.index, position: a.position, term: a.term, data: decodeText(p.data) });
  }

  /** Every acknowledged proposal is in the converged log, at its position, in an entry of its term. */
  checkConverged(leader: SimNode): void {
    const commit = leader.status().commit;
    for (const a of this.acked) {
      const c = this.host.invariants.committedAt(a.index);
      const at = this.appliedAtPosition.get(a.position);
      if (a.index > commit || c === undefined || c.term !== a.term || at !== a.data) {
        throw new SimViolation(
          'ack-lost',
          `proposal ${a.requestId} was acknowledged at entry ${a.index} term ${a.term} position ${a.position}, but the converged log (commit ${commit}) holds ${c === undefined ? 'nothing' : `term ${c.term}`} there and ${at === undefined ? 'nothing' : JSON.stringify(at)} at that position`,
        );
      }
      this.stats.ackedChecked++;
    }
  }
}

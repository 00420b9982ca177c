// Membership changes in a chaos run: the fault schedule asks for one now and
// then (conf-change), and this file picks it — promote a learner, add a
// spare node (started fresh, as a learner or a voter), or remove a voter
// above three — and proposes it on the leader. A committed removal shuts
// its node down a moment later, for good. membershipSettled() tells the
// storage faults when no change is under way (a removed member gone and a
// member that lost its storage are two failures; no majority may be left).
import type { Entry, NodeId } from '../../daemon/raft/index.ts';
import type { EventQueue } from './event-queue.ts';
import type { Prng } from './prng.ts';
import type { SimEvent } from './sim-event.ts';
import type { SimNode } from './sim-node.ts';

/** What MembershipChanges needs of the simulation. */
export interface MembershipHost {
  readonly nodes: readonly SimNode[];
  readonly byId: ReadonlyMap<NodeId, SimNode>;
  readonly queue: EventQueue<SimEvent>;
  startNode(n: SimNode): void;
  /** The node was called and may have a Ready. */
  touch(n: SimNode): void;
  trace(text: string): void;
}

/** `µs` from a removal's commit to its node's shutdown, at most. */
const SHUTDOWN_DELAY_MAX_US = 300_000;

/** Proposes membership changes and carries out committed removals. */
export class MembershipChanges {
  /** Conf changes committed so far. */
  committed = 0;
  /** Nodes whose removal is committed and whose shutdown is scheduled. */
  private readonly shuttingDown = new Set<SimNode>();

  /**
   * `rngFaults` picks the change (the fault stream), `rngMisc` the shutdown
   * delay; `votersInitial` is the cluster's initial size (SimOptions.nodes).
   */
  constructor(
    private readonly host: MembershipHost,
    private readonly rngFaults: Prng,
    private readonly rngMisc: Prng,
    private readonly votersInitial: number,
  ) {}

  /** Picks one change that `leader` may propose now and proposes it; none without a leader. */
  propose(leader: SimNode | undefined): void {
    if (leader === undefined) return;
    const rng = this.rngFaults;
    const conf = leader.status().confState;
    const fresh = this.host.nodes.filter((n) => !n.up && !n.removed && n.incarnation === 0);
    const choices: (() => void)[] = [];
    for (const learner of conf.learners) {
      choices.push(() => this.proposeChange(leader, { type: 'add-voter', nodeId: learner }));
    }
    if (fresh.length > 0 && conf.voters.length < this.votersInitial + 1) {
      const n = fresh[0]!;
      choices.push(() => {
        this.host.startNode(n);
        this.proposeChange(leader, { type: rng.chance(0.5) ? 'add-learner' : 'add-voter', nodeId: n.id });
      });
    }
    if (conf.voters.length > 3) {
      const victim = rng.pick(conf.voters);
      choices.push(() => this.proposeChange(leader, { type: 'remove-node', nodeId: victim }));
    }
    if (choices.length === 0) return;
    rng.pick(choices)();
  }

  /** A conf-change entry committed (first applied anywhere): a removal schedules its node's shutdown. */
  entryCommitted(e: Entry): void {
    this.committed++;
    const text = new TextDecoder().decode(e.data);
    const change = JSON.parse(text) as { type: string; nodeId: NodeId };
    this.host.trace(`committed conf change @${e.index}: ${text}`);
    if (change.type !== 'remove-node') return;
    const n = this.host.byId.get(change.nodeId);
    if (n !== undefined) {
      this.shuttingDown.add(n);
      this.host.queue.after(this.rngMisc.range(0, SHUTDOWN_DELAY_MAX_US), { type: 'shutdown', node: n });
    }
  }

  /** The 'shutdown' event: a removed node stops for good. */
  shutdown(n: SimNode): void {
    this.shuttingDown.delete(n);
    if (n.removed) return;
    this.host.trace(`${n.id} SHUTDOWN (removed from the cluster)`);
    if (n.up) n.crash();
    n.removed = true;
  }

  /** True when no membership change is under way: no removal awaiting its shutdown, no conf change in any up member's log beyond what it applied, one membership everywhere up. */
  settled(): boolean {
    if (this.shuttingDown.size > 0) return false;
    let conf: string | undefined;
    for (const n of this.host.nodes) {
      if (!n.up || n.removed) continue;
      const c = JSON.stringify([[...n.confState.voters].sort(), [...n.confState.learners].sort()]);
      if (conf !== undefined && c !== conf) return false;
      conf = c;
      const lo = Math.max(n.appliedIndex + 1, n.disk.firstIndex());
      const hi = n.disk.lastIndex() + 1;
      if (lo < hi && n.disk.entries(lo, hi, Number.MAX_SAFE_INTEGER).some((e) => e.type === 'conf-change')) return false;
    }
    return true;
  }

  private proposeChange(leader: SimNode, change: Parameters<NonNullable<SimNode['raft']>['proposeConfChange']>[0]): void {
    const result = leader.proposeConfChange(change);
    this.host.trace(`${leader.id} CONF-CHANGE ${change.type} ${change.nodeId}: ${result.ok === 'queued' ? 'queued' : result.ok ? `proposed @${result.index}` : result.reason}`);
    this.host.touch(leader);
  }
}

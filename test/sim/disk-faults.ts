// Storage faults (SimOptions.diskFaults), one at a time (two lost disks in a
// three-node cluster are beyond what any protocol can survive):
// - 'disk-wipe': the node goes down if up; its disk is replaced by an empty
//   one. With the rejoin guard it boots knowing it lost its log (its
//   identity outlived its database: storage-lineage.ts), with no membership
//   of its own and rejoining; without it, it boots as a rebuild from its
//   config file would: its initial membership, trusted.
// - 'disk-rewind': the first time on a node, a copy of its disk is taken;
//   the next time, the node goes down and the copy is put back (nothing
//   local tells it).
// The next storage fault waits until the last victim holds again what the
// cluster had committed when it was hit. Apart from the fault schedule
// because it keeps state across faults (the copies, the victim) and the
// durability checks ask it which voters lost their storage.
import type { NodeId } from '../../daemon/raft/index.ts';
import { MemoryStorage } from '../../daemon/raft/memory-storage.ts';
import { describeDisk } from './describe-message.ts';
import type { Invariants } from './invariants.ts';
import type { Network } from './network.ts';
import type { Prng } from './prng.ts';
import { copyStorage } from './sim-disk.ts';
import type { SimNode } from './sim-node.ts';
import type { DiskFaultStats } from './sim-result.ts';

/** What DiskFaults needs of the simulation. */
export interface DiskFaultHost {
  readonly nodes: readonly SimNode[];
  readonly byId: ReadonlyMap<NodeId, SimNode>;
  readonly network: Network;
  readonly invariants: Invariants;
  /** A leader every up member follows in its term, if there is one now. */
  followedLeader(): SimNode | undefined;
  /** Crashes `n` if it is up (its restart is scheduled as after any crash). */
  takeDown(n: SimNode): void;
  /** True when no membership change is under way (membership-changes.ts). */
  membershipSettled(): boolean;
  trace(text: string): void;
}

/** The storage faults of one run and what they left behind. */
export class DiskFaults {
  readonly stats: DiskFaultStats = { wipes: 0, copiesTaken: 0, copiesPutBack: 0, rejoinsStarted: 0, rejoinsConfirmed: 0 };
  /** Copies of disks taken by 'disk-rewind', to put back at the next one. */
  private readonly copies = new Map<NodeId, MemoryStorage>();
  /** The last storage fault's victim, until it holds again what was committed when it was hit. */
  private victim: { readonly node: SimNode; readonly committedAtFault: number; readonly rewound: boolean } | undefined;

  /** `rng`: the fault stream; `rejoinGuard`: SimOptions.rejoinGuard. */
  constructor(
    private readonly host: DiskFaultHost,
    private readonly rng: Prng,
    private readonly rejoinGuard: boolean,
  ) {}

  /** Injects one storage fault, when the last one healed and no membership change is under way. */
  inject(action: 'disk-wipe' | 'disk-rewind'): void {
    const rng = this.rng;
    if (!this.healed()) return;
    this.victim = undefined;
    // Nor while a membership change is under way: a removed member gone and one that lost its
    // storage are two failures, and no majority may be left to finish the change.
    if (!this.host.membershipSettled()) return;
    const candidates = this.host.nodes.filter((n) => !n.removed && n.incarnation > 0);
    if (candidates.length === 0) return;
    if (action === 'disk-rewind') {
      const withCopy = candidates.filter((n) => this.copies.has(n.id));
      if (withCopy.length === 0 || rng.chance(0.3)) {
        const n = rng.pick(candidates);
        this.copies.set(n.id, copyStorage(n.durableDisk));
        this.stats.copiesTaken++;
        this.host.trace(`${n.id} DISK COPY taken (${describeDisk(n)})`);
        return;
      }
      const n = rng.pick(withCopy);
      // The copy goes back into an otherwise healthy cluster (the scenario: an operator
      // restores one member while the others run): a leader every member follows, every other
      // member up, the network whole. Else the leader that holds the evidence could be lost with it.
      const l = this.host.followedLeader();
      const othersUp = this.host.nodes.every((m) => m === n || m.removed || m.incarnation === 0 || m.up);
      if (l === undefined || l === n || !othersUp) return;
      this.host.network.heal();
      const copy = this.copies.get(n.id)!;
      this.copies.delete(n.id);
      this.host.takeDown(n);
      this.victim = { node: n, committedAtFault: this.host.invariants.committedIndexMax, rewound: true };
      n.replaceDisk(copy);
      this.stats.copiesPutBack++;
      this.host.trace(`${n.id} DISK REWOUND: an older copy put back (${describeDisk(n)})`);
      return;
    }
    const n = rng.pick(candidates);
    this.copies.delete(n.id);
    this.host.takeDown(n);
    this.victim = { node: n, committedAtFault: this.host.invariants.committedIndexMax, rewound: false };
    let disk: MemoryStorage;
    if (this.rejoinGuard) {
      disk = new MemoryStorage({ voters: [], learners: [] });
      disk.setHardState({ term: 0, vote: '', commit: 0, rejoining: true });
    } else {
      disk = new MemoryStorage(n.initialConf);
    }
    n.replaceDisk(disk);
    this.stats.wipes++;
    this.host.trace(`${n.id} DISK WIPED, identity kept (${describeDisk(n)})`);
  }

  /** True when a node was put back from an older copy and does not yet hold what it lost: other faults wait. */
  get rewoundUnhealed(): boolean {
    return this.victim?.rewound === true && !this.healed();
  }

  /** True when the last storage fault's victim (if any) holds again what was committed when it was hit, or was removed. */
  healed(): boolean {
    const victim = this.victim;
    if (victim === undefined) return true;
    const n = victim.node;
    return n.removed || (n.up && !n.status().rejoining && n.appliedIndex >= victim.committedAtFault);
  }

  /** True when `id` lost its storage and has not rejoined since: rejoining on its disk, or the storage fault's unhealed victim. */
  lostStorage(id: NodeId): boolean {
    const n = this.host.byId.get(id);
    if (n === undefined) return false;
    if (n.durableDisk.initialState().hardState.rejoining === true) return true;
    return this.victim?.node === n && !this.healed();
  }
}

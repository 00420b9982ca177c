// The fault schedule of a chaos run: every so often (a gap drawn around the
// scenario's mean) one fault, picked by the scenario's weights — a network
// partition of one of four shapes, the leader isolated, the network healed,
// a crash (torn: in the middle of a disk write), the leader crashed, new
// link delays and losses, a leadership transfer, a forced campaign or a
// storm of them, a membership change (membership-changes.ts) or a storage
// fault (disk-faults.ts). Every draw comes from the fault stream, so a seed
// replays the same faults whatever else changes.
import { randomLinkProfile, type Network } from './network.ts';
import type { DiskFaults } from './disk-faults.ts';
import type { MembershipChanges } from './membership-changes.ts';
import { Prng } from './prng.ts';
import type { FaultAction, Scenario } from './scenario.ts';
import type { SimNode } from './sim-node.ts';
import type { SimOptions } from './sim-options.ts';
import { unreachable } from './unreachable.ts';

/** What FaultSchedule needs of the simulation. */
export interface FaultHost {
  readonly nodes: readonly SimNode[];
  readonly network: Network;
  readonly disk: DiskFaults;
  readonly membership: MembershipChanges;
  /** The up node leading the highest term, if any. */
  leader(): SimNode | undefined;
  /** Crashes `n` now, or (torn) in the middle of the Ready it has pending. */
  crashNode(n: SimNode, torn: boolean): void;
  /** The node was called and may have a Ready. */
  touch(n: SimNode): void;
  trace(text: string): void;
}

/** Picks and injects the faults of a chaos run. */
export class FaultSchedule {
  /** Fault weights: the scenario's, plus the storage faults' when enabled. */
  readonly weights: Readonly<Record<FaultAction, number>>;

  /** `rng`: the fault stream; the storage faults' weights come from a stream of the seed's own. */
  constructor(
    private readonly host: FaultHost,
    private readonly rng: Prng,
    private readonly scenario: Scenario,
    options: { readonly seed: number; readonly diskFaults: NonNullable<SimOptions['diskFaults']> },
  ) {
    // Their own stream, forked from a root of its own so that no other stream moves:
    // a seed draws every other fault, message and client as it does without them.
    const rngDisk = new Prng(options.seed).fork('disk-faults');
    const diskFaults = options.diskFaults;
    this.weights = {
      ...scenario.faultWeights,
      'disk-wipe': diskFaults === 'wipe' || diskFaults === 'both' ? rngDisk.range(1, 3) : 0,
      'disk-rewind': diskFaults === 'rewind' || diskFaults === 'both' ? rngDisk.range(2, 4) : 0,
    };
  }

  /** True when storage faults are among the weights. */
  get diskFaultsOn(): boolean {
    return this.weights['disk-wipe'] + this.weights['disk-rewind'] > 0;
  }

  /** `µs` to the next fault. */
  gapUs(): number {
    const mean = this.scenario.faultGapMeanUs;
    return this.rng.range(Math.round(mean / 4), Math.round(mean * 1.75));
  }

  /** Picks a fault by the weights and injects it (some do nothing in a state they do not fit). */
  inject(): void {
    // A node put back from an older copy is caught by the leader it acknowledged to since the
    // copy; if that leader were lost too, nothing the others hold could reveal what it lost (see
    // disk-faults.ts). The rest of the cluster is left alone until it holds what it lost.
    if (this.host.disk.rewoundUnhealed) return;
    const rng = this.rng;
    const weights = this.weights;
    const actions = Object.keys(weights) as FaultAction[];
    let total = 0;
    for (const a of actions) total += weights[a];
    let r = rng.float() * total;
    let action: FaultAction = actions[0]!;
    for (const a of actions) {
      r -= weights[a];
      if (r < 0) {
        action = a;
        break;
      }
    }
    const ids = this.host.nodes.filter((n) => !n.removed).map((n) => n.id);
    const all = this.host.nodes.map((n) => n.id);
    const upNodes = this.host.nodes.filter((n) => n.up);
    const leader = this.host.leader();
    switch (action) {
      case 'partition': {
        this.host.network.heal();
        const shuffled = rng.shuffle(ids);
        const kind = rng.pick(['isolate', 'split', 'one-way', 'bridge'] as const);
        if (kind === 'isolate') this.host.network.isolate(shuffled[0]!, all);
        else if (kind === 'split') {
          const k = rng.range(1, Math.floor(shuffled.length / 2));
          this.host.network.split(shuffled.slice(0, k), shuffled.slice(k));
        } else if (kind === 'one-way') {
          this.host.network.oneWay(shuffled[0]!, shuffled[1]!);
          if (rng.chance(0.5)) this.host.network.oneWay(shuffled[0]!, shuffled[2]!);
        } else {
          // The bridge: left and right cannot talk; shuffled[0] hears both.
          const rest = shuffled.slice(1);
          const k = rng.range(1, rest.length - 1);
          this.host.network.bridge(rest.slice(0, k), shuffled[0]!, rest.slice(k));
        }
        this.host.trace(`PARTITION ${this.host.network.description}`);
        return;
      }
      case 'isolate-leader':
        if (leader === undefined) return;
        this.host.network.heal();
        this.host.network.isolate(leader.id, all);
        this.host.trace(`PARTITION ${this.host.network.description} (the leader)`);
        return;
      case 'heal-network':
        this.host.network.heal();
        this.host.trace('HEAL network');
        return;
      case 'crash':
      case 'crash-torn': {
        if (upNodes.length <= 1) return;
        this.host.crashNode(rng.pick(upNodes), action === 'crash-torn');
        return;
      }
      case 'crash-leader':
        if (leader === undefined || upNodes.length <= 1) return;
        this.host.crashNode(leader, rng.chance(0.3));
        return;
      case 'links':
        this.host.network.setProfile(randomLinkProfile(rng));
        this.host.trace(`LINKS ${JSON.stringify(this.host.network.links)}`);
        return;
      case 'transfer': {
        if (leader === undefined) return;
        const voters = leader.status().confState.voters.filter((v) => v !== leader.id);
        if (voters.length === 0) return;
        const target = rng.pick(voters);
        this.host.trace(`${leader.id} TRANSFER leadership to ${target}`);
        leader.transferLeadership(target);
        this.host.touch(leader);
        return;
      }
      case 'campaign': {
        if (upNodes.length === 0) return;
        const n = rng.pick(upNodes);
        this.host.trace(`${n.id} CAMPAIGN (forced)`);
        n.campaignForced = true;
        n.campaign();
        this.host.touch(n);
        return;
      }
      case 'campaign-storm': {
        // Several nodes campaign at once: split votes, and votes granted in a
        // term the voter had already adopted from a losing candidate.
        for (const n of rng.shuffle(upNodes).slice(0, rng.range(2, 3))) {
          this.host.trace(`${n.id} CAMPAIGN (storm)`);
          n.campaignForced = true;
          n.campaign();
          this.host.touch(n);
        }
        return;
      }
      case 'conf-change':
        // A member that lost its storage counts as failed until it rejoins: no membership change meanwhile.
        if (!this.host.disk.healed()) return;
        this.host.membership.propose(leader);
        return;
      case 'disk-wipe':
      case 'disk-rewind':
        this.host.disk.inject(action);
        return;
      default:
        return unreachable(action);
    }
  }
}

// The simulated network between Raft nodes: per directed link it drops,
// delays (uniform jitter plus rare long spikes, which reorder messages),
// duplicates, and cuts. Partitions are sets of cut directed links, so
// symmetric splits, one-way (asymmetric) cuts, an isolated leader and the
// "bridge" (A–B and B–C up, A–C down) are all the same mechanism.
import type { NodeId } from '../../daemon/raft/index.ts';
import type { Prng } from './prng.ts';

/** How a healthy link behaves; the fault injector may change it mid-run. */
export interface LinkProfile {
  /** Probability a message is lost, in [0, 1). */
  readonly dropRate: number;
  /** Probability a delivered message arrives twice. */
  readonly duplicateRate: number;
  /** Usual one-way delay bounds, µs (uniform between them). */
  readonly delayMinUs: number;
  readonly delayMaxUs: number;
  /** Probability a message takes a long detour (reordering it behind later ones). */
  readonly spikeRate: number;
  /** Longest detour, µs. */
  readonly spikeMaxUs: number;
}

/** A clean network: the heal phase uses it so liveness has a bound. */
export const QUIET_LINKS: LinkProfile = {
  dropRate: 0,
  duplicateRate: 0,
  delayMinUs: 500,
  delayMaxUs: 3_000,
  spikeRate: 0,
  spikeMaxUs: 0,
};

/** Draws a seed's link profile: from nearly clean to hostile. */
export function randomLinkProfile(rng: Prng): LinkProfile {
  const harsh = rng.chance(0.3);
  const delayMinUs = rng.range(100, 3_000);
  return {
    dropRate: harsh ? rng.float() * 0.25 : rng.float() * 0.05,
    duplicateRate: rng.float() * (harsh ? 0.1 : 0.03),
    delayMinUs,
    delayMaxUs: delayMinUs + rng.range(0, harsh ? 30_000 : 8_000),
    spikeRate: rng.float() * (harsh ? 0.1 : 0.02),
    spikeMaxUs: rng.range(20_000, harsh ? 400_000 : 120_000),
  };
}

/** The partition shapes the fault injector can impose. */
export type PartitionKind = 'isolate' | 'split' | 'one-way' | 'bridge';

/** Decides, per message, whether and when it arrives. */
export class Network {
  private readonly index = new Map<NodeId, number>();
  /** Cut directed links, as from·n + to. */
  private readonly cut = new Set<number>();
  private profile: LinkProfile;
  private readonly rng: Prng;
  /** Human summary of the current partition, for traces. */
  description = 'healthy';

  constructor(nodeIds: readonly NodeId[], profile: LinkProfile, rng: Prng) {
    nodeIds.forEach((id, i) => this.index.set(id, i));
    this.profile = profile;
    this.rng = rng;
  }

  get links(): LinkProfile {
    return this.profile;
  }

  setProfile(profile: LinkProfile): void {
    this.profile = profile;
  }

  /** True when messages from `from` reach `to` (ignoring random loss). */
  connected(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(this.key(from, to));
  }

  /** Delivery delays for one message, µs: [] lost, [d] delivered, [d1, d2] duplicated. */
  deliveries(from: NodeId, to: NodeId): number[] {
    if (this.cut.has(this.key(from, to))) return [];
    const p = this.profile;
    if (this.rng.chance(p.dropRate)) return [];
    const out = [this.delay()];
    if (this.rng.chance(p.duplicateRate)) out.push(this.delay());
    return out;
  }

  /** Restores every link. */
  heal(): void {
    this.cut.clear();
    this.description = 'healthy';
  }

  /** Cuts `node` off from everyone, both ways. */
  isolate(node: NodeId, all: readonly NodeId[]): void {
    for (const other of all) {
      if (other === node) continue;
      this.cutLink(node, other);
      this.cutLink(other, node);
    }
    this.description = `isolate ${node}`;
  }

  /** Cuts every link between group a and group b, both ways. */
  split(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cutLink(x, y);
        this.cutLink(y, x);
      }
    }
    this.description = `split [${a.join(',')}] | [${b.join(',')}]`;
  }

  /** Cuts from→to only: `to` stops hearing `from` while `from` still hears `to`. */
  oneWay(from: NodeId, to: NodeId): void {
    this.cutLink(from, to);
    this.description = `one-way ${from}-/->${to}`;
  }

  /** The bridge: every `left`–`right` link cut, while `bridge` still talks to both sides. */
  bridge(left: readonly NodeId[], bridgeNode: NodeId, right: readonly NodeId[]): void {
    for (const x of left) {
      for (const y of right) {
        this.cutLink(x, y);
        this.cutLink(y, x);
      }
    }
    this.description = `bridge [${left.join(',')}]-${bridgeNode}-[${right.join(',')}]`;
  }

  private delay(): number {
    const p = this.profile;
    let d = this.rng.range(p.delayMinUs, p.delayMaxUs);
    if (this.rng.chance(p.spikeRate)) d += this.rng.range(0, p.spikeMaxUs);
    return d;
  }

  private cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(this.key(from, to));
  }

  private key(from: NodeId, to: NodeId): number {
    const f = this.index.get(from);
    const t = this.index.get(to);
    if (f === undefined || t === undefined) throw new Error(`Network: unknown link ${from}->${to}`);
    return f * this.index.size + t;
  }
}

// One seed's scenario: every tunable of a run (Raft config, disk and network
// behaviour, fault mix, clients, phase lengths) drawn from the seed, so a run
// is a pure function of (seed, node count, mode).
import { randomLinkProfile, type LinkProfile } from './network.ts';
import type { Prng } from './prng.ts';
import type { SimNodeConfig } from './sim-node.ts';

/** Virtual length of one tick, µs. */
export const TICK_US = 10_000;
/** Ticks in an election timeout (the base; the core randomizes in [this, 2·this)). */
export const ELECTION_TICKS = 10;
/** One election timeout, µs: the unit liveness figures are expressed in. */
export const ELECTION_TIMEOUT_US = TICK_US * ELECTION_TICKS;

/** What one seed's run looks like. */
export interface Scenario {
  readonly raft: SimNodeConfig;
  readonly links: LinkProfile;
  /** Per node, its tick interval, µs (clock drift ±2%). */
  readonly tickIntervalsUs: readonly number[];
  /** Longest fsync, µs: a Ready is processed 0..this after it appears. */
  readonly diskDelayMaxUs: number;
  readonly clients: number;
  /** Chance per client operation that it is a ReadIndex read (else a write). */
  readonly readRate: number;
  /** Virtual time of fault injection before the heal, µs. */
  readonly chaosUs: number;
  /** Mean gap between fault actions, µs. */
  readonly faultGapMeanUs: number;
  /** A crashed node restarts 20 ms to this much later, µs. */
  readonly restartDelayMaxUs: number;
  /** Single-server membership changes in this run. */
  readonly membership: boolean;
  /** Weights of each fault action (0 disables it). */
  readonly faultWeights: Readonly<Record<FaultAction, number>>;
}

/** The fault injector's repertoire. */
export type FaultAction =
  | 'partition'
  | 'isolate-leader'
  | 'heal-network'
  | 'crash'
  | 'crash-leader'
  | 'crash-torn'
  | 'links'
  | 'transfer'
  | 'campaign'
  | 'campaign-storm'
  | 'conf-change'
  /** A node's disk is wiped while it is down, its identity kept (`--disk-faults`). */
  | 'disk-wipe'
  /** A copy of a node's disk is taken; at the next such fault the node goes down and the copy is put back (`--disk-faults`). */
  | 'disk-rewind';

/** Draws a chaos scenario for `nodeSlots` node slots (voters plus spares). */
export function drawScenario(rng: Prng, nodeSlots: number, membership: boolean): Scenario {
  const bothChecks = rng.chance(0.6);
  const raft: SimNodeConfig = {
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: 1,
    preVote: bothChecks || rng.chance(0.5),
    checkQuorum: bothChecks || rng.chance(0.5),
    messageBytesMax: rng.pick([64, 256, 1024, 8192]),
    inflightMessagesMax: rng.pick([1, 2, 4, 16]),
    uncommittedBytesMax: rng.chance(0.3) ? rng.range(200, 2000) : 0,
    committedBytesPerReadyMax: rng.pick([64, 512, 1 << 20]),
    snapshotEveryEntries: rng.pick([4, 8, 16, 32, 64]),
    entriesKeptAfterCompaction: rng.pick([0, 1, 3, 10]),
  };
  const tickIntervalsUs: number[] = [];
  for (let i = 0; i < nodeSlots; i++) tickIntervalsUs.push(Math.round(TICK_US * (1 + (rng.float() * 2 - 1) * 0.02)));
  return {
    raft,
    links: randomLinkProfile(rng),
    tickIntervalsUs,
    diskDelayMaxUs: rng.pick([0, 200, 1_000, 5_000]),
    clients: rng.range(1, 4),
    readRate: rng.pick([0, 0.2, 0.4]),
    chaosUs: rng.range(1_500_000, 3_000_000),
    faultGapMeanUs: rng.range(30_000, 300_000),
    membership,
    restartDelayMaxUs: rng.pick([100_000, 400_000, 1_500_000]),
    faultWeights: swarmWeights(rng, membership),
  };
}

/**
 * Swarm testing: each seed enables a random subset of the fault actions with
 * random weights, so some seeds do little but crash leaders, others little
 * but partition — schedules a uniform mix would almost never produce.
 */
function swarmWeights(rng: Prng, membership: boolean): Record<FaultAction, number> {
  const w = (base: number): number => (rng.chance(0.7) ? rng.range(1, base * 2) : 0);
  const weights: Record<FaultAction, number> = {
    partition: w(3),
    'isolate-leader': w(2),
    'heal-network': w(3),
    crash: w(2),
    'crash-leader': w(2),
    'crash-torn': w(1),
    links: w(1),
    transfer: w(1),
    campaign: w(1),
    'campaign-storm': w(1),
    'conf-change': membership ? rng.range(1, 6) : 0,
    // Storage faults are drawn by the run when enabled (cluster-sim.ts), from a stream of their own.
    'disk-wipe': 0,
    'disk-rewind': 0,
  };
  if (Object.values(weights).every((x) => x === 0)) weights.crash = 1;
  return weights;
}

/** A calm scenario for the liveness figure: clean links, no faults but the one leader crash. */
export function drawLivenessScenario(rng: Prng, nodeSlots: number): Scenario {
  const base = drawScenario(rng, nodeSlots, false);
  return {
    ...base,
    raft: { ...base.raft, preVote: true, checkQuorum: true },
    clients: 1,
    faultWeights: {
      partition: 0,
      'isolate-leader': 0,
      'heal-network': 0,
      crash: 0,
      'crash-leader': 0,
      'crash-torn': 0,
      links: 0,
      transfer: 0,
      campaign: 0,
      'campaign-storm': 0,
      'conf-change': 0,
      'disk-wipe': 0,
      'disk-rewind': 0,
    },
  };
}

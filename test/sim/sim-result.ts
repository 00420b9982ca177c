// What one seed's run found and measured: the first violation (with the
// virtual time and event it happened at), counts of what happened, the
// liveness timings, a hash of the trace or final state, and per-mode
// statistics (pool traffic, real drivers, storage faults). main.ts sums
// these over the seeds; sim.test.ts compares them between runs.
import type { ViolationKind } from './invariants.ts';
import type { PoolStats } from './pool-clients.ts';

/** What one run found and measured. */
export interface SimResult {
  readonly seed: number;
  readonly violation?: { readonly kind: ViolationKind; readonly message: string; readonly atUs: number; readonly event: number };
  readonly virtualUs: number;
  readonly events: number;
  readonly messagesSent: number;
  readonly crashes: number;
  readonly writesAcked: number;
  readonly readsServed: number;
  readonly committedIndex: number;
  readonly leaderTermMax: number;
  readonly confChanges: number;
  readonly checks: number;
  /** Virtual time from the heal to a leader every member follows, µs. */
  readonly leaderAfterHealUs?: number;
  /** Liveness mode: from the leader's crash to a new leader elected / followed by all, µs. */
  readonly electedAfterCrashUs?: number;
  readonly followedAfterCrashUs?: number;
  /** Hash of every trace line (hashTrace), or of the final state otherwise. */
  readonly traceHash: string;
  /** Pool mode: what the pool traffic did. */
  readonly pool?: PoolStats;
  /** Real-driver mode: what the driver did. */
  readonly driver?: DriverStats;
  /** Storage faults injected: disks wiped, copies taken, copies put back. */
  readonly disk?: DiskFaultStats;
}

/** What the storage faults did in one run (`diskFaults`). */
export interface DiskFaultStats {
  wipes: number;
  copiesTaken: number;
  copiesPutBack: number;
  /** Incarnations that started rejoining (told by a leader's commit beyond their log, or at boot after a wipe). */
  rejoinsStarted: number;
  /** Rejoins the leader confirmed. */
  rejoinsConfirmed: number;
}

/** What the real drivers did in one run (`driver: 'real'`). */
export interface DriverStats {
  /** Proposals resolved to their callers (each checked durable on a quorum). */
  proposalsResolved: number;
  /** Entries that carried more than one proposal. */
  batchedEntries: number;
  /** Proposals in those entries. */
  batchedProposals: number;
  /** Transactions a crash lost before their sync. */
  transactionsLost: number;
  /** Acknowledged proposals checked at the end against the converged log. */
  ackedChecked: number;
}

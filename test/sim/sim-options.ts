// How to run one seed of the simulator: the cluster's size, the mode (chaos
// or liveness), the replicated application, the driver, which storage faults
// to inject, and whether to trace. A run is a pure function of these
// options (cluster-sim.ts), so a failing seed replays event for event.
import type { StateMachineFactory } from './state-machine.ts';

/** How to run one seed. */
export interface SimOptions {
  readonly seed: number;
  /** Initial voters. */
  readonly nodes: 3 | 5;
  /** 'chaos': faults then heal (the default); 'liveness': one leader crash on a calm network, timed. */
  readonly mode?: 'chaos' | 'liveness';
  /** Receives one line per event when set. */
  readonly trace?: (line: string) => void;
  /** Hash every event's trace line into result.traceHash (slower; for the determinism test). */
  readonly hashTrace?: boolean;
  /**
   * The replicated application: 'hash' (the default: a hash chain of client
   * commands, state-machine.ts) or 'pool' (daemon/pool's seat pool driven by
   * license, session, checkout, checkin, renew, expire and grace traffic,
   * pool-app.ts and pool-clients.ts). Ignored when `newApp` is given.
   */
  readonly app?: 'hash' | 'pool';
  readonly newApp?: StateMachineFactory;
  /** Chance this seed runs membership changes (default 0.3). */
  readonly membershipRate?: number;
  /**
   * How nodes added by a membership change boot: 'empty' (a fresh data
   * directory: the leader must send the bootstrap snapshot, FINDINGS.md F1),
   * 'initial' (with the cluster's initial membership), or 'random' per seed
   * (the default).
   */
  readonly joiners?: 'empty' | 'initial' | 'random';
  /**
   * What drives each node's core: 'sim' (the default: sim-node.ts, the
   * simulator's own persist → send → apply → advance loop on cluster events)
   * or 'real' (daemon/raft-driver's RaftDriver, as production runs it, on a
   * virtual event loop with an asynchronously syncing disk: driver-node.ts).
   * 'real' runs only through runSimAsync.
   */
  readonly driver?: 'sim' | 'real';
  /**
   * Storage faults (default 'none'): 'wipe' — a node's disk is wiped while it
   * is down, its identity kept (it boots knowing it lost its log, as
   * daemon/storage/storage-lineage.ts makes a node know); 'rewind' — a copy of
   * a node's disk is taken, and at a later fault the node goes down and the
   * copy is put back (nothing local tells it); 'both'. One storage fault at a
   * time: the next waits until the last victim holds again what the cluster
   * had committed when it was hit.
   */
  readonly diskFaults?: 'none' | 'wipe' | 'rewind' | 'both';
  /**
   * RaftConfig.rejoinGuard of every node (default true). false shows what the
   * guard prevents: the core as it was, and a wiped node rebuilt from its
   * config file (its initial membership, a voter at once).
   */
  readonly rejoinGuard?: boolean;
  /**
   * A crashed node's peers hear its connections close (the transport's
   * onConnectionLost), as the production transport tells them. Default on;
   * false (`--no-connection-lost`) replays the trajectories of before issue
   * 18 (a crash then went unnoticed until the election timeout). It was off
   * by default in chaos mode until the pool's return stopped needing a
   * session (the moved trajectories had exposed that at seed 67).
   */
  readonly connectionLost?: boolean;
}

// (~1,250 lines: one run's event loop, fault schedule, client model and
// checks; to be split by concept — issue 19, not yet done.)
// One seeded simulation run: 3 or 5 Raft nodes (plus spares for membership
// changes) on a virtual clock, a hostile network, crashes, clients writing
// and reading; then a heal phase that must end with one leader all members
// follow, every client request answered and every member's state equal.
// Everything random comes from the seed: a run is a pure function of its
// options, so a failing seed replays event for event.
import { NONE, type Entry, type Message, type NodeId, type Ready } from '../../daemon/raft/index.ts';
import { PROPOSALS_PER_ENTRY_MAX, decodeBatch, type LogPosition } from '../../daemon/raft-driver/index.ts';
import { Clients, type ClientsHost, type SimClients } from './clients.ts';
import { DriverSimNode, type DriverNodeHost, type ProposalToken } from './driver-node.ts';
import { EventQueue } from './event-queue.ts';
import { Invariants, SimViolation, type ViolationKind } from './invariants.ts';
import { Network, QUIET_LINKS, randomLinkProfile } from './network.ts';
import { PoolApp, PoolSnapshotRegistry } from './pool-app.ts';
import { PoolClients, type PoolStats } from './pool-clients.ts';
import { Prng, hashString } from './prng.ts';
import { ELECTION_TIMEOUT_US, TICK_US, drawLivenessScenario, drawScenario, type FaultAction, type Scenario } from './scenario.ts';
import { SimApplyGap, SimNode, type SimNodeHooks } from './sim-node.ts';
import { copyStorage } from './sim-disk.ts';
import { MemoryStorage } from '../../daemon/raft/memory-storage.ts';
import { HashChain, decodeText, type StateMachineFactory } from './state-machine.ts';

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
   * onConnectionLost): always in liveness mode; in chaos mode only when true
   * (`--connection-lost`), so the default seeds replay as before. Default
   * off in chaos mode because the moved trajectories of the pool app expose
   * a borrow whose session expired and that can no longer be returned
   * (seed 67; main shows the same at seed 390), which its owners fix first.
   */
  readonly connectionLost?: boolean;
}

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

/** After the heal, a leader every member follows must appear within this, µs. */
export const LEADER_AFTER_HEAL_BOUND_US = 20 * ELECTION_TIMEOUT_US;
/** After the heal, every request answered and every member converged within this, µs. */
export const RESOLVED_AFTER_HEAL_BOUND_US = 6_000_000;
/** Clients keep issuing new requests this long after the heal, µs. */
const CLIENTS_AFTER_HEAL_US = 300_000;
/** A runaway run (an event storm) fails loudly rather than spin. */
const EVENTS_MAX = 2_000_000;
/** Spare node slots for membership changes. */
const SPARE_NODES = 2;
/** `µs` from a process's crash to its peers seeing its sockets close (loopback RST). */
const CONNECTION_CLOSE_DELAY_US = 200;

type SimEvent =
  | { readonly type: 'tick'; readonly node: SimNode; readonly inc: number }
  | { readonly type: 'ready'; readonly node: SimNode; readonly inc: number }
  | { readonly type: 'deliver'; readonly message: Message; readonly fromInc: number }
  | { readonly type: 'snap-report'; readonly node: SimNode; readonly inc: number; readonly to: NodeId; readonly ok: boolean }
  | { readonly type: 'client'; readonly client: number; readonly token: number }
  | { readonly type: 'fault' }
  | { readonly type: 'restart'; readonly node: SimNode }
  | { readonly type: 'shutdown'; readonly node: SimNode }
  | { readonly type: 'heal' }
  | { readonly type: 'clients-stop' }
  | { readonly type: 'crash-leader' }
  | { readonly type: 'probe' }
  | { readonly type: 'deadline' }
  | { readonly type: 'call'; readonly node: SimNode; readonly inc: number; readonly label: string; readonly fn: () => void }
  | { readonly type: 'connection-lost'; readonly node: SimNode; readonly inc: number; readonly peer: NodeId };

/** Runs one seed; never throws for a property violation (it is in the result). */
export function runSim(options: SimOptions): SimResult {
  if (options.driver === 'real') throw new Error('runSim: the real driver settles promises; use runSimAsync');
  return new ClusterSim(options).run();
}

/** Runs one seed under either driver; the real driver's promises settle between events, as on Node's event loop. */
export function runSimAsync(options: SimOptions): Promise<SimResult> {
  const sim = new ClusterSim(options);
  return options.driver === 'real' ? sim.runAsync() : Promise.resolve(sim.run());
}

/** Lets every microtask queued by one event run, as Node does after each callback. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class ClusterSim implements SimNodeHooks, ClientsHost, DriverNodeHost {
  readonly queue = new EventQueue<SimEvent>();
  readonly invariants = new Invariants();
  readonly nodes: SimNode[] = [];
  readonly byId = new Map<NodeId, SimNode>();
  readonly network: Network;
  readonly scenario: Scenario;
  readonly clients: SimClients;
  private readonly poolClients: PoolClients | undefined;
  private readonly options: SimOptions;
  private readonly joinersEmpty: boolean;
  private readonly rngFaults: Prng;
  private readonly rngDisk: Prng;
  private readonly rngMisc: Prng;
  private readonly tracing: boolean;
  private traceHash = 0x811c9dc5;
  private eventNo = 0;
  private touched: SimNode[] = [];
  private done = false;
  healed = false;
  private healUs = 0;
  private leaderAfterHealUs: number | undefined;
  private messagesSent = 0;
  private crashes = 0;
  /** `µs` (queue time) of the latest delivery scheduled on each link "from→to". */
  private readonly lastDeliveryUs = new Map<string, number>();
  private confChanges = 0;
  // Liveness mode.
  private crashedLeaderTerm = 0;
  private crashUs = -1;
  private electedAfterCrashUs: number | undefined;
  private followedAfterCrashUs: number | undefined;
  // Real-driver mode.
  private readonly realDriver: boolean;
  private readonly rngDriver: Prng | undefined;
  private readonly syncDelayMaxUs: number;
  /** The first error a driver or a promise handler would have swallowed. */
  private fatalError: { error: unknown } | undefined;
  /** Acknowledged proposals: checked against the converged log at the end. */
  private readonly acked: { requestId: string; index: number; position: number; term: number; data: string }[] = [];
  /** Log position → proposal data, as first applied anywhere. */
  private readonly appliedAtPosition = new Map<number, string>();
  private readonly driverStats: DriverStats = { proposalsResolved: 0, batchedEntries: 0, batchedProposals: 0, transactionsLost: 0, ackedChecked: 0 };
  // Storage faults.
  /** Fault weights: the scenario's, plus the storage faults' when enabled. */
  private readonly faultWeights: Readonly<Record<FaultAction, number>>;
  private readonly rejoinGuard: boolean;
  /** SimOptions.connectionLost. */
  private readonly connectionLost: boolean;
  /** Copies of disks taken by 'disk-rewind', to put back at the next one. */
  private readonly diskCopies = new Map<NodeId, MemoryStorage>();
  /** The last storage fault's victim, until it holds again what was committed when it was hit. */
  private diskFaultVictim: { readonly node: SimNode; readonly committedAtFault: number; readonly rewound: boolean } | undefined;
  private readonly diskStats: DiskFaultStats = { wipes: 0, copiesTaken: 0, copiesPutBack: 0, rejoinsStarted: 0, rejoinsConfirmed: 0 };
  /** Nodes whose removal is committed and whose shutdown is scheduled. */
  private readonly shuttingDown = new Set<SimNode>();

  constructor(options: SimOptions) {
    this.options = options;
    const root = new Prng(options.seed);
    const rngScenario = root.fork('scenario');
    this.rngFaults = root.fork('faults');
    this.rngDisk = root.fork('disk');
    this.rngMisc = root.fork('misc');
    const liveness = options.mode === 'liveness';
    const membership = !liveness && rngScenario.chance(options.membershipRate ?? 0.3);
    const slots = options.nodes + (membership ? SPARE_NODES : 0);
    const joinersEmpty = options.joiners === 'random' || options.joiners === undefined ? rngScenario.chance(0.5) : options.joiners === 'empty';
    this.joinersEmpty = joinersEmpty;
    this.scenario = liveness ? drawLivenessScenario(rngScenario, slots) : drawScenario(rngScenario, slots, membership);
    this.rejoinGuard = options.rejoinGuard ?? true;
    this.connectionLost = options.connectionLost ?? options.mode === 'liveness';
    const diskFaults = liveness ? 'none' : (options.diskFaults ?? 'none');
    // Their own stream, forked from a root of its own so that no other stream moves:
    // a seed draws every other fault, message and client as it does without them.
    const rngDisk = new Prng(options.seed).fork('disk-faults');
    this.faultWeights = {
      ...this.scenario.faultWeights,
      'disk-wipe': diskFaults === 'wipe' || diskFaults === 'both' ? rngDisk.range(1, 3) : 0,
      'disk-rewind': diskFaults === 'rewind' || diskFaults === 'both' ? rngDisk.range(2, 4) : 0,
    };
    this.tracing = options.trace !== undefined || options.hashTrace === true;
    const ids: NodeId[] = [];
    for (let i = 1; i <= slots; i++) ids.push(`n${i}`);
    const pool = options.newApp === undefined && options.app === 'pool';
    const registry = new PoolSnapshotRegistry();
    const newApp: StateMachineFactory = options.newApp ?? (pool ? (id) => new PoolApp(id, registry) : () => new HashChain());
    const voters = ids.slice(0, options.nodes);
    this.realDriver = options.driver === 'real';
    // Its own stream, so the core-driver runs of a seed stay as they were.
    this.rngDriver = this.realDriver ? root.fork('driver') : undefined;
    const loopDelayUs = this.rngDriver?.pick([0, 20, 100, 500, 2_000]) ?? 0;
    this.syncDelayMaxUs = Math.max(100, this.scenario.diskDelayMaxUs);
    for (let i = 0; i < slots; i++) {
      const id = ids[i]!;
      const nodeOptions = {
        id,
        // A joiner boots empty (a fresh data directory) or from the same
        // index-0 membership snapshot as the initial voters.
        initialConf: i < options.nodes || !joinersEmpty ? { voters, learners: [] } : { voters: [], learners: [] },
        config: this.scenario.raft,
        hooks: this,
        newApp,
        seed: options.seed,
        tickIntervalUs: this.scenario.tickIntervalsUs[i]!,
        rejoinGuard: this.rejoinGuard,
      };
      const node = this.realDriver ? new DriverSimNode({ ...nodeOptions, host: this, loopDelayUs }) : new SimNode(nodeOptions);
      this.nodes.push(node);
      this.byId.set(id, node);
    }
    this.network = new Network(ids, liveness ? QUIET_LINKS : this.scenario.links, root.fork('network'));
    if (pool) {
      this.poolClients = new PoolClients(this, root.fork('pool-clients'), ids, this.scenario.readRate, registry, this.realDriver ? PROPOSALS_PER_ENTRY_MAX : 1);
      this.clients = this.poolClients;
    } else {
      this.poolClients = undefined;
      this.clients = new Clients(this, root.fork('clients'), this.scenario.clients, this.scenario.readRate);
    }
  }

  run(): SimResult {
    this.begin();
    let violation: SimResult['violation'];
    try {
      for (;;) {
        const ev = this.queue.pop();
        if (ev === undefined) throw new SimViolation('liveness', 'the agenda ran dry');
        if (++this.eventNo > EVENTS_MAX) throw new SimViolation('liveness', `more than ${EVENTS_MAX} events`);
        this.handle(ev);
        this.scheduleReadies();
        if (this.done) break;
      }
    } catch (error) {
      violation = this.toViolation(error);
      this.trace(`VIOLATION ${violation.message}`);
    }
    return this.result(violation);
  }

  /** The run with real drivers: after each event, the promises it settled run (their handlers are part of it). */
  async runAsync(): Promise<SimResult> {
    let violation: SimResult['violation'];
    try {
      this.begin();
      await drainMicrotasks();
      this.throwFatal();
      for (;;) {
        const ev = this.queue.pop();
        if (ev === undefined) throw new SimViolation('liveness', 'the agenda ran dry');
        if (++this.eventNo > EVENTS_MAX) throw new SimViolation('liveness', `more than ${EVENTS_MAX} events`);
        this.handle(ev);
        await drainMicrotasks();
        this.throwFatal();
        if (this.done) break;
      }
    } catch (error) {
      violation = this.toViolation(error);
      this.trace(`VIOLATION ${violation.message}`);
    }
    // Crash every node so that no promise of this run settles into the next one.
    for (const n of this.nodes) if (n.up) n.crash();
    await drainMicrotasks();
    return this.result(violation);
  }

  private throwFatal(): void {
    if (this.fatalError !== undefined) throw this.fatalError.error;
  }

  private begin(): void {
    const s = this.scenario;
    if (this.poolClients !== undefined) this.trace(`pool app: ${this.poolClients.describe()}`);
    this.trace(
      `seed ${this.options.seed} nodes ${this.options.nodes} mode ${this.options.mode ?? 'chaos'} raft ${JSON.stringify(s.raft)} links ${JSON.stringify(this.network.links)} disk≤${s.diskDelayMaxUs}µs clients ${s.clients} membership ${s.membership}${s.membership ? ` joiners ${this.joinersEmpty ? 'empty' : 'initial'}` : ''} faults ${JSON.stringify(s.faultWeights)}` +
        (this.faultWeights['disk-wipe'] + this.faultWeights['disk-rewind'] > 0
          ? ` storage faults wipe ${this.faultWeights['disk-wipe']} rewind ${this.faultWeights['disk-rewind']}${this.rejoinGuard ? '' : ' WITHOUT the rejoin guard'}`
          : ''),
    );
    for (let i = 0; i < this.options.nodes; i++) this.startNode(this.nodes[i]!);
    this.clients.start();
    if (this.options.mode === 'liveness') {
      this.queue.push(TICK_US, { type: 'probe' });
      this.queue.push(10_000_000, { type: 'deadline' });
    } else {
      this.queue.push(this.faultGap(), { type: 'fault' });
      this.queue.push(s.chaosUs, { type: 'heal' });
    }
  }

  private result(violation: SimResult['violation']): SimResult {
    if (this.realDriver) {
      this.driverStats.transactionsLost = 0;
      for (const n of this.nodes) if (n instanceof DriverSimNode) this.driverStats.transactionsLost += n.simDisk.lostTransactions;
    }
    const result: SimResult = {
      seed: this.options.seed,
      ...(violation !== undefined ? { violation } : {}),
      virtualUs: this.queue.nowUs,
      events: this.eventNo,
      messagesSent: this.messagesSent,
      crashes: this.crashes,
      writesAcked: this.clients.writesAcked,
      readsServed: this.clients.readsServed,
      committedIndex: this.invariants.committedIndexMax,
      leaderTermMax: this.invariants.leaderTermMax,
      confChanges: this.confChanges,
      checks: this.invariants.checks,
      ...(this.leaderAfterHealUs !== undefined ? { leaderAfterHealUs: this.leaderAfterHealUs } : {}),
      ...(this.electedAfterCrashUs !== undefined ? { electedAfterCrashUs: this.electedAfterCrashUs } : {}),
      ...(this.followedAfterCrashUs !== undefined ? { followedAfterCrashUs: this.followedAfterCrashUs } : {}),
      traceHash: this.finalHash(),
      ...(this.poolClients !== undefined ? { pool: this.poolClients.stats } : {}),
      ...(this.realDriver ? { driver: this.driverStats } : {}),
      ...(this.faultWeights['disk-wipe'] + this.faultWeights['disk-rewind'] > 0 ? { disk: this.diskStats } : {}),
    };
    return result;
  }

  // ---- events -------------------------------------------------------------

  private handle(ev: SimEvent): void {
    switch (ev.type) {
      case 'tick': {
        const n = ev.node;
        if (n.incarnation !== ev.inc || !n.up) return;
        n.ticks++;
        n.raft!.tick();
        this.touched.push(n);
        this.queue.after(n.tickIntervalUs, ev);
        return;
      }
      case 'ready': {
        const n = ev.node;
        if (n.incarnation !== ev.inc || !n.up) return;
        n.readyScheduled = false;
        this.trace(`${n.id} ready`);
        if (!n.processReady()) {
          this.crashes++;
          this.trace(`${n.id} CRASH after persisting, before sending`);
          this.afterCrash(n);
          return;
        }
        this.touched.push(n);
        return;
      }
      case 'deliver': {
        const m = ev.message;
        const to = this.byId.get(m.to);
        const from = this.byId.get(m.from);
        if (to === undefined || !to.up) {
          this.trace(`drop ${describeMessage(m)} (${m.to} down)`);
          if (m.type === 'snap' && from !== undefined) this.queue.after(0, { type: 'snap-report', node: from, inc: ev.fromInc, to: m.to, ok: false });
          return;
        }
        this.trace(`deliver ${describeMessage(m)}`);
        if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
          if (m.term >= to.raft!.status().term) {
            to.lastTimerResetTick = to.ticks;
            to.leaderLost = false;
          }
        } else if (m.type === 'timeout-now') {
          to.campaignForced = true;
        }
        to.deliver(m);
        this.touched.push(to);
        if (m.type === 'snap' && from !== undefined) this.queue.after(0, { type: 'snap-report', node: from, inc: ev.fromInc, to: m.to, ok: true });
        return;
      }
      case 'snap-report': {
        const n = ev.node;
        if (n.incarnation !== ev.inc || !n.up) return;
        this.trace(`${n.id} reportSnapshot(${ev.to}, ${ev.ok})`);
        n.reportSnapshot(ev.to, ev.ok);
        this.touched.push(n);
        return;
      }
      case 'client':
        this.clients.wake(ev.client, ev.token);
        return;
      case 'fault':
        if (this.healed) return;
        this.injectFault();
        this.queue.after(this.faultGap(), ev);
        return;
      case 'restart':
        if (ev.node.up || ev.node.removed || this.healed) return;
        this.startNode(ev.node);
        return;
      case 'shutdown':
        this.shuttingDown.delete(ev.node);
        if (ev.node.removed) return;
        this.trace(`${ev.node.id} SHUTDOWN (removed from the cluster)`);
        if (ev.node.up) ev.node.crash();
        ev.node.removed = true;
        return;
      case 'heal':
        this.heal();
        return;
      case 'clients-stop':
        this.trace('clients stop issuing new requests');
        this.clients.stop();
        return;
      case 'crash-leader':
        this.crashLeaderForLiveness();
        return;
      case 'probe':
        this.probe();
        if (!this.done) this.queue.after(TICK_US, ev);
        return;
      case 'deadline':
        this.deadline();
        return;
      case 'call': {
        const n = ev.node;
        if (n.incarnation !== ev.inc || !n.up) return;
        if (ev.label !== 'interval') this.trace(`${n.id} ${ev.label}`);
        ev.fn();
        return;
      }
      case 'connection-lost': {
        const n = ev.node;
        if (n.incarnation !== ev.inc || !n.up) return;
        this.trace(`${n.id} reportConnectionLost(${ev.peer})`);
        if (n.status().role === 'follower' && n.status().leaderId === ev.peer) n.leaderLost = true;
        n.connectionLost(ev.peer);
        this.touched.push(n);
        return;
      }
      default:
        return unreachable(ev);
    }
  }

  private scheduleReadies(): void {
    if (this.touched.length === 0) return;
    for (const n of this.touched) {
      if (!n.up || !n.clusterDriven || n.readyScheduled || !n.raft!.hasReady()) continue;
      n.readyScheduled = true;
      const max = this.scenario.diskDelayMaxUs;
      this.queue.after(max === 0 ? 0 : this.rngDisk.range(0, max), { type: 'ready', node: n, inc: n.incarnation });
    }
    this.touched = [];
  }

  get nowUs(): number {
    return this.queue.nowUs;
  }

  wakeClient(client: number, token: number, delayUs: number): void {
    this.queue.after(delayUs, { type: 'client', client, token });
  }

  touch(node: SimNode): void {
    this.touched.push(node);
  }

  startNode(n: SimNode): void {
    n.start();
    this.trace(`${n.id} START incarnation ${n.incarnation} (disk: ${describeDisk(n)})`);
    // A real driver sets its own tick timer; the draw is made either way, so both drivers see the same faults.
    const firstTickUs = this.rngMisc.range(0, n.tickIntervalUs);
    if (n.clusterDriven) this.queue.after(firstTickUs, { type: 'tick', node: n, inc: n.incarnation });
    this.touched.push(n);
  }

  private crashNode(n: SimNode, torn: boolean): void {
    if (torn && n.readyScheduled) {
      // The crash happens in the middle of the Ready already pending (see 'ready').
      n.crashAfterNextPersist = true;
      this.trace(`${n.id} will crash after its next disk write`);
      return;
    }
    n.crash();
    this.crashes++;
    this.trace(`${n.id} CRASH`);
    this.afterCrash(n);
  }

  private afterCrash(n: SimNode): void {
    this.peersLoseConnection(n);
    if (this.options.mode === 'liveness') return;
    this.queue.after(this.rngFaults.range(20_000, this.scenario.restartDelayMaxUs), { type: 'restart', node: n });
  }

  /**
   * A crashed process's sockets are reset by the OS: every peer still linked
   * to it hears its connections close (the transport's onConnectionLost), a
   * moment after the crash. No random draw, so the other streams are unmoved.
   */
  private peersLoseConnection(crashed: SimNode): void {
    if (!this.connectionLost) return;
    for (const m of this.nodes) {
      if (m === crashed || !m.up || !this.network.connected(crashed.id, m.id)) continue;
      // TCP delivers what was sent before the reset first.
      const inFlightUs = (this.lastDeliveryUs.get(`${crashed.id}→${m.id}`) ?? 0) - this.queue.nowUs;
      this.queue.after(Math.max(CONNECTION_CLOSE_DELAY_US, inFlightUs + 1), { type: 'connection-lost', node: m, inc: m.incarnation, peer: crashed.id });
    }
  }

  // ---- hooks from the nodes -------------------------------------------------

  beforePersist(node: SimNode, rd: Ready): void {
    const wasRole = node.role;
    if (rd.softState !== undefined) {
      const role = rd.softState.role;
      this.trace(`${node.id} is ${role} (leader ${rd.softState.leaderId || '-'})`);
      if (role === 'leader') this.invariants.leaderSeen(node.id, node.raft!.status().term);
      // A follower whose leader's connection closed campaigns early on purpose (reportConnectionLost).
      if ((role === 'pre-candidate' || role === 'candidate') && wasRole === 'follower' && !node.campaignForced && !node.leaderLost) {
        this.invariants.campaignStarted(node, this.scenario.raft.electionTicks);
      }
      node.role = role;
    }
    node.campaignForced = false;
    if (rd.hardState !== undefined && (rd.hardState.rejoining === true) !== (node.disk.initialState().hardState.rejoining === true)) {
      if (rd.hardState.rejoining === true) this.diskStats.rejoinsStarted++;
      else this.diskStats.rejoinsConfirmed++;
      this.trace(`${node.id} ${rd.hardState.rejoining === true ? 'REJOINING: a leader\'s commit lies beyond its log' : 'REJOINED: the leader confirmed its log'}`);
    }
    if (this.tracing) {
      const hs = rd.hardState;
      const parts: string[] = [];
      if (hs !== undefined) parts.push(`hs{term ${hs.term} vote ${hs.vote || '-'} commit ${hs.commit}}`);
      if (rd.snapshot !== undefined) parts.push(`snap@${rd.snapshot.metadata.index}/t${rd.snapshot.metadata.term}`);
      if (rd.entries.length > 0) parts.push(`entries ${describeEntries(rd.entries)}`);
      if (rd.committedEntries.length > 0) parts.push(`apply ${rd.committedEntries[0]!.index}..${rd.committedEntries[rd.committedEntries.length - 1]!.index}`);
      if (parts.length > 0) this.trace(`${node.id} persist ${parts.join(' ')}`);
    }
    this.invariants.beforePersist(node, rd, wasRole === 'leader', node.role === 'leader');
  }

  afterPersist(node: SimNode, rd: Ready): void {
    this.invariants.afterPersist(node, rd);
  }

  send(node: SimNode, m: Message): void {
    this.messagesSent++;
    this.invariants.beforeSend(node, m);
    if (m.type === 'vote-resp' && !m.reject) {
      node.lastTimerResetTick = node.ticks;
      node.leaderLost = false;
    }
    if (!this.network.connected(m.from, m.to)) {
      this.trace(`lost ${describeMessage(m)} (link cut)`);
      node.reportUnreachable(m.to);
      if (m.type === 'snap') this.queue.after(TICK_US, { type: 'snap-report', node, inc: node.incarnation, to: m.to, ok: false });
      return;
    }
    const delays = this.network.deliveries(m.from, m.to);
    if (delays.length === 0) {
      this.trace(`lost ${describeMessage(m)}`);
      if (m.type === 'snap') this.queue.after(TICK_US, { type: 'snap-report', node, inc: node.incarnation, to: m.to, ok: false });
      return;
    }
    for (const d of delays) this.queue.after(d, { type: 'deliver', message: m, fromInc: node.incarnation });
    const link = `${m.from}→${m.to}`;
    this.lastDeliveryUs.set(link, Math.max(this.lastDeliveryUs.get(link) ?? 0, this.queue.nowUs + Math.max(...delays)));
  }

  applied(node: SimNode, e: Entry, digest: string, result: unknown): void {
    const first = this.invariants.committedAt(e.index) === undefined;
    this.invariants.applied(node, e, digest);
    if (first && e.type === 'conf-change') this.confChangeCommitted(e);
    // A real driver reports each proposal of an entry (proposalApplied) instead.
    if (node.clusterDriven) this.clients.entryApplied?.(node, e, result);
  }

  // ---- the real driver's host (driver-node.ts) -------------------------------------

  callLater(node: DriverSimNode, delayUs: number, label: string, fn: () => void): void {
    this.queue.after(delayUs, { type: 'call', node, inc: node.incarnation, label, fn });
  }

  syncDelayUs(): number {
    return this.rngDriver!.range(20, this.syncDelayMaxUs);
  }

  fatal(error: unknown): void {
    if (this.fatalError === undefined) this.fatalError = { error };
  }

  proposalApplied(node: DriverSimNode, at: LogPosition, entryTerm: number, data: Uint8Array, result: unknown): void {
    const text = decodeText(data);
    const seen = this.appliedAtPosition.get(at.position);
    if (seen === undefined) {
      this.appliedAtPosition.set(at.position, text);
      const place = at.position - at.index * PROPOSALS_PER_ENTRY_MAX;
      if (place === 1) this.driverStats.batchedEntries++;
      if (place === 1) this.driverStats.batchedProposals += 2;
      else if (place > 1) this.driverStats.batchedProposals++;
    } else if (seen !== text) {
      throw new SimViolation('state-machine-safety', `${node.id} applies ${JSON.stringify(text)} at log position ${at.position}; another node applied ${JSON.stringify(seen)} there`);
    }
    this.clients.entryApplied?.(node, { index: at.position, term: entryTerm, type: 'normal', data }, result);
  }

  /** A driver resolved a proposal: its entry must already be durable on enough voters that every quorum holds it. */
  proposalResolved(node: DriverSimNode, p: ProposalToken, result: unknown): void {
    void result;
    const a = p.applied!;
    const voters = node.status().confState.voters;
    const holders = voters.filter((id) => {
      const n = this.byId.get(id);
      if (n === undefined) return false;
      const d = n.durableDisk;
      if (d.snapshot().metadata.index >= a.index) return true;
      return a.index >= d.firstIndex() && a.index <= d.lastIndex() && d.term(a.index) === a.term;
    });
    // Every quorum of the voters must meet a holder: holders > voters − majority. A voter whose
    // storage was lost after its acknowledgement (the storage faults) votes in no quorum until the
    // leader confirms it holds the log again (rejoining): it stands in for a holder meanwhile.
    const needed = voters.length - (Math.floor(voters.length / 2) + 1) + 1;
    const lost = voters.filter((id) => !holders.includes(id) && this.lostStorage(id));
    if (holders.length + lost.length < needed) {
      throw new SimViolation(
        'ack-before-durable',
        `${node.id} answered proposal ${p.requestId} (entry ${a.index} term ${a.term}) while only [${holders.join(',')}] of voters [${voters.join(',')}] hold it on disk for good: a quorum without it could elect a leader that never had it`,
      );
    }
    this.driverStats.proposalsResolved++;
    this.acked.push({ requestId: p.requestId, index: a.index, position: a.position, term: a.term, data: decodeText(p.data) });
  }

  /** Every acknowledged proposal is in the converged log, at its position, in an entry of its term. */
  private checkAcked(leader: SimNode): void {
    const commit = leader.status().commit;
    for (const a of this.acked) {
      const c = this.invariants.committedAt(a.index);
      const at = this.appliedAtPosition.get(a.position);
      if (a.index > commit || c === undefined || c.term !== a.term || at !== a.data) {
        throw new SimViolation(
          'ack-lost',
          `proposal ${a.requestId} was acknowledged at entry ${a.index} term ${a.term} position ${a.position}, but the converged log (commit ${commit}) holds ${c === undefined ? 'nothing' : `term ${c.term}`} there and ${at === undefined ? 'nothing' : JSON.stringify(at)} at that position`,
        );
      }
      this.driverStats.ackedChecked++;
    }
  }

  restored(node: SimNode, index: number, digest: string): void {
    this.trace(`${node.id} restored snapshot @${index} state ${digest}`);
    this.invariants.restored(node, index, digest);
  }

  proposalSettled(node: SimNode, requestId: string, ok: boolean, index: number, result?: unknown): void {
    this.trace(`${node.id} proposal ${requestId} @${index} ${ok ? 'committed' : 'failed'}`);
    this.clients.proposalSettled(requestId, ok, index, result);
  }

  readServed(node: SimNode, context: string, readIndex: number, appliedIndex: number): void {
    this.trace(`${node.id} read ${context} served at read index ${readIndex} (applied ${appliedIndex})`);
    this.clients.readServed(context, readIndex, node);
  }

  // ---- faults ---------------------------------------------------------------

  private faultGap(): number {
    const mean = this.scenario.faultGapMeanUs;
    return this.rngFaults.range(Math.round(mean / 4), Math.round(mean * 1.75));
  }

  private injectFault(): void {
    // A node put back from an older copy is caught by the leader it acknowledged to since the
    // copy; if that leader were lost too, nothing the others hold could reveal what it lost (see
    // injectDiskFault). The rest of the cluster is left alone until it holds what it lost.
    if (this.diskFaultVictim?.rewound === true && !this.diskFaultHealed()) return;
    const rng = this.rngFaults;
    const weights = this.faultWeights;
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
    const ids = this.nodes.filter((n) => !n.removed).map((n) => n.id);
    const all = this.nodes.map((n) => n.id);
    const upNodes = this.nodes.filter((n) => n.up);
    const leader = this.leader();
    switch (action) {
      case 'partition': {
        this.network.heal();
        const shuffled = rng.shuffle(ids);
        const kind = rng.pick(['isolate', 'split', 'one-way', 'bridge'] as const);
        if (kind === 'isolate') this.network.isolate(shuffled[0]!, all);
        else if (kind === 'split') {
          const k = rng.range(1, Math.floor(shuffled.length / 2));
          this.network.split(shuffled.slice(0, k), shuffled.slice(k));
        } else if (kind === 'one-way') {
          this.network.oneWay(shuffled[0]!, shuffled[1]!);
          if (rng.chance(0.5)) this.network.oneWay(shuffled[0]!, shuffled[2]!);
        } else {
          // The bridge: left and right cannot talk; shuffled[0] hears both.
          const rest = shuffled.slice(1);
          const k = rng.range(1, rest.length - 1);
          this.network.bridge(rest.slice(0, k), shuffled[0]!, rest.slice(k));
        }
        this.trace(`PARTITION ${this.network.description}`);
        return;
      }
      case 'isolate-leader':
        if (leader === undefined) return;
        this.network.heal();
        this.network.isolate(leader.id, all);
        this.trace(`PARTITION ${this.network.description} (the leader)`);
        return;
      case 'heal-network':
        this.network.heal();
        this.trace('HEAL network');
        return;
      case 'crash':
      case 'crash-torn': {
        if (upNodes.length <= 1) return;
        this.crashNode(rng.pick(upNodes), action === 'crash-torn');
        return;
      }
      case 'crash-leader':
        if (leader === undefined || upNodes.length <= 1) return;
        this.crashNode(leader, rng.chance(0.3));
        return;
      case 'links':
        this.network.setProfile(randomLinkProfile(rng));
        this.trace(`LINKS ${JSON.stringify(this.network.links)}`);
        return;
      case 'transfer': {
        if (leader === undefined) return;
        const voters = leader.status().confState.voters.filter((v) => v !== leader.id);
        if (voters.length === 0) return;
        const target = rng.pick(voters);
        this.trace(`${leader.id} TRANSFER leadership to ${target}`);
        leader.transferLeadership(target);
        this.touched.push(leader);
        return;
      }
      case 'campaign': {
        if (upNodes.length === 0) return;
        const n = rng.pick(upNodes);
        this.trace(`${n.id} CAMPAIGN (forced)`);
        n.campaignForced = true;
        n.campaign();
        this.touched.push(n);
        return;
      }
      case 'campaign-storm': {
        // Several nodes campaign at once: split votes, and votes granted in a
        // term the voter had already adopted from a losing candidate.
        for (const n of rng.shuffle(upNodes).slice(0, rng.range(2, 3))) {
          this.trace(`${n.id} CAMPAIGN (storm)`);
          n.campaignForced = true;
          n.campaign();
          this.touched.push(n);
        }
        return;
      }
      case 'conf-change':
        // A member that lost its storage counts as failed until it rejoins: no membership change meanwhile.
        if (!this.diskFaultHealed()) return;
        this.proposeConfChange(leader);
        return;
      case 'disk-wipe':
      case 'disk-rewind':
        this.injectDiskFault(action);
        return;
      default:
        return unreachable(action);
    }
  }

  /**
   * A storage fault on one node, one at a time (two lost disks in a
   * three-node cluster are beyond what any protocol can survive).
   * 'disk-wipe': the node goes down if up; its disk is replaced by an empty
   * one. With the guard it boots knowing it lost its log (its identity
   * outlived its database: storage-lineage.ts), with no membership of its own
   * and rejoining; without it, it boots as a rebuild from its config file
   * would: its initial membership, trusted. 'disk-rewind': the first time on a
   * node, a copy of its disk is taken; the next time, the node goes down and
   * the copy is put back.
   */
  private injectDiskFault(action: 'disk-wipe' | 'disk-rewind'): void {
    const rng = this.rngFaults;
    if (!this.diskFaultHealed()) return;
    this.diskFaultVictim = undefined;
    // Nor while a membership change is under way: a removed member gone and one that lost its
    // storage are two failures, and no majority may be left to finish the change.
    if (!this.membershipSettled()) return;
    const candidates = this.nodes.filter((n) => !n.removed && n.incarnation > 0);
    if (candidates.length === 0) return;
    if (action === 'disk-rewind') {
      const withCopy = candidates.filter((n) => this.diskCopies.has(n.id));
      if (withCopy.length === 0 || rng.chance(0.3)) {
        const n = rng.pick(candidates);
        this.diskCopies.set(n.id, copyStorage(n.durableDisk));
        this.diskStats.copiesTaken++;
        this.trace(`${n.id} DISK COPY taken (${describeDisk(n)})`);
        return;
      }
      const n = rng.pick(withCopy);
      // The copy goes back into an otherwise healthy cluster (the issue's scenario: an operator
      // restores one member while the others run): a leader every member follows, every other
      // member up, the network whole. Else the leader that holds the evidence could be lost with it.
      const l = this.followedLeader();
      const othersUp = this.nodes.every((m) => m === n || m.removed || m.incarnation === 0 || m.up);
      if (l === undefined || l === n || !othersUp) return;
      this.network.heal();
      const copy = this.diskCopies.get(n.id)!;
      this.diskCopies.delete(n.id);
      this.takeDown(n);
      this.diskFaultVictim = { node: n, committedAtFault: this.invariants.committedIndexMax, rewound: true };
      n.replaceDisk(copy);
      this.diskStats.copiesPutBack++;
      this.trace(`${n.id} DISK REWOUND: an older copy put back (${describeDisk(n)})`);
      return;
    }
    const n = rng.pick(candidates);
    this.diskCopies.delete(n.id);
    this.takeDown(n);
    this.diskFaultVictim = { node: n, committedAtFault: this.invariants.committedIndexMax, rewound: false };
    let disk: MemoryStorage;
    if (this.rejoinGuard) {
      disk = new MemoryStorage({ voters: [], learners: [] });
      disk.setHardState({ term: 0, vote: '', commit: 0, rejoining: true });
    } else {
      disk = new MemoryStorage(n.initialConf);
    }
    n.replaceDisk(disk);
    this.diskStats.wipes++;
    this.trace(`${n.id} DISK WIPED, identity kept (${describeDisk(n)})`);
  }

  /** True when `id` lost its storage and has not rejoined since: rejoining on its disk, or the storage fault's unhealed victim. */
  private lostStorage(id: NodeId): boolean {
    const n = this.byId.get(id);
    if (n === undefined) return false;
    if (n.durableDisk.initialState().hardState.rejoining === true) return true;
    return this.diskFaultVictim?.node === n && !this.diskFaultHealed();
  }

  /** True when no membership change is under way: no removal awaiting its shutdown, no conf change in any up member's log beyond what it applied, one membership everywhere up. */
  private membershipSettled(): boolean {
    if (this.shuttingDown.size > 0) return false;
    let conf: string | undefined;
    for (const n of this.nodes) {
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

  /** True when the last storage fault's victim (if any) holds again what was committed when it was hit, or was removed. */
  private diskFaultHealed(): boolean {
    const victim = this.diskFaultVictim;
    if (victim === undefined) return true;
    const n = victim.node;
    return n.removed || (n.up && !n.status().rejoining && n.appliedIndex >= victim.committedAtFault);
  }

  /** Crashes `n` if it is up (its restart is scheduled as after any crash); a node already down restarts as scheduled. */
  private takeDown(n: SimNode): void {
    if (!n.up) return;
    n.crash();
    this.crashes++;
    this.trace(`${n.id} CRASH (for a storage fault)`);
    this.afterCrash(n);
  }

  private proposeConfChange(leader: SimNode | undefined): void {
    if (leader === undefined) return;
    const rng = this.rngFaults;
    const conf = leader.status().confState;
    const fresh = this.nodes.filter((n) => !n.up && !n.removed && n.incarnation === 0);
    const choices: (() => void)[] = [];
    for (const learner of conf.learners) {
      choices.push(() => this.proposeChange(leader, { type: 'add-voter', nodeId: learner }));
    }
    if (fresh.length > 0 && conf.voters.length < this.options.nodes + 1) {
      const n = fresh[0]!;
      choices.push(() => {
        this.startNode(n);
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

  private proposeChange(leader: SimNode, change: Parameters<NonNullable<SimNode['raft']>['proposeConfChange']>[0]): void {
    const result = leader.proposeConfChange(change);
    this.trace(`${leader.id} CONF-CHANGE ${change.type} ${change.nodeId}: ${result.ok === 'queued' ? 'queued' : result.ok ? `proposed @${result.index}` : result.reason}`);
    this.touched.push(leader);
  }

  private confChangeCommitted(e: Entry): void {
    this.confChanges++;
    const text = new TextDecoder().decode(e.data);
    const change = JSON.parse(text) as { type: string; nodeId: NodeId };
    this.trace(`committed conf change @${e.index}: ${text}`);
    if (change.type !== 'remove-node') return;
    const n = this.byId.get(change.nodeId);
    if (n !== undefined) {
      this.shuttingDown.add(n);
      this.queue.after(this.rngMisc.range(0, 300_000), { type: 'shutdown', node: n });
    }
  }

  // ---- heal phase and liveness ------------------------------------------------

  private heal(): void {
    this.healed = true;
    this.healUs = this.queue.nowUs;
    this.network.heal();
    this.network.setProfile(QUIET_LINKS);
    this.trace('HEAL everything: links clean, crashed nodes restart, faults stop');
    for (const n of this.nodes) {
      if (n.removed || n.incarnation === 0) continue;
      n.crashAfterNextPersist = false;
      if (!n.up) this.startNode(n);
    }
    this.queue.after(CLIENTS_AFTER_HEAL_US, { type: 'clients-stop' });
    this.queue.after(TICK_US, { type: 'probe' });
    this.queue.after(RESOLVED_AFTER_HEAL_BOUND_US, { type: 'deadline' });
  }

  /** The up node leading the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const n of this.nodes) {
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
  private followedLeader(): SimNode | undefined {
    const l = this.leader();
    if (l === undefined) return undefined;
    const st = l.status();
    for (const id of [...st.confState.voters, ...st.confState.learners]) {
      const n = this.byId.get(id);
      if (n === undefined || !n.up) continue;
      const s = n.status();
      if (s.leaderId !== l.id || s.term !== st.term) return undefined;
    }
    return l;
  }

  private probe(): void {
    const now = this.queue.nowUs;
    if (this.options.mode === 'liveness') {
      this.probeLiveness(now);
      return;
    }
    const l = this.followedLeader();
    if (l !== undefined && this.leaderAfterHealUs === undefined) {
      this.leaderAfterHealUs = now - this.healUs;
      this.trace(`leader ${l.id} followed by all, ${this.leaderAfterHealUs}µs after the heal`);
    }
    if (this.leaderAfterHealUs === undefined && now - this.healUs > LEADER_AFTER_HEAL_BOUND_US) {
      throw new SimViolation('liveness', `no leader followed by every member ${LEADER_AFTER_HEAL_BOUND_US / 1000} ms after the heal (${this.describeCluster()})`);
    }
    if (l !== undefined && this.clients.stopped && this.clients.idle() && this.converged(l) === undefined) {
      this.checkStatesEqual(l);
      this.clients.finalCheck?.(l);
      if (this.realDriver) this.checkAcked(l);
      this.trace(`converged: every request answered, every member at the same state`);
      this.done = true;
    }
  }

  private probeLiveness(now: number): void {
    if (this.crashUs < 0) {
      const l = this.followedLeader();
      if (l === undefined) return;
      if (this.crashUs === -1) {
        // Let the cluster settle for a while, then crash the leader.
        this.crashUs = -2;
        this.queue.after(this.rngFaults.range(100_000, 700_000), { type: 'crash-leader' });
      }
      return;
    }
    if (this.electedAfterCrashUs === undefined) {
      for (const n of this.nodes) {
        if (n.up && n.status().role === 'leader' && n.status().term > this.crashedLeaderTerm) {
          this.electedAfterCrashUs = now - this.crashUs;
          this.trace(`${n.id} elected ${this.electedAfterCrashUs}µs after the crash`);
        }
      }
    }
    const l = this.followedLeader();
    if (l !== undefined && l.status().term > this.crashedLeaderTerm) {
      this.followedAfterCrashUs = now - this.crashUs;
      this.trace(`${l.id} followed by all ${this.followedAfterCrashUs}µs after the crash`);
      this.done = true;
    }
  }

  /** Liveness mode: the settle timer fired; crash the leader for good. */
  private crashLeaderForLiveness(): void {
    const l = this.leader();
    if (l === undefined) {
      this.crashUs = -1;
      return;
    }
    this.crashedLeaderTerm = l.status().term;
    this.crashUs = this.queue.nowUs;
    l.crash();
    this.crashes++;
    this.trace(`${l.id} CRASH (the leader of term ${this.crashedLeaderTerm}; timing the next election)`);
    this.afterCrash(l);
  }

  /** Undefined when converged, else why not. */
  private converged(l: SimNode): string | undefined {
    const st = l.status();
    let digest: string | undefined;
    for (const id of [...st.confState.voters, ...st.confState.learners]) {
      const n = this.byId.get(id);
      if (n === undefined || !n.up) continue;
      if (n.appliedIndex !== st.commit) return `${id} applied ${n.appliedIndex}, leader ${l.id} committed ${st.commit}`;
      const d = n.app.digest();
      if (digest !== undefined && d !== digest) return `${id} state ${d} differs from ${digest}`;
      digest = d;
    }
    return undefined;
  }

  /**
   * Members with equal digests must hold equal states: compares the
   * application's full-state fingerprint (pool mode: the snapshot bytes), once.
   */
  private checkStatesEqual(l: SimNode): void {
    const st = l.status();
    let first: { id: NodeId; d: string } | undefined;
    for (const id of [...st.confState.voters, ...st.confState.learners]) {
      const n = this.byId.get(id);
      if (n === undefined || !n.up || n.app.stateDigest === undefined) continue;
      const d = n.app.stateDigest();
      if (first === undefined) first = { id, d };
      else if (d !== first.d) {
        throw new SimViolation('state-machine-safety', `${id} and ${first.id} are both at index ${n.appliedIndex} with digest ${n.app.digest()}, but their states differ: ${d} vs ${first.d}`);
      }
    }
  }

  private deadline(): void {
    if (this.options.mode === 'liveness') {
      throw new SimViolation('liveness', `no new leader 10 s after the leader crash (${this.describeCluster()})`);
    }
    const l = this.followedLeader();
    if (l === undefined) throw new SimViolation('liveness', `no followed leader ${RESOLVED_AFTER_HEAL_BOUND_US / 1000} ms after the heal (${this.describeCluster()})`);
    if (!this.clients.idle()) {
      throw new SimViolation('liveness', `requests still pending ${RESOLVED_AFTER_HEAL_BOUND_US / 1000} ms after the heal: ${this.clients.describePending()} (${this.describeCluster()})`);
    }
    const why = this.converged(l);
    throw new SimViolation('convergence', `members not converged ${RESOLVED_AFTER_HEAL_BOUND_US / 1000} ms after the heal: ${why ?? '?'} (${this.describeCluster()})`);
  }

  describeCluster(): string {
    return this.nodes
      .filter((n) => n.incarnation > 0)
      .map((n) => {
        if (n.removed) return `${n.id}: removed`;
        if (!n.up) return `${n.id}: down`;
        const s = n.status();
        return `${n.id}: ${s.role} t${s.term} lead ${s.leaderId || '-'} commit ${s.commit} applied ${n.appliedIndex} last ${s.lastIndex} voters [${s.confState.voters.join(',')}]`;
      })
      .join('; ');
  }

  // ---- tracing --------------------------------------------------------------

  trace(text: string): void {
    if (!this.tracing) return;
    const line = `${(this.queue.nowUs / 1000).toFixed(3).padStart(10)}ms #${this.eventNo} ${text}`;
    this.traceHash = hashString(line, this.traceHash);
    this.options.trace?.(line);
  }

  private finalHash(): string {
    if (this.options.hashTrace === true) return this.traceHash.toString(16).padStart(8, '0');
    let h = hashString(`${this.queue.nowUs}/${this.eventNo}/${this.messagesSent}`);
    for (const n of this.nodes) {
      h = hashString(`${n.id}:${n.up}:${n.appliedIndex}:${n.app.digest()}:${n.disk.lastIndex()}:${JSON.stringify(n.disk.initialState().hardState)}`, h);
    }
    return h.toString(16).padStart(8, '0');
  }

  private toViolation(error: unknown): NonNullable<SimResult['violation']> {
    const at = { atUs: this.queue.nowUs, event: this.eventNo };
    if (error instanceof SimViolation) return { kind: error.kind, message: error.message, ...at };
    if (error instanceof SimApplyGap) return { kind: 'apply-order', message: error.message, ...at };
    const message = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
    return { kind: 'exception', message: `exception: ${message}`, ...at };
  }
}

function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} i${m.index}/t${m.logTerm} c${m.commit} [${describeEntries(m.entries)}]`;
    case 'app-resp':
      return `${head} i${m.index}${m.reject ? ` REJECT hint ${m.rejectHint}/t${m.logTerm}` : ''}`;
    case 'vote':
    case 'pre-vote':
      return `${head} i${m.index}/t${m.logTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-resp':
    case 'pre-vote-resp':
      return `${head}${m.reject ? ' REJECT' : ' grant'}`;
    case 'heartbeat':
      return `${head} c${m.commit}/t${m.commitTerm}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'heartbeat-resp':
      return `${head}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'snap':
      return `${head} @${m.snapshot.metadata.index}/t${m.snapshot.metadata.term} voters [${m.snapshot.metadata.confState.voters.join(',')}]`;
    case 'timeout-now':
      return head;
    case 'rejoin':
    case 'rejoin-resp':
      return `${head} i${m.index}/t${m.logTerm}`;
    case 'read-index':
      return `${head} ctx ${m.context}`;
    case 'read-index-resp':
      return `${head} ctx ${m.context} i${m.index}`;
    case 'transfer-leader':
      return `${head} target ${m.target}`;
    default:
      return unreachable(m);
  }
}

function describeEntries(entries: readonly Entry[]): string {
  if (entries.length === 0) return '';
  const d = new TextDecoder();
  const shown = entries.slice(0, 4).map((e) => `${e.index}/t${e.term}${e.type === 'conf-change' ? 'cc' : ''}:${d.decode(e.data)}`);
  return entries.length > 4 ? `${shown.join(' ')} …${entries[entries.length - 1]!.index}` : shown.join(' ');
}

function describeDisk(n: SimNode): string {
  const hs = n.disk.initialState().hardState;
  return `term ${hs.term} vote ${hs.vote || NONE || '-'} commit ${hs.commit} snap@${n.disk.snapshot().metadata.index} log ${n.disk.firstIndex()}..${n.disk.lastIndex()}`;
}

function unreachable(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

// (~610 lines: the event loop and each event's handling; its parts are
// already split out, listed below.)
// One seeded simulation run: 3 or 5 Raft nodes (plus spares for membership
// changes) on a virtual clock, a hostile network, crashes, clients writing
// and reading; then a heal phase that must end with one leader all members
// follow, every client request answered and every member's state equal.
// Everything random comes from the seed: a run is a pure function of its
// options, so a failing seed replays event for event. ClusterSim is the
// event loop (the agenda, each event's handling, the nodes' hooks, the heal
// phase); its parts sit beside it:
//   sim-options.ts, sim-result.ts, sim-event.ts   what goes in, out, between
//   sim-wire.ts            messages between nodes, connections a crash closes
//   fault-schedule.ts      which fault when (chaos mode)
//   disk-faults.ts, membership-changes.ts   the faults that keep state
//   liveness-timer.ts      liveness mode's timed leader crash
//   invariants.ts, acked-proposals.ts, convergence.ts   the checks
//   leadership-view.ts, describe-message.ts   who leads; the trace's words
import type { Entry, Message, NodeId, Ready } from '../../daemon/raft/index.ts';
import { PROPOSALS_PER_ENTRY_MAX, type LogPosition } from '../../daemon/raft-driver/index.ts';
import { AckedProposals } from './acked-proposals.ts';
import { Clients, type ClientsHost, type SimClients } from './clients.ts';
import { checkStatesEqual, convergenceGap } from './convergence.ts';
import { describeCluster, describeDisk, describeReady } from './describe-message.ts';
import { SimWire } from './sim-wire.ts';
import { DiskFaults } from './disk-faults.ts';
import { DriverSimNode, type DriverNodeHost, type ProposalToken } from './driver-node.ts';
import { EventQueue } from './event-queue.ts';
import { FaultSchedule } from './fault-schedule.ts';
import { Invariants, SimViolation } from './invariants.ts';
import { followedLeader, highestLeader } from './leadership-view.ts';
import { LivenessTimer } from './liveness-timer.ts';
import { MembershipChanges } from './membership-changes.ts';
import { Network, QUIET_LINKS } from './network.ts';
import { PoolApp, PoolSnapshotRegistry } from './pool-app.ts';
import { PoolClients } from './pool-clients.ts';
import { Prng, hashString } from './prng.ts';
import { ELECTION_TIMEOUT_US, TICK_US, drawLivenessScenario, drawScenario, type Scenario } from './scenario.ts';
import type { SimEvent } from './sim-event.ts';
import { SimApplyGap, SimNode, type SimNodeHooks } from './sim-node.ts';
import type { SimOptions } from './sim-options.ts';
import type { SimResult } from './sim-result.ts';
import { HashChain, type StateMachineFactory } from './state-machine.ts';
import { unreachable } from './unreachable.ts';

export type { SimOptions } from './sim-options.ts';
export type { DiskFaultStats, DriverStats, SimResult } from './sim-result.ts';

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
  private crashes = 0;
  /** The fault schedule of chaos mode. */
  private readonly faults: FaultSchedule;
  /** Storage faults (SimOptions.diskFaults). */
  readonly disk: DiskFaults;
  /** Membership changes the fault schedule asks for. */
  readonly membership: MembershipChanges;
  /** Liveness mode's one leader crash, timed. */
  private readonly liveness: LivenessTimer;
  /** The randomness of restarts after a crash (the fault stream). */
  private readonly rngFaults: Prng;
  // Real-driver mode.
  private readonly realDriver: boolean;
  private readonly rngDriver: Prng | undefined;
  private readonly syncDelayMaxUs: number;
  /** The first error a driver or a promise handler would have swallowed. */
  private fatalError: { error: unknown } | undefined;
  /** The real drivers' answered proposals, checked. */
  private readonly acked: AckedProposals;
  private readonly rejoinGuard: boolean;
  /** Messages between the nodes, and the connections a crash closes. */
  private readonly wire: SimWire;

  constructor(options: SimOptions) {
    this.options = options;
    const root = new Prng(options.seed);
    const rngScenario = root.fork('scenario');
    const rngFaults = root.fork('faults');
    this.rngFaults = rngFaults;
    this.rngDisk = root.fork('disk');
    this.rngMisc = root.fork('misc');
    const liveness = options.mode === 'liveness';
    const membership = !liveness && rngScenario.chance(options.membershipRate ?? 0.3);
    const slots = options.nodes + (membership ? SPARE_NODES : 0);
    const joinersEmpty = options.joiners === 'random' || options.joiners === undefined ? rngScenario.chance(0.5) : options.joiners === 'empty';
    this.joinersEmpty = joinersEmpty;
    this.scenario = liveness ? drawLivenessScenario(rngScenario, slots) : drawScenario(rngScenario, slots, membership);
    this.rejoinGuard = options.rejoinGuard ?? true;
    this.wire = new SimWire(this, options.connectionLost ?? true);
    this.membership = new MembershipChanges(this, rngFaults, this.rngMisc, options.nodes);
    this.disk = new DiskFaults(this, rngFaults, this.rejoinGuard);
    this.faults = new FaultSchedule(this, rngFaults, this.scenario, { seed: options.seed, diskFaults: liveness ? 'none' : (options.diskFaults ?? 'none') });
    this.liveness = new LivenessTimer(this, rngFaults);
    this.acked = new AckedProposals(this);
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
        (this.faults.diskFaultsOn
          ? ` storage faults wipe ${this.faults.weights['disk-wipe']} rewind ${this.faults.weights['disk-rewind']}${this.rejoinGuard ? '' : ' WITHOUT the rejoin guard'}`
          : ''),
    );
    for (let i = 0; i < this.options.nodes; i++) this.startNode(this.nodes[i]!);
    this.clients.start();
    if (this.options.mode === 'liveness') {
      this.queue.push(TICK_US, { type: 'probe' });
      this.queue.push(10_000_000, { type: 'deadline' });
    } else {
      this.queue.push(this.faults.gapUs(), { type: 'fault' });
      this.queue.push(s.chaosUs, { type: 'heal' });
    }
  }

  private result(violation: SimResult['violation']): SimResult {
    if (this.realDriver) {
      this.acked.stats.transactionsLost = 0;
      for (const n of this.nodes) if (n instanceof DriverSimNode) this.acked.stats.transactionsLost += n.simDisk.lostTransactions;
    }
    const result: SimResult = {
      seed: this.options.seed,
      ...(violation !== undefined ? { violation } : {}),
      virtualUs: this.queue.nowUs,
      events: this.eventNo,
      messagesSent: this.wire.messagesSent,
      crashes: this.crashes,
      writesAcked: this.clients.writesAcked,
      readsServed: this.clients.readsServed,
      committedIndex: this.invariants.committedIndexMax,
      leaderTermMax: this.invariants.leaderTermMax,
      confChanges: this.membership.committed,
      checks: this.invariants.checks,
      ...(this.leaderAfterHealUs !== undefined ? { leaderAfterHealUs: this.leaderAfterHealUs } : {}),
      ...(this.liveness.electedAfterCrashUs !== undefined ? { electedAfterCrashUs: this.liveness.electedAfterCrashUs } : {}),
      ...(this.liveness.followedAfterCrashUs !== undefined ? { followedAfterCrashUs: this.liveness.followedAfterCrashUs } : {}),
      traceHash: this.finalHash(),
      ...(this.poolClients !== undefined ? { pool: this.poolClients.stats } : {}),
      ...(this.realDriver ? { driver: this.acked.stats } : {}),
      ...(this.faults.diskFaultsOn ? { disk: this.disk.stats } : {}),
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
      case 'deliver':
        this.wire.deliver(ev.message, ev.fromInc);
        return;
      case 'snap-report': {
        const n = ev.node;
        if (n.incarnation !== ev.inc || !n.up) return;
        this.wire.snapReport(n, ev.to, ev.ok);
        return;
      }
      case 'client':
        this.clients.wake(ev.client, ev.token);
        return;
      case 'fault':
        if (this.healed) return;
        this.faults.inject();
        this.queue.after(this.faults.gapUs(), ev);
        return;
      case 'restart':
        if (ev.node.up || ev.node.removed || this.healed) return;
        this.startNode(ev.node);
        return;
      case 'shutdown':
        this.membership.shutdown(ev.node);
        return;
      case 'heal':
        this.heal();
        return;
      case 'clients-stop':
        this.trace('clients stop issuing new requests');
        this.clients.stop();
        return;
      case 'crash-leader':
        this.liveness.crashLeader(this.queue.nowUs);
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
        this.wire.connectionClosed(n, ev.peer);
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

  /** Crashes `n` now, or (torn) in the middle of the Ready it has pending. */
  crashNode(n: SimNode, torn: boolean): void {
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

  /** Crashes `n` (up) for a reason the trace gives, and does what follows any crash. */
  crashBecause(n: SimNode, why: string): void {
    n.crash();
    this.crashes++;
    this.trace(`${n.id} CRASH (${why})`);
    this.afterCrash(n);
  }

  /** Crashes `n` if it is up (its restart is scheduled as after any crash); a node already down restarts as scheduled. */
  takeDown(n: SimNode): void {
    if (n.up) this.crashBecause(n, 'for a storage fault');
  }

  private afterCrash(n: SimNode): void {
    this.wire.peersLoseConnection(n);
    if (this.options.mode === 'liveness') return;
    this.queue.after(this.rngFaults.range(20_000, this.scenario.restartDelayMaxUs), { type: 'restart', node: n });
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
      if (rd.hardState.rejoining === true) this.disk.stats.rejoinsStarted++;
      else this.disk.stats.rejoinsConfirmed++;
      this.trace(`${node.id} ${rd.hardState.rejoining === true ? 'REJOINING: a leader\'s commit lies beyond its log' : 'REJOINED: the leader confirmed its log'}`);
    }
    if (this.tracing) {
      const persisted = describeReady(rd);
      if (persisted !== '') this.trace(`${node.id} persist ${persisted}`);
    }
    this.invariants.beforePersist(node, rd, wasRole === 'leader', node.role === 'leader');
  }

  afterPersist(node: SimNode, rd: Ready): void {
    this.invariants.afterPersist(node, rd);
  }

  send(node: SimNode, m: Message): void {
    this.wire.send(node, m);
  }

  applied(node: SimNode, e: Entry, digest: string, result: unknown): void {
    const first = this.invariants.committedAt(e.index) === undefined;
    this.invariants.applied(node, e, digest);
    if (first && e.type === 'conf-change') this.membership.entryCommitted(e);
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
    this.acked.applied(node, at, data);
    this.clients.entryApplied?.(node, { index: at.position, term: entryTerm, type: 'normal', data }, result);
  }

  /** A driver resolved a proposal: its entry must already be durable on enough voters that every quorum holds it. */
  proposalResolved(node: DriverSimNode, p: ProposalToken): void {
    this.acked.resolved(node, p);
  }

  /** True when `id` lost its storage and has not rejoined since (disk-faults.ts). */
  lostStorage(id: NodeId): boolean {
    return this.disk.lostStorage(id);
  }

  /** True when no membership change is under way (membership-changes.ts). */
  membershipSettled(): boolean {
    return this.membership.settled();
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
    return highestLeader(this.nodes);
  }

  /** A leader every up member follows in its term, if there is one now. */
  followedLeader(): SimNode | undefined {
    return followedLeader(this.nodes, this.byId);
  }

  private probe(): void {
    const now = this.queue.nowUs;
    if (this.options.mode === 'liveness') {
      if (this.liveness.probe(now)) this.done = true;
      return;
    }
    const l = this.followedLeader();
    if (l !== undefined && this.leaderAfterHealUs === undefined) {
      this.leaderAfterHealUs = now - this.healUs;
      this.trace(`leader ${l.id} followed by all, ${this.leaderAfterHealUs}µs after the heal`);
    }
    if (this.leaderAfterHealUs === undefined && now - this.healUs > LEADER_AFTER_HEAL_BOUND_US) {
      throw new SimViolation('liveness', `no leader followed by every member ${LEADER_AFTER_HEAL_BOUND_US / 1000} ms after the heal (${describeCluster(this.nodes)})`);
    }
    if (l !== undefined && this.clients.stopped && this.clients.idle() && convergenceGap(l, this.byId) === undefined) {
      checkStatesEqual(l, this.byId);
      this.clients.finalCheck?.(l);
      if (this.realDriver) this.acked.checkConverged(l);
      this.trace(`converged: every request answered, every member at the same state`);
      this.done = true;
    }
  }

  private deadline(): void {
    if (this.options.mode === 'liveness') {
      throw new SimViolation('liveness', `no new leader 10 s after the leader crash (${describeCluster(this.nodes)})`);
    }
    const l = this.followedLeader();
    if (l === undefined) throw new SimViolation('liveness', `no followed leader ${RESOLVED_AFTER_HEAL_BOUND_US / 1000} ms after the heal (${describeCluster(this.nodes)})`);
    if (!this.clients.idle()) {
      throw new SimViolation('liveness', `requests still pending ${RESOLVED_AFTER_HEAL_BOUND_US / 1000} ms after the heal: ${this.clients.describePending()} (${describeCluster(this.nodes)})`);
    }
    const why = convergenceGap(l, this.byId);
    throw new SimViolation('convergence', `members not converged ${RESOLVED_AFTER_HEAL_BOUND_US / 1000} ms after the heal: ${why ?? '?'} (${describeCluster(this.nodes)})`);
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
    let h = hashString(`${this.queue.nowUs}/${this.eventNo}/${this.wire.messagesSent}`);
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

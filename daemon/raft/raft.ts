// (~700 lines: one struct whose fields every role's step changes, as etcd's
// raft.go; the leader's steps already live in step-leader.ts.)
// The consensus state machine of one node: term, vote, role, log and the
// leader's view of its followers. It changes only through step() (a message
// from a peer), tick() (a unit of logical time) and the leader's local
// requests; everything it wants done comes out as messages and log changes
// that RawNode (raw-node.ts) packs into Readys. Leader-only behaviour is in
// step-leader.ts.
import { assert, unreachable } from './assert.ts';
import { ProgressTracker } from './progress-tracker.ts';
import { RaftLog } from './raft-log.ts';
import { ReadOnly } from './read-only.ts';
import {
  bcastAppend,
  bcastHeartbeat,
  maybeCommit,
  readIndexRequest,
  releasePendingReadIndexRequests,
  stepLeader,
  transferLeadership,
  type LeaderContext,
  type Outgoing,
  type PendingRead,
} from './step-leader.ts';
import {
  NONE,
  decodeConfChange,
  type ConfChange,
  type ConfState,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Role,
  type Snapshot,
} from './types.ts';

/**
 * Ticks between the campaigns of two survivors of a leader whose connection
 * closed: the voter ranked r-th by id (the lost leader left out) campaigns
 * at the (1 + r·this)-th tick, so at a 25 ms tick the first survivor asks
 * 0–25 ms after the close and the next one 50 ms later, by which time the
 * first one's pre-vote (a loopback round trip) reached it and held it back.
 * Two ticks, not one: on a loaded host a process's turn comes tens of ms late.
 */
export const LEADER_LOST_STAGGER_TICKS = 2;

/** One node's Raft state. Internal to daemon/raft: the driver holds a RaftNode (raft.ts). */
export class Raft implements LeaderContext {
  readonly id: NodeId;
  /** Invariant: never decreases. */
  term = 0;
  /** Invariant: once set in a term, changes only with the term. */
  vote: NodeId = NONE;
  /**
   * This node's storage lost entries it had acknowledged (HardState.rejoining):
   * it neither votes nor campaigns. Invariant: set only by the driver at start
   * or by a leader's commit beyond our log (handleHeartbeat); cleared only by
   * a 'rejoin-resp' from the leader of our term.
   */
  rejoining = false;
  /**
   * The leader owed a claim of what our log holds (set while rejoining, by
   * appends and heartbeats), or NONE. The claim is made when the Ready is
   * taken (flushRejoinClaim), so it names the log as that Ready persists it:
   * an entry claimed is on our disk before the claim leaves.
   */
  rejoinClaimTo: NodeId = NONE;
  role: Role = 'follower';
  leaderId: NodeId = NONE;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  readonly readOnly = new ReadOnly();
  /** Leader only: the node leadership is being handed to, or NONE. */
  leadTransferee: NodeId = NONE;
  /**
   * Leader only: index of the latest conf-change entry it may have appended.
   * Invariant: a new conf change is accepted only once log.applied >= pendingConfIndex.
   */
  pendingConfIndex = 0;
  /** Leader only: payload bytes appended but not yet handed out as committed. */
  uncommittedBytes = 0;
  /** Leader only: read requests waiting for the first commit of this term. */
  pendingReads: PendingRead[] = [];
  /** Leader only: entries were appended and not yet broadcast (flushed once per Ready, batching proposals). */
  appendsPending = false;

  /** Leader: ticks since the last check-quorum round. Others: ticks since hearing a leader or voting. */
  electionElapsed = 0;
  /** Leader only: ticks since the last heartbeat. */
  heartbeatElapsed = 0;
  /** Election timeout of this term, drawn from [electionTicks, 2·electionTicks). */
  randomizedElectionTicks = 0;
  /** Follower only: it forgot its leader when their connection closed (connectionLost) and has heard no leader since. */
  leaderLost = false;

  /** Messages to send, in order, waiting for the next Ready. */
  messages: Message[] = [];
  /** ReadIndex answers waiting for the next Ready. */
  readStates: ReadState[] = [];

  readonly config: RaftConfig;
  /** Bytes of in-flight appends per follower, at most; 0: no limit. */
  readonly inflightBytesMax: number;
  /** The guard against storage that went backwards is on (RaftConfig.rejoinGuard). */
  readonly rejoinGuard: boolean;
  /** Every advance of the commit index goes to every follower at once (RaftConfig.broadcastCommit). */
  readonly broadcastCommit: boolean;

  constructor(config: RaftConfig) {
    assert(config.id !== NONE, 'raft config needs an id');
    assert(config.heartbeatTicks >= 1, 'heartbeatTicks must be at least 1');
    assert(config.electionTicks > config.heartbeatTicks, 'electionTicks must exceed heartbeatTicks');
    assert(config.inflightMessagesMax >= 1, 'inflightMessagesMax must be at least 1');
    this.config = config;
    this.id = config.id;
    this.inflightBytesMax = config.inflightBytesMax ?? 0;
    this.rejoinGuard = config.rejoinGuard ?? true;
    this.broadcastCommit = config.broadcastCommit ?? false;
    this.log = new RaftLog(config.storage);
    this.tracker = new ProgressTracker({
      inflightMessagesMax: config.inflightMessagesMax,
      inflightBytesMax: this.inflightBytesMax,
    });
    const { hardState, confState } = config.storage.initialState();
    this.tracker.restore(confState, this.log.lastIndex());
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.rejoining = this.rejoinGuard && hardState.rejoining === true;
    this.log.commitTo(hardState.commit);
    const applied = Math.max(config.applied, this.log.firstIndex() - 1);
    assert(applied <= this.log.committed, `applied ${config.applied} is past commit ${this.log.committed}`);
    this.replayConfChanges(applied);
    this.log.applied = applied;
    this.becomeFollower(this.term, NONE);
  }

  /** Membership changes in entries the application already applied before a restart take effect again. */
  private replayConfChanges(applied: number): void {
    const lo = this.log.firstIndex();
    if (applied < lo) return;
    const entries = this.log.slice(lo, applied + 1, Number.MAX_SAFE_INTEGER);
    assert(entries !== undefined, 'applied entries are compacted');
    for (const e of entries) {
      if (e.type === 'conf-change') this.tracker.applyChange(decodeConfChange(e.data), this.log.lastIndex());
    }
  }

  /** Writes a debug line when a log function was configured. */
  debug(line: string): void {
    this.config.log?.(`${this.id} t${this.term} ${this.role}: ${line}`);
  }

  /** Queues a message for the next Ready. `term` defaults to ours. */
  send(message: Outgoing, term: number = this.term): void {
    // Completing the fresh literal in place is several times cheaper than a spread copy.
    const m = message as { from?: NodeId; term?: number };
    m.from = this.id;
    m.term = term;
    this.messages.push(m as Message);
  }

  /** True when this node may campaign: it is a voter whose storage is trusted. */
  promotable(): boolean {
    return this.tracker.isVoter(this.id) && !this.rejoining;
  }

  // ---- role transitions -------------------------------------------------

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.leaderId = NONE;
    this.leaderLost = false;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTicks =
      this.config.electionTicks + Math.floor(this.config.random() * this.config.electionTicks);
    this.leadTransferee = NONE;
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.tracker.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? last : 0;
      pr.vouched = pr.match;
      pr.ackedMatch = pr.match;
      pr.next = last + 1;
      pr.recentActive = id === this.id;
      pr.heard = id === this.id;
      pr.heardBefore = false;
      pr.rejoining = false;
      pr.commitAwaited = 0;
    }
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly.reset();
    this.pendingReads = [];
    this.appendsPending = false;
  }

  /** Follows `leaderId` (or nobody) in `term`. */
  becomeFollower(term: number, leaderId: NodeId): void {
    this.reset(term);
    this.leaderId = leaderId;
    this.role = 'follower';
    this.debug(`became follower of '${leaderId}'`);
  }

  /** Asks for pre-votes without changing term or vote. */
  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become pre-candidate');
    this.tracker.resetVotes();
    this.leaderId = NONE;
    this.role = 'pre-candidate';
    this.debug('became pre-candidate');
  }

  /** Starts a new term voting for itself. */
  becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.debug('became candidate');
  }

  /** Leads the current term: appends the term's no-op entry (§8) so earlier entries can commit. */
  becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.leaderId = this.id;
    this.role = 'leader';
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // A conf change in the uncommitted tail may exist: accept no new one until it is applied.
    this.pendingConfIndex = this.log.lastIndex();
    this.appendEntry('normal', new Uint8Array(0));
    this.debug('became leader');
  }

  /** Leader only: appends one entry of this term, acknowledging it for itself. */
  appendEntry(type: 'normal' | 'conf-change', data: Uint8Array): number {
    const index = this.log.lastIndex() + 1;
    this.log.append([{ term: this.term, index, type, data }]);
    this.tracker.progress.get(this.id)?.maybeUpdate(index);
    maybeCommit(this);
    this.appendsPending = true;
    return index;
  }

  // ---- time ---------------------------------------------------------------

  /** One tick of logical time. */
  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /**
   * Ticks until tick() next does more than count: a heartbeat or a
   * check-quorum round on a leader, a campaign on a follower or candidate
   * that may campaign. At least 1. The ticks before it only advance counters,
   * so a driver may sleep until then and make up the ticks it slept through
   * on waking, provided it makes them up before anything else reaches the
   * core (a message, a proposal, a report), whose handling reads them.
   */
  ticksUntilDeadline(): number {
    if (this.role === 'leader') {
      const heartbeatTicksLeft = this.config.heartbeatTicks - this.heartbeatElapsed;
      const quorumCheckTicksLeft = this.config.electionTicks - this.electionElapsed;
      return Math.max(1, Math.min(heartbeatTicksLeft, quorumCheckTicksLeft));
    }
    // A node that may not campaign has no deadline of its own: it wakes once per timeout, harmlessly.
    if (!this.promotable()) return this.randomizedElectionTicks;
    return Math.max(1, this.randomizedElectionTicks - this.electionElapsed);
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  /**
   * The transport's connection to `id` closed (the OS reset the socket: most
   * often its process died). A follower of `id` forgets its leader, as etcd's
   * ForgetLeader does: leaderless, it grants pre-votes at once (check-quorum's
   * lease no longer holds it back), and it campaigns within a few ticks
   * instead of a whole election timeout. The survivors, who all saw the same
   * socket close, campaign one after the other by id (LEADER_LOST_STAGGER_TICKS)
   * so they do not split the vote. A live leader keeps office: the followers
   * that still hear it refuse the pre-vote (its lease), and its next append
   * or heartbeat makes this node its follower again.
   */
  connectionLost(id: NodeId): void {
    if (this.role !== 'follower' || id === NONE || this.leaderId !== id) return;
    this.debug(`forgot leader ${id}: its connection closed`);
    this.leaderId = NONE;
    this.leaderLost = true;
    const survivors = this.tracker.voters.filter((v) => v !== id).sort();
    const rank = Math.max(0, survivors.indexOf(this.id));
    const ticksLeft = 1 + rank * LEADER_LOST_STAGGER_TICKS;
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTicks - ticksLeft);
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        if (!this.tracker.quorumActive(this.id)) {
          this.debug('stepped down: no quorum heard within an election timeout');
          this.becomeFollower(this.term, NONE);
          return;
        }
        for (const [id, pr] of this.tracker.progress) pr.recentActive = id === this.id;
      }
      for (const [id, pr] of this.tracker.progress) {
        pr.heardBefore = pr.heard;
        pr.heard = id === this.id;
      }
      if (this.leadTransferee !== NONE) {
        this.debug(`aborted transfer to ${this.leadTransferee}: it took an election timeout`);
        this.leadTransferee = NONE;
      }
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this, this.readOnly.lastPendingContext());
    }
  }

  // ---- elections ----------------------------------------------------------

  /** Starts an election (a pre-vote first unless `transfer` or pre-vote is off). */
  hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) {
      this.debug(this.rejoining ? 'will not campaign: rejoining (storage lost acknowledged entries)' : 'will not campaign: not a voter');
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.debug('will not campaign: conf changes committed but not applied');
      return;
    }
    if (this.config.preVote && !transfer) this.campaign('pre-vote', false);
    else this.campaign('vote', transfer);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    const entries = this.log.slice(this.log.applied + 1, this.log.committed + 1, Number.MAX_SAFE_INTEGER);
    return entries !== undefined && entries.some((e) => e.type === 'conf-change');
  }

  private campaign(kind: 'vote' | 'pre-vote', transfer: boolean): void {
    let voteTerm: number;
    if (kind === 'pre-vote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    if (this.tracker.recordVote(this.id, true) === 'won') {
      this.wonElection(kind);
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      this.send({ type: kind, to: id, index, logTerm, transfer }, voteTerm);
    }
  }

  private wonElection(kind: 'vote' | 'pre-vote'): void {
    if (kind === 'pre-vote') {
      this.campaign('vote', false);
    } else {
      this.becomeLeader();
      bcastAppend(this);
    }
  }

  // ---- messages -----------------------------------------------------------

  /** Handles one message from a peer (§5.1: terms first, then by role). */
  step(m: Message): void {
    assert(m.to === this.id, `message for ${m.to} stepped into ${this.id}`);
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'pre-vote') {
        const inLease =
          this.config.checkQuorum && this.leaderId !== NONE && this.electionElapsed < this.config.electionTicks;
        if (inLease && !m.transfer) {
          this.debug(`ignored ${m.type} from ${m.from}: the leader's lease has not expired`);
          return;
        }
      }
      if (m.type === 'pre-vote' || (m.type === 'pre-vote-resp' && !m.reject)) {
        // A pre-vote does not change terms; a granted pre-vote answer carries the term asked for.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'app' || m.type === 'heartbeat')) {
        // A leader cut off by a partition learns the new term from this and steps down.
        this.send({ type: 'app-resp', to: m.from, index: 0, reject: false, rejectHint: 0, logTerm: 0 });
      } else if (m.type === 'pre-vote') {
        this.send({ type: 'pre-vote-resp', to: m.from, reject: true });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'pre-vote') {
      this.stepVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        stepLeader(this, m);
        break;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
      default:
        unreachable(this.role);
    }
  }

  private stepVoteRequest(m: Extract<Message, { type: 'vote' | 'pre-vote' }>): void {
    const respType = m.type === 'vote' ? 'vote-resp' : 'pre-vote-resp';
    if (this.rejoining) {
      // Our storage lost votes and acknowledgements we gave: a vote now could contradict them.
      this.debug(`rejected ${m.type} from ${m.from}: rejoining`);
      this.send({ type: respType, to: m.from, reject: true });
      return;
    }
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.leaderId === NONE) ||
      (m.type === 'pre-vote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // For a pre-vote, answer in the term asked for so the pre-candidate counts it.
      this.send({ type: respType, to: m.from, reject: false }, m.term);
      // A leaderless follower that backs another's pre-vote gives it time to win before it
      // campaigns itself (two survivors of a lost leader would otherwise split the vote).
      if (m.type === 'pre-vote' && this.role === 'follower' && this.leaderLost) this.electionElapsed = 0;
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    const respType = this.role === 'pre-candidate' ? 'pre-vote-resp' : 'vote-resp';
    switch (m.type) {
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'vote-resp':
      case 'pre-vote-resp': {
        if (m.type !== respType) return;
        const result = this.tracker.recordVote(m.from, !m.reject);
        if (result === 'won') this.wonElection(this.role === 'pre-candidate' ? 'pre-vote' : 'vote');
        else if (result === 'lost') this.becomeFollower(this.term, NONE);
        return;
      }
      case 'timeout-now':
      case 'read-index':
      case 'transfer-leader':
        // No leader to forward to; a candidate is not a transfer target.
        this.debug(`dropped ${m.type} from ${m.from}: no leader`);
        return;
      case 'app-resp':
      case 'heartbeat-resp':
      case 'read-index-resp':
      case 'vote':
      case 'pre-vote':
      case 'rejoin':
      case 'rejoin-resp':
        // A candidate is neither a leader nor rejoining (a rejoining node does not campaign).
        this.debug(`ignored ${m.type} from ${m.from}`);
        return;
      default:
        unreachable(m);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.electionElapsed = 0;
        this.leaderId = m.from;
        this.leaderLost = false;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.leaderId = m.from;
        this.leaderLost = false;
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.leaderId = m.from;
        this.leaderLost = false;
        this.handleSnapshot(m);
        return;
      case 'timeout-now':
        // Leadership transfer: campaign at once, skipping pre-vote, past any lease.
        this.hup(true);
        return;
      case 'read-index':
        if (this.leaderId === NONE) {
          this.debug(`dropped read-index from ${m.from}: no leader`);
          return;
        }
        this.send({ type: 'read-index', to: this.leaderId, context: m.context });
        return;
      case 'read-index-resp':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      case 'transfer-leader':
        if (this.leaderId === NONE) {
          this.debug(`dropped transfer-leader from ${m.from}: no leader`);
          return;
        }
        this.send({ type: 'transfer-leader', to: this.leaderId, target: m.target });
        return;
      case 'rejoin-resp':
        this.handleRejoinResponse(m);
        return;
      case 'rejoin':
      case 'app-resp':
      case 'heartbeat-resp':
      case 'vote-resp':
      case 'pre-vote-resp':
      case 'vote':
      case 'pre-vote':
        // Answers to a past role, or requests handled before the role switch.
        this.debug(`ignored ${m.type} from ${m.from}`);
        return;
      default:
        unreachable(m);
    }
  }

  private handleAppend(m: Extract<Message, { type: 'app' }>): void {
    if (this.tracker.voters.length + this.tracker.learners.length === 0) {
      // A node that joined with an empty storage knows no membership: replaying
      // the log's changes onto nothing would make it a voter set of its own.
      // A rejected append at index 0 tells the leader to send its snapshot,
      // which carries the membership the log's changes build on.
      this.send({ type: 'app-resp', to: m.from, index: m.index, reject: true, rejectHint: 0, logTerm: 0 });
      return;
    }
    if (m.index < this.log.committed) {
      this.acknowledge(m.from, this.log.committed);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.acknowledge(m.from, lastNew);
      return;
    }
    // Reject with a hint: the last index whose term is ≤ the leader's probe term,
    // so the leader can skip every entry of a conflicting term at once (§5.3).
    const probe = Math.min(m.index, this.log.lastIndex());
    const [hintIndex, hintTerm] = this.log.findConflictByTerm(probe, m.logTerm);
    this.send({ type: 'app-resp', to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm });
  }

  private handleHeartbeat(m: Extract<Message, { type: 'heartbeat' }>): void {
    if (!this.rejoinGuard) {
      this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    } else if (m.commit > this.log.committed) {
      if (this.log.matchTerm(m.commit, m.commitTerm)) {
        this.log.commitTo(m.commit);
      } else if (!this.rejoining) {
        // A leader sends a follower a commit index only up to what the
        // follower acknowledged to it in this term, and an acknowledged entry
        // is on our disk before the acknowledgement leaves, and stays there
        // while this leader leads. No entry there, or another one (the
        // uncommitted tail of an older copy), means our storage lost entries
        // we acknowledged: wiped, or an older copy put back (etcd panics
        // here). Our votes and acknowledgements of the past are lost with
        // them: stop voting until the leader confirms our log. Committing on
        // the strength of the heartbeat would commit entries we may not hold.
        this.debug(`storage lost acknowledged entries: the leader commits ${m.commit}/t${m.commitTerm}, our log ${this.log.term(m.commit) === undefined ? `ends at ${this.log.lastIndex()}` : `has term ${this.log.term(m.commit)} there`}; rejoining`);
        this.rejoining = true;
      }
    }
    // A rejoining node's answer must not confirm anyone's leadership (its term may be behind one it lost).
    if (this.rejoining) this.rejoinClaimTo = m.from;
    else this.send({ type: 'heartbeat-resp', to: m.from, context: m.context });
  }

  /**
   * Tells the leader we hold its log up to `index`: an acknowledgement, or,
   * while rejoining, a claim of our log, which the leader does not count
   * (see step-leader.ts handleRejoin).
   */
  private acknowledge(leaderId: NodeId, index: number): void {
    if (this.rejoining) this.rejoinClaimTo = leaderId;
    else this.send({ type: 'app-resp', to: leaderId, index, reject: false, rejectHint: 0, logTerm: 0 });
  }

  /** Makes the claim owed (if any): our last entry, as the Ready being taken persists it. */
  flushRejoinClaim(): void {
    const to = this.rejoinClaimTo;
    this.rejoinClaimTo = NONE;
    if (to === NONE || !this.rejoining) return;
    this.send({ type: 'rejoin', to, index: this.log.lastIndex(), logTerm: this.log.lastTerm() });
  }

  /** The leader of our term confirms that we hold its log: vote again, in later terms. */
  private handleRejoinResponse(m: Extract<Message, { type: 'rejoin-resp' }>): void {
    // The entry it confirms must still be ours: the answer may be to a claim made before another loss.
    if (!this.rejoining || m.from !== this.leaderId || !this.log.matchTerm(m.index, m.logTerm)) {
      this.debug(`ignored rejoin-resp from ${m.from} for ${m.index}/t${m.logTerm}`);
      return;
    }
    this.rejoining = false;
    // Whatever we voted in this term before our storage lost it, its leader is this one:
    // recording the vote for it forbids a second vote in this term.
    if (this.vote === NONE) this.vote = m.from;
    this.debug(`rejoined: ${m.from} confirmed our log`);
  }

  private handleSnapshot(m: Extract<Message, { type: 'snap' }>): void {
    const { index, term } = m.snapshot.metadata;
    if (this.restore(m.snapshot)) {
      this.debug(`restored snapshot at ${index} (term ${term})`);
      this.acknowledge(m.from, this.log.lastIndex());
    } else {
      this.acknowledge(m.from, this.log.committed);
    }
  }

  /** Installs a leader's snapshot unless our log already has it; true when installed. */
  private restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    const knowsNoMembers = this.tracker.voters.length + this.tracker.learners.length === 0;
    const bringsMembers = confState.voters.length + confState.learners.length > 0;
    if (knowsNoMembers && bringsMembers && index === this.log.committed && index === this.log.lastIndex()) {
      // An empty joiner takes the bootstrap membership (possibly at index 0).
      this.log.restore(snapshot);
      this.tracker.restore(confState, this.log.lastIndex());
      return true;
    }
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: just commit up to it.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.tracker.restore(confState, this.log.lastIndex());
    return true;
  }

  /** A local read request: run by the leader, or forwarded to it. */
  requestReadIndex(context: string): void {
    if (this.role === 'leader') {
      readIndexRequest(this, this.id, context);
    } else if (this.leaderId !== NONE) {
      this.send({ type: 'read-index', to: this.leaderId, context });
    } else {
      this.debug(`dropped read ${context}: no leader`);
    }
  }

  /** A local transfer request: run by the leader, or forwarded to it. */
  requestTransfer(target: NodeId): void {
    if (this.role === 'leader') {
      transferLeadership(this, target);
    } else if (this.leaderId !== NONE) {
      this.send({ type: 'transfer-leader', to: this.leaderId, target });
    } else {
      this.debug(`dropped transfer to ${target}: no leader`);
    }
  }

  // ---- membership -----------------------------------------------------------

  /** Applies a committed single-server change; a leader removed or demoted steps down. */
  applyConfChange(change: ConfChange): ConfState {
    this.tracker.applyChange(change, this.log.lastIndex());
    const confState = this.tracker.confState();
    if (this.role !== 'leader') return confState;
    if (!this.tracker.isVoter(this.id)) {
      this.debug('stepped down: no longer a voter');
      this.becomeFollower(this.term, NONE);
      return confState;
    }
    if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = NONE;
    // The quorum may have shrunk; new members need the log.
    maybeCommit(this);
    this.appendsPending = true;
    releasePendingReadIndexRequests(this);
    return confState;
  }
}

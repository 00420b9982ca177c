// The leader's half of the core: replication to each follower under flow
// control, commitment by majority (current term only), heartbeats and
// check-quorum bookkeeping, ReadIndex rounds, leadership transfer and the
// leader's local requests (propose, conf change). Functions over a
// LeaderContext so that raft.ts, which owns the state, can call in without an
// import cycle.
import { assert, unreachable } from './assert.ts';
import { entryBytes } from './memory-storage.ts';
import type { ProgressTracker } from './progress-tracker.ts';
import type { Progress } from './progress.ts';
import { quorumSize } from './quorum.ts';
import type { RaftLog } from './raft-log.ts';
import type { ReadOnly } from './read-only.ts';
import {
  NONE,
  StorageError,
  encodeConfChange,
  type ConfChange,
  type Entry,
  type Message,
  type NodeId,
  type ProposeResult,
  type RaftConfig,
  type ReadState,
  type Role,
  type Snapshot,
} from './types.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A message as the core writes it: `from` and `term` are filled in by send(). */
export type Outgoing = DistributiveOmit<Message, 'from' | 'term'>;

/** A read request parked until the leader commits an entry in its own term. */
export interface PendingRead {
  readonly from: NodeId;
  readonly context: string;
}

/** Read requests a leader parks until it has committed an entry in its term, at most. */
export const PENDING_READS_MAX = 4096;

/** Read requests waiting for their heartbeat round, at most. */
export const READ_ONLY_REQUESTS_MAX = 4096;

/** The parts of a Raft node the leader's code reads and changes (raft.ts's Raft). */
export interface LeaderContext {
  readonly id: NodeId;
  readonly term: number;
  readonly role: Role;
  leaderId: NodeId;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  readonly readOnly: ReadOnly;
  readonly config: RaftConfig;
  readonly rejoinGuard: boolean;
  /** Every advance of the commit index goes to every follower at once (RaftConfig.broadcastCommit). */
  readonly broadcastCommit: boolean;
  leadTransferee: NodeId;
  pendingConfIndex: number;
  uncommittedBytes: number;
  pendingReads: PendingRead[];
  appendsPending: boolean;
  electionElapsed: number;
  readStates: ReadState[];
  send(message: Outgoing, term?: number): void;
  appendEntry(type: 'normal' | 'conf-change', data: Uint8Array): number;
  debug(line: string): void;
}

/** Handles a message addressed to a leader (votes were handled before). */
export function stepLeader(r: LeaderContext, m: Message): void {
  switch (m.type) {
    case 'app-resp':
      handleAppendResponse(r, m);
      return;
    case 'heartbeat-resp':
      handleHeartbeatResponse(r, m);
      return;
    case 'read-index':
      readIndexRequest(r, m.from, m.context);
      return;
    case 'transfer-leader':
      transferLeadership(r, m.target);
      return;
    case 'rejoin':
      handleRejoin(r, m);
      return;
    case 'rejoin-resp':
    case 'app':
    case 'heartbeat':
    case 'snap':
    case 'timeout-now':
    case 'read-index-resp':
    case 'vote':
    case 'pre-vote':
    case 'vote-resp':
    case 'pre-vote-resp':
      // Of this term, only another leader could send these, and there is none; answers of a past candidacy.
      r.debug(`ignored ${m.type} from ${m.from}`);
      return;
    default:
      unreachable(m);
  }
}

function handleAppendResponse(r: LeaderContext, m: Extract<Message, { type: 'app-resp' }>): void {
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  pr.heard = true;
  if (m.reject) {
    if (m.index === 0) {
      // Every log matches at index 0, so this follower is asking for the snapshot
      // (it joined empty and needs the membership the log builds on).
      if (pr.state !== 'snapshot') {
        pr.becomeProbe();
        maybeSendSnapshot(r, m.from, pr);
      }
      return;
    }
    if (r.rejoinGuard && m.rejectHint < pr.match && pr.state !== 'snapshot') {
      forgetRegressedMatch(r, m.from, pr, m.rejectHint);
      return;
    }
    // Fast back-off: skip every entry of the follower's conflicting term at once.
    let next = m.rejectHint;
    if (m.logTerm > 0) next = r.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
    if (pr.maybeDecrTo(m.index, next)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      maybeSendAppend(r, m.from, true);
    }
    return;
  }
  pr.rejoining = false; // it acknowledges: it is not (or no longer) rejoining
  acknowledged(r, m.from, pr, m.index, true);
}

/**
 * `from` holds our log up to `index`: streams on from there and commits what
 * a majority now holds. `counted` false: a rejoining follower's claim, which
 * counts toward no commit (Progress.ackedMatch).
 */
function acknowledged(r: LeaderContext, from: NodeId, pr: Progress, index: number, counted: boolean): void {
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(index, counted)) {
    if (pr.state === 'snapshot' && index >= pr.pendingSnapshot) {
      // The follower took (or already had) the snapshot without moving its match: resume.
      pr.becomeProbe();
      maybeSendAppend(r, from, true);
    }
    return;
  }
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot' && pr.match + 1 >= r.log.firstIndex()) {
    // The follower caught up past the snapshot (or took it): stream from here.
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(index);
  }
  const committedBefore = r.log.committed;
  const committed = maybeCommit(r);
  // Without broadcastCommit, followers learn a new commit index with the next append or
  // heartbeat (the leader answers its own clients), except those waiting for an entry to
  // apply, and every follower when a membership change commits (it may remove this leader).
  const broadcast = committed && (r.broadcastCommit || (r.pendingConfIndex > committedBefore && r.pendingConfIndex <= r.log.committed));
  if (committed) releasePendingReadIndexRequests(r);
  if (broadcast) r.appendsPending = true;
  else if (wasPaused) maybeSendAppend(r, from, true);
  while (maybeSendAppend(r, from, false)) {
    // Fill the follower's window.
  }
  if (committed && !broadcast) sendAwaitedCommits(r);
  if (from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.debug(`transferee ${from} caught up: sending timeout-now`);
    r.send({ type: 'timeout-now', to: from });
  }
}

/**
 * A rejection whose hint (where the follower's log may still match ours) lies
 * below the follower's match: the follower no longer holds what it
 * acknowledged in this term. Either its storage went backwards (wiped, or an
 * older copy put back), or the rejection is stale (sent before the
 * acknowledgements, delivered after them). The match is forgotten either way,
 * so this leader never counts or reports entries the follower may not hold,
 * and probing starts again after the hint. The follower is told the commit
 * index it vouched for: if its log ends before it, its storage did lose
 * acknowledged entries and it rejoins (handleHeartbeat); if the rejection was
 * only stale, it holds that commit and nothing changes but a re-probe.
 */
function forgetRegressedMatch(r: LeaderContext, to: NodeId, pr: Progress, rejectHint: number): void {
  const vouched = Math.min(pr.vouched, r.log.committed);
  r.debug(`${to} rejected below its match ${pr.match} (hint ${rejectHint}): forgetting the match`);
  pr.forgetMatch(rejectHint + 1);
  if (vouched > rejectHint) sendHeartbeat(r, to, vouched, '');
  maybeSendAppend(r, to, true);
}

/**
 * A follower whose storage lost acknowledged entries rejoins: instead of
 * acknowledgements and heartbeat answers it sends claims of what it holds
 * (its last entry, or the last one an append just matched). A claim is never
 * counted toward a commit or a read: having lost its term, the follower may
 * be following a leader of a term older than one it acted in, and an entry
 * it stores now must not be taken as stored by a member that voted or
 * acknowledged in a later term. Replication goes on from the claim (a match
 * above it is forgotten: it came from acknowledgements the follower's
 * storage no longer backs).
 *
 * A claim does keep this leader from stepping down (check-quorum: the
 * follower is recently active). Only a leader can confirm the follower, and
 * while it is not confirmed it votes for no one: a leader that stepped down
 * for want of its answers could leave no majority able to elect a successor
 * (four members, one dead, the new one rejoining: the other two are not three
 * votes), and the follower would never be confirmed. Staying leader is safe,
 * since nothing commits or is read on the strength of a claim.
 *
 * The follower may vote and count again once its claim is in our log and at
 * or past an entry of this term that enough voters OTHER than it hold to meet
 * every majority it was part of (othersQuorumIndex). They show the cluster
 * moved on to this term without the follower (so no vote or acknowledgement
 * the follower lost was given in a later term: a member that gave one would
 * have refused this term's entries), and this leader, elected without the
 * follower, holds every entry the follower's lost acknowledgements helped
 * commit; the follower now holds them too.
 */
function handleRejoin(r: LeaderContext, m: Extract<Message, { type: 'rejoin' }>): void {
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return;
  pr.rejoining = true;
  pr.recentActive = true;
  pr.heard = true;
  pr.paused = false;
  const held = r.log.term(m.index) === m.logTerm;
  if (pr.match > m.index || pr.vouched > m.index || (pr.match === m.index && !held)) {
    r.debug(`${m.from} rejoins holding up to ${m.index}/t${m.logTerm}, below its match ${pr.match}: lowering the match`);
    pr.lowerTo(Math.min(m.index, r.log.lastIndex()), held);
  }
  if (held) acknowledged(r, m.from, pr, m.index, false);
  if (pr.match < r.log.lastIndex() || pr.state === 'probe') maybeSendAppend(r, m.from, true);
  const others = othersQuorumIndex(r, m.from);
  if (!held || others === 0 || r.log.term(others) !== r.term || m.index < others) return;
  pr.rejoining = false;
  r.debug(`${m.from} holds our log up to ${m.index}: rejoin confirmed`);
  r.send({ type: 'rejoin-resp', to: m.from, index: m.index, logTerm: m.logTerm });
  // What it holds counts from now on.
  pr.ackedMatch = Math.max(pr.ackedMatch, m.index);
  if (maybeCommit(r)) {
    releasePendingReadIndexRequests(r);
    r.appendsPending = true;
  }
}

/**
 * The highest index held by enough voters other than `from` that every
 * majority `from` was part of (of the voters and `from`: n members) meets
 * one of them: ⌈n/2⌉ of the others. (Two of the three others in a
 * four-voter cluster; both others in a three-voter one.)
 */
function othersQuorumIndex(r: LeaderContext, from: NodeId): number {
  const others = r.tracker.voters.filter((id) => id !== from);
  const n = others.length + 1;
  const needed = Math.ceil(n / 2);
  if (others.length < needed) return 0;
  const matches = others.map((id) => r.tracker.progress.get(id)?.match ?? 0).sort((a, b) => b - a);
  return matches[needed - 1]!;
}

function handleHeartbeatResponse(r: LeaderContext, m: Extract<Message, { type: 'heartbeat-resp' }>): void {
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  pr.heard = true;
  pr.rejoining = false; // it answers: it is not (or no longer) rejoining
  // Lets one append through even when inflights are full, in case they were all lost.
  pr.paused = false;
  if (pr.match < r.log.lastIndex() || pr.state === 'probe') maybeSendAppend(r, m.from, true);
  if (m.context === '') return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  let voterAcks = 0;
  for (const id of acks) if (r.tracker.isVoter(id)) voterAcks++;
  if (voterAcks < quorumSize(r.tracker.voters.length)) return;
  for (const req of r.readOnly.advance(m.context)) answerRead(r, req.from, req.context, req.index);
}

/** Commits what a majority of voters hold, if it is of the current term (§5.4.2). */
export function maybeCommit(r: LeaderContext): boolean {
  return r.log.maybeCommit(r.tracker.committedIndex(), r.term);
}

/**
 * Sends `to` the entries after its next index, or a snapshot when those are
 * compacted. With `sendIfEmpty` false, sends nothing when there is nothing new.
 * Returns whether a message went out.
 */
export function maybeSendAppend(r: LeaderContext, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.tracker.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const last = r.log.lastIndex();
  assert(prevIndex <= last, `progress of ${to}: next ${pr.next} is past the last index ${last}`);
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) return maybeSendSnapshot(r, to, pr);
  let entries: Entry[] | undefined = [];
  if (pr.state !== 'replicate' || !pr.inflights.full()) {
    entries = r.log.slice(pr.next, last + 1, r.config.messageBytesMax);
  }
  if (entries === undefined) return maybeSendSnapshot(r, to, pr);
  if (entries.length === 0 && !sendIfEmpty) return false;
  let bytes = 0;
  for (const e of entries) bytes += entryBytes(e);
  r.send({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed });
  pr.sentEntries(entries.length, bytes);
  if (pr.commitAwaited !== 0 && pr.commitAwaited <= r.log.committed) pr.commitAwaited = 0;
  return true;
}

/**
 * Sends the commit index at once to each follower that waits for an entry
 * to apply (Progress.commitAwaited): a follower answers the clients whose
 * proposals it forwarded only once it applies them, and would otherwise
 * learn the commit with the next append or heartbeat.
 */
function sendAwaitedCommits(r: LeaderContext): void {
  for (const [id, pr] of r.tracker.progress) {
    if (id !== r.id && pr.commitAwaited !== 0) maybeSendAppend(r, id, true);
  }
}

/**
 * Leader only: `id` waits for the entry at `index` to apply (it forwarded a
 * proposal in it): it hears each advance of the commit index at once until
 * one reaches `index`, instead of with the next append or heartbeat.
 */
export function notifyCommit(r: LeaderContext, id: NodeId, index: number): void {
  const pr = r.tracker.progress.get(id);
  if (r.role !== 'leader' || pr === undefined || id === r.id) return;
  if (index > pr.commitAwaited) pr.commitAwaited = index;
}

function maybeSendSnapshot(r: LeaderContext, to: NodeId, pr: Progress): boolean {
  if (!pr.recentActive && !pr.rejoining) {
    r.debug(`not sending a snapshot to ${to}: not recently active`);
    return false;
  }
  let snapshot: Snapshot;
  try {
    snapshot = r.log.snapshot();
  } catch (error: unknown) {
    if (error instanceof StorageError && error.code === 'SNAPSHOT_TEMPORARILY_UNAVAILABLE') {
      r.debug(`snapshot for ${to} temporarily unavailable`);
      return false;
    }
    throw error;
  }
  const members = snapshot.metadata.confState.voters.length + snapshot.metadata.confState.learners.length;
  assert(snapshot.metadata.index > 0 || members > 0, 'a follower needs a snapshot but storage has none');
  pr.becomeSnapshot(snapshot.metadata.index);
  r.debug(`sending snapshot at ${snapshot.metadata.index} to ${to}`);
  r.send({ type: 'snap', to, snapshot });
  return true;
}

/** Sends every other member what it lacks, up to its window (an empty append carries the commit index). */
export function bcastAppend(r: LeaderContext): void {
  r.appendsPending = false;
  for (const id of r.tracker.members()) {
    if (id === r.id || !maybeSendAppend(r, id, true)) continue;
    // Fill a streaming follower's window now rather than one message per acknowledgement.
    const pr = r.tracker.progress.get(id)!;
    while (pr.state === 'replicate' && maybeSendAppend(r, id, false)) {
      // Another message went out.
    }
  }
}

/** Sends every other member a heartbeat carrying `context` ('' for none). */
export function bcastHeartbeat(r: LeaderContext, context: string): void {
  for (const id of r.tracker.members()) {
    if (id === r.id) continue;
    const pr = r.tracker.progress.get(id)!;
    // Never tell a follower to commit past what it vouched to hold: one whose log ends before it,
    // or holds another entry there, learns from this that its storage lost acknowledged entries
    // (raft.ts handleHeartbeat).
    const vouched = r.rejoinGuard ? pr.vouched : pr.match;
    sendHeartbeat(r, id, Math.min(vouched, r.log.committed), context);
  }
}

/** Sends `to` a heartbeat committing up to `commit`, with the term of our entry there (none when it is compacted). */
function sendHeartbeat(r: LeaderContext, to: NodeId, commit: number, context: string): void {
  const commitTerm = r.log.term(commit);
  if (commitTerm === undefined) r.send({ type: 'heartbeat', to, commit: 0, commitTerm: 0, context });
  else r.send({ type: 'heartbeat', to, commit, commitTerm, context });
}

/** Appends `data` as a normal entry, unless leadership or limits forbid it. */
export function propose(r: LeaderContext, data: Uint8Array): ProposeResult {
  const refused = checkProposal(r, data.length);
  if (refused !== undefined) return refused;
  r.uncommittedBytes += data.length;
  const index = r.appendEntry('normal', data);
  return { ok: true, index, term: r.term };
}

/** Appends a single-server membership change, unless another is not yet applied. */
export function proposeConfChange(r: LeaderContext, change: ConfChange): ProposeResult {
  const data = encodeConfChange(change);
  const refused = checkProposal(r, data.length);
  if (refused !== undefined) return refused;
  if (r.pendingConfIndex > r.log.applied) {
    return { ok: false, reason: 'CONF_CHANGE_PENDING', leaderId: r.leaderId };
  }
  r.uncommittedBytes += data.length;
  const index = r.appendEntry('conf-change', data);
  r.pendingConfIndex = index;
  return { ok: true, index, term: r.term };
}

function checkProposal(r: LeaderContext, bytes: number): ProposeResult | undefined {
  if (r.role !== 'leader' || !r.tracker.progress.has(r.id)) {
    return { ok: false, reason: 'NOT_LEADER', leaderId: r.role === 'leader' ? NONE : r.leaderId };
  }
  if (r.leadTransferee !== NONE) return { ok: false, reason: 'TRANSFER_IN_PROGRESS', leaderId: r.leaderId };
  const limit = r.config.uncommittedBytesMax;
  if (limit > 0 && r.uncommittedBytes > 0 && r.uncommittedBytes + bytes > limit) {
    return { ok: false, reason: 'TOO_MANY_UNCOMMITTED', leaderId: r.leaderId };
  }
  return undefined;
}

/** Entries handed out as committed no longer count against uncommittedBytesMax. */
export function reduceUncommittedBytes(r: LeaderContext, entries: readonly Entry[]): void {
  if (r.role !== 'leader' || r.uncommittedBytes === 0) return;
  let bytes = 0;
  for (const e of entries) bytes += e.data.length;
  r.uncommittedBytes = Math.max(0, r.uncommittedBytes - bytes);
}

function committedEntryInCurrentTerm(r: LeaderContext): boolean {
  return r.log.term(r.log.committed) === r.term;
}

/**
 * A read request from `from` (the leader itself or a follower): answered with
 * the commit index once a heartbeat round confirms this node still leads. A
 * new leader parks requests until it commits an entry of its term, because
 * until then its commit index may be behind the previous leader's (§6.4).
 */
export function readIndexRequest(r: LeaderContext, from: NodeId, context: string): void {
  if (r.tracker.voters.length === 1 && r.tracker.isVoter(r.id)) {
    answerRead(r, from, context, r.log.committed);
    return;
  }
  if (!committedEntryInCurrentTerm(r)) {
    if (r.pendingReads.length >= PENDING_READS_MAX) {
      r.debug(`dropped read ${context}: ${PENDING_READS_MAX} reads already parked`);
      return;
    }
    r.pendingReads.push({ from, context });
    return;
  }
  const key = r.readOnly.add(r.log.committed, from, context, READ_ONLY_REQUESTS_MAX);
  if (key === undefined) {
    r.debug(`dropped read ${context}: ${READ_ONLY_REQUESTS_MAX} reads already pending`);
    return;
  }
  r.readOnly.recvAck(r.id, key);
  bcastHeartbeat(r, key);
}

/** Runs the reads parked before this term's first commit, once there is one. */
export function releasePendingReadIndexRequests(r: LeaderContext): void {
  if (r.pendingReads.length === 0 || !committedEntryInCurrentTerm(r)) return;
  const parked = r.pendingReads;
  r.pendingReads = [];
  for (const req of parked) readIndexRequest(r, req.from, req.context);
}

function answerRead(r: LeaderContext, from: NodeId, context: string, index: number): void {
  if (from === r.id) r.readStates.push({ index, context });
  else r.send({ type: 'read-index-resp', to: from, context, index });
}

/**
 * Starts handing leadership to `target`: brings its log up to date, then
 * tells it to campaign at once. Proposals are refused meanwhile; the transfer
 * is abandoned after an election timeout (see tickHeartbeat).
 */
export function transferLeadership(r: LeaderContext, target: NodeId): void {
  if (!r.tracker.isVoter(target)) {
    r.debug(`ignored transfer to ${target}: not a voter`);
    return;
  }
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === target) return;
    r.debug(`aborted transfer to ${r.leadTransferee} for one to ${target}`);
    r.leadTransferee = NONE;
  }
  if (target === r.id) return;
  const pr = r.tracker.progress.get(target)!;
  if (pr.rejoining) {
    r.debug(`ignored transfer to ${target}: it is rejoining and will not campaign`);
    return;
  }
  r.electionElapsed = 0;
  r.leadTransferee = target;
  if (pr.match === r.log.lastIndex()) r.send({ type: 'timeout-now', to: target });
  else maybeSendAppend(r, target, true);
}

/**
 * The transport could not reach `id`: stop streaming to it and probe instead.
 * With the guard, its match is forgotten too (what it vouched for is kept):
 * whatever holds its disk when it comes back, this leader neither counts nor
 * reports entries it has not heard it hold since.
 */
export function reportUnreachable(r: LeaderContext, id: NodeId): void {
  const pr = r.tracker.progress.get(id);
  if (r.role !== 'leader' || pr === undefined || id === r.id) return;
  if (r.rejoinGuard && pr.state !== 'snapshot') pr.forgetMatch(pr.match + 1);
  else if (pr.state === 'replicate') pr.becomeProbe();
}

/** A snapshot sent to `id` landed (ok) or failed: probe again either way, after a reply or heartbeat. */
export function reportSnapshot(r: LeaderContext, id: NodeId, ok: boolean): void {
  const pr = r.tracker.progress.get(id);
  if (r.role !== 'leader' || pr === undefined || pr.state !== 'snapshot') return;
  if (!ok) pr.pendingSnapshot = 0;
  pr.becomeProbe();
  pr.paused = true;
}

// The public shape of Floe's Raft core: messages, log entries, the Ready
// batch the driver acts on, the storage it reads, and the node's API.
// Modelled on etcd's raft package (raftpb + rawnode): the core is pure and
// single-threaded; the driver (daemon, simulator) does all I/O from a Ready:
// persist hardState + entries + snapshot, THEN send messages, THEN apply
// committedEntries, THEN call advance().

/** A member's id: short, stable, unique in the cluster ("n1"). */
export type NodeId = string;

/** "No node": no vote cast, no leader known. */
export const NONE: NodeId = '';

export type EntryType = 'normal' | 'conf-change';

/**
 * One log entry. A new leader appends a 'normal' entry with empty data (the
 * no-op of the paper's section 8): the application must skip empty entries.
 * A 'conf-change' entry's data is encodeConfChange(ConfChange).
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be on disk before any message that depends on it is sent. */
export interface HardState {
  /** Current term. Invariant: never goes back. */
  readonly term: number;
  /** Candidate voted for in `term`, or NONE. Invariant: fixed once cast in a term. */
  readonly vote: NodeId;
  /** Highest index known committed. Invariant: never goes back. */
  readonly commit: number;
  /**
   * Present (true) while this member's storage is known to have lost entries
   * it had acknowledged: a wiped database, or an older copy put back. Such a
   * member neither votes nor campaigns (its lost votes and acknowledgements
   * must not be contradicted) until the leader of its term confirms that it
   * holds the leader's log (a 'rejoin-resp'). Set by the driver at start
   * (storage found lost) or by the core (a leader's commit beyond its log).
   * Absent: the storage is trusted, as Raft assumes.
   */
  readonly rejoining?: true;
}

/** Membership: who votes, who only receives the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/**
 * A single-server membership change (section 4.1 of Ongaro's thesis): one
 * node added or removed per change. Replacing a node is add, then remove.
 * `context`: opaque to Raft, the application's record of the change
 * (etcd's ConfChange.Context); Floe's is daemon/storage/member-record.ts.
 */
export type ConfChange =
  | { readonly type: 'add-voter'; readonly nodeId: NodeId; readonly context?: string }
  | { readonly type: 'add-learner'; readonly nodeId: NodeId; readonly context?: string }
  | { readonly type: 'remove-node'; readonly nodeId: NodeId; readonly context?: string };

export interface SnapshotMetadata {
  /** Index of the last entry the snapshot covers. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  /** Membership as of `index`. */
  readonly confState: ConfState;
}

/** The application's state as of metadata.index, opaque to Raft. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term; 0 only for messages that carry no term (none on the wire today). */
  readonly term: number;
}

/**
 * Every message one node sends another. Unknown or malformed messages from
 * the network must be dropped by the transport before step(); step() asserts
 * on programmer errors only.
 */
export type Message =
  /** Leader → follower: entries after (index, logTerm), and the leader's commit. */
  | (MessageBase & {
      readonly type: 'app';
      readonly index: number;
      readonly logTerm: number;
      readonly entries: readonly Entry[];
      readonly commit: number;
    })
  /**
   * Follower → leader. Accepted: `index` is the follower's last matching index.
   * Rejected: `index` is the rejected probe index and (rejectHint, logTerm)
   * let the leader skip a whole conflicting term at once.
   */
  | (MessageBase & {
      readonly type: 'app-resp';
      readonly index: number;
      readonly reject: boolean;
      readonly rejectHint: number;
      readonly logTerm: number;
    })
  /** Candidate → all. `term` is the term asked for (for pre-vote: current term + 1, not adopted). */
  | (MessageBase & {
      readonly type: 'vote' | 'pre-vote';
      readonly index: number;
      readonly logTerm: number;
      /** Set by a leadership transfer: voters grant it even inside their leader lease. */
      readonly transfer: boolean;
    })
  | (MessageBase & { readonly type: 'vote-resp' | 'pre-vote-resp'; readonly reject: boolean })
  /**
   * Leader → follower. `context` carries a ReadIndex round, or '' for none.
   * (commit, commitTerm): the commit index, at most what the follower
   * acknowledged in this term, and the term of the leader's entry there; a
   * follower commits it only when its own entry there has that term (one
   * whose storage went backwards may hold another entry, or none). 0, 0: none.
   */
  | (MessageBase & { readonly type: 'heartbeat'; readonly commit: number; readonly commitTerm: number; readonly context: string })
  | (MessageBase & { readonly type: 'heartbeat-resp'; readonly context: string })
  /** Leader → follower behind compaction. */
  | (MessageBase & { readonly type: 'snap'; readonly snapshot: Snapshot })
  /** Leader → transfer target: start an election now. */
  | (MessageBase & { readonly type: 'timeout-now' })
  /** Follower → leader: please confirm a read index for `context`. */
  | (MessageBase & { readonly type: 'read-index'; readonly context: string })
  | (MessageBase & { readonly type: 'read-index-resp'; readonly context: string; readonly index: number })
  /** Follower → leader: please transfer leadership to `from`'s chosen target. */
  | (MessageBase & { readonly type: 'transfer-leader'; readonly target: NodeId })
  /**
   * Rejoining follower → leader, with each heartbeat answer: my storage lost
   * entries I had acknowledged; I neither vote nor campaign until you confirm
   * that I hold your log. (index, logTerm): my last entry, on my disk now (a
   * fresh claim: acknowledgements sent before the loss may still be in flight).
   */
  | (MessageBase & { readonly type: 'rejoin'; readonly index: number; readonly logTerm: number })
  /**
   * Leader → rejoining follower: your entry (index, logTerm) is in my log, and
   * a majority of the voters other than you hold my log up to an entry of my
   * term at or before it. If you still hold it, vote again, in later terms
   * (you count as having voted for me in this one).
   */
  | (MessageBase & { readonly type: 'rejoin-resp'; readonly index: number; readonly logTerm: number });

export type MessageType = Message['type'];

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state: who leads as far as this node knows. */
export interface SoftState {
  readonly leaderId: NodeId;
  readonly role: Role;
}

/** A ReadIndex answer: once applied ≥ index, a read for `context` is linearizable. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

/** What the driver must do now, in this order: persist, send, apply, advance(). */
export interface Ready {
  /** Present when changed since the last Ready. */
  readonly softState?: SoftState;
  /** Present when changed since the last Ready: persist it (fsync) before sending. */
  readonly hardState?: HardState;
  /** Entries to append to stable storage; they replace any stored entries from entries[0].index on. */
  readonly entries: readonly Entry[];
  /** A snapshot to install in stable storage (and in the application). */
  readonly snapshot?: Snapshot;
  /** Committed entries to apply to the state machine, in order. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send once the above is durable. */
  readonly messages: readonly Message[];
  /** Answers to readIndex() requests. */
  readonly readStates: readonly ReadState[];
  /** True when hardState or entries must be fsynced before sending. */
  readonly mustSync: boolean;
}

export type StorageErrorCode = 'COMPACTED' | 'UNAVAILABLE' | 'SNAPSHOT_TEMPORARILY_UNAVAILABLE';

/** The expected failures of a storage read; anything else is a bug or a disk error. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
    this.name = 'StorageError';
  }
}

/**
 * The read side of stable storage, as the core sees it. The driver writes
 * through WritableStorage before calling advance(), so the core reads back
 * what it handed out in earlier Readys.
 */
export interface Storage {
  /** The persisted hard state and membership at start-up. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one when lo < hi, limited to about `bytesMax` of data. Throws StorageError COMPACTED / UNAVAILABLE. */
  entries(lo: number, hi: number, bytesMax: number): Entry[];
  /** Term of entry i; for i = firstIndex()-1 the snapshot's term. Throws StorageError COMPACTED / UNAVAILABLE. */
  term(i: number): number;
  /** Index of the first entry still held (snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry held (the snapshot's index when the log is empty). */
  lastIndex(): number;
  /** The latest snapshot. Throws StorageError SNAPSHOT_TEMPORARILY_UNAVAILABLE when it is being made. */
  snapshot(): Snapshot;
}

/** The write side the driver uses; every implementation passes storage-contract tests. */
export interface WritableStorage extends Storage {
  /** Appends, replacing any held entries from entries[0].index on. */
  append(entries: readonly Entry[]): void;
  setHardState(hardState: HardState): void;
  /** Replaces everything with the snapshot (a follower installing one). */
  applySnapshot(snapshot: Snapshot): void;
  /** Records a snapshot of the application at `index` (≤ lastIndex); does not compact. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot;
  /**
   * Discards entries before `index` (keeps `index` as the log's base: its term
   * stays readable and firstIndex() becomes index + 1, as in etcd). Compacting
   * an already compacted index does nothing.
   */
  compact(index: number): void;
}

/** Tunables; every limit has a unit. */
export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Ticks without hearing a leader before campaigning: randomized in [electionTicks, 2·electionTicks). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats; must be < electionTicks. */
  readonly heartbeatTicks: number;
  /**
   * Index of the last entry the application has applied (on restart). The
   * membership is storage's initialState().confState plus the conf-change
   * entries after the snapshot up to `applied`, replayed at start; entries
   * after `applied` come back in Ready.committedEntries.
   */
  readonly applied: number;
  /** Bytes of entry data per append message, at most (one entry always goes). */
  readonly messageBytesMax: number;
  /** Append messages in flight per follower, at most (flow control). */
  readonly inflightMessagesMax: number;
  /** Bytes of entries in flight per follower, at most (flow control); absent or 0: no limit. */
  readonly inflightBytesMax?: number;
  /** Bytes of uncommitted entry data the leader accepts before refusing proposals; 0: no limit. */
  readonly uncommittedBytesMax: number;
  /** Committed entries' bytes per Ready, at most (one entry always goes). */
  readonly committedBytesPerReadyMax: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Injected randomness: a uniform float in [0, 1). Seeded in tests. */
  readonly random: () => number;
  /**
   * The guard against storage that went backwards (default true): a member
   * that learns its storage lost acknowledged entries stops voting until the
   * leader confirms it, and a leader forgets a match its follower no longer
   * holds. false restores the unguarded behaviour, for the simulator's
   * demonstration of what the guard prevents; never set it in production.
   */
  readonly rejoinGuard?: boolean;
  /**
   * true: each advance of the leader's commit index goes to every follower at
   * once, in an append of its own (etcd's behaviour; the core's unit tests,
   * which deliver messages until the cluster is quiet, with no heartbeat).
   * false (the default): followers learn it with the next append or
   * heartbeat, as the Raft paper has it (§5.3), except a follower that waits
   * for an entry to apply (notifyCommit) and every follower when a membership
   * change commits. A request's answer comes from the leader, so at one
   * client this saves two appends, two acknowledgements and a Ready on each
   * follower per request.
   */
  readonly broadcastCommit?: boolean;
  /** Optional debug log; must not throw. */
  readonly log?: (line: string) => void;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | {
      readonly ok: false;
      readonly reason: 'NOT_LEADER' | 'TRANSFER_IN_PROGRESS' | 'TOO_MANY_UNCOMMITTED' | 'CONF_CHANGE_PENDING';
      readonly leaderId: NodeId;
    };

/** Per-follower replication state, as the leader sees it. */
export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly recentActive: boolean;
  /**
   * Heard from (answers or rejoin claims) within the current or the previous
   * election timeout: unlike recentActive (reset at each timeout, false until
   * the next answer), it does not blink, so a member that is not reachable is down.
   */
  readonly reachable: boolean;
  /** The member said its storage lost acknowledged entries, and this leader has not yet confirmed it holds the log. */
  readonly rejoining: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly leaderId: NodeId;
  readonly role: Role;
  readonly confState: ConfState;
  /** Leader only: every member's progress. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
  readonly leadTransferee: NodeId;
  /** This node's storage lost acknowledged entries and the leader has not yet confirmed it holds the log (HardState.rejoining). */
  readonly rejoining: boolean;
}

/** The node the driver holds. Single-threaded; no method does I/O. */
export interface RaftNode {
  /** One logical clock tick (the driver calls it every tickMs). */
  tick(): void;
  /**
   * Ticks until tick() next does more than advance counters (a leader's
   * heartbeat or check-quorum round, a follower's or candidate's campaign);
   * at least 1. The driver may sleep until then, but must make up the ticks
   * that elapsed before it steps a message or makes a report or proposal.
   */
  ticksUntilDeadline(): number;
  /** Feeds a message from a peer. Messages from stale terms or unknown senders are handled per the paper, never thrown on. */
  step(message: Message): void;
  /** Leader only: appends `data` as a normal entry. */
  propose(data: Uint8Array): ProposeResult;
  /** Leader only: appends a single-server membership change; refused while another is uncommitted/unapplied. */
  proposeConfChange(change: ConfChange): ProposeResult;
  /**
   * Leader only: member `id` waits for the entry at `index` to apply (it
   * forwarded a proposal in it). Each advance of the commit index is sent to
   * it at once until one reaches `index`; other followers learn the commit
   * index with the next append or heartbeat.
   */
  notifyCommit(id: NodeId, index: number): void;
  /** Must be called by the driver when it applies a committed conf-change entry; returns the new membership. */
  applyConfChange(change: ConfChange): ConfState;
  /** Asks for a linearizable read point; the answer comes as a ReadState with the same context. */
  readIndex(context: string): void;
  /** Asks the leader to hand leadership to `target`. */
  transferLeadership(target: NodeId): void;
  /** Forces an election now (tests, operator). */
  campaign(): void;
  hasReady(): boolean;
  ready(): Ready;
  /** Acknowledges the last Ready: everything in it was persisted, sent and applied. */
  advance(): void;
  status(): RaftStatus;
  /** The transport could not reach `id`: back off to probing. */
  reportUnreachable(id: NodeId): void;
  /**
   * The transport's open connection to `id` closed (a reset socket, not mere
   * silence): a follower of `id` forgets it and campaigns within a few ticks
   * (pre-vote first, so a live leader keeps office).
   */
  reportConnectionLost(id: NodeId): void;
  /**
   * A snapshot sent to `id` was delivered (ok) or failed. The driver must call
   * it for every 'snap' message it sends: a leader sends that follower nothing
   * else until it hears back (or the follower acknowledges the snapshot).
   */
  reportSnapshot(id: NodeId, ok: boolean): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Conf-change entries carry their change as UTF-8 JSON. */
export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(change));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  return JSON.parse(decoder.decode(data)) as ConfChange;
}

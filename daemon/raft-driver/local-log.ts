// A single-voter log behind the RaftNode interface: what a one-node Floe
// runs when the Raft core is not chosen (config raft.engine = "local") or
// not available. It keeps Raft's shape — terms, a no-op entry on election,
// hard state, Readys with entries to persist and committed entries to apply —
// so the driver, storage and node code are the same as with the real core.
// With one voter an appended entry is committed as soon as it is durable;
// the driver persists a Ready's entries before it applies its committed ones.
import {
  NONE,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ProposeResult,
  type RaftNode,
  type RaftStatus,
  type Ready,
  type SoftState,
  type Storage,
} from '../raft/types.ts';

/** Options of the local log. */
export interface LocalLogOptions {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Index of the last entry the application has applied (on restart). */
  readonly applied: number;
  /** Committed entries' bytes per Ready, at most (one entry always goes). */
  readonly committedBytesPerReadyMax: number;
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`assert: ${message}`);
}

/** Creates a single-voter RaftNode; it becomes leader on campaign(). */
export function createLocalLog(options: LocalLogOptions): RaftNode {
  return new LocalLog(options);
}

class LocalLog implements RaftNode {
  private readonly id: NodeId;
  private readonly storage: Storage;
  private readonly bytesMax: number;
  private term: number;
  private vote: NodeId;
  /** Invariant: applied <= commit <= lastIndex. */
  private commit: number;
  private applied: number;
  private role: 'follower' | 'leader' = 'follower';
  private confState: ConfState;
  /** Entries not yet handed out in a Ready. */
  private unstable: Entry[] = [];
  /** Entries handed out in the current Ready, stable once advance() is called. */
  private inReady: { entries: number; hardState?: HardState; softState?: SoftState; appliedTo: number } | undefined;
  private persistedHardState: HardState;
  private reportedSoftState: SoftState;

  constructor(options: LocalLogOptions) {
    this.id = options.id;
    this.storage = options.storage;
    this.bytesMax = options.committedBytesPerReadyMax;
    const { hardState, confState } = options.storage.initialState();
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.commit = hardState.commit;
    this.applied = Math.max(options.applied, options.storage.firstIndex() - 1);
    this.confState = confState;
    this.persistedHardState = hardState;
    this.reportedSoftState = { leaderId: NONE, role: 'follower' };
    assert(this.applied <= this.commit || this.commit === 0, `applied ${this.applied} > commit ${this.commit}`);
    if (this.commit < this.applied) this.commit = this.applied;
  }

  tick(): void {}

  step(message: Message): void {
    void message; // one voter: nobody to hear from
  }

  propose(data: Uint8Array): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'NOT_LEADER', leaderId: NONE };
    return this.appendOne('normal', data);
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    void change;
    return { ok: false, reason: 'CONF_CHANGE_PENDING', leaderId: this.leaderId() };
  }

  applyConfChange(change: ConfChange): ConfState {
    void change;
    return this.confState;
  }

  readIndex(context: string): void {
    void context;
  }

  transferLeadership(target: NodeId): void {
    void target;
  }

  campaign(): void {
    if (this.role === 'leader') return;
    this.term += 1;
    this.vote = this.id;
    this.role = 'leader';
    this.appendOne('normal', new Uint8Array(0));
  }

  hasReady(): boolean {
    return (
      this.unstable.length > 0 ||
      this.commit > this.applied ||
      !sameHardState(this.hardState(), this.persistedHardState) ||
      this.softState().role !== this.reportedSoftState.role
    );
  }

  ready(): Ready {
    assert(this.inReady === undefined, 'ready() called twice without advance()');
    const hardState = this.hardState();
    const softState = this.softState();
    const entries = this.unstable;
    this.unstable = [];
    // Committed entries: from storage up to its last index, then the ones handed out now.
    const committed: Entry[] = [];
    let bytes = 0;
    const storedLast = this.storage.lastIndex();
    for (let i = this.applied + 1; i <= this.commit; i++) {
      let e: Entry | undefined;
      if (i <= storedLast && (entries.length === 0 || i < entries[0]!.index)) e = this.storage.entries(i, i + 1, Number.MAX_SAFE_INTEGER)[0];
      else e = entries[i - entries[0]!.index];
      assert(e !== undefined, `committed entry ${i} is missing`);
      bytes += e.data.length + 16;
      if (committed.length > 0 && bytes > this.bytesMax) break;
      committed.push(e);
    }
    const appliedTo = committed.length > 0 ? committed[committed.length - 1]!.index : this.applied;
    const hsChanged = !sameHardState(hardState, this.persistedHardState);
    const ssChanged = softState.role !== this.reportedSoftState.role;
    this.inReady = { entries: entries.length, appliedTo, ...(hsChanged ? { hardState } : {}), ...(ssChanged ? { softState } : {}) };
    return {
      ...(ssChanged ? { softState } : {}),
      ...(hsChanged ? { hardState } : {}),
      entries,
      committedEntries: committed,
      messages: [],
      readStates: [],
      mustSync: hsChanged || entries.length > 0,
    };
  }

  advance(): void {
    const r = this.inReady;
    assert(r !== undefined, 'advance() without ready()');
    this.inReady = undefined;
    if (r.hardState !== undefined) this.persistedHardState = r.hardState;
    if (r.softState !== undefined) this.reportedSoftState = r.softState;
    this.applied = r.appliedTo;
  }

  status(): RaftStatus {
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.commit,
      applied: this.applied,
      lastIndex: this.lastIndex(),
      leaderId: this.leaderId(),
      role: this.role,
      confState: this.confState,
      progress: new Map(),
      leadTransferee: NONE,
    };
  }

  reportUnreachable(id: NodeId): void {
    void id;
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    void id;
    void ok;
  }

  private appendOne(type: Entry['type'], data: Uint8Array): ProposeResult {
    const index = this.lastIndex() + 1;
    this.unstable.push({ term: this.term, index, type, data });
    this.commit = index; // one voter: committed once durable, which the driver ensures before applying
    return { ok: true, index, term: this.term };
  }

  private lastIndex(): number {
    const u = this.unstable;
    // Entries of a Ready are in storage before any code can propose again (the driver persists synchronously).
    return u.length > 0 ? u[u.length - 1]!.index : this.storage.lastIndex();
  }

  private leaderId(): NodeId {
    return this.role === 'leader' ? this.id : NONE;
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.commit };
  }

  private softState(): SoftState {
    return { leaderId: this.leaderId(), role: this.role };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

// The Raft core's stable storage on SQLite: the log, the hard state and the
// latest snapshot, mirrored in memory for reads (the core reads terms and
// entries often; the log held is bounded by snapshot compaction). Every write
// goes to SQLite first-to-last inside the caller's transaction: the driver
// wraps one whole Ready in atomically(), so one Ready costs one fsync.
// Passes daemon/raft/storage-contract.test-support.ts (run from test/daemon/).
import { randomBytes } from 'node:crypto';
import { eq, gte, lte, sql } from 'drizzle-orm';
import {
  StorageError,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  type WritableStorage,
} from '../raft/types.ts';
import { entryBytes } from '../raft/memory-storage.ts';
import type { FloeDatabase } from './open-database.ts';
import { raftLog, raftSnapshot, raftState } from './schema.ts';

/** Rows per multi-row INSERT of log entries (SQLite allows 32,766 parameters; 4 per row). */
const ENTRIES_PER_INSERT = 32;

const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`assert: ${message}`);
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function copyConfState(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}

/** A new database's id: 16 random bytes in hex. */
function newStorageId(): string {
  return randomBytes(16).toString('hex');
}

/** Options of SqliteRaftStorage. */
export interface SqliteRaftStorageOptions {
  /** Membership of a brand-new log (recorded as a snapshot at index 0); ignored when the database has one. */
  readonly initialConfState?: ConfState;
}

/** WritableStorage over a node's SQLite database. */
export class SqliteRaftStorage implements WritableStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private latestSnapshot: Snapshot;
  /** Index and term of the log's base (last compacted entry or snapshot point). */
  private baseIndex = 0;
  private baseTerm = 0;
  /** Entries after the base. Invariant: held[i].index === baseIndex + 1 + i. */
  private held: Entry[] = [];
  private readonly statements;
  /** Hot path: raw better-sqlite3 inserts of ENTRIES_PER_INSERT rows and of one row (drizzle's placeholder filling costs more per row than the insert). */
  private readonly insertMany: import('better-sqlite3').Statement;
  private readonly insertOne: import('better-sqlite3').Statement;
  /** This database's id (schema.ts raftState.storageId): made when the database is created, never changed. */
  private storageIdValue = '';
  /** True when this open created the database (no Raft state was stored). */
  private createdValue = false;

  constructor(
    private readonly database: FloeDatabase,
    options: SqliteRaftStorageOptions = {},
  ) {
    const { db } = database;
    const p = sql.placeholder;
    this.statements = {
      deleteFrom: db.delete(raftLog).where(gte(raftLog.idx, p('idx'))).prepare(),
      deleteUpTo: db.delete(raftLog).where(lte(raftLog.idx, p('idx'))).prepare(),
      deleteAll: db.delete(raftLog).prepare(),
      updateState: db
        .update(raftState)
        .set({
          term: sql`${p('term')}`,
          vote: sql`${p('vote')}`,
          commitIndex: sql`${p('commit')}`,
          baseIndex: sql`${p('baseIndex')}`,
          baseTerm: sql`${p('baseTerm')}`,
          rejoining: sql`${p('rejoining')}`,
        })
        .where(eq(raftState.id, 1))
        .prepare(),
      upsertSnapshot: db
        .insert(raftSnapshot)
        .values({ id: 1, snapIndex: p('index'), snapTerm: p('term'), confState: p('conf'), data: p('data') })
        .onConflictDoUpdate({
          target: raftSnapshot.id,
          set: {
            snapIndex: sql`excluded.snap_index`,
            snapTerm: sql`excluded.snap_term`,
            confState: sql`excluded.conf_state`,
            data: sql`excluded.data`,
          },
        })
        .prepare(),
    };
    const row = '(?, ?, ?, ?)';
    this.insertOne = database.sqlite.prepare(`INSERT INTO raft_log (idx, term, kind, data) VALUES ${row}`);
    this.insertMany = database.sqlite.prepare(
      `INSERT INTO raft_log (idx, term, kind, data) VALUES ${Array.from({ length: ENTRIES_PER_INSERT }, () => row).join(', ')}`,
    );
    this.latestSnapshot = {
      metadata: { index: 0, term: 0, confState: copyConfState(options.initialConfState ?? { voters: [], learners: [] }) },
      data: new Uint8Array(0),
    };
    this.load();
  }

  /**
   * Makes the commits so far durable and calls `done` (async sync mode), or
   * undefined when every commit is durable by itself (FULL).
   */
  get syncAsync(): ((done: (error: Error | null) => void) => void) | undefined {
    return this.database.syncMode === 'async' ? (done) => this.database.syncWal(done) : undefined;
  }

  /** Runs `fn` in one SQLite transaction (one fsync at its commit under FULL). Nested calls join the outer one. */
  atomically<T>(fn: () => T): T {
    if (this.database.sqlite.inTransaction) return fn();
    return this.database.sqlite.transaction(fn)();
  }

  /** This database's id, made when it was created (a database put in place of another has another). */
  get storageId(): string {
    return this.storageIdValue;
  }

  /** True when this open created the database: nothing of a log, hard state or snapshot was stored. */
  get created(): boolean {
    return this.createdValue;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.latestSnapshot.metadata.confState };
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    if (lo <= this.baseIndex) throw new StorageError('COMPACTED', `entries from ${lo}: compacted up to ${this.baseIndex}`);
    const last = this.lastIndex();
    if (hi > last + 1) throw new StorageError('UNAVAILABLE', `entries up to ${hi - 1}: last index is ${last}`);
    assert(lo <= hi, `entries(${lo}, ${hi}): lo > hi`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = this.held[i - this.baseIndex - 1]!;
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  term(i: number): number {
    if (i < this.baseIndex) throw new StorageError('COMPACTED', `term of ${i}: compacted up to ${this.baseIndex}`);
    const last = this.lastIndex();
    if (i > last) throw new StorageError('UNAVAILABLE', `term of ${i}: last index is ${last}`);
    return i === this.baseIndex ? this.baseTerm : this.held[i - this.baseIndex - 1]!.term;
  }

  firstIndex(): number {
    return this.baseIndex + 1;
  }

  lastIndex(): number {
    return this.baseIndex + this.held.length;
  }

  snapshot(): Snapshot {
    return this.latestSnapshot;
  }

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const last = entries[entries.length - 1]!.index;
    assert(last - first === entries.length - 1, 'append: entries are not contiguous');
    if (last <= this.baseIndex) return;
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    const skip = first <= this.baseIndex ? this.baseIndex + 1 - first : 0;
    const from = first + skip;
    this.atomically(() => {
      if (from <= this.lastIndex()) this.statements.deleteFrom.run({ idx: from });
      let i = skip;
      const params: unknown[] = [];
      for (; i + ENTRIES_PER_INSERT <= entries.length; i += ENTRIES_PER_INSERT) {
        params.length = 0;
        for (let k = i; k < i + ENTRIES_PER_INSERT; k++) {
          const e = entries[k]!;
          params.push(e.index, e.term, e.type === 'normal' ? 0 : 1, toBuffer(e.data));
        }
        this.insertMany.run(params);
      }
      for (; i < entries.length; i++) {
        const e = entries[i]!;
        this.insertOne.run(e.index, e.term, e.type === 'normal' ? 0 : 1, toBuffer(e.data));
      }
    });
    this.held.length = from - this.baseIndex - 1;
    for (let i = skip; i < entries.length; i++) this.held.push(entries[i]!);
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState.rejoining === true
      ? { term: hardState.term, vote: hardState.vote, commit: hardState.commit, rejoining: true }
      : { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
    this.writeState();
  }

  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    assert(
      index >= this.latestSnapshot.metadata.index,
      `applySnapshot at ${index} is older than the held snapshot at ${this.latestSnapshot.metadata.index}`,
    );
    this.atomically(() => {
      this.writeSnapshot(snapshot);
      this.statements.deleteAll.run();
      this.baseIndex = index;
      this.baseTerm = term;
      this.writeState();
    });
    this.latestSnapshot = { metadata: { index, term, confState: copyConfState(snapshot.metadata.confState) }, data: snapshot.data };
    this.held = [];
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assert(index <= this.lastIndex(), `createSnapshot at ${index} is past the last index ${this.lastIndex()}`);
    assert(
      index >= this.latestSnapshot.metadata.index,
      `createSnapshot at ${index} is older than the held snapshot at ${this.latestSnapshot.metadata.index}`,
    );
    const snapshot: Snapshot = { metadata: { index, term: this.term(index), confState: copyConfState(confState) }, data };
    this.atomically(() => this.writeSnapshot(snapshot));
    this.latestSnapshot = snapshot;
    return snapshot;
  }

  compact(index: number): void {
    if (index <= this.baseIndex) return;
    assert(index <= this.lastIndex(), `compact at ${index} is past the last index ${this.lastIndex()}`);
    const term = this.term(index);
    const dropped = index - this.baseIndex;
    this.atomically(() => {
      this.statements.deleteUpTo.run({ idx: index });
      this.baseIndex = index;
      this.baseTerm = term;
      this.writeState();
    });
    this.held = this.held.slice(dropped);
  }

  private writeState(): void {
    this.statements.updateState.run({
      term: this.hardState.term,
      vote: this.hardState.vote,
      commit: this.hardState.commit,
      baseIndex: this.baseIndex,
      baseTerm: this.baseTerm,
      rejoining: this.hardState.rejoining === true ? 1 : 0,
    });
  }

  private writeSnapshot(snapshot: Snapshot): void {
    this.statements.upsertSnapshot.run({
      index: snapshot.metadata.index,
      term: snapshot.metadata.term,
      conf: JSON.stringify(snapshot.metadata.confState),
      data: toBuffer(snapshot.data),
    });
  }

  /** Reads everything back at start; creates the state row of a new database. */
  private load(): void {
    const { db } = this.database;
    const state = db.select().from(raftState).where(eq(raftState.id, 1)).get();
    if (state === undefined) {
      this.createdValue = true;
      this.storageIdValue = newStorageId();
      this.atomically(() => {
        db.insert(raftState).values({ id: 1, term: 0, vote: '', commitIndex: 0, baseIndex: 0, baseTerm: 0, rejoining: 0, storageId: this.storageIdValue }).run();
        this.writeSnapshot(this.latestSnapshot);
      });
      return;
    }
    this.storageIdValue = state.storageId;
    if (this.storageIdValue === '') {
      // A database of a version before storage ids: it gets its id now.
      this.storageIdValue = newStorageId();
      db.update(raftState).set({ storageId: this.storageIdValue }).where(eq(raftState.id, 1)).run();
    }
    this.hardState =
      state.rejoining === 1
        ? { term: state.term, vote: state.vote, commit: state.commitIndex, rejoining: true }
        : { term: state.term, vote: state.vote, commit: state.commitIndex };
    this.baseIndex = state.baseIndex;
    this.baseTerm = state.baseTerm;
    const snap = db.select().from(raftSnapshot).where(eq(raftSnapshot.id, 1)).get();
    if (snap !== undefined) {
      this.latestSnapshot = {
        metadata: { index: snap.snapIndex, term: snap.snapTerm, confState: JSON.parse(snap.confState) as ConfState },
        data: new Uint8Array(snap.data),
      };
    }
    const rows = db.select().from(raftLog).where(gte(raftLog.idx, this.baseIndex + 1)).orderBy(raftLog.idx).all();
    let expected = this.baseIndex + 1;
    for (const r of rows) {
      assert(r.idx === expected, `raft_log has a gap: ${r.idx} after ${expected - 1}`);
      this.held.push({ index: r.idx, term: r.term, type: r.kind === 0 ? 'normal' : 'conf-change', data: new Uint8Array(r.data) });
      expected++;
    }
  }
}

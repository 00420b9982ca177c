// Test helpers for the Raft core's unit tests (not used by production code):
// nodes over MemoryStorage with a seeded PRNG, a driver that performs each
// Ready in the required order, and a network that delivers every message
// until the cluster is quiet, with drops and partitions.
import { seededRandom } from '../../test/seeded-random.test-support.ts';
import { assert } from './assert.ts';
import { MemoryStorage } from './memory-storage.ts';
import { createRaftNode } from './raw-node.ts';
import {
  decodeConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type RaftNode,
  type Ready,
} from './types.ts';

/** Test defaults: electionTicks 10, heartbeatTicks 1, generous limits, no pre-vote or check-quorum, commits broadcast at once. */
export function testConfig(id: NodeId, storage: MemoryStorage, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    storage,
    electionTicks: 10,
    heartbeatTicks: 1,
    applied: 0,
    messageBytesMax: Number.MAX_SAFE_INTEGER,
    inflightMessagesMax: 256,
    uncommittedBytesMax: 0,
    committedBytesPerReadyMax: Number.MAX_SAFE_INTEGER,
    preVote: false,
    checkQuorum: false,
    broadcastCommit: true,
    random: seededRandom(id.split('').reduce((h, c) => h * 31 + c.charCodeAt(0), 7)),
    ...overrides,
  };
}

/** One node under test with its storage and what it has applied. */
export interface TestNode {
  readonly id: NodeId;
  readonly node: RaftNode;
  readonly storage: MemoryStorage;
  /** Committed entries applied, in order. */
  readonly applied: Entry[];
  /** Read states received. */
  readonly readStates: { index: number; context: string }[];
}

/** Builds a node whose storage starts with `confState` (and optionally some entries and a hard state). */
export function makeNode(
  id: NodeId,
  confState: ConfState,
  overrides: Partial<RaftConfig> = {},
  init?: (storage: MemoryStorage) => void,
): TestNode {
  const storage = new MemoryStorage(confState);
  init?.(storage);
  return { id, node: createRaftNode(testConfig(id, storage, overrides)), storage, applied: [], readStates: [] };
}

/**
 * Performs one Ready the way a driver must: persist snapshot, entries and hard
 * state; then (returned) messages; then apply committed entries; then advance.
 */
export function processReady(t: TestNode): Ready {
  const rd = t.node.ready();
  if (rd.snapshot !== undefined) t.storage.applySnapshot(rd.snapshot);
  t.storage.append(rd.entries);
  if (rd.hardState !== undefined) t.storage.setHardState(rd.hardState);
  for (const e of rd.committedEntries) {
    if (e.type === 'conf-change') t.node.applyConfChange(decodeConfChange(e.data));
    t.applied.push(e);
  }
  t.readStates.push(...rd.readStates);
  t.node.advance();
  return rd;
}

/** Processes Readys of one node until it has none; returns every message it produced. */
export function drain(t: TestNode): Message[] {
  const out: Message[] = [];
  for (let i = 0; t.node.hasReady(); i++) {
    assert(i < 1000, 'node never quiets');
    out.push(...processReady(t).messages);
  }
  return out;
}

/** A cluster of test nodes joined by a lossless, in-order network that tests can cut. */
export class TestNetwork {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Pairs "from→to" whose messages are dropped. */
  private readonly cut = new Set<string>();
  /** Extra drop rule, e.g. by message type. */
  dropIf: (m: Message) => boolean = () => false;
  /** Every message delivered, in order. */
  readonly delivered: Message[] = [];

  /** `ids`: the voters; each node gets the same overrides. */
  constructor(ids: readonly NodeId[], overrides: Partial<RaftConfig> = {}, learners: readonly NodeId[] = []) {
    for (const id of [...ids, ...learners]) {
      this.nodes.set(id, makeNode(id, { voters: [...ids], learners: [...learners] }, overrides));
    }
  }

  /** The node `id`. */
  get(id: NodeId): TestNode {
    const t = this.nodes.get(id);
    assert(t !== undefined, `no node ${id}`);
    return t;
  }

  /** Adds a node that starts with `confState` (e.g. a new member joining with an empty log). */
  add(id: NodeId, confState: ConfState, overrides: Partial<RaftConfig> = {}): TestNode {
    const t = makeNode(id, confState, overrides);
    this.nodes.set(id, t);
    return t;
  }

  /**
   * Restarts `id` as a new process over `storage` (its own disk, an older copy
   * of it, or a wiped one): what it did not persist is gone, and so is every
   * message it had not yet received.
   */
  restart(id: NodeId, storage: MemoryStorage, overrides: Partial<RaftConfig> = {}): TestNode {
    this.get(id); // asserts that `id` exists
    const applied = storage.snapshot().metadata.index;
    const t: TestNode = { id, node: createRaftNode(testConfig(id, storage, { applied, ...overrides })), storage, applied: [], readStates: [] };
    this.nodes.set(id, t);
    return t;
  }

  /** Drops messages between `a` and `b`, both ways. */
  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}→${b}`);
    this.cut.add(`${b}→${a}`);
  }

  /** Cuts `id` off from every other node. */
  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cutLink(id, other);
  }

  /** Restores every link. */
  heal(): void {
    this.cut.clear();
  }

  /** Processes every node's Readys and delivers messages until nothing moves. */
  settle(stepsMax = 100_000): void {
    const queue: Message[] = [];
    for (let steps = 0; ; steps++) {
      assert(steps < stepsMax, 'network never quiets');
      for (const t of this.nodes.values()) queue.push(...drain(t));
      const m = queue.shift();
      if (m === undefined) return;
      if (this.cut.has(`${m.from}→${m.to}`) || this.dropIf(m)) continue;
      const target = this.nodes.get(m.to);
      if (target === undefined) continue;
      this.delivered.push(m);
      target.node.step(m);
    }
  }

  /** Ticks `id` (or every node) `count` times, settling after each tick. */
  tick(id?: NodeId, count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const t of this.nodes.values()) if (id === undefined || t.id === id) t.node.tick();
      this.settle();
    }
  }

  /** Ticks the nodes `ids` together `count` times, settling after each tick. */
  tickSome(ids: readonly NodeId[], count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const id of ids) this.get(id).node.tick();
      this.settle();
    }
  }

  /** Makes `id` campaign and settles. */
  campaign(id: NodeId): void {
    this.get(id).node.campaign();
    this.settle();
  }

  /** The one node that believes it leads at the highest term, if any. */
  leader(): TestNode | undefined {
    let best: TestNode | undefined;
    for (const t of this.nodes.values()) {
      const s = t.node.status();
      if (s.role === 'leader' && (best === undefined || s.term > best.node.status().term)) best = t;
    }
    return best;
  }

  /** Proposes `text` at `id` and settles; returns the propose result. */
  propose(id: NodeId, text: string): ReturnType<RaftNode['propose']> {
    const result = this.get(id).node.propose(new TextEncoder().encode(text));
    this.settle();
    return result;
  }
}

/** The texts of the non-empty normal entries in `entries`. */
export function texts(entries: readonly Entry[]): string[] {
  const decoder = new TextDecoder();
  return entries.filter((e) => e.type === 'normal' && e.data.length > 0).map((e) => decoder.decode(e.data));
}

/** Builds an entry for tests. */
export function entry(index: number, term: number, text = ''): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) };
}

/** An append message, for tests. */
export function appMsg(
  from: NodeId,
  to: NodeId,
  term: number,
  index: number,
  logTerm: number,
  entries: readonly Entry[] = [],
  commit = 0,
): Message {
  return { type: 'app', from, to, term, index, logTerm, entries, commit };
}

/** An append response, for tests. */
export function appResp(from: NodeId, to: NodeId, term: number, index: number, reject = false, rejectHint = 0, logTerm = 0): Message {
  return { type: 'app-resp', from, to, term, index, reject, rejectHint, logTerm };
}

/** A vote (or pre-vote) request, for tests. */
export function voteMsg(from: NodeId, to: NodeId, term: number, index: number, logTerm: number, type: 'vote' | 'pre-vote' = 'vote', transfer = false): Message {
  return { type, from, to, term, index, logTerm, transfer };
}

/** A vote (or pre-vote) response, for tests. */
export function voteResp(from: NodeId, to: NodeId, term: number, reject = false, type: 'vote-resp' | 'pre-vote-resp' = 'vote-resp'): Message {
  return { type, from, to, term, reject };
}

/** A heartbeat, for tests; `commitTerm` (the term of the leader's entry at `commit`) defaults to `term`, or 0 with no commit. */
export function heartbeatMsg(from: NodeId, to: NodeId, term: number, commit = 0, context = '', commitTerm = commit === 0 ? 0 : term): Message {
  return { type: 'heartbeat', from, to, term, commit, commitTerm, context };
}

/** Makes `t` leader by campaigning and granting it every other voter's vote (pre-vote off). */
export function electLeader(t: TestNode): Message[] {
  t.node.campaign();
  drain(t);
  const { term, confState } = t.node.status();
  for (const id of confState.voters) {
    if (id !== t.id && t.node.status().role !== 'leader') t.node.step(voteResp(id, t.id, term));
  }
  assert(t.node.status().role === 'leader', `${t.id} did not become leader`);
  return drain(t);
}

/** Entries with the given terms at indexes 1, 2, …. */
export function entriesWithTerms(terms: readonly number[]): Entry[] {
  return terms.map((term, i) => entry(i + 1, term));
}

/** The (index, term) pairs of a node's whole log, stable and unstable. */
export function logTerms(t: TestNode): number[] {
  const s = t.node.status();
  const out: number[] = [];
  for (let i = t.storage.firstIndex(); i <= s.lastIndex; i++) out.push(t.storage.term(i));
  return out;
}

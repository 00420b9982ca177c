// The driver's tick deadline: it wakes for the core's next deadline (a
// leader's heartbeat, a follower's election timeout) instead of every tick,
// and counts the ticks it slept through before anything reaches the core, so
// elections happen as they did with a timer every tick. Three drivers on a
// virtual event loop whose clock the test moves.
import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../raft/index.ts';
import type { Message, NodeId } from '../raft/types.ts';
import { openDatabase, SqliteRaftStorage } from '../storage/index.ts';
import type { DriverScheduler, ScheduledTimer } from './driver-scheduler.ts';
import type { RaftTransport } from './raft-transport.ts';
import { RaftDriver } from './raft-driver.ts';

const IDS = ['n1', 'n2', 'n3'] as const;
/** The production timing: 25 ms ticks, heartbeat every 2, elections after 8–16. */
const TICK_MS = 25;
const HEARTBEAT_TICKS = 2;
const ELECTION_TICKS = 8;
/** `ms` a message takes on the virtual wire. */
const WIRE_MS = 1;

/**
 * Virtual event loops, one per node, on one clock: each turn of a node runs
 * its due timers, then the frames that arrived (Node's poll phase), then its
 * immediates. A node can be held (a long synchronous task): nothing of its
 * runs until the hold ends, and then everything due runs in that order.
 */
class VirtualLoops {
  nowMs = 0;
  private events: { owner: NodeId; kind: 'timer' | 'io'; atMs: number; seq: number; fn: () => void; live: boolean }[] = [];
  private immediates = new Map<NodeId, (() => void)[]>();
  private heldUntilMs = new Map<NodeId, number>();
  private seq = 0;
  /** Deadline timers fired, by node. */
  readonly wakeUps = new Map<NodeId, number>();

  scheduler(id: NodeId): DriverScheduler {
    return {
      immediate: (fn) => void this.immediatesOf(id).push(fn),
      wakeAfter: (ms, fn) => this.at(id, 'timer', ms, () => {
        this.wakeUps.set(id, (this.wakeUps.get(id) ?? 0) + 1);
        fn();
      }),
      after: (ms, fn) => this.at(id, 'timer', ms, fn),
      nowMs: () => this.nowMs,
    };
  }

  /** Runs `fn` on `owner`'s loop `ms` from now, as a timer or as a frame read. */
  at(owner: NodeId, kind: 'timer' | 'io', ms: number, fn: () => void): ScheduledTimer {
    const e = { owner, kind, atMs: this.nowMs + ms, seq: this.seq++, fn, live: true };
    this.events.push(e);
    return { cancel: () => void (e.live = false) };
  }

  /** Holds `id`'s loop for `ms` from now. */
  hold(id: NodeId, ms: number): void {
    this.heldUntilMs.set(id, this.nowMs + ms);
  }

  private immediatesOf(id: NodeId): (() => void)[] {
    let q = this.immediates.get(id);
    if (q === undefined) this.immediates.set(id, (q = []));
    return q;
  }

  private held(id: NodeId): boolean {
    return (this.heldUntilMs.get(id) ?? 0) > this.nowMs;
  }

  /** Runs every loop until `untilMs`. */
  run(untilMs: number): void {
    for (let turns = 0; turns < 1_000_000; turns++) {
      let ran = false;
      for (const id of IDS) {
        if (this.held(id)) continue;
        const due = (kind: 'timer' | 'io') =>
          this.events.filter((e) => e.live && e.owner === id && e.kind === kind && e.atMs <= this.nowMs).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
        for (const e of [...due('timer'), ...due('io')]) {
          e.live = false;
          e.fn();
          ran = true;
        }
        const now = this.immediatesOf(id).splice(0);
        for (const fn of now) fn();
        if (now.length > 0) ran = true;
      }
      this.events = this.events.filter((e) => e.live);
      if (ran) continue;
      const wakes = [...this.events.map((e) => Math.max(e.atMs, this.heldUntilMs.get(e.owner) ?? 0))];
      const next = Math.min(...wakes);
      if (!Number.isFinite(next) || next > untilMs) {
        this.nowMs = Math.max(this.nowMs, untilMs);
        return;
      }
      this.nowMs = Math.max(this.nowMs, next);
    }
    throw new Error('the virtual loops never went idle');
  }
}

function cluster() {
  const loop = new VirtualLoops();
  const handlers = new Map<NodeId, (m: Message[]) => void>();
  const down = new Set<NodeId>();
  const byId = new Map<NodeId, RaftDriver<string>>();
  /** Every message sent, in order. */
  const sent: Message[] = [];
  /** Every role each node took, in order. */
  const roles = new Map<NodeId, string[]>(IDS.map((id) => [id, []]));
  for (const [i, id] of IDS.entries()) {
    const transport: RaftTransport = {
      send: (messages) => {
        for (const m of messages) {
          sent.push(m);
          if (down.has(id) || down.has(m.to)) continue;
          loop.at(m.to, 'io', WIRE_MS, () => handlers.get(m.to)?.([m]));
        }
      },
      onMessages: (h) => {
        handlers.set(id, h);
        return () => handlers.delete(id);
      },
      onUnreachable: () => () => {},
      stop: async () => {},
    };
    const storage = new SqliteRaftStorage(openDatabase(':memory:'), { initialConfState: { voters: [...IDS], learners: [] } });
    const driver = new RaftDriver<string>({
      node: createRaftNode({
        id, storage, electionTicks: ELECTION_TICKS, heartbeatTicks: HEARTBEAT_TICKS, applied: 0, messageBytesMax: 1 << 20,
        inflightMessagesMax: 64, uncommittedBytesMax: 0, committedBytesPerReadyMax: 1 << 20, preVote: true, checkQuorum: true,
        random: () => [0.1, 0.5, 0.9][i]!,
      }),
      storage,
      transport,
      tickMs: TICK_MS,
      snapshotEntries: 1_000_000,
      pendingProposalsMax: 100,
      scheduler: loop.scheduler(id),
      onSoftState: (state) => roles.get(id)!.push(state.role),
      application: { apply: () => 'ok', restore: () => {}, snapshotData: () => new Uint8Array(0) },
    });
    byId.set(id, driver);
    driver.start();
  }
  const node = (id: NodeId): RaftDriver<string> => byId.get(id)!;
  const leaders = () => IDS.filter((id) => node(id).isLeader);
  return { loop, node, leaders, down, roles, sent, stop: () => IDS.forEach((id) => node(id).stop()) };
}

describe('RaftDriver tick deadline', () => {
  it('an idle follower wakes about once per election timeout and the leader once per heartbeat, not every tick', () => {
    const c = cluster();
    c.loop.run(2000);
    expect(c.leaders()).toEqual(['n1']); // n1 drew the shortest timeout
    const before = new Map(c.loop.wakeUps);
    c.loop.run(12_000); // 10 s idle: 400 ticks
    const woke = (id: NodeId) => (c.loop.wakeUps.get(id) ?? 0) - (before.get(id) ?? 0);
    expect(c.leaders()).toEqual(['n1']);
    expect(woke('n1')).toBeLessThanOrEqual(10_000 / (HEARTBEAT_TICKS * TICK_MS) + 2);
    for (const id of ['n2', 'n3']) expect(woke(id)).toBeLessThanOrEqual(10_000 / (ELECTION_TICKS * TICK_MS) + 2);
    c.stop();
  });

  it('followers of a leader that falls silent elect another within one to two election timeouts', () => {
    const c = cluster();
    c.loop.run(2000);
    const term = c.node('n2').status().term;
    c.down.add('n1');
    const silentAtMs = c.loop.nowMs;
    let electedAtMs = -1;
    for (let t = silentAtMs; t < silentAtMs + 2000 && electedAtMs < 0; t += 5) {
      c.loop.run(t);
      if (c.node('n2').isLeader || c.node('n3').isLeader) electedAtMs = c.loop.nowMs;
    }
    expect(electedAtMs - silentAtMs).toBeGreaterThanOrEqual(ELECTION_TICKS * TICK_MS);
    expect(electedAtMs - silentAtMs).toBeLessThanOrEqual(2 * ELECTION_TICKS * TICK_MS + 4 * TICK_MS);
    expect(c.node('n2').status().term).toBeGreaterThan(term);
    c.stop();
  });

  it('a follower whose event loop was held past its election timeout hears the waiting heartbeats before it campaigns', () => {
    const c = cluster();
    c.loop.run(2000);
    const term = c.node('n1').status().term;
    c.loop.hold('n3', 1000); // a long synchronous task on n3 while n1 keeps sending heartbeats
    c.loop.run(4000);
    expect(c.roles.get('n3')).not.toContain('pre-candidate');
    expect(c.sent.filter((m) => m.from === 'n3' && m.type === 'pre-vote')).toEqual([]);
    for (const id of IDS) expect(c.node(id).status()).toMatchObject({ term, leaderId: 'n1' });
    c.stop();
  });
});

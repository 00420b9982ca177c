// A small Ready whose messages wait for its sync (a follower's) syncs on the
// event loop (DurableStorage.syncNow) instead of the thread pool. Durable
// before acknowledged must hold on both paths: a proposal is answered only
// once its entry is synced on a majority, and a follower acknowledges only
// what it synced.
import { describe, expect, it } from 'vitest';
import type { Message, NodeId } from '../raft/types.ts';
import { openDatabase, SqliteRaftStorage } from '../storage/index.ts';
import { memoryWire, untickedDriver } from './driver-wire.test-support.ts';
import { INLINE_SYNC_BYTES_MAX, INLINE_SYNC_MS_MAX, type DurableStorage } from './raft-driver.ts';
import type { RaftTransport } from './raft-transport.ts';

/** What one node did, in order: 'sync-now', 'sync-async', 'flush', 'send:<type>', 'apply:<data>'. */
type Events = string[];

interface SyncedNode {
  readonly id: NodeId;
  readonly events: Events;
  /** Last log index known durable (synced) on this node. */
  syncedIndex: number;
  /** Async syncs waiting for the test to release them. */
  readonly held: (() => void)[];
  /** `ms` each syncNow busy-waits (a slow disk). */
  syncNowMs: number;
}

/** An in-memory SQLite log that records its syncs and when each makes the log durable. */
function recordingStorage(node: SyncedNode, voters: readonly NodeId[]): DurableStorage {
  const inner = new SqliteRaftStorage(openDatabase(':memory:'), { initialConfState: { voters: [...voters], learners: [] } });
  return Object.create(inner, {
    syncAsync: {
      value: (done: (e: Error | null) => void) => {
        const covered = inner.lastIndex();
        node.events.push('sync-async');
        node.held.push(() => {
          node.syncedIndex = Math.max(node.syncedIndex, covered);
          done(null);
        });
      },
    },
    syncNow: {
      value: () => {
        const until = performance.now() + node.syncNowMs;
        while (performance.now() < until) {
          // a slow fdatasync
        }
        node.events.push('sync-now');
        node.syncedIndex = Math.max(node.syncedIndex, inner.lastIndex());
      },
    },
  }) as DurableStorage;
}

/** Records the node's sends and flushes; checks that a follower acknowledges only what it synced. */
function recordingTransport(node: SyncedNode, inner: RaftTransport): RaftTransport {
  return {
    ...inner,
    send: (messages: readonly Message[]) => {
      for (const m of messages) {
        node.events.push(`send:${m.type}`);
        if (m.type === 'app-resp' && !m.reject && m.index > node.syncedIndex) {
          throw new Error(`${node.id} acknowledged index ${m.index} with only ${node.syncedIndex} synced`);
        }
      }
      inner.send(messages);
    },
    flushNow: () => node.events.push('flush'),
  };
}

/** Three drivers on one in-memory wire; n1 leads when it resolves. */
async function startTrio() {
  const { transport } = memoryWire();
  const voters = ['n1', 'n2', 'n3'];
  const nodes = voters.map((id) => {
    const node: SyncedNode = { id, events: [], syncedIndex: 0, held: [], syncNowMs: 0 };
    const application = {
      apply: (data: Uint8Array) => {
        node.events.push(`apply:${new TextDecoder().decode(data)}`);
        return 'ok';
      },
      restore: () => {},
      snapshotData: () => new Uint8Array(0),
    };
    const driver = untickedDriver(id, recordingStorage(node, voters), recordingTransport(node, transport(id)), application, {
      preVote: true,
      checkQuorum: true,
    });
    return { ...node, node, driver };
  });
  const settle = async (rounds = 30) => {
    for (let i = 0; i < rounds; i++) {
      for (const n of nodes) n.node.held.splice(0).forEach((release) => release());
      await new Promise((r) => setImmediate(r));
    }
  };
  for (const n of nodes) n.driver.start();
  nodes[0]!.driver.campaign();
  await settle();
  return { nodes, settle };
}

/** Resolves `promise`, checking when it does that `check()` holds. */
function answeredWhen<T>(promise: Promise<T>, check: () => void): Promise<T> {
  return promise.then((value) => {
    check();
    return value;
  });
}

describe('RaftDriver syncing small Readys on the event loop', () => {
  it('a follower syncs a lone append on the event loop and acknowledges it after; the leader answers once a majority synced', async () => {
    const { nodes, settle } = await startTrio();
    const [n1, n2, n3] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    expect(n1.driver.isLeader).toBe(true);
    for (const n of nodes) n.node.events.length = 0;
    const index = n1.driver.status().lastIndex + 1;
    const answer = answeredWhen(n1.driver.propose(new TextEncoder().encode('x')), () => {
      expect(n1.node.syncedIndex).toBeGreaterThanOrEqual(index);
      expect(Math.max(n2.node.syncedIndex, n3.node.syncedIndex)).toBeGreaterThanOrEqual(index);
    });
    await settle();
    await answer;
    // The leader: its appends leave before its own sync, which runs in the thread pool beside the followers' round trip.
    const e1 = n1.node.events;
    expect(e1.slice(0, e1.indexOf('sync-async'))).toEqual(['send:app', 'send:app']);
    expect(e1.indexOf('apply:x')).toBeGreaterThan(e1.indexOf('sync-async'));
    // A follower: its sync on the loop, then its acknowledgement, written at once.
    for (const follower of [n2, n3]) expect(follower.node.events.slice(0, 3)).toEqual(['sync-now', 'send:app-resp', 'flush']);
    for (const n of nodes) n.driver.stop();
  });

  it('a follower syncs a batch bigger than the limit in the thread pool and acknowledges it only after that sync', async () => {
    const { nodes, settle } = await startTrio();
    const [n1, n2] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    for (const n of nodes) n.node.events.length = 0;
    const big = new Uint8Array(INLINE_SYNC_BYTES_MAX + 1).fill(65);
    await Promise.all([n1.driver.propose(big), settle()]);
    expect(n2.node.events.slice(0, 2)).toEqual(['sync-async', 'send:app-resp']);
    expect(n2.node.events).not.toContain('sync-now');
    for (const n of nodes) n.driver.stop();
  });

  it('after a slow sync on the event loop, a follower syncs in the thread pool', async () => {
    const { nodes, settle } = await startTrio();
    const [n1, n2] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    n2.node.syncNowMs = INLINE_SYNC_MS_MAX + 3;
    await Promise.all([n1.driver.propose(new TextEncoder().encode('slow')), settle()]);
    expect(n2.node.events).toContain('sync-now');
    n2.node.syncNowMs = 0;
    n2.node.events.length = 0;
    await Promise.all([n1.driver.propose(new TextEncoder().encode('next')), settle()]);
    expect(n2.node.events).toContain('sync-async');
    expect(n2.node.events).not.toContain('sync-now');
    for (const n of nodes) n.driver.stop();
  });
});

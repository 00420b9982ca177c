// A read barrier (ReadIndex round) asked while the leader is dead must be
// answered by the next leader, not wait out its timeout: session resume on a
// surviving node during a failover goes through it.
import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../raft/index.ts';
import type { Message, NodeId } from '../raft/types.ts';
import { openDatabase, SqliteRaftStorage } from '../storage/index.ts';
import type { PeerTransport } from './peer-transport.ts';
import { RaftDriver, type DurableStorage } from './raft-driver.ts';

const voters = ['n1', 'n2', 'n3'];

describe('RaftDriver read barrier across a leader change', () => {
  it('a read barrier asked of a dead leader is answered by the next leader, long before its timeout', async () => {
    const wires = new Map<NodeId, (m: Message[]) => void>();
    const down = new Set<NodeId>();
    const transport = (self: NodeId): PeerTransport => ({
      send: (messages) => {
        for (const m of messages) if (!down.has(m.to) && !down.has(self)) setImmediate(() => wires.get(m.to)?.([m]));
      },
      onMessages: (h) => {
        wires.set(self, h);
        return () => wires.delete(self);
      },
      onUnreachable: () => () => {},
      stop: async () => {},
    });
    const held: (() => void)[] = [];
    const drivers = voters.map((id) => {
      const inner = new SqliteRaftStorage(openDatabase(':memory:'), { initialConfState: { voters, learners: [] } });
      const storage = Object.create(inner, {
        syncAsync: { value: (done: (e: Error | null) => void) => held.push(() => done(null)) },
      }) as DurableStorage;
      return new RaftDriver<string>({
        // No ticks (tickMs is huge): elections happen only when the test says so.
        node: createRaftNode({
          id, storage, electionTicks: 10, heartbeatTicks: 1, applied: 0, messageBytesMax: 1 << 20, inflightMessagesMax: 64,
          uncommittedBytesMax: 0, committedBytesPerReadyMax: 1 << 20, preVote: false, checkQuorum: false, random: () => 0.5,
        }),
        storage,
        transport: transport(id),
        tickMs: 1_000_000,
        snapshotEntries: 1_000_000,
        pendingProposalsMax: 100,
        application: { apply: () => 'ok', restore: () => {}, snapshotData: () => new Uint8Array(0) },
      });
    });
    const [n1, n2, n3] = drivers as [RaftDriver<string>, RaftDriver<string>, RaftDriver<string>];
    const settle = async (rounds = 30) => {
      for (let i = 0; i < rounds; i++) {
        held.splice(0).forEach((release) => release());
        await new Promise((r) => setImmediate(r));
      }
    };
    try {
      for (const d of drivers) d.start();
      n1.campaign();
      await settle();
      const proposed = n1.propose(new TextEncoder().encode('x'));
      await settle();
      await proposed;
      expect(n2.leaderId).toBe('n1');

      // The leader dies; n2 still believes in it and asks it for a read point.
      down.add('n1');
      let answered = false;
      const barrier = n2.readBarrier(60_000).then(() => (answered = true));
      await settle();
      expect(answered).toBe(false);

      // n3 is elected; n2 learns of it and must ask again.
      n3.campaign();
      await settle(60);
      expect(n2.leaderId).toBe('n3');
      expect(answered).toBe(true);
      await barrier;
    } finally {
      for (const d of drivers) await d.stop();
    }
  });
});

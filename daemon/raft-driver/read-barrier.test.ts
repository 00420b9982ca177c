// A read barrier (ReadIndex round) asked while the leader is dead must be
// answered by the next leader, not wait out its timeout: session resume on a
// surviving node during a failover goes through it.
import { describe, expect, it } from 'vitest';
import type { RaftDriver } from './raft-driver.ts';
import { heldSyncStorage, memoryWire, untickedDriver } from './driver-wire.test-support.ts';

const voters = ['n1', 'n2', 'n3'];

describe('RaftDriver read barrier across a leader change', () => {
  it('a read barrier asked of a dead leader is answered by the next leader, long before its timeout', async () => {
    const { transport, down } = memoryWire();
    const held: (() => void)[] = [];
    const application = { apply: () => 'ok', restore: () => {}, snapshotData: () => new Uint8Array(0) };
    // No ticks: elections happen only when the test says so.
    const drivers = voters.map((id) => untickedDriver(id, heldSyncStorage(voters, held), transport(id), application, { preVote: false, checkQuorum: false }));
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

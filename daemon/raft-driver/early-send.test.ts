// The driver's I/O order with peers and an asynchronous disk sync: a
// leader's appends leave while its own copy syncs, but nothing is applied
// (so nobody is answered) before that sync, and a follower acknowledges only
// what its disk holds.
import { describe, expect, it } from 'vitest';
import { heldSyncStorage, memoryWire, untickedDriver } from './driver-wire.test-support.ts';

/** Two drivers on one in-memory wire with held syncs; n1 leads when it resolves. */
async function startPair(broadcastCommit = false) {
  const { transport, sent } = memoryWire();
  const nodes = ['n1', 'n2'].map((id) => {
    const held: (() => void)[] = [];
    const applied: string[] = [];
    const application = {
      apply: (data: Uint8Array) => {
        applied.push(new TextDecoder().decode(data));
        return 'ok';
      },
      restore: () => {},
      snapshotData: () => new Uint8Array(0),
    };
    const driver = untickedDriver(id, heldSyncStorage(['n1', 'n2'], held), transport(id), application, { preVote: true, checkQuorum: true, broadcastCommit });
    return { id, driver, held, applied };
  });
  const [n1, n2] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const settle = async (rounds = 20) => {
    for (let i = 0; i < rounds; i++) {
      for (const n of nodes) n.held.splice(0).forEach((release) => release());
      await new Promise((r) => setImmediate(r));
    }
  };
  n1.driver.start();
  n2.driver.start();
  n1.driver.campaign();
  await settle();
  return { nodes, n1, n2, sent, settle };
}

describe('RaftDriver with peers and an asynchronous sync', () => {
  it("sends a leader's append before its own sync, applies only after it, and a follower acks only after its sync", async () => {
    const { n1, n2, sent, settle } = await startPair();
    expect(n1.driver.isLeader).toBe(true);

    sent.length = 0;
    let answered = false;
    const answer = n1.driver.propose(new TextEncoder().encode('x')).then(() => (answered = true));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    // The append left although the leader's sync is still held…
    expect(n1.held.length).toBeGreaterThan(0);
    expect(sent.some((m) => m.type === 'app' && m.entries.length > 0)).toBe(true);
    // …and the follower has it on disk but does not acknowledge before its own sync.
    await new Promise((r) => setImmediate(r));
    expect(sent.some((m) => m.type === 'app-resp' && m.from === 'n2')).toBe(false);
    expect(n1.applied).toEqual([]);
    expect(answered).toBe(false);
    await settle();
    await answer;
    expect(n1.applied).toEqual(['x']);
    n1.driver.stop();
    n2.driver.stop();
  });

  it('a Ready that only moves the commit index writes no transaction; the next transaction carries the commit', async () => {
    const { n1, n2, settle } = await startPair(true);
    expect(n1.driver.isLeader).toBe(true);
    const before = { readys: n2.driver.readyCount, transactions: n2.driver.transactionCount };
    await Promise.all([n1.driver.propose(new TextEncoder().encode('a')), settle()]);
    await settle();
    // The follower appended the entry (a transaction), then heard the commit (a Ready of its own, no transaction).
    expect(n2.applied).toEqual(['a']);
    expect(n2.driver.readyCount - before.readys).toBeGreaterThan(n2.driver.transactionCount - before.transactions);
    n1.driver.stop();
    n2.driver.stop();
  });

  it('a follower learns the commit with the next append, or at once when it forwarded the proposal', async () => {
    // No ticks, so no heartbeats: only appends carry the commit index.
    const { n1, n2, settle } = await startPair();
    const encode = (text: string) => new TextEncoder().encode(text);
    await Promise.all([n1.driver.propose(encode('a')), settle()]);
    await settle();
    expect(n1.applied).toEqual(['a']);
    expect(n2.applied).toEqual([]);
    // n2 waits for this one (a client of n2's forwarded it): it applies it without another append.
    await Promise.all([n1.driver.propose(encode('b'), undefined, 'n2'), settle()]);
    await settle();
    expect(n2.applied).toEqual(['a', 'b']);
    n1.driver.stop();
    n2.driver.stop();
  });
});

// The driver hands the transport's "connection closed" to the core: when the
// leader's process dies, its followers elect a new leader at once instead of
// waiting out the election timeout; a follower whose socket to a live leader
// merely dropped does not depose it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRaftNode } from '../raft/index.ts';
import { openDatabase, SqliteRaftStorage } from '../storage/index.ts';
import { memoryWire } from './driver-wire.test-support.ts';
import { RaftDriver } from './raft-driver.ts';

const IDS = ['n1', 'n2', 'n3'] as const;
/**
 * `ms` per tick, and an election timeout of 10^6–2·10^6 ticks (about 1.5–3
 * hours): no election in these tests can come from a timeout, so a new
 * leader proves the connection-closed path, however slow the machine.
 */
const TICK_MS = 5;
const ELECTION_TICKS = 1_000_000;
/** `ms` the waits below give a loaded machine; a bound on the test, not a speed claim (speed is `npm run bench -- cluster --only failover`). */
const SETTLE_MS = 20_000;

const drivers: RaftDriver<string>[] = [];
afterEach(() => {
  for (const d of drivers.splice(0)) d.stop();
});

async function threeNodes() {
  const wire = memoryWire();
  const byId = new Map<string, RaftDriver<string>>();
  for (const id of IDS) {
    const storage = new SqliteRaftStorage(openDatabase(':memory:'), { initialConfState: { voters: [...IDS], learners: [] } });
    const driver = new RaftDriver<string>({
      node: createRaftNode({
        id, storage, electionTicks: ELECTION_TICKS, heartbeatTicks: 1, applied: 0, messageBytesMax: 1 << 20, inflightMessagesMax: 64,
        uncommittedBytesMax: 0, committedBytesPerReadyMax: 1 << 20, random: () => 0.5, preVote: true, checkQuorum: true,
      }),
      storage,
      transport: wire.transport(id),
      tickMs: TICK_MS,
      snapshotEntries: 1_000_000,
      pendingProposalsMax: 100,
      application: { apply: () => 'ok', restore: () => {}, snapshotData: () => new Uint8Array(0) },
    });
    drivers.push(driver);
    byId.set(id, driver);
    driver.start();
  }
  const node = (id: string) => byId.get(id)!;
  node('n1').campaign();
  await vi.waitFor(() => expect(IDS.every((id) => node(id).leaderId === 'n1')).toBe(true), { timeout: SETTLE_MS });
  return { wire, node };
}

describe('RaftDriver when a connection to the leader closes', () => {
  it("elects a new leader within moments of the leader's process dying, not after the election timeout", async () => {
    const { wire, node } = await threeNodes();
    const term = node('n1').status().term;
    wire.down.add('n1'); // the process died: nothing more from or to it
    // TCP delivers what was sent before the reset first: let the frames already on the wire land.
    await new Promise((resolve) => setTimeout(resolve, 2 * TICK_MS));
    wire.connectionLost('n2', 'n1');
    wire.connectionLost('n3', 'n1');
    await vi.waitFor(() => expect(node('n2').isLeader || node('n3').isLeader).toBe(true), { timeout: SETTLE_MS, interval: 10 });
    const leader = node('n2').isLeader ? node('n2') : node('n3');
    expect(leader.status().term).toBe(term + 1);
  });

  it('keeps a live leader in office when one follower only lost its socket to it', async () => {
    const { wire, node } = await threeNodes();
    const term = node('n1').status().term;
    wire.connectionLost('n3', 'n1'); // a reset socket; n1 is alive and the transport reconnects
    await new Promise((resolve) => setTimeout(resolve, 40 * TICK_MS));
    await vi.waitFor(() => expect(IDS.every((id) => node(id).leaderId === 'n1')).toBe(true), { timeout: SETTLE_MS });
    expect(node('n1').isLeader).toBe(true);
    for (const id of IDS) expect(node(id).status().term).toBe(term);
  });
});

import { describe, expect, it } from 'vitest';
import { openDatabase, SqliteRaftStorage } from '../storage/index.ts';
import type { Entry } from '../raft/types.ts';
import { createRaftNode } from '../raft/index.ts';
import { NoopTransport } from './peer-transport.ts';
import { ProposalError, RaftDriver } from './raft-driver.ts';

function setup() {
  const storage = new SqliteRaftStorage(openDatabase(':memory:'), { initialConfState: { voters: ['n1'], learners: [] } });
  const applied: string[] = [];
  const driver = new RaftDriver<string>({
    node: createRaftNode({
      id: 'n1', storage, electionTicks: 10, heartbeatTicks: 1, applied: 0, messageBytesMax: 1 << 20, inflightMessagesMax: 64,
      uncommittedBytesMax: 0, committedBytesPerReadyMax: 1 << 20, preVote: true, checkQuorum: false, random: () => 0.5,
    }),
    storage,
    transport: new NoopTransport(),
    tickMs: 1000,
    snapshotEntries: 1_000_000,
    pendingProposalsMax: 100,
    application: {
      apply: (entry: Entry) => {
        const text = new TextDecoder().decode(entry.data);
        applied.push(text);
        return `applied ${text} at ${entry.index}`;
      },
      restore: () => {},
      snapshotData: () => new Uint8Array(0),
    },
  });
  return { storage, driver, applied };
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('RaftDriver', () => {
  it('proposals of one event-loop turn are persisted in one Ready (group commit), applied in order, and answered', async () => {
    const { driver, storage, applied } = setup();
    driver.campaign();
    driver.flush();
    expect(driver.isLeader).toBe(true);
    const before = driver.readyCount;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => driver.propose(enc(`c${i}`))));
    expect(driver.readyCount - before).toBe(1);
    expect(applied).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`));
    expect(results[0]).toBe('applied c0 at 2'); // index 1 is the leader's no-op
    expect(storage.lastIndex()).toBe(51);
    expect(storage.initialState().hardState.commit).toBe(51);
  });

  it('refuses proposals when it does not lead, when too many wait, and after stop()', async () => {
    const { driver } = setup();
    await expect(driver.propose(enc('x'))).rejects.toMatchObject({ code: 'NOT_LEADER' });
    driver.campaign();
    driver.flush();
    const waiting = Array.from({ length: 100 }, () => driver.propose(enc('y')));
    await expect(driver.propose(enc('z'))).rejects.toBeInstanceOf(ProposalError);
    await Promise.all(waiting);
    driver.stop();
    await expect(driver.propose(enc('w'))).rejects.toMatchObject({ code: 'STOPPED' });
  });
});

import { describe, expect, it } from 'vitest';
import { openDatabase, SqliteRaftStorage } from '../storage/index.ts';
import { createRaftNode } from '../raft/index.ts';
import { NoopTransport } from './raft-transport.ts';
import { PROPOSALS_PER_ENTRY_MAX, type LogPosition } from './proposal-batch.ts';
import { ProposalError } from './proposal-error.ts';
import { RaftDriver } from './raft-driver.ts';

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
      apply: (data: Uint8Array, at: LogPosition) => {
        const text = new TextDecoder().decode(data);
        applied.push(text);
        return `applied ${text} at ${at.index}/${at.position}`;
      },
      restore: () => {},
      snapshotData: () => new Uint8Array(0),
    },
  });
  return { storage, driver, applied };
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('RaftDriver', () => {
  it('proposals of one event-loop turn become one log entry in one Ready (group commit), applied in order, and answered', async () => {
    const { driver, storage, applied } = setup();
    driver.campaign();
    driver.flush();
    expect(driver.isLeader).toBe(true);
    const before = driver.readyCount;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => driver.propose(enc(`c${i}`))));
    expect(driver.readyCount - before).toBe(1);
    expect(applied).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`));
    // Index 1 is the leader's no-op; the 50 proposals share entry 2, each at its own position.
    const base = 2 * PROPOSALS_PER_ENTRY_MAX;
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => `applied c${i} at 2/${base + i}`));
    expect(storage.lastIndex()).toBe(2);
    expect(storage.initialState().hardState.commit).toBe(2);
  });

  it('a lone proposal is its own entry data, unwrapped, and proposals of later turns take later entries', async () => {
    const { driver, storage } = setup();
    driver.campaign();
    driver.flush();
    expect(await driver.propose(enc('alone'))).toBe(`applied alone at 2/${2 * PROPOSALS_PER_ENTRY_MAX}`);
    expect(new TextDecoder().decode(storage.entries(2, 3, 1 << 20)[0]!.data)).toBe('alone');
    expect(await driver.propose(enc('next'))).toBe(`applied next at 3/${3 * PROPOSALS_PER_ENTRY_MAX}`);
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

// Test support: RaftDrivers in one process over an in-memory wire, with disk
// syncs that complete only when the test releases them, and no ticks (tickMs
// is huge): elections and the I/O order happen only when a test says so.
import { createRaftNode } from '../raft/index.ts';
import type { Message, NodeId } from '../raft/types.ts';
import { openDatabase, SqliteRaftStorage } from '../storage/index.ts';
import type { RaftTransport } from './raft-transport.ts';
import { RaftDriver, type DurableStorage, type ReplicatedApplication } from './raft-driver.ts';

/** An in-memory SQLite log of a cluster of `voters` whose syncs wait in `held` until the test calls them. */
export function heldSyncStorage(voters: readonly NodeId[], held: (() => void)[]): DurableStorage {
  const inner = new SqliteRaftStorage(openDatabase(':memory:'), { initialConfState: { voters: [...voters], learners: [] } });
  return Object.create(inner, {
    syncAsync: { value: (done: (e: Error | null) => void) => held.push(() => done(null)) },
  }) as DurableStorage;
}

/**
 * One in-memory wire: `transport(self)` delivers each message on a later
 * turn, drops those to or from a node in `down`, and records every message
 * sent in `sent`; `connectionLost(self, peer)` tells `self` its connection
 * to `peer` closed, as a socket reset would.
 */
export function memoryWire(): {
  transport: (self: NodeId) => RaftTransport;
  down: Set<NodeId>;
  sent: Message[];
  connectionLost: (self: NodeId, peer: NodeId) => void;
} {
  const wires = new Map<NodeId, (m: Message[]) => void>();
  const lostHandlers = new Map<NodeId, (peer: NodeId) => void>();
  const down = new Set<NodeId>();
  const sent: Message[] = [];
  const transport = (self: NodeId): RaftTransport => ({
    send: (messages) => {
      sent.push(...messages);
      for (const m of messages) if (!down.has(m.to) && !down.has(self)) setImmediate(() => wires.get(m.to)?.([m]));
    },
    onMessages: (h) => {
      wires.set(self, h);
      return () => wires.delete(self);
    },
    onUnreachable: () => () => {},
    onConnectionLost: (h) => {
      lostHandlers.set(self, h);
      return () => lostHandlers.delete(self);
    },
    stop: async () => {},
  });
  return { transport, down, sent, connectionLost: (self, peer) => lostHandlers.get(self)?.(peer) };
}

/** A driver that never ticks on its own, over `storage` and `transport`. */
export function untickedDriver(
  id: NodeId,
  storage: DurableStorage,
  transport: RaftTransport,
  application: ReplicatedApplication<string>,
  options: { preVote: boolean; checkQuorum: boolean; broadcastCommit?: boolean },
): RaftDriver<string> {
  return new RaftDriver<string>({
    node: createRaftNode({
      id, storage, electionTicks: 10, heartbeatTicks: 1, applied: 0, messageBytesMax: 1 << 20, inflightMessagesMax: 64,
      uncommittedBytesMax: 0, committedBytesPerReadyMax: 1 << 20, random: () => 0.5, ...options,
    }),
    storage,
    transport,
    tickMs: 1_000_000,
    snapshotEntries: 1_000_000,
    pendingProposalsMax: 100,
    application,
  });
}

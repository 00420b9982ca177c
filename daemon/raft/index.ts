// Floe's Raft core: pure, deterministic, driven through step/tick/ready/advance.
//
// What a driver (daemon, simulator) must do, beyond the order in Ready
// (persist snapshot, entries and hard state → send → apply → advance):
// - Bootstrap: every founding member's storage starts with the cluster's
//   membership as a snapshot at index 0 (new MemoryStorage(confState)). A node
//   added later may start empty; it asks the leader for that snapshot.
// - On restart pass `applied`; membership changes up to it are replayed, the
//   rest come back as committed entries. Call applyConfChange() for every
//   committed conf-change entry while applying it.
// - Call reportSnapshot(id, ok) for every 'snap' message sent, and
//   reportUnreachable(id) when the transport cannot reach a peer, and
//   reportConnectionLost(id) when an open connection to a peer closes.
// - Reads: readIndex(context) is answered by a ReadState once leadership is
//   confirmed; it is dropped without an answer when there is no leader or
//   leadership changes, so the driver times out and retries.
// - Storage that went backwards: a driver that finds at start that the
//   storage lost what this member acknowledged (its database gone, another
//   in its place) writes HardState.rejoining before creating the node; the
//   core then neither votes nor counts until the leader confirms it. The
//   core finds a rewound log by itself (a leader's commit beyond it) and
//   sets the flag in a Ready's hard state, like term and vote: persist it.
export * from './types.ts';
export { createRaftNode } from './raw-node.ts';
export { MemoryStorage, entryBytes, ENTRY_OVERHEAD_BYTES } from './memory-storage.ts';

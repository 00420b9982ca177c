// Floe's Raft core: pure, deterministic, driven through step/tick/ready/advance.
export * from './types.ts';
export { createRaftNode } from './raft.ts';
export { MemoryStorage, entryBytes, ENTRY_OVERHEAD_BYTES } from './memory-storage.ts';

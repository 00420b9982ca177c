// Placeholder until the core lands: the factory's signature is the contract.
import type { RaftConfig, RaftNode } from './types.ts';

/** Creates a Raft node from its config and the state in config.storage. */
export function createRaftNode(config: RaftConfig): RaftNode {
  throw new Error(`raft core not implemented yet (node ${config.id})`);
}

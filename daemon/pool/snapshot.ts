// Snapshot encoding of the pool state.
import type { PoolState } from './pool-state.ts';

/** Encodes `state` deterministically: replicas with equal state give equal bytes. */
export function encodeSnapshot(state: PoolState): Uint8Array {
  void state;
  throw new Error('not implemented yet');
}

/** Rebuilds a state from `encodeSnapshot` bytes. */
export function decodeSnapshot(bytes: Uint8Array): PoolState {
  void bytes;
  throw new Error('not implemented yet');
}

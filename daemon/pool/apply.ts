// apply(state, command, index): the seat-pool state machine's one transition.
import type { PoolCommand } from './commands.ts';
import type { PoolState } from './pool-state.ts';
import type { ApplyResult } from './results.ts';

/**
 * Applies `command`, the log entry at `index`, to `state` in place and returns
 * the reply to its proposer and the events for other clients.
 * `index`: the entry's Raft log index, > the previous applied index; it becomes
 * the fencing token of any lease granted by this command.
 */
export function apply(state: PoolState, command: PoolCommand, index: number): ApplyResult {
  void state;
  void command;
  void index;
  throw new Error('not implemented yet');
}

// Majority arithmetic over a set of voters: the index a majority has, and the
// outcome of an election. Kept apart so the rules are stated once.

/** Votes needed to win among `voterCount` voters. */
export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest index that a majority of `voters` have matched; 0 with no voters.
 * Sorting a handful of voters per call is cheaper than keeping an order.
 */
export function majorityIndex(voters: readonly string[], matchOf: (id: string) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[quorumSize(voters.length) - 1]!;
}

/** Outcome of an election so far. */
export type VoteResult = 'won' | 'lost' | 'pending';

/** Whether `votes` (granted or rejected per voter) decide an election among `voters`. */
export function voteResult(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteResult {
  const quorum = quorumSize(voters.length);
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}

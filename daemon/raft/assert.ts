// Programmer-error checks for the Raft core. A failed assert means the core or
// its driver broke an invariant: crash loudly rather than limp on with a log
// that may disagree with the cluster's.

/** Throws when `condition` is false; for programmer errors only, never for input from peers. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`raft assertion failed: ${message}`);
}

/** Exhaustiveness check for switches over unions. */
export function unreachable(value: never): never {
  throw new Error(`raft assertion failed: unexpected ${JSON.stringify(value)}`);
}

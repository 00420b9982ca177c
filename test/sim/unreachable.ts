// The exhaustiveness check at the end of every switch over a union in the
// simulator (events, fault actions, messages): a missing case fails to
// compile, and a value no case knows fails loudly at run time.

/** Throws: `value` is of no case the switch knows. */
export function unreachable(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

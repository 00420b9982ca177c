// Programmer-error checks for the seat pool (TIGER_STYLE): a broken
// precondition of a table or heap operation crashes the test or the apply
// that broke it, instead of looping forever or silently miscounting seats.
// Never used for input from clients or the log: those get error codes.

/**
 * Throws `assert: message` when `condition` is false; for programmer errors
 * only. Pass a constant `message` on hot paths: a template literal would be
 * built on every call, not only on failure.
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`assert: ${message}`);
}

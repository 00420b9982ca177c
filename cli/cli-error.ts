// The refusals of the `floe` admin commands and their exit codes. A script
// tells the cases apart by exit code alone, and reads the stable
// UPPER_CASE code from stderr (`CODE: sentence`) or from `--json`'s
// {"error":{"code","message"}}.

/** Exit codes of the admin commands (docs/cli.md). */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The server (or the file) refused: the code says why; retrying the same thing will not help. */
  refused: 1,
  /** The command line is wrong (BAD_REQUEST): nothing was sent. */
  usage: 2,
  /** No answer, or no leader now (UNAVAILABLE): retry later or ask another server. */
  unavailable: 3,
  /** The token is missing, wrong or lacks the role (UNAUTHORIZED, FORBIDDEN). */
  auth: 4,
} as const;

/** The exit code of an error code. */
export function exitCodeOf(code: string): number {
  if (code === 'BAD_REQUEST') return EXIT.usage;
  // MEMBER_CATCHING_UP: a member added as a learner is not a voter yet; adding it again later finishes.
  if (code === 'UNAVAILABLE' || code === 'MEMBER_CATCHING_UP') return EXIT.unavailable;
  if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') return EXIT.auth;
  return EXIT.refused;
}

/** A refusal: printed as `CODE: message`, exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  /**
   * The refusal came after the request was sent again (the cluster answered
   * UNAVAILABLE first): a first attempt may have been applied, so "already
   * exists" or "not found" may mean it was.
   */
  afterRetry = false;
  constructor(
    readonly code: string,
    message: string,
    exitCode?: number,
  ) {
    super(message);
    this.exitCode = exitCode ?? exitCodeOf(code);
  }
}

/** A mistake on the command line (exit 2; the usage is printed after it). */
export function usageError(message: string): CliError {
  return new CliError('BAD_REQUEST', message, EXIT.usage);
}

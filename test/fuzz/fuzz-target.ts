// A fuzz target: one parser of outside bytes and the property every input
// must keep ("answers an error code, never throws"). The same targets run in
// `npm test` with a bounded count (fuzz.test.ts) and for as long as asked in
// `npm run fuzz -- --seconds N` (main.ts). A failure reports its shrunk
// counterexample and the seed that replays it (`--seed S --target NAME`).
import fc from 'fast-check';

/** A property ready to run, and what releases the resources it opened. */
export interface OpenTarget {
  // `any`: the runner never looks inside the generated values, whatever their type.
  readonly property: fc.IRawProperty<any>;
  /** Releases what open() created (a node, temp dirs). */
  readonly close: () => Promise<void>;
}

/** One parser under fuzz. */
export interface FuzzTarget {
  /** Kebab-case name, as `--target NAME` takes it. */
  readonly name: string;
  /** What the property states, as a sentence (the test's name). */
  readonly claim: string;
  /** Runs per target in `npm test`: bounded so the suite stays fast. */
  readonly runsInTest: number;
  /** Builds the property (and whatever it runs against). */
  readonly open: () => Promise<OpenTarget>;
}

/** What one run of a target found. */
export interface FuzzOutcome {
  readonly target: string;
  /** Inputs tried (up to and including the failing one). */
  readonly runs: number;
  /** 0, or 1 when the property failed (fast-check stops at the first failure and shrinks it). */
  readonly failures: number;
  /** Replays this run: `npm run fuzz -- --target NAME --seed S`. */
  readonly seed: number;
  /** The shrunk failing input, printed; absent when none failed. */
  readonly counterexample?: string;
  /** What the failing input made the parser do (the thrown error or the broken expectation). */
  readonly error?: string;
  /** fast-check's path to the counterexample (with the seed, replays it without shrinking again). */
  readonly path?: string;
}

/** How long or how often to run a target. */
export interface RunBudget {
  /** Inputs to try; default: as many as fit `timeMs`, else the target's runsInTest. */
  readonly runs?: number;
  /** `ms` to keep generating inputs (shrinking a failure may take longer). */
  readonly timeMs?: number;
  readonly seed?: number;
  readonly path?: string;
}

/** Longest counterexample printed, characters (a 20,000-level nest is elided in the middle). */
const COUNTEREXAMPLE_CHARS_MAX = 2000;

/** Runs `target` within `budget`; never throws for a failing property (that is the outcome's `failures`). */
export async function runTarget(target: FuzzTarget, budget: RunBudget = {}): Promise<FuzzOutcome> {
  const opened = await target.open();
  try {
    const seed = budget.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
    const details = await fc.check(opened.property, {
      seed,
      numRuns: budget.runs ?? (budget.timeMs !== undefined ? Number.MAX_SAFE_INTEGER : target.runsInTest),
      ...(budget.path !== undefined ? { path: budget.path } : {}),
      ...(budget.timeMs !== undefined ? { plugins: [fc.interruptAfterTimeLimit(budget.timeMs)] } : {}),
    });
    if (!details.failed || details.counterexample === null) {
      return { target: target.name, runs: details.numRuns, failures: details.failed ? 1 : 0, seed: details.seed };
    }
    return {
      target: target.name,
      runs: details.numRuns,
      failures: 1,
      seed: details.seed,
      counterexample: elide(fc.stringify(details.counterexample)),
      error: elide(describeError(details.errorInstance)),
      ...(details.counterexamplePath !== null ? { path: details.counterexamplePath } : {}),
    };
  } finally {
    await opened.close();
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function elide(text: string): string {
  if (text.length <= COUNTEREXAMPLE_CHARS_MAX) return text;
  const half = COUNTEREXAMPLE_CHARS_MAX / 2;
  return `${text.slice(0, half)} …(${text.length - COUNTEREXAMPLE_CHARS_MAX} characters)… ${text.slice(-half)}`;
}

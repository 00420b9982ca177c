// `npm run fuzz -- [--seconds N] [--target NAME] [--seed S] [--path P]`:
// runs every fuzz target (or one) for N seconds each (default 10), prints a
// line per target as it finishes and, last, one JSON object:
//   {"fuzz":{"seconds":N,"runs":…,"failures":0,"targets":[{"target","runs","failures","seed"}]}}
// A failure prints its shrunk counterexample and the seed (and path) that
// replays it, and the exit code is 1.
import process from 'node:process';
import { parseArgs } from 'node:util';
import { runTarget, type FuzzOutcome } from './fuzz-target.ts';
import { FUZZ_TARGETS } from './fuzz-targets.ts';

const USAGE = 'usage: npm run fuzz -- [--seconds N] [--target NAME] [--seed S] [--path P]';
/** Seconds per target when --seconds is not given. */
const SECONDS_DEFAULT = 10;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { seconds: { type: 'string' }, target: { type: 'string' }, seed: { type: 'string' }, path: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`BAD_REQUEST: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\ntargets: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}\n`);
    return 0;
  }
  const seconds = values.seconds === undefined ? SECONDS_DEFAULT : Number(values.seconds);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (!(seconds > 0) || (seed !== undefined && !Number.isInteger(seed))) {
    process.stderr.write(`BAD_REQUEST: --seconds takes a positive number and --seed an integer\n${USAGE}\n`);
    return 2;
  }
  const targets = values.target === undefined ? FUZZ_TARGETS : FUZZ_TARGETS.filter((t) => t.name === values.target);
  if (targets.length === 0) {
    process.stderr.write(`BAD_REQUEST: no target ${values.target}; targets: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  const outcomes: FuzzOutcome[] = [];
  for (const target of targets) {
    const outcome = await runTarget(target, {
      timeMs: seconds * 1000,
      ...(seed !== undefined ? { seed } : {}),
      ...(values.path !== undefined ? { path: values.path } : {}),
    });
    outcomes.push(outcome);
    process.stdout.write(`${target.name}: ${outcome.runs} inputs, ${outcome.failures} failures (seed ${outcome.seed})\n`);
    if (outcome.failures > 0) {
      process.stdout.write(`  counterexample: ${outcome.counterexample ?? '(none)'}\n  error: ${outcome.error ?? '(none)'}\n`);
      process.stdout.write(`  replay: npm run fuzz -- --target ${target.name} --seed ${outcome.seed}${outcome.path !== undefined ? ` --path ${outcome.path}` : ''}\n`);
    }
  }
  const failures = outcomes.reduce((n, o) => n + o.failures, 0);
  const summary = {
    fuzz: {
      seconds,
      runs: outcomes.reduce((n, o) => n + o.runs, 0),
      failures,
      targets: outcomes.map((o) => ({ target: o.target, runs: o.runs, failures: o.failures, seed: o.seed, ...(o.counterexample !== undefined ? { counterexample: o.counterexample, error: o.error } : {}) })),
    },
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);

// `npm run sim`: the deterministic simulator's command line.
//
//   npm run sim -- --seeds N [--start S] [--nodes 3|5] [--app hash|pool|mix] [--fail-fast] [--joiners empty|initial|random]
//       runs seeds S..S+N-1 (--app: the replicated application, default hash;
//       pool runs daemon/pool's seat pool; mix runs the pool on even seeds); prints each violation's seed as it is found and,
//       last, one JSON line {"seeds":N,"violations":0,...}; exits 1 on any violation.
//   SEED=s npm run sim [-- --nodes 5] [--trace]
//       replays one seed exactly; --trace prints every event.
//   Every node runs daemon/raft-driver's RaftDriver (the production I/O loop)
//   on a virtual event loop and an asynchronously syncing disk (driver-node.ts).
//   npm run sim -- --driver sim [...]
//       runs the simulator's own small synchronous driver (sim-node.ts)
//       instead: ~2.5x faster, for long sweeps of the Raft core alone.
//   npm run sim -- --disk-faults wipe|rewind|both [--no-guard] [...]
//       adds storage faults: a node's disk wiped (identity kept), an older
//       copy of a node's disk put back; --no-guard runs without the rejoin
//       guard (RaftConfig.rejoinGuard false), to show what it prevents.
//   npm run sim -- --liveness N [--nodes 3|5]
//       N calm runs, each crashing its leader once: time to a new leader,
//       p50/p99 in election timeouts.
import { performance } from 'node:perf_hooks';
import { runSimAsync } from './cluster-sim.ts';
import type { SimOptions } from './sim-options.ts';
import type { DiskFaultStats, DriverStats, SimResult } from './sim-result.ts';
import type { PoolStats } from './pool-clients.ts';
import { ELECTION_TIMEOUT_US } from './scenario.ts';

interface Args {
  seeds: number;
  start: number;
  nodes: 3 | 5;
  liveness: number;
  trace: boolean;
  failFast: boolean;
  joiners: 'empty' | 'initial' | 'random';
  app: 'hash' | 'pool' | 'mix';
  driver: 'sim' | 'real';
  diskFaults: NonNullable<SimOptions['diskFaults']>;
  guard: boolean;
  /** A crashed node's peers hear its connections close (SimOptions.connectionLost); --no-connection-lost turns it off. */
  connectionLost: boolean;
}

/** The options of `args` every run of a seed shares. */
function runOptions(args: Args, seed: number): SimOptions {
  return {
    seed,
    nodes: args.nodes,
    joiners: args.joiners,
    app: appOf(args, seed),
    driver: args.driver,
    ...(args.diskFaults !== 'none' ? { diskFaults: args.diskFaults } : {}),
    ...(!args.guard ? { rejoinGuard: false } : {}),
    ...(args.connectionLost ? {} : { connectionLost: false }),
  };
}

/** The application seed `seed` runs under `--app`. */
function appOf(args: Args, seed: number): 'hash' | 'pool' {
  if (args.app === 'mix') return seed % 2 === 0 ? 'pool' : 'hash';
  return args.app;
}

/** Lines of trace shown before a violation. */
const TRACE_TAIL_LINES = 60;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seeds: 0, start: 1, nodes: 3, liveness: 0, trace: false, failFast: false, joiners: 'random', app: 'hash', driver: 'real', diskFaults: 'none', guard: true, connectionLost: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) usage(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--seeds') args.seeds = value();
    else if (a === '--start') args.start = value();
    else if (a === '--liveness') args.liveness = value();
    else if (a === '--trace') args.trace = true;
    else if (a === '--fail-fast') args.failFast = true;
    else if (a === '--no-guard') args.guard = false;
    else if (a === '--connection-lost') args.connectionLost = true; // the default; kept so older replay commands run
    else if (a === '--no-connection-lost') args.connectionLost = false;
    else if (a === '--disk-faults') {
      const f = argv[++i];
      if (f !== 'none' && f !== 'wipe' && f !== 'rewind' && f !== 'both') usage('--disk-faults takes none, wipe, rewind or both');
      args.diskFaults = f;
    }
    else if (a === '--app') {
      const p = argv[++i];
      if (p !== 'hash' && p !== 'pool' && p !== 'mix') usage('--app takes hash, pool or mix');
      args.app = p;
    } else if (a === '--driver') {
      const d = argv[++i];
      if (d !== 'sim' && d !== 'real') usage('--driver takes sim or real');
      args.driver = d;
    } else if (a === '--joiners') {
      const j = argv[++i];
      if (j !== 'empty' && j !== 'initial' && j !== 'random') usage('--joiners takes empty, initial or random');
      args.joiners = j;
    }
    else if (a === '--nodes') {
      const n = value();
      if (n !== 3 && n !== 5) usage('--nodes takes 3 or 5');
      args.nodes = n;
    } else usage(`unknown argument ${a}`);
  }
  return args;
}

function usage(problem: string): never {
  process.stderr.write(
    `sim: ${problem}\nusage: npm run sim -- --seeds N [--start S] [--nodes 3|5] [--app hash|pool|mix] [--driver sim|real] [--fail-fast] [--joiners empty|initial|random] [--disk-faults none|wipe|rewind|both] [--no-guard] [--no-connection-lost]\n       SEED=s npm run sim [-- --app pool] [--driver real] [--trace]\n       npm run sim -- --liveness N [--nodes 3|5]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const seedEnv = process.env['SEED'];
  if (seedEnv !== undefined && seedEnv !== '') {
    const seed = Number(seedEnv);
    if (!Number.isInteger(seed)) usage(`SEED must be an integer, not ${seedEnv}`);
    process.exit((await replay(seed, args)) ? 0 : 1);
  }
  if (args.liveness > 0) {
    process.exit((await liveness(args)) ? 0 : 1);
  }
  process.exit((await runSeeds(args.seeds > 0 ? args.seeds : 100, args)) ? 0 : 1);
}

/** Replays one seed; with --trace prints every event. */
async function replay(seed: number, args: Args): Promise<boolean> {
  const started = performance.now();
  const result = await runSimAsync({
    ...runOptions(args, seed),
    ...(args.trace ? { trace: (line: string) => process.stdout.write(`${line}\n`) } : {}),
  });
  const wallMs = Math.round(performance.now() - started);
  if (result.violation !== undefined) await reportViolation(result, args, !args.trace);
  process.stdout.write(`${JSON.stringify({ seed, nodes: args.nodes, app: appOf(args, seed), driver: args.driver, ...diskArgs(args), violations: result.violation === undefined ? 0 : 1, ...summary(result), wallMs })}\n`);
  return result.violation === undefined;
}

async function runSeeds(count: number, args: Args): Promise<boolean> {
  const started = performance.now();
  let violations = 0;
  let virtualUs = 0;
  let events = 0;
  let messages = 0;
  let crashes = 0;
  let writes = 0;
  let reads = 0;
  let confChanges = 0;
  let checks = 0;
  let seedsRun = 0;
  let poolSeeds = 0;
  const pool: PoolStats = {
    seats: 0, grants: 0, grantsFromQueue: 0, queued: 0, denials: 0, checkins: 0, revoked: 0, endedWithSession: 0,
    sessionsOpened: 0, sessionsLost: 0, expires: 0, graces: 0, retries: 0, snapshotsCompared: 0,
    borrows: 0, returns: 0, borrowEnds: 0, borrowDenials: 0, policies: 0, policyRefusals: 0,
  };
  const driver: DriverStats = { proposalsResolved: 0, batchedEntries: 0, batchedProposals: 0, transactionsLost: 0, ackedChecked: 0 };
  const disk: DiskFaultStats = { wipes: 0, copiesTaken: 0, copiesPutBack: 0, rejoinsStarted: 0, rejoinsConfirmed: 0 };
  const failedSeeds: number[] = [];
  const leaderAfterHealMs: number[] = [];
  for (let seed = args.start; seed < args.start + count; seed++) {
    const result = await runSimAsync(runOptions(args, seed));
    seedsRun++;
    if (result.disk !== undefined) for (const k of Object.keys(disk) as (keyof DiskFaultStats)[]) disk[k] += result.disk[k];
    if (result.driver !== undefined) for (const k of Object.keys(driver) as (keyof DriverStats)[]) driver[k] += result.driver[k];
    if (result.pool !== undefined) {
      poolSeeds++;
      for (const k of Object.keys(pool) as (keyof PoolStats)[]) pool[k] += result.pool[k];
    }
    virtualUs += result.virtualUs;
    events += result.events;
    messages += result.messagesSent;
    crashes += result.crashes;
    writes += result.writesAcked;
    reads += result.readsServed;
    confChanges += result.confChanges;
    checks += result.checks;
    if (result.leaderAfterHealUs !== undefined) leaderAfterHealMs.push(result.leaderAfterHealUs / 1000);
    if (result.violation !== undefined) {
      violations++;
      if (failedSeeds.length < 100) failedSeeds.push(seed);
      await reportViolation(result, args, true);
      if (args.failFast) break;
    }
    if (seedsRun % 1000 === 0) {
      process.stderr.write(`sim: ${seedsRun}/${count} seeds, ${violations} violations, ${Math.round(performance.now() - started)} ms\n`);
    }
  }
  const wallMs = Math.round(performance.now() - started);
  leaderAfterHealMs.sort((a, b) => a - b);
  const out = {
    seeds: seedsRun,
    violations,
    ...(failedSeeds.length > 0 ? { firstFailedSeed: failedSeeds[0], failedSeeds } : {}),
    nodes: args.nodes,
    app: args.app,
    driver: args.driver,
    ...diskArgs(args),
    startSeed: args.start,
    virtualSeconds: Math.round(virtualUs / 1e4) / 100,
    events,
    messages,
    crashes,
    writesAcked: writes,
    readsServed: reads,
    confChanges,
    invariantChecks: checks,
    leaderAfterHealP50Ms: percentile(leaderAfterHealMs, 0.5),
    leaderAfterHealP99Ms: percentile(leaderAfterHealMs, 0.99),
    ...(poolSeeds > 0 ? { poolSeeds, pool: { ...pool, seats: undefined } } : {}),
    ...(args.driver === 'real' ? { realDriver: driver } : {}),
    ...(args.diskFaults !== 'none' ? { disk } : {}),
    wallMs,
    eventsPerSec: Math.round(events / (wallMs / 1000)),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return violations === 0;
}

async function liveness(args: Args): Promise<boolean> {
  const started = performance.now();
  const elected: number[] = [];
  const followed: number[] = [];
  let violations = 0;
  for (let seed = args.start; seed < args.start + args.liveness; seed++) {
    const result = await runSimAsync({ seed, nodes: args.nodes, mode: 'liveness', driver: args.driver });
    if (result.violation !== undefined) {
      violations++;
      await reportViolation(result, args, true, 'liveness');
      continue;
    }
    if (result.electedAfterCrashUs !== undefined) elected.push(result.electedAfterCrashUs / ELECTION_TIMEOUT_US);
    if (result.followedAfterCrashUs !== undefined) followed.push(result.followedAfterCrashUs / ELECTION_TIMEOUT_US);
  }
  elected.sort((a, b) => a - b);
  followed.sort((a, b) => a - b);
  const et = ELECTION_TIMEOUT_US / 1000;
  process.stdout.write(
    `after a leader crash (${args.liveness} seeds, ${args.nodes} nodes, election timeout ${et} ms):\n` +
      `  new leader elected:        p50 ${fmt(percentile(elected, 0.5))} ET, p99 ${fmt(percentile(elected, 0.99))} ET, max ${fmt(elected[elected.length - 1] ?? NaN)} ET\n` +
      `  new leader followed by all: p50 ${fmt(percentile(followed, 0.5))} ET, p99 ${fmt(percentile(followed, 0.99))} ET, max ${fmt(followed[followed.length - 1] ?? NaN)} ET\n`,
  );
  const out = {
    liveness: args.liveness,
    nodes: args.nodes,
    violations,
    electionTimeoutMs: et,
    electedP50ET: round2(percentile(elected, 0.5)),
    electedP99ET: round2(percentile(elected, 0.99)),
    electedMaxET: round2(elected[elected.length - 1] ?? NaN),
    followedP50ET: round2(percentile(followed, 0.5)),
    followedP99ET: round2(percentile(followed, 0.99)),
    followedMaxET: round2(followed[followed.length - 1] ?? NaN),
    wallMs: Math.round(performance.now() - started),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return violations === 0;
}

/** Prints a violation, its seed, how to replay it and the last events before it (by replaying with a trace). */
async function reportViolation(result: SimResult, args: Args, withTail: boolean, mode: 'chaos' | 'liveness' = 'chaos'): Promise<void> {
  const v = result.violation!;
  const lines: string[] = [];
  if (withTail) {
    await runSimAsync({
      ...runOptions(args, result.seed),
      mode,
      trace: (line) => {
        lines.push(line);
        if (lines.length > TRACE_TAIL_LINES * 2) lines.splice(0, lines.length - TRACE_TAIL_LINES);
      },
    });
  }
  const tail = lines.slice(-TRACE_TAIL_LINES);
  const replayCmd = `SEED=${result.seed} npm run sim --${args.nodes === 5 ? ' --nodes 5' : ''}${args.joiners !== 'random' ? ` --joiners ${args.joiners}` : ''}${appOf(args, result.seed) === 'pool' ? ' --app pool' : ''}${args.driver === 'sim' ? ' --driver sim' : ''}${args.diskFaults !== 'none' ? ` --disk-faults ${args.diskFaults}` : ''}${args.guard ? '' : ' --no-guard'}${args.connectionLost ? '' : ' --no-connection-lost'} --trace${mode === 'liveness' ? '   (liveness mode: rerun with --liveness 1 --start ' + result.seed + ')' : ''}`;
  process.stderr.write(
    `\nVIOLATION seed ${result.seed} (${args.nodes} nodes) at ${(v.atUs / 1000).toFixed(3)} ms, event #${v.event}\n  ${v.message}\n  replay: ${replayCmd}\n` +
      (tail.length > 0 ? `  last ${tail.length} events:\n${tail.map((l) => `    ${l}`).join('\n')}\n` : ''),
  );
}

function summary(r: SimResult): Record<string, unknown> {
  return {
    ...(r.violation !== undefined ? { violation: r.violation.kind } : {}),
    virtualSeconds: r.virtualUs / 1e6,
    events: r.events,
    messages: r.messagesSent,
    crashes: r.crashes,
    writesAcked: r.writesAcked,
    readsServed: r.readsServed,
    committedIndex: r.committedIndex,
    leaderTermMax: r.leaderTermMax,
    confChanges: r.confChanges,
    ...(r.leaderAfterHealUs !== undefined ? { leaderAfterHealMs: r.leaderAfterHealUs / 1000 } : {}),
    traceHash: r.traceHash,
    ...(r.pool !== undefined ? { pool: r.pool } : {}),
    ...(r.driver !== undefined ? { realDriver: r.driver } : {}),
    ...(r.disk !== undefined ? { disk: r.disk } : {}),
  };
}

/** The storage-fault arguments, for the JSON lines (absent when off). */
function diskArgs(args: Args): Record<string, unknown> {
  return args.diskFaults === 'none' ? {} : { diskFaults: args.diskFaults, guard: args.guard };
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function fmt(x: number): string {
  return x.toFixed(2);
}

await main();

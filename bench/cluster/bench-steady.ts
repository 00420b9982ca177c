// Cluster bench, steady: a long run of load at 100 clients, counting the
// leader changes every node's /health shows meanwhile (goal: none).
import { argNumber, WARMUP_MS, write, type Context } from './context.ts';
import { LeaderWatch, LEADER_POLL_MS } from './leader-watch.ts';
import type { RunFigures } from './load-worker.ts';

export async function benchSteady(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const durationMs = argNumber(args, '--steady-seconds', 60, 5, 600) * 1000;
  const urls = site.nodes.map((n) => n.clientUrl);
  const leader0 = await site.leader();
  write(`steady: ${durationMs / 1000} s of load at 100 clients through three nodes; leader and term of every node polled every ${LEADER_POLL_MS} ms (leader ${leader0})`);
  const watch = await LeaderWatch.start(site);
  // Sessions placed as the SDK places them by default: on the leader (preferLeader).
  const f = await worker.call<RunFigures>({ cmd: 'throughput', urls, clients: 100, durationMs, warmupMs: WARMUP_MS, hello: true, prefix: ctx.prefix(), followLeader: true });
  const leaders = await watch.stop();
  write(
    `  ${f.requestsPerSec.toLocaleString('en-US')} requests/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, errors ${f.errors}; ` +
      `leader changes ${leaders.leaderChanges} (term changes ${leaders.termChanges}; leaders seen ${leaders.seen.join(' → ')}; ${leaders.polls} polls) (goal 0)`,
  );
  if (f.errorSamples.length > 0) write(`  first errors: ${f.errorSamples.join(' | ')}`);
  out['steadySeconds'] = durationMs / 1000;
  out['steadyRequestsPerSec'] = f.requestsPerSec;
  out['steadyP99Ms'] = f.p99Ms;
  out['steadyErrors'] = f.errors;
  out['leaderChanges'] = leaders.leaderChanges;
  out['termChanges'] = leaders.termChanges;
}

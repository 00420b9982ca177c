// Cluster bench, steady: a long run of load at 100 clients, counting the
// leader changes every node's /health shows meanwhile (goal: none).
import { sleep } from '../figures.ts';
import { healthOf } from '../../test/cluster/site-tools.ts';
import { argNumber, WARMUP_MS, write, type Context } from './context.ts';
import type { RunFigures } from './load-worker.ts';

export async function benchSteady(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const durationMs = argNumber(args, '--steady-seconds', 60, 5, 600) * 1000;
  const urls = site.nodes.map((n) => n.clientUrl);
  const leader0 = await site.leader();
  const terms0 = await Promise.all(site.nodes.map((n) => healthOf(site, n.id)));
  write(`steady: ${durationMs / 1000} s of load at 100 clients through three nodes; leader and term of every node polled every 250 ms (leader ${leader0}, term ${terms0[0]?.term})`);
  let polling = true;
  const seen: string[] = [];
  let lastView = '';
  let polls = 0;
  const poller = (async () => {
    while (polling) {
      const views = await Promise.all(site.nodes.map((n) => healthOf(site, n.id)));
      polls++;
      for (const v of views) {
        if (v === null || v.leaderId === '') continue;
        const view = `${v.term}:${v.leaderId}`;
        if (!seen.includes(view)) seen.push(view);
      }
      const leaders = views.map((v) => (v === null ? '-' : `${v.role}@${v.term}`)).join(',');
      if (leaders !== lastView) lastView = leaders;
      await sleep(250);
    }
  })();
  const f = await worker.call<RunFigures>({ cmd: 'throughput', urls, clients: 100, durationMs, warmupMs: WARMUP_MS, hello: true, prefix: ctx.prefix() });
  polling = false;
  await poller;
  const terms1 = await Promise.all(site.nodes.map((n) => healthOf(site, n.id)));
  const termChanges = Math.max(...terms1.map((t) => t?.term ?? 0)) - Math.max(...terms0.map((t) => t?.term ?? 0));
  const leaderChanges = seen.length - 1;
  write(
    `  ${f.requestsPerSec.toLocaleString('en-US')} requests/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, errors ${f.errors}; ` +
      `leader changes ${leaderChanges} (term changes ${termChanges}; leaders seen ${seen.join(' → ')}; ${polls} polls) (goal 0)`,
  );
  if (f.errorSamples.length > 0) write(`  first errors: ${f.errorSamples.join(' | ')}`);
  out['steadySeconds'] = durationMs / 1000;
  out['steadyRequestsPerSec'] = f.requestsPerSec;
  out['steadyP99Ms'] = f.p99Ms;
  out['steadyErrors'] = f.errors;
  out['leaderChanges'] = leaderChanges;
  out['termChanges'] = termChanges;
}

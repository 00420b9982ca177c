// `npm run bench -- cluster [--only throughput,steady,failover,sessions]`:
// the cluster issue's figures on three `floe serve` processes on loopback
// (test/cluster's ClusterSite: identities, a redundant license, configs).
//
// - throughput: durable checkout+checkin requests/s and p50/p99 latency with
//   10, 100 and 1,000 raw-protocol clients spread over the three nodes, and a
//   bare ws echo server (its own process) driven by the same clients in the
//   same run, with the ratio. Goal: ≥ 20,000 requests/s at 100 clients.
// - steady: 60 s of load at 100 clients; leader changes counted from every
//   node's /health (term and leaderId) polled every 250 ms. Goal: zero.
// - failover: 20 trials of light SDK load, SIGKILL the leader, time to the
//   first successful checkout sent after the kill (through a survivor),
//   restart the node and wait until it caught up. Goal: median ≤ 500 ms,
//   max ≤ 1.5 s.
// - viewers: what the web console's live updates cost: at 100 clients, runs
//   alternate without and with 10 console viewers (--viewers N) on the
//   leader's GET /api/v1/events; the leader's CPU per request, with/without.
//   Goal: ≤ 5 % extra.
// - sessions: 10,000 raw-protocol sessions on one node, heartbeating at the
//   interval the server tells in hello; server RSS per session (goal ≤ 10 KiB)
//   and checkout p50/p99 of a 10-client probe idle vs while they heartbeat
//   (goal: p99 within 2×).
//
// The load comes from child processes running load-worker.ts
// (FLOE_CLUSTER_BENCH_ROLE=load, driven over IPC), so no load
// generator shares an event loop with a server or with another generator.
// Options: --only LIST, --seconds S (per throughput run, default 4),
// --viewers N (10) and --viewer-rounds N (3) for the viewers sub-bench,
// --clients 10,100,1000, --steady-seconds S (60), --trials N (20),
// --sessions N (10,000), --via all|leader|followers (throughput: where the
// clients connect; default all). FLOE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"
// profiles the three nodes (stopped with SIGTERM so the profiles are written).
// Every loop is bounded in count and time; every process is stopped at the end.
//
// This entry file runs the site and dispatches; each sub-bench has its own
// file (bench-*.ts), the load worker its own (load-worker.ts).
import { loadavg } from 'node:os';
import { round, sleep } from '../figures.ts';
import { ClusterSite } from '../../test/cluster/cluster-harness.test-support.ts';
import { guardSite, isLive, liveIds, until } from '../../test/cluster/site-tools.test-support.ts';
import { benchFailover } from './bench-failover.ts';
import { benchSessions } from './bench-sessions.ts';
import { benchSteady } from './bench-steady.ts';
import { benchThroughput } from './bench-throughput.ts';
import { benchViewers } from './bench-viewers.ts';
import { write, type Context } from './context.ts';
import { LoadWorkerHandle } from './load-worker-handle.ts';

/** Seats of the bench license: every client may hold one, plus the failover probes'. */
const SEATS = 5000;

const SUB_BENCHES = {
  throughput: benchThroughput,
  steady: benchSteady,
  failover: benchFailover,
  sessions: benchSessions,
  viewers: benchViewers,
} as const satisfies Record<string, (ctx: Context) => Promise<void>>;
type SubBench = keyof typeof SUB_BENCHES;

/** Runs the cluster benchmark; answers its figures. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const onlyArg = args.indexOf('--only');
  const all = Object.keys(SUB_BENCHES) as SubBench[];
  const only = onlyArg >= 0 ? String(args[onlyArg + 1]).split(',').filter((x): x is SubBench => all.includes(x as SubBench)) : all;
  if (only.length === 0) throw new Error(`--only takes a list of ${all.join(', ')}`);
  const out: Record<string, unknown> = { only };
  const startedAt = performance.now();
  const site = await ClusterSite.create({
    seats: SEATS,
    // A capacity bench, not a flood: every client comes from 127.0.0.1 and sends as fast as it is answered (bench flood keeps the defaults).
    extraToml: ['[limits]', 'requestsPerSecondPerConnection = 1000000', 'requestBurstPerConnection = 1000000', 'connectionsMax = 19000', 'connectionsPerAddressMax = 19000', 'requestsPerSecondPerAddress = 10000000', 'requestBurstPerAddress = 10000000'],
  });
  const unguard = guardSite(site, { signals: true });
  const worker = LoadWorkerHandle.start();
  let runs = 0;
  // FLOE_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): Node options of the three nodes (first start only).
  const nodeArgs = (process.env['FLOE_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  try {
    await Promise.all(site.nodes.map((n) => site.start(n.id, nodeArgs)));
    const leader = await site.leader();
    await until('the site license in force', 15_000, async () => {
      const r = await site.admin(leader, '/pools');
      return r?.status === 200 && (r.body as { feature: string }[]).some((p) => p.feature === 'demo') ? true : undefined;
    });
    write(`cluster: three floe serve processes (${site.nodes.map((n) => n.clientUrl).join(', ')}), leader ${leader}; ${SEATS} seats of "demo"; load from separate worker processes; load average ${loadavg()[0]!.toFixed(2)}`);
    const ctx: Context = { site, worker, out, args, prefix: () => `b${process.pid}r${++runs}` };
    for (const name of only) await SUB_BENCHES[name](ctx);
    out['loadAverage1m'] = round(loadavg()[0]!, 2);
    out['benchSeconds'] = Math.round((performance.now() - startedAt) / 1000);
    return out;
  } finally {
    if (nodeArgs.length > 0) {
      // Profiles are written on a clean exit: SIGTERM first, bounded.
      await Promise.all(
        site.nodes.filter(isLive).map(async (n) => {
          const exited = new Promise((r) => n.child!.once('exit', r));
          n.child!.kill('SIGTERM');
          await Promise.race([exited, sleep(10_000)]);
        }),
      );
    }
    await worker.stop();
    await site.stop();
    unguard();
    if (liveIds(site).length > 0) throw new Error(`nodes still running: ${liveIds(site).join(', ')}`);
  }
}

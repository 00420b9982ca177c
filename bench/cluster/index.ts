// `npm run bench -- cluster [--only idle,throughput,steady,failover,sessions,viewers]`:
// the cluster issue's figures on three `floe serve` processes on loopback
// (test/cluster's ClusterSite: identities, a redundant license, configs).
//
// - idle: no clients; each node's CPU over --idle-seconds S (10) as a share
//   of one core (idleCpuPercent: the mean of the three). Goal: ≤ 1 %.
//   --floor reads, over the same window, the floor's three processes
//   (floor-site.ts), which only heartbeat every 50 ms as Floe's Raft does
//   by default and answer: floorIdleCpuPercent.
// - throughput: durable checkout+checkin requests/s and p50/p99 latency with
//   10, 100 and 1,000 raw-protocol clients placed as the SDK places them
//   (--via below: on the leader), and a
//   bare ws echo server (its own process) driven by the same clients in the
//   same run, with the ratio. Goal: ≥ 20,000 requests/s at 100 clients.
//   When `etcd` is on PATH (Debian: apt-get install etcd-server), a
//   three-member etcd on loopback takes durable puts from the same worker
//   at each level (etcdPutsPerSec_N, ratioToEtcd_N; etcdPutsPerSec and
//   ratioToEtcd at 100 clients; goal ≥ 5); --no-etcd skips it. Before the
//   first level, --warm-seconds S (3) of unmeasured load warm the nodes and
//   the echo server (V8 compiles the hot code in a fresh process's first
//   seconds); 0 measures cold processes. Node CPU per request is read over
//   the measured window (nodeCpuUsPerRequest_N), also above the nodes' idle
//   CPU (nodeCpuUsPerRequestAboveIdle_N) and over the whole worker call
//   (nodeCpuUsPerRequestWholeCall_N); echoCpuUsPerRequest_N is the echo
//   server's own CPU per echo, the floor of a frame in and a reply out.
//   --floor adds a third baseline (floor-site.ts): three processes of Floe's
//   shape and none of its logic (a leader parses each frame, appends a
//   turn's frames to a file and sends them to two followers; each syncs and
//   acknowledges; the leader answers once a majority is durable), driven by
//   the same worker: floorRequestsPerSec_N, floorP50Ms_N, floorP99Ms_N,
//   floorCpuUsPerRequest_N (its three processes), ratioToFloor_N and
//   floorRatioToEcho_N (what ratio to echo this machine allows at all).
// - steady: 60 s of load at 100 clients; leader changes counted from every
//   node's /health (term and leaderId) polled every 250 ms. Goal: zero.
// - failover: 20 trials (--trials) of light SDK load, SIGKILL the leader,
//   time to the first successful checkout sent after the kill (through a
//   survivor), restart the node and wait until it caught up; then 10 trials
//   (--stop-trials) of SIGSTOP (a frozen leader: its sockets stay open) and
//   SIGCONT. Goals (issue 18): SIGKILL median ≤ 100 ms, max ≤ 300 ms;
//   SIGSTOP median ≤ 500 ms.
// - viewers: what the web console's live updates cost: at 100 clients, runs
//   alternate without and with 10 console viewers (--viewers N) on the
//   leader's GET /api/v1/events; the leader's CPU per request, with/without.
//   Goal: ≤ 5 % extra.
// - sessions: 10,000 raw-protocol sessions on the leader (where the SDK
//   places every client), heartbeating at the interval the server tells in
//   hello; server RSS per session (goal ≤ 10 KiB), checkout p50/p99 of a
//   10-client probe idle vs while they heartbeat (goal: p99 within 2×), each
//   node's CPU while they heartbeat with no other load (--idle-seconds S,
//   10), and --sessions-kill-trials N (1; 0 skips) SIGKILLs of the leader
//   holding them: the first checkout an SDK client sends after the kill,
//   beside the election alone, when the killed process was reaped and when
//   the sessions' sockets closed. --sessions-freeze-holder freezes the
//   process holding the sessions (SIGSTOP) across each kill: its handling
//   of 10,000 closed sockets then leaves the cores to the survivors, as on
//   a site where those clients are other machines.
// - --tls: a second site beside the first whose every listener speaks TLS
//   (site CA and node certificates as `floe tls init|issue` make them;
//   mutual TLS between peers; clients trust the site CA alone). Throughput
//   runs alternate plain and TLS at each client level, --rounds R times
//   (default 3; each side's median), so the shared machine's load falls on
//   both alike; failover runs its trials on each site;
//   the TLS figures are named `tls` + the plain name (`tlsRequestsPerSec_100`,
//   `tlsFailoverMs`), with `tlsRatioToPlain_N` (requests/s, goal ≥ 0.8 at
//   100 clients) and `tlsCpuRatioToPlain_N` (node CPU per request).
//   Other sub-benches run on the plain site only.
//
// The load comes from child processes running load-worker.ts
// (FLOE_CLUSTER_BENCH_ROLE=load, driven over IPC), so no load
// generator shares an event loop with a server or with another generator.
// Options: --only LIST, --seconds S (per throughput run, default 4),
// --viewers N (10) and --viewer-rounds N (3) for the viewers sub-bench,
// --clients 10,100,1000, --steady-seconds S (60), --trials N (20),
// --sessions N (10,000), --via sdk|all|leader|followers (throughput: where the
// sessions live; default sdk: hello on the three nodes in turn, then the
// session moves to the leader the hello names, as the SDK does by default;
// all: spread evenly, as before issue 18 and with preferLeader: false), --tls (above), --raft-toml 'LINE' (a line
// of every node's [raft] table, repeatable: heartbeatTicks = 4). FLOE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"
// profiles the three nodes (stopped with SIGTERM so the profiles are written).
// Every loop is bounded in count and time; every process is stopped at the end.
//
// This entry file runs the site and dispatches; each sub-bench has its own
// file (bench-*.ts), the load worker its own (load-worker.ts).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { median, round, sleep } from '../figures.ts';
import { ClusterSite } from '../../test/cluster/cluster-harness.test-support.ts';
import { guardSite, isLive, liveIds } from '../../test/cluster/site-tools.test-support.ts';
import { until } from '../until.ts';
import { benchFailover } from './bench-failover.ts';
import { benchIdle } from './bench-idle.ts';
import { benchSessions } from './bench-sessions.ts';
import { benchSteady } from './bench-steady.ts';
import { benchThroughput, clientLevels } from './bench-throughput.ts';
import { benchViewers } from './bench-viewers.ts';
import { argNumber, write, type Context } from './context.ts';
import { LoadWorkerHandle } from './load-worker-handle.ts';

/** Seats of the bench license: every client may hold one, plus the failover probes'. */
const SEATS = 5000;

const SUB_BENCHES = {
  idle: benchIdle,
  throughput: benchThroughput,
  steady: benchSteady,
  failover: benchFailover,
  sessions: benchSessions,
  viewers: benchViewers,
} as const satisfies Record<string, (ctx: Context) => Promise<void>>;
type SubBench = keyof typeof SUB_BENCHES;
/** The sub-benches `--tls` also runs over TLS. */
const TLS_SUB_BENCHES: readonly SubBench[] = ['throughput', 'failover'];
/** Config lines of both sites: a capacity bench, not a flood (every client comes from 127.0.0.1 and sends as fast as it is answered; bench flood keeps the defaults). */
const CAPACITY_TOML = ['[limits]', 'requestsPerSecondPerConnection = 1000000', 'requestBurstPerConnection = 1000000', 'connectionsMax = 19000', 'connectionsPerAddressMax = 19000', 'requestsPerSecondPerAddress = 10000000', 'requestBurstPerAddress = 10000000'];

/** `args` with `--clients N` alone (one level of the throughput sub-bench). */
function withClients(args: string[], n: number): string[] {
  const i = args.indexOf('--clients');
  const rest = i >= 0 ? [...args.slice(0, i), ...args.slice(i + 2)] : args;
  return [...rest, '--clients', String(n)];
}

/** `requestsPerSec_100` → `tlsRequestsPerSec_100`. */
const tlsName = (name: string) => `tls${name[0]!.toUpperCase()}${name.slice(1)}`;

/** Starts every node of `site` and waits until its license is in force; answers the leader's id. */
async function startSite(site: ClusterSite, nodeArgs: readonly string[]): Promise<string> {
  await Promise.all(site.nodes.map((n) => site.start(n.id, nodeArgs)));
  const leader = await site.leader();
  await until('the site license in force', 15_000, async () => {
    const r = await site.admin(leader, '/pools');
    return r?.status === 200 && (r.body as { feature: string }[]).some((p) => p.feature === 'demo') ? true : undefined;
  });
  return leader;
}

/** Stops `site`'s nodes: SIGTERM first, bounded, when they write profiles; then SIGKILL and the directory. */
async function stopSite(site: ClusterSite, profiling: boolean): Promise<void> {
  if (profiling) {
    await Promise.all(
      site.nodes.filter(isLive).map(async (n) => {
        const exited = new Promise((r) => n.child!.once('exit', r));
        n.child!.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
      }),
    );
  }
  await site.stop();
}

/** Runs the cluster benchmark; answers its figures. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const onlyArg = args.indexOf('--only');
  const tls = args.includes('--tls');
  const all = Object.keys(SUB_BENCHES) as SubBench[];
  const only = onlyArg >= 0 ? String(args[onlyArg + 1]).split(',').filter((x): x is SubBench => all.includes(x as SubBench)) : all;
  if (only.length === 0) throw new Error(`--only takes a list of ${all.join(', ')}`);
  const out: Record<string, unknown> = { only, tls };
  const startedAt = performance.now();
  // --raft-toml 'LINE' (repeatable): lines of every node's [raft] table, to compare timings (heartbeatTicks = 4).
  const raftToml = args.flatMap((a, i) => (args[i - 1] === '--raft-toml' ? [a] : []));
  const site = await ClusterSite.create({ seats: SEATS, extraToml: CAPACITY_TOML, raftToml });
  const tlsSite = tls ? await ClusterSite.create({ seats: SEATS, extraToml: CAPACITY_TOML, raftToml, tls: true }) : undefined;
  const sites = tlsSite === undefined ? [site] : [site, tlsSite];
  const unguards = sites.map((s) => guardSite(s, { signals: true }));
  const worker = LoadWorkerHandle.start();
  let runs = 0;
  // FLOE_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): Node options of the nodes (first start only).
  const nodeArgs = (process.env['FLOE_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  try {
    const leader = await startSite(site, nodeArgs);
    write(`cluster: three floe serve processes (${site.nodes.map((n) => n.clientUrl).join(', ')}), leader ${leader}; ${SEATS} seats of "demo"; load from separate worker processes; load average ${loadavg()[0]!.toFixed(2)}`);
    const ctx: Context = { site, worker, out, args, prefix: () => `b${process.pid}r${++runs}` };
    if (tlsSite === undefined) {
      for (const name of only) await SUB_BENCHES[name](ctx);
    } else {
      const tlsLeader = await startSite(tlsSite, nodeArgs);
      write(`cluster over TLS: three more floe serve processes (${tlsSite.nodes.map((n) => n.clientUrl).join(', ')}), leader ${tlsLeader}; mutual TLS between peers, clients trust the site CA (${tlsSite.caFile}) alone`);
      const tlsOut: Record<string, unknown> = {};
      const tlsCtx: Context = { ...ctx, site: tlsSite, out: tlsOut, ca: readFileSync(tlsSite.caFile!, 'utf8'), baseline: false };
      for (const name of only) {
        if (!TLS_SUB_BENCHES.includes(name)) {
          await SUB_BENCHES[name](ctx);
        } else if (name === 'throughput') {
          // Plain and TLS alternate at each level, `--rounds` times, which goes first alternating too: the
          // shared machine's load falls on both alike. The figures are each side's median over the rounds.
          const rounds = argNumber(args, '--rounds', 3, 1, 20);
          for (const n of clientLevels(args)) {
            const rates: [plain: number[], tls: number[]] = [[], []];
            /** Node CPU per request (µs, all three nodes): what TLS costs, less sensitive to a loaded machine's fsyncs than requests/s. */
            const cpuUs: [plain: number[], tls: number[]] = [[], []];
            for (let r = 0; r < rounds; r++) {
              const pair = [{ ...ctx, args: withClients(args, n) }, { ...tlsCtx, args: withClients(args, n) }];
              for (const c of r % 2 === 0 ? pair : pair.reverse()) await benchThroughput(c);
              rates[0].push(Number(out[`requestsPerSec_${n}`]));
              rates[1].push(Number(tlsOut[`requestsPerSec_${n}`]));
              cpuUs[0].push(Number(out[`nodeCpuUsPerRequest_${n}`]));
              cpuUs[1].push(Number(tlsOut[`nodeCpuUsPerRequest_${n}`]));
            }
            const [plainCpuUs, tlsCpuUs] = cpuUs.map((x) => Math.round(median(x))) as [number, number];
            out[`nodeCpuUsPerRequest_${n}`] = plainCpuUs;
            tlsOut[`nodeCpuUsPerRequest_${n}`] = tlsCpuUs;
            out[`tlsCpuRatioToPlain_${n}`] = round(tlsCpuUs / Math.max(1, plainCpuUs));
            const [plain, overTls] = rates.map((x) => Math.round(median(x))) as [number, number];
            const ratio = round(overTls / Math.max(1, plain));
            out[`requestsPerSec_${n}`] = plain;
            tlsOut[`requestsPerSec_${n}`] = overTls;
            if (n === 100) [out['opsPerSec'], tlsOut['opsPerSec']] = [plain, overTls];
            out[`tlsRatioToPlain_${n}`] = ratio;
            out[`tlsRatioToPlainAll_${n}`] = rates[1].map((t, i) => round(t / Math.max(1, rates[0][i]!)));
            write(`  ${n} clients, median of ${rounds} alternating rounds: TLS ${overTls.toLocaleString('en-US')}, plain ${plain.toLocaleString('en-US')} requests/s, TLS/plain ${ratio}${n === 100 ? ' (goal ≥ 0.8)' : ''}; node CPU per request TLS ${tlsCpuUs} µs, plain ${plainCpuUs} µs; load average ${loadavg()[0]!.toFixed(2)}`);
          }
        } else {
          await SUB_BENCHES[name](ctx);
          await SUB_BENCHES[name](tlsCtx);
        }
      }
      for (const [name, value] of Object.entries(tlsOut)) if (name !== 'via') out[tlsName(name)] = value;
      if (out['failoverMs'] !== undefined && out['tlsFailoverMs'] !== undefined) write(`  failover median: TLS ${String(out['tlsFailoverMs'])} ms, plain ${String(out['failoverMs'])} ms`);
    }
    out['loadAverage1m'] = round(loadavg()[0]!, 2);
    out['benchSeconds'] = Math.round((performance.now() - startedAt) / 1000);
    return out;
  } finally {
    await worker.stop();
    for (const s of sites) await stopSite(s, nodeArgs.length > 0);
    for (const unguard of unguards) unguard();
    const left = sites.flatMap(liveIds);
    if (left.length > 0) throw new Error(`nodes still running: ${left.join(', ')}`);
  }
}

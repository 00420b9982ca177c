// Cluster bench, throughput: durable checkout+checkin requests/s and p50/p99
// latency at each client level through the cluster, with node CPU, log and
// storage figures, against a bare ws echo server and (when installed) a
// three-member etcd taking durable puts, both driven by the same worker.
// CPU per request is read twice: over the measured window only (the load
// worker reads /proc at its edges: the figure the issue's goal names) and
// over the whole call (connect, hello and warm-up included, as before).
import { cpuMsOf, round, sleep } from '../figures.ts';
import { healthOf } from '../../test/cluster/site-tools.test-support.ts';
import { argNumber, WARMUP_MS, write, type Context } from './context.ts';
import { startEcho } from './echo-server.ts';
import { startEtcd } from './etcd-site.ts';
import { startFloor } from './floor-site.ts';
import type { RunFigures } from './load-worker.ts';

/** `ms` the nodes are left without clients before the first level, to read their idle CPU. */
const IDLE_SAMPLE_MS = 2_000;

/** `ms` of CPU per request, in µs (0 requests: 0). */
const usPerRequest = (cpuMs: number, requests: number) => (requests > 0 ? Math.round((cpuMs * 1000) / requests) : 0);

/** The CPU a run's window reports for its first `count` processes: user + system ms in all, and the kernel's share. */
function windowCpu(f: RunFigures, from: number, count: number): { ms: number; systemShare: number } {
  const times = f.windowCpuMs.slice(from, from + count);
  const ms = times.reduce((a, t) => a + t.userMs + t.systemMs, 0);
  return { ms, systemShare: round(times.reduce((a, t) => a + t.systemMs, 0) / Math.max(1, ms), 2) };
}

/** The client levels of `--clients 10,100,1000` (the default). */
export function clientLevels(args: string[]): number[] {
  const clientsArg = args.indexOf('--clients');
  return clientsArg >= 0 ? String(args[clientsArg + 1]).split(',').map(Number).filter((x) => x >= 1 && x <= 2000) : [10, 100, 1000];
}

export async function benchThroughput(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const durationMs = argNumber(args, '--seconds', 4, 1, 60) * 1000;
  const levels = clientLevels(args);
  // --via sdk (default) | all | leader | followers: where the clients' sessions live. sdk: what the SDK does by
  // default (hello on the three nodes in turn, then the session moves to the leader the hello names); all: they
  // stay where they said hello, spread evenly (before issue 18, and preferLeader: false); leader or followers alone.
  const viaArg = args.indexOf('--via');
  const via = viaArg >= 0 ? String(args[viaArg + 1]) : 'sdk';
  if (!['sdk', 'all', 'leader', 'followers'].includes(via)) throw new Error(`--via takes sdk, all, leader or followers, not ${via}`);
  const followLeader = via === 'sdk';
  const leaderAtStart = await site.leader();
  const urls = site.nodes.filter((n) => via === 'all' || via === 'sdk' || (via === 'leader') === (n.id === leaderAtStart)).map((n) => n.clientUrl);
  const viaText = {
    sdk: 'sessions as the SDK places them by default (hello on the three nodes in turn, then moved to the leader it names)',
    all: 'sessions spread evenly over the three nodes (preferLeader: false)',
    leader: 'the leader only',
    followers: 'the followers only',
  }[via as 'sdk' | 'all' | 'leader' | 'followers'];
  out['via'] = via;
  const echo = ctx.baseline === false ? undefined : await startEcho();
  // The etcd baseline (when installed; --no-etcd skips it): three members, the same load worker, the same client levels.
  const etcd = ctx.baseline === false || args.includes('--no-etcd') ? undefined : await startEtcd().catch((error: unknown) => {
    echo?.child.kill('SIGKILL');
    throw error;
  });
  if (ctx.baseline !== false && !args.includes('--no-etcd')) {
    write(etcd === undefined ? '  etcd baseline: skipped (no `etcd` on PATH: apt-get install etcd-server)' : `  etcd baseline: etcd ${etcd.version}, three members (${etcd.clientUrls.join(', ')}), durable puts through its HTTP gateway`);
    out['etcdVersion'] = etcd?.version ?? null;
  }
  const tls = ctx.ca !== undefined ? { ca: ctx.ca } : {};
  // --floor: the same load on three processes that do only what any server of Floe's shape must (floor-site.ts).
  let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
  try {
    floor = ctx.baseline !== false && args.includes('--floor') ? await startFloor() : undefined;
    write(
      `throughput${ctx.ca !== undefined ? ' over TLS' : ''}: durable checkout+checkin, --via ${via}: ${viaText}; ${durationMs} ms per run after ${WARMUP_MS} ms warm-up` +
        (echo !== undefined ? `; baseline: a bare ws echo server (${echo.url}) driven by the same worker` : ''),
    );
    // Fresh processes spend their first seconds of load compiling (V8's optimizing compiler on its own threads): measured
    // levels start on warm nodes and a warm echo server, as a server that has run for a while is (--warm-seconds 0: cold).
    const warmMs = argNumber(args, '--warm-seconds', 3, 0, 60) * 1000;
    if (warmMs > 0 && levels.length > 0) {
      write(`  warm-up: ${warmMs} ms of load at ${levels[0]} clients on the cluster${echo !== undefined ? ' and on the echo server' : ''}, not measured`);
      await worker.call<RunFigures>({ cmd: 'throughput', urls, clients: levels[0]!, durationMs: warmMs, warmupMs: 0, hello: true, prefix: ctx.prefix(), followLeader, ...tls });
      if (echo !== undefined) await worker.call<RunFigures>({ cmd: 'throughput', urls: [echo.url], clients: levels[0]!, durationMs: warmMs, warmupMs: 0, hello: false, prefix: ctx.prefix() });
      if (floor !== undefined) await worker.call<RunFigures>({ cmd: 'throughput', urls: [floor.url], clients: levels[0]!, durationMs: warmMs, warmupMs: 0, hello: false, prefix: ctx.prefix() });
    }
    // The nodes' CPU without clients (heartbeats, ticks, timers): what a run spends whatever its rate.
    // A slow disk lowers the rate, and this fixed part then weighs more per request: nodeCpuUsPerRequestAboveIdle_N takes it out.
    const idlePids = site.nodes.map((x) => x.child?.pid);
    const idle0 = idlePids.map(cpuMsOf);
    const idleT0 = performance.now();
    await sleep(IDLE_SAMPLE_MS);
    const idleCpuMsPerSec = idlePids.reduce((a: number, p, i) => a + cpuMsOf(p) - idle0[i]!, 0) / ((performance.now() - idleT0) / 1000);
    for (const n of levels) {
      const pids = site.nodes.map((x) => x.child?.pid);
      const cpu0 = pids.map(cpuMsOf);
      const leader = await site.leader();
      const storage0 = await Promise.all(site.nodes.map((x) => healthOf(site, x.id)));
      const before = await healthOf(site, leader);
      const applied0 = before?.appliedIndex ?? 0;
      const t0 = performance.now();
      const monotonicUs0 = process.hrtime.bigint() / 1000n;
      // The nodes' and the load worker's CPU over the measured window.
      const cpuPids = [...pids, worker.child.pid].filter((p): p is number => p !== undefined);
      const f = await worker.call<RunFigures>({ cmd: 'throughput', urls, clients: n, durationMs, warmupMs: WARMUP_MS, hello: true, prefix: ctx.prefix(), cpuPids, followLeader, ...tls });
      const wallMs = performance.now() - t0;
      // The call's span on the monotonic clock (µs), as the nodes' --cpu-prof profiles time their samples: cut them to it.
      if ((process.env['FLOE_BENCH_NODE_ARGS'] ?? '').includes('--cpu-prof')) write(`  profile span (monotonic µs): ${monotonicUs0} ${process.hrtime.bigint() / 1000n}`);
      const after = await healthOf(site, leader);
      const storage1 = await Promise.all(site.nodes.map((x) => healthOf(site, x.id)));
      const perSec = (i: number, key: 'transactionCount' | 'syncCount') => Math.round((((storage1[i]?.[key] ?? 0) - (storage0[i]?.[key] ?? 0)) * 1000) / wallMs);
      const applied1 = after?.appliedIndex ?? 0;
      // A leader change during the run shows as a higher term (the steady bench counts them over 60 s).
      const termChanges = (after?.term ?? 0) - (before?.term ?? 0);
      const cpuMs = pids.map((p, i) => cpuMsOf(p) - cpu0[i]!);
      const cpu = cpuMs.map((ms) => Math.round((ms / wallMs) * 100));
      // Node CPU over the whole call (connect, hello, warm-up included) per request at the measured rate: an estimate.
      const wholeCallCpuUsPerRequest = Math.round((cpuMs.reduce((a, b) => a + b, 0) * 1000) / Math.max(1, (f.requestsPerSec * wallMs) / 1000));
      // Node CPU of the measured window per request of that window; the kernel's share (system calls: sockets, fsync, wake-ups).
      const nodesWindow = windowCpu(f, 0, pids.length);
      const cpuUsPerRequest = usPerRequest(nodesWindow.ms, f.requests);
      const aboveIdleUsPerRequest = usPerRequest(Math.max(0, nodesWindow.ms - (idleCpuMsPerSec * f.windowMs) / 1000), f.requests);
      const workerUsPerRequest = usPerRequest(windowCpu(f, pids.length, 1).ms, f.requests);
      // The echo server's own CPU per echo is the floor of one client frame in and one reply out on this machine.
      const echoPids = echo?.child.pid === undefined ? [] : [echo.child.pid, ...(worker.child.pid === undefined ? [] : [worker.child.pid])];
      const e = echo === undefined ? undefined : await worker.call<RunFigures>({ cmd: 'throughput', urls: [echo.url], clients: n, durationMs, warmupMs: WARMUP_MS, hello: false, prefix: ctx.prefix(), cpuPids: echoPids });
      const echoCpuUsPerRequest = e === undefined ? undefined : usPerRequest(windowCpu(e, 0, 1).ms, e.requests);
      const echoWorkerUsPerRequest = e === undefined ? undefined : usPerRequest(windowCpu(e, 1, 1).ms, e.requests);
      const floorPids = floor === undefined ? [] : [...floor.children.map((c) => c.pid!), ...(worker.child.pid === undefined ? [] : [worker.child.pid])];
      const fl = floor === undefined ? undefined : await worker.call<RunFigures>({ cmd: 'throughput', urls: [floor.url], clients: n, durationMs, warmupMs: WARMUP_MS, hello: false, prefix: ctx.prefix(), cpuPids: floorPids });
      const etcdRun = etcd === undefined ? undefined : await worker.call<RunFigures>({ cmd: 'etcd-puts', urls: etcd.clientUrls, clients: n, durationMs, warmupMs: WARMUP_MS });
      const entriesPerSec = Math.round(((applied1 - applied0) * 1000) / wallMs);
      // Batching on the leader: Readys (one transaction and at most one fsync each) per second, entries per Ready, requests per entry.
      const readys = (after?.readyCount ?? 0) - (before?.readyCount ?? 0);
      const readysPerSec = Math.round((readys * 1000) / wallMs);
      const entriesPerReady = round((applied1 - applied0) / Math.max(1, readys), 2);
      // Every node's Ready rounds per entry applied: at 1 client, 2 on the leader (append, commit) and 1 on a follower.
      const readysPerEntry = site.nodes.map((_, i) => round(((storage1[i]?.readyCount ?? 0) - (storage0[i]?.readyCount ?? 0)) / Math.max(1, applied1 - applied0), 2));
      const requestsPerEntry = round(f.requestsPerSec / Math.max(1, entriesPerSec), 2);
      const ratio = e === undefined ? undefined : round(f.requestsPerSec / Math.max(1, e.requestsPerSec));
      write(
        `  ${String(n).padStart(4)} clients: cluster ${f.requestsPerSec.toLocaleString('en-US').padStart(7)} requests/s, p50 ${f.p50Ms} ms, p90 ${f.p90Ms} ms, p99 ${f.p99Ms} ms, p99.9 ${f.p999Ms} ms, max ${f.maxMs} ms, errors ${f.errors}; ` +
          `log ${entriesPerSec.toLocaleString('en-US')} entries/s (leader ${leader}, term changes ${termChanges}); node CPU ${site.nodes.map((x, i) => `${x.id} ${cpu[i]}%`).join(', ')}` +
          (followLeader ? `; ${f.movedToLeader ?? 0} of ${n} sessions moved to the leader` : ''),
      );
      write(
        `               CPU per request: nodes ${cpuUsPerRequest} µs in all over the measured window (${Math.round(nodesWindow.systemShare * 100)} % in the kernel; ` +
          `${aboveIdleUsPerRequest} µs above their idle ${Math.round(idleCpuMsPerSec)} ms/s), ${wholeCallCpuUsPerRequest} µs over the whole call (connect, hello, warm-up); load worker ${workerUsPerRequest} µs`,
      );
      write(
        `               leader batching: ${readysPerSec.toLocaleString('en-US')} Readys/s, ${entriesPerReady} entries per Ready, ${requestsPerEntry} requests per entry; ` +
          `Readys per entry by node: ${site.nodes.map((x, i) => `${x.id} ${readysPerEntry[i]}`).join(', ')}`,
      );
      write(`               storage per node: ${site.nodes.map((x, i) => `${x.id} ${perSec(i, 'transactionCount')} transactions/s, ${perSec(i, 'syncCount')} fsyncs/s`).join('; ')}`);
      if (e !== undefined) {
        write(
          `               echo    ${e.requestsPerSec.toLocaleString('en-US').padStart(7)} echoes/s,   p50 ${e.p50Ms} ms, p99 ${e.p99Ms} ms; ratio cluster/echo ${ratio}; ` +
            `CPU per echo: echo server ${echoCpuUsPerRequest} µs, load worker ${echoWorkerUsPerRequest} µs`,
        );
      }
      if (fl !== undefined) {
        const floorCpu = usPerRequest(windowCpu(fl, 0, 3).ms, fl.requests);
        const byProcess = [0, 1, 2].map((i) => usPerRequest(windowCpu(fl, i, 1).ms, fl.requests));
        const toFloor = round(f.requestsPerSec / Math.max(1, fl.requestsPerSec), 2);
        const floorToEcho = e === undefined ? undefined : round(fl.requestsPerSec / Math.max(1, e.requestsPerSec));
        write(
          `               floor   ${fl.requestsPerSec.toLocaleString('en-US').padStart(7)} requests/s, p50 ${fl.p50Ms} ms, p99 ${fl.p99Ms} ms, p99.9 ${fl.p999Ms} ms, errors ${fl.errors}; ` +
            `CPU per request ${floorCpu} µs (leader ${byProcess[0]}, followers ${byProcess[1]}, ${byProcess[2]}); ratio cluster/floor ${toFloor}` +
            (floorToEcho !== undefined ? `, floor/echo ${floorToEcho}` : ''),
        );
        out[`floorRequestsPerSec_${n}`] = fl.requestsPerSec;
        out[`floorP50Ms_${n}`] = fl.p50Ms;
        out[`floorP99Ms_${n}`] = fl.p99Ms;
        out[`floorCpuUsPerRequest_${n}`] = floorCpu;
        out[`ratioToFloor_${n}`] = toFloor;
        if (floorToEcho !== undefined) out[`floorRatioToEcho_${n}`] = floorToEcho;
      }
      if (etcdRun !== undefined) {
        const etcdRatio = round(f.requestsPerSec / Math.max(1, etcdRun.requestsPerSec), 2);
        write(`               etcd    ${etcdRun.requestsPerSec.toLocaleString('en-US').padStart(7)} puts/s,    p50 ${etcdRun.p50Ms} ms, p99 ${etcdRun.p99Ms} ms, errors ${etcdRun.errors}; ratio cluster/etcd ${etcdRatio} (goal ≥ 5 at 100 clients)`);
        out[`etcdPutsPerSec_${n}`] = etcdRun.requestsPerSec;
        out[`etcdP50Ms_${n}`] = etcdRun.p50Ms;
        out[`etcdP99Ms_${n}`] = etcdRun.p99Ms;
        out[`ratioToEtcd_${n}`] = etcdRatio;
        if (n === 100) {
          out['etcdPutsPerSec'] = etcdRun.requestsPerSec;
          out['ratioToEtcd'] = etcdRatio;
        }
      }
      if (f.errorSamples.length > 0) write(`               first errors: ${f.errorSamples.join(' | ')}`);
      out[`requestsPerSec_${n}`] = f.requestsPerSec;
      out[`p50Ms_${n}`] = f.p50Ms;
      out[`p90Ms_${n}`] = f.p90Ms;
      out[`p99Ms_${n}`] = f.p99Ms;
      out[`p999Ms_${n}`] = f.p999Ms;
      out[`maxMs_${n}`] = f.maxMs;
      out[`errors_${n}`] = f.errors;
      out[`logEntriesPerSec_${n}`] = entriesPerSec;
      out[`nodeCpuUsPerRequest_${n}`] = cpuUsPerRequest;
      out[`nodeCpuUsPerRequestWholeCall_${n}`] = wholeCallCpuUsPerRequest;
      out[`nodeCpuUsPerRequestAboveIdle_${n}`] = aboveIdleUsPerRequest;
      out['nodesIdleCpuMsPerSec'] = Math.round(idleCpuMsPerSec);
      out[`nodeKernelCpuShare_${n}`] = nodesWindow.systemShare;
      out[`loadWorkerCpuUsPerRequest_${n}`] = workerUsPerRequest;
      out[`termChanges_${n}`] = termChanges;
      out[`leaderReadysPerSec_${n}`] = readysPerSec;
      out[`entriesPerReady_${n}`] = entriesPerReady;
      out[`readysPerEntry_${n}`] = readysPerEntry;
      out[`requestsPerEntry_${n}`] = requestsPerEntry;
      out[`transactionsPerSec_${n}`] = site.nodes.map((_, i) => perSec(i, 'transactionCount'));
      out[`fsyncsPerSec_${n}`] = site.nodes.map((_, i) => perSec(i, 'syncCount'));
      if (e !== undefined) {
        out[`echoRequestsPerSec_${n}`] = e.requestsPerSec;
        out[`echoP50Ms_${n}`] = e.p50Ms;
        out[`echoP99Ms_${n}`] = e.p99Ms;
        out[`ratioToEcho_${n}`] = ratio;
        out[`echoCpuUsPerRequest_${n}`] = echoCpuUsPerRequest;
        out[`echoLoadWorkerCpuUsPerRequest_${n}`] = echoWorkerUsPerRequest;
      }
      if (n === 100) out['opsPerSec'] = f.requestsPerSec;
    }
    if (out['opsPerSec'] !== undefined) write(`  opsPerSec at 100 clients: ${Number(out['opsPerSec']).toLocaleString('en-US')} (goal ≥ 20,000)`);
  } finally {
    echo?.child.kill('SIGKILL');
    etcd?.stop();
    floor?.stop();
  }
}

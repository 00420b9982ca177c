// Cluster bench, sessions: many heartbeating raw-protocol sessions on one
// node (from a second load worker); server RSS per session and a small
// probe's checkout latency idle vs while they heartbeat.
import { round, rssBytesOf, sleep } from '../figures.ts';
import { argNumber, WARMUP_MS, write, type Context } from './context.ts';
import { LoadWorkerHandle } from './load-worker-handle.ts';
import type { RunFigures } from './load-worker.ts';

export async function benchSessions(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const count = argNumber(args, '--sessions', 10_000, 1, 18_000);
  const probeMs = argNumber(args, '--seconds', 4, 1, 60) * 1000;
  const leader = await site.leader();
  // The sessions sit on a follower (the common case: two of three nodes are followers); the probe uses the same node.
  const node = site.nodes.find((n) => n.id !== leader)!;
  const holder = LoadWorkerHandle.start();
  try {
    write(`sessions: ${count.toLocaleString('en-US')} heartbeating sessions on ${node.id} (a follower; leader ${leader}) from a second load worker; probe: 10 clients of checkout+checkin on ${node.id}, best of two ${probeMs} ms runs`);
    // Best (lowest p99) of two probe runs, idle and heartbeating alike: a busy shared machine makes single runs noisy.
    const probeOnce = () => worker.call<RunFigures>({ cmd: 'throughput', urls: [node.clientUrl], clients: 10, durationMs: probeMs, warmupMs: WARMUP_MS, hello: true, prefix: ctx.prefix() });
    const probe = async () => {
      const a = await probeOnce();
      const b = await probeOnce();
      return a.p99Ms <= b.p99Ms ? a : b;
    };
    const idle = await probe();
    write(`  idle:        checkout+checkin p50 ${idle.p50Ms} ms, p99 ${idle.p99Ms} ms (${idle.requestsPerSec.toLocaleString('en-US')} requests/s)`);
    await sleep(1000);
    const rss0 = site.nodes.map((n) => rssBytesOf(n.child?.pid));
    const opened = await holder.call<{ openMs: number; heartbeatMs: number }>({ cmd: 'sessions-open', url: node.clientUrl, count, prefix: ctx.prefix() });
    write(`  opened ${count.toLocaleString('en-US')} sessions in ${opened.openMs} ms; each heartbeats every ${opened.heartbeatMs} ms`);
    // One full heartbeat round, so every session has beaten at least once.
    await sleep(opened.heartbeatMs + 500);
    const rss1 = site.nodes.map((n) => rssBytesOf(n.child?.pid));
    const busy = await probe();
    const stats = await holder.call<{ heartbeats: number; heartbeatErrors: number; heartbeatErrorSamples: string[]; open: number }>({ cmd: 'sessions-stats' });
    const perSession = site.nodes.map((_, i) => Math.round((rss1[i]! - rss0[i]!) / count));
    const idx = site.nodes.indexOf(node);
    write(`  heartbeating: checkout+checkin p50 ${busy.p50Ms} ms, p99 ${busy.p99Ms} ms (${busy.requestsPerSec.toLocaleString('en-US')} requests/s); p99 ratio to idle ${round(busy.p99Ms / Math.max(0.001, idle.p99Ms), 2)} (goal ≤ 2)`);
    write(
      `  server RSS per session: ${site.nodes.map((n, i) => `${n.id} ${(perSession[i]! / 1024).toFixed(2)} KiB (${Math.round(rss0[i]! / 2 ** 20)} → ${Math.round(rss1[i]! / 2 ** 20)} MiB)`).join(', ')}; ` +
        `the socket node ${node.id}: ${(perSession[idx]! / 1024).toFixed(2)} KiB (goal ≤ 10 KiB); heartbeats ${stats.heartbeats} ok, ${stats.heartbeatErrors} failed, ${stats.open} sockets open`,
    );
    if (stats.heartbeatErrorSamples.length > 0) write(`  heartbeat errors: ${stats.heartbeatErrorSamples.join(' | ')}`);
    out['sessions'] = count;
    out['sessionsOpenMs'] = opened.openMs;
    out['rssBytesPerSession'] = perSession[idx];
    out['rssKiBPerSession'] = round(perSession[idx]! / 1024, 2);
    out['rssBytesPerSessionOtherNodes'] = perSession.filter((_, i) => i !== idx);
    out['checkoutP50MsIdle'] = idle.p50Ms;
    out['checkoutP99MsIdle'] = idle.p99Ms;
    out['checkoutP50MsHeartbeating'] = busy.p50Ms;
    out['checkoutP99MsHeartbeating'] = busy.p99Ms;
    out['checkoutP99RatioHeartbeatingToIdle'] = round(busy.p99Ms / Math.max(0.001, idle.p99Ms), 2);
    out['heartbeats'] = stats.heartbeats;
    out['heartbeatErrors'] = stats.heartbeatErrors;
    await holder.call({ cmd: 'sessions-close' });
  } finally {
    await holder.stop();
  }
}

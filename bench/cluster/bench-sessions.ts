// Cluster bench, sessions: many heartbeating raw-protocol sessions on the
// leader (from a second load worker), where the SDK places every client;
// server RSS per session, a small probe's checkout latency idle vs while
// they heartbeat, each node's CPU while they heartbeat and nothing else
// runs, and (unless --sessions-kill-trials 0) the leader that holds them
// SIGKILLed: the first checkout sent after the kill through a survivor.
import { connect } from '../../client/index.ts';
import { cpuPercentOver, median, round, rssBytesOf, sleep } from '../figures.ts';
import { healthOf } from '../../test/cluster/site-tools.test-support.ts';
import { caughtUp, until } from '../until.ts';
import { CheckoutProbe, electedAfter, newLeaderAmong, recordConnectionEvents } from './checkout-probe.ts';
import { argNumber, WARMUP_MS, write, type Context } from './context.ts';
import { LoadWorkerHandle } from './load-worker-handle.ts';
import type { RunFigures } from './load-worker.ts';

export async function benchSessions(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const count = argNumber(args, '--sessions', 10_000, 1, 18_000);
  const probeMs = argNumber(args, '--seconds', 4, 1, 60) * 1000;
  const cpuWindowMs = argNumber(args, '--idle-seconds', 10, 1, 120) * 1000;
  const killTrials = argNumber(args, '--sessions-kill-trials', 1, 0, 5);
  const leader = await site.leader();
  // The sessions sit on the leader, where the SDK places every client (preferLeader); the probe uses the same node.
  const node = site.node(leader);
  const holder = LoadWorkerHandle.start();
  try {
    write(`sessions: ${count.toLocaleString('en-US')} heartbeating sessions on ${node.id} (the leader) from a second load worker; probe: 10 clients of checkout+checkin on ${node.id}, best of two ${probeMs} ms runs`);
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
    // Each node's CPU while the sessions heartbeat and nothing else runs.
    const { percent: cpuPercent, wallMs } = await cpuPercentOver(site.nodes.map((n) => n.child?.pid), cpuWindowMs);
    write(`  CPU while the sessions heartbeat (no other load, ${Math.round(wallMs)} ms): ${site.nodes.map((n, i) => `${n.id}${n.id === leader ? ' (leader)' : ''} ${cpuPercent[i]}%`).join(', ')} of a core`);
    out['sessionsCpuPercentByNode'] = cpuPercent;
    out['sessionsCpuPercentLeader'] = cpuPercent[idx];
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
    if (killTrials > 0) await killLeaderWithSessions(ctx, holder, count, killTrials, node.id);
    await holder.call({ cmd: 'sessions-close' });
  } finally {
    await holder.stop();
  }
}

/**
 * SIGKILLs the leader while it holds the sessions (its process dies: the OS
 * resets every socket), times the first checkout an SDK client sends after
 * the kill, restarts the node, waits until it caught up, and opens the
 * sessions on the new leader for the next trial.
 */
async function killLeaderWithSessions(ctx: Context, holder: LoadWorkerHandle, count: number, trials: number, sessionsOn: string): Promise<void> {
  const { site, out, args } = ctx;
  const freezeHolder = args.includes('--sessions-freeze-holder');
  const urls = site.nodes.map((n) => n.clientUrl);
  const client = await connect({ servers: urls, user: 'sk', host: 'skh', app: 'bench-sessions', pendingRequestsMax: 200, requestSendsMax: 50, reconnectAttemptsMax: 100, ...(ctx.ca !== undefined ? { ca: ctx.ca } : {}) });
  const firstMs: number[] = [];
  const electedMs: number[] = [];
  /** SDK connection events of the probe client (performance.now(), what): when it lost the dead leader and resumed. */
  const sdkEvents: [number, string][] = [];
  recordConnectionEvents(client, '', sdkEvents);
  try {
    for (let t = 0; t < trials; t++) {
      let leader = await site.leader();
      // Until the sessions sit on the leader of the moment: opening them takes seconds, in which leadership may move again.
      for (let moves = 0; leader !== sessionsOn && moves < 3; moves++, leader = await site.leader()) {
        // The previous trial's kill, or an election on a loaded machine, moved the leader: the sessions follow it.
        await holder.call({ cmd: 'sessions-close' });
        const opened = await holder.call<{ openMs: number }>({ cmd: 'sessions-open', url: site.node(leader).clientUrl, count, prefix: ctx.prefix() });
        write(`  the leader is now ${leader}: opened the ${count.toLocaleString('en-US')} sessions there in ${opened.openMs} ms`);
        sessionsOn = leader;
      }
      const oldTerm = (await healthOf(site, leader))?.term ?? 0;
      // One checkout every 10 ms, each answered or failed; the first one sent after the kill and answered is the figure.
      const probe = new CheckoutProbe([client], 10, 100);
      try {
        await sleep(500);
        sdkEvents.length = 0;
        const survivors = site.nodes.filter((n) => n.id !== leader).map((n) => n.id);
        const logOffsets = new Map(survivors.map((id) => [id, site.node(id).stderr.length]));
        // --sessions-freeze-holder: the process holding the sessions is frozen across the kill, so its handling of
        // their closed sockets does not share the machine's cores with the survivors (on a site those are other machines).
        if (freezeHolder) holder.child.kill('SIGSTOP');
        const killedAtWallMs = Date.now();
        const killedAt = performance.now();
        if ((process.env['FLOE_BENCH_NODE_ARGS'] ?? '').includes('--cpu-prof')) write(`  kill at monotonic µs ${process.hrtime.bigint() / 1000n}`);
        await site.kill(leader);
        /** `ms` after the kill the process was reaped (its kernel closed every socket first). */
        const exitedMs = performance.now() - killedAt;
        const elected = electedAfter(site, survivors, oldTerm, killedAt, 20_000);
        const ms = await until('a checkout sent after the kill to succeed', 20_000, () => probe.firstAnsweredAfter(killedAt)).catch(() => NaN);
        if (Number.isFinite(ms)) firstMs.push(ms);
        const electionMs = await elected;
        if (freezeHolder) holder.child.kill('SIGCONT');
        if (Number.isFinite(electionMs)) electedMs.push(electionMs);
        const closes = await holder.call<{ closedAtMs: number[] }>({ cmd: 'sessions-stats' });
        const sinceKill = (epochMs: number) => Math.round(epochMs - (performance.timeOrigin + killedAt));
        write(
          `    the kill: process reaped after ${Math.round(exitedMs)} ms; leader elected (survivor /health) after ${Math.round(electionMs)} ms; ` +
            `the sessions' sockets closed (first, median, last) ${closes.closedAtMs.map(sinceKill).join(', ')} ms after the kill; ` +
            `probe: ${sdkEvents.map(([at, what]) => `+${Math.round(at - killedAt)} ms ${what}`).join(', ')}`,
        );
        for (const id of survivors) {
          const lines = site.node(id).stderr.slice(logOffsets.get(id)).split('\n').filter((l) => l !== '').slice(0, 6);
          for (const l of lines) {
            const at = Date.parse(l.slice(0, 24));
            write(`      ${id} ${Number.isNaN(at) ? '' : `+${at - killedAtWallMs} ms `}${l.slice(25, 160)}`);
          }
        }
        // On a loaded machine the survivors may trade leadership for a while: that is reported, not fatal.
        const newLeader = await newLeaderAmong(site, survivors, oldTerm, 30_000).catch(() => undefined);
        const restartAt = performance.now();
        await site.start(leader);
        const caught = newLeader === undefined ? undefined : await caughtUp(site, leader, newLeader, 30_000).catch(() => undefined);
        write(
          `  SIGKILL of ${leader} holding ${count.toLocaleString('en-US')} sessions, trial ${t + 1}: first checkout through a survivor ${Number.isFinite(ms) ? `${Math.round(ms)} ms after the kill` : 'none within 20 s'} ` +
            `(new leader ${newLeader ?? 'none settled within 30 s'}); restarted${caught === undefined ? '' : ` and caught up to ${caught.nodeApplied} in ${Math.round(performance.now() - restartAt)} ms`}`,
        );
      } finally {
        await probe.stop();
      }
    }
  } finally {
    await client.close().catch(() => {});
  }
  out['sessionsKillFirstCheckoutMs'] = firstMs.map((x) => Math.round(x));
  if (firstMs.length > 0) out['sessionsKillFirstCheckoutMedianMs'] = Math.round(median(firstMs));
  out['sessionsKillElectionMs'] = electedMs.map((x) => Math.round(x));
}

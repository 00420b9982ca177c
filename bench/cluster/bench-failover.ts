// Cluster bench, failover: under light SDK load, take the leader down and
// time the first successful checkout sent after it; then bring the node back
// and wait until it caught up. Repeated for a number of trials, twice:
// SIGKILL (the process dies, the OS resets its sockets: the followers see
// them close) and SIGSTOP (the process freezes, its sockets stay open: the
// followers wait out an election timeout), resumed with SIGCONT.
import { connect, type FloeClient } from '../../client/index.ts';
import { median } from '../figures.ts';
import { healthOf } from '../../test/cluster/site-tools.test-support.ts';
import { caughtUp, until } from '../until.ts';
import { CheckoutProbe, electedAfter, newLeaderAmong, recordConnectionEvents } from './checkout-probe.ts';
import { argNumber, write, type Context } from './context.ts';

/** How the leader is taken down in a trial. */
type Fault = 'SIGKILL' | 'SIGSTOP';

export async function benchFailover(ctx: Context): Promise<void> {
  const { site, out, args } = ctx;
  const trials = argNumber(args, '--trials', 20, 1, 100);
  const stopTrials = argNumber(args, '--stop-trials', 10, 0, 100);
  const urls = site.nodes.map((n) => n.clientUrl);
  /** `ms` between two probe checkouts of one client (three clients, staggered: one every ~10 ms). */
  const probeEveryMs = 30;
  const clients: FloeClient[] = [];
  write(
    `failover${ctx.ca !== undefined ? ' over TLS' : ''}: ${trials} trials of SIGKILL and ${stopTrials} of SIGSTOP the leader under light SDK load (3 clients, a checkout every ~10 ms) → first successful checkout sent after it; ` +
      `then restart (SIGCONT) it and wait until it caught up`,
  );
  const failoverMs: Record<Fault, number[]> = { SIGKILL: [], SIGSTOP: [] };
  const electionMs: Record<Fault, number[]> = { SIGKILL: [], SIGSTOP: [] };
  try {
    for (let i = 0; i < 3; i++) {
      const servers = [...urls.slice(i), ...urls.slice(0, i)];
      clients.push(await connect({ servers, user: `f${i}`, host: `fh${i}`, app: 'bench-failover', pendingRequestsMax: 200, requestSendsMax: 50, reconnectAttemptsMax: 100, ...(ctx.ca !== undefined ? { ca: ctx.ca } : {}) }));
    }
    /** SDK connection events (performance.now(), what), for the slow trials' diagnosis. */
    const sdkEvents: [number, string][] = [];
    clients.forEach((c, i) => recordConnectionEvents(c, `c${i} `, sdkEvents));
    const probe = new CheckoutProbe(clients, probeEveryMs, 150);
    const { successes, failureSamples } = probe;
    const runTrial = async (fault: Fault, t: number): Promise<void> => {
      {
        const leader = await site.leader();
        await until('probe checkouts succeeding', 10_000, () => {
          const last = successes.at(-1);
          return last !== undefined && performance.now() - last[1] < 200 ? true : undefined;
        });
        const oldTerm = (await healthOf(site, leader))?.term ?? 0;
        const survivors = site.nodes.filter((n) => n.id !== leader).map((n) => n.id);
        const logOffsets = new Map(survivors.map((id) => [id, site.node(id).stderr.length]));
        const killedAtWall = new Date();
        const killedAt = performance.now();
        if (fault === 'SIGKILL') await site.kill(leader);
        else site.node(leader).child!.kill('SIGSTOP');
        const elected = electedAfter(site, survivors, oldTerm, killedAt, 10_000);
        const printDiagnosis = async (why: string, untilMs: number) => {
          // What the survivors logged and what the SDK clients did until the first checkout (or the give-up).
          write(`    ${why} (killed at ${killedAtWall.toISOString()}):`);
          for (const id of survivors) {
            const lines = site.node(id).stderr.slice(logOffsets.get(id)).split('\n').filter((l) => l !== '').slice(0, 12);
            for (const l of lines) write(`      ${id}: ${l.slice(0, 200)}`);
            const h = await healthOf(site, id);
            write(`      ${id} /health: ${h === null ? 'no answer' : `${h.role} term ${h.term} leader ${h.leaderId} applied ${h.appliedIndex}`}`);
          }
          for (const [at, what] of sdkEvents) if (at >= killedAt && at <= killedAt + untilMs) write(`      +${Math.round(at - killedAt)} ms ${what}`);
          clients.forEach((c, i) => write(`      c${i} on ${c.server ?? '(none)'}`));
          write(`      checkouts since: ${probe.failures - failuresAtKill} failed (${[...new Set(failureSamples)].join('; ')})`);
        };
        const failuresAtKill = probe.failures;
        const firstMs = await until('a checkout sent after the kill to succeed', 10_000, () => probe.firstAnsweredAfter(killedAt)).catch(async (error: unknown) => {
          await printDiagnosis('no checkout succeeded', 10_000);
          if (fault === 'SIGSTOP') site.node(leader).child!.kill('SIGCONT');
          throw error;
        });
        failoverMs[fault].push(firstMs);
        const electedMs = await elected;
        electionMs[fault].push(electedMs);
        const newLeader = await newLeaderAmong(site, survivors, oldTerm, 10_000);
        if (firstMs > 1000) await printDiagnosis('slow trial', firstMs);
        sdkEvents.length = 0;
        const restartAt = performance.now();
        if (fault === 'SIGKILL') await site.start(leader);
        else site.node(leader).child!.kill('SIGCONT');
        const { nodeApplied } = await caughtUp(site, leader, newLeader, 20_000);
        write(
          `  ${fault} trial ${String(t + 1).padStart(2)}: ${leader} ${fault === 'SIGKILL' ? 'SIGKILLed' : 'SIGSTOPped'} → leader elected after ${Math.round(electedMs)} ms, first checkout ${Math.round(firstMs)} ms (new leader ${newLeader}); ` +
            `${fault === 'SIGKILL' ? 'restarted' : 'continued'} and caught up to ${nodeApplied} in ${Math.round(performance.now() - restartAt)} ms`,
        );
      }
    };
    try {
      for (let t = 0; t < trials; t++) await runTrial('SIGKILL', t);
      for (let t = 0; t < stopTrials; t++) await runTrial('SIGSTOP', t);
    } finally {
      await probe.stop();
    }
    for (const fault of ['SIGKILL', 'SIGSTOP'] as const) {
      const all = failoverMs[fault];
      if (all.length === 0) continue;
      const med = median(all);
      const max = Math.max(...all);
      const goal = fault === 'SIGKILL' ? 'median ≤ 100, max ≤ 300' : 'median ≤ 500';
      write(
        `  ${fault}: failover median ${Math.round(med)} ms, max ${Math.round(max)}, min ${Math.round(Math.min(...all))} over ${all.length} trials (goal: ${goal}); ` +
          `election alone: median ${Math.round(median(electionMs[fault]))} ms, max ${Math.round(Math.max(...electionMs[fault]))} ms`,
      );
      const name = fault === 'SIGKILL' ? 'Sigkill' : 'Sigstop';
      out[`failover${name}MedianMs`] = Math.round(med);
      out[`failover${name}MaxMs`] = Math.round(max);
      out[`failover${name}AllMs`] = all.map((x) => Math.round(x));
      out[`election${name}MedianMs`] = Math.round(median(electionMs[fault]));
    }
    write(`  probe checkouts ${successes.length} ok, ${probe.failures} failed${failureSamples.length > 0 ? ` (${[...new Set(failureSamples)].join('; ')})` : ''}`);
    // The pinned names (CONTRACT.md): failoverMs is the SIGKILL median, failoverStopMs the SIGSTOP one.
    if (failoverMs.SIGKILL.length > 0) out['failoverMs'] = Math.round(median(failoverMs.SIGKILL));
    if (failoverMs.SIGSTOP.length > 0) out['failoverStopMs'] = Math.round(median(failoverMs.SIGSTOP));
    out['failoverTrials'] = failoverMs.SIGKILL.length + failoverMs.SIGSTOP.length;
    out['failoverProbeFailures'] = probe.failures;
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

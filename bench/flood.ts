// `npm run bench -- flood [--seconds S] [--connections N] [--frames-per-sec F] [--bystanders B]`:
// issue 11's finding 4 as a benchmark. Three `floe serve` processes with the
// default limits (test/cluster's ClusterSite, as `npm run bench -- cluster`
// uses it); 20 connections (a load worker process of their own, source
// 127.0.0.1) send 40,000 frames/s at the leader for 10 s while 10
// well-behaved clients (another load worker; each from its own source
// address, 127.0.0.11 and up: ten other hosts) churn seats on the leader:
// checkout then checkin, at most one checkout per BYSTANDER_PACE_MS each
// (so within the default rate limits), and heartbeats.
//
// It prints the leader changes every node's /health shows during the flood
// (goal 0), the bystanders' checkout+checkin p99 during the flood against
// the same clients' p99 measured just before without it (goal ≤ 2×,
// `bystanderP99Ratio`), and the growth of the leader's resident memory
// (`rssGrowthMiB`: its peak during the flood minus before). Every loop is
// bounded in time; every process is stopped at the end.
import { loadavg } from 'node:os';
import { round, rssBytesOf, sleep } from './figures.ts';
import { ClusterSite } from '../test/cluster/cluster-harness.test-support.ts';
import { guardSite, liveIds } from '../test/cluster/site-tools.test-support.ts';
import { until } from './until.ts';
import { argNumber, WARMUP_MS, write } from './cluster/context.ts';
import type { FloodFigures } from './cluster/flooder.ts';
import { LeaderWatch } from './cluster/leader-watch.ts';
import { LoadWorkerHandle } from './cluster/load-worker-handle.ts';
import type { RunFigures } from './cluster/load-worker.ts';

/** Seats of the site's license: every bystander may hold one. */
const SEATS = 100;
/** Source address of bystander i: hosts of their own on loopback, as far as the server can tell. */
const bystanderAddress = (i: number) => `127.0.0.${11 + i}`;
/** `ms`: a bystander starts a checkout at most this often (≤ 100 requests/s each, half its rate limit). */
const BYSTANDER_PACE_MS = 20;
/** `ms` the flood runs before the bystanders' measured window opens (and after it closes). */
const FLOOD_MARGIN_MS = 500;
/** `ms` the three nodes may take to agree on a leader at start (a busy machine is slow to start them). */
const LEADER_WAIT_MS = 60_000;
/** `ms` between two samples of the leader's RSS. */
const RSS_SAMPLE_MS = 100;

/** Runs the flood benchmark; answers its figures. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const seconds = argNumber(args, '--seconds', 10, 2, 120);
  const connections = argNumber(args, '--connections', 20, 1, 500);
  const framesPerSec = argNumber(args, '--frames-per-sec', 40_000, 1, 1_000_000);
  const bystanders = argNumber(args, '--bystanders', 10, 1, 100);
  const measuredMs = seconds * 1000 - 2 * FLOOD_MARGIN_MS - WARMUP_MS;
  const startedAt = performance.now();
  const site = await ClusterSite.create({ seats: SEATS });
  const unguard = guardSite(site, { signals: true });
  let calm: LoadWorkerHandle | undefined;
  let attacker: LoadWorkerHandle | undefined;
  let runs = 0;
  const prefix = () => `f${process.pid}r${++runs}`;
  try {
    await Promise.all(site.nodes.map((n) => site.start(n.id)));
    // The workers start once the nodes are up: five processes starting at once on a busy machine outlast the harness's start limit.
    const bystanderWorker = (calm = LoadWorkerHandle.start());
    const attackerWorker = (attacker = LoadWorkerHandle.start());
    const leader = await site.leader(LEADER_WAIT_MS);
    await until('the site license in force', 15_000, async () => {
      const r = await site.admin(leader, '/pools');
      return r?.status === 200 && (r.body as { feature: string }[]).some((p) => p.feature === 'demo') ? true : undefined;
    });
    const leaderNode = site.node(leader);
    const pid = leaderNode.child?.pid;
    write(
      `flood: three floe serve processes with default limits, leader ${leader}; ${connections} connections send ${framesPerSec.toLocaleString('en-US')} frames/s at the leader for ${seconds} s ` +
        `while ${bystanders} clients from their own addresses churn seats on it (checkout+checkin, one per ${BYSTANDER_PACE_MS} ms at most; ${measuredMs} ms measured); load average ${loadavg()[0]!.toFixed(2)}`,
    );
    const churn = () =>
      bystanderWorker.call<RunFigures>({ cmd: 'throughput', urls: [leaderNode.clientUrl], clients: bystanders, durationMs: measuredMs, warmupMs: WARMUP_MS, hello: true, prefix: prefix(), localAddresses: Array.from({ length: bystanders }, (_, i) => bystanderAddress(i)), paceMs: BYSTANDER_PACE_MS });
    const quiet = await churn();
    write(`  without the flood: checkout+checkin p50 ${quiet.p50Ms} ms, p99 ${quiet.p99Ms} ms (${quiet.requestsPerSec.toLocaleString('en-US')} requests/s, ${quiet.errors} errors)`);
    await sleep(1000);
    const rss0 = rssBytesOf(pid);
    let rssPeak = rss0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        rssPeak = Math.max(rssPeak, rssBytesOf(pid));
        await sleep(RSS_SAMPLE_MS);
      }
    })();
    const watch = await LeaderWatch.start(site);
    const flooding = attackerWorker.call<FloodFigures>({ cmd: 'flood', url: leaderNode.clientUrl, connections, framesPerSec, durationMs: seconds * 1000, prefix: prefix() });
    await sleep(FLOOD_MARGIN_MS);
    const busy = await churn();
    const attack = await flooding;
    await sleep(1000); // an election the flood caused may finish just after it
    const leaders = await watch.stop();
    sampling = false;
    await sampler;
    const ratio = round(busy.p99Ms / Math.max(0.001, quiet.p99Ms), 2);
    const rssGrowthMiB = round((rssPeak - rss0) / 2 ** 20, 1);
    write(`  during the flood: checkout+checkin p50 ${busy.p50Ms} ms, p99 ${busy.p99Ms} ms (${busy.requestsPerSec.toLocaleString('en-US')} requests/s, ${busy.errors} errors); p99 ratio ${ratio} (goal ≤ 2)`);
    if (busy.errorSamples.length > 0) write(`  bystander errors: ${busy.errorSamples.join(' | ')}`);
    write(
      `  the flood: ${attack.framesSent.toLocaleString('en-US')} frames (${attack.framesPerSec.toLocaleString('en-US')}/s) over ${attack.connectionsOpened} connections opened; ` +
        `closes ${JSON.stringify(attack.closesByCode)}; replies read ${JSON.stringify(attack.repliesByCode)}`,
    );
    write(`  leader changes ${leaders.leaderChanges} (term changes ${leaders.termChanges}; seen ${leaders.seen.join(' → ')}; slowest /health ${leaders.healthMsMax} ms) (goal 0); leader RSS ${round(rss0 / 2 ** 20, 1)} → peak ${round(rssPeak / 2 ** 20, 1)} MiB (+${rssGrowthMiB})`);
    return {
      seconds,
      connections,
      framesPerSecAsked: framesPerSec,
      framesSent: attack.framesSent,
      framesPerSecSent: attack.framesPerSec,
      floodConnectionsOpened: attack.connectionsOpened,
      floodClosesByCode: attack.closesByCode,
      floodRepliesByCode: attack.repliesByCode,
      bystanders,
      bystanderP50MsQuiet: quiet.p50Ms,
      bystanderP99MsQuiet: quiet.p99Ms,
      bystanderP50MsFlood: busy.p50Ms,
      bystanderP99MsFlood: busy.p99Ms,
      bystanderErrorsFlood: busy.errors,
      bystanderRequestsPerSecFlood: busy.requestsPerSec,
      termChanges: leaders.termChanges,
      healthMsMaxFlood: leaders.healthMsMax,
      leaderRssMiBBefore: round(rss0 / 2 ** 20, 1),
      loadAverage1m: round(loadavg()[0]!, 2),
      benchSeconds: Math.round((performance.now() - startedAt) / 1000),
      leaderChanges: leaders.leaderChanges,
      bystanderP99Ratio: ratio,
      rssGrowthMiB,
    };
  } finally {
    await attacker?.stop();
    await calm?.stop();
    await site.stop();
    unguard();
    if (liveIds(site).length > 0) throw new Error(`nodes still running: ${liveIds(site).join(', ')}`);
  }
}

// Cluster bench, idle: what three nodes cost with no client at all — Raft
// ticks and heartbeats, the peer transport's pings, the timers of the node.
// Each node's CPU time (from /proc) over a quiet window, as a share of one
// core. Goal (issue 18): ≤ 1 % per node.
import { cpuPercentOver, round, sleep } from '../figures.ts';
import { argNumber, write, type Context } from './context.ts';

/** `ms` left after the site starts (or the previous sub-bench) before the window opens. */
const SETTLE_MS = 2000;

export async function benchIdle(ctx: Context): Promise<void> {
  const { site, out, args } = ctx;
  const windowMs = argNumber(args, '--idle-seconds', 10, 1, 120) * 1000;
  const leader = await site.leader();
  await sleep(SETTLE_MS);
  const { percent, wallMs } = await cpuPercentOver(site.nodes.map((n) => n.child?.pid), windowMs);
  const mean = round(percent.reduce((a, b) => a + b, 0) / percent.length, 2);
  write(`idle: no clients for ${Math.round(wallMs)} ms; node CPU ${site.nodes.map((n, i) => `${n.id}${n.id === leader ? ' (leader)' : ''} ${percent[i]}%`).join(', ')}; mean ${mean}% of a core (goal ≤ 1 %)`);
  out['idleCpuPercent'] = mean;
  out['idleCpuPercentByNode'] = percent;
  out['idleCpuPercentLeader'] = percent[site.nodes.findIndex((n) => n.id === leader)];
}

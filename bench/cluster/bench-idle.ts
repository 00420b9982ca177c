// Cluster bench, idle: what three nodes cost with no client at all — Raft
// ticks and heartbeats, the peer transport's pings, the timers of the node.
// Each node's CPU time (from /proc) over a quiet window, as a share of one
// core. Goal (issue 18): ≤ 1 % per node.
import { cpuPercentOver, round, sleep } from '../figures.ts';
import { argNumber, write, type Context } from './context.ts';
import { startFloor } from './floor-site.ts';

/** `ms` left after the site starts (or the previous sub-bench) before the window opens. */
const SETTLE_MS = 2000;

export async function benchIdle(ctx: Context): Promise<void> {
  const { site, out, args } = ctx;
  const windowMs = argNumber(args, '--idle-seconds', 10, 1, 120) * 1000;
  const leader = await site.leader();
  // --floor: the floor's three processes (floor-site.ts: heartbeats every 50 ms and their answers, nothing else), same window.
  const floor = args.includes('--floor') ? await startFloor() : undefined;
  try {
    await sleep(SETTLE_MS);
    const { percent: all, wallMs } = await cpuPercentOver([...site.nodes.map((n) => n.child?.pid), ...(floor?.children.map((c) => c.pid) ?? [])], windowMs);
    const percent = all.slice(0, site.nodes.length);
    const mean = round(percent.reduce((a, b) => a + b, 0) / percent.length, 2);
    write(`idle: no clients for ${Math.round(wallMs)} ms; node CPU ${site.nodes.map((n, i) => `${n.id}${n.id === leader ? ' (leader)' : ''} ${percent[i]}%`).join(', ')}; mean ${mean}% of a core (goal ≤ 1 %)`);
    if (floor !== undefined) {
      const f = all.slice(site.nodes.length);
      const floorMean = round(f.reduce((a, b) => a + b, 0) / f.length, 2);
      write(`  floor, same window (heartbeats every 50 ms, answered; nothing else): leader ${f[0]}%, followers ${f[1]}%, ${f[2]}%; mean ${floorMean}%`);
      out['floorIdleCpuPercent'] = floorMean;
      out['floorIdleCpuPercentByProcess'] = f;
    }
    out['idleCpuPercent'] = mean;
    out['idleCpuPercentByNode'] = percent;
    out['idleCpuPercentLeader'] = percent[site.nodes.findIndex((n) => n.id === leader)];
  } finally {
    floor?.stop();
  }
}

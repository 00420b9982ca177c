// Cluster bench, viewers: what the web console's live updates cost a node.
// At 100 clients of durable checkout+checkin (spread over the three nodes),
// runs alternate without and with N console viewers (default 10, --viewers
// N) holding GET /api/v1/events open on the leader — the busiest node, and
// the one whose event hub then serves them — and compares the leader's CPU
// per request within this one run (medians of --viewer-rounds pairs,
// default 3). Goal (issue 15): ≤ 5 % extra.
import { ADMIN_TOKEN } from '../../test/daemon/test-daemon.test-support.ts';
import { cpuMsOf, median, round } from '../figures.ts';
import { argNumber, WARMUP_MS, write, type Context } from './context.ts';
import type { RunFigures } from './load-worker.ts';

/** Clients of the load while viewers watch (issue 15: "at 100 clients"). */
const CLIENTS = 100;

/** N event streams on `adminUrl`, read and discarded; close() ends them. */
async function openViewers(adminUrl: string, count: number): Promise<{ bytes: () => number; close: () => Promise<void> }> {
  const controller = new AbortController();
  let bytes = 0;
  const readers = await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await fetch(`${adminUrl}/api/v1/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: controller.signal });
      if (res.status !== 200 || res.body === null) throw new Error(`GET /api/v1/events answered ${res.status}`);
      const reader = res.body.getReader();
      // Wrapped in an object: an async function returning the reading loop's promise would adopt
      // it, and opening the viewers would wait for streams that never end.
      return {
        reading: (async () => {
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) return;
              bytes += value.byteLength;
            }
          } catch {
            // Aborted at close().
          }
        })(),
      };
    }),
  );
  return {
    bytes: () => bytes,
    close: async () => {
      controller.abort();
      await Promise.all(readers.map((r) => r.reading));
    },
  };
}

export async function benchViewers(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const viewers = argNumber(args, '--viewers', 10, 1, 100);
  const rounds = argNumber(args, '--viewer-rounds', 3, 1, 10);
  const durationMs = argNumber(args, '--seconds', 4, 1, 60) * 1000;
  const urls = site.nodes.map((n) => n.clientUrl);
  write(`viewers: ${CLIENTS} clients of checkout+checkin, runs of ${durationMs} ms alternating without and with ${viewers} console viewers (GET /api/v1/events on the leader), ${rounds} pairs`);
  const runOnce = async (withViewers: boolean) => {
    const leaderId = await site.leader();
    const leader = site.node(leaderId);
    const watchers = withViewers ? await openViewers(leader.adminUrl, viewers) : undefined;
    try {
      const cpu0 = cpuMsOf(leader.child?.pid);
      const t0 = performance.now();
      const f = await worker.call<RunFigures>({ cmd: 'throughput', urls, clients: CLIENTS, durationMs, warmupMs: WARMUP_MS, hello: true, prefix: ctx.prefix() });
      const wallMs = performance.now() - t0;
      const cpuMs = cpuMsOf(leader.child?.pid) - cpu0;
      const requests = Math.max(1, (f.requestsPerSec * wallMs) / 1000);
      const usPerRequest = (cpuMs * 1000) / requests;
      const streamed = watchers?.bytes() ?? 0;
      write(
        `  ${withViewers ? `with ${viewers} viewers` : 'no viewers     '}: ${f.requestsPerSec.toLocaleString('en-US')} requests/s, p99 ${f.p99Ms} ms; leader ${leaderId} CPU ${Math.round((cpuMs / wallMs) * 100)}%, ${round(usPerRequest, 1)} µs/request` +
          (withViewers ? `; ${Math.round(streamed / 1024)} KiB streamed to each viewer ${Math.round(streamed / viewers / 1024)}` : ''),
      );
      return { usPerRequest, requestsPerSec: f.requestsPerSec, bytesPerViewer: streamed / viewers };
    } finally {
      await watchers?.close();
    }
  };
  const without: number[] = [];
  const withV: number[] = [];
  let bytesPerViewerPerSec = 0;
  for (let i = 0; i < rounds; i++) {
    without.push((await runOnce(false)).usPerRequest);
    const w = await runOnce(true);
    withV.push(w.usPerRequest);
    bytesPerViewerPerSec = Math.round(w.bytesPerViewer / ((durationMs + WARMUP_MS) / 1000));
  }
  const ratio = round(median(withV) / Math.max(0.001, median(without)), 3);
  const extraPercent = round((ratio - 1) * 100, 1);
  write(`  leader CPU per request with ${viewers} viewers / without: ${ratio} (median of ${rounds} pairs) → ${extraPercent} % extra (goal ≤ 5 %)`);
  out['consoleViewers'] = viewers;
  out['leaderCpuUsPerRequestNoViewers_100'] = round(median(without), 1);
  out['leaderCpuUsPerRequestViewers_100'] = round(median(withV), 1);
  out['viewersCpuRatio_100'] = ratio;
  out['viewersExtraCpuPercent_100'] = extraPercent;
  out['eventBytesPerViewerPerSec'] = bytesPerViewerPerSec;
}

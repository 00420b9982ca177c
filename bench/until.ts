// Bounded polling for the benchmarks. They run as plain Node programs, where
// vitest's `vi.waitFor` (what the tests use) is not available; the failover
// bench also times its figures through these polls, so their interval is
// part of what it measures and must stay as it was.
import type { ClusterSite } from '../test/cluster/cluster-harness.test-support.ts';
import { healthOf } from '../test/cluster/site-tools.test-support.ts';

/** `ms` between two polls of a condition. */
export const POLL_INTERVAL_MS = 25;

/** Polls `probe` every POLL_INTERVAL_MS until it answers a value; throws after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}

/**
 * Resolves once `id`'s applied index reached the index `leaderId` had
 * applied when the wait began (the restarted node caught up with everything
 * committed before it); answers both indexes.
 */
export async function caughtUp(site: ClusterSite, id: string, leaderId: string, timeoutMs: number): Promise<{ leaderApplied: number; nodeApplied: number }> {
  const leaderApplied = (await until(`${leaderId}'s health`, timeoutMs, async () => (await healthOf(site, leaderId)) ?? undefined)).appliedIndex;
  const nodeApplied = await until(`${id} to apply up to ${leaderApplied}`, timeoutMs, async () => {
    const h = await healthOf(site, id);
    return h !== null && h.appliedIndex >= leaderApplied ? h.appliedIndex : undefined;
  });
  return { leaderApplied, nodeApplied };
}

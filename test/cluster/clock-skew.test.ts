// Issue 11, finding 3: the skew between members is exposed. Three daemons
// in one process, one of them on a wall clock 5 s ahead; GET /api/v1/cluster
// on each node shows every other member's wall clock against its own
// (clockSkewMs, measured on the peer links' pings), so an operator sees
// which server's clock is off, and by how much, from any node.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';

/** `ms` n2's wall clock runs ahead of the others. */
const AHEAD_MS = 5000;
/** `ms` a skew estimate may be off on loopback under load (half a round trip at worst). */
const SKEW_TOLERANCE_MS = 400;

let site: InProcessSite | undefined;
afterAll(async () => {
  await site?.close();
});

interface ClusterMember {
  readonly id: string;
  readonly clockSkewMs?: number;
}

/** GET /api/v1/cluster on node `id`, as its members' skews. */
async function skewsSeenBy(id: string): Promise<Map<string, number | undefined>> {
  const res = await fetch(`${site!.daemon(id).adminUrl}/api/v1/cluster`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const body = (await res.json()) as { nodes: ClusterMember[] };
  return new Map(body.nodes.map((n) => [n.id, n.clockSkewMs]));
}

describe('finding 3: the skew between members is exposed', () => {
  it('GET /cluster on any node shows a member whose wall clock is 5 s ahead as about +5,000 ms, and the others as about 0', async () => {
    site = await InProcessSite.create({
      ids: ['n1', 'n2', 'n3'],
      dirPrefix: 'floe-clock-skew-',
      debugEnv: 'FLOE_CLOCK_SKEW_DEBUG',
      wallClocks: { n2: () => Date.now() + AHEAD_MS },
    });
    const peers = [0, 1, 2].map((i) => site!.peer(i));
    await Promise.all([0, 1, 2].map((i) => site!.start(i, peers)));
    const measured = { timeout: 30_000, interval: 200 };

    await vi.waitFor(async () => {
      const seen = await skewsSeenBy('n1');
      expect(seen.get('n1')).toBe(0);
      expect(Math.abs((seen.get('n2') ?? Number.NaN) - AHEAD_MS)).toBeLessThan(SKEW_TOLERANCE_MS);
      expect(Math.abs(seen.get('n3') ?? Number.NaN)).toBeLessThan(SKEW_TOLERANCE_MS);
    }, measured);
    await vi.waitFor(async () => {
      const seen = await skewsSeenBy('n2');
      expect(seen.get('n2')).toBe(0);
      expect(Math.abs((seen.get('n1') ?? Number.NaN) + AHEAD_MS)).toBeLessThan(SKEW_TOLERANCE_MS);
      expect(Math.abs((seen.get('n3') ?? Number.NaN) + AHEAD_MS)).toBeLessThan(SKEW_TOLERANCE_MS);
    }, measured);
  }, 60_000);
});

// Three `floe serve` processes on loopback, an SDK client connected to the
// leader, and the leader frozen with SIGSTOP (as a paused VM is): its
// sockets stay open and nothing comes back on them. The survivors elect a
// leader by timeout and the client must find it, without waiting out its
// replyTimeoutMs, keeping the seat it held. The frozen node is always
// continued (SIGCONT) and every process is stopped at the end.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { connect, type FloeClient } from '../../client/index.ts';
import { ClusterSite } from './cluster-harness.test-support.ts';
import { healthOf, startInForce } from './site-tools.test-support.ts';

/**
 * `ms` the client may wait for its reply before it presumes a server dead:
 * far beyond the test's bound, so only noticing the frozen server some other
 * way (before the fix: nothing did) gets the checkout through.
 */
const REPLY_TIMEOUT_MS = 120_000;
/** `ms`: bounds, generous for a loaded machine (a quiet one needs well under a second for each). */
const CHECKOUT_AFTER_FREEZE_MS_MAX = 20_000;
const LICENSE_WAIT_MS = 30_000;
const CONVERGE_WAIT = { timeout: 20_000, interval: 100 };

let site: ClusterSite | undefined;
let client: FloeClient | undefined;
/** The frozen node's process, continued in afterAll should the test fail before it did so itself. */
let frozen: { kill(signal: NodeJS.Signals): boolean } | undefined;
afterAll(async () => {
  frozen?.kill('SIGCONT');
  await client?.close().catch(() => {});
  await site?.stop();
});

/** `promise`, or a rejection naming `what` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('a three-node cluster whose leader freezes (SIGSTOP)', () => {
  it("serves a client that was connected to the frozen leader through the new leader, keeping its seat", { timeout: 120_000 }, async () => {
    const s = await ClusterSite.create({ seats: 10 });
    site = s;
    const leader = await startInForce(s, LICENSE_WAIT_MS);

    // The client starts on the leader and knows the others.
    const leaderUrl = s.node(leader).clientUrl;
    const servers = [leaderUrl, ...s.nodes.filter((n) => n.id !== leader).map((n) => n.clientUrl)];
    client = await connect({ servers, user: 'frozen', host: 'h1', app: 'frozen-leader-test', replyTimeoutMs: REPLY_TIMEOUT_MS, backoffBaseMs: 20, backoffMaxMs: 200 });
    expect(client.server).toBe(leaderUrl);
    const held = await client.checkout('demo');

    const child = s.node(leader).child!;
    frozen = child;
    child.kill('SIGSTOP');
    let newLeader: string;
    try {
      const lease = await within(client.checkout('demo'), CHECKOUT_AFTER_FREEZE_MS_MAX, 'a checkout after the leader froze');
      expect(client.server).not.toBe(leaderUrl);
      expect(lease.feature).toBe('demo');
      const survivors = s.nodes.filter((n) => n.id !== leader);
      const views = await Promise.all(survivors.map((n) => healthOf(s, n.id)));
      const leaders = views.filter((v) => v !== null && v.role === 'leader');
      expect(leaders.length, 'one survivor leads').toBe(1);
      newLeader = leaders[0]!.nodeId;
    } finally {
      child.kill('SIGCONT');
      frozen = undefined;
    }

    // Continued, the old leader follows the new one; the seat held before the freeze is still held.
    await vi.waitFor(async () => {
      const h = await healthOf(s, leader);
      expect(h?.role, `${leader} follows again`).toBe('follower');
      expect(h?.leaderId).toBe(newLeader);
    }, CONVERGE_WAIT);
    const leases = (await s.admin(newLeader, '/leases'))!.body as { leaseId: string }[];
    expect(leases.map((l) => l.leaseId)).toContain(held.leaseId);
    const pools = (await s.admin(newLeader, '/pools'))!.body as { seatsInUse: number; seatsTotal: number }[];
    for (const p of pools) expect(p.seatsInUse).toBeLessThanOrEqual(p.seatsTotal);
  });
});

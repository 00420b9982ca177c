// Three `floe serve` processes on loopback, clients churning seats through
// the SDK (each starting on a different node), the leader SIGKILLed: clients
// keep working through the survivors with every acknowledged seat intact,
// and the killed node, restarted after the log moved past its compaction
// point, catches up by the leader's snapshot.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { connect, type FloeClient, type Lease } from '../../client/index.ts';
import { ClusterSite } from './cluster-harness.test-support.ts';
import { startInForce } from './site-tools.test-support.ts';

/** `ms` the whole churn may run at most (a bound, not a target: it stops once the log moved ENTRIES_AFTER_KILL entries). */
const CHURN_MS_MAX = 120_000;
/**
 * Bounded waits, generous for a loaded machine (a quiet one is done in a
 * fraction): `ms` for the license (and a leader in /cluster at the end), for
 * the first checkout after the kill, for the entries the churn appends
 * after it, and for the restarted node to converge.
 */
const LICENSE_WAIT_MS = 30_000;
const FIRST_CHECKOUT_WAIT = { timeout: 30_000, interval: 50 };
const ENTRIES_WAIT = { timeout: 100_000, interval: 100 };
/** Entries a node takes a snapshot after; its log keeps half as many before it. */
const SNAPSHOT_ENTRIES = 100;
/**
 * Entries the churn appends after the kill: enough that the new leader's
 * log starts after the killed node's last entry (a snapshot at most
 * 2 × SNAPSHOT_ENTRIES after the kill, less its margin of SNAPSHOT_ENTRIES / 2),
 * so the killed node must catch up by snapshot. At load 30 the churn
 * appends about 5 entries/s.
 */
const ENTRIES_AFTER_KILL = 250;
const CONVERGE_WAIT = { timeout: 45_000, interval: 100 };
const CLIENTS = 6;

let site: ClusterSite | undefined;
const clients: FloeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await site?.stop();
});


describe('a three-node cluster of floe serve processes', () => {
  it('keeps serving through a SIGKILLed leader with every acknowledged seat, and the restarted node catches up by snapshot', async () => {
    const s = await ClusterSite.create({
      seats: 40,
      raftToml: [`snapshotEntries = ${SNAPSHOT_ENTRIES}`],
      extraToml: ['leaseTtlMs = 8000', 'heartbeatMs = 1000', 'renewBatchMs = 50', 'leaderGraceMs = 5000'],
    });
    site = s;
    const leader = await startInForce(s, LICENSE_WAIT_MS);

    // Clients start on different nodes (two on each); each knows every server.
    const urls = s.nodes.map((n) => n.clientUrl);
    for (let i = 0; i < CLIENTS; i++) {
      const servers = [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
      clients.push(await connect({ servers, user: `u${i}`, host: `h${i}`, app: 'failover-test', replyTimeoutMs: 3000, backoffBaseMs: 20, backoffMaxMs: 200 }));
    }
    // Seats held across the failover: two per client, acknowledged before the kill.
    const held: Lease[] = [];
    for (const c of clients) held.push(await c.checkout('demo'), await c.checkout('demo'));

    // Churn: checkout + checkin in a loop per client, bounded in time.
    let churning = true;
    const successesAt: number[] = [];
    const startedAt: number[] = [];
    const errors: string[] = [];
    const churnDeadline = Date.now() + CHURN_MS_MAX;
    const loops = clients.map(async (c) => {
      while (churning && Date.now() < churnDeadline) {
        try {
          const t0 = Date.now();
          const lease = await c.checkout('demo');
          successesAt.push(Date.now());
          startedAt.push(t0);
          await c.checkin(lease);
        } catch (error) {
          errors.push((error as Error).message);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
    // The churn is under way before the kill: a few checkouts went through (however slow the machine).
    await vi.waitFor(() => expect(successesAt.length, 'checkouts before the kill').toBeGreaterThan(10), { timeout: 20_000, interval: 100 });
    const before = successesAt.length;

    const killedAt = Date.now();
    await s.kill(leader);
    const newLeader = await s.leader(30_000);
    expect(newLeader).not.toBe(leader);
    // The first checkout sent after the kill that succeeded (through a survivor: the old leader is gone).
    const firstAfter = await vi.waitFor(() => {
      const i = startedAt.findIndex((t) => t > killedAt);
      expect(i, 'a checkout after the kill').toBeGreaterThanOrEqual(0);
      return successesAt[i] as number;
    }, FIRST_CHECKOUT_WAIT);
    const failoverMs = firstAfter - killedAt;
    process.stderr.write(`failover: leader ${leader} SIGKILLed → first checkout through a survivor after ${failoverMs} ms (new leader ${newLeader})\n`);

    // Keep churning until the log is well past the killed node's compaction point.
    const appliedAtKill = ((await s.admin(newLeader, '/health'))?.body as { appliedIndex: number }).appliedIndex;
    await vi.waitFor(async () => {
      const h = await s.admin(newLeader, '/health');
      expect((h?.body as { appliedIndex?: number } | undefined)?.appliedIndex ?? 0, `${ENTRIES_AFTER_KILL} entries after the kill`).toBeGreaterThan(appliedAtKill + ENTRIES_AFTER_KILL);
    }, ENTRIES_WAIT);
    churning = false;
    await Promise.all(loops);

    // Every acknowledged held seat is still held (a linearizable read through the new leader).
    const leases = (await s.admin(newLeader, '/leases'))!.body as { leaseId: string }[];
    const live = new Set(leases.map((l) => l.leaseId));
    for (const l of held) expect(live.has(l.leaseId), `lease ${l.leaseId} survived`).toBe(true);
    const pools = (await s.admin(newLeader, '/pools'))!.body as { seatsInUse: number; seatsTotal: number }[];
    for (const p of pools) expect(p.seatsInUse).toBeLessThanOrEqual(p.seatsTotal);
    expect(successesAt.length).toBeGreaterThan(before);

    // The killed node restarts and catches up by the leader's snapshot. The
    // churn checks every seat back in, so the pools look as they did at the
    // kill: the restarted node's own state matches them before it has caught
    // up at all. So it must also reach the leader's applied index.
    const appliedAfterChurn = ((await s.admin(newLeader, '/health'))?.body as { appliedIndex: number }).appliedIndex;
    await s.start(leader);
    const expected = JSON.stringify(pools);
    await vi.waitFor(async () => {
      const h = await s.admin(leader, '/health');
      expect((h?.body as { appliedIndex?: number } | undefined)?.appliedIndex ?? 0, 'the restarted node caught up').toBeGreaterThanOrEqual(appliedAfterChurn);
      const p = await s.admin(leader, '/pools?stale=true');
      expect(p === null ? null : JSON.stringify((p.body as { data: unknown }).data), 'the restarted node converged').toBe(expected);
    }, CONVERGE_WAIT);
    expect(s.node(leader).stderr).toMatch(/installing the leader's snapshot/);
    // A leader (on a loaded machine it may have moved on from newLeader meanwhile) with all three members.
    await vi.waitFor(async () => {
      const cluster = (await s.admin(newLeader, '/cluster'))?.body as { leaderId: string; nodes: { id: string; matchIndex?: number }[] } | undefined;
      expect(['n1', 'n2', 'n3']).toContain(cluster?.leaderId);
      expect(cluster?.nodes.map((n) => n.id).sort()).toEqual(['n1', 'n2', 'n3']);
    }, { timeout: LICENSE_WAIT_MS, interval: 50 });
  }, 300_000);
});

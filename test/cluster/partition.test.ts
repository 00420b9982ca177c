// Partitions with the fault-injecting peer transport, three daemons in one
// process: an isolated leader steps down (check-quorum), the minority side
// answers UNAVAILABLE, the majority elects a leader and serves, and after
// healing every node converges on the same pools.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FaultInjector, type Daemon } from '../../daemon/index.ts';
import { ADMIN_TOKEN, makeLicenseKey } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';

const sites: InProcessSite[] = [];
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});

describe('a partitioned cluster', () => {
  it('steps an isolated leader down, answers UNAVAILABLE on the minority side, serves on the majority, and converges after healing', async () => {
    const faults = new FaultInjector();
    const site = await InProcessSite.create({ ids: ['n1', 'n2', 'n3'], dirPrefix: 'floe-partition-', debugEnv: 'DEBUG_PARTITION', faults });
    sites.push(site);
    const { ids, identities } = site;
    const peers = ids.map((_, i) => site.peer(i));
    const key = makeLicenseKey(identities.map((x) => x.lockCode), { seats: 10, licenseId: 'LIC-PART' });
    const daemons: Daemon[] = [];
    for (const i of ids.keys()) daemons.push(await site.start(i, peers));
    const leaderOf = () => daemons.find((d) => d.node.isLeader);
    // A leader just elected on a loaded machine may lose office under the import (NOT_LEADER, thrown or
    // answered): ask the leader of the moment again; LICENSE_EXISTS means an earlier try committed.
    await vi.waitFor(async () => {
      const r = await leaderOf()?.node.importLicense(key);
      expect(r !== undefined && (r.ok || r.code === 'LICENSE_EXISTS'), `the key to be imported: ${r === undefined ? 'no leader' : r.ok ? 'ok' : r.code}`).toBe(true);
    }, { timeout: 20_000, interval: 50 });
    const leader = await vi.waitFor(() => {
      const l = leaderOf();
      expect(l, 'a leader').toBeDefined();
      return l!;
    }, { timeout: 10_000 });

    // A client on the leader and one on a follower both hold a seat.
    const onLeader = await site.wire(leader.node.config.nodeId);
    const follower = daemons.find((d) => d !== leader)!;
    const onFollower = await site.wire(follower.node.config.nodeId);
    expect((await onLeader.hello('client-on-leader-1')).ok).toBe(true);
    expect((await onFollower.hello('client-on-follower-1')).ok).toBe(true);
    const r1 = await onLeader.checkout('request-1');
    expect(r1.ok, JSON.stringify(r1)).toBe(true);
    expect((await onFollower.checkout('request-2')).ok).toBe(true);

    // Isolate the leader: it steps down; its clients get UNAVAILABLE, promptly.
    const isolatedId = leader.node.config.nodeId;
    faults.isolate(isolatedId);
    await vi.waitFor(() => expect(!leader.node.isLeader, 'the isolated leader to step down').toBe(true), { timeout: 3000 });
    const t0 = Date.now();
    const refused = await onLeader.checkout('request-3');
    expect(refused.ok).toBe(false);
    expect(refused['error'].code).toBe('UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(2500);
    const stale = await fetch(`${leader.adminUrl}/api/v1/pools`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(stale.status).toBe(503);

    // The majority elects a leader and serves.
    await vi.waitFor(() => expect(daemons.some((d) => d !== leader && d.node.isLeader), 'a leader on the majority side').toBe(true), { timeout: 5000 });
    expect((await onFollower.checkout('request-4')).ok).toBe(true);

    // Heal: the old leader rejoins as a follower and converges.
    faults.heal();
    const majorityLeader = daemons.find((d) => d.node.isLeader)!;
    expect(majorityLeader).not.toBe(leader);
    await vi.waitFor(() => {
      const applied = daemons.map((d) => d.node.status().appliedIndex);
      expect(applied.every((a) => a === applied[0]) && leader.node.status().leaderId === majorityLeader.node.config.nodeId, 'every node to apply the same log').toBe(true);
    }, { timeout: 10_000 });
    const pools = daemons.map((d) => JSON.stringify(d.node.pools()));
    expect(new Set(pools).size).toBe(1);
    expect(daemons[0]!.node.leases().length).toBe(3);
  }, 60_000);
});

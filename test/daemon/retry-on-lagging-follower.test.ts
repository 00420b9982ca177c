// A retried checkout on a follower that refuses the feature (its key has lost
// the quorum of the servers it names) and has not yet applied the grant the
// cluster already committed for that request: the follower must not answer
// from its lagging state, but wait for what was committed (a read barrier)
// and answer the first grant. Three daemons in this process; the leader's
// messages to the follower are delayed so the follower lags for certain.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FaultInjector, type Daemon } from '../../daemon/index.ts';
import { LicenseRefusalError } from '../../daemon/node/index.ts';
import { InProcessSite } from '../cluster/in-process-site.test-support.ts';
import { makeLicenseKey } from './test-daemon.test-support.ts';

const sites: InProcessSite[] = [];
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});

/** `ms` the leader's messages to the follower are delayed: far below the follower's election timeout. */
const LAG_MS = 150;

describe('a retried checkout on a lagging follower that refuses the feature', () => {
  it('answers the grant the cluster committed for the request, not LICENSE_QUORUM_LOST', async () => {
    const faults = new FaultInjector();
    const site = await InProcessSite.create({
      ids: ['n1', 'n2', 'n3'],
      dirPrefix: 'floe-retry-lag-',
      debugEnv: 'DEBUG_RETRY_LAG',
      faults,
      // Elections after 500–1000 ms without a leader: a loaded machine plus LAG_MS never starts one.
      config: { raft: { electionTicks: 20 } },
    });
    sites.push(site);
    const peers = site.ids.map((_, i) => site.peer(i));
    const daemons: Daemon[] = [];
    for (const i of site.ids.keys()) daemons.push(await site.start(i, peers));
    await vi.waitFor(() => expect(daemons.some((d) => d.node.isLeader), 'a leader').toBe(true), { timeout: 20_000 });
    const leader = daemons.find((d) => d.node.isLeader)!;
    const follower = daemons.find((d) => d !== leader)!;
    const leaderId = leader.node.config.nodeId;
    const followerId = follower.node.config.nodeId;

    // The key names the follower and two servers that are gone: the follower reaches 1 of 3 and refuses.
    const followerLock = site.identities[site.ids.indexOf(followerId)]!.lockCode;
    const key = makeLicenseKey([followerLock, 'LOCK-GONE-1', 'LOCK-GONE-2'], { seats: 5, licenseId: 'LIC-LAG' });
    expect(await follower.node.importLicense(key)).toMatchObject({ ok: true });
    expect(follower.node.featureRefusal('demo')?.code).toBe('LICENSE_QUORUM_LOST');

    // The client's session is on the follower.
    const opened = await follower.node.propose({ type: 'session-open', sessionId: 's1', clientId: 'client-lag', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    expect(opened.reply.ok).toBe(true);

    // From now on the follower hears the leader LAG_MS late.
    faults.setDelay(leaderId, followerId, LAG_MS);
    // The checkout is committed and applied by the leader (with the third node), as when it was granted
    // while the key's servers were up; its answer never reached the client, which retries on the follower.
    const checkout = { type: 'checkout', sessionId: 's1', requestId: 'req-lag-1', feature: 'demo', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 } as const;
    const granted = await leader.node.propose(checkout);
    if (!granted.reply.ok || granted.reply.type !== 'granted') throw new Error(`not granted: ${JSON.stringify(granted.reply)}`);
    const leaseId = granted.reply.lease.leaseId;
    // The follower has not applied the grant yet: its own state would refuse the retry.
    expect(follower.node.leases().map((l) => l.leaseId)).not.toContain(leaseId);

    const retried = await follower.node.proposeCheckout(checkout);
    expect(retried.reply).toMatchObject({ ok: true, type: 'granted', lease: { leaseId } });
    // A request the cluster never answered is still refused, and nothing was granted for it.
    await expect(follower.node.proposeCheckout({ ...checkout, requestId: 'req-lag-2' })).rejects.toBeInstanceOf(LicenseRefusalError);
    faults.heal();
    const commitIndex = leader.node.status().commitIndex;
    await vi.waitFor(() => expect(daemons.every((d) => d.node.status().appliedIndex >= commitIndex), 'every node to apply the log').toBe(true), { timeout: 10_000 });
    for (const d of daemons) expect(d.node.leases().map((l) => l.leaseId)).toEqual([leaseId]);
  }, 60_000);
});

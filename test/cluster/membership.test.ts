// Replacing a member without stopping service, in one process: a fourth
// node starts empty with `join = true`, is added through the admin API
// (POST /cluster/members), catches up from the leader, and the member it
// replaces is removed (DELETE /cluster/members/:id); the cluster keeps
// serving throughout, and the `servers` every hello tells clients follows
// the membership (n4 listed once added, n3 no longer once removed).
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FaultInjector } from '../../daemon/index.ts';
import { makeLicenseKey } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { defined } from './site-tools.test-support.ts';

/**
 * `ms` a wait may take: a leader, a catch-up, an apply. Generous, because a
 * loaded machine (two test workers beside other suites) can starve the four
 * in-process nodes into a re-election; a quiet run takes about 10 s in all.
 */
const SETTLE_MS_MAX = 30_000;

const sites: InProcessSite[] = [];
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});

describe('replacing a member', () => {
  it('adds a joining node that catches up, then removes the old one, serving throughout', async () => {
    const site = await InProcessSite.create({ ids: ['n1', 'n2', 'n3', 'n4'], dirPrefix: 'floe-membership-', debugEnv: 'DEBUG_MEMBERSHIP', config: { raft: { snapshotEntries: 50 } } });
    sites.push(site);
    const { identities } = site;
    const peer = (i: number) => site.peer(i);
    const start = (i: number, peers: ReturnType<typeof peer>[], joining: boolean) => site.start(i, peers, joining);
    const daemons = site.daemons;
    const first = [peer(0), peer(1), peer(2)];
    for (const i of [0, 1, 2]) await start(i, first, false);
    const leaderOf = () => site.leader();
    /** The leader once there is one: read inside a wait, an election in progress is waited out, never a crash. */
    const leader = () => vi.waitFor(() => defined(leaderOf(), 'a leader'), { timeout: SETTLE_MS_MAX });
    const key = makeLicenseKey(identities.slice(0, 3).map((x) => x.lockCode), { seats: 200, licenseId: 'LIC-MEMBERS' });
    expect((await (await leader()).node.importLicense(key)).ok).toBe(true);
    const client = await site.wire('n1');
    expect((await client.hello('membership-client')).ok).toBe(true);
    for (let i = 0; i < 60; i++) expect((await client.checkout(`request-a${i}`)).ok).toBe(true);

    // n3 "dies"; n4 starts empty and joins.
    await site.stop('n3');
    await vi.waitFor(() => defined(leaderOf(), 'a leader among the survivors'), { timeout: SETTLE_MS_MAX });
    await start(3, [...first, peer(3)], true);
    const admin = (method: string, path: string, body?: unknown) => site.admin(method, path, body);
    const p4 = peer(3);
    const added = await site.changeMembers('POST', '/cluster/members', { id: 'n4', peerUrl: p4.peerUrl, clientUrl: p4.clientUrl, publicKey: p4.publicKey });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const n4 = daemons.get('n4')!;
    let helloClients = 0;
    const helloServers = async (id: string): Promise<string[]> => {
      const wire = await site.wire(id);
      try {
        const hello = await wire.hello(`membership-servers-${helloClients++}`);
        expect(hello['ok'], JSON.stringify(hello)).toBe(true);
        return hello['servers'] as string[];
      } finally {
        await wire.close();
      }
    };
    await vi.waitFor(() => expect(n4.node.status().appliedIndex >= defined(leaderOf(), 'a leader').node.status().commitIndex && n4.node.leases().length === 60, 'n4 to catch up').toBe(true), { timeout: SETTLE_MS_MAX });
    const addedAt = (await leader()).node.status().commitIndex;
    await vi.waitFor(() => expect([...daemons.values()].every((d) => d.node.status().appliedIndex >= addedAt), 'every member to apply the add').toBe(true), { timeout: SETTLE_MS_MAX });
    for (const id of ['n1', 'n2', 'n4']) expect(await helloServers(id)).toEqual([peer(0).clientUrl, peer(1).clientUrl, peer(2).clientUrl, p4.clientUrl]);

    const removed = await site.changeMembers('DELETE', '/cluster/members/n3');
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    const members = (await admin('GET', '/cluster')).body.nodes.map((n: { id: string }) => n.id).sort();
    expect(members).toEqual(['n1', 'n2', 'n4']);
    const commitIndex = (await leader()).node.status().commitIndex;
    await vi.waitFor(() => expect([...daemons.values()].every((d) => d.node.status().appliedIndex >= commitIndex), 'every member to apply the removal').toBe(true), { timeout: SETTLE_MS_MAX });
    for (const id of ['n1', 'n2', 'n4']) expect(await helloServers(id)).toEqual([peer(0).clientUrl, peer(1).clientUrl, p4.clientUrl]);
    // Still serving, and n4 applies what follows.
    expect((await client.checkout('request-b1')).ok).toBe(true);
    await vi.waitFor(() => expect(n4.node.leases().length === 61, 'n4 to apply the new lease').toBe(true), { timeout: SETTLE_MS_MAX });

    // The old key does not name n4's lock code: n4 refuses its feature until the vendor's new key is in.
    const onN4 = await site.wire('n4');
    expect((await onN4.hello('membership-client-4')).ok).toBe(true);
    const refused = await onN4.checkout('request-c1');
    expect(refused['error']?.code).toBe('LICENSE_NOT_FOR_THIS_SERVER');
    const newKey = makeLicenseKey([0, 1, 3].map((i) => identities[i]!.lockCode), { seats: 200, licenseId: 'LIC-MEMBERS-2' });
    expect((await admin('POST', '/licenses', { key: newKey })).status).toBe(201);
    await vi.waitFor(() => expect(n4.node.licenses().length === 2, 'n4 to apply the new key').toBe(true), { timeout: SETTLE_MS_MAX });
    expect((await onN4.checkout('request-c2')).ok).toBe(true);
  }, 180_000);

  it('a new member that cannot catch up yet does not stop the cluster: it waits as a learner, and votes once it holds the log', async () => {
    // Replacing a dead member: n3 is down, n4 joins. Until n4 holds the log, n1 and n2 must still commit,
    // and a leader lost in that window must not leave a cluster that cannot elect (n1 + n2 are not 3 of 4).
    const faults = new FaultInjector();
    const site = await InProcessSite.create({ ids: ['n1', 'n2', 'n3', 'n4'], dirPrefix: 'floe-membership-learner-', debugEnv: 'DEBUG_MEMBERSHIP', faults });
    sites.push(site);
    const first = [site.peer(0), site.peer(1), site.peer(2)];
    for (const i of [0, 1, 2]) await site.start(i, first, false);
    const leader = () => vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: SETTLE_MS_MAX });
    const key = makeLicenseKey(site.identities.slice(0, 3).map((x) => x.lockCode), { seats: 50, licenseId: 'LIC-LEARNER' });
    expect((await (await leader()).node.importLicense(key)).ok).toBe(true);
    const client = await site.wire('n1');
    expect((await client.hello('learner-client')).ok).toBe(true);
    expect((await client.checkout('before-add')).ok).toBe(true);

    await site.stop('n3');
    await leader();
    // n4 hears nothing from the others for now (a slow link, a large snapshot): it cannot catch up.
    faults.dropLink('n1', 'n4');
    faults.dropLink('n2', 'n4');
    await site.start(3, [...first, site.peer(3)], true);
    const p4 = site.peer(3);
    const adding = site.changeMembers('POST', '/cluster/members', { id: 'n4', peerUrl: p4.peerUrl, clientUrl: p4.clientUrl, publicKey: p4.publicKey }, 60_000);
    await vi.waitFor(() => expect((site.leader()?.node.clusterStatus().nodes ?? []).some((n) => n.id === 'n4'), 'n4 to be a member').toBe(true), { timeout: SETTLE_MS_MAX });
    const n4View = () => defined(site.leader(), 'a leader').node.clusterStatus().nodes.find((n) => n.id === 'n4');
    expect(n4View()?.role).toBe('learner');

    // The cluster still commits: a checkout succeeds while n4 is cut off.
    const during = await vi.waitFor(async () => {
      const r = await client.checkout('while-n4-catches-up');
      expect(r.ok, JSON.stringify(r)).toBe(true);
      return r;
    }, { timeout: 10_000, interval: 200 });
    expect(during.ok).toBe(true);
    expect(n4View()?.role).toBe('learner');

    // n4's links heal: it catches up, is made a voter, and the add answers 201.
    faults.restoreLink('n1', 'n4');
    faults.restoreLink('n2', 'n4');
    const added = await adding;
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.nodes.find((n: { id: string }) => n.id === 'n4')?.role).not.toBe('learner');
    const n4 = site.daemons.get('n4')!;
    await vi.waitFor(() => expect(n4.node.leases().length === 2, 'n4 to hold both leases').toBe(true), { timeout: SETTLE_MS_MAX });
    // Now a voter: with n3 down, a commit needs n4 (three of four), and gets it.
    expect((await client.checkout('after-add')).ok).toBe(true);
  }, 120_000);
});

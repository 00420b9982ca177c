// Replacing a member without stopping service, in one process: a fourth
// node starts empty with `join = true`, is added through the admin API
// (POST /cluster/members), catches up from the leader, and the member it
// replaces is removed (DELETE /cluster/members/:id); the cluster keeps
// serving throughout, and the `servers` every hello tells clients follows
// the membership (n4 listed once added, n3 no longer once removed).
import { afterAll, describe, expect, it } from 'vitest';
import { makeLicenseKey } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { untilTrue } from './site-tools.test-support.ts';

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
    await untilTrue('a leader', 10_000, () => leaderOf() !== undefined);
    const key = makeLicenseKey(identities.slice(0, 3).map((x) => x.lockCode), { seats: 200, licenseId: 'LIC-MEMBERS' });
    expect((await leaderOf()!.node.importLicense(key)).ok).toBe(true);
    const client = await site.wire('n1');
    expect((await client.hello('membership-client')).ok).toBe(true);
    for (let i = 0; i < 60; i++) expect((await client.checkout(`request-a${i}`)).ok).toBe(true);

    // n3 "dies"; n4 starts empty and joins.
    await site.stop('n3');
    await untilTrue('a leader among the survivors', 10_000, () => leaderOf() !== undefined);
    await start(3, [...first, peer(3)], true);
    const admin = (method: string, path: string, body?: unknown) => site.admin(method, path, body);
    const p4 = peer(3);
    const added = await admin('POST', '/cluster/members', { id: 'n4', peerUrl: p4.peerUrl, clientUrl: p4.clientUrl, publicKey: p4.publicKey });
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
    await untilTrue('n4 to catch up', 10_000, () => n4.node.status().appliedIndex >= leaderOf()!.node.status().commitIndex && n4.node.leases().length === 60);
    const addedAt = leaderOf()!.node.status().commitIndex;
    await untilTrue('every member to apply the add', 10_000, () => [...daemons.values()].every((d) => d.node.status().appliedIndex >= addedAt));
    for (const id of ['n1', 'n2', 'n4']) expect(await helloServers(id)).toEqual([peer(0).clientUrl, peer(1).clientUrl, peer(2).clientUrl, p4.clientUrl]);

    const removed = await admin('DELETE', '/cluster/members/n3');
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    const members = (await admin('GET', '/cluster')).body.nodes.map((n: { id: string }) => n.id).sort();
    expect(members).toEqual(['n1', 'n2', 'n4']);
    const commitIndex = leaderOf()!.node.status().commitIndex;
    await untilTrue('every member to apply the removal', 10_000, () => [...daemons.values()].every((d) => d.node.status().appliedIndex >= commitIndex));
    for (const id of ['n1', 'n2', 'n4']) expect(await helloServers(id)).toEqual([peer(0).clientUrl, peer(1).clientUrl, p4.clientUrl]);
    // Still serving, and n4 applies what follows.
    expect((await client.checkout('request-b1')).ok).toBe(true);
    await untilTrue('n4 to apply the new lease', 5000, () => n4.node.leases().length === 61);

    // The old key does not name n4's lock code: n4 refuses its feature until the vendor's new key is in.
    const onN4 = await site.wire('n4');
    expect((await onN4.hello('membership-client-4')).ok).toBe(true);
    const refused = await onN4.checkout('request-c1');
    expect(refused['error']?.code).toBe('LICENSE_NOT_FOR_THIS_SERVER');
    const newKey = makeLicenseKey([0, 1, 3].map((i) => identities[i]!.lockCode), { seats: 200, licenseId: 'LIC-MEMBERS-2' });
    expect((await admin('POST', '/licenses', { key: newKey })).status).toBe(201);
    await untilTrue('n4 to apply the new key', 5000, () => n4.node.licenses().length === 2);
    expect((await onN4.checkout('request-c2')).ok).toBe(true);
  }, 60_000);
});

// Peers added at run time survive a restart: n4 replaces n3 through the
// admin API (add n4, remove n3), the log is compacted past both changes,
// and then every node restarts with the config file it started with (n1 and
// n2 still list n1, n2, n3; n4 lists all four with join = true). The log's
// membership wins: GET /cluster shows n1, n2, n4, and n1 with n4 alone (n2
// stopped too) still commit, which they can only do if they reach each other.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { makeLicenseKey } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { defined } from './site-tools.test-support.ts';

const sites: InProcessSite[] = [];
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});

/** Four identities (n4 joins later), snapshots every 20 commands; closed after the file. */
async function fourNodeSite(dirPrefix: string): Promise<InProcessSite> {
  const site = await InProcessSite.create({
    ids: ['n1', 'n2', 'n3', 'n4'],
    dirPrefix,
    debugEnv: 'DEBUG_RESTART_MEMBERSHIP',
    config: { leaseTtlMs: 30_000, raft: { snapshotEntries: 20 } },
  });
  sites.push(site);
  return site;
}

describe('membership changed at run time', () => {
  it('survives a restart of every node with its original config file: the added member is reached, the removed one is not re-added', async () => {
    const site = await fourNodeSite('floe-restart-membership-');
    const { identities, ids } = site;
    const peer = (i: number) => site.peer(i);
    const start = (i: number, peers?: ReturnType<typeof peer>[], joining = false) => site.start(i, peers, joining);
    const stop = (id: string) => site.stop(id);
    const leaderOf = () => site.leader();
    const admin = (method: string, path: string, body?: unknown) => site.admin(method, path, body);
    const daemons = site.daemons;
    let requests = 0;
    /** Opens a session on `id` and takes `count` seats: each step a commit of the cluster. */
    const checkouts = async (id: string, count: number): Promise<void> => {
      const wire = await site.wire(id);
      expect((await wire.hello(`restart-membership-${requests}`)).ok).toBe(true);
      for (let i = 0; i < count; i++) {
        const reply = await wire.checkout(`request-${requests++}`);
        expect(reply['ok'], JSON.stringify(reply)).toBe(true);
      }
      await wire.close();
    };

    const first = [peer(0), peer(1), peer(2)];
    for (const i of [0, 1, 2]) await start(i, first);
    await vi.waitFor(() => defined(leaderOf(), 'a leader'), { timeout: 20_000 });

    // n3 dies and is replaced by n4 at run time; the vendor's new key names n1, n2, n4.
    await stop('n3');
    await vi.waitFor(() => defined(leaderOf(), 'a leader among n1, n2'), { timeout: 20_000 });
    await start(3, [...first, peer(3)], true);
    const p4 = peer(3);
    const added = await site.changeMembers('POST', '/cluster/members', { id: 'n4', peerUrl: p4.peerUrl, clientUrl: p4.clientUrl, publicKey: p4.publicKey });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect((await site.changeMembers('DELETE', '/cluster/members/n3')).status).toBe(200);
    const key = makeLicenseKey([0, 1, 3].map((i) => identities[i]!.lockCode), { seats: 500, licenseId: 'LIC-124' });
    expect((await admin('POST', '/licenses', { key })).status).toBe(201);
    // Enough entries after the changes that every log is compacted past them (snapshots every 20).
    await checkouts((await vi.waitFor(() => defined(leaderOf(), 'a leader'), { timeout: 20_000 })).node.config.nodeId, 120);
    const n4 = daemons.get('n4')!;
    await vi.waitFor(() => expect(n4.node.status().appliedIndex >= defined(leaderOf(), 'a leader').node.status().commitIndex, 'n4 to catch up').toBe(true), { timeout: 20_000 });

    // Every node restarts with the config it started with; n3 stays dead.
    for (const id of ['n1', 'n2', 'n4']) await stop(id);
    for (const i of [0, 1, 3]) await start(i);
    await vi.waitFor(() => defined(leaderOf(), 'a leader after the restart'), { timeout: 20_000 });
    const members = (await admin('GET', '/cluster')).body.nodes.map((n: { id: string }) => n.id).sort();
    expect(members).toEqual(['n1', 'n2', 'n4']);
    // n1's and n2's transports dial n4 (not in their files) and not n3 (still in them).
    for (const id of ['n1', 'n2']) {
      const peers = Object.keys(daemons.get(id)!.peers!.transport.stats().peers).sort();
      expect(peers, id).toEqual(ids.filter((x) => x !== id && x !== 'n3'));
    }

    // With n2 stopped too, n1 and n4 are the majority: they commit only if they reach each other.
    await stop('n2');
    await vi.waitFor(() => defined(leaderOf(), 'a leader among n1, n4'), { timeout: 20_000 });
    await vi.waitFor(() => checkouts(defined(leaderOf(), 'a leader').node.config.nodeId, 1), { timeout: 20_000 });
  }, 120_000);

  it('a member that was down while another was added learns its address from the leader\'s snapshot, and dials it', async () => {
    const site = await fourNodeSite('floe-snapshot-membership-');
    const first = [site.peer(0), site.peer(1), site.peer(2)];
    for (const i of [0, 1, 2]) await site.start(i, first);
    await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 });
    const key = makeLicenseKey(site.identities.slice(0, 3).map((x) => x.lockCode), { seats: 500, licenseId: 'LIC-SNAP' });
    expect((await site.admin('POST', '/licenses', { key })).status).toBe(201);

    // n3 is down while n4 is added; then the log moves on far past the add (snapshots every 20 commands).
    await site.stop('n3');
    await vi.waitFor(() => defined(site.leader(), 'a leader among n1, n2'), { timeout: 20_000 });
    await site.start(3, [...first, site.peer(3)], true);
    const p4 = site.peer(3);
    expect((await site.changeMembers('POST', '/cluster/members', { id: 'n4', peerUrl: p4.peerUrl, clientUrl: p4.clientUrl, publicKey: p4.publicKey })).status).toBe(201);
    const wire = await site.wire((await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 })).node.config.nodeId);
    expect((await wire.hello('snapshot-membership')).ok).toBe(true);
    for (let i = 0; i < 80; i++) {
      const reply = await wire.checkout(`snapshot-request-${i}`);
      expect(reply['ok'], JSON.stringify(reply)).toBe(true);
    }

    // n3 returns with its original config, which does not list n4: only the snapshot can tell it where n4 is.
    const n3 = await site.start(2);
    await vi.waitFor(() => expect(n3.peers!.transport.stats().peers['n4']?.connected === true, 'n3 to dial n4').toBe(true), { timeout: 20_000 });
    // It dials n4 once the snapshot is installed, maybe before it applies the entries after it.
    await vi.waitFor(() => expect(n3.node.leases().length === 80, 'n3 to hold the 80 leases').toBe(true), { timeout: 20_000 });
    expect(n3.node.leases().length).toBe(80);
  }, 120_000);
});

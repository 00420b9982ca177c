// Clients prefer the leader (issue 18), on three real daemons: hello names
// the leader's client URL, an SDK client that connected to a follower moves
// its session there with its seat, a client with preferLeader off stays,
// and when the leader goes the others push the new one and the client ends
// up on it, its seat still held. A loaded machine may elect a leader more
// than once meanwhile: each check asks who leads at that moment.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { connect, type FloeClient } from '../../client/index.ts';
import { makeLicenseKey } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { defined } from './site-tools.test-support.ts';

/** `ms` a cluster-wide condition (an election, a move) may take on a loaded machine. */
const SETTLE_MS_MAX = 40_000;
const SETTLE = { timeout: SETTLE_MS_MAX, interval: 50 } as const;

const sites: InProcessSite[] = [];
const clients: FloeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(sites.map((s) => s.close()));
});

describe('clients prefer the leader', () => {
  it('a session opened on a follower moves to the leader with its seat, and follows the next leader', async () => {
    const site = await InProcessSite.create({ ids: ['n1', 'n2', 'n3'], dirPrefix: 'floe-leader-preference-', debugEnv: 'DEBUG_LEADER_PREFERENCE' });
    sites.push(site);
    const peers = site.ids.map((_, i) => site.peer(i));
    for (const i of site.ids.keys()) await site.start(i, peers);
    const leaderNow = () => defined(site.leader(), 'a leader');
    const key = makeLicenseKey(site.identities.map((i) => i.lockCode), { seats: 5, licenseId: 'LIC-LEADER' });
    // A retry after an answer lost to an election finds the key installed: LICENSE_EXISTS is success too.
    await vi.waitFor(async () => {
      const r = await leaderNow().node.importLicense(key);
      expect(r.ok || r.code === 'LICENSE_EXISTS', `the key to be imported: ${r.ok ? 'ok' : r.code}`).toBe(true);
    }, SETTLE);
    await vi.waitFor(() => expect(site.ids.every((id) => site.daemon(id).node.featureRefusal('demo') === undefined), 'every node to serve the key').toBe(true), SETTLE);
    const firstLeader = await vi.waitFor(leaderNow, SETTLE);
    const followerId = site.ids.find((id) => site.daemon(id) !== firstLeader)!;
    const follower = site.daemon(followerId);

    // The wire: hello names the leader's client URL, one of `servers`.
    const wire = await site.wire(followerId);
    const hello = await wire.hello('leader-preference-wire');
    expect(hello['ok']).toBe(true);
    expect(site.ids.map((id) => site.daemon(id).clientUrl)).toContain(hello['leader']);
    expect(hello['servers']).toContain(hello['leader']);

    // The SDK, told the follower's URL alone: its session and seat end up on the leader.
    const client = await connect({ servers: [follower.clientUrl], user: 'alice', host: 'ws-1', app: 'leader-test', backoffBaseMs: 20, backoffMaxMs: 200, reconnectAttemptsMax: 1000 });
    clients.push(client);
    const stays = await connect({ servers: [follower.clientUrl], user: 'bob', host: 'ws-2', app: 'leader-test', preferLeader: false, reconnectAttemptsMax: 1000 });
    clients.push(stays);
    const sessionId = client.sessionId;
    const lease = await client.checkout('demo');
    await vi.waitFor(() => expect(client.server).toBe(leaderNow().clientUrl), SETTLE);
    expect(client.sessionId).toBe(sessionId);
    expect(client.leases().map((l) => l.leaseId)).toEqual([lease.leaseId]);
    await vi.waitFor(() => expect(leaderNow().node.leases().some((l) => l.leaseId === lease.leaseId)).toBe(true), SETTLE);
    const kept = await stays.checkout('demo');
    expect(stays.server).toBe(follower.clientUrl);

    // The leader goes: a node that stays pushes the new leader to its sessions, and the client, failed over, ends up there.
    const goneId = site.ids.find((id) => site.daemon(id) === leaderNow())!;
    const watcherId = site.ids.find((id) => id !== goneId)!;
    const watcher = await site.wire(watcherId);
    expect((await watcher.hello('leader-preference-watcher'))['ok']).toBe(true);
    const goneUrl = site.daemon(goneId).clientUrl;
    await site.stop(goneId);
    await vi.waitFor(() => expect(watcher.pushes.some((p) => p['type'] === 'leader' && p['leader'] !== goneUrl && p['leader'] === site.leader()?.clientUrl), 'a leader push naming the new leader').toBe(true), SETTLE);
    await vi.waitFor(() => expect(client.server).toBe(leaderNow().clientUrl), SETTLE);
    expect(client.sessionId).toBe(sessionId);
    expect(client.leases().map((l) => l.leaseId)).toEqual([lease.leaseId]);
    await client.checkin(lease);
    if (goneId !== followerId) {
      await stays.checkin(kept);
      expect(stays.server).toBe(follower.clientUrl);
    }
  }, 180_000);
});

// Issue 16 end to end on three servers (in this process), through the SDK and
// the admin API: a reservation for alice holds the last seat against bob; a
// policy set through a follower takes effect on all three nodes; a seat
// borrowed before the leader dies is still counted after it, and is given
// back early through another server, with the token still checked offline.
import { afterAll, describe, expect, it } from 'vitest';
import { checkBorrowedSeat, connect, isFloeError, type FloeClient } from '../../client/index.ts';
import { ADMIN_TOKEN, makeLicenseKey } from '../daemon/helpers.ts';
import { InProcessSite } from './in-process-site.ts';
import { until } from './site-tools.ts';

const sites: InProcessSite[] = [];
const clients: FloeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all(sites.map((s) => s.close()));
});

/** The error code a promise rejects with, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (!isFloeError(error)) return String(error);
    return error.message.startsWith(`${error.code}: `) ? error.message : `${error.code}: ${error.message}`;
  }
}

describe('seat policy and borrowing on a three-node site', () => {
  it('a reservation holds the last seat, a policy set through a follower binds every node, a borrow survives the leader and returns early elsewhere', async () => {
    const site = await InProcessSite.create({ ids: ['n1', 'n2', 'n3'], dirPrefix: 'floe-policy-borrow-', debugEnv: 'DEBUG_POLICY_BORROW' });
    sites.push(site);
    const peers = site.ids.map((_, i) => site.peer(i));
    for (const i of site.ids.keys()) await site.start(i, peers);
    const url = (id: string) => site.peer(site.ids.indexOf(id)).clientUrl;
    const leader = await until('a leader', 20_000, () => site.leader());
    const key = makeLicenseKey(site.identities.map((i) => i.lockCode), { seats: 2, licenseId: 'LIC-POLICY', borrowAllowed: true, borrowHoursMax: 24 });
    await until('the key to be installed', 20_000, async () => ((await leader.node.importLicense(key)).ok ? true : undefined));
    const followers = site.ids.filter((id) => id !== leader.node.config.nodeId);
    const client = async (user: string, servers: string[], clientId?: string) => {
      const c = await connect({ servers, user, host: `${user}-pc`, app: 'e2e', ...(clientId !== undefined ? { clientId } : {}) });
      clients.push(c);
      return c;
    };
    /** PUT /policy through node `id`'s own admin API. */
    const setPolicy = async (id: string, text: string) => {
      const res = await fetch(`${site.daemon(id).adminUrl}/api/v1/policy`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ format: 'flexlm-options', text }),
      });
      return { status: res.status, body: (await res.json()) as { version: number } };
    };

    // A reservation set through a follower holds the last seat against bob, on every node.
    expect(await setPolicy(followers[0]!, 'RESERVE 1 demo USER alice')).toMatchObject({ status: 200, body: { version: 1 } });
    await until('every node to apply policy 1', 10_000, () => (site.ids.every((id) => site.daemon(id).node.policy().version === 1) ? true : undefined));
    const bob = await client('bob', [url(followers[1]!)]);
    const held = await bob.checkout('demo');
    for (const id of site.ids) {
      const b = await client('bob', [url(id)]);
      expect(await outcome(b.checkout('demo'))).toMatch(/^NO_SEATS: .*1 more are reserved for others \(reserve 1 of demo for user alice \(line 1\)\)/);
    }
    const alice = await client('alice', [url(leader.node.config.nodeId)]);
    const reserved = await alice.checkout('demo');
    expect(reserved.feature).toBe('demo');

    // A change through the other follower: every node refuses carol by the rule's name.
    expect(await setPolicy(followers[1]!, 'RESERVE 1 demo USER alice\nEXCLUDE demo USER carol')).toMatchObject({ status: 200, body: { version: 2 } });
    await until('every node to apply policy 2', 10_000, () => (site.ids.every((id) => site.daemon(id).node.policy().version === 2) ? true : undefined));
    await bob.checkin(held);
    for (const id of site.ids) {
      const carol = await client('carol', [url(id)]);
      expect(await outcome(carol.checkout('demo'))).toMatch(/^POLICY_EXCLUDED: Policy rule "exclude demo for user carol \(line 2\)" refuses carol/);
    }
    await alice.checkin(reserved);

    // dave borrows through the leader, which then dies.
    const daveId = 'dave-laptop-0001';
    const dave = await client('dave', [url(leader.node.config.nodeId)], daveId);
    const seat = await dave.borrow('demo', { hours: 2, fingerprint: 'dave-laptop' });
    expect(checkBorrowedSeat(seat, { fingerprint: 'dave-laptop' })).toMatchObject({ ok: true, payload: { leaseId: seat.leaseId, user: 'dave' } });
    await dave.close();
    await site.stop(leader.node.config.nodeId);
    const next = await until('a new leader', 20_000, () => site.leader());
    await until('the new leader to count the borrowed seat', 10_000, () =>
      next.node.pools().find((p) => p.feature === 'demo')?.seatsBorrowed === 1 && next.node.leases().some((l) => l.leaseId === seat.leaseId && l.borrowed) ? true : undefined,
    );
    // Offline, the token still checks; on another machine it does not.
    expect(checkBorrowedSeat(seat, { fingerprint: 'dave-laptop' }).ok).toBe(true);
    expect(checkBorrowedSeat(seat, { fingerprint: 'someone-else' })).toMatchObject({ ok: false, code: 'BORROW_TOKEN_WRONG_MACHINE' });

    // Back online through another server, dave gives the seat back early.
    const otherId = followers.find((id) => site.daemons.has(id))!;
    const daveAgain = await client('dave', [url(otherId)], daveId);
    await daveAgain.returnBorrowed(seat);
    for (const id of site.ids.filter((x) => site.daemons.has(x))) {
      await until(`${id} to see the seat back`, 10_000, () => (site.daemon(id).node.pools().find((p) => p.feature === 'demo')?.seatsBorrowed === 0 ? true : undefined));
    }
    expect(await outcome(daveAgain.returnBorrowed(seat))).toMatch(/^LEASE_NOT_FOUND/);
  }, 90_000);
});

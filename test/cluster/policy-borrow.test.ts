// Issue 16 end to end on three `floe serve` processes, through the SDK and
// the admin API: a reservation for alice holds the last seat against bob on
// every server; a policy change set through a follower binds all three; a
// seat borrowed before the leader is SIGKILLed is still counted by the new
// leader and by the killed node once restarted, checks offline on its
// machine only, and is given back early through another server.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkBorrowedSeat, connect, isFloeError, type FloeClient } from '../../client/index.ts';
import { ADMIN_TOKEN } from '../daemon/test-daemon.test-support.ts';
import { ClusterSite } from './cluster-harness.test-support.ts';
import { guardSite } from './site-tools.test-support.ts';

/** `ms` a condition spanning the cluster may take to hold (a bound, not a target: the machine may be loaded). */
const SETTLE_MS_MAX = 20_000;

let site: ClusterSite | undefined;
let unguard: (() => void) | undefined;
const clients: FloeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await site?.stop();
  unguard?.();
});

/** The error code and message a promise rejects with, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (!isFloeError(error)) return String(error);
    return error.message.startsWith(`${error.code}: `) ? error.message : `${error.code}: ${error.message}`;
  }
}

interface PoolRow {
  readonly feature: string;
  readonly seatsInUse: number;
  readonly seatsReservedIdle: number;
  readonly seatsBorrowed: number;
}

describe('seat policy and borrowing on three floe serve processes', () => {
  it('a reservation holds the last seat, a policy set through a follower binds every node, a borrow survives a SIGKILLed leader and returns early elsewhere', async () => {
    const s = await ClusterSite.create({ seats: 2, license: { borrowAllowed: true, borrowHoursMax: 24 }, extraToml: ['leaseTtlMs = 8000', 'heartbeatMs = 1000', 'leaderGraceMs = 5000'] });
    site = s;
    unguard = guardSite(s);
    await Promise.all(s.nodes.map((n) => s.start(n.id)));
    const leader = await s.leader(SETTLE_MS_MAX);
    const followers = s.nodes.map((n) => n.id).filter((id) => id !== leader);
    /** Node `id`'s own view (no barrier through the leader): what it has applied. */
    const local = async <T>(id: string, path: string): Promise<T | undefined> => {
      const r = await s.admin(id, `${path}${path.includes('?') ? '&' : '?'}stale=true`);
      return r?.status === 200 ? (r.body as { data: T }).data : undefined;
    };
    const demoPool = async (id: string) => (await local<PoolRow[]>(id, '/pools'))?.find((p) => p.feature === 'demo');
    await vi.waitFor(async () => expect((await Promise.all(s.nodes.map((n) => demoPool(n.id)))).every((p) => p !== undefined), 'the site license in force on every node').toBe(true), { timeout: SETTLE_MS_MAX });

    const client = async (user: string, id: string, clientId?: string) => {
      // preferLeader off: each client asks through the node it names (a follower's answer is what is tested).
      const c = await connect({ servers: [s.node(id).clientUrl], user, host: `${user}-pc`, app: 'e2e', preferLeader: false, ...(clientId !== undefined ? { clientId } : {}) });
      clients.push(c);
      return c;
    };
    /** PUT /policy through node `id`'s own admin API. */
    const setPolicy = async (id: string, text: string) => {
      const res = await fetch(`${s.node(id).adminUrl}/api/v1/policy`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ format: 'flexlm-options', text }),
      });
      return { status: res.status, body: (await res.json()) as { version: number } };
    };
    const everyNodeHasVersion = (version: number) =>
      vi.waitFor(async () => {
        const views = await Promise.all(s.nodes.map((n) => local<{ version: number }>(n.id, '/policy')));
        expect(views.every((v) => v?.version === version), `every node to apply policy ${version}`).toBe(true);
      }, { timeout: SETTLE_MS_MAX });

    // A reservation set through a follower holds the last seat against bob, on every node.
    expect(await setPolicy(followers[0]!, '\ufeff# seats\r\nRESERVE 1 demo USER alice\r\n')).toMatchObject({ status: 200, body: { version: 1 } });
    await everyNodeHasVersion(1);
    const bob = await client('bob', followers[1]!);
    const held = await bob.checkout('demo');
    for (const n of s.nodes) {
      const b = await client('bob', n.id);
      expect(await outcome(b.checkout('demo'))).toMatch(/^NO_SEATS: .*1 more are reserved for others \(reserve 1 of demo for user alice \(line 2\)\)/);
      expect(await demoPool(n.id)).toMatchObject({ seatsInUse: 1, seatsReservedIdle: 1 });
    }
    const alice = await client('alice', leader);
    const reserved = await alice.checkout('demo');
    expect(reserved.feature).toBe('demo');

    // A change through the other follower: every node refuses carol by the rule's name.
    expect(await setPolicy(followers[1]!, 'RESERVE 1 demo USER alice\nEXCLUDE demo USER carol')).toMatchObject({ status: 200, body: { version: 2 } });
    await everyNodeHasVersion(2);
    await bob.checkin(held);
    for (const n of s.nodes) {
      const carol = await client('carol', n.id);
      expect(await outcome(carol.checkout('demo'))).toMatch(/^POLICY_EXCLUDED: Policy rule "exclude demo for user carol \(line 2\)" refuses carol/);
    }
    await alice.checkin(reserved);

    // A borrow through a follower gets a token any node honours, and goes back early through the leader.
    const erin = await client('erin', followers[0]!);
    const lent = await erin.borrow('demo', { hours: 1, fingerprint: 'erin-laptop' });
    expect(checkBorrowedSeat(lent, { fingerprint: 'erin-laptop' })).toMatchObject({ ok: true, payload: { leaseId: lent.leaseId, user: 'erin' } });
    for (const n of s.nodes) {
      await vi.waitFor(async () => expect((await demoPool(n.id))?.seatsBorrowed === 1, `${n.id} to count erin's borrowed seat`).toBe(true), { timeout: SETTLE_MS_MAX });
    }
    await erin.close();
    const erinAtLeader = await client('erin', leader, erin.clientId);
    await erinAtLeader.returnBorrowed(lent);
    await vi.waitFor(async () => expect((await demoPool(leader))?.seatsBorrowed === 0, 'the leader to see erin\'s seat back').toBe(true), { timeout: SETTLE_MS_MAX });

    // dave borrows through the leader, goes offline, and the leader is SIGKILLed.
    const daveId = 'dave-laptop-0001';
    const dave = await client('dave', leader, daveId);
    const seat = await dave.borrow('demo', { hours: 2, fingerprint: 'dave-laptop' });
    expect(checkBorrowedSeat(seat, { fingerprint: 'dave-laptop' })).toMatchObject({ ok: true, payload: { leaseId: seat.leaseId, user: 'dave' } });
    await dave.close();
    await s.kill(leader);
    const next = await s.leader(SETTLE_MS_MAX);
    const borrowedOn = async (id: string) => {
      const leases = await local<{ leaseId: string; borrowed: boolean }[]>(id, '/leases');
      return (await demoPool(id))?.seatsBorrowed === 1 && leases?.some((l) => l.leaseId === seat.leaseId && l.borrowed) === true;
    };
    await vi.waitFor(async () => expect(await borrowedOn(next), 'the new leader to count the borrowed seat').toBe(true), { timeout: SETTLE_MS_MAX });
    // The killed node, restarted from its own disk, counts it too.
    await s.start(leader);
    await vi.waitFor(async () => expect(await borrowedOn(leader), 'the restarted node to count the borrowed seat').toBe(true), { timeout: SETTLE_MS_MAX });
    // Offline, the token still checks; on another machine it does not.
    expect(checkBorrowedSeat(seat, { fingerprint: 'dave-laptop' }).ok).toBe(true);
    expect(checkBorrowedSeat(seat, { fingerprint: 'someone-else' })).toMatchObject({ ok: false, code: 'BORROW_TOKEN_WRONG_MACHINE' });

    // Back online through a server other than the one it borrowed from, dave gives the seat back early.
    const other = s.nodes.map((n) => n.id).find((id) => id !== leader && id !== next)!;
    const daveAgain = await client('dave', other, daveId);
    await daveAgain.returnBorrowed(seat);
    for (const n of s.nodes) {
      await vi.waitFor(async () => expect((await demoPool(n.id))?.seatsBorrowed === 0, `${n.id} to see the seat back`).toBe(true), { timeout: SETTLE_MS_MAX });
    }
    expect(await outcome(daveAgain.returnBorrowed(seat))).toMatch(/^LEASE_NOT_FOUND/);
  }, 300_000);
});

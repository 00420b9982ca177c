// Storage that went backwards, with real daemons in this process (issue 12,
// findings B1 and B6): a member whose data directory is put back from an
// older copy, or whose database is deleted with its identity kept, catches
// up and rejoins; the leader never reports it holding more than it holds;
// and a member rebuilt with a stale config file follows the cluster's
// membership, not the file's.
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Daemon } from '../../daemon/index.ts';
import { makeLicenseKey } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { defined } from './site-tools.test-support.ts';

const sites: InProcessSite[] = [];
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});

/** `ms` a rejoining member is given to catch up (it needs a second on a quiet machine). */
const CATCH_UP_MS_MAX = 30_000;
/** Readys per second a caught-up idle member may run; finding B1's spinning member ran ~5,000. */
const IDLE_READYS_PER_SECOND_MAX = 500;

async function site(ids: string[], dirPrefix: string, config: Record<string, unknown> = {}): Promise<InProcessSite> {
  const s = await InProcessSite.create({ ids, dirPrefix, debugEnv: 'DEBUG_REJOIN', config: { leaseTtlMs: 30_000, ...config } });
  sites.push(s);
  return s;
}

/** Starts nodes 0..2 with each other as peers and installs a license on their lock codes. */
async function threeNodes(s: InProcessSite): Promise<void> {
  const peers = [s.peer(0), s.peer(1), s.peer(2)];
  for (const i of [0, 1, 2]) await s.start(i, peers);
  await vi.waitFor(() => defined(s.leader(), 'a leader'), { timeout: 20_000 });
  const key = makeLicenseKey(s.identities.slice(0, 3).map((x) => x.lockCode), { seats: 500, licenseId: 'LIC-REJOIN' });
  // A leader just elected on a loaded machine may answer 503 (its first proposal timed out); a retry after
  // one that committed anyway finds the key installed (409).
  await vi.waitFor(async () => expect([201, 409]).toContain((await s.admin('POST', '/licenses', { key })).status), { timeout: 20_000, interval: 100 });
}

let requests = 0;
/** Opens a session through the leader and takes `count` seats: each one a commit. */
async function checkouts(s: InProcessSite, count: number): Promise<void> {
  const wire = await s.wire(s.leader()!.node.config.nodeId);
  expect((await wire.hello(`rejoin-${requests}`)).ok).toBe(true);
  for (let i = 0; i < count; i++) {
    const reply = await wire.checkout(`rejoin-request-${requests++}`);
    expect(reply['ok'], JSON.stringify(reply)).toBe(true);
  }
  await wire.close();
}

function follower(s: InProcessSite): string {
  return s.ids.slice(0, 3).find((id) => s.daemons.has(id) && !s.daemons.get(id)!.node.isLeader)!;
}

/**
 * Waits until `d` has applied what the leader committed and the leader sees it
 * caught up; on every poll, the leader's match for it is at most what it
 * holds (its last index only grows meanwhile, so reading the leader first
 * makes the comparison fair).
 */
async function rejoinsWithoutOverstatement(s: InProcessSite, d: Daemon): Promise<void> {
  const id = d.node.config.nodeId;
  // Every sample is checked, not only the last: a leader's match above what
  // the node holds is a failure even if it is gone by the time the node catches up.
  const overstated: string[] = [];
  await vi.waitFor(() => {
    const leader = defined(s.leader(), 'a leader');
    expect(leader, 'a leader other than the rejoining node').not.toBe(d);
    const view = defined(leader.node.clusterStatus().nodes.find((n) => n.id === id), `${id} in the leader's view`);
    const held = d.node.status().lastIndex;
    if ((view.matchIndex ?? 0) > held) overstated.push(`match ${view.matchIndex} > held ${held}`);
    const caughtUp = d.node.status().appliedIndex >= leader.node.status().commitIndex && view.state === 'caught-up' && !d.node.status().rejoining;
    expect(caughtUp, `${id} to catch up and rejoin`).toBe(true);
  }, { timeout: CATCH_UP_MS_MAX });
  expect(overstated, `the leader's match for ${id}`).toEqual([]);
}

/** Readys `d` runs in one second, idle. */
async function idleReadys(d: Daemon): Promise<number> {
  const before = d.node.readyCount;
  await new Promise((r) => setTimeout(r, 1000));
  return d.node.readyCount - before;
}

describe('a member whose storage went backwards', () => {
  it('put back from an older copy of its data directory, it catches up and rejoins, and the leader never reports it holding more than it does (B1)', async () => {
    const s = await site(['n1', 'n2', 'n3'], 'floe-rejoin-copy-');
    await threeNodes(s);
    const id = follower(s);
    const i = s.ids.indexOf(id);
    const dataDir = join(s.dir, id);
    const copy = join(s.dir, `${id}-copy`);
    await s.stop(id);
    cpSync(dataDir, copy, { recursive: true });
    await s.start(i);
    // The cluster moves on, with the member, then the copy goes back.
    await checkouts(s, 40);
    await vi.waitFor(() => expect(s.daemon(id).node.status().appliedIndex >= defined(s.leader(), 'a leader').node.status().commitIndex, `${id} to apply the checkouts`).toBe(true), { timeout: 20_000 });
    await s.stop(id);
    rmSync(dataDir, { recursive: true, force: true });
    cpSync(copy, dataDir, { recursive: true });
    const back = await s.start(i);
    await rejoinsWithoutOverstatement(s, back);
    expect(back.node.leases().length).toBe(40);
    expect(await idleReadys(back)).toBeLessThan(IDLE_READYS_PER_SECOND_MAX);
  }, 90_000);

  it('with its database deleted and its identity kept, it catches up and rejoins (B1)', async () => {
    const s = await site(['n1', 'n2', 'n3'], 'floe-rejoin-wipe-');
    await threeNodes(s);
    await checkouts(s, 20);
    const id = follower(s);
    await vi.waitFor(() => expect(s.daemon(id).node.status().appliedIndex >= defined(s.leader(), 'a leader').node.status().commitIndex, `${id} to apply the checkouts`).toBe(true), { timeout: 20_000 });
    await s.stop(id);
    for (const f of ['floe.sqlite', 'floe.sqlite-wal', 'floe.sqlite-shm']) rmSync(join(s.dir, id, f), { force: true });
    const back = await s.start(s.ids.indexOf(id));
    // It knows at once that it lost its log: it will not vote until the leader confirms it.
    expect(back.node.status().rejoining || back.node.status().appliedIndex > 0).toBe(true);
    await rejoinsWithoutOverstatement(s, back);
    expect(back.node.leases().length).toBe(20);
    await checkouts(s, 5);
    await vi.waitFor(() => expect(back.node.leases().length === 25, `${id} to apply more`).toBe(true), { timeout: 20_000 });
    expect(await idleReadys(back)).toBeLessThan(IDLE_READYS_PER_SECOND_MAX);
  }, 90_000);

  it('rebuilt by the documented procedure (identity kept, the rest deleted, join = true), it rejoins, and votes again once confirmed', async () => {
    const s = await site(['n1', 'n2', 'n3'], 'floe-rejoin-procedure-');
    await threeNodes(s);
    await checkouts(s, 20);
    const id = follower(s);
    await vi.waitFor(() => expect(s.daemon(id).node.status().appliedIndex >= defined(s.leader(), 'a leader').node.status().commitIndex, `${id} to apply the checkouts`).toBe(true), { timeout: 20_000 });
    await s.stop(id);
    for (const f of readdirSync(join(s.dir, id))) if (f !== 'node-identity.json') rmSync(join(s.dir, id, f), { recursive: true, force: true });
    s.editConfig(id, (c) => ({ ...c, cluster: { ...c.cluster, join: true } }));
    const back = await s.start(s.ids.indexOf(id));
    expect(back.node.status().rejoining).toBe(true);
    await rejoinsWithoutOverstatement(s, back);
    expect(back.node.leases().length).toBe(20);
    // It votes again: with the leader gone, it and the third server elect one and commit.
    await s.stop(s.leader()!.node.config.nodeId);
    await vi.waitFor(() => defined(s.leader(), 'a new leader'), { timeout: 20_000 });
    await vi.waitFor(() => checkouts(s, 1), { timeout: 20_000 });
  }, 90_000);

  it('rebuilt with its original config file after the membership changed, it follows the cluster\'s membership, never the file\'s (B6)', async () => {
    const s = await site(['n1', 'n2', 'n3', 'n4'], 'floe-rejoin-b6-', { raft: { snapshotEntries: 20 } });
    await threeNodes(s);
    // n3 dies and n4 takes its place; the log moves far past both changes.
    await s.stop('n3');
    await vi.waitFor(() => defined(s.leader(), 'a leader among n1, n2'), { timeout: 20_000 });
    await s.start(3, [s.peer(0), s.peer(1), s.peer(2), s.peer(3)], true);
    const p4 = s.peer(3);
    expect((await s.changeMembers('POST', '/cluster/members', { id: 'n4', peerUrl: p4.peerUrl, clientUrl: p4.clientUrl, publicKey: p4.publicKey })).status).toBe(201);
    expect((await s.changeMembers('DELETE', '/cluster/members/n3')).status).toBe(200);
    await checkouts(s, 60);
    // n2's database is lost; it is rebuilt with the file it always had (peers n1, n2, n3).
    await vi.waitFor(() => expect(s.daemon('n2').node.status().appliedIndex >= defined(s.leader(), 'a leader').node.status().commitIndex, 'n2 to apply the checkouts').toBe(true), { timeout: 20_000 });
    await s.stop('n2');
    for (const f of ['floe.sqlite', 'floe.sqlite-wal', 'floe.sqlite-shm']) rmSync(join(s.dir, 'n2', f), { force: true });
    const n2 = await s.start(1);
    const members = () => n2.node.clusterStatus().nodes.map((n) => n.id).sort();
    // Every sample is checked: n3 listed even once is a failure.
    const withN3: string[][] = [];
    await vi.waitFor(() => {
      if (members().includes('n3')) withN3.push(members());
      const leader = defined(s.leader(), 'a leader');
      expect(leader, 'a leader other than n2').not.toBe(n2);
      expect(n2.node.status().appliedIndex >= leader.node.status().commitIndex && !n2.node.status().rejoining, 'n2 to follow the cluster').toBe(true);
    }, { timeout: CATCH_UP_MS_MAX });
    expect(withN3, 'n2 never takes n3 from its file for a member').toEqual([]);
    expect(members()).toEqual(['n1', 'n2', 'n4']);
    expect(n2.node.leases().length).toBe(60);
    await vi.waitFor(() => expect(n2.peers!.transport.stats().peers['n4']?.connected === true, 'n2 to dial n4').toBe(true), { timeout: 20_000 });
  }, 120_000);
});

// Partitions with the fault-injecting peer transport, three daemons in one
// process: an isolated leader steps down (check-quorum), the minority side
// answers UNAVAILABLE, the majority elects a leader and serves, and after
// healing every node converges on the same pools.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdminApp, hashToken } from '../../admin/index.ts';
import { FaultInjector, parseConfig, startDaemon, type Daemon } from '../../daemon/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { encodeBase64url } from '../../protocol/index.ts';
import { ADMIN_TOKEN, makeLicenseKey, tempDir, VENDOR_PUBLIC_KEY, WireClient } from '../daemon/helpers.ts';
import { freePorts } from './cluster-harness.ts';

const daemons: Daemon[] = [];
const wires: WireClient[] = [];
afterAll(async () => {
  await Promise.all(wires.map((w) => w.close().catch(() => {})));
  await Promise.all(daemons.map((d) => d.close()));
});

async function until(what: string, timeoutMs: number, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a partitioned cluster', () => {
  it('steps an isolated leader down, answers UNAVAILABLE on the minority side, serves on the majority, and converges after healing', async () => {
    const dir = tempDir('floe-partition-');
    const ids = ['n1', 'n2', 'n3'];
    const ports = await freePorts(3);
    const identities = ids.map((id) => loadNodeIdentity(join(dir, id)));
    const faults = new FaultInjector();
    const peers = ids.map((id, i) => ({
      id,
      peerUrl: `ws://127.0.0.1:${ports[i]}/raft`,
      clientUrl: `ws://127.0.0.1:${ports[i]}/ws`,
      publicKey: encodeBase64url(identities[i]!.publicKey),
    }));
    const key = makeLicenseKey(identities.map((x) => x.lockCode), { seats: 10, licenseId: 'LIC-PART' });
    for (const [i, id] of ids.entries()) {
      const config = parseConfig({
        nodeId: id,
        dataDir: join(dir, id),
        clientListen: '127.0.0.1:0',
        adminListen: '127.0.0.1:0',
        vendorPublicKeys: [VENDOR_PUBLIC_KEY],
        adminTokenSha256: [hashToken(ADMIN_TOKEN)],
        leaseTtlMs: 10_000,
        heartbeatMs: 1000,
        renewBatchMs: 20,
        cluster: { peers, peerListen: `127.0.0.1:${ports[i]}` },
      });
      daemons.push(
        await startDaemon(config, {
          faults,
          adminApp: (node) => createAdminApp(node, { tokenSha256: config.adminTokenSha256, bodyBytesMax: config.limits.adminBodyBytesMax }),
        }),
      );
    }
    const leaderOf = () => daemons.find((d) => d.node.isLeader);
    await until('a leader', 10_000, () => leaderOf() !== undefined);
    const leader = leaderOf()!;
    expect((await leader.node.importLicense(key)).ok).toBe(true);

    // A client on the leader and one on a follower both hold a seat.
    const onLeader = await WireClient.connect(leader.clientUrl);
    const follower = daemons.find((d) => d !== leader)!;
    const onFollower = await WireClient.connect(follower.clientUrl);
    wires.push(onLeader, onFollower);
    expect((await onLeader.hello('client-on-leader-1')).ok).toBe(true);
    expect((await onFollower.hello('client-on-follower-1')).ok).toBe(true);
    const r1 = await onLeader.checkout('request-1');
    expect(r1.ok, JSON.stringify(r1)).toBe(true);
    expect((await onFollower.checkout('request-2')).ok).toBe(true);

    // Isolate the leader: it steps down; its clients get UNAVAILABLE, promptly.
    const isolatedId = leader.node.config.nodeId;
    faults.isolate(isolatedId);
    await until('the isolated leader to step down', 3000, () => !leader.node.isLeader);
    const t0 = Date.now();
    const refused = await onLeader.checkout('request-3');
    expect(refused.ok).toBe(false);
    expect(refused['error'].code).toBe('UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(2500);
    const stale = await fetch(`${leader.adminUrl}/api/v1/pools`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(stale.status).toBe(503);

    // The majority elects a leader and serves.
    await until('a leader on the majority side', 5000, () => daemons.some((d) => d !== leader && d.node.isLeader));
    expect((await onFollower.checkout('request-4')).ok).toBe(true);

    // Heal: the old leader rejoins as a follower and converges.
    faults.heal();
    const majorityLeader = daemons.find((d) => d.node.isLeader)!;
    expect(majorityLeader).not.toBe(leader);
    await until('every node to apply the same log', 10_000, () => {
      const applied = daemons.map((d) => d.node.status().appliedIndex);
      return applied.every((a) => a === applied[0]) && leader.node.status().leaderId === majorityLeader.node.config.nodeId;
    });
    const pools = daemons.map((d) => JSON.stringify(d.node.pools()));
    expect(new Set(pools).size).toBe(1);
    expect(daemons[0]!.node.leases().length).toBe(3);
  }, 60_000);
});

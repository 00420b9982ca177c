// Issue 17's acceptance: a three-node cluster whose peers speak mutual TLS
// elects a leader, replicates a checkout to every member and fails over
// when the leader stops, with an SDK client that trusts only the site CA.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAdminApp, hashToken } from '../../admin/index.ts';
import { connect, type FloeClient } from '../../client/index.ts';
import { parseConfig, startDaemon, type Daemon } from '../../daemon/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { writeTestSiteTls } from '../../daemon/tls/site-pki.test-support.ts';
import { encodeBase64url } from '../../protocol/index.ts';
import { ADMIN_TOKEN, VENDOR_PUBLIC_KEY, makeLicenseKey, tempDir } from '../daemon/test-daemon.test-support.ts';
import { freePorts } from './cluster-harness.test-support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a cluster over mutual TLS', () => {
  it('elects a leader, replicates a checkout to every member and fails over when the leader stops', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const dir = tempDir('floe-tls-cluster-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const site = await writeTestSiteTls(dir, ids);
    const ports = await freePorts(6);
    const identities = ids.map((id) => {
      mkdirSync(join(dir, id));
      return loadNodeIdentity(join(dir, id));
    });
    const licenseFile = join(dir, 'demo.license');
    writeFileSync(licenseFile, makeLicenseKey(identities.map((i) => i.lockCode), { seats: 2 }));
    const peers = ids.map((id, i) => ({
      id,
      peerUrl: `wss://127.0.0.1:${ports[i]}/raft`,
      clientUrl: `wss://127.0.0.1:${ports[3 + i]}/ws`,
      publicKey: encodeBase64url(identities[i]!.publicKey),
    }));
    const daemons = new Map<string, Daemon>();
    for (const [i, id] of ids.entries()) {
      const config = parseConfig({
        nodeId: id,
        dataDir: join(dir, id),
        clientListen: `127.0.0.1:${ports[3 + i]}`,
        adminListen: '127.0.0.1:0',
        vendorPublicKeys: [VENDOR_PUBLIC_KEY],
        adminTokenSha256: [hashToken(ADMIN_TOKEN)],
        licenseFiles: [licenseFile],
        leaseTtlMs: 10_000,
        heartbeatMs: 1000,
        renewBatchMs: 20,
        tls: site.nodes[id],
        cluster: { peers, peerListen: `127.0.0.1:${ports[i]}` },
      });
      const daemon = await startDaemon(config, { adminApp: (node, d) => createAdminApp(node, { tokenSha256: config.adminTokenSha256, bodyBytesMax: 65_536, tlsStatus: d.tlsStatus }) });
      daemons.set(id, daemon);
      cleanups.push(() => daemon.close());
    }
    const leader = () => [...daemons.values()].find((d) => d.node.isLeader);
    await vi.waitFor(() => expect(leader()).toBeDefined(), { timeout: 20_000, interval: 50 });
    // No member was refused for its certificate or key (under load a dialer may give up a slow TLS
    // handshake, which the listener counts as TLS_HANDSHAKE_FAILED: that is no refusal of identity).
    for (const d of daemons.values()) {
      const refused = d.peers?.transport.stats().refused ?? {};
      expect([refused.AUTH_CERT_NODE_MISMATCH, refused.AUTH_SIGNATURE_INVALID]).toEqual([undefined, undefined]);
    }

    const client: FloeClient = await connect({ servers: peers.map((p) => p.clientUrl), user: 'alice', host: 'ws-1', app: 'cad', caFile: site.caFile, connectTimeoutMs: 15_000, reconnectAttemptsMax: 100 });
    cleanups.push(() => client.close());
    const lease = await vi.waitFor(() => client.checkout('demo'), { timeout: 20_000, interval: 100 });
    // Replicated over the TLS links: every member applied it.
    await vi.waitFor(() => {
      for (const d of daemons.values()) expect(d.node.pools().find((p) => p.feature === 'demo')?.seatsInUse).toBe(1);
    }, { timeout: 10_000, interval: 50 });

    const old = leader() as Daemon;
    const oldId = [...daemons].find(([, d]) => d === old)![0];
    await old.close();
    daemons.delete(oldId);
    await vi.waitFor(() => expect(leader()).toBeDefined(), { timeout: 20_000, interval: 50 });
    // The client keeps its seat across the failover and goes on: a second checkout, then both back.
    const second = await vi.waitFor(() => client.checkout('demo'), { timeout: 20_000, interval: 100 });
    await client.checkin(lease);
    await client.checkin(second);
    await vi.waitFor(() => {
      for (const d of daemons.values()) expect(d.node.pools().find((p) => p.feature === 'demo')?.seatsInUse).toBe(0);
    }, { timeout: 10_000, interval: 50 });
  }, 90_000);
});

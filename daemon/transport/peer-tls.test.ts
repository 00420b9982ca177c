import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSiteCa, issueNodeCertificate, type PemPair } from '../tls/site-pki.ts';
import type { PeerTls } from './peer-tls.ts';
import { TestCluster, heartbeat, WAIT } from './transport-kit.test-support.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function siteTls(ca: PemPair, nodeId: string, certNodeId = nodeId): Promise<PeerTls> {
  const pair = await issueNodeCertificate(ca, { nodeId: certNodeId, dns: ['localhost'], ip: ['127.0.0.1'] });
  return { cert: pair.certPem, key: pair.keyPem, ca: ca.certPem };
}

async function tlsCluster(tls: Record<string, PeerTls>): Promise<TestCluster> {
  // Every refusal logged (not one per second), so the test can read both directions.
  const c = await TestCluster.start(Object.keys(tls), { tls: (id) => tls[id], limits: { refusalLogIntervalMs: 0 } });
  stops.push(() => c.stop());
  return c;
}

describe('PeerTransport over mutual TLS', () => {
  it('members with certificates of the site CA naming their node ids connect over wss:// and exchange messages', async () => {
    const ca = await createSiteCa();
    const c = await tlsCluster({ n1: await siteTls(ca, 'n1'), n2: await siteTls(ca, 'n2'), n3: await siteTls(ca, 'n3') });
    expect(c.peers().every((p) => p.url.startsWith('wss://'))).toBe(true);
    await c.connected();
    c.node('n1').transport.send([heartbeat('n1', 'n2', 7), heartbeat('n1', 'n3', 7)]);
    await vi.waitFor(() => expect(c.node('n2').inbox.length === 1 && c.node('n3').inbox.length === 1, 'delivery').toBe(true), { ...WAIT, timeout: 5000 });
    expect(c.node('n2').inbox[0]).toMatchObject({ type: 'heartbeat', from: 'n1', commit: 7 });
    expect(c.node('n1').transport.stats().refused.AUTH_CERT_NODE_MISMATCH).toBeUndefined();
  });

  it('refuses a member whose certificate names another node id, in both directions', async () => {
    const ca = await createSiteCa();
    // n2 holds a good identity key but n3's certificate.
    const c = await tlsCluster({ n1: await siteTls(ca, 'n1'), n2: await siteTls(ca, 'n2', 'n3'), n3: await siteTls(ca, 'n3') });
    // n1 refuses n2's inbound connections (the handshake proves n2, the certificate says n3) and its own dials to n2 (n2 listens with n3's certificate).
    const directions = () => new Set(c.node('n1').logger.lines.filter((l) => l.fields['reason'] === 'AUTH_CERT_NODE_MISMATCH').map((l) => l.fields['direction']));
    await vi.waitFor(() => expect(directions().size === 2, 'refusals of n2 by n1 in both directions').toBe(true), { ...WAIT, timeout: 5000 });
    await vi.waitFor(() => expect(c.node('n1').transport.stats().peers['n3']?.connected === true, 'n1 → n3').toBe(true), { ...WAIT, timeout: 5000 });
    expect(c.node('n1').transport.stats().peers['n2']).toMatchObject({ connected: false, inboundConnected: false });
    c.node('n2').transport.send([heartbeat('n2', 'n1', 1)]);
    c.node('n3').transport.send([heartbeat('n3', 'n1', 2)]);
    await vi.waitFor(() => expect(c.node('n1').inbox.length >= 1, 'n3 → n1').toBe(true), { ...WAIT, timeout: 5000 });
    expect(c.node('n1').inbox.map((m) => m.from)).toEqual(['n3']);
  });

  it('refuses a member whose certificate comes from another CA, before any WebSocket opens', async () => {
    const ca = await createSiteCa();
    const other = await createSiteCa({ commonName: 'Someone else' });
    const c = await tlsCluster({ n1: await siteTls(ca, 'n1'), n2: { ...(await siteTls(other, 'n2')), ca: ca.certPem } });
    await vi.waitFor(() => expect((c.node('n1').transport.stats().refused.TLS_HANDSHAKE_FAILED ?? 0) >= 1, 'TLS refusal at n1').toBe(true), { ...WAIT, timeout: 5000 });
    // n2 dialing n1: n1's TLS server refuses the certificate; n1 dialing n2: n2's certificate does not chain to n1's CA.
    expect(c.node('n1').transport.stats().peers['n2']).toMatchObject({ connected: false, inboundConnected: false });
    expect(c.node('n1').transport.stats().peers['n2']?.dialFailures).toBeGreaterThan(0);
    expect(c.node('n2').transport.stats().peers['n1']?.connected).toBe(false);
  });

  it('a plain ws:// peer URL is refused under mutual TLS', async () => {
    const ca = await createSiteCa();
    const c = await tlsCluster({ n1: await siteTls(ca, 'n1') });
    await expect(c.node('n1').transport.updatePeers([...c.peers(), { id: 'n2', url: 'ws://127.0.0.1:9/raft', publicKey: c.node('n1').keys.publicKey }])).rejects.toThrow(/wss:\/\/ under mutual TLS/);
  });

  it('setTls() swaps the certificate for new connections and keeps the open ones', async () => {
    const ca = await createSiteCa();
    const c = await tlsCluster({ n1: await siteTls(ca, 'n1'), n2: await siteTls(ca, 'n2') });
    await c.connected();
    const renewed = await siteTls(ca, 'n1');
    c.node('n1').transport.setTls(renewed);
    c.node('n1').transport.send([heartbeat('n1', 'n2', 3)]);
    await vi.waitFor(() => expect(c.node('n2').inbox.length === 1, 'delivery after reload').toBe(true), { ...WAIT, timeout: 5000 });
    expect(c.node('n1').transport.stats().peers['n2']?.reconnects).toBe(0);
  });
});

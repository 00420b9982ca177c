import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../../protocol/index.ts';
import { parseConfig } from '../config.ts';
import { FloeNode } from './floe-node.ts';
import { LicenseRefusalError, type PeerLockState } from './license-locks.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));

function licenseKey(overrides: Partial<LicensePayload> = {}): string {
  const payload: LicensePayload = {
    v: 1,
    licenseId: 'L-1',
    authCode: 'AUTH-1',
    vendorKeyId: vendorKeyIdOf(vendor.publicKey),
    product: 'demo',
    version: '1',
    model: 'concurrent',
    seats: 2,
    components: [],
    issuedAt: 0,
    notBefore: 0,
    lockCodes: ['LOCK'],
    lingerSeconds: 0,
    hostsPerUserMax: 1,
    ...overrides,
  };
  return signLicenseKey(payload, vendor.secretKey);
}

const dirs: string[] = [];
const nodes: FloeNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openNode(
  dir: string,
  clock?: () => number,
  snapshotEntries = 20_000,
  peerLockCodes?: () => ReadonlyMap<string, PeerLockState>,
): Promise<FloeNode> {
  const config = parseConfig({
    raft: { snapshotEntries },
    dataDir: dir,
    vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)],
    leaseTtlMs: 1500,
    heartbeatMs: 200,
    renewBatchMs: 10,
  });
  const node = await FloeNode.open({ config, lockCode: 'LOCK', ...(clock ? { clock } : {}), ...(peerLockCodes ? { peerLockCodes } : {}) });
  nodes.push(node);
  return node;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'floe-node-'));
  dirs.push(d);
  return d;
}

describe('FloeNode restart', () => {
  it('restores from the latest snapshot plus the log after it', async () => {
    const dir = tempDir();
    const node = await openNode(dir, undefined, 10);
    await node.importLicense(licenseKey({ seats: 50 }));
    await node.propose({ type: 'session-open', sessionId: 's1', clientId: 'client-1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    for (let i = 0; i < 25; i++) {
      await node.propose({ type: 'checkout', sessionId: 's1', requestId: `req-snap-${i}`, feature: 'demo', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    }
    const leases = node.leases().map((l) => l.leaseId);
    expect(leases.length).toBe(25);
    const applied = node.status().appliedIndex;
    await node.close();

    const { openDatabase, SqliteRaftStorage, DATABASE_FILE_NAME } = await import('../storage/index.ts');
    const db = openDatabase(join(dir, DATABASE_FILE_NAME));
    const storage = new SqliteRaftStorage(db);
    const snapshotIndex = storage.snapshot().metadata.index;
    expect(snapshotIndex).toBeGreaterThan(0);
    expect(snapshotIndex).toBeLessThan(storage.lastIndex());
    db.close();

    const again = await openNode(dir, undefined, 10);
    expect(again.leases().map((l) => l.leaseId)).toEqual(leases);
    expect(again.status().appliedIndex).toBeGreaterThanOrEqual(applied);
    // the latest requests (8 per client) are still remembered after the restart
    const retry = await again.propose({ type: 'checkout', sessionId: 's1', requestId: 'req-snap-24', feature: 'demo', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    expect(retry.reply.ok && retry.reply.type === 'granted' && retry.reply.lease.leaseId).toBe(leases[24]);
  });

  it('refuses to start from a snapshot an earlier build wrote with SNAPSHOT_FORMAT_UNSUPPORTED, leaving the data as it was', async () => {
    const dir = tempDir();
    const node = await openNode(dir, undefined, 10);
    await node.importLicense(licenseKey({ seats: 50 }));
    for (let i = 0; i < 15; i++) await node.propose({ type: 'session-open', sessionId: `s${i}`, clientId: `c${i}`, user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    await node.close();
    const { openDatabase, SqliteRaftStorage, DATABASE_FILE_NAME } = await import('../storage/index.ts');
    const { encodeSnapshot, createPoolState } = await import('../pool/index.ts');
    const db = openDatabase(join(dir, DATABASE_FILE_NAME));
    const storage = new SqliteRaftStorage(db);
    const { metadata } = storage.snapshot();
    expect(metadata.index).toBeGreaterThan(0);
    // What builds before 0.1.0 stored: the pool's bytes alone (at the same index, the log left as it is).
    storage.createSnapshot(metadata.index, metadata.confState, encodeSnapshot(createPoolState()));
    db.close();
    await expect(openNode(dir, undefined, 10)).rejects.toThrow(/^SNAPSHOT_FORMAT_UNSUPPORTED: .*empty data directory/);
    // Refused, not half-opened: the database is closed again and holds what it held.
    const after = openDatabase(join(dir, DATABASE_FILE_NAME));
    expect(new SqliteRaftStorage(after).snapshot().metadata).toEqual(metadata);
    after.close();
  });

  it('keeps admin tokens and the audit log across a restart from a snapshot', async () => {
    const dir = tempDir();
    const node = await openNode(dir, undefined, 10);
    await node.proposeAdmin({ type: 'token-create', name: 'ops', role: 'operator', tokenSha256: 'a'.repeat(64) }, { actor: 'config-1' });
    await node.importLicense(licenseKey({ seats: 50 }), { actor: 'ops' });
    await node.propose({ type: 'session-open', sessionId: 's1', clientId: 'client-1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    for (let i = 0; i < 25; i++) {
      await node.propose({ type: 'checkout', sessionId: 's1', requestId: `req-adm-${i}`, feature: 'demo', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    }
    const audit = node.auditEntries({ limit: 10 });
    expect(audit.map((e) => `${e.actor} ${e.action}`)).toEqual(['ops license-install', 'config-1 token-create']);
    await node.close();
    const again = await openNode(dir, undefined, 10);
    expect(again.adminTokenBySha256('a'.repeat(64))).toMatchObject({ name: 'ops', role: 'operator', createdBy: 'config-1' });
    expect(again.auditEntries({ limit: 10 })).toEqual(audit);
  });
});

describe('FloeNode (local log)', () => {
  it('imports a license, opens a session and checks seats out until NO_SEATS, durably across a reopen', async () => {
    const dir = tempDir();
    const node = await openNode(dir);
    expect(node.isLeader).toBe(true);
    const imported = await node.importLicense(licenseKey());
    expect(imported).toEqual({ ok: true, licenseId: 'L-1', features: ['demo'] });
    await node.propose({ type: 'session-open', sessionId: 's1', clientId: 'client-1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 1000 });
    const base = { type: 'checkout', sessionId: 's1', feature: 'demo', count: 1, wait: false, leaseTtlMs: 1000, waitMs: 0 } as const;
    const [a, b, c] = await Promise.all([
      node.propose({ ...base, requestId: 'req-0001' }),
      node.propose({ ...base, requestId: 'req-0002' }),
      node.propose({ ...base, requestId: 'req-0003' }),
    ]);
    expect(a!.reply.ok && b!.reply.ok).toBe(true);
    expect(c!.reply).toMatchObject({ ok: false, code: 'NO_SEATS' });
    expect(node.pools()[0]).toMatchObject({ seatsTotal: 2, seatsInUse: 2 });
    await node.close();

    const again = await openNode(dir);
    expect(again.pools()[0]).toMatchObject({ seatsTotal: 2, seatsInUse: 2 });
    expect(again.leases().length).toBe(2);
  });

  it('refuses a key signed by another vendor with LICENSE_UNKNOWN_VENDOR_KEY and a key for another server with LOCK_CODE_MISMATCH', async () => {
    const node = await openNode(tempDir());
    const other = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
    const foreign = signLicenseKey(
      { ...JSON.parse('{}'), v: 1, licenseId: 'X', authCode: 'A', vendorKeyId: vendorKeyIdOf(other.publicKey), product: 'demo', version: '1', model: 'concurrent', seats: 1, components: [], issuedAt: 0, notBefore: 0, lockCodes: ['LOCK'], lingerSeconds: 0, hostsPerUserMax: 1 },
      other.secretKey,
    );
    expect(await node.importLicense(foreign)).toMatchObject({ ok: false, code: 'LICENSE_UNKNOWN_VENDOR_KEY' });
    expect(await node.importLicense(licenseKey({ lockCodes: ['ELSEWHERE'] }))).toMatchObject({ ok: false, code: 'LOCK_CODE_MISMATCH' });
    expect(node.licenses()).toEqual([]);
  });

  it('batches heartbeats into one renew and the reaper expires an unrenewed lease after its ttl', async () => {
    const node = await openNode(tempDir());
    await node.importLicense(licenseKey());
    for (const s of ['s1', 's2']) {
      // 1,500 ms: heartbeats every 200 ms keep s1 alive even on a busy CI machine.
      await node.propose({ type: 'session-open', sessionId: s, clientId: `client-${s}`, user: 'u', host: 'h', app: 'a', sessionTtlMs: 1500 });
      await node.propose({ type: 'checkout', sessionId: s, requestId: `req-${s}-1`, feature: 'demo', count: 1, wait: false, leaseTtlMs: 1500, waitMs: 0 });
    }
    const readysBefore = node.readyCount;
    // s1 heartbeats every 200 ms; s2 never does.
    const started = Date.now();
    while (Date.now() - started < 2400) {
      const [o1, o2] = await Promise.all([node.heartbeat('s1'), node.heartbeat('s1')]);
      expect(o1.ok && o2.ok).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
    }
    // s2's seat is freed (its session expires with its lease: the pool closes the session first).
    expect(node.leases().map((l) => l.sessionId)).toEqual(['s1']);
    expect(node.sessions().map((s) => s.sessionId)).toEqual(['s1']);
    // Recorded as an expiry (the lease fell due) or a checkin (its session closed first), depending on timing.
    expect(node.usageRows().map((r) => r.kind).some((k) => k === 'expiry' || k === 'checkin')).toBe(true);
    expect(node.readyCount - readysBefore).toBeLessThan(30);
  });
});

describe('FloeNode.proposeCheckout under a redundant key', () => {
  // The key names LOCK (this node), LOCK-2 and LOCK-3: served while this node reaches LOCK-2 or LOCK-3.
  const peers = new Map<string, PeerLockState>([['n2', { lockCode: 'LOCK-2', connected: true }]]);
  const setPeerConnected = (connected: boolean) => peers.set('n2', { lockCode: 'LOCK-2', connected });
  const checkout = (sessionId: string, requestId: string) =>
    ({ type: 'checkout', sessionId, requestId, feature: 'demo', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 }) as const;

  it('answers a retry of a granted checkout with its first grant although the key has lost its quorum, and refuses new checkouts', async () => {
    setPeerConnected(true);
    const node = await openNode(tempDir(), undefined, 20_000, () => peers);
    expect(await node.importLicense(licenseKey({ lockCodes: ['LOCK', 'LOCK-2', 'LOCK-3'] }))).toMatchObject({ ok: true });
    await node.propose({ type: 'session-open', sessionId: 's1', clientId: 'client-1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    const granted = await node.proposeCheckout(checkout('s1', 'req-1'));
    if (!granted.reply.ok || granted.reply.type !== 'granted') throw new Error(`not granted: ${JSON.stringify(granted.reply)}`);
    const leaseId = granted.reply.lease.leaseId;

    // The grant's reply is lost; LOCK-2 goes away before the client retries.
    setPeerConnected(false);
    expect(node.featureRefusal('demo')?.code).toBe('LICENSE_QUORUM_LOST');
    const applied = node.status().appliedIndex;
    const retried = await node.proposeCheckout(checkout('s1', 'req-1'));
    expect(retried.reply).toMatchObject({ ok: true, type: 'granted', lease: { leaseId } });
    // The client reconnected into a new session (say on another server) and retries there.
    await node.propose({ type: 'session-open', sessionId: 's2', clientId: 'client-1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    expect((await node.proposeCheckout(checkout('s2', 'req-1'))).reply).toMatchObject({ ok: true, type: 'granted', lease: { leaseId } });
    expect(node.status().appliedIndex).toBe(applied + 1); // the session-open alone: no retry went into the log

    // A request the pool has not answered is refused, and changes nothing.
    const refused = await node.proposeCheckout(checkout('s1', 'req-2')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LicenseRefusalError);
    expect(refused).toMatchObject({ code: 'LICENSE_QUORUM_LOST' });
    // Another client's request with the same requestId is not the same request.
    await node.propose({ type: 'session-open', sessionId: 's3', clientId: 'client-3', user: 'v', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    await expect(node.proposeCheckout(checkout('s3', 'req-1'))).rejects.toMatchObject({ code: 'LICENSE_QUORUM_LOST' });
    expect(node.leases().map((l) => l.leaseId)).toEqual([leaseId]);

    // Served again once LOCK-2 is back; the refused request was never remembered.
    setPeerConnected(true);
    expect((await node.proposeCheckout(checkout('s1', 'req-2'))).reply).toMatchObject({ ok: true, type: 'granted' });
    expect(node.leases().length).toBe(2);
  });

  it('answers a retry of a refused checkout with its first refusal while the key has lost its quorum', async () => {
    setPeerConnected(true);
    const node = await openNode(tempDir(), undefined, 20_000, () => peers);
    expect(await node.importLicense(licenseKey({ lockCodes: ['LOCK', 'LOCK-2', 'LOCK-3'], seats: 1 }))).toMatchObject({ ok: true });
    await node.propose({ type: 'session-open', sessionId: 's1', clientId: 'client-1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    expect((await node.proposeCheckout(checkout('s1', 'req-1'))).reply).toMatchObject({ ok: true, type: 'granted' });
    expect((await node.proposeCheckout(checkout('s1', 'req-2'))).reply).toMatchObject({ ok: false, code: 'NO_SEATS' });
    setPeerConnected(false);
    expect((await node.proposeCheckout(checkout('s1', 'req-2'))).reply).toMatchObject({ ok: false, code: 'NO_SEATS' });
  });
});

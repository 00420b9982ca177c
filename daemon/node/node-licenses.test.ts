import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../../protocol/index.ts';
import { parseConfig } from '../config.ts';
import { FloeNode } from './floe-node.ts';
import { readCommittedPool } from './committed-pool.ts';
import { retiredLicense } from '../pool/index.ts';
import { LicenseRefusalError, type PeerLockState } from './license-locks.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));

function licenseKey(overrides: Partial<LicensePayload> = {}): string {
  return signLicenseKey(
    {
      v: 1,
      licenseId: 'LIC-OLD',
      authCode: 'AUTH-1',
      vendorKeyId: vendorKeyIdOf(vendor.publicKey),
      product: 'demo',
      version: '1',
      model: 'concurrent',
      seats: 20,
      components: [],
      issuedAt: 0,
      notBefore: 0,
      lockCodes: ['LOCK'],
      lingerSeconds: 0,
      hostsPerUserMax: 1,
      ...overrides,
    },
    vendor.secretKey,
  );
}

const dirs: string[] = [];
const nodes: FloeNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'floe-licenses-'));
  dirs.push(d);
  return d;
}

/**
 * A single node in `dir` with lock code LOCK whose config names
 * `licenseFiles`; its log lines go to `lines`; `peers`: its peers' stated
 * lock codes, as the peer transport would report them.
 */
async function openNode(dir: string, licenseFiles: string[] = [], lines: string[] = [], peers?: Map<string, PeerLockState>): Promise<FloeNode> {
  const config = parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)], licenseFiles });
  const node = await FloeNode.open({ config, lockCode: 'LOCK', log: (line) => lines.push(line), ...(peers === undefined ? {} : { peerLockCodes: () => peers }) });
  nodes.push(node);
  return node;
}

async function close(node: FloeNode): Promise<void> {
  nodes.splice(nodes.indexOf(node), 1);
  await node.close();
}

const seats = (node: FloeNode): number[] => node.pools().map((p) => p.seatsTotal);

describe('a rehost: a key that supersedes the installed one', () => {
  it('replaces it: the pool shows the new key\'s 20 seats, not 20 + 20', async () => {
    const node = await openNode(tempDir());
    expect(await node.importLicense(licenseKey())).toMatchObject({ ok: true });
    const rehost = await node.importLicense(licenseKey({ licenseId: 'LIC-NEW', supersedes: 'LIC-OLD', lockCodes: ['LOCK'] }));
    expect(seats(node)).toEqual([20]);
    expect(rehost).toEqual({ ok: true, licenseId: 'LIC-NEW', features: ['demo'], supersededLicenseId: 'LIC-OLD' });
    expect(node.licenses().map((l) => l.licenseId)).toEqual(['LIC-NEW']);
  });

  it('leaves the old key refused with SUPERSEDED on import, and from a license file after a restart', async () => {
    const dir = tempDir();
    const oldFile = join(dir, 'old.license');
    writeFileSync(oldFile, licenseKey());
    const lines: string[] = [];
    const node = await openNode(dir, [oldFile]);
    await expect.poll(() => seats(node)).toEqual([20]);
    await node.importLicense(licenseKey({ licenseId: 'LIC-NEW', supersedes: 'LIC-OLD' }));
    expect(await node.importLicense(licenseKey())).toMatchObject({ ok: false, code: 'SUPERSEDED' });
    await close(node);

    const again = await openNode(dir, [oldFile], lines);
    await expect.poll(() => lines.some((l) => l.includes(`license file ${oldFile}: SUPERSEDED`))).toBe(true);
    expect(seats(again)).toEqual([20]);
    expect(again.licenses().map((l) => l.licenseId)).toEqual(['LIC-NEW']);
  });
});

describe('a license an admin removed', () => {
  it('stays removed across a restart although the config\'s licenseFiles names it', async () => {
    const dir = tempDir();
    const file = join(dir, 'demo.license');
    writeFileSync(file, licenseKey({ licenseId: 'LIC-FILE', seats: 5 }));
    const node = await openNode(dir, [file]);
    await expect.poll(() => seats(node)).toEqual([5]);
    const removed = await node.propose({ type: 'license-remove', licenseId: 'LIC-FILE' });
    expect(removed.reply.ok).toBe(true);
    await close(node);

    const lines: string[] = [];
    const again = await openNode(dir, [file], lines);
    await expect.poll(() => lines.some((l) => l.includes('LICENSE_REMOVED'))).toBe(true);
    expect(again.licenses()).toEqual([]);
    expect(again.pools()).toEqual([]);
  });

  it('comes back when an admin imports it on purpose', async () => {
    const dir = tempDir();
    const node = await openNode(dir);
    await node.importLicense(licenseKey({ licenseId: 'LIC-X', seats: 3 }));
    await node.propose({ type: 'license-remove', licenseId: 'LIC-X' });
    expect(await node.importLicense(licenseKey({ licenseId: 'LIC-X', seats: 3 }))).toMatchObject({ ok: true, licenseId: 'LIC-X' });
    expect(seats(node)).toEqual([3]);
  });
});

describe('readCommittedPool()', () => {
  it('reads the licenses a node retired from its database while the node runs, and nothing from a directory without one', async () => {
    const dir = tempDir();
    const node = await openNode(dir);
    await node.importLicense(licenseKey());
    await node.importLicense(licenseKey({ licenseId: 'LIC-NEW', supersedes: 'LIC-OLD' }));
    const pool = readCommittedPool(dir);
    expect(pool !== undefined && retiredLicense(pool, 'LIC-OLD')).toMatchObject({ reason: 'superseded', supersededBy: 'LIC-NEW' });
    expect(readCommittedPool(tempDir())).toBeUndefined();
  });
});

/** Installs `license` through the log, as another member's import would (no lock check on this node). */
async function installElsewhere(node: FloeNode, overrides: Partial<LicensePayload>): Promise<void> {
  const r = await node.propose({ type: 'license-install', license: { ...payload(), ...overrides } });
  if (!r.reply.ok) throw new Error(`install: ${r.reply.code}`);
}

function payload(): LicensePayload {
  return {
    v: 1, licenseId: 'LIC-X', authCode: 'AUTH-X', vendorKeyId: vendorKeyIdOf(vendor.publicKey), product: 'demo', version: '1',
    model: 'concurrent', seats: 1, components: [], issuedAt: 0, notBefore: 0, lockCodes: ['LOCK'], lingerSeconds: 0, hostsPerUserMax: 1,
  };
}

/** Checks out one seat of demo through the node's license gate (as a client on this node would); answers the code. */
async function checkout(node: FloeNode, requestId: string): Promise<string> {
  if (node.session('s1') === undefined) {
    await node.propose({ type: 'session-open', sessionId: 's1', clientId: 'client-1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
  }
  try {
    const r = await node.proposeCheckout({ type: 'checkout', sessionId: 's1', requestId, feature: 'demo', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    return r.reply.ok ? r.reply.type : r.reply.code;
  } catch (error) {
    if (error instanceof LicenseRefusalError) return error.code;
    throw error;
  }
}

describe('each key\'s seats count only while that key passes its own rule on the serving node', () => {
  it('a one-server key does not unlock the seats of a redundant key that lost its majority', async () => {
    const peers = new Map<string, PeerLockState>([['n2', { lockCode: 'B', connected: false }], ['n3', { lockCode: 'C', connected: false }]]);
    const node = await openNode(tempDir(), [], [], peers);
    await installElsewhere(node, { licenseId: 'LIC-SOLO', seats: 1, lockCodes: ['LOCK'] });
    await installElsewhere(node, { licenseId: 'LIC-SITE', seats: 10, lockCodes: ['LOCK', 'B', 'C'] });
    expect(seats(node)).toEqual([11]);
    expect(await checkout(node, 'r1')).toBe('granted');
    expect(await checkout(node, 'r2')).toBe('NO_SEATS');
    // With a second server the site key names back, its seats count here too.
    peers.set('n2', { lockCode: 'B', connected: true });
    expect(await checkout(node, 'r3')).toBe('granted');
  });

  it('a key naming another server adds no seats on this one', async () => {
    const node = await openNode(tempDir());
    await installElsewhere(node, { licenseId: 'LIC-HERE', seats: 1, lockCodes: ['LOCK'] });
    await installElsewhere(node, { licenseId: 'LIC-THERE', seats: 10, lockCodes: ['ELSEWHERE'] });
    expect(await checkout(node, 'r1')).toBe('granted');
    expect(await checkout(node, 'r2')).toBe('NO_SEATS');
    expect(node.licenseKeyStates()).toMatchObject([
      { licenseId: 'LIC-HERE', served: true },
      { licenseId: 'LIC-THERE', served: false, refusal: { code: 'LICENSE_NOT_FOR_THIS_SERVER' } },
    ]);
  });

  it('two members presenting one lock code count as none: the redundant key loses its majority, and the duplicate is logged', async () => {
    const peers = new Map<string, PeerLockState>([['n2', { lockCode: 'B', connected: true }], ['n3', { lockCode: 'B', connected: true }]]);
    const lines: string[] = [];
    const node = await openNode(tempDir(), [], lines, peers);
    await installElsewhere(node, { licenseId: 'LIC-SITE', seats: 10, lockCodes: ['LOCK', 'B', 'C'] });
    expect(await checkout(node, 'r1')).toBe('LICENSE_QUORUM_LOST');
    expect(node.duplicateLockCodes()).toEqual([{ code: 'LOCK_CODE_DUPLICATE', lockCode: 'B', members: ['n2', 'n3'] }]);
    expect(lines.filter((l) => l.startsWith('LOCK_CODE_DUPLICATE: members n2, n3'))).toHaveLength(1);
  });
});

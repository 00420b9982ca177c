// Backup and restore through real FloeNodes (no sockets): what a backup
// holds is the state at one applied index, whatever happens while it
// streams, and a member restored from it starts from exactly that state.
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../../protocol/index.ts';
import { parseConfig } from '../config.ts';
import { FloeNode } from '../node/index.ts';
import { BackupError } from './backup-format.ts';
import { readBackup } from './backup-reader.ts';
import { BACKUP_USAGE_ROWS_PER_PAGE, openBackupStream } from './backup-stream.ts';
import { restoreBackup } from './restore-backup.ts';
import { DATABASE_FILE_NAME, openDatabase, readStorageLineage, storedStorageId, writeStorageLineage } from '../storage/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(5));
const LOCK = 'LOCK-OF-THE-TEST-NODE';
const dirs: string[] = [];
const nodes: FloeNode[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'floe-backup-'));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function payload(over: Partial<LicensePayload> = {}): LicensePayload {
  return {
    v: 1,
    licenseId: 'LIC-A',
    authCode: 'AUTH-A',
    vendorKeyId: vendorKeyIdOf(vendor.publicKey),
    product: 'cad',
    version: '2',
    model: 'concurrent',
    seats: 50,
    components: [],
    issuedAt: 0,
    notBefore: 0,
    lockCodes: [LOCK],
    lingerSeconds: 0,
    hostsPerUserMax: 1,
    ...over,
  };
}

async function openNode(dataDir: string, lockCode = LOCK): Promise<FloeNode> {
  const config = parseConfig({ dataDir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)], leaseTtlMs: 60_000 });
  const node = await FloeNode.open({ config, lockCode });
  nodes.push(node);
  return node;
}

/** Opens `count` sessions with one lease each; answers the lease ids. */
async function hold(node: FloeNode, count: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const sessionId = `${tag}-s${i}`;
    await node.propose({ type: 'session-open', sessionId, clientId: `${tag}-client-${i}`, user: `user${i}`, host: `host${i}`, app: 'cad', sessionTtlMs: 60_000 });
    const r = await node.propose({ type: 'checkout', sessionId, requestId: `${tag}-r${i}`, feature: 'cad', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    if (!r.reply.ok || r.reply.type !== 'granted') throw new Error(`checkout failed: ${JSON.stringify(r.reply)}`);
    ids.push(r.reply.lease.leaseId);
  }
  return ids;
}

async function writeBackup(node: FloeNode, path: string, duringStream: () => Promise<void> = async () => {}): Promise<number> {
  const { header, stream } = await openBackupStream(node);
  const reader = Readable.fromWeb(stream as import('node:stream/web').ReadableStream<Uint8Array>);
  // The cluster goes on while the file is written.
  await Promise.all([pipeline(reader, createWriteStream(path)), duringStream()]);
  return header.appliedIndex;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof BackupError ? error.code : `not a BackupError: ${(error as Error).message}`;
  }
}

describe('backup and restore', () => {
  it('a restored node holds the licenses, leases (same ids), sessions and usage rows of the backup\'s index, not what came after', async () => {
    const node = await openNode(tempDir());
    await node.propose({ type: 'license-install', license: payload() });
    const held = await hold(node, 30, 'a');
    await node.propose({ type: 'force-checkin', leaseId: held.pop()!, reason: 'before the backup' });
    const file = join(tempDir(), 'floe.backup');
    let later: string[] = [];
    const index = await writeBackup(node, file, async () => {
      later = await hold(node, 5, 'later');
    });
    expect(node.leases().length).toBe(34);
    const before = node.usageRows({ limit: 10_000 }).filter((r) => r.logIndex <= index);

    const restoredDir = tempDir();
    const r = await restoreBackup(parseConfig({ dataDir: restoredDir }), file);
    expect(r).toMatchObject({ voters: ['n1'], usageRows: before.length, header: { appliedIndex: index, counts: { licenses: 1, leases: 29, sessions: 30 } } });
    const restored = await openNode(restoredDir);
    expect(restored.licenses().map((l) => l.licenseId)).toEqual(['LIC-A']);
    expect(restored.leases().map((l) => l.leaseId).sort()).toEqual(held.slice().sort());
    expect(restored.leases().map((l) => l.leaseId)).not.toContain(later[0]);
    expect(restored.leases().find((l) => l.leaseId === held[3])).toMatchObject({ user: 'user3', host: 'host3', clientId: 'a-client-3' });
    expect(restored.sessions()).toHaveLength(30);
    expect(restored.usageRows({ limit: 10_000 })).toEqual(before);
    expect(restored.usageRows({ limit: 10_000 }).some((r) => r.kind === 'force-checkin' && r.reason === 'before the backup')).toBe(true);
    // It goes on from there: a client's retried checkout gets its first answer, a new one a new lease at a later index.
    const retry = await restored.propose({ type: 'checkout', sessionId: 'a-s3', requestId: 'a-r3', feature: 'cad', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    expect(retry.reply).toMatchObject({ ok: true, lease: { leaseId: held[3] } });
    const [fresh] = await hold(restored, 1, 'after');
    expect(held).not.toContain(fresh);
    expect(restored.leases().find((l) => l.leaseId === fresh)!.fencingToken).toBeGreaterThan(index);
  });

  it('restored onto a server with another lock code: held seats stay, new checkouts wait for the rehosted key, which supersedes without doubling seats', async () => {
    const node = await openNode(tempDir());
    await node.propose({ type: 'license-install', license: payload({ seats: 3 }) });
    const held = await hold(node, 2, 'old');
    const file = join(tempDir(), 'floe.backup');
    await writeBackup(node, file);
    const restoredDir = tempDir();
    await restoreBackup(parseConfig({ dataDir: restoredDir }), file);
    const NEW_LOCK = 'LOCK-OF-THE-NEW-HARDWARE';
    const restored = await openNode(restoredDir, NEW_LOCK);
    const checkout = (tag: string) =>
      restored
        .proposeCheckout({ type: 'checkout', sessionId: 'old-s0', requestId: tag, feature: 'cad', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 })
        .then((r) => (r.reply.ok ? r.reply.type : r.reply.code), (error: { code?: string }) => error.code ?? String(error));
    expect(await checkout('new-1')).toBe('LICENSE_NOT_FOR_THIS_SERVER');
    expect((await restored.propose({ type: 'renew', leaseIds: held, sessionIds: [], leaseTtlMs: 60_000 })).reply).toMatchObject({ ok: true, leaseCount: 2 });
    // The vendor's rehost: the same seats, locked to the new server, superseding the old key.
    const rehosted = signLicenseKey(payload({ licenseId: 'LIC-B', seats: 3, lockCodes: [NEW_LOCK], supersedes: 'LIC-A' }), vendor.secretKey);
    expect(await restored.importLicense(rehosted)).toMatchObject({ ok: true, licenseId: 'LIC-B' });
    expect(restored.licenses().map((l) => l.licenseId)).toEqual(['LIC-B']);
    expect(restored.pools()).toMatchObject([{ feature: 'cad', seatsTotal: 3, seatsInUse: 2 }]);
    expect(restored.leases().map((l) => l.leaseId).sort()).toEqual(held.slice().sort());
    expect(await checkout('new-2')).toBe('granted');
  });

  it('streams more usage rows than one page, and reads a gzipped copy the same', async () => {
    const node = await openNode(tempDir());
    await node.propose({ type: 'license-install', license: payload({ seats: 1 }) });
    await node.propose({ type: 'session-open', sessionId: 's', clientId: 'client-denied', user: 'u', host: 'h', app: 'cad', sessionTtlMs: 60_000 });
    const denials = BACKUP_USAGE_ROWS_PER_PAGE + 300;
    await hold(node, 1, 'one');
    await Promise.all(
      Array.from({ length: denials }, (_, i) => node.propose({ type: 'checkout', sessionId: 's', requestId: `d${i}`, feature: 'cad', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 })),
    );
    const file = join(tempDir(), 'floe.backup');
    await writeBackup(node, file);
    const gz = `${file}.gz`;
    await pipeline(Readable.from([readFileSync(file)]), createGzip(), createWriteStream(gz));
    let batches = 0;
    const plain = await readBackup(file, () => batches++);
    expect(plain.usageRows).toBe(denials + 1);
    expect(batches).toBeGreaterThan(0);
    expect((await readBackup(gz)).usageRows).toBe(denials + 1);
    const restoredDir = tempDir();
    await restoreBackup(parseConfig({ dataDir: restoredDir }), gz);
    expect((await openNode(restoredDir)).usageRows({ limit: 10_000 }).filter((r) => r.kind === 'denial')).toHaveLength(denials);
  });

  it('a file cut short (plain or gzipped), edited or of another kind is refused and leaves no database behind', async () => {
    const node = await openNode(tempDir());
    await node.propose({ type: 'license-install', license: payload() });
    await hold(node, 3, 'x');
    const dir = tempDir();
    const file = join(dir, 'floe.backup');
    await writeBackup(node, file);
    const text = readFileSync(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    const variant = (name: string, content: string): string => {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    };
    const variantBytes = (name: string, content: Uint8Array): string => {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    };
    const gzipped = gzipSync(text);
    const cases: [string, string][] = [
      [variant('cut', lines.slice(0, -1).join('\n')), 'BACKUP_TRUNCATED'],
      [variant('cut-mid-line', text.slice(0, text.length - 30)), 'BACKUP_MALFORMED'],
      [variant('edited', text.replace('"user1","host1"', '"user9","host1"')), 'BACKUP_CHECKSUM_MISMATCH'],
      [variant('seats', text.replace('"seats":50', '"seats":500')), 'BACKUP_CHECKSUM_MISMATCH'],
      [variant('not-json', 'hello\n'), 'BACKUP_MALFORMED'],
      [variant('empty', ''), 'BACKUP_TRUNCATED'],
      [variant('other-format', '{"format":"something-else"}\n'), 'BACKUP_MALFORMED'],
      [variant('future', `${lines[0]!.replace('"v":1', '"v":9')}\n`), 'BACKUP_UNSUPPORTED_VERSION'],
      [variant('bad-row', [lines[0], lines[1], '["u",1,2]', lines.at(-1)].join('\n')), 'BACKUP_MALFORMED'],
      [variant('pool-not-base64', [lines[0], '{"pool":"%%%"}', lines.at(-1)].join('\n')), 'BACKUP_MALFORMED'],
      [variantBytes('gz-cut', gzipped.subarray(0, gzipped.length - 40)), 'BACKUP_TRUNCATED'],
      [variantBytes('gz-magic-only', Buffer.from([0x1f, 0x8b])), 'BACKUP_TRUNCATED'],
      [variantBytes('gz-garbage', Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not deflate data at all')])), 'BACKUP_MALFORMED'],
    ];
    for (const [path, code] of cases) {
      const target = join(tempDir(), 'data');
      expect(await codeOf(restoreBackup(parseConfig({ dataDir: target }), path)), path).toBe(code);
      expect(existsSync(target) ? readdirSync(target) : [], path).toEqual([]);
    }
  });

  it('records the restored database as the one its data directory runs, over a storage-lineage.json kept from the lost one', async () => {
    const node = await openNode(tempDir());
    await node.propose({ type: 'license-install', license: payload() });
    const file = join(tempDir(), 'floe.backup');
    await writeBackup(node, file);
    const restoredDir = tempDir();
    writeStorageLineage(restoredDir, 'f'.repeat(32));
    await restoreBackup(parseConfig({ dataDir: restoredDir }), file);
    const database = openDatabase(join(restoredDir, DATABASE_FILE_NAME));
    const stored = storedStorageId(database);
    database.close();
    expect(stored).toMatch(/^[0-9a-f]{32}$/);
    expect(readStorageLineage(restoredDir)).toBe(stored);
  });

  it('refuses a data directory that already holds a database, and a config that joins', async () => {
    const node = await openNode(tempDir());
    const file = join(tempDir(), 'floe.backup');
    await writeBackup(node, file);
    const used = tempDir();
    await (await openNode(used)).close();
    expect(await codeOf(restoreBackup(parseConfig({ dataDir: used }), file))).toBe('RESTORE_TARGET_NOT_EMPTY');
    const joining = parseConfig({
      dataDir: tempDir(),
      nodeId: 'n4',
      cluster: { join: true, peers: [{ id: 'n4', peerUrl: 'ws://127.0.0.1:1/raft', clientUrl: 'ws://127.0.0.1:2/ws', publicKey: 'A'.repeat(43) }] },
    });
    expect(await codeOf(restoreBackup(joining, file))).toBe('RESTORE_CONFIG_JOIN');
  });
});

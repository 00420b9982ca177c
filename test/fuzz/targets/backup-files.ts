// Fuzz target: backup files, as `floe restore --backup FILE` reads them. A
// backup comes from outside the running cluster (a file kept for months,
// copied between machines, maybe edited), so restoring any file must answer
// a BACKUP_… code or restore a member that starts. Its trailer is a
// SHA-256, not a signature: anyone can edit a file and write a matching
// trailer, so the mutations that pass the checksum (a line replaced, the
// pool snapshot's bytes changed) get one, and the checks after it run on
// hostile content: the header, the usage rows, the pool snapshot's decoder
// and its invariants. Others are cut short, edited byte by byte, or gzipped.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { BackupError, openBackupStream, restoreBackup } from '../../../daemon/backup/index.ts';
import { parseConfig } from '../../../daemon/config.ts';
import { FloeNode } from '../../../daemon/node/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf } from '../../../protocol/index.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { hostileJsonText, isErrorCode, randomBytes, randomText, withOneFieldMutated } from '../hostile-values.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
const LOCK_CODE = 'FUZZ-BACKUP-LOCK';

/** A real backup of a node with a license, three sessions holding a seat each, and usage rows; as its lines (without newlines). */
async function validBackupLines(dir: string): Promise<string[]> {
  const config = parseConfig({ dataDir: join(dir, 'source'), vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] });
  const node = await FloeNode.open({ config, lockCode: LOCK_CODE });
  try {
    const key = signLicenseKey(
      {
        v: 1,
        licenseId: 'LIC-BACKUP',
        authCode: 'AUTH-BACKUP',
        vendorKeyId: vendorKeyIdOf(vendor.publicKey),
        product: 'cad',
        version: '1',
        model: 'concurrent',
        seats: 5,
        components: [],
        issuedAt: 0,
        notBefore: 0,
        lockCodes: [LOCK_CODE],
        lingerSeconds: 0,
        hostsPerUserMax: 1,
      },
      vendor.secretKey,
    );
    const installed = await node.importLicense(key);
    if (!installed.ok) throw new Error(`backup-files: the license was refused: ${JSON.stringify(installed)}`);
    for (let i = 0; i < 3; i++) {
      const sessionId = `s${i}`;
      await node.propose({ type: 'session-open', sessionId, clientId: `client-${i}`, user: `u${i}`, host: `h${i}`, app: 'cad', sessionTtlMs: 60_000 });
      await node.propose({ type: 'checkout', sessionId, requestId: `request-${i}`, feature: 'cad', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    }
    const { stream } = await openBackupStream(node);
    const text = await new Response(stream).text();
    return text.split('\n').slice(0, -1);
  } finally {
    await node.close();
  }
}

/** The file of `lines` with a trailer whose SHA-256 matches them (the last line is replaced). */
function withMatchingTrailer(lines: readonly string[]): string {
  const body = `${lines.slice(0, -1).join('\n')}\n`;
  const usageRows = lines.filter((l) => l.startsWith('["u"')).length;
  return `${body}${JSON.stringify({ end: true, usageRows, sha256: createHash('sha256').update(body, 'utf8').digest('hex') })}\n`;
}

/** The `pool` line's snapshot bytes changed by `edit`; the header's poolBytes follows. */
function withPoolBytes(lines: readonly string[], edit: (pool: Buffer) => Buffer): string[] {
  const pool = edit(Buffer.from((JSON.parse(lines[1] as string) as { pool: string }).pool, 'base64'));
  const header = JSON.parse(lines[0] as string) as Record<string, unknown>;
  return [JSON.stringify({ ...header, poolBytes: pool.length }), JSON.stringify({ pool: pool.toString('base64') }), ...lines.slice(2)];
}

/** A hostile backup file, from the valid one's `lines`. */
function hostileFile(lines: readonly string[]): fc.Arbitrary<Uint8Array> {
  const valid = `${lines.join('\n')}\n`;
  const lineIndex = fc.nat({ max: lines.length - 1 });
  const text: fc.Arbitrary<string> = fc.oneof(
    // One line replaced by hostile JSON or a mutation of itself, with a trailer that checks out.
    fc
      .tuple(lineIndex, fc.boolean())
      .chain(([i, mutate]) => {
        const line = lines[i] as string;
        const replacement = mutate ? withOneFieldMutated(JSON.parse(line) as object) : fc.oneof(hostileJsonText, randomText);
        return replacement.map((r) => withMatchingTrailer(lines.map((l, j) => (j === i ? r.replace(/\n/g, ' ') : l))));
      }),
    // The pool snapshot cut short, or replaced by random bytes, header and trailer made to agree.
    fc.nat().map((cutAt) => withMatchingTrailer(withPoolBytes(lines, (pool) => pool.subarray(0, cutAt % pool.length)))),
    randomBytes.map((bytes) => withMatchingTrailer(withPoolBytes(lines, () => Buffer.from(bytes)))),
    // Cut short anywhere, or one character changed (the trailer then disagrees).
    fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
    fc.tuple(fc.nat({ max: valid.length - 1 }), fc.string({ minLength: 1, maxLength: 1 })).map(([at, c]) => valid.slice(0, at) + c + valid.slice(at + 1)),
    randomText,
  );
  return fc.oneof(
    { weight: 6, arbitrary: text.map((t) => new Uint8Array(Buffer.from(t, 'utf8'))) },
    { weight: 2, arbitrary: text.map((t) => new Uint8Array(gzipSync(t))) },
    // gzip's magic bytes before garbage, and plain garbage.
    { weight: 1, arbitrary: randomBytes.map((b) => new Uint8Array(Buffer.concat([Buffer.from([0x1f, 0x8b]), b]))) },
    { weight: 1, arbitrary: randomBytes },
  );
}

/** `floe restore` of any file: a BACKUP_… code, or a member that starts. */
export const backupFilesTarget: FuzzTarget = {
  name: 'backup-files',
  claim: 'restoring any backup file answers a BACKUP_ code or restores a member that starts, never a crash',
  runsInTest: 40,
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-fuzz-backup-'));
    try {
      const lines = await validBackupLines(dir);
      let run = 0;
      return {
        property: fc.asyncProperty(hostileFile(lines), async (bytes) => {
          const runDir = join(dir, `run-${run++}`);
          const file = `${runDir}.backup`;
          writeFileSync(file, bytes);
          const config = parseConfig({ dataDir: runDir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] });
          try {
            try {
              await restoreBackup(config, file);
            } catch (error) {
              if (error instanceof BackupError && isErrorCode(error.code) && error.code.startsWith('BACKUP_')) return;
              throw error;
            }
            // Restored: the member it made must start and answer what it holds.
            const node = await FloeNode.open({ config, lockCode: LOCK_CODE });
            try {
              node.licenses();
              node.pools();
              node.leases();
            } finally {
              await node.close();
            }
          } finally {
            rmSync(runDir, { recursive: true, force: true });
            rmSync(file, { force: true });
          }
        }),
        close: async () => rmSync(dir, { recursive: true, force: true }),
      };
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  },
};

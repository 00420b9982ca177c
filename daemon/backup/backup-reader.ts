// Reads a backup file (backup-format.ts), plain or gzip-compressed (the
// magic bytes decide), checking every line as it streams by: the header,
// the pool snapshot, each usage row, and at the end the trailer's row count
// and SHA-256 of everything before it; the pool snapshot must decode and
// keep the pool's invariants, as a restore needs. A file cut short, edited
// or of another format fails with a BackupError code; the caller writes
// nothing it cannot undo before readBackup() resolves.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { checkInvariants, decodeSnapshot } from '../pool/index.ts';
import type { UsageRow } from '../storage/index.ts';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BACKUP_LINE_CHARS_MAX,
  BackupError,
  backupHeaderSchema,
  backupTrailerSchema,
  decodeUsageLine,
  parseJson,
  parseLine,
  poolLineSchema,
  type BackupHeader,
} from './backup-format.ts';

/** Usage rows handed to the caller at once, at most. */
export const RESTORE_USAGE_ROWS_PER_BATCH = 5000;

/** What readBackup() found. */
export interface BackupContents {
  readonly header: BackupHeader;
  /** The pool snapshot (encodeSnapshot bytes). */
  readonly pool: Uint8Array;
  readonly usageRows: number;
}

function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(2);
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Splits a byte stream into lines (without their "\n"), refusing one longer than BACKUP_LINE_CHARS_MAX bytes. */
async function* lines(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      yield pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > BACKUP_LINE_CHARS_MAX) throw new BackupError('BACKUP_MALFORMED', `a line is longer than ${BACKUP_LINE_CHARS_MAX} bytes: not a Floe backup`);
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

/** Refuses a pool snapshot that does not decode or breaks the pool's invariants (a restore could not start from it). */
function checkPoolSnapshot(pool: Uint8Array, path: string): void {
  let problems: string[];
  try {
    problems = checkInvariants(decodeSnapshot(pool));
  } catch (error) {
    throw new BackupError('BACKUP_MALFORMED', `the pool snapshot in ${path} does not decode: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new BackupError('BACKUP_MALFORMED', `the pool snapshot in ${path} breaks the pool's invariants: ${problems.slice(0, 3).join('; ')}`);
}

/**
 * The BackupError of zlib's refusal to inflate a gzipped file (its errors
 * carry a Z_… code): a stream that ends early was cut short, anything else
 * is not gzip data. Undefined for any other error.
 */
function gunzipRefusal(error: unknown, path: string): BackupError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) return undefined;
  if (code === 'Z_BUF_ERROR') return new BackupError('BACKUP_TRUNCATED', `${path} is gzipped but ends early: the backup was cut short; take it again`);
  return new BackupError('BACKUP_MALFORMED', `${path} starts like a gzip file but does not inflate (${code}): not a Floe backup`);
}

/**
 * Reads and checks the backup at `path`; hands the usage rows to `onUsageRows`
 * in batches as they come (at most RESTORE_USAGE_ROWS_PER_BATCH), and
 * resolves once the trailer checked out. Rejects with a BackupError (or the
 * file system's error for an unreadable file).
 */
export async function readBackup(path: string, onUsageRows: (rows: UsageRow[]) => void = () => {}): Promise<BackupContents> {
  // Sniffing first also fails an absent or unreadable file before any stream exists.
  const gzipped = isGzip(path);
  const file = createReadStream(path);
  const gunzip = gzipped ? createGunzip() : undefined;
  if (gunzip !== undefined) file.on('error', (error) => gunzip.destroy(error));
  const source: AsyncIterable<Buffer> = gunzip !== undefined ? file.pipe(gunzip) : file;
  const hash = createHash('sha256');
  let header: BackupHeader | undefined;
  let pool: Uint8Array | undefined;
  let batch: UsageRow[] = [];
  let usageRows = 0;
  let lineNumber = 0;
  try {
    for await (const raw of lines(source)) {
      lineNumber++;
      const line = raw.toString('utf8');
      if (header === undefined) {
        const value = parseJson(line, lineNumber) as { format?: unknown; v?: unknown };
        if (value?.format !== BACKUP_FORMAT) throw new BackupError('BACKUP_MALFORMED', `${path} is not a Floe backup (its first line has no "format":"${BACKUP_FORMAT}")`);
        if (value.v !== BACKUP_FORMAT_VERSION) throw new BackupError('BACKUP_UNSUPPORTED_VERSION', `${path} is a backup of format version ${String(value.v)}; this Floe reads version ${BACKUP_FORMAT_VERSION}`);
        header = parseLine(backupHeaderSchema, value, 'a backup header', lineNumber);
      } else if (pool === undefined) {
        const { pool: base64 } = parseLine(poolLineSchema, parseJson(line, lineNumber), 'the pool line', lineNumber);
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new BackupError('BACKUP_MALFORMED', `line ${lineNumber}: the pool snapshot is not base64`);
        pool = new Uint8Array(Buffer.from(base64, 'base64'));
        if (pool.length !== header.poolBytes) throw new BackupError('BACKUP_MALFORMED', `line ${lineNumber}: the pool snapshot has ${pool.length} bytes, the header says ${header.poolBytes}`);
      } else if (line.startsWith('["u"')) {
        batch.push(decodeUsageLine(line, lineNumber));
        usageRows++;
        if (batch.length >= RESTORE_USAGE_ROWS_PER_BATCH) {
          onUsageRows(batch);
          batch = [];
        }
      } else {
        const trailer = parseLine(backupTrailerSchema, parseJson(line, lineNumber), 'a usage row or the trailer', lineNumber);
        if (trailer.usageRows !== usageRows) throw new BackupError('BACKUP_CHECKSUM_MISMATCH', `the trailer counts ${trailer.usageRows} usage rows; the file holds ${usageRows}`);
        if (trailer.sha256 !== hash.digest('hex')) throw new BackupError('BACKUP_CHECKSUM_MISMATCH', `${path} was changed after it was written: its SHA-256 is not the trailer's`);
        checkPoolSnapshot(pool, path);
        if (batch.length > 0) onUsageRows(batch);
        return { header, pool, usageRows };
      }
      hash.update(raw);
      hash.update('\n');
    }
  } catch (error) {
    throw gunzipRefusal(error, path) ?? error;
  } finally {
    file.destroy();
    gunzip?.destroy();
  }
  throw new BackupError('BACKUP_TRUNCATED', `${path} ends at line ${lineNumber} without its trailer: the backup was cut short; take it again`);
}

// `floe backup --out FILE`: an online, consistent copy of a live cluster's
// replicated state (licenses, pools, sessions, leases with their ids, usage
// rows, membership), streamed from any node's admin API without pausing the
// cluster. The file is written beside FILE, read back and checked (its
// trailer's SHA-256), synced, and only then renamed onto FILE: an existing
// FILE is replaced only by a complete backup. FILE ending in .gz is gzipped.
// Prints FILE as its last line. `--verify FILE` checks a backup file
// offline instead (backup-verify.ts).
import { createWriteStream, fsyncSync, openSync, closeSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BackupError, readBackup } from '../daemon/backup/index.ts';
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection } from './admin-connection.ts';
import { accepted, adminClient } from './admin-client.ts';
import { backupSummaryLines, parseMaxAgeHours, verifyBackupFile } from './backup-verify.ts';
import { CliError, usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { parseOptions, runCommand } from './run-command.ts';

const USAGE = `usage: floe backup --out FILE[.gz] ${ADMIN_USAGE} [--json]
       floe backup --verify FILE[.gz] [--max-age-hours H] [--json]`;
/** `ms` to wait for the backup to start (the node's read barrier through the leader). */
const BACKUP_START_MS_MAX = 30_000;

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** "1.2 MiB" */
function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Runs `floe backup`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, { ...ADMIN_OPTIONS, out: { type: 'string' }, verify: { type: 'string' }, 'max-age-hours': { type: 'string' } });
    if (values.verify !== undefined) {
      if (values.out !== undefined) throw usageError('--verify FILE checks a file; --out FILE takes a backup: one or the other');
      if (values.verify === '') throw usageError('--verify wants a FILE');
      return verifyBackupFile(resolve(values.verify), parseMaxAgeHours(values['max-age-hours']), Date.now());
    }
    if (values['max-age-hours'] !== undefined) throw usageError('--max-age-hours goes with --verify FILE');
    if (values.out === undefined || values.out === '') throw usageError('--out FILE is required');
    const out = resolve(values.out);
    const connection = adminConnection(values);
    const partial = join(dirname(out), `.${basename(out)}.partial`);
    const res = await accepted(() => adminClient(connection, BACKUP_START_MS_MAX).backup.$get());
    if (res.body === null) throw new CliError('UNAVAILABLE', 'the admin API answered the backup with no body');
    try {
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      try {
        if (out.endsWith('.gz')) await pipeline(body, createGzip(), createWriteStream(partial, { mode: 0o600 }));
        else await pipeline(body, createWriteStream(partial, { mode: 0o600 }));
      } catch (error) {
        throw new CliError('UNAVAILABLE', `the backup stream broke off: ${(error as Error).message}; nothing was written to ${out}`);
      }
      let contents;
      try {
        contents = await readBackup(partial);
      } catch (error) {
        if (error instanceof BackupError) throw new CliError(error.code, `the backup received does not check out: ${error.message}; nothing was written to ${out}`);
        throw error;
      }
      fsyncPath(partial);
      renameSync(partial, out);
      fsyncPath(dirname(out));
      const h = contents.header;
      const bytes = statSync(out).size;
      const c = h.counts;
      return {
        lines: [
          `backup of the cluster's state at index ${h.appliedIndex} (term ${h.term}), taken by ${h.takenBy} at ${new Date(h.takenAt).toISOString()}:`,
          ...backupSummaryLines(contents),
          `  ${sizeText(bytes)} written; restore it with floe restore --backup ${out} --config FILE (docs/operations.md)`,
        ],
        value: out,
        json: { file: out, bytes, appliedIndex: h.appliedIndex, term: h.term, takenBy: h.takenBy, takenAt: h.takenAt, counts: c, usageRows: contents.usageRows, membership: h.membership, licenses: h.licenses },
      };
    } finally {
      rmSync(partial, { force: true });
    }
  });
}

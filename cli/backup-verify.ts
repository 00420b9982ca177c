// `floe backup --verify FILE [--max-age-hours H]`: checks a backup file
// without any server, as a sysadmin (or a monitoring check) does with the
// copies kept off the servers: every line, the trailer's row count and
// SHA-256, and the pool snapshot a restore would start from (readBackup).
// It prints what the file holds and how old it is; with --max-age-hours, a
// backup taken longer ago is refused (BACKUP_TOO_OLD), so a nightly timer
// that stopped running is noticed before the day it is needed.
import { BackupError, readBackup, type BackupContents } from '../daemon/backup/index.ts';
import { CliError, usageError } from './cli-error.ts';
import type { CommandOutput } from './run-command.ts';

/** `ms` in an hour. */
const HOUR_MS = 3_600_000;

/** "3 h" or "2 d 4 h", for a backup's age. */
function ageText(ageMs: number): string {
  const hours = Math.floor(Math.max(0, ageMs) / HOUR_MS);
  if (hours < 1) return `${Math.floor(Math.max(0, ageMs) / 60_000)} min`;
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Parses --max-age-hours: a positive number, or undefined when absent. */
export function parseMaxAgeHours(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const hours = Number(text);
  if (text.trim() === '' || !Number.isFinite(hours) || hours <= 0) throw usageError(`--max-age-hours wants a positive number of hours, not ${JSON.stringify(text)}`);
  return hours;
}

/** The lines `floe backup` and `floe backup --verify` print about a backup's contents. */
export function backupSummaryLines(contents: BackupContents): string[] {
  const h = contents.header;
  const c = h.counts;
  return [
    `  ${c.licenses} licenses, ${c.pools} pools, ${c.sessions} sessions, ${c.leases} leases, ${contents.usageRows} usage rows; members ${h.membership.voters.join(', ')}`,
    ...h.licenses.map((l) => `  ${l.licenseId} (${l.product} ${l.version}, ${l.seats} seats), locked to ${l.lockCodes.join(', ')}`),
  ];
}

/** Checks the backup at `path` (an absolute path); answers what `floe backup --verify` prints. */
export async function verifyBackupFile(path: string, maxAgeHours: number | undefined, nowMs: number): Promise<CommandOutput> {
  let contents: BackupContents;
  try {
    contents = await readBackup(path);
  } catch (error) {
    if (error instanceof BackupError) throw new CliError(error.code, `${path} does not check out: ${error.message}`);
    const e = error as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code.startsWith('E')) throw new CliError('BACKUP_UNREADABLE', `cannot read ${path}: ${e.message}`);
    throw error;
  }
  const h = contents.header;
  const ageMs = nowMs - h.takenAt;
  if (maxAgeHours !== undefined && ageMs > maxAgeHours * HOUR_MS) {
    throw new CliError('BACKUP_TOO_OLD', `${path} checks out but was taken ${ageText(ageMs)} ago (${new Date(h.takenAt).toISOString()}), more than --max-age-hours ${maxAgeHours}: is the backup timer running? (systemctl status floe-backup.timer)`);
  }
  return {
    lines: [
      `${path} checks out: the cluster's state at index ${h.appliedIndex} (term ${h.term}), taken by ${h.takenBy} at ${new Date(h.takenAt).toISOString()}, ${ageText(ageMs)} ago:`,
      ...backupSummaryLines(contents),
      `  restore it with floe restore --backup ${path} --config FILE (docs/operations.md)`,
    ],
    value: path,
    json: { file: path, ok: true, ageMs, appliedIndex: h.appliedIndex, term: h.term, takenBy: h.takenBy, takenAt: h.takenAt, counts: h.counts, usageRows: contents.usageRows, membership: h.membership, licenses: h.licenses },
  };
}

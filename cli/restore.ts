// `floe restore --backup FILE --config FILE`: disaster recovery, when every
// server of a cluster was lost. Run it on each server of the NEW cluster,
// with that server's config (its [cluster] peers are the new members) and
// the same backup file, before starting any of them; then start them all.
// It writes the data directory's database from the backup (the licenses,
// pools, sessions and leases with their ids at the backup's index, and the
// usage rows), and reports, for each license, whether its key names this
// server's lock code: a key locked to the old servers' lock codes needs a
// rehost by the vendor (docs/operations.md, "Restoring onto new hardware").
import { BackupError, restoreBackup } from '../daemon/backup/index.ts';
import { ConfigError, loadConfigFile } from '../daemon/index.ts';
import { loadNodeIdentity, NodeIdentityError } from '../daemon/identity/index.ts';
import { CliError, usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { parseOptions, runCommand } from './run-command.ts';

const USAGE = 'usage: floe restore --backup FILE[.gz] --config FILE [--json]';

/** Runs `floe restore`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, { backup: { type: 'string' }, config: { type: 'string' } });
    if (values.backup === undefined || values.config === undefined) throw usageError('--backup FILE and --config FILE are required');
    let config;
    try {
      config = loadConfigFile(values.config);
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError('CONFIG_INVALID', error.message.replace(/^CONFIG_INVALID: /, ''));
      throw error;
    }
    let result;
    try {
      result = await restoreBackup(config, values.backup);
    } catch (error) {
      if (error instanceof BackupError) throw new CliError(error.code, error.message);
      const e = error as NodeJS.ErrnoException;
      if (typeof e.code === 'string' && e.code.startsWith('E')) throw new CliError('BACKUP_UNREADABLE', `cannot read ${values.backup}: ${e.message}`);
      throw error;
    }
    let lockCode: string;
    try {
      // The data directory's identity: restored there beforehand (same servers), or created now (new ones).
      lockCode = loadNodeIdentity(config.dataDir).lockCode;
    } catch (error) {
      if (error instanceof NodeIdentityError) throw new CliError(error.code, error.message);
      throw error;
    }
    const h = result.header;
    const licenses = h.licenses.map((l) => ({ ...l, forThisServer: l.lockCodes.includes(lockCode) }));
    const foreign = licenses.filter((l) => !l.forThisServer);
    const lines = [
      `restored ${config.nodeId} into ${result.dataDir}: the cluster's state at index ${h.appliedIndex} (taken by ${h.takenBy} at ${new Date(h.takenAt).toISOString()})`,
      `  ${h.counts.licenses} licenses, ${h.counts.pools} pools, ${h.counts.sessions} sessions, ${h.counts.leases} leases, ${result.usageRows} usage rows`,
      `  members of the new cluster: ${result.voters.join(', ')} (from ${values.config}); the backed-up cluster had ${h.membership.voters.join(', ')}`,
      `  this server's lock code: ${lockCode}`,
      ...licenses.map((l) => `  ${l.licenseId} (${l.product} ${l.version}, ${l.seats} seats): ${l.forThisServer ? 'its key names this server' : 'its key does NOT name this server: rehost it'}`),
      `next: restore every other member of ${result.voters.join(', ')} from the same file, then start them all (floe serve).`,
    ];
    const sameMembers = [...result.voters].sort().join() === [...h.membership.voters].sort().join();
    const warnings = foreign.map(
      (l) =>
        `LICENSE_NOT_FOR_THIS_SERVER: ${l.licenseId} is locked to ${l.lockCodes.join(', ')}; until the vendor rehosts it for the new servers' lock codes and you import the new key, held seats stay held but new checkouts of ${l.product} are refused`,
    );
    if (!sameMembers) {
      warnings.push(
        `MEMBERS_CHANGED: ${values.config} lists ${result.voters.join(', ')}; the backed-up cluster had ${h.membership.voters.join(', ')}. Right for new servers; otherwise bring the config up to date first. Every member must be restored with the same peers list`,
      );
    }
    return {
      lines,
      warnings,
      json: { nodeId: config.nodeId, dataDir: result.dataDir, appliedIndex: h.appliedIndex, term: h.term, voters: result.voters, previousVoters: h.membership.voters, counts: h.counts, usageRows: result.usageRows, lockCode, licenses },
    };
  });
}

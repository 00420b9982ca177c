// `floe license …`: check a key on this server before importing it (local),
// and import, list and remove the keys of a running cluster (admin API).
import { processIo, type CommandIo } from './command-io.ts';
import { check, CHECK_USAGE } from './license-check.ts';
import { activateLicense, importLicense, LICENSE_ADMIN_USAGE, listLicenses, removeLicense } from './license-admin.ts';
import { requestLicense } from './license-request.ts';
import { dispatch } from './run-command.ts';

const USAGE = `${CHECK_USAGE}\n${LICENSE_ADMIN_USAGE.replace(/^usage: /, '       ')}`;

/** Runs `floe license …`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return dispatch(argv, io, USAGE, { activate: activateLicense, check, import: importLicense, list: listLicenses, remove: removeLicense, request: requestLicense });
}

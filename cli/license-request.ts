// `floe license request`: the offline path of activation, for a site with no
// route to the key center. The cluster writes a signed request file
// (POST /licenses/activation-request: the code, every member's lock code and
// node key); this command saves it where --out says. A person uploads it to
// the key center's portal (or its API), and installs the key file it answers
// with `floe license import --key-file`.
import { writeFileSync } from 'node:fs';
import { ADMIN_OPTIONS, adminConnection } from './admin-connection.ts';
import { adminClient, call } from './admin-client.ts';
import { CliError, usageError } from './cli-error.ts';
import type { CommandIo } from './command-io.ts';
import { LICENSE_ADMIN_USAGE } from './license-admin.ts';
import { parseOptions, runCommand } from './run-command.ts';

/** `floe license request`; prints the file it wrote as its last line. */
export function requestLicense(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, LICENSE_ADMIN_USAGE, async () => {
    const { values } = parseOptions(argv, { ...ADMIN_OPTIONS, code: { type: 'string' }, 'host-description': { type: 'string' }, out: { type: 'string' } });
    if (values.code === undefined || values.code.trim() === '') throw usageError('give the authorization code with --code');
    if (values.out === undefined || values.out === '') throw usageError('give the file to write with --out (request.json)');
    const json = { authCode: values.code.trim(), ...(values['host-description'] === undefined ? {} : { hostDescription: values['host-description'] }) };
    const file = await call(() => adminClient(adminConnection(values)).licenses['activation-request'].$post({ json }));
    try {
      writeFileSync(values.out, `${JSON.stringify(file, null, 2)}\n`, { flag: 'wx' });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'EEXIST') throw new CliError('FILE_EXISTS', `${values.out} exists; give another --out (a request file is never overwritten)`);
      throw new CliError('FILE_UNWRITABLE', `cannot write ${values.out}: ${e.message}`);
    }
    const members = file.request.members;
    return {
      lines: [
        `request for ${file.request.authCode} on ${members.length} lock code${members.length === 1 ? '' : 's'}: ${members.map((m) => `${m.nodeId} ${m.lockCode}`).join(', ')}`,
        `signed by ${file.request.signedBy}; upload it to the key center's portal (menu: "Upload a request file") and install the key file it answers:`,
        `  floe license import --key-file LIC-….json --admin URL`,
      ],
      value: values.out,
      json: { file: values.out, ...file },
    };
  });
}

// `floe lockcode [--data-dir DIR] [--json]`: this server's lock code, to send
// to the vendor's key center. Creates DIR's node identity on first use, so
// each node (each DIR) on one machine has its own code.
import { processIo, type CommandIo } from './command-io.ts';
import { parseArgs } from 'node:util';
import { encodeBase64url } from '../protocol/index.ts';
import { DEFAULT_DATA_DIR, NodeIdentityError, loadNodeIdentity } from '../daemon/identity/index.ts';

export type { CommandIo } from './command-io.ts';

const USAGE = 'usage: floe lockcode [--data-dir DIR] [--json]';

/** Runs `floe lockcode`; answers the exit code. */
export async function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  let values: { 'data-dir'?: string | undefined; json?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`BAD_REQUEST: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const dataDir = values['data-dir'] ?? DEFAULT_DATA_DIR;
  if (dataDir === '') {
    io.stderr(`BAD_REQUEST: --data-dir needs a directory\n${USAGE}\n`);
    return 2;
  }
  try {
    const identity = loadNodeIdentity(dataDir);
    if (values.json === true) {
      const doc = {
        lockCode: identity.lockCode,
        dataDir,
        identityPublicKey: encodeBase64url(identity.publicKey),
        hostname: identity.machine.hostname,
        machineId: identity.machine.machineId !== undefined,
        macs: identity.machine.macs,
      };
      io.stdout(`${JSON.stringify(doc)}\n`);
    } else {
      const m = identity.machine;
      io.stdout(
        `Lock code of the Floe node in ${dataDir} on ${m.hostname} ` +
          `(machine-id ${m.machineId === undefined ? 'absent' : 'present'}, ${m.macs.length} physical MAC${m.macs.length === 1 ? '' : 's'}):\n` +
          `${identity.lockCode}\n`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof NodeIdentityError) {
      io.stderr(`${error.code}: ${error.message}\n`);
      return 1;
    }
    io.stderr(`INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

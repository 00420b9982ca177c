// `floe lockcode [--data-dir DIR] [--json]`: this server's lock code, to send
// to the vendor's key center. Creates DIR's node identity on first use, so
// each node (each DIR) on one machine has its own code. `--explain` shows
// what the code is made of and, with a key or lock codes, which of them
// match this node and which machine inputs agree (lockcode-explain.ts).
import { processIo, type CommandIo } from './command-io.ts';
import { parseArgs } from 'node:util';
import { encodeBase64url, lockCodeParts } from '../protocol/index.ts';
import { DEFAULT_DATA_DIR, NodeIdentityError, loadNodeIdentity, type NodeIdentity } from '../daemon/identity/index.ts';
import { CliError } from './cli-error.ts';
import { keyTextFrom, vendorKeyFrom } from './key-input.ts';
import { explainLockCode, type ExplainTarget } from './lockcode-explain.ts';

export type { CommandIo } from './command-io.ts';

const USAGE =
  'usage: floe lockcode [--data-dir DIR] [--json]\n' +
  '       floe lockcode --explain [--data-dir DIR] [--key KEY | --key-file FILE [--vendor-key PUB ...] | --lock-code CODE ... [--exact]] [--json]';

interface Options {
  'data-dir'?: string | undefined;
  json?: boolean | undefined;
  help?: boolean | undefined;
  explain?: boolean | undefined;
  key?: string | undefined;
  'key-file'?: string | undefined;
  'vendor-key'?: string[] | undefined;
  'lock-code'?: string[] | undefined;
  exact?: boolean | undefined;
}

/** Runs `floe lockcode`; answers the exit code. */
export async function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  let values: Options;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        explain: { type: 'boolean' },
        key: { type: 'string' },
        'key-file': { type: 'string' },
        'vendor-key': { type: 'string', multiple: true },
        'lock-code': { type: 'string', multiple: true },
        exact: { type: 'boolean' },
      },
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
  try {
    if (dataDir === '') throw new CliError('BAD_REQUEST', '--data-dir needs a directory', 2);
    const target = explainTarget(values);
    const identity = loadNodeIdentity(dataDir);
    if (target !== undefined) return explain(identity, target, values.json === true, io);
    if (values.json === true) {
      const parts = lockCodeParts(identity.lockCode);
      const doc = {
        lockCode: identity.lockCode,
        legacyLockCode: identity.legacyLockCode,
        dataDir,
        identityPublicKey: encodeBase64url(identity.publicKey),
        hostname: identity.machine.hostname,
        machineId: identity.machine.machineId !== undefined,
        macs: identity.machine.macs,
        parts: parts === undefined ? null : { identity: parts.identity, ...parts.inputs },
      };
      io.stdout(`${JSON.stringify(doc)}\n`);
    } else {
      const m = identity.machine;
      io.stdout(
        `Lock code of the Floe node in ${dataDir} on ${m.hostname} ` +
          `(machine-id ${m.machineId === undefined ? 'absent' : 'present'}, ${m.macs.length} physical MAC${m.macs.length === 1 ? '' : 's'}; ` +
          `keys issued before Floe 0.2 name ${identity.legacyLockCode}):\n` +
          `${identity.lockCode}\n`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof NodeIdentityError || error instanceof CliError) {
      const usage = error instanceof CliError && error.exitCode === 2 ? `${USAGE}\n` : '';
      if (values.json === true) io.stdout(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
      io.stderr(`${error.code}: ${error.message}\n${usage}`);
      return error instanceof CliError ? error.exitCode : 1;
    }
    io.stderr(`INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** What --explain compares this node with, from the options; undefined without --explain. */
function explainTarget(values: Options): ExplainTarget | undefined {
  const codes = values['lock-code'] ?? [];
  const keyGiven = values.key !== undefined || values['key-file'] !== undefined;
  if (values.explain !== true) {
    if (keyGiven || codes.length > 0 || values['vendor-key'] !== undefined || values.exact === true) {
      throw new CliError('BAD_REQUEST', '--key, --key-file, --lock-code, --vendor-key and --exact go with --explain', 2);
    }
    return undefined;
  }
  if (keyGiven && codes.length > 0) throw new CliError('BAD_REQUEST', 'give a key or lock codes, not both', 2);
  if (keyGiven) {
    if (values.exact === true) throw new CliError('BAD_REQUEST', '--exact goes with --lock-code: a key says its own match mode', 2);
    return { kind: 'key', keyText: keyTextFrom(values.key, values['key-file']), vendorKeys: (values['vendor-key'] ?? []).map(vendorKeyFrom) };
  }
  if (codes.length > 0) return { kind: 'codes', codes, mode: values.exact === true ? 'exact' : 'tolerant' };
  return { kind: 'node' };
}

/** Prints the explanation; exit 1 with LOCK_CODE_MISMATCH when codes were named and none matches this node. */
function explain(identity: NodeIdentity, target: ExplainTarget, json: boolean, io: CommandIo): number {
  const e = explainLockCode(identity, target);
  if (json) io.stdout(`${JSON.stringify(e.json)}\n`);
  // The value for scripts, last: the code that matches, or this node's own code.
  else io.stdout(`${[...e.lines, e.named ? e.matched : identity.lockCode].filter((l) => l !== undefined).join('\n')}\n`);
  if (!e.named || e.matched !== undefined) return 0;
  io.stderr(`LOCK_CODE_MISMATCH: none of the lock codes matches this node (${identity.lockCode}); see the lines above for which inputs differ\n`);
  return 1;
}

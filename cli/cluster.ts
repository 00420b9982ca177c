// `floe cluster add|remove|status`: membership changes through a node's
// admin API (the leader's; a follower answers UNAVAILABLE naming the leader).
// Replacing a dead server (docs/operations.md): start the new machine with
// `join = true`, `floe cluster add` it, then `floe cluster remove` the dead
// one, then import the vendor's new key for the new set of lock codes.
import process from 'node:process';
import { parseArgs } from 'node:util';
import { adminRequest, reportAdminFailure } from './admin-request.ts';

const USAGE = [
  'usage: floe cluster add --admin URL --token T --id ID --peer-url ws://HOST:PORT/raft --public-key KEY [--client-url ws://HOST:PORT/ws]',
  '       floe cluster remove --admin URL --token T --id ID',
  '       floe cluster status --admin URL --token T',
].join('\n');
/** `ms` to wait for the admin API (a membership change commits within an election or two). */
const REQUEST_MS_MAX = 10_000;

/** Runs `floe cluster`; answers the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        admin: { type: 'string' },
        token: { type: 'string' },
        id: { type: 'string' },
        'peer-url': { type: 'string' },
        'client-url': { type: 'string' },
        'public-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`BAD_REQUEST: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true || sub === undefined || sub === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (values.admin === undefined || values.token === undefined) {
    process.stderr.write(`BAD_REQUEST: --admin and --token are required\n${USAGE}\n`);
    return 2;
  }
  try {
    let result: unknown;
    if (sub === 'add') {
      if (values.id === undefined || values['peer-url'] === undefined || values['public-key'] === undefined) {
        process.stderr.write(`BAD_REQUEST: add needs --id, --peer-url and --public-key\n${USAGE}\n`);
        return 2;
      }
      result = await adminRequest(values.admin, values.token, 'POST', '/cluster/members', { timeoutMs: REQUEST_MS_MAX, body: {
        id: values.id,
        peerUrl: values['peer-url'],
        publicKey: values['public-key'],
        ...(values['client-url'] !== undefined ? { clientUrl: values['client-url'] } : {}),
      } });
    } else if (sub === 'remove') {
      if (values.id === undefined) {
        process.stderr.write(`BAD_REQUEST: remove needs --id\n${USAGE}\n`);
        return 2;
      }
      result = await adminRequest(values.admin, values.token, 'DELETE', `/cluster/members/${encodeURIComponent(values.id)}`, { timeoutMs: REQUEST_MS_MAX });
    } else if (sub === 'status') {
      result = await adminRequest(values.admin, values.token, 'GET', '/cluster', { timeoutMs: REQUEST_MS_MAX });
    } else {
      process.stderr.write(`BAD_REQUEST: unknown subcommand "${sub}"\n${USAGE}\n`);
      return 2;
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (error) {
    return reportAdminFailure(error);
  }
}

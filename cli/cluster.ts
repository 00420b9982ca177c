// `floe cluster add|remove|status`: membership changes through a node's
// admin API (the leader's; a follower answers UNAVAILABLE naming the leader).
// Replacing a dead server (docs/operations.md): start the new machine with
// `join = true`, `floe cluster add` it, then `floe cluster remove` the dead
// one, then import the vendor's new key for the new set of lock codes.
// Each prints the cluster view as JSON (its last line of stdout).
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection } from './admin-connection.ts';
import { adminClient, call } from './admin-client.ts';
import { usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { dispatch, parseOptions, runCommand } from './run-command.ts';

const USAGE = [
  `usage: floe cluster add ${ADMIN_USAGE} --id ID --peer-url ws://HOST:PORT/raft --public-key KEY [--client-url ws://HOST:PORT/ws]`,
  `       floe cluster remove ${ADMIN_USAGE} --id ID`,
  `       floe cluster status ${ADMIN_USAGE}`,
].join('\n');
/** `ms` to wait for the admin API (a membership change commits within an election or two). */
const REQUEST_MS_MAX = 10_000;

const MEMBER_OPTIONS = {
  ...ADMIN_OPTIONS,
  id: { type: 'string' },
  'peer-url': { type: 'string' },
  'client-url': { type: 'string' },
  'public-key': { type: 'string' },
} as const;

function member(action: 'add' | 'remove' | 'status') {
  return (argv: string[], io: CommandIo) =>
    runCommand(argv, io, USAGE, async () => {
      const { values } = parseOptions(argv, MEMBER_OPTIONS);
      const api = adminClient(adminConnection(values), REQUEST_MS_MAX);
      let result: unknown;
      if (action === 'add') {
        const { id, 'peer-url': peerUrl, 'public-key': publicKey, 'client-url': clientUrl } = values;
        if (id === undefined || peerUrl === undefined || publicKey === undefined) throw usageError('add needs --id, --peer-url and --public-key');
        const json = { id, peerUrl, publicKey, ...(clientUrl !== undefined ? { clientUrl } : {}) };
        result = await call(() => api.cluster.members.$post({ json }));
      } else if (action === 'remove') {
        const id = values.id;
        if (id === undefined) throw usageError('remove needs --id');
        result = await call(() => api.cluster.members[':id'].$delete({ param: { id } }));
      } else {
        result = await call(() => api.cluster.$get());
      }
      return { value: JSON.stringify(result), json: result };
    });
}

/** Runs `floe cluster`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return dispatch(argv, io, USAGE, { add: member('add'), remove: member('remove'), status: member('status') });
}

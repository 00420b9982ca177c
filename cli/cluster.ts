// `floe cluster add|remove|status`: membership changes through a node's
// admin API (the leader's; a follower answers UNAVAILABLE naming the leader).
// Replacing a dead server (docs/operations.md): start the new machine with
// `join = true`, `floe cluster add` it, then `floe cluster remove` the dead
// one, then import the vendor's new key for the new set of lock codes.
// Each prints the members' states and, as its last line of stdout, the
// cluster view as JSON.
//
// Only the leader changes the membership, and a follower cannot forward the
// change: asked through a follower that knows the leader, add and remove
// fail at once naming it, instead of sending the change again for the
// UNAVAILABLE retry window (which is for "no leader yet").
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection } from './admin-connection.ts';
import { adminClient, call } from './admin-client.ts';
import { CliError, usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { dispatch, parseOptions, runCommand } from './run-command.ts';
import { memberLines, type ClusterAnswer } from './status-report.ts';

const USAGE = [
  `usage: floe cluster add ${ADMIN_USAGE} --id ID --peer-url ws://HOST:PORT/raft --public-key KEY [--client-url ws://HOST:PORT/ws] [--wait-seconds S]`,
  `       floe cluster remove ${ADMIN_USAGE} --id ID`,
  `       floe cluster status ${ADMIN_USAGE}`,
].join('\n');
/** `ms` to wait for the admin API (a membership change commits within an election or two). */
const REQUEST_MS_MAX = 10_000;
/** Seconds `add` keeps asking while the new member catches up as a learner (--wait-seconds). */
const ADD_WAIT_SECONDS_DEFAULT = 300;

const MEMBER_OPTIONS = {
  ...ADMIN_OPTIONS,
  id: { type: 'string' },
  'peer-url': { type: 'string' },
  'client-url': { type: 'string' },
  'public-key': { type: 'string' },
  'wait-seconds': { type: 'string' },
} as const;

function member(action: 'add' | 'remove' | 'status') {
  return (argv: string[], io: CommandIo) =>
    runCommand(argv, io, USAGE, async () => {
      const { values } = parseOptions(argv, MEMBER_OPTIONS);
      const connection = adminConnection(values);
      const api = adminClient(connection, REQUEST_MS_MAX);
      let result: ClusterAnswer;
      if (action === 'status') result = await call(() => api.cluster.$get());
      else {
        const { id, 'peer-url': peerUrl, 'public-key': publicKey, 'client-url': clientUrl } = values;
        if (id === undefined) throw usageError(`${action} needs --id`);
        if (action === 'add' && (peerUrl === undefined || publicKey === undefined)) throw usageError('add needs --id, --peer-url and --public-key');
        const health = await call(() => api.health.$get());
        if (health.role !== 'leader' && health.leaderId !== '' && health.leaderId !== health.nodeId) {
          throw new CliError(
            'UNAVAILABLE',
            `${health.nodeId} at ${connection.baseUrl} is a ${health.role}; only the leader changes the membership, and ${health.leaderId} leads (leader: ${health.leaderId}): run this against ${health.leaderId}'s admin URL`,
          );
        }
        if (action === 'add') {
          const json = { id, peerUrl: peerUrl!, publicKey: publicKey!, ...(clientUrl !== undefined ? { clientUrl } : {}) };
          // The leader adds it as a learner and answers MEMBER_CATCHING_UP until it holds the log: ask again.
          const waitSeconds = values['wait-seconds'] === undefined ? ADD_WAIT_SECONDS_DEFAULT : Number(values['wait-seconds']);
          if (!Number.isInteger(waitSeconds) || waitSeconds < 0) throw usageError('--wait-seconds must be a whole number of seconds');
          const giveUpAt = Date.now() + waitSeconds * 1000;
          for (;;) {
            try {
              result = await call(() => api.cluster.members.$post({ json }));
              break;
            } catch (error) {
              if (!(error instanceof CliError) || error.code !== 'MEMBER_CATCHING_UP' || Date.now() >= giveUpAt) throw error;
              io.stderr(`${error.message}; asking again\n`);
            }
          }
        } else {
          result = await call(() => api.cluster.members[':id'].$delete({ param: { id } }));
        }
      }
      const by = result.reportedBy;
      const heading = by?.role === 'leader' ? `members (as the leader ${by.id} sees them):` : `members (as ${by?.id ?? 'this node'}, not the leader, sees them; leader ${result.leaderId === '' ? 'none' : result.leaderId}):`;
      return { lines: [heading, ...memberLines(result)], value: JSON.stringify(result), json: result };
    });
}

/** Runs `floe cluster`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return dispatch(argv, io, USAGE, { add: member('add'), remove: member('remove'), status: member('status') });
}

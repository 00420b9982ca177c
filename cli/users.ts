// `floe users set --feature F [--version V] USER… | list --feature F`: the
// named users of an authorized-user pool. Only named users may check its
// seats out; `set` replaces the list (a user left out loses its seat).
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection } from './admin-connection.ts';
import { adminClient, call, fresh } from './admin-client.ts';
import { usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { dispatch, parseOptions, runCommand } from './run-command.ts';

const USAGE = [
  `usage: floe users set --feature F [--version V] USER… ${ADMIN_USAGE} [--json]`,
  `       floe users set --feature F [--version V] --none ${ADMIN_USAGE} [--json]`,
  `       floe users list --feature F [--version V] ${ADMIN_USAGE} [--json]`,
].join('\n');

const OPTIONS = { ...ADMIN_OPTIONS, feature: { type: 'string' }, version: { type: 'string' } } as const;

interface NamedUsers {
  readonly feature: string;
  readonly version: string;
  readonly users: readonly string[];
  readonly seatsTotal: number;
  readonly seatsInUse: number;
}

function describe(n: NamedUsers): string[] {
  return [`${n.feature}@${n.version}: ${n.users.length} of ${n.seatsTotal} named, ${n.seatsInUse} holding a seat`, ...n.users.map((u) => `  ${u}`)];
}

function set(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values, positionals } = parseOptions(argv, { ...OPTIONS, none: { type: 'boolean' } }, true);
    const feature = values.feature;
    if (feature === undefined) throw usageError('--feature is required');
    // An empty list unnames everybody: say so explicitly rather than by forgetting the names.
    if (positionals.length === 0 && values.none !== true) throw usageError('name at least one USER (or --none to unname everybody)');
    if (positionals.length > 0 && values.none === true) throw usageError('--none takes no USER');
    const r = await call(() =>
      adminClient(adminConnection(values)).pools[':feature'].users.$put({
        param: { feature },
        json: { users: positionals, ...(values.version !== undefined ? { version: values.version } : {}) },
      }),
    );
    return { lines: describe(r), json: r };
  });
}

function list(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, OPTIONS);
    const feature = values.feature;
    if (feature === undefined) throw usageError('--feature is required');
    const r: NamedUsers = fresh(
      await call(() =>
        adminClient(adminConnection(values)).pools[':feature'].users.$get({
          param: { feature },
          query: values.version !== undefined ? { version: values.version } : {},
        }),
      ),
    );
    return { lines: describe(r), json: r };
  });
}

/** Runs `floe users …`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return dispatch(argv, io, USAGE, { set, list });
}

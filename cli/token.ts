// `floe token create --role viewer|operator|admin --name N | list | revoke NAME`:
// admin tokens for people and scripts (Grafana, a help desk), created and
// revoked through the replicated log. `create` prints the token once, as the
// last line of stdout; the cluster keeps only its SHA-256 digest.
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection } from './admin-connection.ts';
import { adminClient, call, fresh } from './admin-client.ts';
import { usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { dispatch, parseOptions, runCommand } from './run-command.ts';

const USAGE = [
  `usage: floe token create --role viewer|operator|admin --name NAME ${ADMIN_USAGE} [--json]`,
  `       floe token list ${ADMIN_USAGE} [--json]`,
  `       floe token revoke NAME ${ADMIN_USAGE} [--json]`,
].join('\n');

const ROLES = ['viewer', 'operator', 'admin'] as const;
const isRole = (v: string): v is (typeof ROLES)[number] => (ROLES as readonly string[]).includes(v);

const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function create(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, { ...ADMIN_OPTIONS, role: { type: 'string' }, name: { type: 'string' } });
    if (values.role === undefined || !isRole(values.role)) throw usageError('--role must be viewer, operator or admin');
    if (values.name === undefined) throw usageError('--name is required');
    // Not sent again on UNAVAILABLE: the token is shown once, and a second attempt after a first that went through would only say it exists.
    const json = { role: values.role, name: values.name };
    const client = adminClient(adminConnection(values));
    const r = await call(() => client.tokens.$post({ json }), { retryMs: 0 });
    return {
      lines: [`token "${r.name}" (${r.role}) created; it is shown only now:`],
      value: r.token,
      json: r,
    };
  });
}

function list(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, ADMIN_OPTIONS);
    const client = adminClient(adminConnection(values));
    const tokens = fresh(await call(() => client.tokens.$get({ query: {} })));
    // A config token was never created through the API, and its use is not recorded: say so rather than "-".
    const lines = tokens.map((t) =>
      t.source === 'config'
        ? `${t.name.padEnd(24)} ${t.role.padEnd(9)} ${t.source.padEnd(7)} from the config file (adminTokenSha256); use not recorded`
        : `${t.name.padEnd(24)} ${t.role.padEnd(9)} ${t.source.padEnd(7)} created ${when(t.createdAt)}${t.createdBy === '' ? '' : ` by ${t.createdBy}`}  last used ${t.lastUsedAt === null ? 'never' : when(t.lastUsedAt)}`,
    );
    return { lines, json: tokens };
  });
}

function revoke(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values, positionals } = parseOptions(argv, ADMIN_OPTIONS, true);
    if (positionals.length !== 1) throw usageError('give exactly one token NAME (floe token list shows them)');
    const client = adminClient(adminConnection(values));
    const r = await call(() => client.tokens[':name'].$delete({ param: { name: positionals[0]! } }));
    return { lines: [`revoked ${r.name}`], value: r.name, json: r };
  });
}

/** Runs `floe token …`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return dispatch(argv, io, USAGE, { create, list, revoke });
}

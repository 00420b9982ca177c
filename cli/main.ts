// The `floe` command: dispatches to one module per subcommand.
// Each subcommand module exports `run(argv): Promise<number>` (the exit code).
import process from 'node:process';

type Command = { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<number> }> };

/** Every subcommand of `floe`, in the order `floe help` lists them. */
const commands: Record<string, Command> = {
  lockcode: { summary: "print this server's lock code", load: () => import('./lockcode.ts') },
  keycenter: { summary: 'vendor key center: init, entitle, activate, rehost, list, accounts and orders, serve (the portal)', load: () => import('./keycenter.ts') },
  license: { summary: 'check a key on this server; import, list, remove the keys of a running cluster', load: () => import('./license.ts') },
  serve: { summary: 'run one node: floe serve --config FILE', load: () => import('./serve.ts') },
  demo: { summary: 'create and start a local demo (key center, license, nodes)', load: () => import('./demo.ts') },
  cluster: { summary: 'membership: add a member, remove one, show the cluster (replacing a server)', load: () => import('./cluster.ts') },
  health: { summary: 'does this node serve? (--wait: until it does; the unit file\'s readiness probe)', load: () => import('./health.ts') },
  status: { summary: 'members (caught up, behind, down, rejoining), license expiry, pools and leases via the admin API', load: () => import('./status.ts') },
  lease: { summary: 'list the leases held, free a stuck one', load: () => import('./lease.ts') },
  users: { summary: 'name the users of an authorized-user pool, list them', load: () => import('./users.ts') },
  backup: { summary: 'an online, consistent backup of a live cluster into a file', load: () => import('./backup.ts') },
  restore: { summary: 'disaster recovery: a member of a new cluster from a backup file', load: () => import('./restore.ts') },
  policy: { summary: 'the seat policy: get it, set one from a TOML or FlexNet options file, check a file offline', load: () => import('./policy.ts') },
  tls: { summary: 'certificates: init a site CA, issue a node certificate (TLS on every port)', load: () => import('./tls.ts') },
  usage: { summary: 'usage rows (checkouts, denials, forced check-ins, …) as a table, CSV or JSON', load: () => import('./usage.ts') },
  token: { summary: 'admin tokens: create one with a role (printed once), list, revoke', load: () => import('./token.ts') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return ['usage: floe <command> [options]', '', 'commands:', ...lines].join('\n');
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
  process.stdout.write(`${usage()}\n`);
  process.exitCode = name === undefined ? 2 : 0;
} else {
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`BAD_REQUEST: unknown command "${name}"\n${usage()}\n`);
    process.exitCode = 2;
  } else {
    process.exitCode = await (await command.load()).run(rest);
  }
}

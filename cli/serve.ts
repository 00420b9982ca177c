// `floe serve --config FILE`: runs one node until SIGINT/SIGTERM. Logs go to
// stderr; once it serves, the last line of stdout is a JSON object with its
// node id, client and admin URLs and pid (scripts and tests read the ports
// from it when the config asks for port 0).
import process from 'node:process';
import { parseArgs } from 'node:util';
import { createAdminApp } from '../admin/index.ts';
import { ConfigError, loadConfigFile, startDaemon } from '../daemon/index.ts';
import { untilSignal } from './until-signal.ts';

const USAGE = 'usage: floe serve --config FILE';

/** Runs `floe serve`; resolves with the exit code once the node has stopped. */
export async function run(argv: string[]): Promise<number> {
  let configPath: string | undefined;
  try {
    const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help === true) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    configPath = values.config;
  } catch (error) {
    process.stderr.write(`BAD_REQUEST: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (configPath === undefined) {
    process.stderr.write(`BAD_REQUEST: --config is required\n${USAGE}\n`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  let daemon;
  try {
    const config = loadConfigFile(configPath);
    daemon = await startDaemon(config, {
      log,
      adminApp: (node, d) => createAdminApp(node, { tokenSha256: config.adminTokenSha256, bodyBytesMax: config.limits.adminBodyBytesMax, metricsPerUser: config.metricsPerUser, log, tlsStatus: d.tlsStatus }),
    });
    process.stdout.write(
      `${JSON.stringify({ nodeId: config.nodeId, clientUrl: daemon.clientUrl, adminUrl: daemon.adminUrl, pid: process.pid })}\n`,
    );
  } catch (error) {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else {
      const e = error as { code?: unknown; message?: string };
      process.stderr.write(`${typeof e.code === 'string' ? `${e.code}: ` : 'UNAVAILABLE: '}${e.message ?? String(error)}\n`);
    }
    return 1;
  }
  const running = daemon;
  // SIGHUP: re-read the [tls] files (a renewed certificate); open sessions keep their connections.
  const reload = () => {
    try {
      running.reloadTls();
    } catch (error) {
      const e = error as { code?: unknown; message?: string };
      log(`tls: reload refused, still serving the previous certificate: ${typeof e.code === 'string' ? `${e.code}: ` : ''}${e.message ?? String(error)}`);
    }
  };
  process.on('SIGHUP', reload);
  try {
    return await untilSignal(() => running.close(), log);
  } finally {
    process.off('SIGHUP', reload);
  }
}

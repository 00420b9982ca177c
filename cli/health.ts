// `floe health [--config FILE | --admin URL] [--wait SECONDS] [--without-leader]`:
// does this node serve? Asks GET /api/v1/health (no token needed) and prints
// the node's role and leader. A node that knows no leader does not serve
// (every checkout and change needs one): that is UNAVAILABLE, exit 3. With
// --wait it keeps asking until the node answers and knows a leader, or the
// time is up. --without-leader is satisfied by an answer alone: the readiness
// probe of deploy/floe.service (ExecStartPost), since a node's peers may
// start after it.
import { hc } from 'hono/client';
import type { AdminApp } from '../admin/index.ts';
import { ConfigError, loadConfigFile, splitHostPort } from '../daemon/index.ts';
import { ADMIN_URL_DEFAULT } from './admin-connection.ts';
import { CliError, usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { parseOptions, runCommand } from './run-command.ts';

const USAGE = 'usage: floe health [--config FILE | --admin URL] [--wait SECONDS] [--without-leader] [--json]';
/** `ms` one attempt waits for its answer. */
const ATTEMPT_MS_MAX = 2000;
/** `ms` between attempts while waiting. */
const RETRY_MS = 200;
/** Seconds --wait accepts, at most. */
const WAIT_SECONDS_MAX = 3600;

/** The admin URL a node started from `configPath` serves on, from this machine. */
export function adminUrlOfConfig(configPath: string): string {
  let config;
  try {
    config = loadConfigFile(configPath);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError('CONFIG_INVALID', error.message.replace(/^CONFIG_INVALID: /, ''));
    throw error;
  }
  const { host, port } = splitHostPort(config.adminListen);
  // A node listening on every address answers on loopback.
  const local = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}

interface Health {
  readonly nodeId: string;
  readonly role: string;
  readonly leaderId: string;
  readonly term: number;
  readonly appliedIndex: number;
}

async function ask(baseUrl: string): Promise<Health> {
  let res;
  try {
    res = await hc<AdminApp>(baseUrl).api.v1.health.$get(undefined, { init: { signal: AbortSignal.timeout(ATTEMPT_MS_MAX) } });
  } catch (error) {
    throw new CliError('UNAVAILABLE', `no answer from ${baseUrl}: ${(error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message}`);
  }
  if (!res.ok) throw new CliError('UNAVAILABLE', `${baseUrl} answered HTTP ${res.status}`);
  return res.json();
}

/** Runs `floe health`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, { config: { type: 'string' }, admin: { type: 'string' }, wait: { type: 'string' }, 'without-leader': { type: 'boolean' } });
    if (values.config !== undefined && values.admin !== undefined) throw usageError('give --config or --admin, not both');
    let waitMs = 0;
    if (values.wait !== undefined) {
      if (!/^\d{1,4}$/.test(values.wait) || Number(values.wait) > WAIT_SECONDS_MAX) throw usageError(`--wait takes whole seconds, at most ${WAIT_SECONDS_MAX}`);
      waitMs = Number(values.wait) * 1000;
    }
    const baseUrl = (values.config !== undefined ? adminUrlOfConfig(values.config) : (values.admin ?? process.env['FLOE_ADMIN_URL'] ?? ADMIN_URL_DEFAULT)).replace(/\/+$/, '');
    const leaderNeeded = values['without-leader'] !== true;
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        const h = await ask(baseUrl);
        if (leaderNeeded && h.leaderId === '') {
          throw new CliError(
            'UNAVAILABLE',
            `${h.nodeId} answers but knows no leader yet (${h.role}, term ${h.term})${waitMs > 0 ? ` after ${waitMs / 1000} s` : ''}: it serves once a majority of the members are up and connected`,
          );
        }
        return { lines: [`${h.nodeId}: ${h.role}, leader ${h.leaderId === '' ? 'none yet' : h.leaderId}, term ${h.term}, applied index ${h.appliedIndex}`], json: h };
      } catch (error) {
        if (!(error instanceof CliError) || Date.now() + RETRY_MS > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  });
}

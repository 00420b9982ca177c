// `floe keycenter serve --dir KC [--database postgres://…] [--listen 127.0.0.1:7600] [--trust-proxy]`:
// the self-service portal at /, its JSON API at /api/v1, until SIGINT or
// SIGTERM. Logs go to stderr; once it serves, the last line of stdout is
// {"url","pid"} (scripts and tests read the port from it with --listen …:0).
// Over PostgreSQL several instances serve one key center: start each with the
// same KC (its vendor key) and database URL, behind a reverse proxy.
import process from 'node:process';
import { join } from 'node:path';
import { CONFIG_FILE_NAME, DEFAULT_PUBLIC_URL, KeyCenter } from '../keycenter/index.ts';
import { startKeyCenterServer } from '../keycenter/server/key-center-server.ts';
import type { CommandIo } from './command-io.ts';
import { databaseUrl, parse, required, text } from './keycenter-args.ts';
import { untilSignal } from './until-signal.ts';

/** Where the key center listens unless told. */
export const DEFAULT_LISTEN = '127.0.0.1:7600';

export async function serve(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, { listen: { type: 'string' }, 'trust-proxy': { type: 'boolean' } });
  const dir = required(values, 'dir');
  const log = (line: string) => io.stderr(`${new Date().toISOString()} ${line}\n`);
  const kc = await KeyCenter.open(dir, { databaseUrl: databaseUrl(values) });
  let running;
  try {
    running = await startKeyCenterServer(kc, { listen: text(values, 'listen') ?? DEFAULT_LISTEN, trustProxy: values['trust-proxy'] === true, log });
  } catch (error) {
    await kc.close();
    throw error;
  }
  log(`key center ${dir} serving the portal at ${running.url}/ and its API at ${running.url}/api/v1; store: ${kc.storeDescription}; mail: ${running.mail.describe()}`);
  if (kc.ctx.config.publicUrl === undefined) {
    log(`WARNING: no publicUrl in ${join(dir, CONFIG_FILE_NAME)}: links in mails point at ${DEFAULT_PUBLIC_URL} (and say they may not open); set publicUrl to the address customers reach the portal at`);
  }
  io.stdout(`${JSON.stringify({ url: running.url, pid: process.pid })}\n`);
  const server = running;
  return untilSignal(async () => {
    await server.close();
    await kc.close();
  }, log);
}

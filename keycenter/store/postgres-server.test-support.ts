// A real PostgreSQL server for tests: Debian's server binaries
// (/usr/lib/postgresql/N/bin), a throw-away cluster in a temp directory,
// listening on a loopback port with trust authentication, stopped after.
// initdb and postgres refuse to run as root, and the tests run as root here,
// so as root both run as `nobody` (setpriv, no fork: the pid we hold is the
// postmaster's) in a directory chowned to it.
//
// initdb is the slow part (~1–5 s on a loaded machine): the first start on a
// machine makes a template cluster in the temp dir, and every start after
// copies it (~0.2 s). Each test gets its own database, created from a
// migrated template database in a few ms.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, chownSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import pg from 'pg';
import { waitUntil } from '../../test/wait-until.test-support.ts';

/** `ms` a fresh server is given to accept connections. */
const START_WAIT_MS = 60_000;
/** `ms` a stopping server is given before SIGKILL. */
const STOP_WAIT_MS = 15_000;
/** Ports tried when the one picked was taken meanwhile. */
const START_ATTEMPTS_MAX = 3;
const NOBODY_ID = 65534;
/** Tries of CREATE DATABASE … TEMPLATE while the template's connections close. */
const CREATE_DATABASE_ATTEMPTS_MAX = 20;

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  /** The URL of database `name` on this server. */
  urlOf(name: string): string;
  /** Creates database `name` (from `template` when given). */
  createDatabase(name: string, template?: string): Promise<void>;
  stop(): Promise<void>;
}

/** Where Debian puts the server binaries (the newest version), or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

const asRoot = process.getuid?.() === 0;

/** The command line running `argv` as the cluster's owner. */
function asOwner(argv: string[]): [string, string[]] {
  if (!asRoot) return [argv[0]!, argv.slice(1)];
  return ['setpriv', [`--reuid=${NOBODY_ID}`, `--regid=${NOBODY_ID}`, '--clear-groups', '--', ...argv]];
}

function chownTree(path: string): void {
  if (!asRoot) return;
  spawnSync('chown', ['-R', `${NOBODY_ID}:${NOBODY_ID}`, path]);
}

/** Why PostgreSQL cannot run here, or undefined when it can. */
export function postgresUnavailableReason(): string | undefined {
  const bin = postgresBinDir();
  if (bin === undefined) return 'PostgreSQL server binaries are not installed (Debian package postgresql; .ci/run installs it)';
  if (asRoot && spawnSync('setpriv', ['--version']).status !== 0) return 'running as root without setpriv to drop to an unprivileged user';
  return undefined;
}

/** A cluster made once per machine and PostgreSQL version, copied by every start. */
function templateCluster(bin: string): string {
  const version = bin.split('/').at(-2) ?? 'x';
  const dir = join(os.tmpdir(), `floe-pg-template-${version}-${process.getuid?.() ?? 0}`);
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const work = mkdtempSync(join(os.tmpdir(), 'floe-pg-initdb-'));
  chownTree(work);
  const data = join(work, 'data');
  const [cmd, args] = asOwner([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
  try {
    renameSync(data, dir);
  } catch (error) {
    // Another test file made it meanwhile: theirs is as good.
    if (!existsSync(join(dir, 'PG_VERSION'))) throw error;
  }
  rmSync(work, { recursive: true, force: true });
  return dir;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** `ms` between two tries to connect to a starting server. */
const READY_POLL_MS = 100;

/** True once the server at `url` takes a connection; false when `child` exits first or START_WAIT_MS pass. */
async function ready(url: string, child: ChildProcess): Promise<boolean> {
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  try {
    const outcome = await waitUntil(
      `PostgreSQL to take a connection at ${url}`,
      START_WAIT_MS,
      async () => {
        if (exited()) return 'exited';
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
        try {
          await client.connect();
          await client.end();
          return 'ready';
        } catch {
          await client.end().catch(() => undefined);
          return undefined;
        }
      },
      READY_POLL_MS,
    );
    return outcome === 'ready';
  } catch {
    // Not up within START_WAIT_MS: the caller kills it and tries another port.
    return false;
  }
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts a fresh PostgreSQL server on a loopback port; stop() it after. Throws when it cannot (check postgresUnavailableReason first). */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error(postgresUnavailableReason());
  const template = templateCluster(bin);
  const root = mkdtempSync(join(os.tmpdir(), 'floe-pg-'));
  const data = join(root, 'data');
  cpSync(template, data, { recursive: true });
  // Settings for a disposable test server: no durability, a small footprint.
  writeFileSync(join(data, 'postgresql.auto.conf'), ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off', 'max_connections = 100', 'shared_buffers = 16MB', `unix_socket_directories = '${root}'`, ''].join('\n'));
  chownTree(root);
  let log = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS_MAX; attempt++) {
    const port = await freePort();
    const [cmd, args] = asOwner([join(bin, 'postgres'), '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1']);
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    const urlOf = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
    if (await ready(urlOf('postgres'), child)) {
      const admin = async (statement: string) => {
        const client = new pg.Client({ connectionString: urlOf('postgres') });
        await client.connect();
        try {
          await client.query(statement);
        } finally {
          await client.end();
        }
      };
      return {
        url: urlOf('postgres'),
        urlOf,
        createDatabase: async (name, from) => {
          for (let attempt = 1; ; attempt++) {
            try {
              return await admin(`CREATE DATABASE "${name}"${from === undefined ? '' : ` TEMPLATE "${from}"`}`);
            } catch (error) {
              // 55006: the template's last connection is still closing on the server (a pool just ended).
              if ((error as { code?: string }).code !== '55006' || attempt >= CREATE_DATABASE_ATTEMPTS_MAX) throw error;
              await new Promise((r) => setTimeout(r, 500));
            }
          }
        },
        stop: async () => {
          // SIGQUIT: immediate shutdown; the cluster is thrown away anyway.
          child.kill('SIGQUIT');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS);
          await stopped(child);
          clearTimeout(timer);
          rmSync(root, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await stopped(child);
  }
  rmSync(root, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start: ${log}`);
}

// Which admin API a `floe` command talks to and with which token. Every
// command that calls the admin API takes `--admin URL` and the token from
// `--token-file F`, `FLOE_ADMIN_TOKEN` or `--token T` (CONTRACT.md), in that
// order of preference: a token on the command line shows in `ps` and the
// shell history, so the docs recommend the file or the variable. A node
// whose certificate comes from the site CA (`floe tls init`) is trusted with
// `--ca FILE` or FLOE_CA: then that CA alone is trusted (pinned).
import { readFileSync, statSync } from 'node:fs';
import process from 'node:process';
import { CliError, usageError } from './cli-error.ts';

/** parseArgs options every admin command accepts. */
export const ADMIN_OPTIONS = {
  admin: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  ca: { type: 'string' },
} as const;

/** The usage text of ADMIN_OPTIONS. */
export const ADMIN_USAGE = '[--admin URL] [--token-file F | --token T] [--ca FILE]';

/** The admin URL used without `--admin` and FLOE_ADMIN_URL: a node's default adminListen. */
export const ADMIN_URL_DEFAULT = 'http://127.0.0.1:7501';

/** Largest token file read, bytes (a token is a line of a few dozen characters). */
const TOKEN_FILE_BYTES_MAX = 4096;
/** Longest token accepted, characters (the server reads at most 1,024 of the header). */
const TOKEN_CHARS_MAX = 1000;
/** Largest CA file read, bytes (a CA bundle of a few dozen certificates). */
export const CA_FILE_BYTES_MAX = 1024 * 1024;

/** Where to send admin requests and the bearer token to send. */
export interface AdminConnection {
  /** `http(s)://host:port`, without a trailing slash (the API is under /api/v1). */
  readonly baseUrl: string;
  readonly token: string;
  /** PEM: the CA certificate(s) an https:// node must chain to (`--ca` / FLOE_CA); absent: Node's CA store. */
  readonly ca?: string;
  /** Where `ca` was read from (for messages). */
  readonly caFile?: string;
}

function checkedToken(token: string, source: string): string {
  const t = token.trim();
  if (t === '') throw usageError(`the admin token from ${source} is empty`);
  if (t.length > TOKEN_CHARS_MAX || /\s/.test(t)) throw usageError(`the admin token from ${source} is not one word of at most ${TOKEN_CHARS_MAX} characters`);
  return t;
}

function tokenFromFile(path: string): string {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > TOKEN_FILE_BYTES_MAX) throw usageError(`${path} has ${size} bytes; a token file holds one token`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(`cannot read the token file ${path}: ${(error as Error).message}`);
  }
  return checkedToken(text, path);
}

/** The PEM text of the CA file `path` (from `source`); a usage CliError when it cannot be read or holds no certificate. */
function caFromFile(path: string, source: string): string {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > CA_FILE_BYTES_MAX) throw usageError(`${source} ${path} has ${size} bytes; a CA file holds a few PEM certificates (at most ${CA_FILE_BYTES_MAX} bytes)`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(`cannot read the CA file ${path} (${source}): ${(error as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw usageError(`${source} ${path} holds no PEM certificate (give the site CA, ca.crt of floe tls init)`);
  return text;
}

/**
 * The connection from parsed options and the environment (`env`, default
 * process.env): `--admin`, else FLOE_ADMIN_URL, else ADMIN_URL_DEFAULT; the
 * token from `--token-file`, else `--token`, else FLOE_ADMIN_TOKEN; the CA
 * from `--ca`, else FLOE_CA, else none (Node's store).
 * Throws a usage CliError (BAD_REQUEST, exit 2) when no token is given, both
 * token flags are, or the CA file cannot be read.
 */
export function adminConnection(
  values: { admin?: string | undefined; token?: string | undefined; 'token-file'?: string | undefined; ca?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): AdminConnection {
  const url = values.admin ?? env['FLOE_ADMIN_URL'] ?? ADMIN_URL_DEFAULT;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`--admin "${url.slice(0, 80)}" is not a URL (http://HOST:PORT)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`--admin "${url.slice(0, 80)}" is not an http:// or https:// URL`);
  if (values.token !== undefined && values['token-file'] !== undefined) throw usageError('give the token with --token-file or --token, not both');
  let token: string;
  if (values['token-file'] !== undefined) token = tokenFromFile(values['token-file']);
  else if (values.token !== undefined) token = checkedToken(values.token, '--token');
  else if (env['FLOE_ADMIN_TOKEN'] !== undefined) token = checkedToken(env['FLOE_ADMIN_TOKEN'], 'FLOE_ADMIN_TOKEN');
  else throw usageError('no admin token: give --token-file FILE, set FLOE_ADMIN_TOKEN, or give --token T');
  const caFile = values.ca ?? (env['FLOE_CA'] === '' ? undefined : env['FLOE_CA']);
  const base = { baseUrl: `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`, token };
  return caFile === undefined ? base : { ...base, ca: caFromFile(caFile, values.ca !== undefined ? '--ca' : 'FLOE_CA'), caFile };
}

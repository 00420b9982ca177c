// `floe tls init --dir SITE` creates a site CA; `floe tls issue --dir SITE
// --node n1 --dns … --ip …` issues a node certificate signed by it, naming
// the node id (urn:floe:node:ID) the peers check, and the DNS names and IPs
// clients and browsers check. The files are what a node's [tls] table names
// (docs/security.md). Keys are written 0600 in a 0700 directory.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePrivateDir, writePrivateFile } from '../daemon/private-files.ts';
import { PkiError, createSiteCa, issueNodeCertificate } from '../daemon/tls/index.ts';
import { processIo, type CommandIo } from './command-io.ts';

const USAGE =
  'usage: floe tls init --dir SITE [--name "Acme Floe CA"] [--days N] [--json]\n' +
  '       floe tls issue --dir SITE --node NODE_ID [--dns NAME ...] [--ip ADDRESS ...] [--days N] [--json]';

/** The site CA's file names inside SITE. */
export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';

function fail(io: CommandIo, code: string, message: string, exitCode = 1): number {
  io.stderr(`${code}: ${message}\n`);
  return exitCode;
}

function days(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d{1,6}$/.test(text) || !Number.isInteger(n)) throw new PkiError('TLS_REQUEST_INVALID', `--days must be a whole number of days, got "${text.slice(0, 20)}"`);
  return n;
}

/** Runs `floe tls`; answers the exit code. */
export async function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  let values: { dir?: string; name?: string; days?: string; json?: boolean; node?: string; dns?: string[]; ip?: string[] };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        dir: { type: 'string' },
        name: { type: 'string' },
        days: { type: 'string' },
        json: { type: 'boolean' },
        node: { type: 'string' },
        dns: { type: 'string', multiple: true },
        ip: { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return fail(io, 'BAD_REQUEST', `${(error as Error).message}\n${USAGE}`, 2);
  }
  if (values.dir === undefined) return fail(io, 'BAD_REQUEST', `--dir SITE is required\n${USAGE}`, 2);
  const dir = resolve(values.dir);
  const caCertFile = join(dir, CA_CERT_FILE);
  const caKeyFile = join(dir, CA_KEY_FILE);
  try {
    if (sub === 'init') {
      if (existsSync(caKeyFile)) return fail(io, 'TLS_CA_EXISTS', `${caKeyFile} exists: a site has one CA (remove it on purpose to start over; every node certificate must then be issued again)`);
      const d = days(values.days);
      const ca = await createSiteCa({ ...(values.name !== undefined ? { commonName: values.name } : {}), ...(d !== undefined ? { days: d } : {}) });
      ensurePrivateDir(dir);
      writePrivateFile(caKeyFile, ca.keyPem);
      writeFileSync(caCertFile, ca.certPem, { mode: 0o644 });
      const notAfter = new Date(new X509Certificate(ca.certPem).validTo).toISOString();
      io.stderr(`site CA created: ${caCertFile} (give it to clients and every node's tls.caFile), its key ${caKeyFile} (keep it offline or root-only); valid until ${notAfter}\n`);
      io.stdout(values.json === true ? `${JSON.stringify({ caFile: caCertFile, caKeyFile, notAfter })}\n` : `${caCertFile}\n`);
      return 0;
    }
    if (sub === 'issue') {
      if (values.node === undefined) return fail(io, 'BAD_REQUEST', `--node NODE_ID is required\n${USAGE}`, 2);
      let ca: { certPem: string; keyPem: string };
      try {
        ca = { certPem: readFileSync(caCertFile, 'utf8'), keyPem: readFileSync(caKeyFile, 'utf8') };
      } catch (error) {
        return fail(io, 'TLS_CA_INVALID', `cannot read the site CA in ${dir} (run floe tls init --dir ${values.dir} first): ${(error as Error).message}`);
      }
      const d = days(values.days);
      const dns = values.dns ?? [];
      const ip = values.ip ?? [];
      if (dns.length === 0 && ip.length === 0) io.stderr(`note: no --dns or --ip: clients and browsers can verify ${values.node} only by a name the certificate carries\n`);
      const pair = await issueNodeCertificate(ca, { nodeId: values.node, dns, ip, ...(d !== undefined ? { days: d } : {}) });
      const certFile = join(dir, `${values.node}.crt`);
      const keyFile = join(dir, `${values.node}.key`);
      writePrivateFile(keyFile, pair.keyPem);
      writeFileSync(certFile, pair.certPem, { mode: 0o644 });
      const notAfter = new Date(new X509Certificate(pair.certPem).validTo).toISOString();
      io.stderr(`certificate for node ${values.node} (${[...dns, ...ip].join(', ') || 'no names'}): ${certFile}, key ${keyFile}; valid until ${notAfter}\n`);
      io.stdout(values.json === true ? `${JSON.stringify({ nodeId: values.node, certFile, keyFile, caFile: caCertFile, dns, ip, notAfter })}\n` : `${certFile}\n`);
      return 0;
    }
  } catch (error) {
    if (error instanceof PkiError) return fail(io, error.code, error.message.replace(/^[A-Z_]+: /, ''));
    throw error;
  }
  return fail(io, 'BAD_REQUEST', `unknown subcommand "${sub.slice(0, 40)}"\n${USAGE}`, 2);
}

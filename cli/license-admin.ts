// `floe license import|list|remove`: the installed license keys of a running
// cluster, through the admin API (the license admin's lmutil/rlmutil, with
// stable exit codes and --json). `import` verifies the key on the node it
// talks to (signature, dates, that node's lock code) before the cluster
// installs it, and prints the license id as its last line.
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { LICENSE_KEY_CHARS_MAX, licenseFeatures, licenseKeyFileSchema, type LicensePayload } from '../protocol/index.ts';
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection, type AdminConnection } from './admin-connection.ts';
import { adminClient, call, fresh, type OkBody } from './admin-client.ts';
import { CliError, usageError } from './cli-error.ts';
import type { CommandIo } from './command-io.ts';
import { parseOptions, runCommand } from './run-command.ts';
import { licenseExpiries, type LicenseAnswer } from './status-report.ts';

/** The usage of the admin subcommands of `floe license`. */
export const LICENSE_ADMIN_USAGE = [
  `usage: floe license import (--key KEY | --key-file FILE|-) ${ADMIN_USAGE} [--json]`,
  `       floe license activate --code CODE [--key-center URL] [--host-description TEXT] [--request-id ID] ${ADMIN_USAGE} [--json]`,
  `       floe license request --code CODE [--host-description TEXT] --out FILE ${ADMIN_USAGE} [--json]`,
  `       floe license list ${ADMIN_USAGE} [--json]`,
  `       floe license remove LICENSE_ID ${ADMIN_USAGE} [--json]`,
].join('\n');

/** Reads `path` (`-`: stdin) up to what a key can hold; throws BAD_REQUEST / TOO_LARGE. */
function keyFromFile(path: string): string {
  const bytesMax = LICENSE_KEY_CHARS_MAX * 4;
  try {
    if (path !== '-' && statSync(path).size > bytesMax) {
      throw new CliError('TOO_LARGE', `${path} has ${statSync(path).size} bytes; a license key has at most ${LICENSE_KEY_CHARS_MAX} characters`);
    }
    const text = readFileSync(path === '-' ? 0 : path, 'utf8');
    if (text.length > bytesMax) throw new CliError('TOO_LARGE', `the key read from stdin has ${text.length} characters; a license key has at most ${LICENSE_KEY_CHARS_MAX}`);
    return text;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * The license id and pools a key names, read without checking it: only for
 * a key the cluster already verified and installed (a first attempt that
 * went through while the cluster changed leaders).
 */
function namesOfKey(key: string): { licenseId: string; features: string[] } | undefined {
  try {
    const payload = JSON.parse(Buffer.from(key.split('.')[1] ?? '', 'base64url').toString('utf8')) as Partial<LicensePayload>;
    if (typeof payload.licenseId !== 'string' || typeof payload.product !== 'string' || !Array.isArray(payload.components)) return undefined;
    return { licenseId: payload.licenseId, features: licenseFeatures(payload as LicensePayload) };
  } catch {
    return undefined;
  }
}

/** `floe license import`. */
export function importLicense(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, LICENSE_ADMIN_USAGE, async () => {
    const { values } = parseOptions(argv, { ...ADMIN_OPTIONS, key: { type: 'string' }, 'key-file': { type: 'string' } });
    if ((values.key === undefined) === (values['key-file'] === undefined)) throw usageError('give the key with --key or --key-file (one of them)');
    const connection = adminConnection(values);
    const key = (values.key ?? keyFromFile(values['key-file']!)).trim();
    if (key === '') throw new CliError('MALFORMED', 'the license key is empty');
    if (key.startsWith('{')) return importKeyFile(connection, key);
    let r: { licenseId: string; features: string[] };
    try {
      r = await call(() => adminClient(connection).licenses.$post({ json: { key } }));
    } catch (error) {
      // Sent again during a leader change: the first attempt went through.
      const named = error instanceof CliError && error.afterRetry && error.code === 'LICENSE_EXISTS' ? namesOfKey(key) : undefined;
      if (named === undefined) throw error;
      r = named;
    }
    return { lines: [`imported ${r.licenseId}: pools ${r.features.join(', ')}`], value: r.licenseId, json: r };
  });
}

/**
 * Installs a key file (the key center's answer to an offline request) with
 * the checks of online activation (POST /licenses/key-file): the key names
 * exactly every member's lock code, and the key center is recorded.
 */
async function importKeyFile(connection: AdminConnection, text: string) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError('MALFORMED', 'the file starts like JSON but is not: give the key file the key center answered, or a license key');
  }
  const file = licenseKeyFileSchema.safeParse(json);
  if (!file.success) {
    const issue = file.error.issues[0];
    throw new CliError('MALFORMED', `not a key file of a Floe key center: ${issue?.path.join('.') || 'the file'}: ${issue?.message ?? ''}`);
  }
  let r: OkBody<Awaited<ReturnType<ReturnType<typeof adminClient>['licenses']['key-file']['$post']>>>;
  try {
    r = await call(() => adminClient(connection).licenses['key-file'].$post({ json: file.data }));
  } catch (error) {
    // Sent again during a leader change: the first attempt went through.
    if (!(error instanceof CliError && error.afterRetry && error.code === 'ALREADY_ACTIVATED')) throw error;
    const named = namesOfKey(file.data.key);
    if (named === undefined) throw error;
    r = { ...named, lockCodes: [], keyCenterUrl: file.data.keyCenterUrl };
  }
  const superseded = r.supersededLicenseId === undefined ? [] : [`superseded ${r.supersededLicenseId} (its seats are not counted twice)`];
  return {
    lines: [`key file from ${r.keyCenterUrl} for ${r.lockCodes.length} lock code${r.lockCodes.length === 1 ? '' : 's'}: ${r.lockCodes.join(', ')}`, ...superseded, `imported ${r.licenseId}: pools ${r.features.join(', ')}`],
    value: r.licenseId,
    json: r,
  };
}

/**
 * `floe license activate`: the cluster asks the key center for a key locked
 * to every member's lock code and installs it (POST /licenses/activate);
 * prints the license id as its last line.
 */
export function activateLicense(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, LICENSE_ADMIN_USAGE, async () => {
    const { values } = parseOptions(argv, { ...ADMIN_OPTIONS, code: { type: 'string' }, 'key-center': { type: 'string' }, 'host-description': { type: 'string' }, 'request-id': { type: 'string' } });
    if (values.code === undefined || values.code.trim() === '') throw usageError('give the authorization code with --code');
    const json = {
      authCode: values.code.trim(),
      // One id for every attempt of this command: a retry after a lost answer gets the first install, not ALREADY_ACTIVATED.
      requestId: values['request-id'] ?? randomUUID(),
      ...(values['key-center'] === undefined ? {} : { keyCenterUrl: values['key-center'] }),
      ...(values['host-description'] === undefined ? {} : { hostDescription: values['host-description'] }),
    };
    // The cluster waits for the key center (keyCenterTimeoutMs, 10 s by default) before it answers.
    const r = await call(() => adminClient(adminConnection(values), 30_000).licenses.activate.$post({ json }));
    const superseded = r.supersededLicenseId === undefined ? [] : [`superseded ${r.supersededLicenseId} (its seats are not counted twice)`];
    return {
      lines: [`activated from ${r.keyCenterUrl} for ${r.lockCodes.length} lock code${r.lockCodes.length === 1 ? '' : 's'}: ${r.lockCodes.join(', ')}`, ...superseded, `installed ${r.licenseId}: pools ${r.features.join(', ')}`],
      value: r.licenseId,
      json: r,
    };
  });
}

/** Where a license came from, as `floe license list` shows it under the license: "code C  order O  from URL (offline)". */
export function provenanceText(l: LicenseAnswer): string {
  const order = l.orderNumber === null || l.orderNumber === undefined ? 'no order' : `order ${l.orderNumber}`;
  const from =
    l.keyCenterUrl === null || l.keyCenterUrl === undefined ? 'imported as a key' : `from ${l.keyCenterUrl}${l.activatedVia === null || l.activatedVia === undefined ? '' : ` (${l.activatedVia})`}`;
  return `code ${l.authCode ?? '?'}  ${order}  ${from}`;
}

/** `floe license list`. */
export function listLicenses(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, LICENSE_ADMIN_USAGE, async () => {
    const { values } = parseOptions(argv, ADMIN_OPTIONS);
    const licenses: LicenseAnswer[] = fresh(await call(() => adminClient(adminConnection(values)).licenses.$get({ query: {} })));
    const expiries = licenseExpiries(licenses, Date.now());
    const lines = licenses.map((l, i) => {
      const days = expiries[i]!.daysLeft;
      const expiry = l.expiresAt === null ? 'perpetual' : `${new Date(l.expiresAt).toISOString().slice(0, 10)} (${days! >= 0 ? `${days} days left` : 'expired'})`;
      const host = l.hostDescription !== null && l.hostDescription !== undefined ? `  "${l.hostDescription}"` : '';
      const row = `${l.licenseId.padEnd(24)} ${l.status.padEnd(8)} ${`${l.product} ${l.version}`.padEnd(16)} ${l.model.padEnd(16)} ${String(l.seats).padStart(5)}  ${expiry}  ${l.lockCodes.length} lock code${l.lockCodes.length === 1 ? '' : 's'}${host}`;
      return l.authCode === undefined ? row : `${row}\n${' '.repeat(25)}${provenanceText(l)}`;
    });
    if (lines.length === 0) lines.push('(no license installed)');
    return { lines, json: licenses.map((l, i) => ({ ...l, daysLeft: expiries[i]!.daysLeft })) };
  });
}

/** `floe license remove LICENSE_ID`. */
export function removeLicense(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, LICENSE_ADMIN_USAGE, async () => {
    const { values, positionals } = parseOptions(argv, ADMIN_OPTIONS, true);
    if (positionals.length !== 1) throw usageError('give exactly one LICENSE_ID');
    const licenseId = positionals[0]!;
    const r = await call(() => adminClient(adminConnection(values)).licenses[':licenseId'].$delete({ param: { licenseId } })).catch((error: unknown) => {
      // Sent again during a leader change: the first attempt went through.
      if (error instanceof CliError && error.afterRetry && error.code === 'LICENSE_NOT_FOUND') return { licenseId };
      throw error;
    });
    return { lines: [`removed ${r.licenseId}`], value: r.licenseId, json: r };
  });
}

// `floe license check (--key KEY | --key-file F) --vendor-key PUB [--data-dir DIR]`:
// lets a sysadmin test a license key on a server before importing it. Exit 0
// when the key is valid for this node now; else its error code and why.
// Local: it reads the key, this node's identity and, when DIR holds the
// node's database, the licenses the cluster retired (read-only): a key an
// installed one superseded is refused as SUPERSEDED, as the node would.
import { parseArgs } from 'node:util';
import {
  licenseFeatures,
  verifyLicenseKey,
  type LicensePayload,
} from '../protocol/index.ts';
import { DEFAULT_DATA_DIR, NodeIdentityError, loadNodeIdentity } from '../daemon/identity/index.ts';
import { CommittedPoolError, readCommittedPool, supersededRefusal } from '../daemon/node/index.ts';
import { retiredLicense, type PoolState } from '../daemon/pool/index.ts';
import { CliError } from './cli-error.ts';
import type { CommandIo } from './command-io.ts';
import { keyTextFrom, vendorKeyFrom } from './key-input.ts';

/** The usage of `floe license check`. */
export const CHECK_USAGE =
  'usage: floe license check (--key KEY | --key-file FILE) --vendor-key PUB [--vendor-key PUB2 ...]\n' +
  '                          [--data-dir DIR] [--at YYYY-MM-DD|ISO-TIME] [--json]';

function instantFrom(at: string | undefined): number {
  if (at === undefined) return Date.now();
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(at) ? Date.parse(`${at}T00:00:00Z`) : Date.parse(at);
  if (Number.isNaN(ms)) throw new CliError('BAD_REQUEST', `--at "${at.slice(0, 40)}" is not a date (YYYY-MM-DD) or an ISO time`, 2);
  return ms;
}

function describe(license: LicensePayload): string {
  const lines = [
    `license     ${license.licenseId} (authorization code ${license.authCode})`,
    `product     ${license.product} ${license.version}, pools: ${licenseFeatures(license).join(', ')}`,
    `model       ${license.model}, ${license.seats} ${license.model === 'concurrent' ? 'concurrent seats' : 'named users'}`,
    `valid       from ${new Date(license.notBefore).toISOString()} ${license.expiresAt === undefined ? '(perpetual)' : `until ${new Date(license.expiresAt).toISOString()}`}`,
    `lock codes  ${license.lockCodes.join(', ')}${license.lockMatch === 'exact' ? ' (exact match)' : ''}`,
  ];
  if (license.supersedes !== undefined) lines.push(`supersedes  ${license.supersedes}`);
  if (license.hostDescription !== undefined) lines.push(`host        ${license.hostDescription}`);
  if (license.orderNumber !== undefined) lines.push(`order       ${license.orderNumber}`);
  return `${lines.join('\n')}\n`;
}

/** The pool state the node in `dataDir` committed, or undefined when it has no database yet. */
function committedPool(dataDir: string): PoolState | undefined {
  try {
    return readCommittedPool(dataDir);
  } catch (error) {
    if (error instanceof CommittedPoolError) throw new CliError(error.code, error.message);
    throw error;
  }
}

/** Runs `floe license check`; answers the exit code. */
export async function check(argv: string[], io: CommandIo): Promise<number> {
  try {
    return await checkKey(argv, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`${error.code}: ${error.message}\n${error.exitCode === 2 ? `${CHECK_USAGE}\n` : ''}`);
      return error.exitCode;
    }
    // A bug, not bad input: still one line, no stack trace, for the sysadmin.
    io.stderr(`INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function checkKey(argv: string[], io: CommandIo): Promise<number> {
  let values: {
    key?: string | undefined;
    'key-file'?: string | undefined;
    'vendor-key'?: string[] | undefined;
    'data-dir'?: string | undefined;
    at?: string | undefined;
    json?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        key: { type: 'string' },
        'key-file': { type: 'string' },
        'vendor-key': { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        at: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new CliError('BAD_REQUEST', error instanceof Error ? error.message : String(error), 2);
  }
  const json = values.json === true;
  try {
    const vendorKeyTexts = values['vendor-key'] ?? [];
    if (vendorKeyTexts.length === 0) throw new CliError('BAD_REQUEST', 'give the vendor public key with --vendor-key', 2);
    const vendorKeys = vendorKeyTexts.map(vendorKeyFrom);
    const keyText = keyTextFrom(values.key, values['key-file']);
    const nowMs = instantFrom(values.at);
    const dataDir = values['data-dir'] ?? DEFAULT_DATA_DIR;
    let lockCode: string | undefined;
    let statedLockCodes: string | undefined;
    let identityMissing: string | undefined;
    try {
      const identity = loadNodeIdentity(dataDir, { create: false });
      lockCode = identity.lockCode;
      statedLockCodes = identity.statedLockCodes;
    } catch (error) {
      if (!(error instanceof NodeIdentityError)) throw error;
      if (error.code !== 'IDENTITY_MISSING') throw new CliError(error.code, error.message);
      identityMissing = error.message;
    }
    // Without an identity no key can be locked to this node; still verify the
    // key so a bad key reports its own fault first.
    const locked = verifyLicenseKey(keyText, { vendorKeys, nowMs, lockCode: statedLockCodes });
    if (!locked.ok) throw new CliError(locked.code, locked.message);
    if (lockCode === undefined) {
      throw new CliError(
        'LOCK_CODE_MISMATCH',
        `license ${locked.license.licenseId} is locked to ${locked.license.lockCodes.join(', ')}, but ${identityMissing ?? dataDir}`,
      );
    }
    // What the cluster retired, as far as this node's database has it.
    const pool = committedPool(dataDir);
    const licenseId = locked.license.licenseId;
    const superseded = pool === undefined ? undefined : supersededRefusal(pool, licenseId);
    if (superseded !== undefined) throw new CliError(superseded.code, superseded.message);
    const removed = pool === undefined ? undefined : retiredLicense(pool, licenseId);
    const removedNote =
      removed === undefined
        ? ''
        : `Note: an admin removed this license at ${new Date(removed.retiredAt).toISOString()}; a license file does not bring it back, an import does.\n`;
    if (json) {
      const doc = { ok: true, lockCode, features: licenseFeatures(locked.license), license: locked.license, ...(removed === undefined ? {} : { removedAt: removed.retiredAt }) };
      io.stdout(`${JSON.stringify(doc)}\n`);
    } else {
      io.stdout(`${describe(locked.license)}The key is valid for this node (lock code ${lockCode}).\n${removedNote}${licenseId}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof CliError && json) io.stdout(`${JSON.stringify({ ok: false, code: error.code, message: error.message })}\n`);
    throw error;
  }
}


// `floe keycenter init|pubkey|entitle|activate|list --dir KC …`: the vendor's
// key center on the command line. Values for scripts (public key, codes,
// license key) are the last line(s) of stdout; refusals go to stderr as
// `CODE: sentence` with a non-zero exit code, and write nothing.
import process from 'node:process';
import { parseArgs } from 'node:util';
import {
  KeyCenter,
  KeyCenterError,
  initKeyCenter,
  readVendorPublicKey,
  type EntitleRequest,
  type Entitlement,
  type IssuedKey,
} from '../keycenter/index.ts';
import type { CommandIo } from './lockcode.ts';

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const USAGE = `usage:
  floe keycenter init --dir KC
  floe keycenter pubkey --dir KC
  floe keycenter entitle --dir KC --product P --version V --model concurrent|authorized-user --seats N
        [--days D | --expires YYYY-MM-DD] [--starts YYYY-MM-DD] [--component NAME ...]
        [--order ORDER-NUMBER] [--comment TEXT] [--linger SECONDS] [--hosts-per-user N] [--json]
  floe keycenter activate --dir KC --code CODE --lock-code L [--lock-code L2 --lock-code L3]
        [--host-description TEXT] [--seats N] [--json]
  floe keycenter list --dir KC [--by-host] [--json]`;

const DAY_MS = 24 * 3600 * 1000;

/** A usage error: exit code 2. */
class UsageError extends Error {}

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>): Values {
  try {
    return parseArgs({ args: argv, options: { dir: { type: 'string' }, ...options }, strict: true, allowPositionals: false })
      .values as Values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function text(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function required(values: Values, name: string): string {
  const v = text(values, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

function integer(values: Values, name: string): number | undefined {
  const v = text(values, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`--${name} "${v.slice(0, 40)}" is not a whole number`);
  return Number(v);
}

/** Midnight UTC starting the day `YYYY-MM-DD`, ms since the Unix epoch. */
function day(values: Values, name: string): number | undefined {
  const v = text(values, name);
  if (v === undefined) return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const ms = match === null ? NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== v) {
    throw new UsageError(`--${name} "${v.slice(0, 40)}" is not a date (YYYY-MM-DD)`);
  }
  return ms;
}

/** "2026-01-15 10:30 UTC", or the bare date at midnight. */
function isoDay(ms: number | null): string {
  if (ms === null) return 'perpetual';
  const iso = new Date(ms).toISOString();
  return iso.slice(11, 16) === '00:00' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function describeEntitlement(e: Entitlement): string {
  const what = e.component === null ? `${e.product} ${e.version}` : `${e.product} ${e.version}, component ${e.component}`;
  const seats = e.model === 'concurrent' ? `concurrent, ${e.seats} seats` : `authorized-user, covers ${e.seats} named users`;
  const end = e.expiresAt === null ? 'perpetual' : `temporary, ends ${isoDay(e.expiresAt)}`;
  return `${e.authCode}  ${what}; ${seats}; ${end}${e.orderNumber === null ? '' : `; order ${e.orderNumber}`}`;
}

function describeKey(k: IssuedKey): string {
  const what = k.component === null ? `${k.product} ${k.version}` : `${k.product} ${k.version}/${k.component}`;
  return `${k.licenseId}  ${what}, ${k.seats} ${k.model === 'concurrent' ? 'seats' : 'named users'}, code ${k.authCode}, issued ${isoDay(k.issuedAt)}, ${k.expiresAt === null ? 'perpetual' : `ends ${isoDay(k.expiresAt)}`}\n    lock codes ${k.lockCodes.join(', ')}`;
}

function withKeyCenter<T>(values: Values, fn: (kc: KeyCenter) => T): T {
  const kc = KeyCenter.open(required(values, 'dir'));
  try {
    return fn(kc);
  } finally {
    kc.close();
  }
}

function init(argv: string[], io: CommandIo): number {
  const values = parse(argv, {});
  const dir = required(values, 'dir');
  const publicKey = initKeyCenter(dir);
  io.stdout(`Key center created in ${dir}. Keep ${dir}/vendor-key.json secret and backed up: it signs every key.\nVendor public key (configure customers' servers with it):\n${publicKey}\n`);
  return 0;
}

function pubkey(argv: string[], io: CommandIo): number {
  const values = parse(argv, {});
  io.stdout(`${readVendorPublicKey(required(values, 'dir'))}\n`);
  return 0;
}

function entitle(argv: string[], io: CommandIo): number {
  const values = parse(argv, {
    product: { type: 'string' },
    version: { type: 'string' },
    model: { type: 'string' },
    seats: { type: 'string' },
    days: { type: 'string' },
    expires: { type: 'string' },
    starts: { type: 'string' },
    component: { type: 'string', multiple: true },
    order: { type: 'string' },
    comment: { type: 'string' },
    linger: { type: 'string' },
    'hosts-per-user': { type: 'string' },
    json: { type: 'boolean' },
  });
  required(values, 'seats');
  const model = required(values, 'model');
  if (model !== 'concurrent' && model !== 'authorized-user') throw new UsageError('--model is concurrent or authorized-user');
  const expiresDay = day(values, 'expires');
  const request: EntitleRequest = {
    product: required(values, 'product'),
    version: required(values, 'version'),
    model,
    seats: integer(values, 'seats') ?? 0,
    components: (values['component'] as string[] | undefined) ?? [],
    days: integer(values, 'days'),
    // --expires names the last day of the license: it ends at the next midnight (UTC).
    expiresAt: expiresDay === undefined ? undefined : expiresDay + DAY_MS,
    startsAt: day(values, 'starts'),
    orderNumber: text(values, 'order'),
    comment: text(values, 'comment'),
    lingerSeconds: integer(values, 'linger'),
    hostsPerUserMax: integer(values, 'hosts-per-user'),
  };
  const entitlements = withKeyCenter(values, (kc) => kc.entitle(request));
  if (values['json'] === true) {
    io.stdout(`${JSON.stringify({ entitlements })}\n`);
  } else {
    // Only the codes go to stdout, one per line, for scripts; the sentence about each to stderr.
    for (const e of entitlements) io.stderr(`${describeEntitlement(e)}\n`);
    io.stdout(`${entitlements.map((e) => e.authCode).join('\n')}\n`);
  }
  return 0;
}

function activate(argv: string[], io: CommandIo): number {
  const values = parse(argv, {
    code: { type: 'string' },
    'lock-code': { type: 'string', multiple: true },
    'host-description': { type: 'string' },
    seats: { type: 'string' },
    json: { type: 'boolean' },
  });
  const request = {
    authCode: required(values, 'code'),
    lockCodes: (values['lock-code'] as string[] | undefined) ?? [],
    hostDescription: text(values, 'host-description'),
    seats: integer(values, 'seats'),
  };
  const key = withKeyCenter(values, (kc) => kc.activate(request));
  if (values['json'] === true) {
    io.stdout(`${JSON.stringify(key)}\n`);
  } else {
    io.stdout(`${describeKey(key)}${key.hostDescription === null ? '' : `\n    host ${key.hostDescription}`}\nLicense key (one line; send it to the customer's license admin):\n${key.keyText}\n`);
  }
  return 0;
}

function list(argv: string[], io: CommandIo): number {
  const values = parse(argv, { 'by-host': { type: 'boolean' }, json: { type: 'boolean' } });
  const byHost = values['by-host'] === true;
  const json = values['json'] === true;
  withKeyCenter(values, (kc) => {
    if (byHost) {
      const hosts = kc.keysByHost();
      if (json) {
        io.stdout(`${JSON.stringify({ hosts })}\n`);
        return;
      }
      const lines: string[] = [];
      for (const h of hosts) {
        lines.push(`${h.hostDescription ?? '(no host description)'}: ${h.keys.length} key${h.keys.length === 1 ? '' : 's'}`);
        for (const k of h.keys) lines.push(`  ${describeKey(k).replace('\n', '\n  ')}`);
      }
      io.stdout(lines.length === 0 ? 'No keys issued yet.\n' : `${lines.join('\n')}\n`);
      return;
    }
    const entitlements = kc.listEntitlements();
    const keys = kc.listKeys();
    if (json) {
      io.stdout(`${JSON.stringify({ entitlements, keys })}\n`);
      return;
    }
    const lines = [`Authorization codes (${entitlements.length}):`];
    for (const e of entitlements) lines.push(`  ${describeEntitlement(e)}; ${e.seatsActivated} of ${e.seats} issued`);
    lines.push(`License keys (${keys.length}):`);
    for (const k of keys) lines.push(`  ${describeKey(k).replace('\n', '\n  ')}${k.hostDescription === null ? '' : `\n      host ${k.hostDescription}`}`);
    io.stdout(`${lines.join('\n')}\n`);
  });
  return 0;
}

const subcommands: Record<string, (argv: string[], io: CommandIo) => number> = { init, pubkey, entitle, activate, list };

/** Runs `floe keycenter …`; answers the exit code. */
export async function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    io.stdout(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  const subcommand = subcommands[sub];
  try {
    if (subcommand === undefined) throw new UsageError(`unknown subcommand "keycenter ${sub.slice(0, 40)}"`);
    return subcommand(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`BAD_REQUEST: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof KeyCenterError) {
      io.stderr(`${error.code}: ${error.message}\n`);
      return 1;
    }
    // A bug, not bad input: still one line, no stack trace.
    io.stderr(`INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

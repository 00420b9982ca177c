// `floe keycenter …`: the vendor's key center on the command line. Values for
// scripts (public key, codes, license key, token) are the last line(s) of
// stdout; refusals go to stderr as `CODE: sentence` with a non-zero exit
// code, and write nothing. The account and order commands live in
// keycenter-vendor.ts, `serve` in keycenter-serve.ts.
import {
  KeyCenterError,
  describeBorrowPeriod,
  initKeyCenter,
  readVendorPublicKey,
  type EntitleRequest,
  type Entitlement,
  type IssuedKey,
} from '../keycenter/index.ts';
import { databaseUrl, day, integer, isoDay, list as listOption, parse, required, text, UsageError, withKeyCenter } from './keycenter-args.ts';
import { processIo, type CommandIo } from './command-io.ts';

const USAGE = `usage (every command also takes --database postgres://…: the store on PostgreSQL, else SQLite in KC):
  floe keycenter init --dir KC
  floe keycenter pubkey --dir KC
  floe keycenter entitle --dir KC --product P --version V --model concurrent|authorized-user --seats N
        [--days D | --expires YYYY-MM-DD] [--starts YYYY-MM-DD] [--component NAME ...]
        [--order ORDER-NUMBER] [--comment TEXT] [--linger SECONDS] [--hosts-per-user N]
        [--borrow [--borrow-hours H]] [--json]   (--borrow: seats may be taken offline, up to H hours, default 168)
  floe keycenter activate --dir KC --code CODE --lock-code L [--lock-code L2 --lock-code L3]
        [--host-description TEXT] [--seats N] [--json]
  floe keycenter rehost --dir KC --license LIC-… --lock-code L [--lock-code L2 --lock-code L3]
        [--host-description TEXT] [--json]
  floe keycenter list --dir KC [--by-host] [--site SITE] [--json]
  floe keycenter serve --dir KC [--listen 127.0.0.1:7600] [--trust-proxy]
  floe keycenter account create --dir KC --site SITE --company NAME
  floe keycenter account list --dir KC [--json]
  floe keycenter order add --dir KC --site SITE (--file ORDER.json |
        --order NUMBER [--po NUMBER] --contact "Name <e-mail>" ... --line "product=P,version=V,model=M,quantity=N[,borrow=yes][,borrow-hours=H][,…]" ...) [--json]
  floe keycenter member add --dir KC --site SITE --email E --name NAME [--role admin|member]
  floe keycenter certificate --dir KC --order ORDER-ID          (mail an order's certificate again)
  floe keycenter raise --dir KC --code CODE [--by N]             (allow N more activations of a concurrent code)
  floe keycenter staff add --dir KC --name NAME                  (prints the staff member's API token)
  floe keycenter audit --dir KC [--site SITE] [--json]`;

const DAY_MS = 24 * 3600 * 1000;

function describeEntitlement(e: Entitlement): string {
  const what = e.component === null ? `${e.product} ${e.version}` : `${e.product} ${e.version}, component ${e.component}`;
  const seats = e.model === 'concurrent' ? `concurrent, ${e.seats} seats` : `authorized-user, covers ${e.seats} named users`;
  const end = e.expiresAt === null ? 'perpetual' : `temporary, ends ${isoDay(e.expiresAt)}`;
  return `${e.authCode}  ${what}; ${seats}; ${end}; ${describeBorrowPeriod(e.borrowHoursMax)}${e.orderNumber === null ? '' : `; order ${e.orderNumber}`}${e.siteNumber === null ? '' : `; account ${e.siteNumber}`}`;
}

/** Two lines about a key: what it grants, its status and chain; its lock codes. */
export function describeKey(k: IssuedKey): string {
  const what = k.component === null ? `${k.product} ${k.version}` : `${k.product} ${k.version}/${k.component}`;
  const chain = [k.supersedes === null ? '' : `, supersedes ${k.supersedes}`, k.supersededBy === null ? '' : `, superseded by ${k.supersededBy}`].join('');
  return `${k.licenseId}  ${what}, ${k.seats} ${k.model === 'concurrent' ? 'seats' : 'named users'}, code ${k.authCode}, issued ${isoDay(k.issuedAt)}, ${k.expiresAt === null ? 'perpetual' : `ends ${isoDay(k.expiresAt)}`}, ${describeBorrowPeriod(k.borrowHoursMax)}; ${k.status}${chain}\n    lock codes ${k.lockCodes.join(', ')}`;
}

function printKey(io: CommandIo, key: IssuedKey, json: boolean): void {
  if (json) {
    io.stdout(`${JSON.stringify(key)}\n`);
    return;
  }
  io.stdout(`${describeKey(key)}${key.hostDescription === null ? '' : `\n    host ${key.hostDescription}`}\nLicense key (one line; send it to the customer's license admin):\n${key.keyText}\n`);
}

async function init(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, {});
  const dir = required(values, 'dir');
  const database = databaseUrl(values);
  const publicKey = initKeyCenter(dir, { withSqliteStore: database === undefined });
  // A PostgreSQL store is migrated by opening it.
  if (database !== undefined) await withKeyCenter(values, async () => undefined);
  io.stdout(`Key center created in ${dir}. Keep ${dir}/vendor-key.json secret and backed up: it signs every key.\nVendor public key (configure customers' servers with it):\n${publicKey}\n`);
  return 0;
}

async function pubkey(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, {});
  io.stdout(`${readVendorPublicKey(required(values, 'dir'))}\n`);
  return 0;
}

async function entitle(argv: string[], io: CommandIo): Promise<number> {
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
    borrow: { type: 'boolean' },
    'borrow-hours': { type: 'string' },
    json: { type: 'boolean' },
  });
  required(values, 'seats');
  const borrowHoursMax = integer(values, 'borrow-hours');
  if (borrowHoursMax !== undefined && values['borrow'] !== true) throw new UsageError('--borrow-hours goes with --borrow');
  const model = required(values, 'model');
  if (model !== 'concurrent' && model !== 'authorized-user') throw new UsageError('--model is concurrent or authorized-user');
  const expiresDay = day(values, 'expires');
  const request: EntitleRequest = {
    product: required(values, 'product'),
    version: required(values, 'version'),
    model,
    seats: integer(values, 'seats') ?? 0,
    components: listOption(values, 'component'),
    days: integer(values, 'days'),
    // --expires names the last day of the license: it ends at the next midnight (UTC).
    expiresAt: expiresDay === undefined ? undefined : expiresDay + DAY_MS,
    startsAt: day(values, 'starts'),
    orderNumber: text(values, 'order'),
    comment: text(values, 'comment'),
    lingerSeconds: integer(values, 'linger'),
    hostsPerUserMax: integer(values, 'hosts-per-user'),
    borrowAllowed: values['borrow'] === true,
    borrowHoursMax,
  };
  const entitlements = await withKeyCenter(values, (kc) => kc.entitle(request));
  if (values['json'] === true) {
    io.stdout(`${JSON.stringify({ entitlements })}\n`);
  } else {
    // Only the codes go to stdout, one per line, for scripts; the sentence about each to stderr.
    for (const e of entitlements) io.stderr(`${describeEntitlement(e)}\n`);
    io.stdout(`${entitlements.map((e) => e.authCode).join('\n')}\n`);
  }
  return 0;
}

async function activate(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, {
    code: { type: 'string' },
    'lock-code': { type: 'string', multiple: true },
    'host-description': { type: 'string' },
    seats: { type: 'string' },
    json: { type: 'boolean' },
  });
  const request = {
    authCode: required(values, 'code'),
    lockCodes: listOption(values, 'lock-code'),
    hostDescription: text(values, 'host-description'),
    seats: integer(values, 'seats'),
  };
  printKey(io, await withKeyCenter(values, (kc) => kc.activate(request)), values['json'] === true);
  return 0;
}

async function rehost(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, {
    license: { type: 'string' },
    'lock-code': { type: 'string', multiple: true },
    'host-description': { type: 'string' },
    json: { type: 'boolean' },
  });
  const request = { licenseId: required(values, 'license'), lockCodes: listOption(values, 'lock-code'), hostDescription: text(values, 'host-description') };
  printKey(io, await withKeyCenter(values, (kc) => kc.rehost(request)), values['json'] === true);
  return 0;
}

async function list(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, { 'by-host': { type: 'boolean' }, site: { type: 'string' }, json: { type: 'boolean' } });
  const json = values['json'] === true;
  const filter = { siteNumber: text(values, 'site') };
  await withKeyCenter(values, async (kc) => {
    if (values['by-host'] === true) {
      const hosts = await kc.keysByHost(filter);
      if (json) {
        io.stdout(`${JSON.stringify({ hosts })}\n`);
        return;
      }
      const lines: string[] = [];
      for (const h of hosts) {
        const active = h.keys.filter((k) => k.status === 'active').length;
        lines.push(`${h.hostDescription ?? '(no host description)'} [${h.lockCodes.join(', ')}]: ${h.keys.length} key${h.keys.length === 1 ? '' : 's'}, ${active} active`);
        for (const k of h.keys) lines.push(`  ${describeKey(k).split('\n')[0]}`);
      }
      io.stdout(lines.length === 0 ? 'No keys issued yet.\n' : `${lines.join('\n')}\n`);
      return;
    }
    const entitlements = await kc.listEntitlements(filter);
    const keys = await kc.listKeys(filter);
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

type Subcommand = (argv: string[], io: CommandIo) => Promise<number>;

const subcommands: Record<string, () => Promise<Subcommand>> = {
  init: async () => init,
  pubkey: async () => pubkey,
  entitle: async () => entitle,
  activate: async () => activate,
  rehost: async () => rehost,
  list: async () => list,
  serve: async () => (await import('./keycenter-serve.ts')).serve,
  account: async () => (await import('./keycenter-vendor.ts')).account,
  order: async () => (await import('./keycenter-vendor.ts')).order,
  member: async () => (await import('./keycenter-vendor.ts')).member,
  certificate: async () => (await import('./keycenter-vendor.ts')).certificate,
  raise: async () => (await import('./keycenter-vendor.ts')).raise,
  staff: async () => (await import('./keycenter-vendor.ts')).staff,
  audit: async () => (await import('./keycenter-vendor.ts')).audit,
};

/** Runs `floe keycenter …`; answers the exit code. */
export async function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    io.stdout(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  const load = subcommands[sub];
  try {
    if (load === undefined) throw new UsageError(`unknown subcommand "keycenter ${sub.slice(0, 40)}"`);
    return await (await load())(rest, io);
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

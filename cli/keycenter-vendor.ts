// The vendor-staff commands of `floe keycenter`: accounts, orders (whose
// contacts become members and get a welcome mail), members, and the support
// actions (certificate re-sent, activations raised), each audited; staff API
// tokens; the audit trail. The same functions serve the JSON API's vendor routes.
import { readFileSync } from 'node:fs';
import {
  AUDIT_LIST_MAX,
  addMember,
  addOrder,
  createAccount,
  createStaff,
  describeBorrowPeriod,
  listAccounts,
  raiseActivations,
  resendCertificate,
  type OrderInput,
  type OrderLineInput,
} from '../keycenter/index.ts';
import { deliverMail, integer, isoDay, list, parse, required, text, UsageError, withKeyCenter, type Values } from './keycenter-args.ts';
import type { CommandIo } from './command-io.ts';

/** Longest order file, bytes. */
const ORDER_FILE_BYTES_MAX = 1024 * 1024;
/** The CLI's name in the audit trail. */
const ACTOR = 'cli';

function action(argv: string[]): [string, string[]] {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb.startsWith('-')) throw new UsageError('a verb is required (see floe keycenter help)');
  return [verb, rest];
}

export async function account(argv: string[], io: CommandIo): Promise<number> {
  const [verb, rest] = action(argv);
  if (verb === 'create') {
    const values = parse(rest, { site: { type: 'string' }, company: { type: 'string' }, json: { type: 'boolean' } });
    const created = await withKeyCenter(values, (kc) => createAccount(kc.ctx, { siteNumber: required(values, 'site'), companyName: required(values, 'company') }, ACTOR));
    io.stdout(values['json'] === true ? `${JSON.stringify(created)}\n` : `Account ${created.siteNumber} (${created.companyName}) created.\n${created.siteNumber}\n`);
    return 0;
  }
  if (verb === 'list') {
    const values = parse(rest, { json: { type: 'boolean' } });
    const accounts = await withKeyCenter(values, (kc) => listAccounts(kc.ctx));
    if (values['json'] === true) io.stdout(`${JSON.stringify({ accounts })}\n`);
    else io.stdout(accounts.length === 0 ? 'No accounts yet.\n' : `${accounts.map((a) => `${a.siteNumber}  ${a.companyName}`).join('\n')}\n`);
    return 0;
  }
  throw new UsageError(`unknown verb "account ${verb.slice(0, 40)}"`);
}

/** "Ada Lovelace <ada@example.com>" → name and e-mail. */
function contactOf(text: string, i: number): { email: string; name: string; role: 'primary' | 'technical' } {
  const match = /^\s*(.+?)\s*<([^<>\s]+)>\s*$/.exec(text);
  if (match === null) throw new UsageError(`--contact "${text.slice(0, 80)}" is not "Name <e-mail>"`);
  return { name: match[1]!, email: match[2]!, role: i === 0 ? 'primary' : 'technical' };
}

/** "product=stats,version=29,model=concurrent,quantity=10,components=a+b,expires=2027-01-31,renews=LN-…" → a line. */
function lineOf(text: string): OrderLineInput {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--line part "${part.slice(0, 40)}" is not key=value`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const known = ['product', 'version', 'model', 'quantity', 'components', 'expires', 'days', 'starts', 'renews', 'linger', 'hosts-per-user', 'borrow', 'borrow-hours'];
  for (const key of fields.keys()) if (!known.includes(key)) throw new UsageError(`--line key "${key.slice(0, 40)}" is not one of ${known.join(', ')}`);
  const number = (key: string): number | undefined => {
    const v = fields.get(key);
    if (v === undefined) return undefined;
    if (!/^\d{1,9}$/.test(v)) throw new UsageError(`--line ${key}="${v.slice(0, 20)}" is not a whole number`);
    return Number(v);
  };
  const model = fields.get('model');
  if (model !== 'concurrent' && model !== 'authorized-user') throw new UsageError('--line needs model=concurrent or model=authorized-user');
  const optional = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
  const borrow = fields.get('borrow');
  if (borrow !== undefined && borrow !== 'yes' && borrow !== 'no') throw new UsageError(`--line borrow="${borrow.slice(0, 20)}" is yes or no`);
  if (fields.has('borrow-hours') && borrow !== 'yes') throw new UsageError('--line borrow-hours=H goes with borrow=yes');
  return {
    product: fields.get('product') ?? '',
    version: fields.get('version') ?? '',
    model,
    quantity: number('quantity') ?? 0,
    ...optional('components', fields.get('components')?.split('+')),
    ...optional('expires', fields.get('expires')),
    ...optional('days', number('days')),
    ...optional('starts', fields.get('starts')),
    ...optional('renewsLineId', fields.get('renews')),
    ...optional('lingerSeconds', number('linger')),
    ...optional('hostsPerUserMax', number('hosts-per-user')),
    ...optional('borrowAllowed', borrow === undefined ? undefined : borrow === 'yes'),
    ...optional('borrowHoursMax', number('borrow-hours')),
  };
}

function orderFrom(values: Values): OrderInput {
  const file = text(values, 'file');
  if (file !== undefined) {
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
    if (raw.length > ORDER_FILE_BYTES_MAX) throw new UsageError(`${file} is larger than ${ORDER_FILE_BYTES_MAX} bytes`);
    try {
      return JSON.parse(raw) as OrderInput;
    } catch {
      throw new UsageError(`${file} is not JSON`);
    }
  }
  const po = text(values, 'po');
  return {
    customerOrderNumber: required(values, 'order'),
    ...(po === undefined ? {} : { purchaseOrderNumber: po }),
    contacts: list(values, 'contact').map(contactOf),
    lines: list(values, 'line').map(lineOf),
  };
}

export async function order(argv: string[], io: CommandIo): Promise<number> {
  const [verb, rest] = action(argv);
  if (verb !== 'add') throw new UsageError(`unknown verb "order ${verb.slice(0, 40)}"`);
  const values = parse(rest, {
    site: { type: 'string' },
    file: { type: 'string' },
    order: { type: 'string' },
    po: { type: 'string' },
    contact: { type: 'string', multiple: true },
    line: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  const input = orderFrom(values);
  await withKeyCenter(values, async (kc) => {
    const added = await addOrder(kc.ctx, required(values, 'site'), input, ACTOR);
    await deliverMail(kc, io);
    if (values['json'] === true) {
      io.stdout(`${JSON.stringify(added)}\n`);
      return;
    }
    const lines = added.lines.map(
      (l) => `  line ${l.lineNo} ${l.lineId}: ${l.product} ${l.version}, ${l.quantity} ${l.model === 'concurrent' ? 'seats' : 'named users'}${l.components.length === 0 ? '' : ` (${l.components.join(', ')})`}, ${l.expiresAt === null ? 'perpetual' : `until ${isoDay(l.expiresAt)}`}, ${describeBorrowPeriod(l.borrowHoursMax)}`,
    );
    io.stdout(`Order ${added.customerOrderNumber} recorded for account ${added.siteNumber}; contacts ${added.contacts.map((c) => c.email).join(', ')}.\n${lines.join('\n')}\n${added.orderId}\n`);
  });
  return 0;
}

export async function member(argv: string[], io: CommandIo): Promise<number> {
  const [verb, rest] = action(argv);
  if (verb !== 'add') throw new UsageError(`unknown verb "member ${verb.slice(0, 40)}"`);
  const values = parse(rest, { site: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } });
  await withKeyCenter(values, async (kc) => {
    const added = await addMember(kc.ctx, { siteNumber: required(values, 'site'), actor: ACTOR }, { email: required(values, 'email'), name: required(values, 'name'), role: text(values, 'role') });
    await deliverMail(kc, io);
    io.stdout(`${added.email} is now ${added.role === 'admin' ? 'an administrator' : 'a member'} of account ${added.siteNumber}.\n`);
  });
  return 0;
}

export async function certificate(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, { order: { type: 'string' } });
  await withKeyCenter(values, async (kc) => {
    const sent = await resendCertificate(kc.ctx, required(values, 'order'), ACTOR);
    await deliverMail(kc, io);
    io.stdout(`The certificate of order ${sent.customerOrderNumber} went again to ${sent.contacts.map((c) => c.email).join(', ')}.\n`);
  });
  return 0;
}

export async function raise(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, { code: { type: 'string' }, by: { type: 'string' } });
  const raised = await withKeyCenter(values, (kc) => raiseActivations(kc.ctx, required(values, 'code'), integer(values, 'by') ?? 1, ACTOR));
  io.stdout(`Code ${raised.authCode} may now be activated ${raised.activationsMax} times.\n`);
  return 0;
}

export async function staff(argv: string[], io: CommandIo): Promise<number> {
  const [verb, rest] = action(argv);
  if (verb !== 'add') throw new UsageError(`unknown verb "staff ${verb.slice(0, 40)}"`);
  const values = parse(rest, { name: { type: 'string' } });
  const token = await withKeyCenter(values, (kc) => createStaff(kc.ctx, required(values, 'name'), ACTOR));
  io.stderr('The API token of this staff member, shown once (send it as "Authorization: Bearer …"):\n');
  io.stdout(`${token}\n`);
  return 0;
}

export async function audit(argv: string[], io: CommandIo): Promise<number> {
  const values = parse(argv, { site: { type: 'string' }, json: { type: 'boolean' } });
  const entries = await withKeyCenter(values, (kc) => kc.ctx.store.read((q) => q.audit({ siteNumber: text(values, 'site'), limit: AUDIT_LIST_MAX })));
  if (values['json'] === true) io.stdout(`${JSON.stringify({ audit: entries })}\n`);
  else io.stdout(`${entries.map((e) => `${new Date(e.at).toISOString()}  ${e.actor}  ${e.action}${e.siteNumber === null ? '' : `  ${e.siteNumber}`}${e.target === null ? '' : `  ${e.target}`}`).join('\n')}\n`);
  return 0;
}

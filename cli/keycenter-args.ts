// What the `floe keycenter …` subcommands share: option parsing with usage
// errors, opening the key center named by --dir, and delivering the mail a
// command queued before it exits.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KeyCenter, OUTBOX_DIR_NAME } from '../keycenter/index.ts';
import { MailSender } from '../keycenter/mail/mail-sender.ts';
import type { CommandIo } from './command-io.ts';

/** A usage error: exit code 2. */
export class UsageError extends Error {}

export type Values = Record<string, string | boolean | string[] | undefined>;
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

/** Parses `argv` with `--dir`, `--database` and `options`; UsageError on anything unknown. */
export function parse(argv: string[], options: OptionSpec): Values {
  try {
    return parseArgs({ args: argv, options: { dir: { type: 'string' }, database: { type: 'string' }, ...options }, strict: true, allowPositionals: false }).values as Values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function text(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}

export function required(values: Values, name: string): string {
  const v = text(values, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function integer(values: Values, name: string): number | undefined {
  const v = text(values, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`--${name} "${v.slice(0, 40)}" is not a whole number`);
  return Number(v);
}

/** Midnight UTC starting the day `YYYY-MM-DD`, ms since the Unix epoch. */
export function day(values: Values, name: string): number | undefined {
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
export function isoDay(ms: number | null): string {
  if (ms === null) return 'perpetual';
  const iso = new Date(ms).toISOString();
  return iso.slice(11, 16) === '00:00' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The --database URL, checked: postgres://… or absent (the store is then the config's, else SQLite in --dir). */
export function databaseUrl(values: Values): string | undefined {
  const url = text(values, 'database');
  if (url !== undefined && !/^postgres(ql)?:\/\//i.test(url)) throw new UsageError('--database takes a postgres:// URL; without it the store is SQLite in --dir');
  return url;
}

/** Opens the key center of --dir (its store on --database when given), runs `fn`, closes it. */
export async function withKeyCenter<T>(values: Values, fn: (kc: KeyCenter) => Promise<T>): Promise<T> {
  const kc = await KeyCenter.open(required(values, 'dir'), { databaseUrl: databaseUrl(values) });
  try {
    return await fn(kc);
  } finally {
    await kc.close();
  }
}

/** Delivers the mail the command queued, and says so on stderr (a failure leaves it queued for `serve`). */
export async function deliverMail(kc: KeyCenter, io: CommandIo): Promise<void> {
  const sender = new MailSender(kc.ctx, { outboxDir: join(kc.dir, OUTBOX_DIR_NAME), log: (line) => io.stderr(`${line}\n`) });
  try {
    const report = await sender.deliverDue();
    if (report.sent > 0) io.stderr(`${report.sent} mail${report.sent === 1 ? '' : 's'} delivered (${sender.describe()})\n`);
    if (report.failed > 0) io.stderr(`${report.failed} mail${report.failed === 1 ? '' : 's'} not delivered yet; "floe keycenter serve" retries them\n`);
  } finally {
    await sender.stop();
  }
}

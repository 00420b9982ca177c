// `floe usage [--feature F] [--from DATE] [--to DATE] [--limit N] [--csv]`:
// the usage rows of a running cluster (checkouts, checkins, denials,
// expiries, forced check-ins, revocations, named-user changes; the kinds of
// docs/admin-api.md), oldest first, as a table, CSV or JSON. A DATE is
// YYYY-MM-DD (UTC; --to includes that whole day) or an ISO time.
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection } from './admin-connection.ts';
import { adminClient, call, fresh } from './admin-client.ts';
import { usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { csvRecord } from './csv.ts';
import { parseOptions, runCommand } from './run-command.ts';

const USAGE = `usage: floe usage [--feature F] [--from DATE] [--to DATE] [--limit N] [--csv] ${ADMIN_USAGE} [--json]
  DATE: YYYY-MM-DD (UTC; --to includes that day) or an ISO time (2025-03-01T12:00:00Z)`;

/** Rows one call returns at most (the admin API's USAGE_ROWS_PER_QUERY_MAX). */
export const USAGE_ROWS_MAX = 10_000;
const DAY_MS = 86_400_000;

/** A usage row as GET /usage answers it. */
export interface UsageRowAnswer {
  readonly logIndex: number;
  readonly at: number;
  readonly kind: string;
  readonly feature: string;
  readonly version: string;
  readonly user: string;
  readonly host: string;
  readonly clientId: string;
  readonly count: number;
  readonly leaseId: string;
  readonly waitedMs: number;
  readonly code: string;
  readonly reason?: string;
}

/** The CSV columns, in order. */
const CSV_COLUMNS = ['time', 'kind', 'feature', 'version', 'user', 'host', 'clientId', 'count', 'leaseId', 'waitedMs', 'code', 'reason', 'logIndex'] as const;

/**
 * `ms` since the epoch of a DATE option: YYYY-MM-DD is midnight UTC (with
 * `endOfDay`, the next midnight: the day is included), else an ISO time.
 */
export function parseDateOption(name: string, text: string, endOfDay: boolean): number {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day !== null) {
    const ms = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    if (new Date(ms).toISOString().slice(0, 10) !== text) throw usageError(`--${name} "${text}" is not a date`);
    return endOfDay ? ms + DAY_MS : ms;
  }
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw usageError(`--${name} "${text.slice(0, 40)}" is not a date (YYYY-MM-DD) or an ISO time (YYYY-MM-DDTHH:MM:SSZ)`);
  return ms;
}

function describe(r: UsageRowAnswer): string {
  const who = r.host === '' ? r.user : `${r.user}@${r.host}`;
  const extra = [
    r.leaseId !== '' ? r.leaseId : '',
    r.count !== 1 ? `×${r.count}` : '',
    r.code !== '' ? r.code : '',
    r.waitedMs > 0 ? `waited ${(r.waitedMs / 1000).toFixed(1)} s` : '',
    r.reason !== undefined && r.reason !== '' ? `"${r.reason}"` : '',
  ].filter((x) => x !== '');
  return `${new Date(r.at).toISOString()}  ${r.kind.padEnd(13)} ${`${r.feature}@${r.version}`.padEnd(20)} ${who.padEnd(28)} ${extra.join('  ')}`.trimEnd();
}

/** Runs `floe usage`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, {
      ...ADMIN_OPTIONS,
      feature: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      csv: { type: 'boolean' },
    });
    const fromMs = values.from === undefined ? undefined : parseDateOption('from', values.from, false);
    const toMs = values.to === undefined ? undefined : parseDateOption('to', values.to, true);
    if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw usageError('--from must come before --to');
    let limit = USAGE_ROWS_MAX;
    if (values.limit !== undefined) {
      if (!/^\d{1,6}$/.test(values.limit) || Number(values.limit) < 1 || Number(values.limit) > USAGE_ROWS_MAX) throw usageError(`--limit must be a whole number from 1 to ${USAGE_ROWS_MAX}`);
      limit = Number(values.limit);
    }
    const query = {
      limit: String(limit),
      ...(values.feature !== undefined ? { feature: values.feature } : {}),
      ...(fromMs !== undefined ? { fromMs: String(fromMs) } : {}),
      ...(toMs !== undefined ? { toMs: String(toMs) } : {}),
    };
    const newestFirst: UsageRowAnswer[] = fresh(await call(() => adminClient(adminConnection(values)).usage.$get({ query })));
    const rows = [...newestFirst].reverse();
    const warnings = rows.length >= limit ? [`only the newest ${limit} rows of the period are shown; narrow --from/--to${limit < USAGE_ROWS_MAX ? ' or raise --limit' : ''}`] : [];
    const lines = rows.map(describe);
    if (lines.length === 0) lines.push('(no usage rows in this period)');
    const raw =
      values.csv === true
        ? csvRecord(CSV_COLUMNS) +
          rows
            .map((r) => csvRecord([new Date(r.at).toISOString(), r.kind, r.feature, r.version, r.user, r.host, r.clientId, r.count, r.leaseId, r.waitedMs, r.code, r.reason ?? '', r.logIndex]))
            .join('')
        : undefined;
    return { lines, json: rows, warnings, ...(raw !== undefined ? { raw } : {}) };
  });
}

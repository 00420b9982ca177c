// `floe lease list [--feature F] | free LEASE_ID [--reason TEXT]`: who holds
// which seat, and freeing a stuck one (its holder is told the reason; the
// usage rows record a force-checkin with it).
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection } from './admin-connection.ts';
import { adminClient, call, fresh } from './admin-client.ts';
import { CliError, usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { dispatch, parseOptions, runCommand } from './run-command.ts';
import { leaseHoldText, type LeaseAnswer } from './status-report.ts';

const USAGE = [
  `usage: floe lease list [--feature F] ${ADMIN_USAGE} [--json]`,
  `       floe lease free LEASE_ID [--reason TEXT] ${ADMIN_USAGE} [--json]`,
].join('\n');

/** Longest reason the server keeps, characters (daemon/pool FORCE_REASON_CHARS_MAX). */
const REASON_CHARS_MAX = 200;

/** A lease as GET /leases lists it. */
interface LeaseRow extends LeaseAnswer {
  readonly version: string;
  readonly count: number;
  readonly clientId: string;
  readonly checkedOutAt: number;
  readonly lingering: boolean;
}

function list(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, { ...ADMIN_OPTIONS, feature: { type: 'string' } });
    const leases: LeaseRow[] = fresh(
      await call(() => adminClient(adminConnection(values)).leases.$get({ query: values.feature === undefined ? {} : { feature: values.feature } })),
    );
    const lines = leases.map(
      (l) =>
        `${l.leaseId.padEnd(12)} ${`${l.feature}@${l.version}`.padEnd(20)} ${String(l.count).padStart(3)}  ${`${l.user}@${l.host}`.padEnd(32)} since ${new Date(l.checkedOutAt).toISOString()}  ${leaseHoldText(l)} ${new Date(l.expiresAt).toISOString()}`,
    );
    if (lines.length === 0) lines.push(values.feature === undefined ? '(no lease held)' : `(no lease of ${values.feature} held)`);
    return { lines, json: leases };
  });
}

function free(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values, positionals } = parseOptions(argv, { ...ADMIN_OPTIONS, reason: { type: 'string' } }, true);
    if (positionals.length !== 1) throw usageError('give exactly one LEASE_ID (floe lease list shows them)');
    const reason = values.reason ?? '';
    if (reason.length > REASON_CHARS_MAX) throw usageError(`--reason has ${reason.length} characters; at most ${REASON_CHARS_MAX}`);
    const leaseId = positionals[0]!;
    const r = await call(() => adminClient(adminConnection(values)).leases[':leaseId'].$delete({ param: { leaseId }, json: { reason } })).catch((error: unknown) => {
      // Sent again during a leader change: the first attempt went through.
      if (error instanceof CliError && error.afterRetry && error.code === 'LEASE_NOT_FOUND') return { leaseId } as { leaseId: string; seatFree?: boolean; message?: string };
      throw error;
    });
    // A borrowed seat of an offline client is revoked but not yet back: say so, and when it will be.
    const line = r.seatFree === false ? `revoked ${r.leaseId}: ${r.message}` : `freed ${r.leaseId}${reason === '' ? '' : ` (${reason})`}`;
    return { lines: [line], value: r.leaseId, json: r };
  });
}

/** Runs `floe lease …`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return dispatch(argv, io, USAGE, { list, free });
}

// `floe policy get | set FILE | check FILE`: the cluster's seat policy
// (docs/policy.md). `check` parses a file offline, as the server would, and
// prints each problem as FILE:LINE:COLUMN: CODE message; `set` sends it
// (`--dry-run`: the server checks it and lists the leases it would refuse,
// changing nothing); `get` prints the policy in force. The format follows the
// file name (.toml: Floe's; anything else: a FlexNet options file) unless
// --format says.
import { readFileSync, statSync } from 'node:fs';
import { parsePolicy, POLICY_LIMITS, type PolicyDiagnostic, type PolicyFormat } from '../protocol/index.ts';
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection } from './admin-connection.ts';
import { adminClient, call, fresh } from './admin-client.ts';
import { CliError, usageError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { dispatch, parseOptions, runCommand } from './run-command.ts';

const USAGE = [
  `usage: floe policy get ${ADMIN_USAGE} [--json]`,
  `       floe policy set FILE [--format floe|flexlm-options] [--dry-run] [--revoke-violating] [--expect-version N] ${ADMIN_USAGE} [--json]`,
  `       floe policy check FILE [--format floe|flexlm-options] [--json]`,
].join('\n');

const FORMAT_OPTION = { format: { type: 'string' } } as const;

/** The format of `file`: --format, else by its name (.toml is Floe's). */
function formatOf(file: string, format: string | undefined): PolicyFormat {
  if (format === undefined) return /\.toml$/i.test(file) ? 'floe' : 'flexlm-options';
  if (format !== 'floe' && format !== 'flexlm-options') throw usageError(`--format is floe or flexlm-options, not "${format.slice(0, 40)}"`);
  return format;
}

/** The text of a policy file (bounded: the parser's own limit). */
function readPolicyFile(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new CliError('FILE_NOT_FOUND', `cannot read ${file}: ${(error as Error).message}`);
  }
  if (size > POLICY_LIMITS.textBytesMax) throw new CliError('POLICY_TOO_LARGE', `${file} is ${size} bytes; a policy is at most ${POLICY_LIMITS.textBytesMax}`);
  return readFileSync(file, 'utf8');
}

function diagnosticLines(file: string, diagnostics: readonly PolicyDiagnostic[]): string[] {
  return diagnostics.map((d) => `${file}:${d.line}:${d.column}: ${d.code} ${d.message}`);
}

function oneFile(positionals: readonly string[]): string {
  if (positionals.length !== 1) throw usageError('name one FILE');
  return positionals[0] as string;
}

function check(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values, positionals } = parseOptions(argv, FORMAT_OPTION, true);
    const file = oneFile(positionals);
    const format = formatOf(file, values.format);
    const r = parsePolicy(format, readPolicyFile(file));
    if (!r.ok) {
      for (const line of [...diagnosticLines(file, r.errors), ...diagnosticLines(file, r.warnings)]) io.stderr(`${line}\n`);
      throw new CliError('POLICY_INVALID', `${file} has ${r.errors.length} error(s)`);
    }
    const rules = r.policy.rules.length;
    return {
      lines: [`${file}: ${format}, ${rules} rule(s), ${r.policy.groups.length} group(s), ${r.policy.hostGroups.length} host group(s), ${r.policy.features.length} setting(s)`],
      warnings: diagnosticLines(file, r.warnings),
      json: { ok: true, format, policy: r.policy, warnings: r.warnings },
    };
  });
}

function get(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, ADMIN_OPTIONS);
    const p = fresh(await call(() => adminClient(adminConnection(values)).policy.$get({ query: {} })));
    if (p.version === 0) return { lines: ['no policy is set: every seat is free for everyone the keys allow'], json: p };
    return { lines: [`# version ${p.version}, ${p.format}, set ${new Date(p.setAt).toISOString()}`, p.text.replace(/\s+$/, '')], json: p };
  });
}

function set(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values, positionals } = parseOptions(
      argv,
      { ...ADMIN_OPTIONS, ...FORMAT_OPTION, 'dry-run': { type: 'boolean' }, 'revoke-violating': { type: 'boolean' }, 'expect-version': { type: 'string' } },
      true,
    );
    const file = oneFile(positionals);
    const format = formatOf(file, values.format);
    const expect = values['expect-version'];
    if (expect !== undefined && !/^\d{1,9}$/.test(expect)) throw usageError('--expect-version is a version number');
    const res = await adminClient(adminConnection(values)).policy.$put({
      query: values['dry-run'] === true ? { dryRun: 'true' } : {},
      json: {
        format,
        text: readPolicyFile(file),
        revokeViolating: values['revoke-violating'] === true,
        ...(expect !== undefined ? { expectedVersion: Number(expect) } : {}),
      },
    });
    if (res.status === 422) {
      const body = (await res.json()) as { error: { code: string; message: string; errors?: PolicyDiagnostic[]; warnings?: PolicyDiagnostic[] } };
      for (const line of diagnosticLines(file, [...(body.error.errors ?? []), ...(body.error.warnings ?? [])])) io.stderr(`${line}\n`);
      throw new CliError(body.error.code, body.error.message);
    }
    const r = await call(() => Promise.resolve(res), { retryMs: 0 });
    const lines = [
      r.dryRun ? `${file} checks out: it would be version ${r.version}` : `policy version ${r.version} is in force (${file})`,
      ...r.violations.map((v) => `  ${r.dryRun ? 'would refuse' : 'keeps, against the policy'} ${v.leaseId} (${v.feature} ${v.version}, ${v.user} on ${v.host}): ${v.message}`),
      ...r.revokedLeaseIds.map((id) => `  revoked ${id}`),
      ...(r.dequeuedCount > 0 ? [`  ${r.dequeuedCount} queued checkout(s) left their queues`] : []),
    ];
    return { lines, value: String(r.version), warnings: diagnosticLines(file, r.warnings), json: r };
  });
}

/** Runs `floe policy …`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return dispatch(argv, io, USAGE, { get, set, check });
}

// The shape every admin command of `floe` shares (CONTRACT.md): people read
// lines, scripts read the single value on the last line of stdout, `--json`
// prints one JSON document instead, and a refusal goes to stderr as
// `CODE: sentence` with the exit code of cli-error.ts (with `--json`, stdout
// also gets {"error":{"code","message"}}). A bug prints one line, not a stack.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, EXIT, usageError } from './cli-error.ts';
import type { CommandIo } from './command-io.ts';

/** What a command prints when it succeeds. */
export interface CommandOutput {
  /** Lines for people, printed first. */
  readonly lines?: readonly string[];
  /** The single value for scripts (a license id, a file name): printed as the last line of stdout. */
  readonly value?: string;
  /** What `--json` prints (one line). */
  readonly json: unknown;
  /** Printed as it is instead of lines and value (`--csv`). */
  readonly raw?: string;
  /** Sentences for stderr (`WARNING: …`), whatever the format: the data is usable but incomplete. */
  readonly warnings?: readonly string[];
}

/** A subcommand: its exit code from its own arguments. */
export type Subcommand = (argv: string[], io: CommandIo) => Promise<number>;

/** parseArgs that throws a usage CliError (exit 2) instead of TypeError. */
export function parseOptions<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  return head.includes('--help') || head.includes('-h');
}

/** Runs `action` and prints its output or its refusal; answers the exit code. */
export async function runCommand(argv: string[], io: CommandIo, usage: string, action: () => Promise<CommandOutput>): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(`${usage}\n`);
    return EXIT.ok;
  }
  const json = wantsJson(argv);
  try {
    const out = await action();
    for (const w of out.warnings ?? []) io.stderr(`WARNING: ${w}\n`);
    if (json) io.stdout(`${JSON.stringify(out.json)}\n`);
    else if (out.raw !== undefined) io.stdout(out.raw);
    else {
      const lines = [...(out.lines ?? []), ...(out.value !== undefined ? [out.value] : [])];
      if (lines.length > 0) io.stdout(`${lines.join('\n')}\n`);
    }
    return EXIT.ok;
  } catch (error) {
    const e = error instanceof CliError ? error : new CliError('INTERNAL', error instanceof Error ? error.message : String(error), EXIT.refused);
    if (json) io.stdout(`${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`);
    io.stderr(`${e.code}: ${e.message}\n${e.exitCode === EXIT.usage ? `${usage}\n` : ''}`);
    return e.exitCode;
  }
}

/** Runs the subcommand named by argv[0]; `usage` lists them. */
export async function dispatch(argv: string[], io: CommandIo, usage: string, subcommands: Readonly<Record<string, Subcommand>>): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(`BAD_REQUEST: a subcommand is required\n${usage}\n`);
    return EXIT.usage;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    io.stdout(`${usage}\n`);
    return EXIT.ok;
  }
  const sub = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (sub === undefined) {
    io.stderr(`BAD_REQUEST: unknown subcommand "${name.slice(0, 40)}"\n${usage}\n`);
    return EXIT.usage;
  }
  return sub(rest, io);
}

// Test support for the CLI tests: runs a command in-process, capturing its
// output, and sets up a key center and node data dirs in temp directories.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { run as keycenter } from './keycenter.ts';
import type { CommandIo } from './lockcode.ts';
import { run as lockcode } from './lockcode.ts';

export interface CommandResult {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The last line of stdout: the value for scripts. */
  readonly last: string;
}

/** Runs a command in-process, capturing what it prints. */
export async function floe(command: (argv: string[], io: CommandIo) => Promise<number>, ...argv: string[]): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  const exit = await command(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { exit, stdout, stderr, last: stdout.trimEnd().split('\n').at(-1) ?? '' };
}

const dirs: string[] = [];

/** A fresh temp directory, removed by removeTempDirs(). */
export function tempDir(): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'floe-cli-'));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A key center in ROOT/kc and four node data dirs ROOT/n1..n4 with their lock codes. */
export async function site(): Promise<{ root: string; kc: string; pub: string; locks: string[] }> {
  const root = tempDir();
  const kc = join(root, 'kc');
  const init = await floe(keycenter, 'init', '--dir', kc);
  if (init.exit !== 0) throw new Error(`init failed: ${init.stderr}`);
  const locks: string[] = [];
  for (const n of ['n1', 'n2', 'n3', 'n4']) locks.push((await floe(lockcode, '--data-dir', join(root, n))).last);
  return { root, kc, pub: init.last, locks };
}

/** Entitles 10 concurrent seats of stats 29 (plus `extra` options); answers the printed codes. */
export async function entitle(kc: string, ...extra: string[]): Promise<string[]> {
  const r = await floe(keycenter, 'entitle', '--dir', kc, '--product', 'stats', '--version', '29', '--model', 'concurrent', '--seats', '10', ...extra);
  if (r.exit !== 0) throw new Error(`entitle failed: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

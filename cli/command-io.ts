// Where a `floe` command writes. Commands take a CommandIo so that tests run
// them in-process and capture what a user would see; `processIo` is the
// real stdout and stderr.
import process from 'node:process';

/** Where a command writes; tests pass their own to capture output. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The process's stdout and stderr. */
export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

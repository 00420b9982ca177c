// The end of a long-running command (`floe serve`, `floe keycenter serve`):
// on SIGINT or SIGTERM, close what runs and answer the exit code.
import process from 'node:process';

/** Resolves with 0 once `close` finished after SIGINT or SIGTERM, 1 if it failed. */
export function untilSignal(close: () => Promise<void>, log: (line: string) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping`);
      close().then(
        () => resolve(0),
        (error: unknown) => {
          log(`stopping failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

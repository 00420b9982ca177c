// `floe keycenter serve` as a separate OS process, for tests and benchmarks
// that need several instances over one database: start it on a loopback port
// (--listen 127.0.0.1:0), read its URL from the last line of stdout, stop it
// with SIGTERM (SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FLOE_BIN = fileURLToPath(new URL('../../bin/floe.js', import.meta.url));
/** `ms` a key center is given to start (tsx compiles on a loaded machine). */
const START_WAIT_MS = 90_000;
/** `ms` a stopping key center is given before SIGKILL. */
const STOP_WAIT_MS = 10_000;

export interface KeyCenterProcess {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** What it wrote to stderr (the last few KiB). */
  stderr(): string;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts `floe keycenter serve --dir DIR --listen 127.0.0.1:0 …extraArgs` and waits until it serves. */
export async function startKeyCenterProcess(dir: string, extraArgs: readonly string[] = []): Promise<KeyCenterProcess> {
  const child = spawn(process.execPath, [FLOE_BIN, 'keycenter', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const stop = async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS);
    await exited(child);
    clearTimeout(timer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`keycenter serve did not start in ${START_WAIT_MS} ms: ${stderr}`)), START_WAIT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split('\n').find((l) => l.startsWith('{"url"'));
        if (line !== undefined) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`keycenter serve exited (${code}): ${stderr}`));
      });
    });
    return { url, pid: child.pid!, stderr: () => stderr, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

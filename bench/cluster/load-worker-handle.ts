// The cluster bench's handle on one load worker process: starts
// load-worker.ts as a child, sends it commands over IPC, and answers each
// command's result, bounded in time.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROLE_ENV, type WorkerCommand } from './load-worker.ts';

/** `ms` any single worker command may take before the bench gives up on it. */
const WORKER_COMMAND_MS_MAX = 180_000;

/** The bench's handle on one load worker process. */
export class LoadWorkerHandle {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (w === undefined) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(`load worker: ${m.error}`));
      else w.resolve(m.result);
    });
    child.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load worker exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }
  static start(): LoadWorkerHandle {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'load-worker.ts')], {
      env: { ...process.env, [ROLE_ENV]: 'load', NODE_OPTIONS: '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new LoadWorkerHandle(child);
  }
  call<T>(command: WorkerCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`load worker: ${command.cmd} took over ${WORKER_COMMAND_MS_MAX} ms`)), WORKER_COMMAND_MS_MAX);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.child.send({ id, command });
    });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}


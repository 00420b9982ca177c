// One-at-a-time access to a resource that async callers share: the SQLite
// store has one connection, and a transaction whose body awaits must not let
// another caller's statements run inside it.

/** A FIFO lock: run() waits for every earlier run() to settle first. */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` once every earlier call has settled; answers what it answers. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

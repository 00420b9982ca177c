// What a node lets observers (metrics, the console's live events) watch
// without changing anything: the usage rows of applied entries (checkouts,
// checkins, denials, queue waits), how long each client checkout took to be
// answered, and how long each storage fsync took. Listeners are called after
// the fact, off the path between commit and reply; a listener that throws
// is logged and the others still hear.
import type { UsageRow } from '../storage/index.ts';

/** A listener set of one kind of observation. */
class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();
  constructor(private readonly log: (line: string) => void) {}

  /** Subscribes; returns the unsubscribe. */
  add(listener: (value: T) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  /** True when anyone listens (emitters skip building values otherwise). */
  get active(): boolean {
    return this.set.size > 0;
  }

  emit(value: T): void {
    for (const l of this.set) {
      try {
        l(value);
      } catch (error) {
        this.log(`observer failed: ${(error as Error).message}`);
      }
    }
  }
}

/** The observations a node offers. */
export class NodeObservers {
  /** Usage rows of the entries applied in one turn, in log order (delivered after the proposers' replies). */
  readonly usage: Listeners<readonly UsageRow[]>;
  /** `ms` from a client checkout's arrival at this node to its answer, and whether it was granted or queued. */
  readonly checkoutLatency: Listeners<{ readonly ms: number; readonly ok: boolean }>;
  /** `ms` one fdatasync of the log took (async sync mode). */
  readonly storageSync: Listeners<number>;

  constructor(log: (line: string) => void) {
    this.usage = new Listeners(log);
    this.checkoutLatency = new Listeners(log);
    this.storageSync = new Listeners(log);
  }
}

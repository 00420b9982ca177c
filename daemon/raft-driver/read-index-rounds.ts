// The driver's linearizable reads: read barriers answered by ReadIndex rounds
// through the leader (Raft thesis §6.4). The barriers asked in one event-loop
// turn share one round; a round waits for the core's ReadState, then for this
// node to apply up to the index it names. A round asked of no leader, or of a
// dead one, is asked again of the next leader. The driver hands it each
// Ready's ReadStates and its applied index; it never touches the log.
import type { NodeId, ReadState } from '../raft/types.ts';
import type { DriverScheduler, ScheduledTimer } from './driver-scheduler.ts';
import { ProposalError } from './proposal-error.ts';

/** ReadIndex rounds awaiting their answer at once; beyond it the oldest are forgotten (their callers time out). */
const READ_ROUNDS_MAX = 1024;

/** What the rounds need of their driver. */
export interface ReadIndexHost {
  readonly scheduler: DriverScheduler;
  /** Uniform in [0, 1), for the context prefix that tells this incarnation's rounds apart. */
  readonly random: () => number;
  /** Asks the Raft core for a ReadIndex under `context` (never between ready() and advance()). */
  readIndex(context: string): void;
  /** Has the driver run its ready loop soon. */
  schedule(): void;
  /** True once the driver has stopped. */
  isStopped(): boolean;
  /** Who leads as far as the driver knows ('' when unknown). */
  leaderId(): NodeId;
}

/** ReadIndex rounds awaiting their ReadState, and answered reads awaiting their apply. */
export class ReadIndexRounds {
  private readonly host: ReadIndexHost;
  /** Read barriers asked for in this event-loop turn: they share one ReadIndex round. */
  private readBatch: ((index: number, appliedIndex: number) => void)[] | undefined;
  /** ReadIndex rounds sent, by context, awaiting their ReadState. */
  private readonly readRounds = new Map<string, ((index: number, appliedIndex: number) => void)[]>();
  /** Answered reads waiting for applied ≥ index. */
  private applyWaiters: { index: number; resolve: () => void }[] = [];
  private readSeq = 0;
  private readonly readPrefix: string;

  constructor(host: ReadIndexHost) {
    this.host = host;
    this.readPrefix = `r${Math.floor(host.random() * 2 ** 32).toString(36)}.`;
  }

  /**
   * A linearizable read point: resolves once this node has applied
   * everything committed when the call was made. Rejects with ProposalError
   * NOT_LEADER when no leader confirms within `timeoutMs`.
   */
  async barrier(timeoutMs: number): Promise<void> {
    let timer: ScheduledTimer | undefined;
    try {
      await Promise.race([
        this.round(),
        new Promise<never>((_, reject) => {
          timer = this.host.scheduler.after(timeoutMs, () => reject(new ProposalError('NOT_LEADER', `no leader confirmed a read within ${timeoutMs} ms`, this.host.leaderId())));
        }),
      ]);
    } finally {
      timer?.cancel();
    }
  }

  /** One ReadIndex round (shared by the calls of one turn); never settles when no leader answers. */
  private round(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (index: number, appliedIndex: number) => {
        if (appliedIndex >= index) resolve();
        else this.applyWaiters.push({ index, resolve });
      };
      if (this.readBatch !== undefined) {
        this.readBatch.push(done);
        return;
      }
      const batch = [done];
      this.readBatch = batch;
      this.host.scheduler.immediate(() => {
        this.readBatch = undefined;
        if (this.host.isStopped()) return;
        const context = `${this.readPrefix}${++this.readSeq}`;
        this.readRounds.set(context, batch);
        if (this.readRounds.size > READ_ROUNDS_MAX) this.readRounds.delete(this.readRounds.keys().next().value as string);
        this.host.readIndex(context);
        this.host.schedule();
      });
    });
  }

  /** Answers the rounds of `states` (a Ready's ReadStates); `appliedIndex`: this node's applied index now. */
  answer(states: readonly ReadState[], appliedIndex: number): void {
    for (const state of states) {
      const waiters = this.readRounds.get(state.context);
      if (waiters === undefined) continue;
      this.readRounds.delete(state.context);
      for (const w of waiters) w(state.index, appliedIndex);
    }
  }

  /** Resolves the answered reads whose index `appliedIndex` has reached. */
  releaseApplied(appliedIndex: number): void {
    if (this.applyWaiters.length === 0) return;
    const still: { index: number; resolve: () => void }[] = [];
    for (const w of this.applyWaiters) {
      if (appliedIndex >= w.index) w.resolve();
      else still.push(w);
    }
    this.applyWaiters = still;
  }

  /**
   * A ReadIndex round asked of no leader, or of a dead one, is never
   * answered: the core drops it. Ask the new leader again under the same
   * context, or every session resume of a failover would wait out its whole
   * timeout (measured: first checkout 1.1–2.2 s after the kill, against an
   * election of ~0.3 s). A late answer to the old request finds no waiters.
   * Deferred so that readIndex() is not called between ready() and advance().
   * Call on each change to a known leader.
   */
  resend(): void {
    if (this.readRounds.size === 0) return;
    this.host.scheduler.immediate(() => {
      if (this.host.isStopped() || this.host.leaderId() === '') return;
      for (const context of this.readRounds.keys()) this.host.readIndex(context);
      this.host.schedule();
    });
  }
}

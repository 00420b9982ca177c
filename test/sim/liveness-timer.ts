// Liveness mode (SimOptions.mode 'liveness'): a calm cluster settles under
// a leader every member follows, the leader is crashed for good once, and
// the run measures the virtual time to a new leader elected and to one
// followed by all (SimResult.electedAfterCrashUs, followedAfterCrashUs;
// `npm run sim -- --liveness N` prints their percentiles).
import type { EventQueue } from './event-queue.ts';
import type { Prng } from './prng.ts';
import type { SimEvent } from './sim-event.ts';
import type { SimNode } from './sim-node.ts';

/** What LivenessTimer needs of the simulation. */
export interface LivenessHost {
  readonly nodes: readonly SimNode[];
  readonly queue: EventQueue<SimEvent>;
  /** The up node leading the highest term, if any. */
  leader(): SimNode | undefined;
  /** A leader every up member follows in its term, if there is one now. */
  followedLeader(): SimNode | undefined;
  /** Crashes `n` (up), traced as `CRASH (why)`, and does what follows any crash. */
  crashBecause(n: SimNode, why: string): void;
  trace(text: string): void;
}

/** `µs` a settled cluster runs before its leader is crashed: drawn between these. */
const SETTLE_MIN_US = 100_000;
const SETTLE_MAX_US = 700_000;

/** Times the election after one leader crash. */
export class LivenessTimer {
  /** Virtual time from the leader's crash to a new leader elected, µs. */
  electedAfterCrashUs: number | undefined;
  /** Virtual time from the leader's crash to a new leader followed by all, µs. */
  followedAfterCrashUs: number | undefined;
  private crashedLeaderTerm = 0;
  /** `µs` of the crash; -1 before a settled leader was seen, -2 while the crash is scheduled. */
  private crashUs = -1;

  /** `rng`: the fault stream (draws the settle time). */
  constructor(
    private readonly host: LivenessHost,
    private readonly rng: Prng,
  ) {}

  /** One probe at `nowUs`; true when a new leader is followed by all (the run is done). */
  probe(nowUs: number): boolean {
    if (this.crashUs < 0) {
      const l = this.host.followedLeader();
      if (l === undefined) return false;
      if (this.crashUs === -1) {
        // Let the cluster settle for a while, then crash the leader.
        this.crashUs = -2;
        this.host.queue.after(this.rng.range(SETTLE_MIN_US, SETTLE_MAX_US), { type: 'crash-leader' });
      }
      return false;
    }
    if (this.electedAfterCrashUs === undefined) {
      for (const n of this.host.nodes) {
        if (n.up && n.status().role === 'leader' && n.status().term > this.crashedLeaderTerm) {
          this.electedAfterCrashUs = nowUs - this.crashUs;
          this.host.trace(`${n.id} elected ${this.electedAfterCrashUs}µs after the crash`);
        }
      }
    }
    const l = this.host.followedLeader();
    if (l !== undefined && l.status().term > this.crashedLeaderTerm) {
      this.followedAfterCrashUs = nowUs - this.crashUs;
      this.host.trace(`${l.id} followed by all ${this.followedAfterCrashUs}µs after the crash`);
      return true;
    }
    return false;
  }

  /** The settle timer fired ('crash-leader'): crash the leader for good, or wait for one again. */
  crashLeader(nowUs: number): void {
    const l = this.host.leader();
    if (l === undefined) {
      this.crashUs = -1;
      return;
    }
    this.crashedLeaderTerm = l.status().term;
    this.crashUs = nowUs;
    this.host.crashBecause(l, `the leader of term ${this.crashedLeaderTerm}; timing the next election`);
  }
}

// The leader's lease reaper: one timer at the pool's earliest deadline (lease
// expiry, queue timeout, session expiry), never one per lease. When it fires
// the leader proposes one `expire` command; the pool's state machine decides
// what has expired at the `at` the leader stamps into it. Followers hold no
// timer. The node reschedules after every apply, snapshot install and change
// of role.

/** `ms`: longest the reaper sleeps before looking again (timers cap at 2^31 ms). */
const REAPER_SLEEP_MS_MAX = 3_600_000;

/** What LeaseReaper needs of its node. */
export interface LeaseReaperHost {
  /** True when this node leads (only a leader reaps). */
  readonly isLeader: () => boolean;
  /** `ms` of cluster time: the pool's earliest deadline, or +Infinity when none. */
  readonly nextDeadlineMs: () => number;
  /** `ms`: cluster time now (cluster-clock.ts), which deadlines are measured in; it runs with the monotonic clock. */
  readonly clock: () => number;
  /** Proposes one `expire` command; settles once it is applied or failed. */
  readonly expire: () => Promise<unknown>;
  readonly log: (line: string) => void;
}

/** One timer at the pool's earliest deadline on the leader. */
export class LeaseReaper {
  private readonly host: LeaseReaperHost;
  private timer: NodeJS.Timeout | undefined;
  /** `ms` of cluster time the timer is set for; NaN forces a new timer. */
  private deadlineMs = Number.POSITIVE_INFINITY;
  private expireInFlight = false;
  private closed = false;

  constructor(host: LeaseReaperHost) {
    this.host = host;
  }

  /** Sets the timer at the pool's earliest deadline (none on a follower); cheap when it has not moved. */
  schedule(): void {
    if (this.closed) return;
    const deadline = this.host.isLeader() ? this.host.nextDeadlineMs() : Number.POSITIVE_INFINITY;
    if (deadline === this.deadlineMs && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.deadlineMs = deadline;
    if (!Number.isFinite(deadline) || this.expireInFlight) return;
    const delayMs = Math.min(Math.max(0, deadline - this.host.clock()), REAPER_SLEEP_MS_MAX);
    this.timer = setTimeout(() => this.reap(), delayMs);
    this.timer.unref();
  }

  /** Stops the timer for good. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private reap(): void {
    this.timer = undefined;
    if (this.closed || !this.host.isLeader()) return;
    if (this.host.clock() < this.deadlineMs) {
      this.deadlineMs = Number.NaN; // force a new timer
      this.schedule();
      return;
    }
    this.expireInFlight = true;
    this.host
      .expire()
      .catch((error: unknown) => this.host.log(`reaper: ${(error as Error).message}`))
      .finally(() => {
        this.expireInFlight = false;
        this.deadlineMs = Number.NaN;
        this.schedule();
      });
  }
}

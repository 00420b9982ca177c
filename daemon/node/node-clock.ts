// One node's clocks: cluster time for what it stamps as leader (and
// continues from as follower), the date license keys are checked at, and a
// watch that logs each step of the wall clock. The rules are in
// cluster-clock.ts; this file reads the real clocks and keeps the timer.
import type { FloeConfig } from '../config.ts';
import { ClockStepWatch } from './clock-step-watch.ts';
import { ClusterClock, type ClockReading, type TimeStamp } from './cluster-clock.ts';

/** `ms` between looks at the wall clock for steps (each is logged as a warning). */
const CLOCK_WATCH_MS = 1000;

/** What GET /cluster shows of a node's clocks. */
export interface ClockStatus {
  /** `ms`: cluster time now (what this node would stamp as leader, or continues from as follower). */
  readonly clusterTimeMs: number;
  /** `ms` since the epoch: this node's wall clock. */
  readonly wallMs: number;
  /** `ms`: wall clock minus cluster time: what slewing still has to absorb (license dates follow the wall clock within dateToleranceMs). */
  readonly wallAheadMs: number;
  /** Wall-clock steps logged since start. */
  readonly stepCount: number;
  /** `ms`: the last step (+ forward, − back); 0 when none. */
  readonly lastStepMs: number;
}

/** What NodeClock needs of its node. */
export interface NodeClockHost {
  readonly options: FloeConfig['clock'];
  /** `ms` since the epoch (Date.now). */
  readonly wallClock: () => number;
  /** `ms` of a monotonic clock (performance.now). */
  readonly monotonicClock: () => number;
  /** `ms`: the pool's time, the last `at` applied; cluster time never goes below it. */
  readonly poolNowMs: () => number;
  /** Told of each wall-clock step, after it is logged (a leader then has the licenses judged at the new date). */
  readonly onStep: () => void;
  readonly log: (line: string) => void;
}

/** A node's cluster time, dates and clock-step watch. Stop with close(). */
export class NodeClock {
  private readonly host: NodeClockHost;
  private readonly cluster: ClusterClock;
  private readonly steps: ClockStepWatch;
  private readonly timer: NodeJS.Timeout;
  private stepCount = 0;
  private lastStepMs = 0;

  constructor(host: NodeClockHost) {
    this.host = host;
    this.cluster = new ClusterClock({ slewRatio: host.options.slewPercent / 100, dateToleranceMs: host.options.dateToleranceMs });
    this.steps = new ClockStepWatch(host.options.stepWarnMs);
    this.steps.observe(this.read());
    this.timer = setInterval(() => this.watch(), CLOCK_WATCH_MS);
    this.timer.unref();
  }

  /** The time fields of a command this node proposes as leader. */
  stamp(): TimeStamp {
    return this.cluster.stamp(this.read(), this.host.poolNowMs());
  }

  /** `ms`: cluster time now (the reaper's clock). */
  now(): number {
    return this.cluster.peek(this.read(), this.host.poolNowMs());
  }

  /** `ms` since the epoch: the date license keys are checked at before they are proposed (the wall clock within dateToleranceMs of cluster time). */
  date(): number {
    const reading = this.read();
    const at = this.cluster.peek(reading, this.host.poolNowMs());
    const toleranceMs = this.host.options.dateToleranceMs;
    return Math.min(at + toleranceMs, Math.max(at - toleranceMs, reading.wallMs));
  }

  /** A follower applied an entry of a live leader: cluster time continues from the pool's time. */
  follow(): void {
    this.cluster.follow(this.host.poolNowMs(), this.host.monotonicClock());
  }

  /** Cluster time, the wall clock, how far apart, and the steps seen. */
  status(): ClockStatus {
    const reading = this.read();
    const clusterTimeMs = this.cluster.peek(reading, this.host.poolNowMs());
    return { clusterTimeMs, wallMs: reading.wallMs, wallAheadMs: reading.wallMs - clusterTimeMs, stepCount: this.stepCount, lastStepMs: this.lastStepMs };
  }

  /** Stops the watch. */
  close(): void {
    clearInterval(this.timer);
  }

  private read(): ClockReading {
    return { monoMs: this.host.monotonicClock(), wallMs: this.host.wallClock() };
  }

  private watch(): void {
    const reading = this.read();
    const stepMs = this.steps.observe(reading);
    if (stepMs === 0) return;
    this.stepCount += 1;
    this.lastStepMs = stepMs;
    const aheadMs = this.cluster.offsetMs(reading, this.host.poolNowMs());
    const { slewPercent, dateToleranceMs } = this.host.options;
    this.host.log(
      `WARNING clock step: the wall clock moved ${signedSeconds(stepMs)} against the monotonic clock; ` +
        `cluster time follows it at most ${slewPercent} % faster or slower (it is ${signedSeconds(aheadMs)} from the wall clock now), ` +
        `license dates at most ${signedSeconds(dateToleranceMs)} from cluster time`,
    );
    this.host.onStep();
  }
}

/** `ms` as signed seconds with one decimal: "+60.0 s", "-3.5 s". */
function signedSeconds(ms: number): string {
  return `${ms >= 0 ? '+' : '-'}${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

// Bounds the client work of one event-loop turn. Frames a connection
// admitted (within its rate) wait in its inbox; the scheduler handles them
// from a setImmediate, at most `framesPerTurnMax` per turn, one frame per
// connection in turn (round robin), then yields. So however many clients
// send at once, every turn of the loop also reaches the timers (Raft ticks)
// and the peer sockets (Raft messages, heartbeats): a burst of client frames
// delays consensus by one bounded batch, never by all of them.

/** Something with frames to handle: a client connection. */
export interface FrameWork {
  /** Handles the next waiting frame; true when more wait. Never throws (a connection closes itself instead). */
  runOne(): boolean;
}

/** Client frames handled per event-loop turn, at most. */
export const FRAMES_PER_TURN_MAX = 64;

/** Round-robin over the connections with waiting frames, a bounded batch per turn. */
export class FrameScheduler {
  /** Connections with waiting frames, each at most once; `head` is the next to run. */
  private queue: FrameWork[] = [];
  private head = 0;
  private readonly queued = new Set<FrameWork>();
  private scheduled = false;
  private stopped = false;

  constructor(private readonly framesPerTurnMax: number = FRAMES_PER_TURN_MAX) {}

  /** `work` has a frame waiting: it runs in a later turn, after those already waiting. */
  add(work: FrameWork): void {
    if (this.stopped || this.queued.has(work)) return;
    this.queued.add(work);
    this.queue.push(work);
    this.schedule();
  }

  /** Frames handled since start (for tests and figures). */
  framesRun = 0;

  /** Drops everything waiting; nothing runs after it. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.head = 0;
    this.queued.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    for (let budget = this.framesPerTurnMax; budget > 0 && this.head < this.queue.length; budget--) {
      const work = this.queue[this.head++] as FrameWork;
      this.queued.delete(work);
      this.framesRun++;
      if (work.runOne()) {
        this.queued.add(work);
        this.queue.push(work);
      }
    }
    // Drop what ran from the front once it is most of the array (amortized O(1) per frame).
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.queue.length && !this.stopped) this.schedule();
  }
}

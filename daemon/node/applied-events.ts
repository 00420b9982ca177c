// What applied entries tell the world outside the state machines: each pool
// event is either a usage row (written to the usage table in batches, a
// timer or a full buffer, off the path between commit and reply; and handed
// to the observers) or a client event (a grant, a queue move, a revocation:
// pushed to the clients). Both are delivered on setImmediate after the Ready
// that applied them, so the proposers hear their replies first. Apart from
// FloeNode because it is the node's one outbound stream and has its own
// batching and timers.
import type { PoolEvent } from '../pool/index.ts';
import type { UsageLog, UsageRow } from '../storage/index.ts';
import type { NodeObservers } from './node-observers.ts';

/** A pool event other than a usage row: what clients are pushed. */
export type ClientEvent = Exclude<PoolEvent, { kind: 'usage' }>;

/** `ms` between usage-row flushes (each one transaction; rows of entries a snapshot covers are flushed with it). */
const USAGE_FLUSH_MS = 500;

/** What AppliedEvents needs of its node. */
export interface AppliedEventsDeps {
  readonly usage: UsageLog;
  readonly observers: NodeObservers;
  readonly log: (line: string) => void;
}

/** The usage rows and client events of applied entries, on their way out. */
export class AppliedEvents {
  private readonly listeners = new Set<(event: ClientEvent) => void>();
  /** Client events of applied entries not yet delivered. */
  private eventQueue: ClientEvent[] = [];
  /** Usage rows of applied entries not yet handed to observers (only while someone observes). */
  private usageQueue: UsageRow[] = [];
  private deliveryScheduled = false;
  private usageTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: AppliedEventsDeps) {}

  /** Subscribes to client events (grants, queue moves, dequeues, revocations); returns the unsubscribe. */
  onEvent(listener: (event: ClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes the events of the entry at `logIndex` (usage rows carry it: a replay after a restart compares it). */
  record(events: readonly PoolEvent[], logIndex: number): void {
    for (const event of events) {
      if (event.kind === 'usage') {
        const row: UsageRow = {
          logIndex,
          at: event.at,
          kind: event.usage,
          feature: event.feature,
          version: event.version,
          user: event.user,
          host: event.host,
          clientId: event.clientId,
          count: event.count,
          leaseId: event.leaseId,
          waitedMs: event.waitedMs,
          code: event.code,
          reason: event.reason,
        };
        this.deps.usage.record(row);
        if (this.deps.observers.usage.active) this.usageQueue.push(row);
      } else {
        this.eventQueue.push(event);
      }
    }
  }

  /** After a Ready's entries are applied: schedules the delivery and the next usage flush. */
  afterApply(): void {
    if ((this.eventQueue.length > 0 || this.usageQueue.length > 0) && !this.deliveryScheduled) {
      this.deliveryScheduled = true;
      setImmediate(() => this.deliver());
    }
    if (this.deps.usage.pendingCount > 0 && this.usageTimer === undefined) {
      this.usageTimer = setTimeout(() => {
        this.usageTimer = undefined;
        if (!this.closed) this.deps.usage.flush();
      }, USAGE_FLUSH_MS);
      this.usageTimer.unref();
    }
  }

  /** Stops the flush timer (the node flushes what is buffered as it closes). */
  close(): void {
    this.closed = true;
    if (this.usageTimer !== undefined) clearTimeout(this.usageTimer);
  }

  private deliver(): void {
    this.deliveryScheduled = false;
    const events = this.eventQueue;
    this.eventQueue = [];
    const rows = this.usageQueue;
    this.usageQueue = [];
    if (rows.length > 0) this.deps.observers.usage.emit(rows);
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.deps.log(`event listener failed: ${(error as Error).message}`);
        }
      }
    }
  }
}

// The live events of GET /api/v1/events (server-sent events), shared by
// every subscriber of one node. Sources: the usage rows of applied entries
// (checkouts, lease ends, denials), the pool's queue pushes and leadership
// changes. Events are batched: at most every EVENTS_FLUSH_MS the hub
// serializes what happened once (one chunk of SSE messages, plus a `pools`
// snapshot when seats moved) and writes the same bytes to every subscriber,
// so ten console viewers cost little more than one. A subscriber still busy
// with the previous chunk skips this one and gets a `gap` event and a fresh
// `pools` snapshot when it is free again. With no subscriber the hub
// listens to nothing.
import type { FloeNode } from '../../daemon/node/index.ts';
import type { UsageRow } from '../../daemon/storage/index.ts';

/** `ms` between two flushes, at most: a checkout shows in a console well within a second. */
export const EVENTS_FLUSH_MS = 200;
/** Individual events in one flush, at most; beyond it they are counted in a `dropped` event (pools still update). */
export const EVENTS_PER_FLUSH_MAX = 500;
/** Subscribers of one node at once; beyond it GET /events answers 503. */
export const EVENT_SUBSCRIBERS_MAX = 100;
/** `ms` between keep-alive comments on an idle stream (proxies close silent connections). */
export const EVENTS_KEEPALIVE_MS = 15_000;

/** How a lease end's usage kind reads in a `checkin` event. */
const END_REASON_OF_KIND: Readonly<Record<string, string>> = { checkin: 'normal', expiry: 'expiry', 'force-checkin': 'forced' };

/** One subscriber: where its bytes go. */
export interface EventSink {
  /** Writes one chunk; resolves once the connection took it. */
  write(chunk: Uint8Array): Promise<unknown>;
}

interface Subscriber {
  readonly sink: EventSink;
  busy: boolean;
  /** A chunk was skipped while busy: send `gap` and a fresh `pools` next. */
  missed: boolean;
}

const encoder = new TextEncoder();

/** One SSE message: `event`, JSON `data`, optional `id`. */
function message(event: string, data: unknown, id?: number): string {
  return `event: ${event}\n${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

/** The live events of one node. */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private pending: string[] = [];
  private dropped = 0;
  private poolsChanged = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private detach: (() => void)[] = [];

  constructor(private readonly node: FloeNode) {}

  /** Subscribers now. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Adds a subscriber: it gets a `pools` snapshot at once, then every flush.
   * Answers the unsubscribe, or undefined when EVENT_SUBSCRIBERS_MAX are connected.
   */
  subscribe(sink: EventSink): (() => void) | undefined {
    if (this.subscribers.size >= EVENT_SUBSCRIBERS_MAX) return undefined;
    if (this.subscribers.size === 0) this.attach();
    const sub: Subscriber = { sink, busy: false, missed: false };
    this.subscribers.add(sub);
    this.send(sub, encoder.encode(this.poolsMessage()));
    return () => {
      if (!this.subscribers.delete(sub)) return;
      if (this.subscribers.size === 0) this.stop();
    };
  }

  /** Drops every subscriber and stops listening. */
  close(): void {
    this.subscribers.clear();
    this.stop();
  }

  private attach(): void {
    const node = this.node;
    this.detach = [
      node.observers.usage.add((rows) => this.onUsage(rows)),
      node.onEvent((event) => {
        if (event.kind === 'queue') this.push('queue', { feature: event.feature, version: event.version, requestId: event.requestId, position: event.position });
        else if (event.kind === 'dequeued') this.push('queue', { feature: event.feature, version: event.version, requestId: event.requestId, position: null, reason: event.reason });
      }),
      node.onLeadership((state) => {
        this.push('leader', { leaderId: state.leaderId, role: state.role, nodeId: node.config.nodeId, term: node.status().term });
        this.poolsChanged = true;
      }),
    ];
    this.keepaliveTimer = setInterval(() => this.broadcast(encoder.encode(': keep-alive\n\n'), false), EVENTS_KEEPALIVE_MS);
    this.keepaliveTimer.unref();
  }

  private stop(): void {
    for (const off of this.detach.splice(0)) off();
    if (this.keepaliveTimer !== undefined) clearInterval(this.keepaliveTimer);
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.keepaliveTimer = undefined;
    this.flushTimer = undefined;
    this.pending = [];
    this.dropped = 0;
    this.poolsChanged = false;
  }

  private onUsage(rows: readonly UsageRow[]): void {
    for (const r of rows) {
      const who = { at: r.at, feature: r.feature, version: r.version, user: r.user, host: r.host };
      if (r.kind === 'checkout') this.push('checkout', { ...who, count: r.count, leaseId: r.leaseId }, r.logIndex);
      else if (r.kind === 'denial') this.push('denial', { ...who, code: r.code }, r.logIndex);
      else if (r.kind === 'revoke' || END_REASON_OF_KIND[r.kind] !== undefined) {
        const reason = r.kind === 'revoke' ? r.reason || 'revoked' : END_REASON_OF_KIND[r.kind]!;
        this.push('checkin', { ...who, count: r.count, leaseId: r.leaseId, reason, detail: r.kind === 'force-checkin' ? r.reason : '' }, r.logIndex);
      } else if (r.kind === 'queue-wait') this.push('queue', { feature: r.feature, version: r.version, user: r.user, host: r.host, position: null, waitedMs: r.waitedMs }, r.logIndex);
      else continue;
      this.poolsChanged = true;
    }
  }

  private push(event: string, data: unknown, id?: number): void {
    if (this.pending.length >= EVENTS_PER_FLUSH_MAX) this.dropped++;
    else this.pending.push(message(event, data, id));
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => this.flush(), EVENTS_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  private poolsMessage(): string {
    const s = this.node.status();
    return message('pools', { nodeId: s.nodeId, role: s.role, leaderId: s.leaderId, appliedIndex: s.appliedIndex, lagEntries: s.commitIndex - s.appliedIndex, pools: this.node.pools() });
  }

  private flush(): void {
    this.flushTimer = undefined;
    let text = this.pending.join('');
    if (this.dropped > 0) text += message('dropped', { count: this.dropped, reason: `more than ${EVENTS_PER_FLUSH_MAX} events in ${EVENTS_FLUSH_MS} ms` });
    if (this.poolsChanged) text += this.poolsMessage();
    this.pending = [];
    this.dropped = 0;
    this.poolsChanged = false;
    if (text !== '') this.broadcast(encoder.encode(text));
  }

  /** Writes `chunk` to every subscriber not busy; `counts`: a busy one has missed something (a keep-alive is not). */
  private broadcast(chunk: Uint8Array, counts = true): void {
    for (const sub of this.subscribers) {
      if (!sub.busy) this.send(sub, chunk);
      else if (counts) sub.missed = true;
    }
  }

  private send(sub: Subscriber, chunk: Uint8Array): void {
    sub.busy = true;
    sub.sink.write(chunk).then(
      () => {
        sub.busy = false;
        if (sub.missed && this.subscribers.has(sub)) {
          sub.missed = false;
          this.send(sub, encoder.encode(message('gap', { reason: 'this connection fell behind; some events were skipped' }) + this.poolsMessage()));
        }
      },
      () => this.subscribers.delete(sub),
    );
  }
}

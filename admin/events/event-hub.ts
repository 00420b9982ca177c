// The live events of GET /api/v1/events (server-sent events), shared by
// every subscriber of one node. Sources: the usage rows of applied entries
// (checkouts, lease ends, denials), the pool's queue pushes and leadership
// changes.
//
// What it costs a node is bounded whatever the request rate (issue 15: ten
// console viewers at 100 clients cost ≤ 5 % extra CPU):
// - Events are batched: at most every EVENTS_FLUSH_MS the hub serialises
//   what happened once (one chunk of SSE messages) and writes the same bytes
//   to every subscriber, so ten viewers cost little more than one.
// - Pool changes are coalesced per pool: a flush carries one `pools` message
//   with the latest figures of the pools that changed since the previous one
//   (all of them for a new subscriber, after a gap or a leadership change),
//   however many checkouts moved them; the last state is always sent.
// - Individual events are for a person watching: at most
//   EVENTS_PER_FLUSH_MAX per flush, the rest only counted (a `dropped`
//   event) and never serialised. The complete record is the usage log
//   (GET /usage, the reports).
// A subscriber still busy with the previous chunk skips this one and gets a
// `gap` event and a full `pools` message when it is free again. With no
// subscriber the hub listens to nothing.
import type { ClientEvent, NodeStatus } from '../../daemon/node/index.ts';
import type { PoolView } from '../../daemon/pool/index.ts';
import type { UsageRow } from '../../daemon/storage/index.ts';
import { ChangedPools } from './changed-pools.ts';

/** `ms` between two flushes, at least, and from a change to its flush, at most: a checkout shows in a console well within a second. */
export const EVENTS_FLUSH_MS = 250;
/** Individual events in one flush, at most; beyond it they are counted in a `dropped` event (pools still update). */
export const EVENTS_PER_FLUSH_MAX = 50;
/** Subscribers of one node at once; beyond it GET /events answers 503. */
export const EVENT_SUBSCRIBERS_MAX = 100;
/** `ms` between keep-alive comments on an idle stream (proxies close silent connections). */
export const EVENTS_KEEPALIVE_MS = 15_000;

/** How a lease end's usage kind reads in a `checkin` event. */
const END_REASON_OF_KIND: Readonly<Record<string, string>> = { checkin: 'normal', expiry: 'expiry', 'force-checkin': 'forced' };

/** The event a usage row of each kind is shown as; rows of other kinds are not shown. */
const EVENT_OF_KIND: Readonly<Record<string, string>> = { checkout: 'checkout', denial: 'denial', revoke: 'checkin', checkin: 'checkin', expiry: 'checkin', 'force-checkin': 'checkin', 'queue-wait': 'queue' };

/** What the hub reads of a node (a FloeNode; a stand-in in tests). */
export interface EventHubNode {
  readonly observers: { readonly usage: { add(listener: (rows: readonly UsageRow[]) => void): () => void } };
  onEvent(listener: (event: ClientEvent) => void): () => void;
  onLeadership(listener: (state: { readonly leaderId: string; readonly role: string }) => void): () => void;
  status(): Pick<NodeStatus, 'nodeId' | 'role' | 'leaderId' | 'term' | 'commitIndex' | 'appliedIndex'>;
  pools(): readonly PoolView[];
}

/** One subscriber: where its bytes go. */
export interface EventSink {
  /** Writes one chunk; resolves once the connection took it. */
  write(chunk: Uint8Array): Promise<unknown>;
}

interface Subscriber {
  readonly sink: EventSink;
  busy: boolean;
  /** A chunk was skipped while busy: send `gap` and a full `pools` next. */
  missed: boolean;
  /** It was sent a full `pools` between flushes: the next flush's changes are counted from an older state, so it gets the full list again. */
  fullNext: boolean;
}

const encoder = new TextEncoder();

/** One SSE message: `event`, JSON `data` (already serialised), optional `id`. */
function messageOfJson(event: string, json: string, id?: number): string {
  return `event: ${event}\n${id !== undefined ? `id: ${id}\n` : ''}data: ${json}\n\n`;
}

/** One SSE message: `event`, `data` serialised as JSON, optional `id`. */
function message(event: string, data: unknown, id?: number): string {
  return messageOfJson(event, JSON.stringify(data), id);
}

/** The live events of one node. */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  /** Serialised messages of this flush; at most EVENTS_PER_FLUSH_MAX, plus leadership changes. */
  private pending: string[] = [];
  /** Events not sent in this flush, by event name. */
  private dropped = new Map<string, number>();
  /** Something happened that may have moved a pool's figures since the last flush. */
  private poolsDirty = false;
  private readonly changedPools = new ChangedPools();
  private flushTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private detach: (() => void)[] = [];

  constructor(private readonly node: EventHubNode) {}

  /** Subscribers now. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Adds a subscriber: it gets a full `pools` message at once, then every flush.
   * Answers the unsubscribe, or undefined when EVENT_SUBSCRIBERS_MAX are connected.
   */
  subscribe(sink: EventSink): (() => void) | undefined {
    if (this.subscribers.size >= EVENT_SUBSCRIBERS_MAX) return undefined;
    if (this.subscribers.size === 0) this.attach();
    const sub: Subscriber = { sink, busy: false, missed: false, fullNext: true };
    this.subscribers.add(sub);
    this.send(sub, encoder.encode(this.fullPoolsMessage()));
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
        // A queue move changes a pool's `queued`.
        if (event.kind === 'queue') this.push('queue', () => ({ feature: event.feature, version: event.version, requestId: event.requestId, position: event.position }));
        else if (event.kind === 'dequeued') this.push('queue', () => ({ feature: event.feature, version: event.version, requestId: event.requestId, position: null, reason: event.reason }));
        else return;
        this.poolsDirty = true;
      }),
      node.onLeadership((state) => {
        // Rare and what a person must see: never dropped; every viewer gets the whole list with the new role.
        this.pending.push(message('leader', { leaderId: state.leaderId, role: state.role, nodeId: node.status().nodeId, term: node.status().term }));
        this.changedPools.forceFull();
        this.poolsDirty = true;
        this.schedule();
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
    this.dropped.clear();
    this.poolsDirty = false;
    this.changedPools.forceFull();
  }

  /** The hot path at a busy site: a row beyond this flush's EVENTS_PER_FLUSH_MAX costs a count, nothing is built for it. */
  private onUsage(rows: readonly UsageRow[]): void {
    let shown = false;
    for (const r of rows) {
      const event = EVENT_OF_KIND[r.kind];
      if (event === undefined) continue;
      shown = true;
      this.poolsDirty = true;
      if (this.pending.length >= EVENTS_PER_FLUSH_MAX) this.dropped.set(event, (this.dropped.get(event) ?? 0) + 1);
      else this.pending.push(message(event, usageEventData(r), r.logIndex));
    }
    if (shown) this.schedule();
  }

  /** Queues event `event` for this flush; `data` is built and serialised only when it will be sent. */
  private push(event: string, data: () => unknown): void {
    if (this.pending.length >= EVENTS_PER_FLUSH_MAX) this.dropped.set(event, (this.dropped.get(event) ?? 0) + 1);
    else this.pending.push(message(event, data()));
    this.schedule();
  }

  private schedule(): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => this.flush(), EVENTS_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** A `pools` message of `pools` (serialised PoolViews) with this node's status. */
  private poolsMessage(pools: readonly string[], full: boolean): string {
    const s = this.node.status();
    const head = JSON.stringify({ nodeId: s.nodeId, role: s.role, leaderId: s.leaderId, appliedIndex: s.appliedIndex, lagEntries: s.commitIndex - s.appliedIndex, full });
    return messageOfJson('pools', `${head.slice(0, -1)},"pools":[${pools.join(',')}]}`);
  }

  /** A `pools` message of every pool now, for one subscriber between flushes (it gets the full list again at the next flush). */
  private fullPoolsMessage(): string {
    return this.poolsMessage(
      this.node.pools().map((p) => JSON.stringify(p)),
      true,
    );
  }

  private flush(): void {
    this.flushTimer = undefined;
    let events = this.pending.join('');
    if (this.dropped.size > 0) {
      let count = 0;
      for (const n of this.dropped.values()) count += n;
      events += message('dropped', { count, byEvent: Object.fromEntries(this.dropped), reason: `more than ${EVENTS_PER_FLUSH_MAX} events in ${EVENTS_FLUSH_MS} ms; the pools are current` });
    }
    let shared = events;
    let whole: string | undefined;
    if (this.poolsDirty) {
      const take = this.changedPools.take(this.node.pools());
      if (take.full || take.pools.length > 0) shared += this.poolsMessage(take.pools, take.full);
      whole = take.full ? shared : events + this.poolsMessage(take.all, true);
    }
    this.pending = [];
    this.dropped.clear();
    this.poolsDirty = false;
    let sharedChunk: Uint8Array | undefined;
    let wholeChunk: Uint8Array | undefined;
    for (const sub of this.subscribers) {
      if (sub.busy) {
        if (shared !== '') sub.missed = true;
      } else if (sub.fullNext && whole !== undefined) {
        sub.fullNext = false;
        this.send(sub, (wholeChunk ??= encoder.encode(whole)));
      } else if (shared !== '') {
        this.send(sub, (sharedChunk ??= encoder.encode(shared)));
      }
    }
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
          sub.fullNext = true;
          this.send(sub, encoder.encode(message('gap', { reason: 'this connection fell behind; some events were skipped' }) + this.fullPoolsMessage()));
        }
      },
      () => this.subscribers.delete(sub),
    );
  }
}

/** The `data` of the event a usage row is shown as (its kind is in EVENT_OF_KIND). */
function usageEventData(r: UsageRow): unknown {
  if (r.kind === 'queue-wait') return { feature: r.feature, version: r.version, user: r.user, host: r.host, position: null, waitedMs: r.waitedMs };
  const who = { at: r.at, feature: r.feature, version: r.version, user: r.user, host: r.host };
  if (r.kind === 'checkout') return { ...who, count: r.count, leaseId: r.leaseId };
  if (r.kind === 'denial') return { ...who, code: r.code };
  const reason = r.kind === 'revoke' ? r.reason || 'revoked' : END_REASON_OF_KIND[r.kind]!;
  return { ...who, count: r.count, leaseId: r.leaseId, reason, detail: r.kind === 'force-checkin' ? r.reason : '' };
}

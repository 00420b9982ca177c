// The event hub over a stand-in node and fake timers: however fast the pools
// move, a viewer gets a bounded number of messages whose last pools figures
// are the final ones, the same bytes as every other viewer, and only the
// pools that changed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientEvent } from '../../daemon/node/index.ts';
import type { PoolView } from '../../daemon/pool/index.ts';
import type { UsageRow } from '../../daemon/storage/index.ts';
import { EVENTS_FLUSH_MS, EVENTS_PER_FLUSH_MAX, EventHub, type EventHubNode, type EventSink } from './event-hub.ts';

type Leadership = { readonly leaderId: string; readonly role: string };

/** A node whose pools `cad` and `sim` move as the test says, with its listeners. */
function standInNode() {
  const inUse = new Map<string, number>([
    ['cad', 0],
    ['sim', 0],
  ]);
  const usage = new Set<(rows: readonly UsageRow[]) => void>();
  const leadership = new Set<(state: Leadership) => void>();
  const events = new Set<(event: ClientEvent) => void>();
  let logIndex = 0;
  const pool = (feature: string): PoolView => ({ feature, version: '1.0', model: 'concurrent', seatsTotal: 5000, seatsInUse: inUse.get(feature)!, seatsReservedIdle: 0, seatsBorrowed: 0, seatsLingering: 0, queued: 0, lingerMs: 0, users: [] });
  const node: EventHubNode = {
    observers: { usage: { add: (l) => (usage.add(l), () => usage.delete(l)) } },
    onEvent: (l) => (events.add(l), () => events.delete(l)),
    onLeadership: (l) => (leadership.add(l), () => leadership.delete(l)),
    status: () => ({ nodeId: 'n1', role: 'leader', leaderId: 'n1', term: 2, commitIndex: logIndex, appliedIndex: logIndex }),
    pools: () => [pool('cad'), pool('sim')],
  };
  return {
    node,
    /** `feature` gains a seat, as an applied checkout entry tells the observers. */
    checkout(feature: string): void {
      inUse.set(feature, inUse.get(feature)! + 1);
      logIndex++;
      const row: UsageRow = { logIndex, at: 1_000 + logIndex, kind: 'checkout', feature, version: '1.0', user: 'carol', host: 'ws-1', clientId: 'c', count: 1, leaseId: `L${logIndex}`, waitedMs: 0, code: '', reason: '' };
      for (const l of usage) l([row]);
    },
    newLeader(state: Leadership): void {
      for (const l of leadership) l(state);
    },
  };
}

interface Message {
  readonly event: string;
  readonly data: any;
}

/** A viewer: every chunk it was written, and the messages they parse to. */
function viewer(options: { hold?: boolean } = {}) {
  const chunks: Uint8Array[] = [];
  let release: (() => void) | undefined;
  const sink: EventSink = {
    write(chunk) {
      chunks.push(chunk);
      if (!options.hold) return Promise.resolve();
      return new Promise<void>((resolve) => (release = resolve));
    },
  };
  const messages = (): Message[] =>
    chunks
      .map((c) => new TextDecoder().decode(c))
      .join('')
      .split('\n\n')
      .filter((block) => block.startsWith('event: '))
      .map((block) => {
        const lines = block.split('\n');
        return { event: lines[0]!.slice('event: '.length), data: JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice('data: '.length)) };
      });
  return { sink, chunks, messages, release: () => release?.() };
}

const seatsInUse = (m: Message | undefined, feature: string): number | undefined => m?.data.pools.find((p: PoolView) => p.feature === feature)?.seatsInUse;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('EventHub', () => {
  it('sends 1,000 pool changes in 250 ms as a few messages, the last with the final count, the same bytes to every viewer', async () => {
    const site = standInNode();
    const hub = new EventHub(site.node);
    const viewers = Array.from({ length: 10 }, () => viewer());
    for (const v of viewers) hub.subscribe(v.sink);
    // Four checkouts a millisecond for 250 ms.
    for (let ms = 0; ms < 250; ms++) {
      for (let i = 0; i < 4; i++) site.checkout('cad');
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(EVENTS_FLUSH_MS * 4);

    const messages = viewers[0]!.messages();
    const pools = messages.filter((m) => m.event === 'pools');
    // The snapshot at subscribe, then one per flush: 250 ms of changes span at most two flushes.
    expect(pools.length).toBeLessThanOrEqual(3);
    expect(seatsInUse(pools.at(-1), 'cad')).toBe(1000);
    const checkouts = messages.filter((m) => m.event === 'checkout').length;
    const dropped = messages.filter((m) => m.event === 'dropped').reduce((sum, m) => sum + m.data.byEvent.checkout, 0);
    expect(checkouts).toBeLessThanOrEqual(2 * EVENTS_PER_FLUSH_MAX);
    expect(checkouts + dropped).toBe(1000);
    // 1,000 checkouts cost a viewer a few kilobytes, not one message each.
    expect(viewers[0]!.chunks.reduce((sum, c) => sum + c.byteLength, 0)).toBeLessThan(2 * EVENTS_PER_FLUSH_MAX * 250);
    // Serialised once per flush: every viewer was written the very same chunks.
    const flushed = viewers[0]!.chunks.slice(1);
    expect(flushed.length).toBeGreaterThan(0);
    for (const v of viewers.slice(1)) {
      expect(v.chunks).toHaveLength(flushed.length + 1);
      v.chunks.slice(1).forEach((c, i) => expect(c).toBe(flushed[i]));
    }
    hub.close();
  });

  it('shows a single checkout within one flush interval', async () => {
    const site = standInNode();
    const hub = new EventHub(site.node);
    const v = viewer();
    hub.subscribe(v.sink);
    site.checkout('sim');
    await vi.advanceTimersByTimeAsync(EVENTS_FLUSH_MS);
    expect(v.messages().map((m) => m.event)).toEqual(['pools', 'checkout', 'pools']);
    expect(seatsInUse(v.messages().at(-1), 'sim')).toBe(1);
    hub.close();
  });

  it('lists every pool at first and after a leadership change, otherwise only the pools that changed', async () => {
    const site = standInNode();
    const hub = new EventHub(site.node);
    const v = viewer();
    hub.subscribe(v.sink);
    // A change to count from first, so the new viewer's first flush is the full list again.
    site.checkout('sim');
    await vi.advanceTimersByTimeAsync(EVENTS_FLUSH_MS);
    site.checkout('cad');
    await vi.advanceTimersByTimeAsync(EVENTS_FLUSH_MS);
    site.newLeader({ leaderId: 'n2', role: 'follower' });
    await vi.advanceTimersByTimeAsync(EVENTS_FLUSH_MS);
    const pools = v.messages().filter((m) => m.event === 'pools');
    expect(pools.map((m) => [m.data.full, m.data.pools.map((p: PoolView) => p.feature)])).toEqual([
      [true, ['cad', 'sim']],
      [true, ['cad', 'sim']],
      [false, ['cad']],
      [true, ['cad', 'sim']],
    ]);
    expect(v.messages().find((m) => m.event === 'leader')?.data).toMatchObject({ leaderId: 'n2', role: 'follower' });
    hub.close();
  });

  it('gives a viewer that fell behind a gap and the whole current list, then the changes', async () => {
    const site = standInNode();
    const hub = new EventHub(site.node);
    const slow = viewer({ hold: true });
    hub.subscribe(slow.sink);
    for (let i = 0; i < 3; i++) site.checkout('cad');
    await vi.advanceTimersByTimeAsync(EVENTS_FLUSH_MS);
    expect(slow.chunks).toHaveLength(1);
    slow.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(slow.messages().slice(1).map((m) => m.event)).toEqual(['gap', 'pools']);
    expect(slow.messages().at(-1)?.data).toMatchObject({ full: true });
    expect(seatsInUse(slow.messages().at(-1), 'cad')).toBe(3);
    slow.release();
    site.checkout('cad');
    await vi.advanceTimersByTimeAsync(EVENTS_FLUSH_MS);
    expect(seatsInUse(slow.messages().at(-1), 'cad')).toBe(4);
    hub.close();
  });
});

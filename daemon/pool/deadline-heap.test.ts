import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap, type DeadlineItem } from './deadline-heap.ts';

interface Item extends DeadlineItem {
  readonly name: string;
}

function item(seq: number, deadlineMs: number): Item {
  return { name: `i${seq}`, seq, deadlineMs, heapStamp: 0, heapKeyMs: deadlineMs };
}

/** Pops every live item, earliest first, as peek+remove would in expiry. */
function drain(heap: DeadlineHeap<Item>): Item[] {
  const out: Item[] = [];
  for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
    heap.remove(top);
    out.push(top);
  }
  return out;
}

function byDeadlineThenSeq(a: Item, b: Item): number {
  return a.deadlineMs - b.deadlineMs || a.seq - b.seq;
}

describe('deadline heap', () => {
  it('hands out items earliest deadline first, ties in seq order', () => {
    const heap = new DeadlineHeap<Item>();
    const items = [item(3, 500), item(1, 500), item(2, 100), item(4, 900)];
    for (const i of items) heap.push(i);
    expect(heap.size).toBe(4);
    expect(drain(heap).map((i) => i.name)).toEqual(['i2', 'i1', 'i3', 'i4']);
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
  });

  it('a removed item never comes out again and is no longer counted', () => {
    const heap = new DeadlineHeap<Item>();
    const a = item(1, 100);
    const b = item(2, 200);
    heap.push(a);
    heap.push(b);
    heap.remove(a);
    expect(heap.size).toBe(1);
    expect(heap.values()).toEqual([b]);
    expect(heap.peek()).toBe(b);
    expect(heap.check('test')).toEqual([]);
  });

  it('a deadline moved later or earlier reorders the item', () => {
    const heap = new DeadlineHeap<Item>();
    const a = item(1, 100);
    const b = item(2, 200);
    const c = item(3, 300);
    for (const i of [a, b, c]) heap.push(i);
    a.deadlineMs = 1_000; // renewed: later
    heap.update(a);
    c.deadlineMs = 50; // moved earlier
    heap.update(c);
    expect(heap.check('test')).toEqual([]);
    expect(drain(heap)).toEqual([c, b, a]);
  });

  it('refileAll() after many deadlines moved later hands them out in the new order, no stale entry left', () => {
    const heap = new DeadlineHeap<Item>();
    const items = Array.from({ length: 200 }, (_, i) => item(i + 1, 1_000 + ((i * 37) % 200)));
    for (const i of items) heap.push(i);
    const removed = items.filter((_, i) => i % 7 === 0);
    for (const i of removed) heap.remove(i);
    // A grace: every deadline before 1,150 moves to 1,150 (later), as the pool's grace command does.
    for (const i of items) if (i.deadlineMs < 1_150) i.deadlineMs = 1_150;
    heap.refileAll();
    expect(heap.check('test')).toEqual([]);
    expect(heap.size).toBe(items.length - removed.length);
    expect(drain(heap)).toEqual(items.filter((i) => !removed.includes(i)).sort(byDeadlineThenSeq));
  });

  it('removing an item that is in no heap throws an assert and leaves the count alone', () => {
    const heap = new DeadlineHeap<Item>();
    const inside = item(1, 100);
    const absent = item(2, 200);
    heap.push(inside);
    expect(() => heap.remove(absent)).toThrow(/^assert: /);
    heap.remove(inside);
    expect(() => heap.remove(inside)).toThrow(/^assert: /);
    expect(heap.size).toBe(0);
    expect(heap.check('test')).toEqual([]);
  });

  it('pushing an item twice, updating an absent one or a NaN deadline throws an assert', () => {
    const heap = new DeadlineHeap<Item>();
    const a = item(1, 100);
    heap.push(a);
    expect(() => heap.push(a)).toThrow(/^assert: /);
    const absent = item(2, 200);
    absent.deadlineMs = 10;
    expect(() => heap.update(absent)).toThrow(/^assert: /);
    expect(() => heap.push(item(3, Number.NaN))).toThrow(/^assert: /);
    expect(heap.size).toBe(1);
    expect(heap.check('test')).toEqual([]);
  });

  it('agrees with a sorted array under any sequence of push, remove, update and pop', () => {
    type Op =
      | { readonly type: 'push'; readonly deadlineMs: number }
      | { readonly type: 'remove'; readonly pick: number }
      | { readonly type: 'update'; readonly pick: number; readonly deadlineMs: number }
      | { readonly type: 'pop' };
    // Few distinct deadlines, so ties on deadlineMs (broken by seq) are common.
    const deadlineMs = fc.integer({ min: 0, max: 40 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ type: fc.constant('push' as const), deadlineMs }) },
      { weight: 2, arbitrary: fc.record({ type: fc.constant('remove' as const), pick: fc.nat() }) },
      { weight: 3, arbitrary: fc.record({ type: fc.constant('update' as const), pick: fc.nat(), deadlineMs }) },
      { weight: 1, arbitrary: fc.constant({ type: 'pop' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const heap = new DeadlineHeap<Item>();
        const model: Item[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.type === 'push') {
            const i = item(++seq, o.deadlineMs);
            heap.push(i);
            model.push(i);
          } else if (o.type === 'pop') {
            model.sort(byDeadlineThenSeq);
            const top = heap.peek();
            expect(top).toBe(model[0]);
            if (top !== undefined) {
              heap.remove(top);
              model.shift();
            }
          } else if (model.length > 0) {
            const k = o.pick % model.length;
            const i = model[k] as Item;
            if (o.type === 'remove') {
              heap.remove(i);
              model.splice(k, 1);
            } else {
              i.deadlineMs = o.deadlineMs;
              heap.update(i);
            }
          }
          expect(heap.size).toBe(model.length);
        }
        expect(heap.check('test')).toEqual([]);
        expect(drain(heap)).toEqual([...model].sort(byDeadlineThenSeq));
      }),
      { numRuns: 300 },
    );
  });
});

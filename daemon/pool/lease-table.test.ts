import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/seeded-random.test-support.ts';
import { LeaseTable, parseLeaseSeq, removeHeldLease, type IndexedLease } from './lease-table.ts';

interface L extends IndexedLease {
  readonly id: string;
}

function lease(seq: number): L {
  return { id: `L${seq}`, seq, inTable: false };
}

describe('lease indexes', () => {
  it('a lease id is found only in the exact form the pool hands out', () => {
    expect(parseLeaseSeq('L1')).toBe(1);
    expect(parseLeaseSeq('L123456789012345')).toBe(123456789012345);
    for (const id of ['', 'L', 'L0', 'L012', 'l12', 'L1a', 'L-1', 'L1.5', ' L1', 'L1234567890123456']) expect(parseLeaseSeq(id)).toBe(0);
  });

  it('the lease table finds, forgets and lists leases in grant order exactly as a Map would, under heavy churn', () => {
    const table = new LeaseTable<L>();
    const map = new Map<string, L>();
    const random = seededRandom(7);
    const rand = (n: number): number => Math.floor(random() * n);
    let next = 1;
    const live: L[] = [];
    for (let step = 0; step < 20_000; step++) {
      if (map.size === 0 || rand(3) !== 0 || (step > 10_000 && rand(2) === 0)) {
        // Seqs with gaps, as sessions and waiters take numbers too.
        const l = lease(next);
        next += 1 + rand(3);
        table.add(l);
        map.set(l.id, l);
        live.push(l);
      } else {
        const k = rand(live.length);
        const l = live[k] as L;
        live[k] = live[live.length - 1] as L;
        live.pop();
        table.delete(l);
        map.delete(l.id);
      }
      if (step % 997 === 0) {
        expect([...table.values()].map((l) => l.id)).toEqual([...map.keys()]);
        let wrong = 0;
        for (let s = 1; s < next; s++) if (table.get(`L${s}`) !== map.get(`L${s}`)) wrong++;
        expect(wrong).toBe(0);
      }
      if (table.size !== map.size) expect(table.size).toBe(map.size);
    }
  });

  it('a session lists its leases oldest first, whichever is taken out', () => {
    const list: L[] = [];
    const ls = [1, 2, 3, 4].map(lease);
    for (const l of ls) list.push(l);
    removeHeldLease(list, ls[0] as L);
    removeHeldLease(list, ls[2] as L);
    expect(list.map((l) => l.seq)).toEqual([2, 4]);
    removeHeldLease(list, ls[3] as L);
    list.push(lease(5));
    expect(list.map((l) => l.seq)).toEqual([2, 5]);
    removeHeldLease(list, ls[1] as L);
    removeHeldLease(list, list[0] as L);
    expect(list).toEqual([]);
  });

  it('deleting a lease that is not in the table throws an assert instead of probing forever', () => {
    const table = new LeaseTable<L>();
    const held = lease(1);
    table.add(held);
    expect(() => table.delete(lease(2))).toThrow(/^assert: /);
    // Flagged as in a table, but another table's: still refused, nothing changed.
    const elsewhere = lease(3);
    new LeaseTable<L>().add(elsewhere);
    expect(() => table.delete(elsewhere)).toThrow(/^assert: /);
    expect(table.size).toBe(1);
    expect(table.get('L1')).toBe(held);
  });

  it('adding a lease twice, or a second lease with the same seq, throws an assert', () => {
    const table = new LeaseTable<L>();
    const first = lease(7);
    table.add(first);
    expect(() => table.add(first)).toThrow(/^assert: /);
    expect(() => table.add(lease(7))).toThrow(/^assert: /);
    expect(() => table.add(lease(0))).toThrow(/^assert: /);
    expect(table.size).toBe(1);
    expect(table.toArray()).toEqual([first]);
  });

  it('taking a lease out of a session that does not hold it throws an assert', () => {
    const list = [lease(1), lease(2)];
    expect(() => removeHeldLease(list, lease(3))).toThrow(/^assert: /);
    expect(() => removeHeldLease([], lease(1))).toThrow(/^assert: /);
    expect(list.map((l) => l.seq)).toEqual([1, 2]);
  });
});

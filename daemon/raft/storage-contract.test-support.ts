// The storage contract: what every WritableStorage (MemoryStorage, the
// daemon's SQLite storage) must do for the Raft core to stay correct. Call
// storageContract() from a *.test.ts beside an implementation.
import { describe, expect, it } from 'vitest';
import { StorageError, type Entry, type WritableStorage } from './types.ts';

function entry(index: number, term: number, text = ''): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) };
}

function range(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i < hi; i++) out.push(entry(i, term, `e${i}`));
  return out;
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (error: unknown) {
    if (error instanceof StorageError) return error.code;
    return 'OTHER';
  }
  return 'NONE';
}

function indexes(entries: readonly Entry[]): number[] {
  return entries.map((e) => e.index);
}

/**
 * Registers the storage contract tests for one implementation.
 * `make` returns a fresh, empty storage (no snapshot, no entries, empty membership) each call.
 */
export function storageContract(name: string, make: () => WritableStorage): void {
  describe(`${name} storage contract`, () => {
    it('a fresh storage is empty: first index 1, last index 0, term(0) = 0, zero hard state', () => {
      const s = make();
      expect(s.firstIndex()).toBe(1);
      expect(s.lastIndex()).toBe(0);
      expect(s.term(0)).toBe(0);
      expect(s.initialState().hardState).toEqual({ term: 0, vote: '', commit: 0 });
      expect(s.entries(1, 1, 1000)).toEqual([]);
    });

    it('appended entries read back with their terms and data', () => {
      const s = make();
      s.append(range(1, 6, 2));
      expect(s.lastIndex()).toBe(5);
      expect(s.term(3)).toBe(2);
      const got = s.entries(2, 5, Number.MAX_SAFE_INTEGER);
      expect(indexes(got)).toEqual([2, 3, 4]);
      expect(new TextDecoder().decode(got[0]!.data)).toBe('e2');
    });

    it('an append replaces the held entries from its first index on', () => {
      const s = make();
      s.append(range(1, 6, 1));
      s.append([entry(3, 2), entry(4, 2)]);
      expect(s.lastIndex()).toBe(4);
      expect([s.term(2), s.term(3), s.term(4)]).toEqual([1, 2, 2]);
    });

    it('an append that leaves a gap after the last index is refused', () => {
      const s = make();
      s.append(range(1, 3, 1));
      expect(codeOf(() => s.append([entry(5, 1)]))).not.toBe('NONE');
    });

    it('reading past the last index fails with UNAVAILABLE', () => {
      const s = make();
      s.append(range(1, 4, 1));
      expect(codeOf(() => s.term(4))).toBe('UNAVAILABLE');
      expect(codeOf(() => s.entries(2, 6, 1000))).toBe('UNAVAILABLE');
    });

    it('entries() stops at the byte limit but always returns at least one entry', () => {
      const s = make();
      s.append(range(1, 11, 1));
      expect(indexes(s.entries(1, 11, 0))).toEqual([1]);
      const some = s.entries(1, 11, 60);
      expect(some.length).toBeGreaterThanOrEqual(1);
      expect(some.length).toBeLessThan(10);
      expect(indexes(some)).toEqual(range(1, 1 + some.length, 1).map((e) => e.index));
    });

    it('the hard state set is the hard state read back', () => {
      const s = make();
      s.setHardState({ term: 3, vote: 'n2', commit: 0 });
      s.append(range(1, 3, 3));
      s.setHardState({ term: 3, vote: 'n2', commit: 2 });
      expect(s.initialState().hardState).toEqual({ term: 3, vote: 'n2', commit: 2 });
    });

    it('a rejoining hard state reads back as rejoining, and a cleared one without the flag', () => {
      const s = make();
      s.setHardState({ term: 4, vote: '', commit: 0, rejoining: true });
      expect(s.initialState().hardState).toEqual({ term: 4, vote: '', commit: 0, rejoining: true });
      s.setHardState({ term: 4, vote: 'n1', commit: 0 });
      expect(s.initialState().hardState).toEqual({ term: 4, vote: 'n1', commit: 0 });
    });

    it('compact(i) discards entries before i and keeps the term of i as the base', () => {
      const s = make();
      s.append([...range(1, 4, 1), ...range(4, 8, 2)]);
      s.compact(4);
      expect(s.firstIndex()).toBe(5);
      expect(s.lastIndex()).toBe(7);
      expect(s.term(4)).toBe(2);
      expect(codeOf(() => s.term(3))).toBe('COMPACTED');
      expect(codeOf(() => s.entries(4, 6, 1000))).toBe('COMPACTED');
      expect(indexes(s.entries(5, 8, 1000))).toEqual([5, 6, 7]);
    });

    it('compacting an already compacted index changes nothing', () => {
      const s = make();
      s.append(range(1, 6, 1));
      s.compact(3);
      s.compact(2);
      expect(s.firstIndex()).toBe(4);
      expect(s.lastIndex()).toBe(5);
    });

    it('an append after compaction keeps working and skips compacted entries', () => {
      const s = make();
      s.append(range(1, 6, 1));
      s.compact(3);
      s.append(range(2, 8, 1));
      expect(s.firstIndex()).toBe(4);
      expect(s.lastIndex()).toBe(7);
      s.append([entry(8, 2)]);
      expect(s.term(8)).toBe(2);
    });

    it('createSnapshot records the term and membership at its index without compacting', () => {
      const s = make();
      s.append([...range(1, 3, 1), ...range(3, 6, 2)]);
      const data = new TextEncoder().encode('state');
      const snap = s.createSnapshot(4, { voters: ['a', 'b'], learners: ['c'] }, data);
      expect(snap.metadata).toEqual({ index: 4, term: 2, confState: { voters: ['a', 'b'], learners: ['c'] } });
      expect(s.snapshot().metadata.index).toBe(4);
      expect(s.snapshot().data).toEqual(data);
      expect(s.firstIndex()).toBe(1);
      expect(s.initialState().confState).toEqual({ voters: ['a', 'b'], learners: ['c'] });
    });

    it('createSnapshot past the last index is refused', () => {
      const s = make();
      s.append(range(1, 3, 1));
      expect(codeOf(() => s.createSnapshot(5, { voters: [], learners: [] }, new Uint8Array(0)))).not.toBe('NONE');
    });

    it('applySnapshot replaces the whole log with the snapshot point', () => {
      const s = make();
      s.append(range(1, 6, 1));
      s.applySnapshot({
        metadata: { index: 10, term: 4, confState: { voters: ['a', 'b', 'c'], learners: [] } },
        data: new Uint8Array([1, 2, 3]),
      });
      expect(s.firstIndex()).toBe(11);
      expect(s.lastIndex()).toBe(10);
      expect(s.term(10)).toBe(4);
      expect(codeOf(() => s.term(5))).toBe('COMPACTED');
      expect(s.snapshot().metadata.index).toBe(10);
      expect(s.initialState().confState.voters).toEqual(['a', 'b', 'c']);
      s.append([entry(11, 4)]);
      expect(s.lastIndex()).toBe(11);
    });

    it('applySnapshot inside the held log also discards the entries after it', () => {
      const s = make();
      s.append(range(1, 6, 1));
      s.applySnapshot({ metadata: { index: 3, term: 1, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
      expect(s.firstIndex()).toBe(4);
      expect(s.lastIndex()).toBe(3);
    });
  });
}

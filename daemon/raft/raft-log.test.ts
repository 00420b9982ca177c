// The log's building blocks: the unstable tail and the combined log over
// storage (conflict search, appends, slices across the stable/unstable
// boundary, commit and restore).
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from './memory-storage.ts';
import { RaftLog } from './raft-log.ts';
import { entriesWithTerms, entry } from './test-network.test-support.ts';
import { UnstableLog } from './unstable-log.ts';

function logWith(stableTerms: number[], unstableTerms: number[] = []): RaftLog {
  const storage = new MemoryStorage();
  storage.append(entriesWithTerms(stableTerms));
  const log = new RaftLog(storage);
  if (unstableTerms.length > 0) {
    log.append(unstableTerms.map((t, i) => entry(stableTerms.length + 1 + i, t)));
  }
  return log;
}

describe('UnstableLog', () => {
  it('appending at its end extends it; appending inside truncates first', () => {
    const u = new UnstableLog(5);
    u.truncateAndAppend([entry(5, 1), entry(6, 1), entry(7, 1)]);
    u.truncateAndAppend([entry(6, 2)]);
    expect([u.maybeLastIndex(), u.maybeTerm(6), u.maybeTerm(7)]).toEqual([6, 2, undefined]);
  });

  it('appending before its offset replaces it and moves the offset back', () => {
    const u = new UnstableLog(5);
    u.truncateAndAppend([entry(5, 1), entry(6, 1)]);
    u.truncateAndAppend([entry(3, 2)]);
    expect([u.offset, u.maybeLastIndex()]).toEqual([3, 3]);
  });

  it('stableTo drops entries only when the term still matches', () => {
    const u = new UnstableLog(1);
    u.truncateAndAppend([entry(1, 1), entry(2, 1)]);
    u.stableTo(2, 9);
    expect(u.entryCount()).toBe(2);
    u.stableTo(1, 1);
    expect([u.offset, u.entryCount()]).toEqual([2, 1]);
  });

  it('an entries view handed out never changes when entries are appended later', () => {
    const u = new UnstableLog(1);
    u.truncateAndAppend([entry(1, 1)]);
    const view = u.entriesView();
    u.truncateAndAppend([entry(2, 1)]);
    u.truncateAndAppend([entry(2, 2)]);
    expect(view.map((e) => e.index)).toEqual([1]);
    expect(u.entriesView().map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('a snapshot answers for its own index and becomes stable on request', () => {
    const u = new UnstableLog(1);
    u.restore({ metadata: { index: 10, term: 3, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
    expect([u.maybeFirstIndex(), u.maybeLastIndex(), u.maybeTerm(10), u.offset]).toEqual([11, 10, 3, 11]);
    u.stableSnapTo(10);
    expect(u.snapshot).toBeUndefined();
  });
});

describe('RaftLog', () => {
  it('terms come from the unstable tail first, then storage; out of range is undefined', () => {
    const log = logWith([1, 1], [2]);
    expect([log.term(0), log.term(1), log.term(3), log.term(4)]).toEqual([0, 1, 2, undefined]);
    expect([log.lastIndex(), log.lastTerm()]).toEqual([3, 2]);
  });

  it('findConflict returns the first new or mismatching entry, or 0', () => {
    const log = logWith([1, 2, 3]);
    expect(log.findConflict([entry(1, 1), entry(2, 2)])).toBe(0);
    expect(log.findConflict([entry(2, 2), entry(3, 4)])).toBe(3);
    expect(log.findConflict([entry(3, 3), entry(4, 3)])).toBe(4);
  });

  it('findConflictByTerm finds the last index whose term is at most the given term', () => {
    const log = logWith([1, 1, 3, 3, 5, 5]);
    expect(log.findConflictByTerm(6, 4)).toEqual([4, 3]);
    expect(log.findConflictByTerm(6, 2)).toEqual([2, 1]);
    expect(log.findConflictByTerm(6, 5)).toEqual([6, 5]);
    expect(log.findConflictByTerm(2, 0)).toEqual([0, 0]);
  });

  it('maybeAppend refuses a mismatching previous entry and otherwise appends and commits', () => {
    const log = logWith([1, 1, 1]);
    expect(log.maybeAppend(3, 2, 3, [entry(4, 2)])).toBeUndefined();
    expect(log.maybeAppend(3, 1, 10, [entry(4, 2)])).toBe(4);
    expect(log.committed).toBe(4);
    expect(log.maybeAppend(2, 1, 4, [])).toBe(2);
  });

  it('overwriting a committed entry is a programmer error', () => {
    const log = logWith([1, 1, 1]);
    log.commitTo(3);
    expect(() => log.maybeAppend(1, 1, 3, [entry(2, 2)])).toThrow(/committed/);
  });

  it('a slice spans storage and the unstable tail and respects the byte limit', () => {
    const log = logWith([1, 1, 1], [2, 2]);
    expect(log.slice(2, 6, Number.MAX_SAFE_INTEGER)?.map((e) => e.index)).toEqual([2, 3, 4, 5]);
    expect(log.slice(2, 6, 0)?.map((e) => e.index)).toEqual([2]);
    expect(log.slice(3, 5, 40)?.map((e) => e.index)).toEqual([3, 4]);
  });

  it('a slice from a compacted index is undefined', () => {
    const storage = new MemoryStorage();
    storage.append(entriesWithTerms([1, 1, 1, 1]));
    storage.compact(2);
    const log = new RaftLog(storage);
    expect(log.slice(2, 4, 1000)).toBeUndefined();
    expect(log.slice(3, 5, 1000)?.map((e) => e.index)).toEqual([3, 4]);
  });

  it('only an entry of the given term is committed by maybeCommit', () => {
    const log = logWith([1, 2]);
    expect(log.maybeCommit(1, 2)).toBe(false);
    expect(log.maybeCommit(2, 2)).toBe(true);
    expect(log.committed).toBe(2);
  });

  it('committed entries are handed out from applied + 1, none while a snapshot waits to be stored', () => {
    const log = logWith([1, 1, 1]);
    log.commitTo(3);
    log.appliedTo(1);
    expect(log.nextCommittedEntries(1000).map((e) => e.index)).toEqual([2, 3]);
    log.restore({ metadata: { index: 9, term: 2, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
    expect(log.hasNextCommittedEntries()).toBe(false);
    expect(log.nextCommittedEntries(1000)).toEqual([]);
    expect([log.committed, log.lastIndex(), log.firstIndex()]).toEqual([9, 9, 10]);
  });

  it('a log at least as up to date is one with a higher last term, or the same term and no shorter', () => {
    const log = logWith([1, 2, 2]);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(9, 1)).toBe(false);
  });
});

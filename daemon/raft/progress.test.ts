// Replication progress and majority arithmetic.
import { describe, expect, it } from 'vitest';
import { Progress } from './progress.ts';
import { majorityIndex, voteResult } from './quorum.ts';

describe('Progress', () => {
  it('a probing follower pauses after one append with entries and resumes on an acknowledgement', () => {
    const pr = new Progress(5, 4, 0);
    pr.sentEntries(2, 20);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(6)).toBe(true);
    expect([pr.isPaused(), pr.match, pr.next]).toEqual([false, 6, 7]);
  });

  it('a replicating follower advances next optimistically and pauses when the window is full', () => {
    const pr = new Progress(1, 2, 0);
    pr.becomeReplicate();
    pr.sentEntries(3, 30);
    pr.sentEntries(2, 20);
    expect([pr.next, pr.isPaused()]).toEqual([6, true]);
  });

  it('a stale rejection is ignored; a fresh one moves next back using the hint', () => {
    const pr = new Progress(10, 4, 0);
    expect(pr.maybeDecrTo(5, 3)).toBe(false);
    expect(pr.maybeDecrTo(9, 3)).toBe(true);
    expect(pr.next).toBe(4);
    pr.match = 2;
    pr.becomeReplicate();
    expect(pr.maybeDecrTo(2, 0)).toBe(false);
    expect(pr.maybeDecrTo(7, 0)).toBe(true);
    expect(pr.next).toBe(3);
  });

  it('leaving snapshot state resumes after the snapshot it sent', () => {
    const pr = new Progress(1, 4, 0);
    pr.becomeSnapshot(20);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect([pr.state, pr.next]).toEqual(['probe', 21]);
  });
});

describe('quorum', () => {
  it('the majority index is the highest index that a majority of voters hold', () => {
    const match: Record<string, number> = { a: 5, b: 3, c: 9, d: 1, e: 7 };
    expect(majorityIndex(['a', 'b', 'c'], (id) => match[id]!)).toBe(5);
    expect(majorityIndex(['a', 'b', 'c', 'd', 'e'], (id) => match[id]!)).toBe(5);
    expect(majorityIndex(['a', 'b', 'c', 'd'], (id) => match[id]!)).toBe(3);
    expect(majorityIndex([], () => 0)).toBe(0);
  });

  it('an election is won by a majority of grants and lost once a majority is out of reach', () => {
    const voters = ['a', 'b', 'c', 'd', 'e'];
    expect(voteResult(voters, new Map([['a', true], ['b', true], ['c', true]]))).toBe('won');
    expect(voteResult(voters, new Map([['a', true], ['b', false]]))).toBe('pending');
    expect(voteResult(voters, new Map([['a', true], ['b', false], ['c', false], ['d', false]]))).toBe('lost');
  });
});

// The Ready contract: what must be persisted travels with (or before) the
// messages that depend on it, entries stay unstable until advance(), a Ready
// never changes after it is handed out, and runs are deterministic.
import { describe, expect, it } from 'vitest';
import { TestNetwork, appMsg, drain, electLeader, entry, makeNode, processReady, voteMsg } from './test-network.test-support.ts';

const THREE = { voters: ['n1', 'n2', 'n3'], learners: [] };

describe('Ready', () => {
  it('a vote grant goes out in the same Ready as the hard state that records the vote', () => {
    const t = makeNode('n1', THREE);
    t.node.step(voteMsg('n2', 'n1', 1, 0, 0));
    const rd = t.node.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: 'n2', commit: 0 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([{ type: 'vote-resp', from: 'n1', to: 'n2', term: 1, reject: false }]);
  });

  it("a candidate's vote requests go out with the hard state of its new term and self-vote", () => {
    const t = makeNode('n1', THREE);
    t.node.campaign();
    const rd = t.node.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
    expect(rd.messages.map((m) => m.type)).toEqual(['vote', 'vote']);
  });

  it("a follower's acknowledgement goes out with the entries it acknowledges, to be synced first", () => {
    const t = makeNode('n1', THREE);
    t.node.step(appMsg('n2', 'n1', 1, 0, 0, [entry(1, 1, 'a'), entry(2, 1, 'b')]));
    const rd = t.node.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([
      { type: 'app-resp', from: 'n1', to: 'n2', term: 1, index: 2, reject: false, rejectHint: 0, logTerm: 0 },
    ]);
  });

  it('a change of commit index alone needs no sync', () => {
    const t = makeNode('n1', THREE);
    t.node.step(appMsg('n2', 'n1', 1, 0, 0, [entry(1, 1, 'a')]));
    processReady(t);
    t.node.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 1, commit: 1, commitTerm: 1, context: '' });
    const rd = t.node.ready();
    expect(rd.hardState?.commit).toBe(1);
    expect(rd.entries).toEqual([]);
    expect(rd.mustSync).toBe(false);
  });

  it('entries are handed out once: after advance() they are read back from storage', () => {
    const t = makeNode('n1', THREE);
    electLeader(t);
    t.node.propose(new TextEncoder().encode('x'));
    const rd = processReady(t);
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    expect(t.node.hasReady()).toBe(false);
    t.node.propose(new TextEncoder().encode('y'));
    expect(t.node.ready().entries.map((e) => e.index)).toEqual([3]);
  });

  it('a Ready already handed out does not change when proposals arrive before advance()', () => {
    const t = makeNode('n1', THREE);
    electLeader(t);
    t.node.propose(new TextEncoder().encode('x'));
    const rd = t.node.ready();
    const seen = rd.entries.length;
    t.node.propose(new TextEncoder().encode('y'));
    expect(rd.entries.length).toBe(seen);
    t.storage.append(rd.entries);
    t.node.advance();
    expect(t.node.ready().entries.map((e) => e.index)).toEqual([3]);
  });

  it('asking for a second Ready before advance() is a programmer error', () => {
    const t = makeNode('n1', THREE);
    t.node.campaign();
    t.node.ready();
    expect(() => t.node.ready()).toThrow(/advance/);
  });

  it('a node with nothing to do has no Ready', () => {
    const t = makeNode('n1', THREE);
    expect(t.node.hasReady()).toBe(false);
    t.node.tick();
    expect(t.node.hasReady()).toBe(false);
  });

  it('softState reports role and leader changes', () => {
    const t = makeNode('n1', THREE);
    t.node.campaign();
    expect(processReady(t).softState).toEqual({ leaderId: '', role: 'candidate' });
    t.node.step({ type: 'vote-resp', from: 'n2', to: 'n1', term: 1, reject: false });
    expect(processReady(t).softState).toEqual({ leaderId: 'n1', role: 'leader' });
  });

  it('the same seeds give the same run, message for message', () => {
    const run = () => {
      const net = new TestNetwork(['n1', 'n2', 'n3', 'n4', 'n5'], { preVote: true, checkQuorum: true });
      net.tick(undefined, 25);
      const leader = net.leader();
      if (leader !== undefined) for (let i = 0; i < 5; i++) net.propose(leader.id, `c${i}`);
      net.isolate(leader?.id ?? 'n1');
      net.tick(undefined, 30);
      return JSON.stringify(net.delivered.map((m) => [m.type, m.from, m.to, m.term]));
    };
    expect(run()).toEqual(run());
  });

  it('drain leaves a node with nothing to do', () => {
    const t = makeNode('n1', THREE);
    electLeader(t);
    drain(t);
    expect(t.node.hasReady()).toBe(false);
  });
});

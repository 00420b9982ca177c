// Pre-vote and check-quorum: a node cut off from the cluster must not disrupt
// it when it returns, and a leader cut off from a majority must step down.
import { describe, expect, it } from 'vitest';
import { TestNetwork, drain, makeNode, voteMsg } from './test-network.test-support.ts';

const THREE = { voters: ['n1', 'n2', 'n3'], learners: [] };

describe('pre-vote', () => {
  it('a partitioned node with pre-vote does not raise its term, so the leader survives its return', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { preVote: true });
    net.campaign('n1');
    const term = net.get('n1').node.status().term;
    net.isolate('n3');
    net.tick('n3', 100);
    expect(net.get('n3').node.status().term).toBe(term);
    expect(net.get('n3').node.status().role).toBe('pre-candidate');
    net.heal();
    net.tick('n1', 2);
    expect(net.leader()?.id).toBe('n1');
    expect(net.get('n1').node.status().term).toBe(term);
    expect(net.get('n3').node.status()).toMatchObject({ role: 'follower', leaderId: 'n1' });
  });

  it('without pre-vote the same partitioned node forces a new election when it returns', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    const term = net.get('n1').node.status().term;
    net.isolate('n3');
    net.tick('n3', 100);
    net.heal();
    net.tick(undefined, 30);
    expect(net.get('n1').node.status().term).toBeGreaterThan(term);
  });

  it('a pre-candidate that wins a majority of pre-votes campaigns for real in the next term', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { preVote: true });
    net.campaign('n1');
    expect(net.get('n1').node.status()).toMatchObject({ role: 'leader', term: 1 });
    const types = net.delivered.map((m) => m.type);
    expect(types.indexOf('pre-vote')).toBeLessThan(types.indexOf('vote'));
  });

  it('a pre-vote request changes neither the voter\'s term nor its vote', () => {
    const t = makeNode('n1', THREE, { preVote: true }, (s) => s.setHardState({ term: 2, vote: '', commit: 0 }));
    t.node.step(voteMsg('n2', 'n1', 3, 0, 0, 'pre-vote'));
    const out = drain(t);
    expect(out).toEqual([{ type: 'pre-vote-resp', from: 'n1', to: 'n2', term: 3, reject: false }]);
    expect(t.node.status()).toMatchObject({ term: 2, vote: '' });
  });

  it('a pre-candidate whose log is behind loses the pre-vote and nobody changes term', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { preVote: true });
    net.campaign('n1');
    net.isolate('n3');
    net.propose('n1', 'x');
    net.heal();
    net.isolate('n1');
    net.get('n3').node.campaign();
    net.settle();
    expect(net.get('n3').node.status()).toMatchObject({ role: 'pre-candidate', term: 1 });
    expect(net.get('n2').node.status().term).toBe(1);
  });
});

describe('check-quorum', () => {
  it('a leader that hears from no majority within an election timeout steps down', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { checkQuorum: true });
    net.campaign('n1');
    net.isolate('n1');
    net.tick('n1', 9);
    expect(net.get('n1').node.status().role).toBe('leader');
    net.tick('n1', 11);
    expect(net.get('n1').node.status().role).toBe('follower');
  });

  it('a leader that hears from a majority stays leader', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { checkQuorum: true });
    net.campaign('n1');
    net.isolate('n3');
    net.tick('n1', 50);
    expect(net.get('n1').node.status().role).toBe('leader');
  });

  it('a follower with a live leader ignores a vote request inside the lease', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { checkQuorum: true });
    net.campaign('n1');
    const n2 = net.get('n2');
    n2.node.step(voteMsg('n3', 'n2', 5, 100, 5));
    expect(drain(n2)).toEqual([]);
    expect(n2.node.status()).toMatchObject({ term: 1, leaderId: 'n1' });
  });

  it('a follower inside the lease still grants a vote request marked as a leadership transfer', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { checkQuorum: true });
    net.campaign('n1');
    const n2 = net.get('n2');
    n2.node.step(voteMsg('n3', 'n2', 5, 100, 5, 'vote', true));
    const out = drain(n2);
    expect(out).toEqual([{ type: 'vote-resp', from: 'n2', to: 'n3', term: 5, reject: false }]);
  });

  it('a follower whose lease has expired grants a vote request again', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { checkQuorum: true });
    net.campaign('n1');
    net.isolate('n2');
    const n2 = net.get('n2');
    for (let i = 0; i < 10; i++) n2.node.tick();
    drain(n2);
    n2.node.step(voteMsg('n3', 'n2', 5, 100, 5));
    expect(drain(n2).some((m) => m.type === 'vote-resp' && !m.reject)).toBe(true);
  });

  it('a deposed leader that returns from a partition learns the new term from any reply and steps down', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { checkQuorum: true, preVote: true });
    net.campaign('n1');
    net.isolate('n1');
    net.tickSome(['n2', 'n3'], 30);
    const newLeader = net.leader();
    expect(newLeader !== undefined && newLeader.id !== 'n1').toBe(true);
    net.heal();
    net.get('n1').node.propose(new Uint8Array([1]));
    net.settle();
    expect(net.get('n1').node.status().role).toBe('follower');
    expect(net.get('n1').node.status().term).toBe(newLeader!.node.status().term);
  });
});

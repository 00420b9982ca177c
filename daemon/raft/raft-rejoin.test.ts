// Storage that went backwards (DESIGN.md "Storage that went backwards"):
// Raft's safety assumes a member never loses what it acknowledged. A member
// whose disk was wiped, or had an older copy put back, learns it from the
// leader's commit index (which a leader never sends beyond what the member
// acknowledged), stops voting and campaigning, and votes again only once the
// leader confirms it holds the leader's log. The leader forgets a match its
// follower no longer holds. One test per claim, in the manner of
// raft-paper.test.ts.
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from './memory-storage.ts';
import { Progress } from './progress.ts';
import {
  TestNetwork,
  appResp,
  drain,
  electLeader,
  entry,
  heartbeatMsg,
  makeNode,
  texts,
  voteMsg,
} from './test-network.test-support.ts';
import type { Message } from './types.ts';

const THREE = { voters: ['n1', 'n2', 'n3'], learners: [] };

function ofType<T extends Message['type']>(messages: readonly Message[], type: T): (Message & { type: T })[] {
  return messages.filter((m): m is Message & { type: T } => m.type === type);
}

/** n1 leads n2, n3; every node holds `count` committed entries. */
function clusterWithEntries(count: number): TestNetwork {
  const net = new TestNetwork(['n1', 'n2', 'n3']);
  net.campaign('n1');
  for (let i = 0; i < count; i++) net.propose('n1', `e${i}`);
  return net;
}

describe('progress: a follower that no longer holds what it acknowledged', () => {
  it('forgetMatch drops the match to 0 and probes again from the given index', () => {
    const pr = new Progress(1, 4, 0);
    pr.maybeUpdate(10);
    pr.becomeReplicate();
    pr.forgetMatch(4);
    expect([pr.match, pr.next, pr.state, pr.isPaused()]).toEqual([0, 4, 'probe', false]);
  });

  it('the leader forgets the match of a follower whose rejection hint lies below it, and says so in its status', () => {
    const t = makeNode('n1', THREE);
    electLeader(t);
    for (let i = 0; i < 5; i++) t.node.propose(new TextEncoder().encode(`e${i}`));
    drain(t);
    const { term, lastIndex } = t.node.status();
    t.node.step(appResp('n2', 'n1', term, lastIndex));
    drain(t);
    expect(t.node.status().progress.get('n2')?.match).toBe(lastIndex);
    // n2 comes back holding only entry 2: it rejects the next probe with hint 2.
    t.node.step(appResp('n2', 'n1', term, lastIndex, true, 2, term));
    const out = drain(t);
    expect(t.node.status().progress.get('n2')).toMatchObject({ match: 0, state: 'probe' });
    // It is told the commit it vouched for, and probed again after its hint.
    expect(ofType(out, 'heartbeat').filter((m) => m.to === 'n2').map((m) => m.commit)).toEqual([t.node.status().commit]);
    expect(ofType(out, 'app').filter((m) => m.to === 'n2').map((m) => m.index)).toEqual([2]);
  });

  it('without the guard the leader ignores such a rejection, keeps the match and never probes below it (finding B1)', () => {
    const t = makeNode('n1', THREE, { rejoinGuard: false });
    electLeader(t);
    for (let i = 0; i < 5; i++) t.node.propose(new TextEncoder().encode(`e${i}`));
    drain(t);
    const { term, lastIndex } = t.node.status();
    t.node.step(appResp('n2', 'n1', term, lastIndex));
    drain(t);
    t.node.step(appResp('n2', 'n1', term, lastIndex, true, 2, term));
    drain(t);
    expect(t.node.status().progress.get('n2')?.match).toBe(lastIndex);
  });
});

describe('a follower whose storage went backwards', () => {
  it('a heartbeat whose commit lies beyond the follower\'s log makes it rejoin: it claims what it holds instead of answering, and stops voting', () => {
    const t = makeNode('n2', THREE);
    t.node.step(heartbeatMsg('n1', 'n2', 3, 7));
    const out = drain(t);
    expect(t.node.status()).toMatchObject({ rejoining: true, term: 3, commit: 0 });
    expect(out).toEqual([{ type: 'rejoin', from: 'n2', to: 'n1', term: 3, index: 0, logTerm: 0 }]);
    expect(t.storage.initialState().hardState).toEqual({ term: 3, vote: '', commit: 0, rejoining: true });
    t.node.step(voteMsg('n3', 'n2', 4, 9, 3));
    expect(ofType(drain(t), 'vote-resp')).toEqual([{ type: 'vote-resp', from: 'n2', to: 'n3', term: 4, reject: true }]);
    t.node.step(voteMsg('n3', 'n2', 5, 9, 3, 'pre-vote'));
    expect(ofType(drain(t), 'pre-vote-resp').map((m) => m.reject)).toEqual([true]);
  });

  it('a heartbeat whose committed entry is another one in the follower\'s log (an older copy\'s uncommitted tail) commits nothing and makes it rejoin', () => {
    // The copy holds entries 1–3 of term 1 as its own leader wrote them, uncommitted; the
    // cluster's entries 2–3 are of term 2, and the leader commits them as acknowledged before the copy went back.
    const t = makeNode('n2', THREE, {}, (s) => {
      s.append([entry(1, 1, 'a'), entry(2, 1, 'stale'), entry(3, 1, 'stale')]);
      s.setHardState({ term: 1, vote: 'n2', commit: 1 });
    });
    t.node.step(heartbeatMsg('n1', 'n2', 2, 3, '', 2));
    drain(t);
    expect(t.node.status()).toMatchObject({ rejoining: true, commit: 1 });
    expect(texts(t.applied)).toEqual(['a']);
  });

  it('a rejoining follower never campaigns, not even when told to by a leadership transfer', () => {
    const t = makeNode('n2', THREE, {}, (s) => s.setHardState({ term: 2, vote: '', commit: 0, rejoining: true }));
    for (let i = 0; i < 40; i++) t.node.tick();
    t.node.step({ type: 'timeout-now', from: 'n1', to: 'n2', term: 2 });
    expect(ofType(drain(t), 'vote')).toEqual([]);
    expect(ofType(drain(t), 'pre-vote')).toEqual([]);
    expect(t.node.status().role).toBe('follower');
  });

  it('rejoining survives a restart: it is part of the hard state', () => {
    const t = makeNode('n2', THREE);
    t.node.step(heartbeatMsg('n1', 'n2', 3, 7));
    drain(t);
    const again = makeNode('n2', THREE, {}, (s) => s.setHardState(t.storage.initialState().hardState));
    expect(again.node.status().rejoining).toBe(true);
  });

  it('a heartbeat commit within the follower\'s log changes nothing (the usual case)', () => {
    const t = makeNode('n2', THREE);
    t.node.step(heartbeatMsg('n1', 'n2', 3, 0));
    drain(t);
    expect(t.node.status().rejoining).toBe(false);
  });

  it('without the guard a commit beyond the log is ignored and the follower keeps voting', () => {
    const t = makeNode('n2', THREE, { rejoinGuard: false });
    t.node.step(heartbeatMsg('n1', 'n2', 3, 7));
    drain(t);
    expect(t.node.status().rejoining).toBe(false);
    t.node.step(voteMsg('n3', 'n2', 4, 9, 3));
    expect(ofType(drain(t), 'vote-resp').map((m) => m.reject)).toEqual([false]);
  });
});

describe('rejoining through the leader', () => {
  it('an older copy put back under a follower: it catches up, rejoins, and the leader never reports a match above its log', () => {
    const net = clusterWithEntries(3);
    const copy = net.get('n3').storage.clone();
    for (let i = 3; i < 8; i++) net.propose('n1', `e${i}`);
    const leaderLast = net.get('n1').node.status().lastIndex;
    expect(net.get('n1').node.status().progress.get('n3')?.match).toBe(leaderLast);
    // n3 stops; the copy goes back; n3 starts on it.
    const n3 = net.restart('n3', copy);
    expect(n3.node.status().lastIndex).toBeLessThan(leaderLast);
    net.tick('n1', 1);
    const seen = net.delivered.filter((m) => m.to === 'n3' || m.from === 'n3');
    expect(seen.some((m) => m.type === 'rejoin')).toBe(true);
    expect(seen.some((m) => m.type === 'rejoin-resp')).toBe(true);
    expect(n3.node.status()).toMatchObject({ rejoining: false, lastIndex: leaderLast, commit: leaderLast });
    expect(net.get('n1').node.status().progress.get('n3')).toMatchObject({ match: leaderLast, rejoining: false });
    net.propose('n1', 'after');
    expect(texts(n3.applied).at(-1)).toBe('after');
  });

  it('a wiped follower (identity kept) rejoins from the leader\'s log the same way', () => {
    const net = clusterWithEntries(4);
    const n3 = net.restart('n3', new MemoryStorage(THREE));
    net.tick('n1', 1);
    const last = net.get('n1').node.status().lastIndex;
    expect(n3.node.status()).toMatchObject({ rejoining: false, lastIndex: last });
    expect(texts(n3.applied)).toEqual(['e0', 'e1', 'e2', 'e3']);
  });

  it('the leader confirms a rejoining follower only once a majority of the OTHER voters holds an entry of its term; meanwhile its holdings commit nothing and it is handed no leadership', () => {
    const net = clusterWithEntries(2);
    net.isolate('n3');
    // n2 leads term 2 with n1's vote, but n1 gets none of term 2's entries yet.
    net.dropIf = (m) => m.type === 'app' && m.to === 'n1' && m.term === 2;
    net.campaign('n2');
    expect(net.get('n2').node.status()).toMatchObject({ role: 'leader', term: 2 });
    // n3 comes back wiped, knowing it (its identity outlived its database): it starts rejoining.
    const wiped = new MemoryStorage(THREE);
    wiped.setHardState({ term: 0, vote: '', commit: 0, rejoining: true });
    const n3 = net.restart('n3', wiped);
    net.heal();
    net.tick('n2', 3);
    // n3 holds term 2's entries, but its claims count toward no commit: they stay uncommitted…
    const leader = net.get('n2').node.status();
    expect(n3.node.status()).toMatchObject({ lastIndex: leader.lastIndex, rejoining: true });
    expect(leader.commit).toBeLessThan(leader.lastIndex);
    // …and n3 counts and votes again only once n1, a majority of the others with n2, holds an entry of term 2.
    expect(net.get('n2').node.status().progress.get('n3')?.rejoining).toBe(true);
    // Nor does the leader hand it leadership: it would not campaign.
    net.get('n2').node.transferLeadership('n3');
    net.settle();
    expect(net.get('n2').node.status().leadTransferee).toBe('');
    net.dropIf = () => false;
    net.tick('n2', 2);
    expect(n3.node.status().rejoining).toBe(false);
    expect(net.get('n2').node.status().progress.get('n3')?.rejoining).toBe(false);
    expect(net.get('n2').node.status().commit).toBe(net.get('n2').node.status().lastIndex);
  });

  it('a leader with one member dead and a new one rejoining stays leader until it confirmed the new one, then commits again (check-quorum)', () => {
    // Three members, n3 dies; n4 joins with an empty log, so it rejoins: four voters, three needed.
    const net = new TestNetwork(['n1', 'n2', 'n3', 'n4'], { checkQuorum: true });
    net.isolate('n4');
    net.campaign('n1');
    for (let i = 0; i < 3; i++) net.propose('n1', `e${i}`);
    net.isolate('n3');
    const wiped = new MemoryStorage({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    wiped.setHardState({ term: 0, vote: '', commit: 0, rejoining: true });
    const n4 = net.restart('n4', wiped);
    net.heal();
    net.isolate('n3');
    // n4 is slow to catch up (a large snapshot under load): for five election timeouts it only claims.
    net.dropIf = (m) => (m.type === 'app' || m.type === 'snap') && m.to === 'n4';
    net.tickSome(['n1', 'n2', 'n4'], 50);
    expect(net.delivered.some((m) => m.type === 'rejoin' && m.from === 'n4')).toBe(true);
    expect(net.get('n1').node.status()).toMatchObject({ role: 'leader', term: 1 });
    expect(n4.node.status().rejoining).toBe(true);
    net.dropIf = () => false;
    net.tickSome(['n1', 'n2', 'n4'], 2);
    expect(n4.node.status().rejoining).toBe(false);
    net.propose('n1', 'after');
    expect(texts(n4.applied).at(-1)).toBe('after');
    expect(texts(net.get('n2').applied).at(-1)).toBe('after');
  });

  it('a rejoined follower counts as having voted for its confirming leader in that term, and votes again in later ones', () => {
    const net = clusterWithEntries(2);
    const n3 = net.restart('n3', new MemoryStorage(THREE));
    net.tick('n1', 2);
    const { term } = net.get('n1').node.status();
    expect(n3.node.status()).toMatchObject({ rejoining: false, term, vote: 'n1' });
    const last = n3.node.status().lastIndex;
    n3.node.step(voteMsg('n2', 'n3', term, last + 5, term));
    expect(ofType(drain(n3), 'vote-resp').map((m) => m.reject)).toEqual([true]);
    n3.node.step(voteMsg('n2', 'n3', term + 1, last + 5, term));
    expect(ofType(drain(n3), 'vote-resp').map((m) => m.reject)).toEqual([false]);
  });
});

// The claims of the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", extended version), one test per claim,
// in the manner of etcd's raft_paper_test.go. Section numbers are the paper's.
import { describe, expect, it } from 'vitest';
import type { Message, Role } from './types.ts';
import {
  TestNetwork,
  appMsg,
  appResp,
  drain,
  electLeader,
  entriesWithTerms,
  entry,
  heartbeatMsg,
  logTerms,
  makeNode,
  texts,
  voteMsg,
  voteResp,
  type TestNode,
} from './test-network.test-support.ts';
import { seededRandom } from '../../test/seeded-random.test-support.ts';

const THREE = { voters: ['n1', 'n2', 'n3'], learners: [] };
const FIVE = { voters: ['n1', 'n2', 'n3', 'n4', 'n5'], learners: [] };

/** n1 of a three-node cluster in the given role at term 1 (a leader at term 1, a candidate at term 1). */
function nodeInRole(role: Role): TestNode {
  const t = makeNode('n1', THREE);
  if (role === 'candidate') {
    t.node.campaign();
    drain(t);
  } else if (role === 'leader') {
    electLeader(t);
  }
  return t;
}

function ofType<T extends Message['type']>(messages: readonly Message[], type: T): (Message & { type: T })[] {
  return messages.filter((m): m is Message & { type: T } => m.type === type);
}

describe('Raft paper §5.1: terms', () => {
  for (const role of ['follower', 'candidate', 'leader'] as const) {
    it(`a ${role} that sees a higher term adopts it and becomes a follower (§5.1)`, () => {
      const t = nodeInRole(role);
      t.node.step(appMsg('n2', 'n1', 5, 0, 0));
      drain(t);
      const s = t.node.status();
      expect(s.term).toBe(5);
      expect(s.role).toBe('follower');
      expect(s.leaderId).toBe('n2');
    });
  }

  it('a node ignores a request that carries a stale term (§5.1)', () => {
    const t = makeNode('n1', THREE, {}, (s) => s.setHardState({ term: 2, vote: '', commit: 0 }));
    t.node.step(appMsg('n2', 'n1', 1, 0, 0, [entry(1, 1, 'stale')]));
    const out = drain(t);
    expect(t.node.status().lastIndex).toBe(0);
    expect(out).toEqual([]);
  });
});

describe('Raft paper §5.2: leader election', () => {
  it('a server starts up as a follower (§5.2)', () => {
    const t = makeNode('n1', THREE);
    expect(t.node.status().role).toBe('follower');
  });

  it('a leader sends heartbeats to every follower each heartbeat interval (§5.2)', () => {
    const t = makeNode('n1', THREE, { heartbeatTicks: 2 });
    electLeader(t);
    t.node.tick();
    expect(ofType(drain(t), 'heartbeat')).toEqual([]);
    t.node.tick();
    const beats = ofType(drain(t), 'heartbeat');
    expect(beats.map((m) => m.to)).toEqual(['n2', 'n3']);
  });

  for (const role of ['follower', 'candidate'] as const) {
    it(`a ${role} that hears no leader for an election timeout starts an election: new term, votes for itself, asks every peer (§5.2)`, () => {
      const t = nodeInRole(role);
      const termBefore = t.node.status().term;
      for (let i = 0; i < 20; i++) t.node.tick();
      const out = drain(t);
      const s = t.node.status();
      expect(s.role).toBe('candidate');
      expect(s.term).toBe(termBefore + 1);
      expect(s.vote).toBe('n1');
      const votes = ofType(out, 'vote').filter((m) => m.term === s.term);
      expect(votes.map((m) => m.to)).toEqual(['n2', 'n3']);
    });
  }

  const elections: [string, number, Record<string, boolean>, Role][] = [
    ['wins with every vote', 3, { n2: true, n3: true }, 'leader'],
    ['wins with a bare majority', 3, { n2: true }, 'leader'],
    ['stays candidate without a majority yet', 3, {}, 'candidate'],
    ['wins with 3 of 5', 5, { n2: true, n3: true }, 'leader'],
    ['stays candidate with 2 of 5', 5, { n2: true }, 'candidate'],
    ['loses once a majority refuses', 3, { n2: false, n3: false }, 'follower'],
    ['loses with 3 of 5 refusing', 5, { n2: false, n3: false, n4: false }, 'follower'],
  ];
  for (const [what, size, votes, role] of elections) {
    it(`a candidate ${what} among ${size} voters (§5.2)`, () => {
      const t = makeNode('n1', size === 3 ? THREE : FIVE);
      t.node.campaign();
      drain(t);
      for (const [from, granted] of Object.entries(votes)) t.node.step(voteResp(from, 'n1', 1, !granted));
      drain(t);
      expect(t.node.status().role).toBe(role);
    });
  }

  it('a server votes for at most one candidate per term, first come first served (§5.2)', () => {
    const cases: [string, string, boolean][] = [
      ['', 'n2', false],
      ['n2', 'n2', false],
      ['n3', 'n2', true],
    ];
    for (const [votedFor, candidate, reject] of cases) {
      const t = makeNode('n1', THREE, {}, (s) => s.setHardState({ term: 1, vote: votedFor, commit: 0 }));
      t.node.step(voteMsg(candidate, 'n1', 1, 0, 0));
      const resp = ofType(drain(t), 'vote-resp');
      expect(resp).toHaveLength(1);
      expect(resp[0]!.reject).toBe(reject);
    }
  });

  it('a candidate that hears from a leader of its term becomes its follower (§5.2)', () => {
    const t = nodeInRole('candidate');
    t.node.step(appMsg('n2', 'n1', 1, 0, 0));
    drain(t);
    expect(t.node.status()).toMatchObject({ role: 'follower', leaderId: 'n2', term: 1 });
  });

  it('election timeouts are randomized within [T, 2T) (§5.2)', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 60; seed++) {
      const t = makeNode('n1', THREE, { random: seededRandom(seed) });
      let ticks = 0;
      while (t.node.status().role === 'follower') {
        t.node.tick();
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      seen.add(ticks);
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  it('randomized timeouts make it rare that two followers time out together (§5.2)', () => {
    let together = 0;
    const rounds = 200;
    for (let seed = 0; seed < rounds; seed++) {
      const a = makeNode('n1', THREE, { random: seededRandom(seed * 2 + 1) });
      const b = makeNode('n2', THREE, { random: seededRandom(seed * 2 + 2) });
      for (let i = 0; i < 20; i++) {
        a.node.tick();
        b.node.tick();
        const aStarted = a.node.status().role === 'candidate';
        const bStarted = b.node.status().role === 'candidate';
        if (aStarted || bStarted) {
          if (aStarted && bStarted) together++;
          break;
        }
      }
    }
    expect(together / rounds).toBeLessThan(0.3);
  });
});

describe('Raft paper §5.3: log replication', () => {
  it('a leader appends a proposal to its log and sends it to every follower (§5.3)', () => {
    const t = makeNode('n1', THREE);
    electLeader(t);
    t.node.step(appResp('n2', 'n1', 1, 1));
    t.node.step(appResp('n3', 'n1', 1, 1));
    drain(t);
    t.node.propose(new TextEncoder().encode('x'));
    const apps = ofType(drain(t), 'app');
    expect(apps.map((m) => m.to)).toEqual(['n2', 'n3']);
    for (const m of apps) {
      expect([m.index, m.logTerm]).toEqual([1, 1]);
      expect(texts(m.entries)).toEqual(['x']);
    }
    expect(t.node.status().lastIndex).toBe(2);
  });

  it('a leader commits an entry once a majority has it and hands it out to apply (§5.3)', () => {
    const t = makeNode('n1', THREE);
    electLeader(t);
    t.node.propose(new TextEncoder().encode('x'));
    drain(t);
    t.node.step(appResp('n2', 'n1', 1, 2));
    drain(t);
    expect(t.node.status().commit).toBe(2);
    expect(texts(t.applied)).toEqual(['x']);
  });

  const acks: [number, string[], boolean][] = [
    [3, [], false],
    [3, ['n2'], true],
    [5, ['n2'], false],
    [5, ['n2', 'n3'], true],
    [5, ['n2', 'n3', 'n4', 'n5'], true],
  ];
  for (const [size, ackers, committed] of acks) {
    it(`an entry acknowledged by ${ackers.length + 1} of ${size} servers (leader included) is ${committed ? '' : 'not '}committed (§5.3)`, () => {
      const t = makeNode('n1', size === 3 ? THREE : FIVE);
      electLeader(t);
      t.node.propose(new TextEncoder().encode('x'));
      drain(t);
      for (const id of ackers) t.node.step(appResp(id, 'n1', 1, 2));
      drain(t);
      expect(t.node.status().commit >= 2).toBe(committed);
    });
  }

  it("committing an entry commits every entry before it, previous leaders' included (§5.3)", () => {
    const t = makeNode('n1', THREE, {}, (s) => {
      s.append(entriesWithTerms([1, 1]));
      s.setHardState({ term: 2, vote: '', commit: 0 });
    });
    electLeader(t);
    t.node.propose(new TextEncoder().encode('x'));
    drain(t);
    t.node.step(appResp('n2', 'n1', 3, 4));
    drain(t);
    expect(t.node.status().commit).toBe(4);
    expect(t.applied.map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  it('a follower applies an entry once it learns the entry is committed (§5.3)', () => {
    const t = makeNode('n1', THREE);
    t.node.step(appMsg('n2', 'n1', 1, 0, 0, [entry(1, 1, 'a'), entry(2, 1, 'b')], 1));
    drain(t);
    expect(texts(t.applied)).toEqual(['a']);
    t.node.step(heartbeatMsg('n2', 'n1', 1, 2));
    drain(t);
    expect(texts(t.applied)).toEqual(['a', 'b']);
  });

  const checks: [string, number, number, boolean][] = [
    ['no entry at the previous index', 3, 3, true],
    ['a different term at the previous index', 2, 3, true],
    ['a matching previous entry', 2, 2, false],
    ['the empty log prefix', 0, 0, false],
  ];
  for (const [what, index, logTerm, reject] of checks) {
    it(`a follower ${reject ? 'rejects' : 'accepts'} an append with ${what} (§5.3)`, () => {
      const t = makeNode('n1', THREE, {}, (s) => {
        s.append(entriesWithTerms([1, 2]));
        s.setHardState({ term: 2, vote: '', commit: 1 });
      });
      t.node.step(appMsg('n2', 'n1', 2, index, logTerm, [], 1));
      const resp = ofType(drain(t), 'app-resp');
      expect(resp).toHaveLength(1);
      expect(resp[0]!.reject).toBe(reject);
    });
  }

  it('a follower deletes a conflicting entry and all that follow it, then appends the new ones (§5.3)', () => {
    const cases: [number, number, number[], number[]][] = [
      [2, 2, [3], [1, 2, 3]],
      [1, 1, [3, 4], [1, 3, 4]],
      [0, 0, [1], [1, 2]],
      [0, 0, [3], [3]],
    ];
    for (const [index, logTerm, newTerms, want] of cases) {
      const t = makeNode('n1', THREE, {}, (s) => {
        s.append(entriesWithTerms([1, 2]));
        s.setHardState({ term: 1, vote: '', commit: 0 });
      });
      const ents = newTerms.map((term, i) => entry(index + 1 + i, term));
      t.node.step(appMsg('n2', 'n1', 3, index, logTerm, ents));
      drain(t);
      expect(logTerms(t)).toEqual(want);
    }
  });

  it("a leader forces each follower's log to match its own, whatever the divergence (§5.3, Figure 7)", () => {
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers = [
      [1, 1, 1, 4, 4, 5, 5, 6, 6],
      [1, 1, 1, 4],
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      [1, 1, 1, 4, 4, 4, 4],
      [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    ];
    for (const followerLog of followers) {
      const net = new TestNetwork(['n1', 'n2', 'n3']);
      net.nodes.set('n1', makeNode('n1', THREE, {}, (s) => {
        s.append(entriesWithTerms(leaderLog));
        s.setHardState({ term: 7, vote: '', commit: 0 });
      }));
      net.nodes.set('n2', makeNode('n2', THREE, {}, (s) => {
        s.append(entriesWithTerms(followerLog));
        s.setHardState({ term: 6, vote: '', commit: 0 });
      }));
      net.dropIf = (m) => m.to === 'n3' || m.from === 'n3';
      const leader = net.get('n1');
      leader.node.campaign();
      leader.node.step(voteResp('n3', 'n1', 8));
      net.settle();
      expect(leader.node.status().role).toBe('leader');
      net.propose('n1', 'x');
      expect(logTerms(net.get('n2'))).toEqual(logTerms(leader));
      expect(logTerms(leader)).toEqual([...leaderLog, 8, 8]);
    }
  });
});

describe('Raft paper §5.4: safety', () => {
  const requests: [string, number, number, boolean][] = [
    ['a lower last term', 1, 1, true],
    ['a lower last term even with a longer log', 5, 1, true],
    ['the same last term and a shorter log', 1, 2, true],
    ['the same last term and an equal log', 2, 2, false],
    ['the same last term and a longer log', 3, 2, false],
    ['a higher last term and a shorter log', 1, 3, false],
  ];
  for (const [what, index, logTerm, reject] of requests) {
    it(`a voter ${reject ? 'refuses' : 'grants'} a candidate whose log has ${what} (§5.4.1)`, () => {
      const t = makeNode('n1', THREE, {}, (s) => {
        s.append(entriesWithTerms([1, 2]));
        s.setHardState({ term: 2, vote: '', commit: 0 });
      });
      t.node.step(voteMsg('n2', 'n1', 3, index, logTerm));
      const resp = ofType(drain(t), 'vote-resp');
      expect(resp).toHaveLength(1);
      expect(resp[0]!.reject).toBe(reject);
    });
  }

  it('a candidate sends its last log index and term in its vote requests (§5.4.1)', () => {
    const t = makeNode('n1', THREE, {}, (s) => {
      s.append(entriesWithTerms([1, 2, 2]));
      s.setHardState({ term: 2, vote: '', commit: 0 });
    });
    t.node.campaign();
    const votes = ofType(drain(t), 'vote');
    expect(votes.map((m) => [m.to, m.term, m.index, m.logTerm])).toEqual([
      ['n2', 3, 3, 2],
      ['n3', 3, 3, 2],
    ]);
  });

  it("a leader never commits a previous term's entry by counting replicas, only through an entry of its own term (§5.4.2, Figure 8)", () => {
    const cases: [number, number][] = [
      [1, 0],
      [2, 0],
      [3, 3],
    ];
    for (const [acked, commit] of cases) {
      const t = makeNode('n1', THREE, {}, (s) => {
        s.append(entriesWithTerms([1, 2]));
        s.setHardState({ term: 2, vote: '', commit: 0 });
      });
      electLeader(t);
      t.node.step(appResp('n2', 'n1', 3, acked));
      drain(t);
      expect(t.node.status().commit).toBe(commit);
    }
  });

  it('an old-term entry stored on a majority can still be overwritten by a later leader, which is why it was not committed (§5.4.2, Figure 8 d)', () => {
    // Figure 8 (c): n1 led term 3 and copied x (index 2, term 1) to n2 and n3, but none of its own term's entries.
    // n5 took y at term 2 while n1 was away. Now n1 is down and n5 campaigns.
    const net = new TestNetwork(['n1', 'n2', 'n3', 'n4', 'n5']);
    const logs: Record<string, [number[], number]> = {
      n1: [[1, 1], 3],
      n2: [[1, 1], 3],
      n3: [[1, 1], 3],
      n4: [[1], 3],
      n5: [[1, 2, 2], 2],
    };
    for (const [id, [terms, term]] of Object.entries(logs)) {
      net.nodes.set(id, makeNode(id, FIVE, {}, (s) => {
        s.append(terms.map((t, i) => entry(i + 1, t, i === 0 ? 'a' : t === 1 ? 'x' : i === 2 ? 'y' : '')));
        s.setHardState({ term, vote: '', commit: 1 });
      }));
    }
    net.isolate('n1');
    net.campaign('n5');
    expect(net.leader()?.id).toBe('n5');
    net.propose('n5', 'z');
    for (const id of ['n2', 'n3', 'n4', 'n5']) {
      expect(texts(net.get(id).applied)).toEqual(['a', 'y', 'z']);
    }
    net.heal();
    net.tick('n5', 3);
    expect(texts(net.get('n1').applied)).toEqual(['a', 'y', 'z']);
  });
});

describe('Raft paper §5.5: follower and candidate crashes', () => {
  it('a follower that receives the same append twice acknowledges both and keeps one copy (§5.5)', () => {
    const t = makeNode('n1', THREE);
    const m = appMsg('n2', 'n1', 1, 0, 0, [entry(1, 1, 'a'), entry(2, 1, 'b')]);
    t.node.step(m);
    const first = ofType(drain(t), 'app-resp');
    t.node.step(m);
    const second = ofType(drain(t), 'app-resp');
    expect([first[0]!.index, second[0]!.index]).toEqual([2, 2]);
    expect(logTerms(t)).toEqual([1, 1]);
  });

  it('a leader never overwrites or deletes entries in its own log (§5.3, Leader Append-Only)', () => {
    const t = makeNode('n1', THREE, {}, (s) => {
      s.append(entriesWithTerms([1, 1]));
      s.setHardState({ term: 1, vote: '', commit: 0 });
    });
    electLeader(t);
    const before = logTerms(t);
    t.node.step(appMsg('n3', 'n1', 1, 1, 1, [entry(2, 1, 'other'), entry(3, 1, 'more')]));
    drain(t);
    expect(logTerms(t)).toEqual(before);
    expect(t.node.status().role).toBe('leader');
  });
});

describe('Raft paper §8: client interaction', () => {
  it('a new leader appends an empty no-op entry of its term at once (§8)', () => {
    const t = makeNode('n1', THREE, {}, (s) => {
      s.append(entriesWithTerms([1]));
      s.setHardState({ term: 1, vote: '', commit: 1 });
    });
    const out = electLeader(t);
    const apps = ofType(out, 'app');
    expect(apps).toHaveLength(2);
    for (const m of apps) {
      expect(m.entries).toHaveLength(1);
      expect(m.entries[0]).toMatchObject({ index: 2, term: 2, type: 'normal' });
      expect(m.entries[0]!.data.length).toBe(0);
    }
  });
});

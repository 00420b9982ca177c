// Single-server membership changes: adding voters and learners, removing
// nodes, one change at a time, quorums over the current voters, and a node
// joining with an empty storage (simulator finding F1).
import { describe, expect, it } from 'vitest';
import { createRaftNode } from './raw-node.ts';
import { TestNetwork, testConfig, texts } from './test-network.test-support.ts';
import type { ConfChange } from './types.ts';

function change(net: TestNetwork, leader: string, c: ConfChange): void {
  const result = net.get(leader).node.proposeConfChange(c);
  expect(result.ok).toBe(true);
  net.settle();
}

describe('membership change', () => {
  it('a voter added with an empty storage learns the whole membership and the log', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.propose('n1', 'a');
    net.add('n4', { voters: [], learners: [] });
    change(net, 'n1', { type: 'add-voter', nodeId: 'n4' });
    net.propose('n1', 'b');
    const n4 = net.get('n4');
    expect(n4.node.status().confState.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(texts(n4.applied)).toEqual(['a', 'b']);
    for (const id of ['n1', 'n2', 'n3']) expect(net.get(id).node.status().confState.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('an empty joiner never elects itself alone, even when it times out before the leader reaches it (F1)', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.add('n4', { voters: [], learners: [] });
    net.isolate('n4');
    change(net, 'n1', { type: 'add-voter', nodeId: 'n4' });
    net.tick('n4', 50);
    expect(net.get('n4').node.status().role).toBe('follower');
    net.heal();
    net.tick('n1', 2);
    expect(net.get('n4').node.status().confState.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(net.leader()?.id).toBe('n1');
  });

  it('after adding a fourth voter a commit needs three of four', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.add('n4', { voters: [], learners: [] });
    change(net, 'n1', { type: 'add-voter', nodeId: 'n4' });
    const before = net.get('n1').node.status().commit;
    net.isolate('n3');
    net.isolate('n4');
    net.propose('n1', 'x');
    expect(net.get('n1').node.status().commit).toBe(before);
    net.heal();
    net.tick('n1', 2);
    expect(net.get('n1').node.status().commit).toBe(before + 1);
  });

  it('a learner receives the log but its acknowledgement does not count toward a commit', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.add('n4', { voters: [], learners: [] });
    change(net, 'n1', { type: 'add-learner', nodeId: 'n4' });
    net.propose('n1', 'a');
    expect(texts(net.get('n4').applied)).toEqual(['a']);
    const before = net.get('n1').node.status().commit;
    net.isolate('n2');
    net.isolate('n3');
    net.propose('n1', 'b');
    expect(net.get('n4').node.status().lastIndex).toBe(net.get('n1').node.status().lastIndex);
    expect(net.get('n1').node.status().commit).toBe(before);
  });

  it('a learner never campaigns, however long it hears no leader', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], {}, ['n4']);
    net.isolate('n4');
    net.tick('n4', 100);
    expect(net.get('n4').node.status().role).toBe('follower');
    expect(net.get('n4').node.status().term).toBe(0);
  });

  it('a learner promoted to voter counts toward quorums', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], {}, ['n4']);
    net.campaign('n1');
    change(net, 'n1', { type: 'add-voter', nodeId: 'n4' });
    expect(net.get('n1').node.status().confState).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    net.isolate('n3');
    const before = net.get('n1').node.status().commit;
    net.propose('n1', 'x');
    expect(net.get('n1').node.status().commit).toBe(before + 1);
  });

  it('a leader accepts one membership change at a time until it is applied', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    const leader = net.get('n1').node;
    expect(leader.proposeConfChange({ type: 'add-learner', nodeId: 'n4' }).ok).toBe(true);
    expect(leader.proposeConfChange({ type: 'add-learner', nodeId: 'n5' })).toEqual({
      ok: false,
      reason: 'CONF_CHANGE_PENDING',
      leaderId: 'n1',
    });
    net.settle();
    expect(leader.proposeConfChange({ type: 'add-learner', nodeId: 'n5' }).ok).toBe(true);
  });

  it('a new leader accepts no membership change until the changes in its log are applied', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.isolate('n1');
    net.heal();
    const n1 = net.get('n1').node;
    expect(n1.proposeConfChange({ type: 'add-learner', nodeId: 'n4' }).ok).toBe(true);
    // Elected again before applying: its own earlier change must be applied first.
    net.campaign('n1');
    expect(n1.status().role).toBe('leader');
    expect(n1.proposeConfChange({ type: 'add-learner', nodeId: 'n5' }).ok).toBe(true);
  });

  it('a leader that removes itself steps down once the change is applied, and the rest elect a new leader', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    change(net, 'n1', { type: 'remove-node', nodeId: 'n1' });
    expect(net.get('n1').node.status().role).toBe('follower');
    expect(net.get('n2').node.status().confState.voters).toEqual(['n2', 'n3']);
    net.tick(undefined, 40);
    const leader = net.leader();
    expect(leader?.id === 'n2' || leader?.id === 'n3').toBe(true);
    expect(net.propose(leader!.id, 'after').ok).toBe(true);
    expect(texts(net.get('n2').applied)).toContain('after');
  });

  it('after removing a voter, the remaining two commit without it', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    change(net, 'n1', { type: 'remove-node', nodeId: 'n3' });
    net.isolate('n3');
    net.propose('n1', 'x');
    expect(texts(net.get('n2').applied)).toEqual(['x']);
    expect(texts(net.get('n3').applied)).toEqual([]);
  });

  it('a removed node no longer campaigns', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    change(net, 'n1', { type: 'remove-node', nodeId: 'n3' });
    net.tick('n1', 1);
    expect(net.get('n3').node.status().confState.voters).toEqual(['n1', 'n2']);
    net.isolate('n3');
    net.tick('n3', 100);
    expect(net.get('n3').node.status().role).toBe('follower');
  });

  it('a restarted node replays the membership changes it had applied', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.add('n4', { voters: [], learners: [] });
    change(net, 'n1', { type: 'add-voter', nodeId: 'n4' });
    const n2 = net.get('n2');
    const applied = n2.node.status().applied;
    const restarted = createRaftNode(testConfig('n2', n2.storage, { applied }));
    expect(restarted.status().confState.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    const fromScratch = createRaftNode(testConfig('n2', n2.storage, { applied: 0 }));
    expect(fromScratch.status().confState.voters).toEqual(['n1', 'n2', 'n3']);
  });
});

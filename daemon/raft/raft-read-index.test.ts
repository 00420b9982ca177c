// ReadIndex: a linearizable read point confirmed by a heartbeat round, on the
// leader or forwarded from a follower; a new leader waits for its first
// commit before answering.
import { describe, expect, it } from 'vitest';
import { TestNetwork } from './test-network.test-support.ts';

describe('read index', () => {
  it('a leader answers a read with its commit index once a majority acknowledges the heartbeat round', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.propose('n1', 'x');
    const n1 = net.get('n1');
    n1.node.readIndex('r1');
    net.settle();
    expect(n1.readStates).toEqual([{ index: n1.node.status().commit, context: 'r1' }]);
    const beats = net.delivered.filter((m) => m.type === 'heartbeat' && m.context.endsWith('r1'));
    expect(beats.map((m) => m.to)).toEqual(['n2', 'n3']);
  });

  it('a leader cut off from the majority does not answer a read', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.isolate('n1');
    net.get('n1').node.readIndex('r1');
    net.tick('n1', 5);
    expect(net.get('n1').readStates).toEqual([]);
  });

  it('a read answered late, after the heartbeat round completes, carries the index from when it was asked', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.isolate('n2');
    net.isolate('n3');
    const n1 = net.get('n1');
    const commitAtRequest = n1.node.status().commit;
    n1.node.readIndex('r1');
    net.settle();
    n1.node.propose(new Uint8Array([1]));
    net.heal();
    net.tick('n1', 1);
    expect(n1.readStates[0]).toEqual({ index: commitAtRequest, context: 'r1' });
  });

  it('a new leader defers reads until it has committed an entry of its own term', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.dropIf = (m) => m.type === 'app';
    net.campaign('n1');
    const n1 = net.get('n1');
    expect(n1.node.status().role).toBe('leader');
    n1.node.readIndex('r1');
    net.tick('n1', 3);
    expect(n1.readStates).toEqual([]);
    net.dropIf = () => false;
    net.tick('n1', 2);
    expect(n1.readStates).toEqual([{ index: 1, context: 'r1' }]);
  });

  it('a follower forwards a read to the leader and receives the read state', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.propose('n1', 'x');
    const n2 = net.get('n2');
    n2.node.readIndex('r2');
    net.settle();
    expect(n2.readStates).toEqual([{ index: net.get('n1').node.status().commit, context: 'r2' }]);
  });

  it('two nodes may use the same read context: each gets its own answer', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.isolate('n1');
    net.get('n2').node.readIndex('same');
    net.get('n3').node.readIndex('same');
    net.get('n1').node.readIndex('same');
    net.heal();
    net.get('n2').node.readIndex('same');
    net.get('n3').node.readIndex('same');
    net.settle();
    expect(net.get('n1').readStates.map((r) => r.context)).toEqual(['same']);
    expect(net.get('n2').readStates.map((r) => r.context)).toEqual(['same']);
    expect(net.get('n3').readStates.map((r) => r.context)).toEqual(['same']);
  });

  it('a single-node leader answers a read at once', () => {
    const net = new TestNetwork(['n1']);
    net.campaign('n1');
    net.get('n1').node.readIndex('solo');
    net.settle();
    expect(net.get('n1').readStates).toEqual([{ index: 1, context: 'solo' }]);
  });

  it('several reads in one heartbeat round are all answered, in order', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    const n1 = net.get('n1');
    net.isolate('n2');
    net.isolate('n3');
    n1.node.readIndex('a');
    n1.node.readIndex('b');
    net.settle();
    net.heal();
    net.tick('n1', 1);
    expect(n1.readStates.map((r) => r.context)).toEqual(['a', 'b']);
  });
});

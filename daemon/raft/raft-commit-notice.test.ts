// How followers learn the commit index without broadcastCommit (production):
// with the leader's next append or heartbeat (Raft paper §5.3), at once when
// they wait for an entry (notifyCommit) or when a membership change commits.
import { describe, expect, it } from 'vitest';
import { TestNetwork, texts } from './test-network.test-support.ts';

/** Three nodes, n1 leading, commits not broadcast. */
function lazyCluster(): TestNetwork {
  const net = new TestNetwork(['n1', 'n2', 'n3'], { broadcastCommit: false });
  net.campaign('n1');
  net.tick('n1'); // a heartbeat: every node knows the no-op is committed
  return net;
}

describe('the commit index without broadcastCommit', () => {
  it('reaches the followers with the next append, and no message goes out for it alone', () => {
    const net = lazyCluster();
    const sentBefore = net.delivered.length;
    net.propose('n1', 'a');
    // The leader applied it (its clients are answered); the followers hold it but have not heard it committed.
    expect(texts(net.get('n1').applied)).toEqual(['a']);
    expect(texts(net.get('n2').applied)).toEqual([]);
    expect(texts(net.get('n3').applied)).toEqual([]);
    // One append to each follower and one acknowledgement from each: nothing else.
    expect(net.delivered.slice(sentBefore).map((m) => m.type).sort()).toEqual(['app', 'app', 'app-resp', 'app-resp']);
    net.propose('n1', 'b');
    expect(texts(net.get('n2').applied)).toEqual(['a']);
    expect(texts(net.get('n3').applied)).toEqual(['a']);
  });

  it('reaches the followers with the next heartbeat when nothing more is proposed', () => {
    const net = lazyCluster();
    net.propose('n1', 'a');
    net.tick('n1');
    for (const id of ['n1', 'n2', 'n3']) expect(texts(net.get(id).applied)).toEqual(['a']);
  });

  it('reaches a follower that waits for the entry at once, and only that one', () => {
    const net = lazyCluster();
    const r = net.get('n1').node.propose(new TextEncoder().encode('a'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    net.get('n1').node.notifyCommit('n2', r.index);
    net.settle();
    expect(texts(net.get('n2').applied)).toEqual(['a']);
    expect(texts(net.get('n3').applied)).toEqual([]);
    // Once told, it is not told again.
    net.propose('n1', 'b');
    expect(texts(net.get('n2').applied)).toEqual(['a']);
  });

  it('reaches every follower at once when a membership change commits, even one that removes the leader', () => {
    const net = lazyCluster();
    const r = net.get('n1').node.proposeConfChange({ type: 'remove-node', nodeId: 'n1' });
    expect(r.ok).toBe(true);
    net.settle();
    // The leader stepped down as it applied the change; its last words told the others the change committed.
    expect(net.get('n1').node.status().role).toBe('follower');
    for (const id of ['n2', 'n3']) expect(net.get(id).node.status().confState.voters).toEqual(['n2', 'n3']);
  });

  it('with broadcastCommit, every advance goes to every follower at once', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.propose('n1', 'a');
    for (const id of ['n1', 'n2', 'n3']) expect(texts(net.get(id).applied)).toEqual(['a']);
  });
});

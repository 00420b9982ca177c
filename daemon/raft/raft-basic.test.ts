// Smoke tests of the whole node: elections and replication through the Ready
// cycle over a lossless network.
import { describe, expect, it } from 'vitest';
import { createRaftNode } from './raw-node.ts';
import { TestNetwork, testConfig, texts } from './test-network.test-support.ts';

describe('raft node', () => {
  it('a three-node cluster elects one leader after an election timeout', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.tick(undefined, 30);
    const leaders = [...net.nodes.values()].filter((t) => t.node.status().role === 'leader');
    expect(leaders).toHaveLength(1);
    const term = leaders[0]!.node.status().term;
    for (const t of net.nodes.values()) expect(t.node.status().leaderId).toBe(leaders[0]!.id);
    for (const t of net.nodes.values()) expect(t.node.status().term).toBe(term);
  });

  it('a proposal at the leader is applied by every node in the same order', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    for (let i = 0; i < 5; i++) expect(net.propose('n1', `cmd${i}`).ok).toBe(true);
    for (const t of net.nodes.values()) expect(texts(t.applied)).toEqual(['cmd0', 'cmd1', 'cmd2', 'cmd3', 'cmd4']);
  });

  it('a follower refuses proposals and names the leader', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    const result = net.get('n2').node.propose(new Uint8Array([1]));
    expect(result).toEqual({ ok: false, reason: 'NOT_LEADER', leaderId: 'n1' });
  });

  it('a single-node cluster commits its own proposals at once', () => {
    const net = new TestNetwork(['n1']);
    net.campaign('n1');
    expect(net.propose('n1', 'solo').ok).toBe(true);
    expect(texts(net.get('n1').applied)).toEqual(['solo']);
  });

  it('a restarted node recovers its term, vote, commit and log from storage and rejoins', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.propose('n1', 'a');
    const old = net.get('n2');
    const before = old.node.status();
    const node = createRaftNode(testConfig('n2', old.storage, { applied: before.applied }));
    const after = node.status();
    expect([after.term, after.vote, after.commit, after.lastIndex]).toEqual([before.term, before.vote, before.commit, before.lastIndex]);
    net.nodes.set('n2', { ...old, node });
    net.propose('n1', 'b');
    expect(texts(net.get('n2').applied)).toEqual(['a', 'b']);
  });
});

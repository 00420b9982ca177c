// reportConnectionLost: a follower whose connection to the leader closed (the
// leader's process died) campaigns within a few ticks instead of an election
// timeout, and a live leader keeps office when only one follower lost it.
import { describe, expect, it } from 'vitest';
import { LEADER_LOST_STAGGER_TICKS } from './raft.ts';
import { TestNetwork } from './test-network.test-support.ts';

const SAFE = { preVote: true, checkQuorum: true } as const;

describe('reportConnectionLost', () => {
  it('followers whose leader died elect a new one within a few ticks instead of an election timeout', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], SAFE);
    net.campaign('n1');
    const term = net.get('n1').node.status().term;
    net.isolate('n1'); // the process died: nothing more from it
    net.get('n2').node.reportConnectionLost('n1');
    net.get('n3').node.reportConnectionLost('n1');
    net.tickSome(['n2', 'n3'], 1 + LEADER_LOST_STAGGER_TICKS);
    const leader = [net.get('n2'), net.get('n3')].find((t) => t.node.status().role === 'leader');
    expect(leader).toBeDefined();
    expect(leader!.node.status().term).toBe(term + 1);
  });

  it('without the report the same followers still wait for an election timeout', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], SAFE);
    net.campaign('n1');
    net.isolate('n1');
    net.tickSome(['n2', 'n3'], 1 + LEADER_LOST_STAGGER_TICKS);
    expect(net.get('n2').node.status()).toMatchObject({ role: 'follower', leaderId: 'n1' });
    expect(net.get('n3').node.status()).toMatchObject({ role: 'follower', leaderId: 'n1' });
  });

  it('a follower that lost only its own connection to a live leader does not depose it', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], SAFE);
    net.campaign('n1');
    const term = net.get('n1').node.status().term;
    net.cutLink('n1', 'n3'); // a transient disconnect: n1 is alive and n2 still hears it
    net.get('n3').node.reportConnectionLost('n1');
    net.tick(undefined, 1 + LEADER_LOST_STAGGER_TICKS + 2);
    expect(net.get('n3').node.status().role).toBe('pre-candidate');
    net.heal();
    net.tick(undefined, 2);
    expect(net.leader()?.id).toBe('n1');
    for (const id of ['n1', 'n2', 'n3']) expect(net.get(id).node.status().term).toBe(term);
    expect(net.get('n3').node.status()).toMatchObject({ role: 'follower', leaderId: 'n1' });
  });

  it('a lost connection to a peer that does not lead changes nothing', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], SAFE);
    net.campaign('n1');
    net.get('n2').node.reportConnectionLost('n3');
    net.get('n1').node.reportConnectionLost('n2');
    expect(net.get('n2').node.status()).toMatchObject({ role: 'follower', leaderId: 'n1' });
    expect(net.get('n1').node.status().role).toBe('leader');
    net.get('n2').node.tick();
    expect(net.get('n2').node.status()).toMatchObject({ role: 'follower', leaderId: 'n1' });
  });
});

// Leadership transfer: the leader brings the target up to date, tells it to
// campaign at once, refuses proposals meanwhile, and gives up after an
// election timeout.
import { describe, expect, it } from 'vitest';
import { TestNetwork } from './test-network.test-support.ts';

describe('leadership transfer', () => {
  it('a leader hands leadership to an up-to-date follower, which wins the next term', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { checkQuorum: true, preVote: true });
    net.campaign('n1');
    net.get('n1').node.transferLeadership('n2');
    net.settle();
    expect(net.delivered.some((m) => m.type === 'timeout-now' && m.to === 'n2')).toBe(true);
    expect(net.leader()?.id).toBe('n2');
    expect(net.get('n2').node.status().term).toBe(2);
    expect(net.get('n1').node.status()).toMatchObject({ role: 'follower', leaderId: 'n2' });
  });

  it('a leader first brings a lagging target up to date, then transfers', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.isolate('n3');
    net.propose('n1', 'x');
    net.propose('n1', 'y');
    net.heal();
    net.get('n1').node.transferLeadership('n3');
    net.settle();
    expect(net.leader()?.id).toBe('n3');
    expect(net.get('n3').applied.length).toBeGreaterThanOrEqual(3);
  });

  it('a leader refuses proposals while a transfer is in progress', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.isolate('n2');
    const n1 = net.get('n1').node;
    n1.transferLeadership('n2');
    expect(n1.propose(new Uint8Array([1]))).toEqual({ ok: false, reason: 'TRANSFER_IN_PROGRESS', leaderId: 'n1' });
    expect(n1.status().leadTransferee).toBe('n2');
  });

  it('a transfer that does not finish within an election timeout is abandoned and proposals resume', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.isolate('n2');
    const n1 = net.get('n1').node;
    n1.transferLeadership('n2');
    net.tick('n1', 10);
    expect(n1.status()).toMatchObject({ role: 'leader', leadTransferee: '' });
    expect(n1.propose(new Uint8Array([1])).ok).toBe(true);
  });

  it('a follower forwards a transfer request to the leader', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.get('n3').node.transferLeadership('n3');
    net.settle();
    expect(net.leader()?.id).toBe('n3');
  });

  it('a transfer to a learner or an unknown node is ignored', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], {}, ['n4']);
    net.campaign('n1');
    const n1 = net.get('n1').node;
    n1.transferLeadership('n4');
    n1.transferLeadership('n9');
    net.settle();
    expect(n1.status()).toMatchObject({ role: 'leader', leadTransferee: '' });
  });
});

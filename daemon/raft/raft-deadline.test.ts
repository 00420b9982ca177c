// ticksUntilDeadline: how many ticks a driver may sleep. The ticks before the
// deadline only count (no message, no role change), so a driver that makes
// them up on waking behaves as one that ticked all along; the deadline tick
// itself is the heartbeat, the check-quorum round or the campaign.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/seeded-random.test-support.ts';
import { drain, makeNode, TestNetwork, type TestNode } from './test-network.test-support.ts';
import type { Message } from './types.ts';

/** The production timing: heartbeat every 2 ticks, elections after 8–16 ticks. */
const PRODUCTION = { preVote: true, checkQuorum: true, heartbeatTicks: 2, electionTicks: 8 } as const;

/** What a tick must not change unless it is the deadline tick. */
function observable(t: TestNode): string {
  const s = t.node.status();
  return JSON.stringify([s.role, s.term, s.vote, s.leaderId, s.commit, t.node.hasReady()]);
}

describe('ticksUntilDeadline', () => {
  it('a leader sends its next heartbeat on the deadline tick and nothing before it', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], PRODUCTION);
    net.campaign('n1');
    const leader = net.get('n1');
    const deadline = leader.node.ticksUntilDeadline();
    expect(deadline).toBeGreaterThanOrEqual(1);
    expect(deadline).toBeLessThanOrEqual(PRODUCTION.heartbeatTicks);
    for (let i = 1; i < deadline; i++) {
      leader.node.tick();
      expect(leader.node.hasReady()).toBe(false);
    }
    leader.node.tick();
    const heartbeats = drain(leader).filter((m) => m.type === 'heartbeat');
    expect(heartbeats.map((m) => m.to).sort()).toEqual(['n2', 'n3']);
  });

  it('a follower that hears no leader campaigns on its deadline tick, not one tick sooner', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], PRODUCTION);
    net.campaign('n1');
    net.isolate('n1');
    const follower = net.get('n2');
    const deadline = follower.node.ticksUntilDeadline();
    expect(deadline).toBeGreaterThanOrEqual(PRODUCTION.electionTicks);
    for (let i = 1; i < deadline; i++) follower.node.tick();
    expect(follower.node.status().role).toBe('follower');
    follower.node.tick();
    expect(follower.node.status().role).toBe('pre-candidate');
  });

  it('a heartbeat heard pushes a follower\'s deadline back to a whole election timeout', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], PRODUCTION);
    net.campaign('n1');
    const follower = net.get('n2');
    follower.node.tick();
    follower.node.tick();
    const before = follower.node.ticksUntilDeadline();
    net.tick('n1', PRODUCTION.heartbeatTicks); // the leader's heartbeat reaches n2
    expect(follower.node.ticksUntilDeadline()).toBeGreaterThan(before);
  });

  it('a follower whose leader\'s connection closed has its deadline within the stagger of its rank', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], PRODUCTION);
    net.campaign('n1');
    net.get('n2').node.reportConnectionLost('n1');
    net.get('n3').node.reportConnectionLost('n1');
    expect(net.get('n2').node.ticksUntilDeadline()).toBe(1);
    expect(net.get('n3').node.ticksUntilDeadline()).toBe(3);
  });

  it('in random runs no tick before a node\'s deadline changes anything but its counters', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = seededRandom(seed);
      const ids = ['n1', 'n2', 'n3'];
      // Odd seeds: a check-quorum round that does not fall on a heartbeat tick.
      const timing = seed % 2 === 0 ? PRODUCTION : { ...PRODUCTION, heartbeatTicks: 4, electionTicks: 9 };
      const nodes = ids.map((id, i) => makeNode(id, { voters: ids, learners: [] }, { ...timing, random: seededRandom(seed * 7 + i) }));
      const queue: Message[] = [];
      let down = '';
      for (let step = 0; step < 2000; step++) {
        for (const t of nodes) queue.push(...drain(t));
        const r = rand();
        if (r < 0.5 && queue.length > 0) {
          const m = queue.splice(Math.floor(rand() * Math.min(queue.length, 3)), 1)[0]!;
          if (rand() < 0.05 || m.to === down || m.from === down) continue;
          nodes.find((t) => t.id === m.to)?.node.step(m);
        } else if (r < 0.93) {
          const t = nodes[Math.floor(rand() * nodes.length)]!;
          if (t.id === down) continue;
          const deadline = t.node.ticksUntilDeadline();
          expect(deadline, `seed ${seed} step ${step}`).toBeGreaterThanOrEqual(1);
          const before = observable(t);
          t.node.tick();
          if (deadline > 1) expect(observable(t), `seed ${seed} step ${step}: a tick before the deadline (${deadline}) of ${t.id}`).toBe(before);
        } else if (r < 0.97) {
          const leader = nodes.find((t) => t.node.status().role === 'leader' && t.id !== down);
          leader?.node.propose(new TextEncoder().encode(`s${seed}-${step}`));
        } else {
          // A node goes quiet (its messages drop) or comes back; the others may hear its connection close.
          down = down === '' ? ids[Math.floor(rand() * ids.length)]! : '';
          if (down !== '') for (const t of nodes) if (t.id !== down && rand() < 0.5) t.node.reportConnectionLost(down);
        }
      }
    }
  });
});

// Randomized safety check of the core on its own (the simulator in test/sim
// does this at scale): five nodes, a network that drops, duplicates and
// reorders, partitions, restarts from storage and log compaction. After every
// step: at most one leader per term, and every node that applied (or holds as
// committed) an index holds the same entry there.
import { describe, expect, it } from 'vitest';
import { createRaftNode } from './raw-node.ts';
import { seededRandom } from '../../test/seeded-random.test-support.ts';
import { makeNode, processReady, testConfig, type TestNode } from './test-network.test-support.ts';
import type { Message } from './types.ts';

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const STEPS = 3000;

function runSeed(seed: number): { commits: number; leaders: number } {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const config = { preVote: seed % 2 === 0, checkQuorum: seed % 3 !== 0 };
  const nodes = new Map<string, TestNode>();
  IDS.forEach((id, i) => {
    nodes.set(id, makeNode(id, { voters: IDS, learners: [] }, { ...config, random: seededRandom(seed * 31 + i) }));
  });
  const queue: Message[] = [];
  const cut = new Set<string>();
  const leaderOfTerm = new Map<number, string>();
  /** index → "term:data" as first seen committed anywhere. */
  const committed = new Map<number, string>();

  const check = (t: TestNode): void => {
    const s = t.node.status();
    if (s.role === 'leader') {
      const other = leaderOfTerm.get(s.term);
      expect(other === undefined || other === t.id, `seed ${seed}: two leaders in term ${s.term}`).toBe(true);
      leaderOfTerm.set(s.term, t.id);
    }
  };
  const record = (t: TestNode): void => {
    for (const e of t.applied) {
      const key = `${e.term}:${e.type}:${Array.from(e.data).join(',')}`;
      const seen = committed.get(e.index);
      expect(seen === undefined || seen === key, `seed ${seed}: ${t.id} applied a different entry at ${e.index}`).toBe(true);
      committed.set(e.index, key);
    }
    t.applied.length = 0;
  };
  const pump = (t: TestNode): void => {
    while (t.node.hasReady()) {
      const rd = processReady(t);
      for (const m of rd.messages) queue.push(m);
      record(t);
      check(t);
    }
  };

  let proposals = 0;
  for (let step = 0; step < STEPS; step++) {
    const r = rand();
    if (r < 0.55 && queue.length > 0) {
      // Deliver a message, maybe out of order, maybe twice, maybe never.
      const at = rand() < 0.8 ? 0 : Math.floor(rand() * queue.length);
      const m = queue.splice(at, 1)[0]!;
      const lost = cut.has(`${m.from}→${m.to}`) || rand() < 0.05;
      if (lost) {
        if (m.type === 'snap') nodes.get(m.from)!.node.reportSnapshot(m.to, false);
        continue;
      }
      if (rand() < 0.03) queue.push(m);
      const target = nodes.get(m.to)!;
      target.node.step(m);
      if (m.type === 'snap') nodes.get(m.from)!.node.reportSnapshot(m.to, true);
      pump(target);
    } else if (r < 0.8) {
      const t = nodes.get(pick(IDS))!;
      t.node.tick();
      pump(t);
    } else if (r < 0.93) {
      const leaders = [...nodes.values()].filter((t) => t.node.status().role === 'leader');
      if (leaders.length > 0) {
        const t = pick(leaders);
        if (t.node.propose(new Uint8Array([proposals & 255, proposals >> 8])).ok) proposals++;
        pump(t);
      }
    } else if (r < 0.95) {
      const a = pick(IDS);
      const b = pick(IDS);
      cut.add(`${a}→${b}`);
      cut.add(`${b}→${a}`);
    } else if (r < 0.97) {
      cut.clear();
    } else if (r < 0.985) {
      // Restart from storage: everything a Ready handed out was persisted before its messages left.
      const id = pick(IDS);
      const old = nodes.get(id)!;
      const applied = old.node.status().applied;
      const node = createRaftNode(testConfig(id, old.storage, { ...config, applied, random: seededRandom(seed * 97 + step) }));
      nodes.set(id, { ...old, node });
    } else {
      // Compact a node's log at its applied index.
      const t = nodes.get(pick(IDS))!;
      const s = t.node.status();
      if (s.applied > t.storage.firstIndex()) {
        t.storage.createSnapshot(s.applied, s.confState, new Uint8Array(0));
        t.storage.compact(s.applied);
      }
    }
  }
  return { commits: committed.size, leaders: leaderOfTerm.size };
}

describe('randomized safety', () => {
  it('no seed of a lossy, partitioned, restarting five-node cluster breaks election or state machine safety', () => {
    let commits = 0;
    for (let seed = 1; seed <= 30; seed++) commits += runSeed(seed).commits;
    expect(commits).toBeGreaterThan(100);
  });
});

// Snapshots: a follower behind the leader's compaction catches up through
// InstallSnapshot; a received snapshot stays unstable until advance(); the
// leader pauses a follower while a snapshot is in flight.
import { describe, expect, it } from 'vitest';
import { TestNetwork, appResp, drain, electLeader, entriesWithTerms, makeNode, processReady, testConfig, texts } from './test-network.test-support.ts';
import { createRaftNode } from './raw-node.ts';
import type { Message, Snapshot } from './types.ts';

const THREE = { voters: ['n1', 'n2', 'n3'], learners: [] };

function snapshotAt(index: number, term: number): Snapshot {
  return { metadata: { index, term, confState: THREE }, data: new TextEncoder().encode(`state@${index}`) };
}

/** Compacts `id`'s storage at its applied index after recording a snapshot there. */
function compactAtApplied(net: TestNetwork, id: string): number {
  const t = net.get(id);
  const applied = t.node.status().applied;
  t.storage.createSnapshot(applied, t.node.status().confState, new TextEncoder().encode(`state@${applied}`));
  t.storage.compact(applied);
  return applied;
}

describe('snapshots', () => {
  it('a follower behind the leader\'s compaction receives the snapshot, installs it, then gets the entries after it', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    net.isolate('n3');
    for (let i = 0; i < 5; i++) net.propose('n1', `e${i}`);
    const snapIndex = compactAtApplied(net, 'n1');
    net.heal();
    const snaps: Message[] = [];
    const dropIf = net.dropIf;
    net.dropIf = (m) => {
      if (m.type === 'snap') snaps.push(m);
      return dropIf(m);
    };
    net.tick('n1', 2);
    net.get('n1').node.reportSnapshot('n3', true);
    net.propose('n1', 'after');
    expect(snaps).toHaveLength(1);
    const n3 = net.get('n3');
    expect(n3.storage.snapshot().metadata.index).toBe(snapIndex);
    expect(new TextDecoder().decode(n3.storage.snapshot().data)).toBe(`state@${snapIndex}`);
    expect(texts(n3.applied)).toEqual(['after']);
    expect(n3.node.status().commit).toBe(net.get('n1').node.status().commit);
  });

  it('a follower hands a received snapshot out in Ready and keeps it unstable until advance()', () => {
    const t = makeNode('n2', THREE);
    t.node.step({ type: 'snap', from: 'n1', to: 'n2', term: 2, snapshot: snapshotAt(10, 2) });
    expect(t.node.status()).toMatchObject({ commit: 10, lastIndex: 10 });
    expect(t.storage.lastIndex()).toBe(0);
    const rd = t.node.ready();
    expect(rd.snapshot?.metadata.index).toBe(10);
    expect(rd.committedEntries).toEqual([]);
    expect(rd.hardState).toMatchObject({ term: 2, commit: 10 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([
      { type: 'app-resp', from: 'n2', to: 'n1', term: 2, index: 10, reject: false, rejectHint: 0, logTerm: 0 },
    ]);
    t.storage.applySnapshot(rd.snapshot!);
    t.node.advance();
    expect(t.node.status().applied).toBe(10);
    expect(t.node.hasReady()).toBe(false);
  });

  it('a follower ignores a snapshot that is not newer than its commit index', () => {
    const t = makeNode('n2', THREE, {}, (s) => {
      s.append(entriesWithTerms([1, 1, 1]));
      s.setHardState({ term: 1, vote: '', commit: 3 });
    });
    t.node.step({ type: 'snap', from: 'n1', to: 'n2', term: 1, snapshot: snapshotAt(2, 1) });
    const rd = processReady(t);
    expect(rd.snapshot).toBeUndefined();
    expect(t.node.status().lastIndex).toBe(3);
  });

  it('a follower whose log already holds the snapshot\'s last entry only commits up to it', () => {
    const t = makeNode('n2', THREE, {}, (s) => {
      s.append(entriesWithTerms([1, 1, 1, 1]));
      s.setHardState({ term: 1, vote: '', commit: 1 });
    });
    t.node.step({ type: 'snap', from: 'n1', to: 'n2', term: 1, snapshot: snapshotAt(3, 1) });
    const rd = processReady(t);
    expect(rd.snapshot).toBeUndefined();
    expect(t.node.status()).toMatchObject({ commit: 3, lastIndex: 4 });
  });

  it('a leader sends no appends to a follower while its snapshot is in flight, and probes again after reportSnapshot', () => {
    const t = makeNode('n1', THREE, {}, (s) => {
      s.append(entriesWithTerms([1, 1, 1, 1, 1]));
      s.setHardState({ term: 1, vote: '', commit: 5 });
      s.createSnapshot(5, THREE, new Uint8Array(0));
      s.compact(5);
    });
    electLeader(t);
    // n2 reports an empty log: its next entries are compacted, so it gets the snapshot.
    t.node.step(appResp('n2', 'n1', 2, 5, true, 0, 0));
    const out = drain(t).filter((m) => m.to === 'n2');
    expect(out.map((m) => m.type)).toEqual(['snap']);
    expect(t.node.status().progress.get('n2')?.state).toBe('snapshot');
    t.node.propose(new Uint8Array([1]));
    expect(drain(t).filter((m) => m.to === 'n2' && m.type === 'app')).toEqual([]);
    t.node.reportSnapshot('n2', false);
    expect(t.node.status().progress.get('n2')?.state).toBe('probe');
  });

  it('a node restarted from a snapshot and a log tail recovers both', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.campaign('n1');
    for (let i = 0; i < 3; i++) net.propose('n1', `e${i}`);
    const snapIndex = compactAtApplied(net, 'n2');
    net.propose('n1', 'tail');
    const n2 = net.get('n2');
    const before = n2.node.status();
    const restarted = { ...n2, node: createRaftNode(testConfig('n2', n2.storage, { applied: snapIndex })), applied: [] };
    expect(restarted.node.status()).toMatchObject({ commit: before.commit, lastIndex: before.lastIndex, applied: snapIndex });
    processReady(restarted);
    expect(texts(restarted.applied)).toEqual(['tail']);
  });
});

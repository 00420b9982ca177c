// Flow control: inflight windows per follower, message and uncommitted byte
// limits, probing, and batching of proposals into one append per follower.
import { describe, expect, it } from 'vitest';
import { Inflights } from './inflights.ts';
import type { MemoryStorage } from './memory-storage.ts';
import {
  TestNetwork,
  appResp,
  drain,
  electLeader,
  entriesWithTerms,
  logTerms,
  makeNode,
  processReady,
} from './test-network.test-support.ts';
import type { Message } from './types.ts';

const THREE = { voters: ['n1', 'n2', 'n3'], learners: [] };

function appsTo(messages: readonly Message[], to: string): (Message & { type: 'app' })[] {
  return messages.filter((m): m is Message & { type: 'app' } => m.type === 'app' && m.to === to);
}

describe('inflights', () => {
  it('fills up at its message limit and frees acknowledged messages in order', () => {
    const w = new Inflights(3, 0);
    w.add(1, 10);
    w.add(2, 10);
    expect(w.full()).toBe(false);
    w.add(5, 10);
    expect(w.full()).toBe(true);
    w.freeLE(2);
    expect([w.count(), w.bytes(), w.full()]).toEqual([1, 10, false]);
    w.add(7, 1);
    w.add(9, 1);
    expect(w.full()).toBe(true);
    w.freeLE(100);
    expect([w.count(), w.bytes()]).toEqual([0, 0]);
  });

  it('fills up when the bytes in flight reach the byte limit', () => {
    const w = new Inflights(100, 50);
    w.add(1, 30);
    expect(w.full()).toBe(false);
    w.add(2, 30);
    expect(w.full()).toBe(true);
    w.freeLE(1);
    expect(w.full()).toBe(false);
  });
});

describe('flow control', () => {
  function replicatingLeader(overrides = {}) {
    const t = makeNode('n1', THREE, overrides);
    electLeader(t);
    t.node.step(appResp('n2', 'n1', 1, 1));
    t.node.step(appResp('n3', 'n1', 1, 1));
    drain(t);
    return t;
  }

  it('a leader streams at most inflightMessagesMax unacknowledged appends to a follower', () => {
    const t = replicatingLeader({ inflightMessagesMax: 3 });
    const sent: Message[] = [];
    for (let i = 0; i < 10; i++) {
      t.node.propose(new Uint8Array([i]));
      sent.push(...drain(t));
    }
    expect(appsTo(sent, 'n2')).toHaveLength(3);
    t.node.step(appResp('n2', 'n1', 1, 3));
    const more = appsTo(drain(t), 'n2');
    expect(more.length).toBeGreaterThan(0);
    expect(more.length).toBeLessThanOrEqual(2);
  });

  it('a full window still lets one append through after a heartbeat response, in case the window was lost', () => {
    const t = replicatingLeader({ inflightMessagesMax: 1 });
    t.node.propose(new Uint8Array([1]));
    drain(t);
    t.node.propose(new Uint8Array([2]));
    expect(appsTo(drain(t), 'n2')).toHaveLength(0);
    t.node.step({ type: 'heartbeat-resp', from: 'n2', to: 'n1', term: 1, context: '' });
    expect(appsTo(drain(t), 'n2')).toHaveLength(1);
  });

  it('proposals made between two Readys go to each follower in one append message', () => {
    const t = replicatingLeader();
    for (let i = 0; i < 50; i++) t.node.propose(new Uint8Array([i]));
    const apps = appsTo(processReady(t).messages, 'n2');
    expect(apps).toHaveLength(1);
    expect(apps[0]!.entries).toHaveLength(50);
  });

  it('an append message carries at most about messageBytesMax of entries, and at least one', () => {
    const t = replicatingLeader({ messageBytesMax: 100, inflightMessagesMax: 1000 });
    for (let i = 0; i < 10; i++) t.node.propose(new Uint8Array(40));
    const apps = appsTo(drain(t), 'n2');
    expect(apps.length).toBeGreaterThan(3);
    for (const m of apps) expect(m.entries.length).toBeGreaterThanOrEqual(1);
    expect(apps.reduce((n, m) => n + m.entries.length, 0)).toBe(10);
    const big = replicatingLeader({ messageBytesMax: 10 });
    big.node.propose(new Uint8Array(1000));
    expect(appsTo(drain(big), 'n2')[0]!.entries).toHaveLength(1);
  });

  it('a leader refuses proposals past uncommittedBytesMax and accepts them again once entries commit', () => {
    const t = replicatingLeader({ uncommittedBytesMax: 100 });
    expect(t.node.propose(new Uint8Array(60)).ok).toBe(true);
    expect(t.node.propose(new Uint8Array(60))).toEqual({ ok: false, reason: 'TOO_MANY_UNCOMMITTED', leaderId: 'n1' });
    drain(t);
    t.node.step(appResp('n2', 'n1', 1, 2));
    drain(t);
    expect(t.node.propose(new Uint8Array(60)).ok).toBe(true);
  });

  it('a single entry larger than uncommittedBytesMax is accepted when nothing else is uncommitted', () => {
    const t = replicatingLeader({ uncommittedBytesMax: 10 });
    expect(t.node.propose(new Uint8Array(500)).ok).toBe(true);
  });

  it('a probing leader sends one append per heartbeat until the follower answers', () => {
    const t = makeNode('n1', THREE);
    electLeader(t);
    t.node.propose(new Uint8Array([1]));
    t.node.propose(new Uint8Array([2]));
    expect(appsTo(drain(t), 'n2')).toHaveLength(0);
    t.node.tick();
    const out = drain(t);
    expect(out.some((m) => m.type === 'heartbeat' && m.to === 'n2')).toBe(true);
    expect(appsTo(out, 'n2')).toHaveLength(0);
    t.node.step({ type: 'heartbeat-resp', from: 'n2', to: 'n1', term: 1, context: '' });
    expect(appsTo(drain(t), 'n2')).toHaveLength(1);
  });

  it('reportUnreachable turns a replicating follower back to probing', () => {
    const t = replicatingLeader();
    expect(t.node.status().progress.get('n2')?.state).toBe('replicate');
    t.node.reportUnreachable('n2');
    expect(t.node.status().progress.get('n2')?.state).toBe('probe');
  });

  it('a Ready hands out at most about committedBytesPerReadyMax of committed entries, and the rest in later Readys', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { committedBytesPerReadyMax: 50 });
    net.campaign('n1');
    for (let i = 0; i < 10; i++) net.get('n1').node.propose(new Uint8Array(30));
    net.settle();
    const n2 = net.get('n2');
    expect(n2.applied.filter((e) => e.data.length === 30)).toHaveLength(10);
  });

  it('a rejection hint lets the leader skip a whole conflicting term in one round trip (§5.3 optimization)', () => {
    // n1 holds 30 entries of term 3 where n2 holds 30 of term 2: one reject must be enough.
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    const terms = (t: number) => [1, ...Array.from({ length: 30 }, () => t)];
    const init = (logTerms: number[], term: number) => (s: MemoryStorage) => {
      s.append(entriesWithTerms(logTerms));
      s.setHardState({ term, vote: '', commit: 1 });
    };
    net.nodes.set('n1', makeNode('n1', THREE, {}, init(terms(3), 3)));
    net.nodes.set('n2', makeNode('n2', THREE, {}, init(terms(2), 3)));
    net.nodes.set('n3', makeNode('n3', THREE, {}, init(terms(3), 3)));
    net.campaign('n1');
    expect(net.leader()?.id).toBe('n1');
    const rejects = net.delivered.filter((m) => m.type === 'app-resp' && m.from === 'n2' && m.reject);
    expect(rejects).toHaveLength(1);
    expect(logTerms(net.get('n2'))).toEqual(logTerms(net.get('n1')));
  });
});

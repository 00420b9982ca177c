import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApplyResult } from '../pool/index.ts';
import { ProposalError } from '../raft-driver/index.ts';
import type { UnstampedLogCommand as UnstampedCommand } from './command-codec.ts';
import { decodeEntryData, encodeCommand, encodeTaggedCommand } from './command-codec.ts';
import { Forwarder, type AppChannel, type ForwarderHost } from './forwarder.ts';

/** Two forwarders wired back to back through an in-memory app channel. */
function pair(options: { leaderOf: () => string; timeoutMs?: number }) {
  const handlers = new Map<string, (from: string, payloads: Uint8Array[]) => void>();
  const up = new Set(['n1', 'n2']);
  const channel = (self: string): AppChannel => ({
    sendApp(peer, payload) {
      if (!up.has(peer)) return false;
      setImmediate(() => handlers.get(peer)?.(self, [payload]));
      return true;
    },
    onApp(handler) {
      handlers.set(self, handler);
      return () => handlers.delete(self);
    },
  });
  const proposed: { tag: string; command: UnstampedCommand }[] = [];
  const host = (self: string): ForwarderHost => ({
    nodeId: self,
    leaderId: options.leaderOf,
    isLeader: () => options.leaderOf() === self,
    proposeLocal: async (command) => ({ reply: { ok: true, type: 'local', command } }) as unknown as ApplyResult,
    proposeTagged: async (command, tag) => {
      proposed.push({ tag, command });
    },
    log: () => {},
  });
  const opts = { forwardTimeoutMs: options.timeoutMs ?? 1000, pendingForwardsMax: 100 };
  const n1 = new Forwarder(host('n1'), channel('n1'), opts);
  const n2 = new Forwarder(host('n2'), channel('n2'), opts);
  closers.push(() => n1.close(), () => n2.close());
  return { n1, n2, proposed, up };
}

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

/** Waits (5 s at most) until `cond` holds; `what` names it in the failure. */
const until = (what: string, cond: () => boolean) => vi.waitFor(() => expect(cond(), what).toBe(true), { timeout: 5_000, interval: 5 });
const result = (n: number) => ({ reply: { ok: true, n } }) as unknown as ApplyResult;
const command = { type: 'expire' } as UnstampedCommand;

describe('Forwarder', () => {
  it('drops app payloads from a peer that are null, not JSON, or not [tag, command] pairs, and proposes nothing from them', () => {
    let deliver: ((from: string, payloads: Uint8Array[]) => void) | undefined;
    const proposed: unknown[] = [];
    const logged: string[] = [];
    const leader = new Forwarder(
      {
        nodeId: 'n1',
        leaderId: () => 'n1',
        isLeader: () => true,
        proposeLocal: async () => result(0),
        proposeTagged: async (c, tag) => {
          proposed.push([tag, c]);
        },
        log: (line) => logged.push(line),
      },
      { sendApp: () => true, onApp: (h) => ((deliver = h), () => undefined) },
      { forwardTimeoutMs: 1000, pendingForwardsMax: 10 },
    );
    closers.push(() => leader.close());
    const bad = ['null', '[]', '"fwd"', '{"k":"fwd","m":[null]}', '{"k":"fwd","m":[["a\\nb",{"type":"expire"}]]}', '{"k":"fwd","m":[["t1",{"type":"no-such"}]]}', '{"k":"fwd","m":[["t1",{"type":"expire","at":1}]]}', '{"k":"nack","t":[1]}', 'not json'];
    expect(() => deliver?.('n2', bad.map((text) => new TextEncoder().encode(text)))).not.toThrow();
    expect(proposed).toEqual([]);
    expect(logged).toHaveLength(bad.length);
    deliver?.('n2', [new TextEncoder().encode('{"k":"fwd","m":[["n2.x.1",{"type":"expire"}]]}')]);
    expect(proposed).toEqual([['n2.x.1', { type: 'expire' }]]);
  });

  it('sends a follower proposal to the leader, which proposes it with its tag; the origin resolves on applying that tag', async () => {
    const { n2, proposed } = pair({ leaderOf: () => 'n1' });
    const answer = n2.forward(command);
    await until('the leader to propose the forwarded command', () => proposed.length === 1);
    expect(proposed[0]!.command).toEqual(command);
    expect(proposed[0]!.tag.startsWith('n2.')).toBe(true);
    n2.applied('some-other-tag', result(0));
    n2.applied(proposed[0]!.tag, result(7));
    await expect(answer).resolves.toEqual(result(7));
    expect(n2.pendingCount).toBe(0);
  });

  it('holds proposals while no leader is known and fails them with a ProposalError after forwardTimeoutMs', async () => {
    const { n2 } = pair({ leaderOf: () => '', timeoutMs: 100 });
    const t0 = Date.now();
    await expect(n2.forward(command)).rejects.toBeInstanceOf(ProposalError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
  });

  it('re-sends to a new leader what the old one never committed, with the same tag', async () => {
    let leader = 'n3';
    const { n2, proposed } = pair({ leaderOf: () => leader });
    const answer = n2.forward(command);
    await new Promise((r) => setTimeout(r, 20));
    expect(proposed).toHaveLength(0); // n3 is unreachable
    leader = 'n1';
    n2.leaderChanged();
    await until('the leader to propose the forwarded command', () => proposed.length === 1);
    n2.applied(proposed[0]!.tag, result(1));
    await expect(answer).resolves.toEqual(result(1));
  });

  it('sends a forward the leader could not be reached for once it can, before the deadline', async () => {
    const { n2, proposed, up } = pair({ leaderOf: () => 'n1' });
    up.delete('n1');
    const answer = n2.forward(command);
    await new Promise((r) => setTimeout(r, 20));
    expect(proposed).toHaveLength(0);
    up.add('n1');
    await until('the leader to propose the forwarded command', () => proposed.length === 1);
    n2.applied(proposed[0]!.tag, result(1));
    await expect(answer).resolves.toEqual(result(1));
  });

  it('holds no timer while nothing is pending, so an idle node is not woken for it', async () => {
    // Only the timers are faked (to count them); the deadline itself is the test above's.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const { n2, proposed } = pair({ leaderOf: () => 'n1' });
      expect(vi.getTimerCount()).toBe(0);
      const answer = n2.forward(command);
      // The flush and the channel run on setImmediate (not faked here).
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(proposed).toHaveLength(1);
      n2.applied(proposed[0]!.tag, result(1));
      await expect(answer).resolves.toEqual(result(1));
      expect(vi.getTimerCount()).toBe(1); // the sweep, armed while it was pending
      await vi.advanceTimersByTimeAsync(200);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('proposes its own pending proposals itself once it leads', async () => {
    let leader = '';
    const { n2 } = pair({ leaderOf: () => leader });
    const answer = n2.forward(command);
    leader = 'n2';
    n2.leaderChanged();
    await expect(answer).resolves.toMatchObject({ reply: { type: 'local' } });
  });
});

describe('entry data of forwarded commands', () => {
  it('carries the tag before the command; plain entries have none', () => {
    const c = { type: 'expire', at: 5 } as const;
    expect(decodeEntryData(encodeTaggedCommand('n2.abc.1', c))).toEqual({ tag: 'n2.abc.1', command: c });
    expect(decodeEntryData(encodeCommand(c))).toEqual({ tag: undefined, command: c });
  });
});

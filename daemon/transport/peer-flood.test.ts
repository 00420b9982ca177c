// Issue 11, finding 6: the peer port serves its members first. A stranger
// who floods the peer port with connections that never finish the
// handshake (from the same address as the member, here loopback) must not
// keep a restarting member from connecting. The wait for the member is
// bounded, not a timed assertion: on main it stays out for as long as the
// flood lasts.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { heartbeat, TestCluster, WAIT } from './transport-kit.test-support.ts';

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/**
 * Keeps `connections` WebSocket upgrades to `port` open that never say a
 * word after the upgrade, as an attacker would: one that was refused at
 * once is tried again 20 ms later, one that was held until the handshake
 * deadline is reopened at once (so the slot it had is taken again).
 */
function flood(port: number, connections: number): { readonly stop: () => void; readonly opened: () => number } {
  const sockets = new Set<Socket>();
  let stopped = false;
  let opened = 0;
  const open = (): void => {
    if (stopped) return;
    const s = connect(port, '127.0.0.1');
    const openedAt = performance.now();
    opened += 1;
    sockets.add(s);
    s.on('error', () => {});
    s.resume(); // read (and drop) what the server says, so its close reaches us
    s.on('close', () => {
      sockets.delete(s);
      if (stopped) return;
      if (performance.now() - openedAt < 200) setTimeout(open, 20);
      else setImmediate(open);
    });
    s.write(
      `GET /raft HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  };
  // Staggered over a second, so the held slots do not all fall free at once.
  for (let i = 0; i < connections; i++) setTimeout(open, (i * 1000) / connections);
  return {
    stop: () => {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
    opened: () => opened,
  };
}

describe('finding 6: the peer port serves its members first', () => {
  it('a flood of unauthenticated connections on the peer port does not keep a restarting member out', async () => {
    const c = await TestCluster.start(['n1', 'n2']);
    stops.push(() => c.stop());
    await c.connected();
    const n1 = c.node('n1');
    const n2 = c.node('n2');
    await n2.transport.stop();
    const attack = flood(n1.port, 100);
    stops.push(() => attack.stop());
    // Let the flood fill whatever pre-auth slots n1 has.
    await vi.waitFor(() => expect(attack.opened() >= 100, 'the flood').toBe(true), { ...WAIT, timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await c.startNode(n2, n2.port);
    // n2 dials n1 on its own link: the direction a flood of n1's port would block.
    await vi.waitFor(() => expect(n2.transport.stats().peers['n1']?.connected === true, "n2's link to the flooded n1").toBe(true), { ...WAIT, timeout: 8000 });
    n2.transport.send([heartbeat('n2', 'n1', 5)]);
    await vi.waitFor(() => expect(n1.inbox.some((m) => m.type === 'heartbeat' && m.from === 'n2' && m.commit === 5), "n2's message at n1").toBe(true), { ...WAIT, timeout: 3000 });
    expect(n1.transport.stats().refused).toMatchObject({ PENDING_ADDRESS_FULL: expect.any(Number) });
  }, 30_000);
});

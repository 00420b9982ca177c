import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { FloeNode } from '../node/index.ts';
import { ClientServer, type ClientServerOptions } from './client-server.ts';

const servers: ClientServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A node that opens every session and whose status() holds a value JSON cannot write (a server bug). */
function buggyNode(): FloeNode {
  return {
    onEvent: () => () => {},
    propose: async () => ({ reply: { ok: true, type: 'session-opened', sessionId: 's' }, events: [] }),
    status: () => ({ nodeId: 1n, role: 'leader', leaderId: 'n1' }),
    sessionLeases: () => [],
  } as unknown as FloeNode;
}

async function start(node: FloeNode, log: string[], over: Partial<ClientServerOptions> = {}): Promise<ClientServer> {
  const server = await ClientServer.start({
    node,
    host: '127.0.0.1',
    port: 0,
    leaseTtlMs: 30_000,
    heartbeatMs: 10_000,
    queueWaitMsDefault: 60_000,
    queueWaitMsMax: 3_600_000,
    queuedPerSessionMax: 16,
    connectionsMax: 100,
    connectionsPerAddressMax: 100,
    helloTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    requestsPerSecondPerConnection: 100,
    requestBurstPerConnection: 100,
    requestsPerSecondPerAddress: 1_000_000,
    requestBurstPerAddress: 1_000_000,
    overLimitFramesPerConnectionMax: 100,
    unreadReplyBytesPerConnectionMax: 512 * 1024,
    ...over,
    clientUrls: () => [],
    log: (line) => log.push(line),
  });
  servers.push(server);
  return server;
}

/** Opens a socket; resolves with it, its replies and its close code once known. */
async function open(url: string): Promise<{ ws: WebSocket; replies: Record<string, any>[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const replies: Record<string, any>[] = [];
  ws.on('message', (d) => replies.push(JSON.parse(String(d))));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, replies, closed };
}

describe('finding 1 (issue 11): a handler that throws anyway closes only its connection', () => {
  it('a reply the server cannot write closes that one connection with 1011 and logs the frame’s first bytes; others carry on', async () => {
    const log: string[] = [];
    const server = await start(buggyNode(), log);
    const victim = await open(server.url);
    const other = await open(server.url);
    const hello = { type: 'hello', protocol: 1, clientId: 'client-1011-a', user: 'u', host: 'h', app: 'a' };
    victim.ws.send(JSON.stringify({ id: 1, ...hello }));
    await expect.poll(() => victim.replies.length).toBe(1);
    victim.ws.send(JSON.stringify({ id: 2, type: 'status' }));
    expect(await victim.closed).toBe(1011);
    expect(log.some((l) => l.includes('INTERNAL') && l.includes('{\\"id\\":2,\\"type\\":\\"status\\"}'))).toBe(true);
    other.ws.send(JSON.stringify({ id: 1, ...hello, clientId: 'client-1011-b' }));
    await expect.poll(() => other.replies.length).toBe(1);
    expect(other.replies[0]).toMatchObject({ id: 1, ok: true });
    expect(server.connectionCount).toBe(1);
    other.ws.close();
    await other.closed;
  });
});

/** A node that opens every session and answers status with 8 KB (so a few thousand unread replies fill every buffer). */
function plainNode(): FloeNode {
  return {
    onEvent: () => () => {},
    propose: async () => ({ reply: { ok: true, type: 'session-opened', sessionId: 's' }, events: [] }),
    status: () => ({ nodeId: 'n'.repeat(8 * 1024), role: 'leader', leaderId: 'n1' }),
    sessionLeases: () => [],
  } as unknown as FloeNode;
}

describe('finding 4 (issue 11): a slow reader cannot grow the server’s memory', () => {
  it('a client that never reads its replies is cut off once they pass its unread budget; the rate limit is not what closed it', async () => {
    const log: string[] = [];
    const server = await start(plainNode(), log, {
      requestsPerSecondPerConnection: 1_000_000,
      requestBurstPerConnection: 1_000_000,
      unreadReplyBytesPerConnectionMax: 64 * 1024,
    });
    const slow = await open(server.url);
    slow.ws.send(JSON.stringify({ id: 1, type: 'hello', protocol: 1, clientId: 'client-slow-1', user: 'u', host: 'h', app: 'a' }));
    await expect.poll(() => slow.replies.length).toBe(1);
    const socket = (slow.ws as unknown as { _socket: { pause(): void; destroyed: boolean } })._socket;
    socket.pause();
    // 8 KB status replies until the kernel's socket buffers are full and the server's own pass 64 KiB.
    for (let i = 0; server.connectionCount > 0 && i < 200; i++) {
      for (let k = 0; k < 50 && !socket.destroyed; k++) slow.ws.send(`{"id":${i * 50 + k + 2},"type":"status"}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect({ open: server.connectionCount, closes: server.closes }).toEqual({ open: 0, closes: { SLOW_READER: 1 } });
    slow.ws.terminate();
  }, 60_000);
});

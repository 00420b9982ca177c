// Findings 4 and 5 of issue 11 on a real daemon: a flood of frames used to be
// parsed and answered frame by frame and the connection never dropped (40,000
// frames/s deposed a leader); connection slots had no hello deadline, no idle
// timeout and no cap per address. `npm run bench -- flood` measures the
// flood on a three-node cluster; these tests check each rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientServer } from '../../daemon/index.ts';
import { startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

let daemon: TestDaemon;
const clients: WireClient[] = [];

beforeAll(async () => {
  daemon = await startTestDaemon({
    heartbeatMs: 500,
    limits: {
      helloTimeoutMs: 400,
      idleTimeoutMs: 1_500,
      connectionsPerAddressMax: 3,
      requestsPerSecondPerConnection: 50,
      requestBurstPerConnection: 50,
      // A slow refill: what an address may send is its burst (80), however slowly the server reads a burst under load.
      requestsPerSecondPerAddress: 5,
      requestBurstPerAddress: 80,
      overLimitFramesPerConnectionMax: 20,
      unreadReplyBytesPerConnectionMax: 64 * 1024,
    },
  });
  await daemon.installDemoLicense(5);
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await daemon.destroy();
});

async function connect(localAddress?: string): Promise<WireClient> {
  const c = await WireClient.connect(daemon.clientUrl, localAddress);
  clients.push(c);
  return c;
}

describe('finding 4 (issue 11): floods don’t reach consensus', () => {
  it('a connection that keeps sending over its rate is closed with 1008, and no more than its burst reaches the log', async () => {
    const flooder = await connect('127.0.0.4');
    expect(await flooder.hello('client-flood-1')).toMatchObject({ ok: true });
    const commit0 = daemon.node.status().commitIndex;
    // 400 checkouts of a feature nobody licensed, each a log entry if it were served; only the burst (50) may be.
    for (let i = 0; i < 400; i++) flooder.sendRaw(`{"id":${1000 + i},"type":"checkout","requestId":"req-flood-${i}","feature":"nothing"}`);
    expect(await flooder.whenClosed()).toBe(1008);
    // Its address cools down (1 s at a first offense): the next connection is refused before any WebSocket work.
    await expect(WireClient.connect(daemon.clientUrl, '127.0.0.4')).rejects.toThrow(/429/);
    expect(daemon.clientServer.closes).toMatchObject({ RATE_LIMITED: 1, COOLING_DOWN: 1 });
    await expect.poll(() => daemon.node.status().commitIndex, { timeout: 5_000 }).toBeGreaterThan(commit0);
    await new Promise((r) => setTimeout(r, 300));
    const entries = daemon.node.status().commitIndex - commit0;
    expect(entries).toBeLessThanOrEqual(50 + 5); // the burst, plus a renew or expire of the node's own
    const limited = flooder.orphanReplies.filter((f) => f.error?.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.length).toBeLessThanOrEqual(20 + 5);
    // Answered to their ids although unparsed: the frames begin {"id":N.
    expect(limited.every((f) => f.id >= 1000)).toBe(true);
    const other = await connect();
    expect(await other.hello('client-after-flood-1')).toMatchObject({ ok: true });
    expect(await other.checkout('req-after-flood-1')).toMatchObject({ ok: true, queued: false });
  });
});

describe('finding 4 (issue 11): more connections do not buy more budget', () => {
  it('the connections of one address share one request budget', async () => {
    const a = await connect('127.0.0.10');
    const b = await connect('127.0.0.10');
    // 45 + 45 requests: each within its connection's burst (50), together over the address's (80).
    const replies = await Promise.all([...Array.from({ length: 45 }, () => a.request({ type: 'status' })), ...Array.from({ length: 45 }, () => b.request({ type: 'status' }))]);
    const limited = replies.filter((r) => r.ok === false && r.error.code === 'RATE_LIMITED').length;
    // 10 over the shared burst, less what refilled (5/s) while the server read them.
    expect(limited).toBeGreaterThanOrEqual(90 - 80 - 5);
    expect(limited).toBeLessThanOrEqual(90 - 80);
    expect([a.closeCode, b.closeCode]).toEqual([undefined, undefined]);
  });
});

describe('finding 5 (issue 11): connection slots cannot be exhausted', () => {
  it('a connection that says no hello within helloTimeoutMs is closed (1008); one that said hello is not', async () => {
    const mute = await connect('127.0.0.6');
    const talker = await connect('127.0.0.6');
    expect(await talker.hello('client-talker-1')).toMatchObject({ ok: true });
    expect(await mute.whenClosed()).toBe(1008);
    expect(talker.closeCode).toBeUndefined();
  });

  it('a connection silent for idleTimeoutMs is closed (1000); one that heartbeats stays', async () => {
    const idle = await connect('127.0.0.7');
    const busy = await connect('127.0.0.7');
    expect(await idle.hello('client-idle-1')).toMatchObject({ ok: true });
    expect(await busy.hello('client-busy-1')).toMatchObject({ ok: true });
    const beat = setInterval(() => void busy.request({ type: 'heartbeat' }), 300);
    try {
      expect(await idle.whenClosed()).toBe(1000);
      expect(busy.closeCode).toBeUndefined();
    } finally {
      clearInterval(beat);
    }
  });

  it('one address holds at most connectionsPerAddressMax connections; another address still gets in', async () => {
    const mine = [await connect('127.0.0.8'), await connect('127.0.0.8'), await connect('127.0.0.8')];
    const fourth = await connect('127.0.0.8');
    expect(await fourth.whenClosed()).toBe(1013);
    const elsewhere = await connect('127.0.0.9');
    expect(await elsewhere.hello('client-elsewhere-1')).toMatchObject({ ok: true });
    for (const c of mine) expect(c.closeCode).toBeUndefined();
  });

  it('connectionsMax is kept below the open-files limit read at start, with a warning', async () => {
    const log: string[] = [];
    const server = await ClientServer.start({
      node: daemon.node,
      host: '127.0.0.1',
      port: 0,
      leaseTtlMs: 30_000,
      heartbeatMs: 10_000,
      queueWaitMsDefault: 60_000,
      queueWaitMsMax: 600_000,
      queuedPerSessionMax: 16,
      connectionsMax: 20_000,
      connectionsPerAddressMax: 1_000,
      helloTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      requestsPerSecondPerConnection: 200,
      requestBurstPerConnection: 400,
      requestsPerSecondPerAddress: 1_000,
      requestBurstPerAddress: 2_000,
      overLimitFramesPerConnectionMax: 100,
      unreadReplyBytesPerConnectionMax: 512 * 1024,
      openFilesLimit: 258,
      clientUrls: () => [],
      log: (line) => log.push(line),
    });
    try {
      expect(server.connectionsMax).toBe(2);
      expect(log.some((l) => l.startsWith('WARN: limits.connectionsMax 20000'))).toBe(true);
      const a = await WireClient.connect(server.url);
      const b = await WireClient.connect(server.url);
      const c = await WireClient.connect(server.url);
      expect(await c.whenClosed()).toBe(1013);
      await a.close();
      await b.close();
    } finally {
      await server.close();
    }
  });
});

// A lease a license admin frees while its client is away (a network blip, a
// move to another server) is reported, once the client resumes, with the
// admin's reason and code, not just "gone": the hello that resumes the
// session lists why its leases ended lately (docs/protocol.md, `revoked`).
// The SDK reaches the daemon through a TCP relay the test can cut and mend.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type FloeClient, type RevokedEvent } from '../../client/index.ts';
import { startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

/** A relay to `target` that can drop its connections and refuse new ones for a while. */
class Relay {
  readonly #sockets = new Set<Socket>();
  #open = true;
  private constructor(readonly server: Server) {}

  static async start(target: { host: string; port: number }): Promise<Relay> {
    const server = createServer();
    const relay = new Relay(server);
    server.on('connection', (inbound) => {
      if (!relay.#open) {
        inbound.destroy();
        return;
      }
      const outbound = tcpConnect(target);
      for (const s of [inbound, outbound]) {
        relay.#sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          relay.#sockets.delete(s);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  /** `url` with the relay's port in place of the target's. */
  urlFor(url: string): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('relay not listening');
    const relayed = new URL(url);
    relayed.port = String(address.port);
    return relayed.href;
  }

  /** Drops every connection and refuses new ones until `mend`. */
  cut(): void {
    this.#open = false;
    for (const s of this.#sockets) s.destroy();
  }

  mend(): void {
    this.#open = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let daemon: TestDaemon;
let relay: Relay;
const clients: FloeClient[] = [];
const wires: WireClient[] = [];

beforeAll(async () => {
  daemon = await startTestDaemon({ leaseTtlMs: 60_000, heartbeatMs: 10_000 });
  await daemon.installDemoLicense(5);
  const port = Number(new URL(daemon.clientUrl).port);
  relay = await Relay.start({ host: '127.0.0.1', port });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const w of wires) await w.close();
  await relay.close();
  await daemon.destroy();
});

describe('a lease freed while its client was away', () => {
  it('reaches the SDK, once it resumes, with the license admin\'s reason and FORCE_CHECKIN', async () => {
    const client = await connect({ servers: [relay.urlFor(daemon.clientUrl)], preferLeader: false, user: 'alice', host: 'ws-1', app: 'resume-revoked', backoffBaseMs: 20, backoffMaxMs: 100, reconnectAttemptsMax: 1000 });
    clients.push(client);
    const kept = await client.checkout('demo');
    const freed = await client.checkout('demo');
    const sessionId = client.sessionId;
    const revoked = new Promise<RevokedEvent>((resolve) => client.once('revoked', resolve));
    const resumed = new Promise<{ resumed: boolean }>((resolve) => client.once('connected', resolve));

    relay.cut();
    const r = await daemon.admin('DELETE', `/leases/${freed.leaseId}`, { reason: 'the license admin needs it back' });
    expect(r.status).toBe(200);
    relay.mend();

    expect(await resumed).toMatchObject({ resumed: true });
    expect(client.sessionId).toBe(sessionId);
    const event = await revoked;
    expect(event).toMatchObject({ leaseId: freed.leaseId, code: 'FORCE_CHECKIN' });
    expect(event.reason).toContain('the license admin needs it back');
    expect(client.leases().map((l) => l.leaseId)).toEqual([kept.leaseId]);
  });

  it('is listed in the resuming hello on the wire, and a hello on a new session lists nothing', async () => {
    const first = await WireClient.connect(daemon.clientUrl);
    wires.push(first);
    const hello = await first.hello('resume-revoked-wire');
    const lease = await first.checkout('req-resume-revoked-1');
    await first.close();
    expect((await daemon.admin('DELETE', `/leases/${lease.leaseId}`, { reason: 'stuck seat' })).status).toBe(200);

    const second = await WireClient.connect(daemon.clientUrl);
    wires.push(second);
    const again = await second.hello('resume-revoked-wire', { sessionId: hello.sessionId, sessionSecret: hello.sessionSecret });
    expect(again).toMatchObject({ ok: true, resumed: true, leases: [] });
    expect(again.revoked).toEqual([{ leaseId: lease.leaseId, feature: 'demo', code: 'FORCE_CHECKIN', reason: expect.stringContaining('stuck seat') }]);

    const stranger = await WireClient.connect(daemon.clientUrl);
    wires.push(stranger);
    const fresh = await stranger.hello('resume-revoked-stranger');
    expect(fresh).toMatchObject({ ok: true, resumed: false });
    expect(fresh.revoked).toBeUndefined();
  });
});

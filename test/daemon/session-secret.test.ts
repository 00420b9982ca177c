// Finding 7 of issue 11 over the wire: the clientId was the only credential,
// so anyone who knew a sessionId and its clientId could resume the session
// and take its leases; and LEASE_NOT_FOUND vs LEASE_NOT_OWNED told a
// stranger which lease ids exist. A session is now owned by a secret told
// once in hello, of which the log keeps only a hash.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

let daemon: TestDaemon;
const clients: WireClient[] = [];

beforeAll(async () => {
  daemon = await startTestDaemon({ leaseTtlMs: 60_000, heartbeatMs: 10_000 });
  await daemon.installDemoLicense(5);
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await daemon.destroy();
});

async function connect(): Promise<WireClient> {
  const c = await WireClient.connect(daemon.clientUrl);
  clients.push(c);
  return c;
}

describe('finding 7 (issue 11): sessions are owned by a secret', () => {
  it('a known sessionId and clientId without the secret (or with a wrong one) open a new, empty session; the owner keeps its session, socket and lease', async () => {
    const owner = await connect();
    const hello = await owner.hello('client-owner-1');
    expect(hello).toMatchObject({ ok: true, resumed: false });
    expect(hello.sessionSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const lease = await owner.checkout('req-owner-1');
    expect(lease).toMatchObject({ ok: true });
    for (const secret of [undefined, 'A'.repeat(43)]) {
      const thief = await connect();
      const stolen = await thief.hello('client-owner-1', { sessionId: hello.sessionId, ...(secret === undefined ? {} : { sessionSecret: secret }) });
      expect(stolen).toMatchObject({ ok: true, resumed: false, leases: [] });
      expect(stolen.sessionId).not.toBe(hello.sessionId);
      expect(await thief.checkin('req-thief-1', lease.leaseId)).toMatchObject({ ok: false, error: { code: 'LEASE_NOT_FOUND' } });
    }
    expect(owner.closeCode).toBeUndefined();
    expect(await owner.request({ type: 'status' })).toMatchObject({ ok: true, sessionId: hello.sessionId, leases: [{ leaseId: lease.leaseId }] });
  });

  it('with its secret, the owner resumes the session on a new socket, with its leases', async () => {
    const first = await connect();
    const hello = await first.hello('client-owner-2');
    const lease = await first.checkout('req-owner-2');
    const second = await connect();
    const resumed = await second.hello('client-owner-2', { sessionId: hello.sessionId, sessionSecret: hello.sessionSecret });
    expect(resumed).toMatchObject({ ok: true, resumed: true, sessionId: hello.sessionId, leases: [{ leaseId: lease.leaseId }] });
    expect(resumed.sessionSecret).toBeUndefined();
    expect(await first.whenClosed()).toBe(4000);
  });

  it('a stranger’s checkin gets the same answer for a lease that exists as for one that does not', async () => {
    const owner = await connect();
    await owner.hello('client-owner-3');
    const lease = await owner.checkout('req-owner-3');
    const stranger = await connect();
    await stranger.hello('client-stranger-3');
    const real = await stranger.checkin('req-stranger-3a', lease.leaseId);
    const made = await stranger.checkin('req-stranger-3b', 'L987654');
    expect(real).toMatchObject({ ok: false, error: { code: 'LEASE_NOT_FOUND' } });
    expect({ ...real, id: 0 }).toEqual({ ...made, id: 0 });
    const leases = (await daemon.admin('GET', '/leases')).body.map((l: any) => l.leaseId);
    expect(leases).toContain(lease.leaseId);
  });

  it('the node writes the secret’s hash, never the secret, to its data dir', async () => {
    const c = await connect();
    const hello = await c.hello('client-owner-4');
    await daemon.admin('GET', '/sessions');
    const bytes = readdirSync(daemon.dataDir).map((f) => {
      try {
        return readFileSync(join(daemon.dataDir, f)).toString('latin1');
      } catch {
        return '';
      }
    });
    expect(bytes.some((b) => b.includes(hello.sessionId))).toBe(true);
    expect(bytes.some((b) => b.includes(hello.sessionSecret))).toBe(false);
  });
});

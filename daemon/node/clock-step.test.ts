// Issue 11, finding 3: a step of the leader's wall clock must not revoke
// heartbeating leases, hold a dead client's seat, or end a license for good.
// Each test runs a real node on a wall clock the test steps, with 20
// clients heartbeating and one that stopped (its seat must come back after
// its TTL, measured in elapsed time).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../../protocol/index.ts';
import { parseConfig } from '../config.ts';
import { FloeNode, type ClientEvent } from './floe-node.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(31));
const DAY_MS = 86_400_000;
/** `ms`: the dead client's lease and session TTL (short: the tests wait it out). */
const LEASE_TTL_MS = 1500;
/**
 * `ms`: the live clients' lease and session TTL. Long enough that a loaded
 * machine stalling the heartbeats for seconds does not lapse them, and still
 * far below every step here (a clock that jumped with the step would revoke
 * them all at once).
 */
const LIVE_LEASE_TTL_MS = 8000;
/** `ms` between two heartbeats of one live client: a quarter of its TTL, as clients do (spread over the clients, not all at once). */
const HEARTBEAT_MS = LIVE_LEASE_TTL_MS / 4;
/** `ms` the tests let the clients heartbeat before they step the clock. */
const SETTLE_MS = 500;
const LIVE_CLIENTS = 20;

function licenseKey(overrides: Partial<LicensePayload> = {}): string {
  return signLicenseKey(
    {
      v: 1,
      licenseId: 'L-CLOCK',
      authCode: 'AUTH-CLOCK',
      vendorKeyId: vendorKeyIdOf(vendor.publicKey),
      product: 'cad',
      version: '1',
      model: 'concurrent',
      seats: 30,
      components: [],
      issuedAt: 0,
      notBefore: 0,
      lockCodes: ['LOCK'],
      lingerSeconds: 0,
      hostsPerUserMax: 1,
      ...overrides,
    },
    vendor.secretKey,
  );
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A node on a wall clock the test steps, with LIVE_CLIENTS heartbeating sessions and one dead, each holding a seat. */
async function site(license: string) {
  const dir = mkdtempSync(join(tmpdir(), 'floe-clock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const wall = { offsetMs: 0 };
  const logged: string[] = [];
  const config = parseConfig({
    dataDir: dir,
    vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)],
    leaseTtlMs: LIVE_LEASE_TTL_MS, // what each heartbeat renews to
    heartbeatMs: HEARTBEAT_MS,
    renewBatchMs: 20,
  });
  const node = await FloeNode.open({ config, lockCode: 'LOCK', clock: () => Date.now() + wall.offsetMs, log: (line) => logged.push(line) });
  cleanups.push(() => node.close());
  const revoked: ClientEvent[] = [];
  node.onEvent((e) => {
    if (e.kind === 'revoked') revoked.push(e);
  });
  expect(await node.importLicense(license)).toMatchObject({ ok: true });
  const leaseOf = new Map<string, string>();
  for (let i = 0; i <= LIVE_CLIENTS; i++) {
    const sessionId = i === LIVE_CLIENTS ? 'dead' : `live-${i}`;
    const ttlMs = sessionId === 'dead' ? LEASE_TTL_MS : LIVE_LEASE_TTL_MS;
    await node.propose({ type: 'session-open', sessionId, clientId: `c-${sessionId}`, user: `u${i}`, host: `h${i}`, app: 'app', sessionTtlMs: ttlMs });
    const r = await node.propose({ type: 'checkout', sessionId, requestId: `r-${sessionId}`, feature: 'cad', count: 1, wait: false, leaseTtlMs: ttlMs, waitMs: 0 });
    if (!r.reply.ok || r.reply.type !== 'granted') throw new Error(`checkout ${sessionId}: ${JSON.stringify(r.reply)}`);
    leaseOf.set(sessionId, r.reply.lease.leaseId);
  }
  const live = [...leaseOf.keys()].filter((s) => s !== 'dead');
  // One client at a time, round robin (each every HEARTBEAT_MS), as real clients heartbeat: not all in one renew command,
  // so a clock that jumped with the step would expire the leases not yet renewed since.
  let next = 0;
  const heartbeats = setInterval(() => {
    node.heartbeat(live[next++ % live.length] as string).catch(() => {});
  }, HEARTBEAT_MS / LIVE_CLIENTS);
  cleanups.push(() => clearInterval(heartbeats));
  const held = () => new Set(node.leases().map((l) => l.leaseId));
  return {
    node,
    wall,
    logged,
    revoked,
    /** Live leases that are no longer held. */
    liveLost: () => live.filter((s) => !held().has(leaseOf.get(s) as string)),
    deadHeld: () => held().has(leaseOf.get('dead') as string),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Bounded wait for the dead client's seat: a few TTLs, far below any step size here (on main it waits out the step). */
const DEAD_SEAT_WAIT = { timeout: 6 * LEASE_TTL_MS, interval: 50 };

describe('finding 3: time that cannot jump', () => {
  it('a +60 s step of the leader wall clock revokes no heartbeating lease, frees the dead client seat after its TTL, and is logged', async () => {
    const s = await site(licenseKey());
    await sleep(SETTLE_MS);
    s.wall.offsetMs = 60_000;
    await vi.waitFor(() => expect(s.deadHeld()).toBe(false), DEAD_SEAT_WAIT);
    await sleep(LEASE_TTL_MS * 1.5);
    expect(s.revoked.filter((e) => e.kind === 'revoked' && e.clientId !== 'c-dead')).toEqual([]);
    expect(s.liveLost()).toEqual([]);
    await vi.waitFor(() => expect(s.logged.some((l) => /WARNING clock step: the wall clock moved \+60\.0 s/.test(l))).toBe(true), { timeout: 5000 });
  });

  it('a -60 s step of the leader wall clock revokes no heartbeating lease and still frees the dead client seat after its TTL', async () => {
    const s = await site(licenseKey());
    await sleep(SETTLE_MS);
    s.wall.offsetMs = -60_000;
    await vi.waitFor(() => expect(s.deadHeld()).toBe(false), DEAD_SEAT_WAIT);
    await sleep(LEASE_TTL_MS * 1.5);
    expect(s.revoked.filter((e) => e.kind === 'revoked' && e.clientId !== 'c-dead')).toEqual([]);
    expect(s.liveLost()).toEqual([]);
    await vi.waitFor(() => expect(s.logged.some((l) => /WARNING clock step: the wall clock moved -60\.0 s/.test(l))).toBe(true), { timeout: 5000 });
  });

  it('a +3 days step then a correction leaves the license ending in 2 days in force, no heartbeating lease revoked, and the dead seat freed after its TTL', async () => {
    const s = await site(licenseKey({ expiresAt: Date.now() + 2 * DAY_MS }));
    await sleep(SETTLE_MS);
    s.wall.offsetMs = 3 * DAY_MS;
    await sleep(SETTLE_MS);
    s.wall.offsetMs = 0;
    await vi.waitFor(() => expect(s.deadHeld()).toBe(false), DEAD_SEAT_WAIT);
    await sleep(LEASE_TTL_MS);
    expect(s.node.licenses()).toMatchObject([{ licenseId: 'L-CLOCK', status: 'active' }]);
    expect(s.node.pools()).toMatchObject([{ feature: 'cad', seatsTotal: 30, seatsInUse: LIVE_CLIENTS }]);
    expect(s.revoked.filter((e) => e.kind === 'revoked' && e.clientId !== 'c-dead')).toEqual([]);
    expect(s.liveLost()).toEqual([]);
  });

  it('a license ending within the date tolerance is out of force while the clock is 3 days ahead, and back in force once it is corrected', async () => {
    const s = await site(licenseKey({ expiresAt: Date.now() + 12 * 3_600_000 }));
    s.wall.offsetMs = 3 * DAY_MS;
    await vi.waitFor(() => expect(s.node.licenses()).toMatchObject([{ status: 'expired' }]), { timeout: 5000 });
    s.wall.offsetMs = 0;
    await vi.waitFor(() => expect(s.node.licenses()).toMatchObject([{ status: 'active' }]), { timeout: 5000 });
    expect(s.node.pools()).toMatchObject([{ seatsTotal: 30 }]);
  });
});

// Partitions with the fault-injecting peer transport, three daemons in one
// process, SDK clients churning seats on every node throughout (judged from
// their own records, seat-ledger.test-support.ts) — the cases partition.test.ts does not
// cover:
// - a one-way cut: the leader still reaches its followers but hears nothing
//   back; check-quorum makes it step down, the followers (who kept hearing
//   it) then elect a new leader, and its raw-protocol client hears UNAVAILABLE;
// - an isolated follower: its client hears UNAVAILABLE promptly while the
//   majority keeps its leader and its term, and after healing the follower
//   rejoins without disturbing that term (pre-vote) and catches up;
// after each heal every node has applied the same index to the same state
// (byte-equal snapshots), and at no instant did the clients hold more seats
// than licensed.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, type FloeClient, type Lease } from '../../client/index.ts';
import { FaultInjector, type Daemon } from '../../daemon/index.ts';
import { checkInvariants, encodeSnapshot } from '../../daemon/pool/index.ts';
import { makeLicenseKey, type WireClient } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { SeatLedger } from './seat-ledger.test-support.ts';
import { defined } from './site-tools.test-support.ts';

const SEATS = 4;
/** SDK clients churning, two starting on each node. */
const CHURNERS = 6;
/** `ms` a minority-side request may take to answer UNAVAILABLE (forwardTimeoutMs is 1,000). */
const UNAVAILABLE_MS_MAX = 2500;
/** `ms` the whole file's churn may run at most (a bound). */
const CHURN_MS_MAX = 40_000;

const faults = new FaultInjector();
let site: InProcessSite | undefined;
const daemons: Daemon[] = [];
const churners: FloeClient[] = [];
const ledger = new SeatLedger();
const revoked: string[] = [];
const errors: string[] = [];
let churning = true;
let loops: Promise<void>[] = [];
let successes = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idOf = (d: Daemon) => d.node.config.nodeId;
const leaderOf = () => daemons.find((d) => d.node.isLeader);

/** Resolves once every node has applied the same index and holds byte-equal pool state; answers that index. */
async function converged(what: string): Promise<number> {
  return vi.waitFor(() => {
    const applied = daemons.map((d) => d.node.status().appliedIndex);
    expect(new Set(applied).size, `${what}: every node on the same applied index (${applied.join(', ')})`).toBe(1);
    const hashes = daemons.map((d) => createHash('sha256').update(encodeSnapshot(d.node.poolState)).digest('hex'));
    expect(new Set(hashes).size, `${what}: every node with the same state`).toBe(1);
    return applied[0]!;
  }, { timeout: 10_000 });
}

/** Successful checkouts so far reach `n` more than now. */
async function moreCheckouts(n: number, what: string): Promise<void> {
  const target = successes + n;
  await vi.waitFor(() => expect(successes >= target, `${n} more checkouts ${what}`).toBe(true), { timeout: 10_000 });
}

beforeAll(async () => {
  const s = await InProcessSite.create({
    ids: ['n1', 'n2', 'n3'],
    dirPrefix: 'floe-minority-',
    debugEnv: 'DEBUG_MINORITY',
    config: { renewBatchMs: 50, leaderGraceMs: 5000 },
    faults,
  });
  site = s;
  const peers = s.ids.map((_, i) => s.peer(i));
  for (const i of s.ids.keys()) daemons.push(await s.start(i, peers));
  await vi.waitFor(() => defined(leaderOf(), 'a leader'), { timeout: 10_000 });
  const imported = await leaderOf()!.node.importLicense(makeLicenseKey(s.identities.map((x) => x.lockCode), { seats: SEATS, licenseId: 'LIC-MINORITY' }));
  expect(imported.ok).toBe(true);

  const urls = peers.map((p) => p.clientUrl);
  for (let i = 0; i < CHURNERS; i++) {
    const servers = [...urls.slice(i % 3), ...urls.slice(0, i % 3)];
    const c = await connect({ servers, user: `u${i}`, host: `h${i}`, app: 'minority-test', replyTimeoutMs: 3000, backoffBaseMs: 20, backoffMaxMs: 200 });
    c.on('granted', (lease) => ledger.granted(`c${i}`, lease.leaseId, lease.count));
    c.on('revoked', (e) => {
      revoked.push(`${e.leaseId}: ${e.code}`);
      ledger.released(e.leaseId);
    });
    churners.push(c);
  }
  const deadline = Date.now() + CHURN_MS_MAX;
  loops = churners.map(async (c) => {
    while (churning && Date.now() < deadline) {
      let lease: Lease;
      try {
        lease = await c.checkout('demo', { wait: true, waitMs: 5000 });
      } catch (error) {
        errors.push(`checkout: ${(error as Error).message}`);
        await sleep(20);
        continue;
      }
      successes++;
      await sleep(2 + Math.random() * 3);
      ledger.released(lease.leaseId);
      try {
        await c.checkin(lease);
        ledger.checkinAcked(lease.leaseId);
      } catch (error) {
        errors.push(`checkin: ${(error as Error).message}`);
      }
    }
  });
  await moreCheckouts(20, 'before any partition');
}, 30_000);

afterAll(async () => {
  churning = false;
  faults.heal();
  await Promise.all(loops);
  await Promise.all(churners.map((c) => c.close().catch(() => {})));
  await site?.close();
});

/** A raw-protocol client with a session on `d`. */
async function wireOn(d: Daemon, clientId: string): Promise<WireClient> {
  const w = await site!.wire(idOf(d));
  expect((await w.hello(clientId)).ok).toBe(true);
  return w;
}

describe('partitions under churn, judged from the clients’ records', () => {
  it('a leader that can send but not hear steps down; its client hears UNAVAILABLE; the followers elect a leader and serve; all converge after healing', async () => {
    const old = leaderOf()!;
    const oldTerm = old.node.status().term;
    const onOld = await wireOn(old, 'wire-on-old-leader');
    for (const f of daemons) if (f !== old) faults.dropLink(idOf(f), idOf(old));

    await vi.waitFor(() => expect(!old.node.isLeader, 'the deaf leader to step down (check-quorum)').toBe(true), { timeout: 3000 });
    const successor = await vi.waitFor(() => defined(daemons.find((d) => d !== old && d.node.isLeader), 'a leader among the followers'), { timeout: 5000 });
    expect(successor.node.status().term).toBeGreaterThan(oldTerm);
    const t0 = Date.now();
    const refused = await onOld.checkout('wire-request-deaf-1');
    expect(refused.ok, JSON.stringify(refused)).toBe(false);
    expect(refused['error'].code).toBe('UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(UNAVAILABLE_MS_MAX);
    await moreCheckouts(20, 'while the old leader is deaf');

    faults.heal();
    await vi.waitFor(() => expect(old.node.status().leaderId === idOf(successor), 'the old leader to follow the new one').toBe(true), { timeout: 10_000 });
    await moreCheckouts(10, 'after healing');
    await converged('after the one-way cut');
    // The old leader serves again: a real answer of the pool (a seat, or NO_SEATS while the churners hold them all).
    const served = await onOld.checkout('wire-request-deaf-2');
    if (served.ok === true) expect((await onOld.checkin('wire-checkin-deaf-2', served['leaseId'])).ok).toBe(true);
    else expect(served['error'].code, JSON.stringify(served)).toBe('NO_SEATS');
  }, 30_000);

  it('an isolated follower answers UNAVAILABLE promptly while the majority keeps its leader and term; it rejoins without an election and catches up', async () => {
    const leader = leaderOf()!;
    const term = leader.node.status().term;
    const follower = daemons.find((d) => d !== leader)!;
    const onFollower = await wireOn(follower, 'wire-on-isolated-follower');
    faults.isolate(idOf(follower));
    // Past an election timeout (8 ticks of 25 ms, randomized up to twice): the follower has lost its leader.
    await vi.waitFor(() => expect(follower.node.status().leaderId !== idOf(leader), 'the isolated follower to lose its leader').toBe(true), { timeout: 5000 });
    const t0 = Date.now();
    const refused = await onFollower.checkout('wire-request-isolated-1');
    expect(refused.ok, JSON.stringify(refused)).toBe(false);
    expect(refused['error'].code).toBe('UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(UNAVAILABLE_MS_MAX);
    await moreCheckouts(20, 'while a follower is isolated');
    expect(leader.node.isLeader).toBe(true);

    faults.heal();
    await vi.waitFor(() => expect(follower.node.status().leaderId === idOf(leader), 'the follower to rejoin').toBe(true), { timeout: 10_000 });
    await moreCheckouts(10, 'after healing');
    await converged('after the isolated follower rejoined');
    // Pre-vote: the rejoining follower's failed elections never raised the cluster's term.
    expect(leader.node.isLeader).toBe(true);
    expect(leader.node.status().term).toBe(term);
    expect(daemons.map((d) => d.node.status().term)).toEqual([term, term, term]);
  }, 30_000);

  it('the clients never held more seats than licensed, and every node ends with the same leases and a sound pool', async () => {
    churning = false;
    await Promise.all(loops);
    const peak = ledger.maxHeld();
    expect(peak.seats).toBeLessThanOrEqual(SEATS);
    expect(ledger.duplicateGrants).toEqual([]);
    expect(revoked).toEqual([]);
    // Each SDK call either succeeded or hit a failover hiccup, never a wrong answer.
    expect(errors.filter((e) => !/RETRIES_EXHAUSTED|QUEUE_TIMEOUT/.test(e))).toEqual([]);
    for (const r of ledger.records.values()) expect(r.checkinAcked, `lease ${r.leaseId} of ${r.client} checked in`).toBe(true);
    await converged('at the end');
    for (const d of daemons) {
      expect(d.node.leases()).toEqual([]);
      expect(checkInvariants(d.node.poolState)).toEqual([]);
    }
    process.stderr.write(`minority-side: ${ledger.records.size} seats granted to ${CHURNERS} clients through two partitions (${SEATS} licensed, peak ${peak.seats} at once)\n`);
  }, 20_000);
});
